/* Opening, closing, commands, state and counters of a channel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel_impl.h"
#include "left_behind.h"
#include "last_error.h"

/* One command exchange within timeout_ms; a CANAL code with the reason set
 * on failure. */
static int exchange_within(u2c_channel *ch, const uint8_t request[U8D_CMD_SIZE], const char *what,
                           uint8_t reply[U8D_CMD_SIZE], unsigned timeout_ms)
{
    int r = ch->link->ops->command(ch->link, request, reply, timeout_ms);
    if (r == U2C_LINK_TIMEOUT)
        return u2c_fail(CANAL_ERROR_TIMEOUT, "adapter %s: %s failed: no reply within %u ms",
                        ch->link->serial, what, timeout_ms);
    if (r != U2C_LINK_OK)
        return u2c_fail(CANAL_ERROR_COMMUNICATION, "adapter %s: %s failed: %s", ch->link->serial,
                        what, u2c_link_result_text(r));
    u8d_status st = u8d_check_reply(reply, U8D_CMD_SIZE, request[U8D_CMD_OFF_CODE]);
    if (st != U8D_OK)
        return u2c_fail(CANAL_ERROR_HARDWARE, "adapter %s: %s refused: %s", ch->link->serial, what,
                        u8d_status_text(st));
    return CANAL_ERROR_SUCCESS;
}

static int exchange(u2c_channel *ch, const uint8_t request[U8D_CMD_SIZE], const char *what,
                    uint8_t reply[U8D_CMD_SIZE])
{
    return exchange_within(ch, request, what, reply, U8D_CMD_TIMEOUT_MS);
}

static int command_simple(u2c_channel *ch, uint8_t cmd, const char *what,
                          uint8_t reply[U8D_CMD_SIZE])
{
    uint8_t request[U8D_CMD_SIZE];
    u8d_encode_command(request, cmd, 0, 0, NULL);
    return exchange(ch, request, what, reply);
}

/* Vendor: one statistic (GET_STATISTICS index), best effort: false and the
 * thread's last error untouched when the adapter does not answer. */
static bool read_statistic(u2c_channel *ch, enum u8d_stat_index index, uint32_t *value)
{
    uint8_t request[U8D_CMD_SIZE], reply[U8D_CMD_SIZE];
    u8d_encode_command(request, U8D_CMD_GET_STATISTICS, (uint8_t)index, 0, NULL);
    if (ch->link->ops->command(ch->link, request, reply, U8D_CMD_TIMEOUT_MS) != U2C_LINK_OK ||
        u8d_check_reply(reply, U8D_CMD_SIZE, U8D_CMD_GET_STATISTICS) != U8D_OK)
        return false;
    *value = u8d_reply_be32(reply);
    return true;
}

/* How an OPEN meets the adapter: first of this channel (it may still be
 * open from an earlier program), right after our CLOSE (a transition for its
 * main loop, which clears its statistics), or on our open adapter
 * (busoff=auto: no transition, its statistics go on). */
typedef enum open_kind { OPEN_FIRST, OPEN_AFTER_CLOSE, OPEN_WHILE_OPEN } open_kind;

