/*
 * link_libusb.c — the product's link over libusb-1.0 (contract: link.h,
 * link_libusb.h). The same code runs on Windows (static libusb, WinUSB,
 * libusbK or libusb0 back end) and Linux (usbfs).
 *
 * Shape: one process-wide session (libusb context + one event thread),
 * reference-counted by the open links. Each link owns a fixed set of
 * transfers allocated at open: RX_TRANSFERS bulk IN transfers on 0x81 that
 * are resubmitted from their own completion, and TX_TRANSFERS bulk OUT
 * transfers on 0x02, each carrying one 16-byte record pulled from the sink.
 * Commands are synchronous exchanges on 0x04/0x83, serialised by a mutex,
 * each within its timeout on the monotonic clock. A reply that comes after
 * its command gave up stays in the pipe; the next command reads the pipe
 * empty first and takes only a reply echoing its own command code, so one
 * late answer never shifts every later reply by one. The first command of
 * a link reads the pipe empty too: a reply an earlier program left unread
 * would otherwise be taken for its answer, and a CANalyze, which has one
 * reply buffer, drops every reply while an earlier one is still unread
 * (kkuchera/canalyze-fw src/usbd_8dev.c ~182-199).
 *
 * RX errors are handled as the Linux driver handles them: an IN transfer
 * that overflowed, timed out or failed on the wire (EOVERFLOW, ETIME,
 * EILSEQ: libusb's OVERFLOW, TIMED_OUT, ERROR) is resubmitted; one that
 * stalled is retired (not resubmitted) and the others carry on. libusb
 * folds EPROTO, where the kernel driver stops, into ERROR with the ones it
 * resubmits, so an IN transfer is retired after RX_ERROR_STREAK_LIMIT
 * failures in a row. The adapter counts as gone only on NO_DEVICE or once
 * every IN transfer is retired, with a readable reason either way.
 *
 * Locking: link->lock guards the transfer states and the sink; it may be
 * held while calling sink->next_out (the channel never calls into the link
 * with its own lock held, so link lock -> channel lock is the only order).
 * in_packet and gone are called without link->lock. `busy` counts submitted
 * transfers plus sink calls in progress; stop() waits for it to reach 0.
 * Opening (device list, opens, claim, free) and closing the handle hold the
 * process-wide enumeration lock (usb_enum_lock.h), taken with no other lock
 * held.
 */
#include "link_libusb.h"

#include "open_here.h"
#include "open_survey.h"
#include "osal.h"
#include "usb_enum_lock.h"
#include "text.h"

#include <libusb.h>

/* Windows discovery lists a WinUSB install with several DeviceInterfaceGUIDs
 * as usable, which holds from libusb 1.0.27 on (1.0.26 read 40 bytes and
 * failed on a second GUID); scripts/bootstrap.sh builds 1.0.28. */
#if defined(_WIN32) && (!defined(LIBUSB_API_VERSION) || LIBUSB_API_VERSION < 0x0100010A)
#error "the Windows builds need libusb 1.0.27 or later: run scripts/bootstrap.sh"
#endif

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(_WIN32)
#define U2C_WINDOWS true
#else
#define U2C_WINDOWS false
#endif

#define RX_TRANSFERS U2C_LIBUSB_RX_TRANSFERS
#define TX_TRANSFERS U2C_LIBUSB_TX_TRANSFERS
#define USB2CAN_INTERFACE 0
/* Consecutive failures of one IN transfer after which it is retired. */
#define RX_ERROR_STREAK_LIMIT 32
/* Consecutive failed OUT transfers (completions or submits) after which
 * the device counts as gone. */
#define ERROR_STREAK_LIMIT 32
/* An IN transfer that comes back CANCELLED although the link never asked
 * (WinUSB purging its queue, a pipe reset: ERROR_OPERATION_ABORTED) is
 * resubmitted; one that comes back so this many times in a row without a
 * completed transfer in between is retired like a failed one, so a channel
 * whose every transfer the system keeps cancelling is reported gone
 * instead of receiving nothing in silence. */
#define FOREIGN_CANCEL_LIMIT 8
/* How long stop() waits for the back end to return cancelled transfers. */
#define STOP_TIMEOUT_MS 5000u
/* The event thread wakes at least this often even if nobody interrupts it. */
#define EVENT_WAKE_SECONDS 1
/* After libusb failed to wait for events, before it tries again. */
#define EVENT_RETRY_MS 10u
/* Where a command names itself; its reply echoes it there (docs/protocol.md, commands). */
#define COMMAND_CODE_BYTE 2
/* After a command gave up on its reply, the next one first reads the command
 * IN pipe empty: a late reply that is already there comes out at once, so a
 * short read suffices, and two of them also take a stray behind it while
 * bounding what recovery adds to a command (a device that never answers,
 * like CANalyze for most commands, pays one empty read). Anything later is
 * still told apart by its command byte. */
#define STALE_READ_MS 20u
#define STALE_READS_MAX 2

/* --- process-wide session --------------------------------------------------- */

/* After the last link is destroyed the session (context, event thread and
 * libusb's cache of device descriptors) stays this long on Windows, so that
 * a program that closes and opens again does not start libusb and read
 * every USB device's descriptors afresh. Elsewhere starting libusb costs
 * little (sysfs has the descriptors), and a session that outlived the last
 * link would have to be ended at dlclose, under the loader's lock: there
 * it ends with the last link. */
#if defined(_WIN32)
#define SESSION_IDLE_MS 5000u
#else
#define SESSION_IDLE_MS 0u
#endif
/* How often an idle event thread looks at the clock. */
#define SESSION_IDLE_POLL_MS 200u

static struct {
    u2c_mutex lock;      /* guards everything below */
    libusb_context *ctx; /* NULL: no session */
    unsigned users;
    u2c_thread thread;
    bool joinable; /* thread started and not yet joined or detached */
    bool stop;     /* the event thread returns at once */
    uint64_t idle_since_ns;
    unsigned idle_ms;
    unsigned started; /* sessions started since the library was loaded */
#if defined(_WIN32)
    void *pin; /* the module reference the event thread holds */
#endif
} session = {.lock = U2C_MUTEX_INITIALIZER, .idle_ms = SESSION_IDLE_MS};

/* The event thread ends an idle session itself; lock held, no users. On
 * Windows it gives the module reference back as it ends, so a program may
 * FreeLibrary the DLL while a session idles. */
static void session_expire_locked(libusb_context *ctx)
{
    libusb_exit(ctx);
    session.ctx = NULL;
#if defined(_WIN32)
    void *pin = session.pin;
    session.pin = NULL;
    u2c_thread_detach(&session.thread);
    session.joinable = false;
    u2c_mutex_unlock(&session.lock);
    u2c_thread_exit_unpin(pin); /* no code of this library runs after it */
#else
    /* Joined by the next session or at unload; nothing of ours runs after
     * the unlock but the return. */
    u2c_mutex_unlock(&session.lock);
#endif
}

static void session_event_loop(void *arg)
{
    libusb_context *ctx = arg;
    u2c_thread_raise_priority(); /* completions feed the channels' queues */
    for (;;) {
        u2c_mutex_lock(&session.lock);
        bool idle = session.users == 0;
        u2c_mutex_unlock(&session.lock);
        struct timeval tv = {.tv_sec = idle ? 0 : EVENT_WAKE_SECONDS,
                             .tv_usec = idle ? (long)SESSION_IDLE_POLL_MS * 1000 : 0};
        int r = libusb_handle_events_timeout_completed(ctx, &tv, NULL);
        if (r < 0 && r != LIBUSB_ERROR_INTERRUPTED && r != LIBUSB_ERROR_TIMEOUT)
            u2c_sleep_ms(EVENT_RETRY_MS); /* a broken poll set must not spin a core */
        u2c_mutex_lock(&session.lock);
        if (session.stop) {
            u2c_mutex_unlock(&session.lock);
            return;
        }
        if (session.users == 0 &&
            u2c_now_ns() - session.idle_since_ns >= (uint64_t)session.idle_ms * 1000000u) {
            session_expire_locked(ctx); /* unlocks */
            return;
        }
        u2c_mutex_unlock(&session.lock);
    }
}

/* Lock held: destroys the session's context and gives back the reference
 * on the DLL that came with it. */
static void session_release_context(void)
{
    if (session.ctx != NULL) {
        libusb_exit(session.ctx);
        session.ctx = NULL;
    }
#if defined(_WIN32)
    u2c_module_unpin(session.pin);
    session.pin = NULL;
#endif
}

/* Returns the context with one more user, creating it (and its event thread)
 * when there is none; NULL with a reason when libusb cannot start. */
static libusb_context *session_acquire(char *reason, size_t reason_size)
{
    libusb_context *ctx = NULL;
    u2c_mutex_lock(&session.lock);
    if (session.ctx == NULL) {
        if (session.joinable) { /* an expired session's thread: it returns without the lock */
            u2c_thread_join(&session.thread);
            session.joinable = false;
        }
        int r = libusb_init(&session.ctx);
        if (r != 0) {
            snprintf(reason, reason_size, "USB is not available on this system (libusb: %s)",
                     libusb_strerror(r));
            session.ctx = NULL;
            goto out;
        }
        session.stop = false;
#if defined(_WIN32)
        session.pin = u2c_module_pin();
#endif
        if (u2c_thread_start(&session.thread, session_event_loop, session.ctx) != 0) {
            snprintf(reason, reason_size, "cannot start the USB event thread");
            session_release_context();
            goto out;
        }
        session.joinable = true;
        session.started++;
    }
    session.users++;
    ctx = session.ctx;
out:
    u2c_mutex_unlock(&session.lock);
    return ctx;
}

/* Ends the session now: stops and joins the event thread, destroys the
 * context. Called with the lock held and no users; returns unlocked. */
static void session_end_now_and_unlock(void)
{
    libusb_context *ctx = session.ctx;
    session.stop = true;
    if (ctx != NULL)
        libusb_interrupt_event_handler(ctx);
    bool join = session.joinable;
    session.joinable = false;
    u2c_mutex_unlock(&session.lock);
    if (join)
        u2c_thread_join(&session.thread); /* it takes the lock once more, sees stop */
    u2c_mutex_lock(&session.lock);
    session_release_context();
    u2c_mutex_unlock(&session.lock);
}

/* Drops one user; after the last one the session idles (see SESSION_IDLE_MS). */
static void session_release(void)
{
    u2c_mutex_lock(&session.lock);
    if (--session.users == 0) {
        session.idle_since_ns = u2c_now_ns();
        if (session.idle_ms == 0) {
            session_end_now_and_unlock();
            return;
        }
        libusb_interrupt_event_handler(session.ctx); /* it now looks at the clock more often */
    }
    u2c_mutex_unlock(&session.lock);
}

void u2c_link_libusb_set_idle_ms(unsigned ms)
{
    u2c_mutex_lock(&session.lock);
    session.idle_ms = ms;
    u2c_mutex_unlock(&session.lock);
}

unsigned u2c_link_libusb_sessions_started(void)
{
    return u2c_locked_read(&session.lock, &session.started);
}

bool u2c_link_libusb_session_alive(void)
{
    u2c_mutex_lock(&session.lock);
    bool alive = session.ctx != NULL;
    u2c_mutex_unlock(&session.lock);
    return alive;
}

/* --- link state --------------------------------------------------------------- */

typedef struct usb_link usb_link;

typedef struct rx_slot {
    usb_link *link;
    struct libusb_transfer *transfer;
    bool in_flight;
    unsigned error_streak;   /* failures in a row (RX_ERROR_STREAK_LIMIT) */
    bool cancel_asked;       /* this link cancelled it (stop) */
    unsigned foreign_streak; /* CANCELLED completions nobody here asked for, in a row */
    uint8_t buf[U8D_IN_PACKET_MAX];
} rx_slot;

typedef enum tx_state {
    TX_IDLE,      /* free for the next record */
    TX_LOADED,    /* holds a record whose submission failed; sent before any other */
    TX_IN_FLIGHT, /* submitted, waiting for the device to take it */
} tx_state;

typedef struct tx_slot {
    usb_link *link;
    struct libusb_transfer *transfer;
    tx_state state;
    uint8_t buf[U8D_TX_RECORD_SIZE];
} tx_slot;

struct usb_link {
    u2c_link base; /* first: the link.h handle is this struct */
    libusb_device_handle *handle;
    libusb_device *device;            /* libusb's, while the handle is open */
    char location[U2C_LOCATION_TEXT]; /* "1-4.2" */
    usb_link *next_open;              /* open_links; under the enumeration lock */
    bool claimed;

    u2c_mutex command_lock; /* one command exchange at a time; guards reply_owed */
    bool reply_owed;        /* a command gave up on its reply, which may still come */

    u2c_mutex lock;   /* guards everything below */
    u2c_cond settled; /* signalled when busy drops to 0 */
    u2c_link_sink sink;
    bool streaming; /* between start() and stop() */
    bool gone;      /* the device disappeared */
    bool gone_told; /* sink->gone has been called */
    char gone_reason[96];
    unsigned busy;               /* transfers submitted + sink calls outside a transfer */
    unsigned rx_retired;         /* IN transfers that failed and are not resubmitted */
    unsigned tx_error_streak;    /* failed OUT completions and submits in a row */
    unsigned tx_submit_failures; /* all failed OUT submits since open */
    unsigned rx_foreign_cancels; /* CANCELLED IN completions nobody here asked for */
    int tx_loaded;               /* index of the TX_LOADED slot, or -1 */
    rx_slot rx[RX_TRANSFERS];
    tx_slot tx[TX_TRANSFERS];
};