/* cmd_lock held. */
static int command_open(u2c_channel *ch, const u8d_bittiming *timing, open_kind kind)
{
    uint8_t request[U8D_CMD_SIZE], reply[U8D_CMD_SIZE];
    u8d_status st = u8d_encode_open(request, timing, ch->open_flags);
    if (st != U8D_OK)
        return u2c_fail(CANAL_ERROR_BAUDRATE, "adapter %s: OPEN not sent: %s", ch->link->serial,
                        u8d_status_text(st));
    /* The adapter re-initialises its controller: error-active, counters 0.
     * The host starts from there before OPEN goes out, so that a record of
     * the new session arriving while the baselines below are read is kept;
     * records held from before (docs/protocol.md) only make the refresher
     * confirm the state. */
    u2c_mutex_lock(&ch->lock);
    u2c_bus_state_restart(&ch->bus);
    ch->busoff_msg_pending = false;
    u2c_mutex_unlock(&ch->lock);
    int code = exchange(ch, request, "OPEN", reply);
    if (code != CANAL_ERROR_SUCCESS)
        return code;
    u2c_mutex_lock(&ch->lock);
    ch->opened_ns = u2c_now_ns();
    u2c_mutex_unlock(&ch->lock);
    /* The vendor firmware clears its statistics only when its main loop sees
     * the controller go from closed to open or back (krumboeck/
     * usb2can_firmware main.c ~177-193); an OPEN on an adapter still open
     * (a program that died without CLOSE) keeps counting. So the counts of
     * transmitted frames and of its own overruns are read right after OPEN
     * as baselines; after our own CLOSE they are 0 (frames left in the
     * adapter may already be leaving and counting). Never a CANalyze. */
    uint32_t tx_stat = 0, overrun_stat = 0;
    if (ch->flavor == U8D_FLAVOR_VENDOR && kind == OPEN_FIRST) {
        (void)read_statistic(ch, U8D_STAT_TX_FRAMES, &tx_stat);
        (void)read_statistic(ch, U8D_STAT_OVERRUNS, &overrun_stat);
    }
    u2c_mutex_lock(&ch->lock);
    if (kind == OPEN_FIRST)
        ch->tx_frames_at_open = ch->tx_frames;
    if (kind != OPEN_WHILE_OPEN) {
        ch->tx_stat_at_open = tx_stat;
        ch->overrun_stat_at_open = overrun_stat;
        ch->overrun_stat_now = overrun_stat;
    }
    ch->status_asked_ns = u2c_now_ns();
    u2c_mutex_unlock(&ch->lock);
    return CANAL_ERROR_SUCCESS;
}

/* cmd_lock held, before CLOSE. Vendor: frames handed over since OPEN that
 * the adapter has not transmitted (GET_STATISTICS 2 against its baseline);
 * false when unknown (a CANalyze, or no answer). */
static bool adapter_tx_left(u2c_channel *ch, uint64_t *left)
{
    uint32_t count = 0;
    if (ch->flavor != U8D_FLAVOR_VENDOR)
        return false;
    u2c_mutex_lock(&ch->lock);
    uint64_t handed = ch->tx_frames - ch->tx_frames_at_open;
    uint32_t baseline = ch->tx_stat_at_open;
    u2c_mutex_unlock(&ch->lock);
    *left = 0;
    if (handed == 0)
        return true;
    if (!read_statistic(ch, U8D_STAT_TX_FRAMES, &count))
        return false;
    uint64_t transmitted = count >= baseline ? count - baseline : count;
    *left = handed > transmitted ? handed - transmitted : 0;
    return true;
}

/* Frames an open vendor adapter loses at CLOSE: the one in the CAN message
 * object (CLOSE disables the controller, commands.c ~124-127) and the one
 * its main loop took from the list to send next (TxCanMsg, dropped at the
 * open/close transition, main.c ~184). The rest of its transmit list stays
 * and goes out after the next OPEN (cleared only at power-up or USB
 * disconnect, main.c ~152-171). */
#define U2C_TX_LOST_AT_CLOSE 2u
/* What a closed vendor adapter holds for the next OPEN: its list (63) and
 * the record in its OUT endpoint, which its loop no longer empties. */
#define U2C_TX_KEPT_MAX 64u

/* After CLOSE, with what adapter_tx_left found: the lost frames leave the
 * transmitted count, the kept ones count for the next session (the adapter
 * counts them when they leave after OPEN). */
static void account_close(u2c_channel *ch, bool known, uint64_t left)
{
    uint64_t lost = !known ? 0 : left < U2C_TX_LOST_AT_CLOSE ? left : U2C_TX_LOST_AT_CLOSE;
    uint64_t kept = known ? left - lost : 0;
    u2c_mutex_lock(&ch->lock);
    ch->tx_frames -= lost;
    ch->diag.tx_lost_at_close += lost;
    ch->diag.tx_left_at_close = kept;
    ch->tx_frames_at_open = ch->tx_frames - kept;
    /* The adapter's overrun count restarts at the transition. */
    if (ch->overrun_stat_now >= ch->overrun_stat_at_open)
        ch->adapter_overruns_before += ch->overrun_stat_now - ch->overrun_stat_at_open;
    ch->overrun_stat_at_open = 0;
    ch->overrun_stat_now = 0;
    u2c_mutex_unlock(&ch->lock);
}