/* One RX or TX slot: its link, and a bulk transfer on endpoint into buf
 * that completes in done; false when out of memory. */
static bool make_slot(usb_link *link, usb_link **slot_link, struct libusb_transfer **transfer,
                      unsigned char endpoint, unsigned char *buf, size_t size,
                      libusb_transfer_cb_fn done, void *slot)
{
    *slot_link = link;
    *transfer = libusb_alloc_transfer(0);
    if (*transfer == NULL)
        return false;
    libusb_fill_bulk_transfer(*transfer, link->handle, endpoint, buf, (int)size, done, slot, 0);
    return true;
}

static const u2c_link_ops usb_link_ops;

/* Maps a libusb error to the link's result codes. */
static u2c_link_result result_of(int libusb_error)
{
    switch (libusb_error) {
    case LIBUSB_SUCCESS:
        return U2C_LINK_OK;
    case LIBUSB_ERROR_TIMEOUT:
        return U2C_LINK_TIMEOUT;
    case LIBUSB_ERROR_NO_DEVICE:
        return U2C_LINK_GONE;
    case LIBUSB_ERROR_NO_MEM:
        return U2C_LINK_NO_MEMORY;
    case LIBUSB_ERROR_BUSY:
        return U2C_LINK_BUSY;
    case LIBUSB_ERROR_OVERFLOW:
        return U2C_LINK_PROTOCOL;
    default:
        return U2C_LINK_IO;
    }
}

/* Marks the link gone (with link->lock held). Returns true when the caller
 * must now call sink->gone: once per link, and only while streaming. */
static bool mark_gone_locked(usb_link *link, const char *why)
{
    if (!link->gone) {
        link->gone = true;
        snprintf(link->gone_reason, sizeof link->gone_reason, "%s", why);
    }
    if (link->streaming && !link->gone_told && link->sink.gone) {
        link->gone_told = true;
        return true;
    }
    return false;
}

static void busy_done_locked(usb_link *link)
{
    if (--link->busy == 0)
        u2c_cond_broadcast(&link->settled);
}

/* Calls sink->gone without link->lock; the call counts as busy so that
 * stop() cannot return while it runs. Called and returns with the lock held. */
static void tell_gone_locked(usb_link *link)
{
    link->busy++;
    u2c_link_sink sink = link->sink;
    u2c_mutex_unlock(&link->lock);
    sink.gone(sink.ctx, link->gone_reason);
    u2c_mutex_lock(&link->lock);
    busy_done_locked(link);
}

static void gone_text(usb_link *link, char *out, size_t size)
{
    snprintf(out, size, "USB2CAN %s was unplugged", link->base.serial);
}

/* --- is the adapter still attached? ------------------------------------------ */

static struct {
    u2c_mutex lock; /* guards probe */
    u2c_link_presence_probe probe;
} presence = {.lock = U2C_MUTEX_INITIALIZER};

void u2c_link_libusb_set_presence_probe(u2c_link_presence_probe probe)
{
    u2c_mutex_lock(&presence.lock);
    presence.probe = probe;
    u2c_mutex_unlock(&presence.lock);
}

/* Whether a failure (libusb error r) means the adapter was unplugged:
 * libusb says so, or it says something else (on Windows an unplug mostly
 * arrives as LIBUSB_ERROR_IO and failed transfers) and the operating
 * system no longer lists the adapter. */
static bool unplugged(const usb_link *link, int r)
{
    if (r == LIBUSB_ERROR_NO_DEVICE)
        return true;
    if (link->base.serial[0] == '\0')
        return false; /* opened by location alone: nothing the probe could look for */
    u2c_mutex_lock(&presence.lock);
    u2c_link_presence_probe probe = presence.probe;
    u2c_mutex_unlock(&presence.lock);
    return probe != NULL && !probe(link->base.serial);
}

/* --- transmit --------------------------------------------------------------- */

static tx_slot *tx_free_slot_locked(usb_link *link)
{
    for (int i = 0; i < TX_TRANSFERS; i++)
        if (link->tx[i].state == TX_IDLE)
            return &link->tx[i];
    return NULL;
}

/* Fills free OUT transfers from the sink and submits them, oldest record
 * first. Returns true when the device turned out to be gone and the caller
 * must tell the sink. Lock held. */
static bool tx_pump_locked(usb_link *link)
{
    while (link->streaming && !link->gone) {
        tx_slot *slot;
        if (link->tx_loaded >= 0) {
            slot = &link->tx[link->tx_loaded];
        } else {
            slot = tx_free_slot_locked(link);
            if (!slot || !link->sink.next_out(link->sink.ctx, slot->buf))
                return false;
            slot->state = TX_LOADED;
            link->tx_loaded = (int)(slot - link->tx);
        }
        int r = libusb_submit_transfer(slot->transfer);
        if (r != 0) {
            /* The record stays loaded and goes first on the next kick. On
             * Windows an unplugged adapter's submits fail with
             * LIBUSB_ERROR_IO, not NO_DEVICE: each failure counts in the
             * error streak and asks whether the system still lists it. */
            link->tx_submit_failures++;
            link->tx_error_streak++;
            char why[96];
            if (unplugged(link, r)) {
                gone_text(link, why, sizeof why);
                return mark_gone_locked(link, why);
            }
            if (link->tx_error_streak >= ERROR_STREAK_LIMIT) {
                snprintf(why, sizeof why, "USB2CAN %s: transmit pipe keeps failing (%s)",
                         link->base.serial, libusb_error_name(r));
                return mark_gone_locked(link, why);
            }
            return false;
        }
        slot->state = TX_IN_FLIGHT;
        link->tx_loaded = -1;
        link->busy++;
    }
    return false;
}

/* True while a TX record is loaded or in flight. Lock held. */
static bool tx_busy_locked(const usb_link *link)
{
    for (int i = 0; i < TX_TRANSFERS; i++)
        if (link->tx[i].state != TX_IDLE)
            return true;
    return false;
}

static void LIBUSB_CALL tx_done(struct libusb_transfer *transfer)
{
    tx_slot *slot = transfer->user_data;
    usb_link *link = slot->link;
    bool tell = false;

    u2c_mutex_lock(&link->lock);
    slot->state = TX_IDLE;
    u2c_cond_broadcast(&link->settled); /* flush_out waits for the TX slots too */
    switch (transfer->status) {
    case LIBUSB_TRANSFER_COMPLETED:
        link->tx_error_streak = 0;
        break;
    case LIBUSB_TRANSFER_CANCELLED:
        break;
    case LIBUSB_TRANSFER_NO_DEVICE: {
        char why[96];
        gone_text(link, why, sizeof why);
        tell = mark_gone_locked(link, why);
        break;
    }
    default:
        /* The record may or may not have reached the device; USB retries
         * at the packet level already, so a failure here is not retried. */
        if (++link->tx_error_streak >= ERROR_STREAK_LIMIT && link->streaming) {
            char why[96];
            if (unplugged(link, LIBUSB_ERROR_IO))
                gone_text(link, why, sizeof why);
            else
                snprintf(why, sizeof why, "USB2CAN %s: transmit pipe keeps failing (%s)",
                         link->base.serial, libusb_error_name((int)transfer->status));
            tell = mark_gone_locked(link, why);
        }
        break;
    }
    if (!tell)
        tell = tx_pump_locked(link);
    if (tell)
        tell_gone_locked(link);
    busy_done_locked(link);
    u2c_mutex_unlock(&link->lock);
}

/* --- receive ---------------------------------------------------------------- */

/* One IN transfer failed and is retired. Returns true when it was the last
 * one, so the link is now gone and the caller must tell the sink. Lock held. */
static bool retire_rx_locked(usb_link *link, const char *error)
{
    if (++link->rx_retired < RX_TRANSFERS)
        return false;
    char why[96];
    if (unplugged(link, LIBUSB_ERROR_IO)) /* Windows: an unplug, seen as transfer errors */
        gone_text(link, why, sizeof why);
    else
        snprintf(why, sizeof why, "USB2CAN %s: every receive transfer failed (last: %s)",
                 link->base.serial, error);
    return mark_gone_locked(link, why);
}

static void LIBUSB_CALL rx_done(struct libusb_transfer *transfer)
{
    rx_slot *slot = transfer->user_data;
    usb_link *link = slot->link;
    u2c_mutex_lock(&link->lock);
    slot->in_flight = false;
    bool tell = false;
    bool deliver = link->streaming && transfer->status == LIBUSB_TRANSFER_COMPLETED;
    u2c_link_sink sink = link->sink;
    u2c_mutex_unlock(&link->lock);

    /* Only the event thread runs completions, so packets reach the sink in
     * the order the device sent them. */
    if (deliver)
        sink.in_packet(sink.ctx, transfer->buffer, (size_t)transfer->actual_length);

    u2c_mutex_lock(&link->lock);
    bool resubmit = link->streaming && !link->gone;
    switch (transfer->status) {
    case LIBUSB_TRANSFER_COMPLETED:
        slot->error_streak = 0;
        slot->foreign_streak = 0;
        break;
    case LIBUSB_TRANSFER_CANCELLED:
        if (slot->cancel_asked || !resubmit) {
            resubmit = false;
            break;
        }
        /* Not ours: the system cancelled it (see FOREIGN_CANCEL_LIMIT). */
        link->rx_foreign_cancels++;
        if (++slot->foreign_streak >= FOREIGN_CANCEL_LIMIT) {
            tell = retire_rx_locked(link, "transfers cancelled by the system");
            resubmit = false;
        }
        break;
    case LIBUSB_TRANSFER_OVERFLOW:
    case LIBUSB_TRANSFER_TIMED_OUT:
    case LIBUSB_TRANSFER_ERROR:
        /* As the Linux driver (usb_8dev_read_bulk_callback: anything but
         * ENOENT, EPIPE, EPROTO and ESHUTDOWN is resubmitted): a corrupted
         * or overlong packet is lost, the transfer carries on. */
        if (resubmit && ++slot->error_streak >= RX_ERROR_STREAK_LIMIT) {
            tell = retire_rx_locked(link, libusb_error_name((int)transfer->status));
            resubmit = false;
        }
        break;
    case LIBUSB_TRANSFER_NO_DEVICE: {
        char why[96];
        gone_text(link, why, sizeof why);
        tell = mark_gone_locked(link, why);
        resubmit = false;
        break;
    }
    default:
        /* As the Linux driver: a stalled IN transfer is not resubmitted (a
         * stalled pipe would only fail again, in a flood); the others carry
         * on. */
        if (resubmit)
            tell = retire_rx_locked(link, libusb_error_name((int)transfer->status));
        resubmit = false;
        break;
    }
    if (resubmit) {
        int r = libusb_submit_transfer(transfer);
        if (r == 0) {
            slot->in_flight = true;
        } else if (r == LIBUSB_ERROR_NO_DEVICE) {
            char why[96];
            gone_text(link, why, sizeof why);
            tell = mark_gone_locked(link, why);
        } else {
            tell = retire_rx_locked(link, libusb_error_name(r));
        }
    }
    if (tell)
        tell_gone_locked(link);
    if (!slot->in_flight)
        busy_done_locked(link);
    u2c_mutex_unlock(&link->lock);
}

/* --- stop / start ----------------------------------------------------------- */

/* Cancels every transfer and waits until every completion has run. Lock held. */
static void quiesce_locked(usb_link *link)
{
    link->streaming = false;
    for (int i = 0; i < RX_TRANSFERS; i++) {
        if (link->rx[i].in_flight) {
            link->rx[i].cancel_asked = true;
            libusb_cancel_transfer(link->rx[i].transfer);
        }
    }
    for (int i = 0; i < TX_TRANSFERS; i++) {
        if (link->tx[i].state == TX_IN_FLIGHT)
            libusb_cancel_transfer(link->tx[i].transfer);
        else if (link->tx[i].state == TX_LOADED)
            link->tx[i].state = TX_IDLE; /* the channel is closing: its queue goes too */
    }
    link->tx_loaded = -1;
    uint64_t deadline = u2c_deadline_after_ms(STOP_TIMEOUT_MS);
    while (link->busy > 0)
        if (!u2c_cond_wait_until(&link->settled, &link->lock, deadline))
            break; /* the back end lost a transfer; destroy() closes the handle, which unlinks it */
}

static void usb_stop(u2c_link *base)
{
    usb_link *link = (usb_link *)base;
    u2c_mutex_lock(&link->lock);
    quiesce_locked(link);
    u2c_mutex_unlock(&link->lock);
}