/* Each firmware's own limits (u8d_bittiming_const), now that the adapter is
 * known: a manual timing outside them is refused (the vendor's C_CAN needs
 * tseg1 >= 2; a CANalyze takes 1). A CANalyze clocks CAN at 48 MHz and scales
 * the host's brp by 1.5, truncating (kkuchera/canalyze-fw src/usbd_8dev_if.c
 * ~255): a timing with an odd brp would run at another rate. Rates get a
 * timing it reproduces exactly (800 kbit/s: brp 2 instead of the table's 5),
 * or are refused with the nearest rate it can make. */
static int fit_timing_to_flavor(u2c_channel *ch)
{
    u2c_setup *s = &ch->setup;
    if (u8d_bittiming_check_on(ch->flavor, &s->timing, NULL, 0) == U8D_OK)
        return CANAL_ERROR_SUCCESS;
    char why[256] = "";
    const char *who = ch->flavor == U8D_FLAVOR_CANALYZE ? "CANalyze" : "vendor firmware";
    if (s->manual_timing || ch->flavor != U8D_FLAVOR_CANALYZE) {
        (void)u8d_bittiming_check_on(ch->flavor, &s->timing, why, sizeof why);
        return u2c_fail(CANAL_ERROR_BAUDRATE, "adapter %s (%s): manual timing refused: %s",
                        ch->link->serial, who, why);
    }
    unsigned long kbps = s->kbps ? s->kbps : (s->bitrate + 500u) / 1000u;
    u2c_setup fitted = *s;
    if (u8d_bittiming_for_kbps_on(U8D_FLAVOR_CANALYZE, kbps, &fitted.timing, &fitted.bitrate,
                                  &fitted.bitrate_error_ppm, why, sizeof why) != U8D_OK)
        return u2c_fail(CANAL_ERROR_BAUDRATE, "adapter %s (CANalyze): %s", ch->link->serial, why);
    *s = fitted;
    ch->diag.bitrate = s->bitrate;
    return CANAL_ERROR_SUCCESS;
}

static int query_version(u2c_channel *ch)
{
    uint8_t reply[U8D_CMD_SIZE];
    int code = command_simple(ch, U8D_CMD_GET_SOFTW_HARDW_VER, "version query", reply);
    if (code != CANAL_ERROR_SUCCESS)
        return code;
    ch->version = u8d_reply_version(reply);
    ch->flavor = u8d_flavor_of(ch->version);
    return fit_timing_to_flavor(ch);
}

/* Every condition variable of the channel: receivers, senders, the status
 * refresher and the bus-off restart thread wait on them. */
static void for_each_cond(u2c_channel *ch, void (*fn)(u2c_cond *))
{
    u2c_cond *all[] = {&ch->rx_cond, &ch->tx_cond, &ch->refresh_cond, &ch->restart_cond};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        fn(all[i]);
}

static void on_gone(void *ctx, const char *reason)
{
    u2c_channel *ch = ctx;
    u2c_mutex_lock(&ch->lock);
    ch->gone = true;
    snprintf(ch->gone_reason, sizeof ch->gone_reason, "%s", reason ? reason : "device gone");
    for_each_cond(ch, u2c_cond_broadcast);
    u2c_rx_event_set(&ch->event);
    u2c_mutex_unlock(&ch->lock);
}

static void free_channel(u2c_channel *ch)
{
    u2c_rx_event_destroy(&ch->event);
    u2c_rx_ring_free(&ch->ring);
    for_each_cond(ch, u2c_cond_destroy);
    u2c_mutex_destroy(&ch->lock);
    u2c_mutex_destroy(&ch->cmd_lock);
    free(ch);
}

static int init_buffers(u2c_channel *ch, const u2c_setup *setup)
{
    uint32_t capacity = setup->rx_capacity ? setup->rx_capacity : U2C_RX_CAPACITY_DEFAULT;
    if (!u2c_rx_ring_init(&ch->ring, capacity))
        return u2c_fail(CANAL_ERROR_MEMORY, "no memory for an RX ring of %u frames", capacity);
    if (!u2c_rx_event_create(&ch->event))
        return u2c_fail(CANAL_ERROR_INIT_FAIL, "cannot create the receive event");
    rx_filter_init(&ch->filter);
    if (setup->has_filter) {
        ch->filter.mask = setup->mask;
        ch->filter.filter = setup->filter;
    }
    u2c_tx_queue_init(&ch->txq);
    u2c_bus_state_init(&ch->bus);
    if (ch->flavor == U8D_FLAVOR_CANALYZE)
        ch->bus.decay_ns = (uint64_t)U2C_CANALYZE_DECAY_MS * 1000000u;
    u8d_clock_init(&ch->clock, ch->flavor);
    ch->diag.rx_capacity = capacity;
    return CANAL_ERROR_SUCCESS;
}

static int start_link(u2c_channel *ch)
{
    ch->sink = (u2c_link_sink){
        .ctx = ch,
        .in_packet = u2c_channel_on_in_packet,
        .next_out = u2c_channel_on_next_out,
        .gone = on_gone,
    };
    int r = ch->link->ops->start(ch->link, &ch->sink);
    if (r != U2C_LINK_OK)
        return u2c_fail(CANAL_ERROR_COMMUNICATION, "adapter %s: cannot start streaming: %s",
                        ch->link->serial, u2c_link_result_text(r));
    return CANAL_ERROR_SUCCESS;
}

static int bring_up(u2c_channel *ch, const u2c_setup *setup)
{
    int code = query_version(ch);
    if (code == CANAL_ERROR_SUCCESS)
        code = init_buffers(ch, setup);
    if (code == CANAL_ERROR_SUCCESS)
        code = start_link(ch);
    if (code != CANAL_ERROR_SUCCESS)
        return code;
    code = command_open(ch, &ch->setup.timing, OPEN_FIRST);
    if (code != CANAL_ERROR_SUCCESS)
        ch->link->ops->stop(ch->link);
    else
        u2c_channel_refresher_start(ch);
    return code;
}

/* busoff=auto:N, contract in channel.h. */
static void restart_main(void *arg)
{
    u2c_channel *ch = arg;
    uint64_t wait_ns = (uint64_t)ch->setup.busoff_restart_ms * 1000000u;
    u2c_mutex_lock(&ch->lock);
    while (!ch->closing && !ch->gone) {
        if (ch->bus_off_since_ns == 0) {
            (void)u2c_cond_wait_until(&ch->restart_cond, &ch->lock, U2C_DEADLINE_NEVER);
            continue;
        }
        uint64_t due = ch->bus_off_since_ns + wait_ns;
        if (u2c_now_ns() < due) {
            (void)u2c_cond_wait_until(&ch->restart_cond, &ch->lock, due);
            continue;
        }
        u2c_mutex_unlock(&ch->lock);
        u2c_mutex_lock(&ch->cmd_lock);
        /* The frame in the message object is lost (OPEN re-initialises the
         * controller); the one held behind it and the list go on. */
        uint64_t left = 0;
        bool known = adapter_tx_left(ch, &left);
        int code = command_open(ch, &ch->setup.timing, OPEN_WHILE_OPEN);
        if (code == CANAL_ERROR_SUCCESS && known && left > 0) {
            u2c_mutex_lock(&ch->lock);
            ch->tx_frames--;
            ch->diag.tx_lost_at_close++;
            u2c_mutex_unlock(&ch->lock);
        }
        u2c_mutex_unlock(&ch->cmd_lock);
        u2c_mutex_lock(&ch->lock);
        ch->bus_off_since_ns = 0;
        if (code == CANAL_ERROR_SUCCESS)
            u2c_channel_note_restart(ch);
    }
    u2c_mutex_unlock(&ch->lock);
    u2c_error_clear();
}

/* The restart thread ends once the channel is closing. */
static void stop_restarts(u2c_channel *ch)
{
    u2c_channel_stop_thread(ch, &ch->restart_started, &ch->closing, &ch->restart_cond,
                            &ch->restart_thread);
}

/* The open succeeded; the caller's last error says what this program's last
 * CanalClose of the adapter left in it, which goes out now at this open's
 * bit rate (left_behind.h). */
static void note_frames_left_behind(u2c_channel *ch)
{
    uint64_t frames = u2c_left_behind_take(ch->link->serial);
    if (frames != 0)
        u2c_error_set("adapter %s: %llu frame(s) that this program's last CanalClose left in "
                      "the adapter go out now, at %u bit/s",
                      ch->link->serial, (unsigned long long)frames, (unsigned)ch->setup.bitrate);
}