static int usb_start(u2c_link *base, const u2c_link_sink *sink)
{
    usb_link *link = (usb_link *)base;
    if (!sink || !sink->in_packet || !sink->next_out || !sink->gone)
        return U2C_LINK_IO;
    u2c_mutex_lock(&link->lock);
    if (link->gone) {
        u2c_mutex_unlock(&link->lock);
        return U2C_LINK_GONE;
    }
    if (link->streaming) {
        u2c_mutex_unlock(&link->lock);
        return U2C_LINK_OK;
    }
    link->sink = *sink;
    link->gone_told = false;
    link->rx_retired = 0;
    link->tx_error_streak = 0;
    link->streaming = true;
    int failed = 0;
    for (int i = 0; i < RX_TRANSFERS && !failed; i++) {
        link->rx[i].error_streak = 0;
        link->rx[i].cancel_asked = false;
        link->rx[i].foreign_streak = 0;
        failed = libusb_submit_transfer(link->rx[i].transfer);
        if (!failed) {
            link->rx[i].in_flight = true;
            link->busy++;
        }
    }
    if (failed) {
        if (failed == LIBUSB_ERROR_NO_DEVICE) {
            char why[96];
            gone_text(link, why, sizeof why);
            mark_gone_locked(link, why); /* start() reports it: no callback */
            link->gone_told = true;
        }
        quiesce_locked(link);
        u2c_mutex_unlock(&link->lock);
        return result_of(failed);
    }
    if (tx_pump_locked(link))
        tell_gone_locked(link);
    u2c_mutex_unlock(&link->lock);
    return U2C_LINK_OK;
}

static void usb_kick_out(u2c_link *base)
{
    usb_link *link = (usb_link *)base;
    u2c_mutex_lock(&link->lock);
    if (tx_pump_locked(link))
        tell_gone_locked(link);
    u2c_mutex_unlock(&link->lock);
}

static int usb_flush_out(u2c_link *base, unsigned timeout_ms)
{
    usb_link *link = (usb_link *)base;
    uint64_t deadline = u2c_deadline_after_ms(timeout_ms);
    u2c_mutex_lock(&link->lock);
    if (tx_pump_locked(link)) /* a record left loaded goes first */
        tell_gone_locked(link);
    int result = U2C_LINK_OK;
    while (tx_busy_locked(link)) {
        if (link->gone || !link->streaming) {
            result = link->gone ? U2C_LINK_GONE : U2C_LINK_OK;
            break;
        }
        if (!u2c_cond_wait_until(&link->settled, &link->lock, deadline)) {
            result = tx_busy_locked(link) ? U2C_LINK_TIMEOUT : U2C_LINK_OK;
            break;
        }
    }
    u2c_mutex_unlock(&link->lock);
    return result;
}

/* --- commands --------------------------------------------------------------- */

/* A command's transfer failed with r: GONE also marks the link (and tells a
 * streaming sink) so that every later call fails fast. */
static int command_failed(usb_link *link, int r)
{
    if (r != LIBUSB_ERROR_TIMEOUT && unplugged(link, r)) {
        char why[96];
        gone_text(link, why, sizeof why);
        u2c_mutex_lock(&link->lock);
        if (mark_gone_locked(link, why))
            tell_gone_locked(link);
        u2c_mutex_unlock(&link->lock);
        return U2C_LINK_GONE;
    }
    return result_of(r);
}

/* Milliseconds until deadline_ns, rounded up so that a read never ends
 * early; 0 once it has passed (which libusb would take as "wait forever"). */
static unsigned ms_until(uint64_t deadline_ns)
{
    uint64_t now = u2c_now_ns();
    if (now >= deadline_ns)
        return 0;
    uint64_t ms = (deadline_ns - now + 999999u) / 1000000u;
    return ms > UINT_MAX ? UINT_MAX : (unsigned)ms;
}

/* One read on the command IN pipe, waiting at most wait_ms. Room for a whole
 * packet: a device that answers long is malformed, not an overflow. */
static int command_read(usb_link *link, uint8_t in[U8D_IN_PACKET_MAX], unsigned wait_ms, int *got)
{
    *got = 0;
    return libusb_bulk_transfer(link->handle, U8D_EP_CMD_IN, in, U8D_IN_PACKET_MAX, got, wait_ms);
}

/* Before a command, after an earlier one gave up on its reply: reads off
 * whatever that reply left in the pipe, so that a late answer to the same
 * command cannot pass for this one's. Stops at the first read that finds
 * the pipe empty. Returns the libusb result of the last read. */
static int swallow_stale_replies(usb_link *link, uint64_t deadline_ns)
{
    uint8_t in[U8D_IN_PACKET_MAX];
    int r = LIBUSB_ERROR_TIMEOUT;
    for (int i = 0; i < STALE_READS_MAX; i++) {
        unsigned left = ms_until(deadline_ns);
        if (left == 0)
            return LIBUSB_ERROR_TIMEOUT;
        int got;
        r = command_read(link, in, left < STALE_READ_MS ? left : STALE_READ_MS, &got);
        if (r != 0)
            break;
    }
    return r;
}

/* Reads until the reply that echoes the request's command arrives; replies
 * to other commands (late answers, strays) are dropped. */
static int await_reply(usb_link *link, const uint8_t request[U8D_CMD_SIZE],
                       uint8_t reply[U8D_CMD_SIZE], uint64_t deadline_ns)
{
    uint8_t in[U8D_IN_PACKET_MAX];
    for (;;) {
        unsigned left = ms_until(deadline_ns);
        if (left == 0)
            return U2C_LINK_TIMEOUT;
        int got;
        int r = command_read(link, in, left, &got);
        if (r != 0)
            return command_failed(link, r);
        if (got != U8D_CMD_SIZE)
            return U2C_LINK_PROTOCOL;
        if (in[COMMAND_CODE_BYTE] == request[COMMAND_CODE_BYTE]) {
            memcpy(reply, in, U8D_CMD_SIZE);
            return U2C_LINK_OK;
        }
    }
}

/* The exchange proper, with command_lock held. */
static int command_locked(usb_link *link, const uint8_t request[U8D_CMD_SIZE],
                          uint8_t reply[U8D_CMD_SIZE], uint64_t deadline_ns)
{
    if (link->reply_owed) {
        int r = swallow_stale_replies(link, deadline_ns);
        if (r == LIBUSB_ERROR_NO_DEVICE)
            return command_failed(link, r);
        link->reply_owed = false;
    }

    unsigned left = ms_until(deadline_ns);
    if (left == 0)
        return U2C_LINK_TIMEOUT;
    uint8_t out[U8D_CMD_SIZE];
    memcpy(out, request, sizeof out);
    int sent = 0;
    int r = libusb_bulk_transfer(link->handle, U8D_EP_CMD_OUT, out, (int)sizeof out, &sent, left);
    if (r != 0)
        return command_failed(link, r);
    if (sent != (int)sizeof out)
        return U2C_LINK_IO;

    int result = await_reply(link, request, reply, deadline_ns);
    /* The device has the command: unless it answered, its reply may still come. */
    link->reply_owed = result != U2C_LINK_OK && result != U2C_LINK_GONE;
    return result;
}

static int usb_command(u2c_link *base, const uint8_t request[U8D_CMD_SIZE],
                       uint8_t reply[U8D_CMD_SIZE], unsigned timeout_ms)
{
    usb_link *link = (usb_link *)base;
    if (!request || !reply)
        return U2C_LINK_IO;
    if (timeout_ms == 0)
        timeout_ms = U8D_CMD_TIMEOUT_MS; /* libusb's 0 would wait forever */

    u2c_mutex_lock(&link->command_lock);
    /* From here: waiting for another thread's exchange does not eat this one's time. */
    uint64_t deadline_ns = u2c_deadline_after_ms(timeout_ms);
    u2c_mutex_lock(&link->lock);
    bool gone = link->gone;
    u2c_mutex_unlock(&link->lock);
    int result = gone ? U2C_LINK_GONE : command_locked(link, request, reply, deadline_ns);
    u2c_mutex_unlock(&link->command_lock);
    return result;
}

/* --- links open in this process ---------------------------------------------- */

/* Every link with an open handle, so that an open never opens an adapter
 * this process holds just to read its serial (WinUSB admits one handle: the
 * second open would fail, or, the other way round, make this process's own
 * open fail). Guarded by the enumeration lock. */
static usb_link *open_links;

static void remember_open_link_locked(usb_link *link)
{
    link->next_open = open_links;
    open_links = link;
    u2c_open_here_add(link, link->base.serial, link->location);
}

static void forget_open_link_locked(usb_link *link)
{
    for (usb_link **p = &open_links; *p != NULL; p = &(*p)->next_open) {
        if (*p == link) {
            *p = link->next_open;
            break;
        }
    }
    u2c_open_here_remove(link);
}

static usb_link *open_link_on_locked(libusb_device *dev)
{
    for (usb_link *l = open_links; l != NULL; l = l->next_open)
        if (l->device == dev)
            return l;
    return NULL;
}

void u2c_link_libusb_counts(u2c_link *base, u2c_link_libusb_counters *out)
{
    usb_link *link = (usb_link *)base;
    u2c_mutex_lock(&link->lock);
    out->rx_foreign_cancels = link->rx_foreign_cancels;
    out->rx_retired = link->rx_retired;
    out->tx_submit_failures = link->tx_submit_failures;
    u2c_mutex_unlock(&link->lock);
}

/* --- destroy ---------------------------------------------------------------- */

static void free_transfers(usb_link *link)
{
    for (int i = 0; i < RX_TRANSFERS; i++)
        libusb_free_transfer(link->rx[i].transfer);
    for (int i = 0; i < TX_TRANSFERS; i++)
        libusb_free_transfer(link->tx[i].transfer);
}

static void usb_destroy(u2c_link *base)
{
    usb_link *link = (usb_link *)base;
    if (!link)
        return;
    usb_stop(base);
    if (link->claimed)
        libusb_release_interface(link->handle, USB2CAN_INTERFACE); /* fails harmlessly if gone */
    u2c_usb_enum_lock(); /* may drop the device's last reference */
    forget_open_link_locked(link);
    libusb_close(link->handle);
    u2c_usb_enum_unlock();
    free_transfers(link);
    u2c_cond_destroy(&link->settled);
    u2c_mutex_destroy(&link->lock);
    u2c_mutex_destroy(&link->command_lock);
    free(link);
    session_release();
}

static const u2c_link_ops usb_link_ops =
    U2C_LINK_OPS(usb_command, usb_start, usb_kick_out, usb_stop, usb_destroy, usb_flush_out);

/* --- open ------------------------------------------------------------------- */

static bool has_bulk_endpoint(const struct libusb_interface_descriptor *alt, uint8_t address)
{
    for (int i = 0; i < alt->bNumEndpoints; i++) {
        const struct libusb_endpoint_descriptor *ep = &alt->endpoint[i];
        if (ep->bEndpointAddress == address &&
            (ep->bmAttributes & 0x03) == LIBUSB_TRANSFER_TYPE_BULK)
            return true;
    }
    return false;
}

/* Checks that interface 0 has the four bulk endpoints; names a missing one. */
static bool endpoints_present(libusb_device *dev, char *missing, size_t size)
{
    struct libusb_config_descriptor *config = NULL;
    if (libusb_get_active_config_descriptor(dev, &config) != 0 &&
        libusb_get_config_descriptor(dev, 0, &config) != 0) {
        snprintf(missing, size, "its configuration descriptor cannot be read");
        return false;
    }
    bool ok = false;
    if (config->bNumInterfaces < 1 || config->interface[0].num_altsetting < 1) {
        snprintf(missing, size, "it has no interface 0");
        goto out;
    }
    const struct libusb_interface_descriptor *alt = &config->interface[0].altsetting[0];
    static const uint8_t wanted[] = {U8D_EP_DATA_IN, U8D_EP_DATA_OUT, U8D_EP_CMD_IN,
                                     U8D_EP_CMD_OUT};
    for (size_t i = 0; i < sizeof wanted; i++) {
        if (!has_bulk_endpoint(alt, wanted[i])) {
            snprintf(missing, size, "bulk endpoint 0x%02X is missing", wanted[i]);
            goto out;
        }
    }
    ok = true;
out:
    libusb_free_config_descriptor(config);
    return ok;
}

static usb_link *link_alloc(libusb_device_handle *handle)
{
    usb_link *link = calloc(1, sizeof *link);
    if (!link)
        return NULL;
    link->base.ops = &usb_link_ops;
    link->handle = handle;
    link->tx_loaded = -1;
    link->reply_owed = true; /* read what an earlier program left in the pipe first */
    bool made = true;
    for (int i = 0; made && i < RX_TRANSFERS; i++)
        made = make_slot(link, &link->rx[i].link, &link->rx[i].transfer, U8D_EP_DATA_IN,
                         link->rx[i].buf, sizeof link->rx[i].buf, rx_done, &link->rx[i]);
    for (int i = 0; made && i < TX_TRANSFERS; i++)
        made = make_slot(link, &link->tx[i].link, &link->tx[i].transfer, U8D_EP_DATA_OUT,
                         link->tx[i].buf, sizeof link->tx[i].buf, tx_done, &link->tx[i]);
    if (!made)
        goto fail;
    u2c_mutex_init(&link->command_lock);
    u2c_mutex_init(&link->lock);
    u2c_cond_init(&link->settled);
    return link;
fail:
    free_transfers(link); /* libusb_free_transfer(NULL) is a no-op */
    free(link);
    return NULL;
}