u2c_channel *u2c_channel_open(u2c_link *link, const u2c_setup *setup, unsigned long flags,
                              int *code)
{
    u2c_channel *ch = calloc(1, sizeof *ch);
    if (!ch) {
        link->ops->destroy(link);
        *code = u2c_fail(CANAL_ERROR_MEMORY, "no memory for a channel");
        return NULL;
    }
    u2c_mutex_init(&ch->cmd_lock);
    u2c_mutex_init(&ch->lock);
    for_each_cond(ch, u2c_cond_init);
    ch->link = link;
    ch->setup = *setup;
    /* The wire always asks for status records, as the Linux driver does
     * (u32 flags = USB_8DEV_STATUS_FRAME); whether they reach the caller is
     * the caller's flag 0x08. */
    ch->open_flags = (uint32_t)(flags & U8D_OPEN_MODE_BITS) | U8D_OPEN_STATUS_FRAMES;
    ch->deliver_status = (flags & U8D_OPEN_STATUS_FRAMES) != 0;
    ch->diag.bitrate = setup->bitrate;

    *code = bring_up(ch, setup);
    if (*code == CANAL_ERROR_SUCCESS && setup->busoff_restart_ms != 0) {
        if (u2c_thread_start(&ch->restart_thread, restart_main, ch) == 0) {
            ch->restart_started = true;
        } else {
            *code = u2c_fail(CANAL_ERROR_INIT_FAIL, "cannot start the busoff=auto thread");
            ch->link->ops->stop(ch->link);
        }
    }
    if (*code != CANAL_ERROR_SUCCESS) {
        link->ops->destroy(link);
        free_channel(ch);
        return NULL;
    }
    note_frames_left_behind(ch);
    return ch;
}

void u2c_channel_shutdown(u2c_channel *ch)
{
    u2c_mutex_lock(&ch->lock);
    ch->closing = true;
    for_each_cond(ch, u2c_cond_broadcast); /* a spurious wake costs the refresher nothing */
    u2c_rx_event_set(&ch->event);
    u2c_mutex_unlock(&ch->lock);
}

/* Gives queued frames a bounded chance to reach the adapter before CLOSE:
 * waits while the queue keeps shrinking, at most TX_DRAIN_MAX_MS in all.
 * Progress is judged by the queue count, not by wake-ups: pops wake this
 * wait only as u2c_tx_queue_should_wake says (not for the first TX_WAKE_ROOM
 * frames that leave a full queue), and a stall window that ends with a
 * shorter queue keeps waiting. */
#define TX_DRAIN_STALL_MS 100u
#define TX_DRAIN_MAX_MS 2000u
/* Between two questions to the adapter while it still transmits: each is a
 * USB round trip, and a 1 ms loop would be one more busy poller. */
#define TX_DRAIN_POLL_MS 5u
static void drain_tx(u2c_channel *ch)
{
    uint64_t hard_deadline = u2c_deadline_after_ms(TX_DRAIN_MAX_MS);
    u2c_mutex_lock(&ch->lock);
    uint32_t left = u2c_tx_queue_count(&ch->txq);
    while (left > 0 && !ch->gone) {
        uint64_t stall_deadline = u2c_deadline_after_ms(TX_DRAIN_STALL_MS);
        uint64_t deadline = stall_deadline < hard_deadline ? stall_deadline : hard_deadline;
        ch->tx_waiters++;
        bool in_time = u2c_cond_wait_until(&ch->tx_cond, &ch->lock, deadline);
        ch->tx_waiters--;
        uint32_t now_left = u2c_tx_queue_count(&ch->txq);
        if (!in_time && now_left >= left)
            break;
        if (u2c_now_ns() >= hard_deadline)
            break;
        left = now_left;
    }
    u2c_mutex_unlock(&ch->lock);
}

/* Frames the adapter has taken still wait in its own queue until the bus
 * carries them, and CLOSE would strand them there. The vendor firmware
 * counts what it has transmitted (GET_STATISTICS 2, read right after OPEN
 * as the baseline): wait until the count since OPEN reaches what was handed
 * over, while it keeps rising, within the same bounds as drain_tx. Never
 * asked of a CANalyze: any command but OPEN, CLOSE and the version query
 * kills its command pipe. Call with cmd_lock held. */
static void drain_adapter(u2c_channel *ch)
{
    if (ch->flavor != U8D_FLAVOR_VENDOR)
        return;
    u2c_mutex_lock(&ch->lock);
    uint64_t handed = ch->tx_frames - ch->tx_frames_at_open;
    uint32_t baseline = ch->tx_stat_at_open;
    bool gone = ch->gone;
    u2c_mutex_unlock(&ch->lock);
    if (handed == 0 || gone)
        return;
    uint64_t hard_deadline = u2c_deadline_after_ms(TX_DRAIN_MAX_MS);
    uint64_t stall_deadline = u2c_deadline_after_ms(TX_DRAIN_STALL_MS);
    uint32_t transmitted = 0;
    for (;;) {
        uint8_t request[U8D_CMD_SIZE], reply[U8D_CMD_SIZE];
        u8d_encode_command(request, U8D_CMD_GET_STATISTICS, U8D_STAT_TX_FRAMES, 0, NULL);
        if (exchange(ch, request, "GET_STATISTICS", reply) != CANAL_ERROR_SUCCESS)
            break;
        uint32_t count = u8d_reply_be32(reply);
        /* Counted from the baseline; below it, the firmware cleared its
         * counters after the baseline was read, so it counts from 0. */
        uint32_t now_transmitted = count >= baseline ? count - baseline : count;
        if (now_transmitted >= handed)
            break;
        uint64_t now = u2c_now_ns();
        if (now_transmitted != transmitted) {
            transmitted = now_transmitted;
            stall_deadline = u2c_deadline_after_ms(TX_DRAIN_STALL_MS);
        }
        if (now >= stall_deadline || now >= hard_deadline)
            break;
        u2c_sleep_ms(TX_DRAIN_POLL_MS);
    }
    u2c_error_clear(); /* closing succeeds whatever the adapter said here */
}

/* A CANalyze handles CLOSE in its main loop before a pending transmission,
 * and de-initialising the controller aborts its mailboxes (kkuchera/
 * canalyze-fw src/main.c ~113-129): a record still in an OUT transfer when
 * CLOSE arrives is lost. So wait (bounded) until every OUT transfer in
 * flight has completed. */
static void drain_link(u2c_channel *ch)
{
    if (ch->flavor != U8D_FLAVOR_CANALYZE || ch->link->ops->flush_out == NULL)
        return;
    u2c_mutex_lock(&ch->lock);
    bool gone = ch->gone;
    u2c_mutex_unlock(&ch->lock);
    if (!gone)
        (void)ch->link->ops->flush_out(ch->link, TX_DRAIN_MAX_MS);
}

void u2c_channel_close(u2c_channel *ch)
{
    u2c_channel_refresher_stop(ch);
    stop_restarts(ch);
    drain_tx(ch);
    drain_link(ch);
    u2c_mutex_lock(&ch->lock);
    bool gone = ch->gone;
    u2c_mutex_unlock(&ch->lock);
    if (!gone) {
        uint8_t reply[U8D_CMD_SIZE];
        u2c_mutex_lock(&ch->cmd_lock);
        drain_adapter(ch);
        uint64_t left = 0;
        bool known = adapter_tx_left(ch, &left);
        /* Best effort: the channel goes away whatever the adapter answers. */
        int code = command_simple(ch, U8D_CMD_CLOSE, "CLOSE", reply);
        u2c_mutex_unlock(&ch->cmd_lock);
        u2c_error_clear();
        if (code == CANAL_ERROR_SUCCESS && known)
            u2c_left_behind_note(ch->link->serial, 0);
        if (code == CANAL_ERROR_SUCCESS && known && left > 0) {
            account_close(ch, known, left);
            /* A closed adapter holds at most its list and one record in its
             * OUT endpoint; what was still in OUT transfers is dropped when
             * the link stops. Closing succeeds; the caller's last error says
             * what stayed. */
            uint64_t kept = ch->diag.tx_left_at_close;
            uint64_t in_adapter = kept < U2C_TX_KEPT_MAX ? kept : U2C_TX_KEPT_MAX;
            u2c_left_behind_note(ch->link->serial, in_adapter);
            u2c_error_set("adapter %s closed with %llu frame(s) not sent: %llu lost at CLOSE, "
                          "%llu stay in the adapter and go out after its next OPEN, %llu "
                          "dropped on the host",
                          ch->link->serial, (unsigned long long)left,
                          (unsigned long long)(left - kept), (unsigned long long)in_adapter,
                          (unsigned long long)(kept - in_adapter));
        }
    }
    ch->link->ops->stop(ch->link);
    ch->link->ops->destroy(ch->link);
    free_channel(ch);
}