/* Turns an opened device with the right serial into a link: checks it is a
 * USB2CAN, claims interface 0 and allocates the transfers. */
static usb_link *link_claim(libusb_device *dev, libusb_device_handle *handle,
                            const struct libusb_device_descriptor *desc, const char *serial,
                            u2c_link_result *result, char *reason, size_t reason_size)
{
    char text[64];
    /* Any product string that begins with "USB2CAN converter" is one: the
     * Linux driver reads it into an 18-byte buffer and compares that. */
    if (desc->iProduct != 0 &&
        libusb_get_string_descriptor_ascii(handle, desc->iProduct, (unsigned char *)text,
                                           (int)sizeof text) > 0 &&
        strncmp(text, U8D_PRODUCT_STRING, sizeof U8D_PRODUCT_STRING - 1) != 0) {
        *result = U2C_LINK_NOT_FOUND;
        snprintf(reason, reason_size,
                 "device %s (" U8D_USB_ID_TEXT ") is not a USB2CAN: product is \"%s\"", serial,
                 text);
        return NULL;
    }
    if (!endpoints_present(dev, text, sizeof text)) {
        *result = U2C_LINK_PROTOCOL;
        snprintf(reason, reason_size, "device %s does not look like a USB2CAN: %s", serial, text);
        return NULL;
    }
    /* Linux: usb_8dev may own the interface; it gets it back on release.
     * Elsewhere this is not supported and harmless. */
    libusb_set_auto_detach_kernel_driver(handle, 1);
    int r = libusb_claim_interface(handle, USB2CAN_INTERFACE);
    if (r != 0) {
        switch (r) {
        case LIBUSB_ERROR_BUSY:
            *result = U2C_LINK_BUSY;
            snprintf(reason, reason_size, "USB2CAN %s is in use by another program or handle (%s)",
                     serial, libusb_error_name(r));
            break;
        case LIBUSB_ERROR_ACCESS:
            *result = U2C_LINK_ACCESS;
            snprintf(reason, reason_size,
                     "USB2CAN %s refused access to its interface (%s): another program may have it",
                     serial, libusb_error_name(r));
            break;
        case LIBUSB_ERROR_NOT_SUPPORTED:
            *result = U2C_LINK_ACCESS;
            snprintf(reason, reason_size,
                     "USB2CAN %s uses a driver libusb cannot use: bind it to WinUSB with Zadig",
                     serial);
            break;
        case LIBUSB_ERROR_NO_DEVICE:
            *result = U2C_LINK_NOT_FOUND;
            snprintf(reason, reason_size, "USB2CAN %s was unplugged while opening", serial);
            break;
        default:
            *result = result_of(r);
            snprintf(reason, reason_size, "cannot claim USB2CAN %s: %s", serial,
                     libusb_error_name(r));
            break;
        }
        return NULL;
    }
    usb_link *link = link_alloc(handle);
    if (!link) {
        libusb_release_interface(handle, USB2CAN_INTERFACE);
        *result = U2C_LINK_NO_MEMORY;
        snprintf(reason, reason_size, "out of memory opening USB2CAN %s", serial);
        return NULL;
    }
    link->claimed = true;
    snprintf(link->base.serial, sizeof link->base.serial, "%s", serial);
    return link;
}

/* Opens dev and reads its serial; false (and a survey entry) if it cannot. */
static bool read_serial(libusb_device *dev, const struct libusb_device_descriptor *desc,
                        libusb_device_handle **handle, char *serial, size_t size,
                        u2c_open_survey *s)
{
    int r = libusb_open(dev, handle);
    if (r != 0) {
        u2c_survey_add_open_error(s, r);
        return false;
    }
    serial[0] = '\0';
    if (desc->iSerialNumber == 0 ||
        libusb_get_string_descriptor_ascii(*handle, desc->iSerialNumber, (unsigned char *)serial,
                                           (int)size) <= 0) {
        u2c_survey_add_serial(s, "(no serial)");
        libusb_close(*handle);
        return false;
    }
    u2c_survey_add_serial(s, serial);
    return true;
}

/* "1-4.2": the bus, then the port on each hub from the root down, as Linux
 * names the device in sysfs and `usb2can-cli list` shows it. */
static void location_of(libusb_device *dev, char *out, size_t size)
{
    uint8_t ports[7]; /* USB allows at most 7 tiers below the root */
    int depth = libusb_get_port_numbers(dev, ports, (int)sizeof ports);
    int used = snprintf(out, size, "%u", (unsigned)libusb_get_bus_number(dev));
    for (int i = 0; i < depth && used > 0 && (size_t)used < size; i++)
        used += snprintf(out + used, size - (size_t)used, "%c%u", i == 0 ? '-' : '.',
                         (unsigned)ports[i]);
}

/* What one pass over the device list found for the serial asked for. */
typedef struct open_search {
    const char *wanted;
    const char *location; /* NULL: any */
    unsigned matches;     /* adapters with the serial (at the location), here or not */
    char match_locations[96];
    char first_location[U2C_LOCATION_TEXT];
    usb_link *held_here; /* a match this process has open already */
    libusb_device *chosen;
    libusb_device_handle *chosen_handle; /* open; its serial matches */
    struct libusb_device_descriptor chosen_desc;
    char chosen_serial[USB2CAN_SERIAL_MAX + 1];
    char chosen_location[U2C_LOCATION_TEXT];
    u2c_open_survey survey;
} open_search;

static void note_match(open_search *q, const char *where)
{
    if (q->matches == 0)
        snprintf(q->first_location, sizeof q->first_location, "%s", where);
    size_t used = strnlen(q->match_locations, sizeof q->match_locations - 1);
    snprintf(q->match_locations + used, sizeof q->match_locations - used, "%s%s",
             q->matches ? ", " : "", where);
    q->matches++;
}

/* Looks at one 0483:1234 device: an adapter this process holds is not
 * opened again (its serial is known); any other is opened to read its
 * serial and closed again unless it is the first match. */