int u2c_channel_dead_code(const u2c_channel *ch)
{
    if (ch->closing)
        return u2c_fail(CANAL_ERROR_NOT_OPEN, "the handle was closed while this call used it");
    if (ch->gone)
        return u2c_fail(CANAL_ERROR_COMMUNICATION, "adapter %s is gone: %s", ch->link->serial,
                        ch->gone_reason);
    return CANAL_ERROR_SUCCESS;
}

/* Never waits for USB: the newest state at once; a due refresh is left to
 * the refresher (vendor firmware). */
int u2c_channel_get_status(u2c_channel *ch, canalStatus *out)
{
    u2c_mutex_lock(&ch->lock);
    u2c_channel_want_refresh(ch, false);
    u2c_bus_state_settle(&ch->bus, u2c_now_ns());
    memset(out, 0, sizeof *out);
    out->channel_status = u2c_bus_state_word(&ch->bus);
    out->lasterrorcode = ch->bus.last_code;
    if (ch->gone) {
        out->lasterrorsubcode = CANAL_ERROR_COMMUNICATION;
        snprintf(out->lasterrorstr, sizeof out->lasterrorstr, "adapter gone: %.64s",
                 ch->gone_reason);
    } else {
        u2c_bus_state_describe(&ch->bus, out->lasterrorstr, sizeof out->lasterrorstr);
    }
    int code = u2c_channel_dead_code(ch);
    u2c_mutex_unlock(&ch->lock);
    return code;
}

int u2c_channel_get_statistics(u2c_channel *ch, canalStatistics *out)
{
    u2c_mutex_lock(&ch->lock);
    u2c_channel_want_refresh(ch, false);
    uint64_t adapter_overruns = ch->adapter_overruns_before;
    if (ch->overrun_stat_now >= ch->overrun_stat_at_open)
        adapter_overruns += ch->overrun_stat_now - ch->overrun_stat_at_open;
    out->cntReceiveFrames = (unsigned long)ch->rx_frames;
    out->cntTransmitFrames = (unsigned long)ch->tx_frames;
    out->cntReceiveData = (unsigned long)ch->rx_bytes;
    out->cntTransmitData = (unsigned long)ch->tx_bytes;
    out->cntOverruns =
        (unsigned long)(ch->diag.ring_overruns + ch->bus.device_overruns + adapter_overruns);
    out->cntBusWarnings = (unsigned long)ch->bus.warnings;
    out->cntBusOff = (unsigned long)ch->bus.bus_offs;
    int code = u2c_channel_dead_code(ch);
    u2c_mutex_unlock(&ch->lock);
    return code;
}

/* Sets one word of the CANAL filter rule (the filter or the mask). */
static int set_rule_word(u2c_channel *ch, uint32_t *word, unsigned long value)
{
    u2c_mutex_lock(&ch->lock);
    *word = (uint32_t)value;
    int code = u2c_channel_dead_code(ch);
    u2c_mutex_unlock(&ch->lock);
    return code;
}

int u2c_channel_set_filter(u2c_channel *ch, unsigned long filter)
{
    return set_rule_word(ch, &ch->filter.filter, filter);
}

int u2c_channel_set_mask(u2c_channel *ch, unsigned long mask)
{
    return set_rule_word(ch, &ch->filter.mask, mask);
}

int u2c_channel_set_filters(u2c_channel *ch, unsigned long count, const unsigned long *values)
{
    char reason[128];
    u2c_mutex_lock(&ch->lock);
    int code = CANAL_ERROR_SUCCESS;
    if (!rx_filter_set_pairs(&ch->filter, count, values, reason, sizeof reason))
        code = u2c_fail(CANAL_ERROR_PARAMETER, "%s", reason);
    else
        code = u2c_channel_dead_code(ch);
    u2c_mutex_unlock(&ch->lock);
    return code;
}