static void consider(open_search *q, libusb_device *dev,
                     const struct libusb_device_descriptor *desc)
{
    char where[U2C_LOCATION_TEXT];
    location_of(dev, where, sizeof where);
    if (q->location != NULL && strcmp(where, q->location) != 0)
        return; /* not even opened: the others stay untouched */
    usb_link *mine = open_link_on_locked(dev);
    if (mine != NULL) {
        u2c_survey_add_serial(&q->survey, mine->base.serial);
        if (q->wanted[0] == '\0' || u2c_compare_nocase(mine->base.serial, q->wanted) == 0) {
            note_match(q, where);
            if (q->held_here == NULL)
                q->held_here = mine;
        }
        return;
    }
    libusb_device_handle *handle = NULL;
    char serial[USB2CAN_SERIAL_MAX + 1];
    bool any = q->wanted[0] == '\0'; /* by location alone: a serial-less one too */
    if (any) {
        int r = libusb_open(dev, &handle);
        if (r != 0) {
            u2c_survey_add_open_error(&q->survey, r);
            return;
        }
        serial[0] = '\0';
        if (desc->iSerialNumber != 0 &&
            libusb_get_string_descriptor_ascii(handle, desc->iSerialNumber, (unsigned char *)serial,
                                               (int)sizeof serial) <= 0)
            serial[0] = '\0';
        u2c_survey_add_serial(&q->survey, serial[0] ? serial : "(no serial)");
    } else if (!read_serial(dev, desc, &handle, serial, sizeof serial, &q->survey)) {
        return;
    }
    if (!any && u2c_compare_nocase(serial, q->wanted) != 0) {
        libusb_close(handle);
        return;
    }
    note_match(q, where);
    if (q->chosen != NULL || q->held_here != NULL) {
        libusb_close(handle);
        return;
    }
    q->chosen = dev;
    q->chosen_handle = handle;
    q->chosen_desc = *desc;
    snprintf(q->chosen_serial, sizeof q->chosen_serial, "%s", serial);
    snprintf(q->chosen_location, sizeof q->chosen_location, "%s", where);
}

static usb_link *open_matching(libusb_context *ctx, const char *wanted, const char *location,
                               u2c_link_result *result, char *reason, size_t reason_size)
{
    libusb_device **list = NULL;
    ssize_t count = libusb_get_device_list(ctx, &list);
    if (count < 0) {
        *result = result_of((int)count);
        snprintf(reason, reason_size, "cannot list USB devices: %s", libusb_error_name((int)count));
        return NULL;
    }
    open_search q;
    memset(&q, 0, sizeof q);
    q.wanted = wanted;
    q.location = location;
    for (ssize_t i = 0; i < count; i++) {
        struct libusb_device_descriptor desc;
        if (libusb_get_device_descriptor(list[i], &desc) == 0 && desc.idVendor == U8D_USB_VID &&
            desc.idProduct == U8D_USB_PID)
            consider(&q, list[i], &desc);
    }
    usb_link *link = NULL;
    if (q.matches > 1) {
        *result = U2C_LINK_AMBIGUOUS;
        snprintf(reason, reason_size,
                 "%u USB2CAN adapters have serial %s (at %s); name one by its location, "
                 "e.g. \"%s;500;location=%s\"",
                 q.matches, wanted, q.match_locations, wanted, q.first_location);
    } else if (q.held_here != NULL) {
        long handle = 0;
        u2c_open_here_find(q.held_here->base.serial, q.held_here->location, &handle);
        *result = U2C_LINK_BUSY;
        if (handle > 0)
            snprintf(reason, reason_size,
                     "USB2CAN %s (at %s) is already open in this program (CANAL handle %ld)",
                     q.held_here->base.serial, q.held_here->location, handle);
        else
            snprintf(reason, reason_size, "USB2CAN %s (at %s) is already open in this program",
                     q.held_here->base.serial, q.held_here->location);
    } else if (q.chosen != NULL) {
        link = link_claim(q.chosen, q.chosen_handle, &q.chosen_desc, q.chosen_serial, result,
                          reason, reason_size);
        if (link != NULL) {
            link->device = q.chosen;
            snprintf(link->location, sizeof link->location, "%s", q.chosen_location);
            remember_open_link_locked(link);
            q.chosen_handle = NULL;
        }
    } else {
        char label[USB2CAN_SERIAL_MAX + U2C_LOCATION_TEXT + 16];
        if (location != NULL && wanted[0] == '\0')
            snprintf(label, sizeof label, "any at location %s", location);
        else if (location != NULL)
            snprintf(label, sizeof label, "%s at location %s", wanted, location);
        else
            snprintf(label, sizeof label, "%s", wanted);
        *result = u2c_survey_verdict(&q.survey, label, U2C_WINDOWS, reason, reason_size);
    }
    if (q.chosen_handle != NULL)
        libusb_close(q.chosen_handle);
    libusb_free_device_list(list, 1);
    return link;
}

/* Whether location reads like "1-4.2": a bus number, then 1..7 port numbers. */
static bool location_well_formed(const char *location)
{
    const char *p = location;
    unsigned parts = 0;
    for (;;) {
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
        parts++;
        if (*p == '\0')
            return parts >= 2 && parts <= 8;
        if (*p != (parts == 1 ? '-' : '.'))
            return false;
        p++;
    }
}

u2c_link *u2c_link_open_libusb_at(const char *serial, const char *location, u2c_link_result *result,
                                  char *reason, size_t reason_size)
{
    u2c_link_result ignored_result;
    char ignored_reason[1];
    if (!result)
        result = &ignored_result;
    if (!reason || reason_size == 0) {
        reason = ignored_reason;
        reason_size = sizeof ignored_reason;
    }
    reason[0] = '\0';
    if (location != NULL && location[0] == '\0')
        location = NULL;
    if (!serial)
        serial = "";
    if (!*serial && location == NULL) {
        *result = U2C_LINK_NOT_FOUND;
        snprintf(reason, reason_size, "no serial number given");
        return NULL;
    }
    if (location != NULL && !location_well_formed(location)) {
        *result = U2C_LINK_NOT_FOUND;
        snprintf(reason, reason_size,
                 "location \"%.40s\" is not a USB port path like 1-4.2 (bus, then ports)",
                 location);
        return NULL;
    }
    libusb_context *ctx = session_acquire(reason, reason_size);
    if (!ctx) {
        *result = U2C_LINK_NOT_FOUND;
        return NULL;
    }
    /* The list, every open and close of a candidate, the claim and the
     * list's free, as one step that no other thread's enumeration overlaps. */
    u2c_usb_enum_lock();
    usb_link *link = open_matching(ctx, serial, location, result, reason, reason_size);
    u2c_usb_enum_unlock();
    if (!link) {
        session_release();
        return NULL;
    }
    *result = U2C_LINK_OK;
    return &link->base;
}

u2c_link *u2c_link_open_libusb(const char *serial, u2c_link_result *result, char *reason,
                               size_t reason_size)
{
    return u2c_link_open_libusb_at(serial, NULL, result, reason, reason_size);
}

void u2c_libusb_version_text(char *out, size_t size)
{
    const struct libusb_version *v = libusb_get_version();
    snprintf(out, size, "%u.%u.%u.%u%s", v->major, v->minor, v->micro, v->nano,
             v->rc != NULL ? v->rc : "");
}