static int timing_for_kbps(u8d_flavor flavor, unsigned long kbps, u2c_setup *out)
{
    char reason[256];
    if (kbps == 0)
        return u2c_fail(CANAL_ERROR_BAUDRATE,
                        "CanalSetBaudrate(0): manual timing needs tseg1;tseg2;sjw;brp, give "
                        "them in the CanalOpen setup string");
    if (u8d_bittiming_for_kbps_on(flavor, kbps, &out->timing, &out->bitrate,
                                  &out->bitrate_error_ppm, reason, sizeof reason) != U8D_OK)
        return u2c_fail(CANAL_ERROR_BAUDRATE, "CanalSetBaudrate(%lu): %s", kbps, reason);
    out->kbps = (uint32_t)kbps;
    return CANAL_ERROR_SUCCESS;
}

/* cmd_lock held. Vendor firmware: the adapter's overrun count now, so the
 * session that ends keeps the overruns it saw (GET_STATISTICS 4). */
static void read_adapter_overruns(u2c_channel *ch)
{
    uint32_t overruns = 0;
    if (ch->flavor != U8D_FLAVOR_VENDOR || !read_statistic(ch, U8D_STAT_OVERRUNS, &overruns))
        return;
    u2c_mutex_lock(&ch->lock);
    ch->overrun_stat_now = overruns;
    u2c_mutex_unlock(&ch->lock);
}

/* cmd_lock held. CLOSE, then OPEN with the new timing; on failure try to
 * restore the old one so the channel stays usable. */
static int reopen(u2c_channel *ch, const u2c_setup *wanted)
{
    uint8_t reply[U8D_CMD_SIZE];
    uint64_t left = 0;
    bool known = adapter_tx_left(ch, &left);
    read_adapter_overruns(ch);
    int code = command_simple(ch, U8D_CMD_CLOSE, "CLOSE", reply);
    if (code != CANAL_ERROR_SUCCESS)
        return code;
    account_close(ch, known, left);
    code = command_open(ch, &wanted->timing, OPEN_AFTER_CLOSE);
    if (code != CANAL_ERROR_SUCCESS) {
        char why[U2C_ERROR_TEXT_MAX];
        snprintf(why, sizeof why, "%s", u2c_error_get());
        (void)command_open(ch, &ch->setup.timing, OPEN_AFTER_CLOSE);
        return u2c_fail(code, "%s", why);
    }
    u2c_mutex_lock(&ch->lock);
    ch->setup.timing = wanted->timing;
    ch->setup.bitrate = wanted->bitrate;
    ch->setup.kbps = wanted->kbps;
    ch->setup.manual_timing = false;
    ch->diag.bitrate = wanted->bitrate;
    u2c_mutex_unlock(&ch->lock);
    return CANAL_ERROR_SUCCESS;
}

int u2c_channel_set_bitrate(u2c_channel *ch, unsigned long kbps)
{
    u2c_setup wanted;
    int code = timing_for_kbps(ch->flavor, kbps, &wanted);
    if (code != CANAL_ERROR_SUCCESS)
        return code;
    u2c_mutex_lock(&ch->cmd_lock);
    u2c_mutex_lock(&ch->lock);
    code = u2c_channel_dead_code(ch);
    u2c_mutex_unlock(&ch->lock);
    if (code == CANAL_ERROR_SUCCESS)
        code = reopen(ch, &wanted);
    u2c_mutex_unlock(&ch->cmd_lock);
    return code;
}

void *u2c_channel_receive_handle(u2c_channel *ch)
{
    return u2c_rx_event_handle(&ch->event);
}

u8d_version u2c_channel_version(const u2c_channel *ch)
{
    return ch->version;
}

const u2c_link *u2c_channel_link(const u2c_channel *ch)
{
    return ch->link;
}

void u2c_channel_diagnostics(u2c_channel *ch, u2c_channel_diag *out)
{
    u2c_mutex_lock(&ch->lock);
    *out = ch->diag;
    out->rx_queued = u2c_rx_ring_count(&ch->ring);
    out->tx_queued = u2c_tx_queue_count(&ch->txq);
    out->rx_waiters = ch->rx_waiters;
    out->tx_waiters = ch->tx_waiters;
    out->version = ch->version;
    out->flavor = ch->flavor;
    u2c_mutex_unlock(&ch->lock);
}
