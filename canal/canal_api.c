/*
 * The exported CANAL entry points: argument checks, handle lookup, and a
 * call into the channel. Every entry clears the calling thread's last error
 * first and returns only codes 0..37.
 */
#include "canal_api.h"

#include <assert.h>

#include <stdio.h>
#include <string.h>

#include "adapter_pick.h"
#include "bitrate_scan.h"
#include "canal.h"
#include "canal_results.h"
#include "cfg_parse.h"
#include "driver_info.h"
#include "environment.h"
#include "handles.h"
#include "keep_loaded.h"
#include "last_error.h"
#include "link_open.h"
#include "link_socketcand.h"
#include "link_virtual.h"
#include "open_here.h"
#include "thread_slots.h"
#include "usb2can.h"
#include "wait_policy.h"

static u2c_handle_table g_handles;

/* Runs at load time (before any export can be called), never under a lock. */
static void init_handle_table(void) __attribute__((constructor));
static void init_handle_table(void)
{
    u2c_handles_init(&g_handles);
}

static u2c_channel *acquire(long handle, const char *fn)
{
    u2c_lookup_miss miss = U2C_MISS_UNKNOWN;
    u2c_channel *ch = u2c_handles_acquire(&g_handles, handle, &miss);
    if (ch)
        return ch;
    switch (miss) {
    case U2C_MISS_CLOSING:
        u2c_error_set("%s: handle %ld is being closed", fn, handle);
        break;
    case U2C_MISS_CLOSED:
        u2c_error_set("%s: handle %ld is not open (it was closed)", fn, handle);
        break;
    default:
        u2c_error_set("%s: handle %ld is not open (CanalOpen never returned it)", fn, handle);
        break;
    }
    return NULL;
}

static void release(long handle)
{
    u2c_handles_release(&g_handles, handle);
}

/* --- open and close ------------------------------------------------------ */

static void set_error_flags(u8d_model *m, uint64_t now_ns, void *ctx)
{
    (void)now_ns;
    u8d_model_set_error_flags(m, *(const uint32_t *)ctx);
}

/* errorframes=N (the parser allows it only with a virtual serial). */
static void apply_virtual_options(u2c_link *link, const u2c_setup *setup)
{
    unsigned slot = u2c_link_virtual_slot(link);
    uint32_t every = setup->virtual_error_flags;
    if (slot < USB2CAN_VIRTUAL_ADAPTERS)
        (void)u2c_virtual_with_model(slot, set_error_flags, &every);
}

static u2c_channel *open_channel(const u2c_setup *setup, unsigned long flags, u2c_link **opened)
{
    char serial[USB2CAN_SERIAL_MAX + 1];
    char reason[U2C_ERROR_TEXT_MAX];
    u2c_link_result result = U2C_LINK_OK;
    reason[0] = '\0';
    if (setup->remote[0]) {
        /* socketcand carries frames only: the server sets the controller up. */
        if (flags & (U8D_OPEN_SILENT | U8D_OPEN_LOOPBACK)) {
            u2c_fail(CANAL_ERROR_NOT_SUPPORTED,
                     "CanalOpen(\"%s\"): listen-only and loopback (flags 1 and 2) cannot be "
                     "set on a remote bus; the server that owns the adapter sets its mode",
                     setup->remote);
            return NULL;
        }
        u2c_link *link = u2c_link_open(setup->remote, &result, reason, sizeof reason);
        if (!link) {
            u2c_fail(CANAL_ERROR_COMMUNICATION, "CanalOpen(\"%s\"): %s", setup->remote, reason);
            return NULL;
        }
        int code = CANAL_ERROR_SUCCESS;
        *opened = link;
        return u2c_channel_open(link, setup, flags, &code);
    }
    snprintf(serial, sizeof serial, "%s", setup->serial);
    if (!serial[0] && !setup->location[0] && !u2c_pick_only_adapter(serial, sizeof serial))
        return NULL;
    u2c_link *link = u2c_link_open_at(serial, setup->location, &result, reason, sizeof reason);
    if (!link) {
        if (setup->location[0] || result == U2C_LINK_AMBIGUOUS)
            u2c_error_set("%s", reason); /* about that location or those adapters */
        else
            u2c_explain_link_failure(serial, result, reason);
        return NULL;
    }
    apply_virtual_options(link, setup);
    int code = CANAL_ERROR_SUCCESS;
    *opened = link;
    return u2c_channel_open(link, setup, flags, &code);
}

long CANAL_CALL CanalOpen(const char *pDevice, unsigned long flags)
{
    u2c_error_clear();
    if (!pDevice) {
        u2c_error_set("CanalOpen: the setup string is NULL; expected \"serial;kbps\", "
                      "e.g. \"ED000200;500\"");
        return 0;
    }
    u2c_setup setup;
    char reason[U2C_ERROR_TEXT_MAX];
    if (!u2c_setup_parse(pDevice, &setup, reason, sizeof reason)) {
        u2c_error_set("CanalOpen: %s", reason);
        return 0;
    }
    int reservation = u2c_handles_reserve(&g_handles);
    if (!reservation) {
        u2c_error_set("CanalOpen: %d channels are open in this process, the most there can be; "
                      "close one first",
                      U2C_HANDLE_SLOTS);
        return 0;
    }
    u2c_keep_loaded_hold(); /* before the open can start a thread */
    u2c_link *link = NULL;
    u2c_channel *ch = open_channel(&setup, flags, &link);
    if (!ch) {
        u2c_handles_cancel(&g_handles, reservation);
        u2c_keep_loaded_drop();
        return 0;
    }
    long handle = u2c_handles_publish(&g_handles, reservation, ch);
    u2c_open_here_set_handle(link, handle); /* "open in this program (handle 3)" */
    return handle;
}

/* Steps 2 and 3 of a close that begin_remove started: wakes the channel's
 * blocked callers, waits (until deadline) for every caller to leave, frees
 * the channel. False, with the channel left as it is, when a caller is
 * still inside at the deadline. */
static bool finish_close(long handle, u2c_channel *ch, uint64_t deadline)
{
    u2c_channel_shutdown(ch);
    if (!u2c_handles_wait_unused_until(&g_handles, handle, deadline))
        return false;
    u2c_channel_close(ch);
    u2c_handles_forget(&g_handles, handle);
    u2c_keep_loaded_drop(); /* every thread of the channel has been joined */
    return true;
}

static int canal_close(long handle)
{
    /* Called from a DllMain or a static destructor after ExitProcess ended
     * every other thread: a call they were inside never returns its use,
     * and a lock they held is never released (the heap's too), so waiting
     * for either would never end. Nothing is touched; Windows frees it all
     * and closes the adapter's handle as the process ends. */
    if (u2c_process_exiting())
        return CANAL_ERROR_SUCCESS;
    u2c_error_clear();
    u2c_lookup_miss miss = U2C_MISS_UNKNOWN;
    u2c_channel *ch = u2c_handles_begin_remove(&g_handles, handle, &miss);
    if (ch) {
        finish_close(handle, ch, U2C_DEADLINE_NEVER);
        return CANAL_ERROR_SUCCESS;
    }
    switch (miss) {
    case U2C_MISS_CLOSING: /* another thread is closing it: closed once that is done */
        u2c_handles_wait_closed(&g_handles, handle);
        return CANAL_ERROR_SUCCESS;
    case U2C_MISS_CLOSED: /* closed already: closing is idempotent, as the vendor's */
        return CANAL_ERROR_SUCCESS;
    default:
        return u2c_fail(CANAL_ERROR_NOT_OPEN,
                        "CanalClose: handle %ld is not open (CanalOpen never returned it)", handle);
    }
}

int u2c_api_close_all(unsigned long wait_ms)
{
    long live[U2C_HANDLE_SLOTS];
    int n = u2c_handles_live(&g_handles, live, U2C_HANDLE_SLOTS);
    int left_open = 0;
    uint64_t deadline = u2c_deadline_after_ms(wait_ms);
    for (int i = 0; i < n; i++) {
        bool in_use = false;
        u2c_channel *ch = u2c_handles_begin_remove_unused(&g_handles, live[i], &in_use);
        if (in_use || (ch && !finish_close(live[i], ch, deadline)))
            left_open++;
    }
    return left_open;
}

/* Every code an export returns is one canal_results.h lists for it (and so
 * one canal.h and docs/canal-semantics.md list): a build with assertions
 * stops at the first that is not. */
static int checked(u2c_canal_function fn, int code)
{
    (void)fn; /* without assertions */
    assert(code >= 0 && code < 64 && (u2c_results_of(fn) >> code & 1u) != 0);
    return code;
}

/* --- calls on an open channel ---------------------------------------------- */

/* Defines the export `name` (parameters `params`, the first being `handle`)
 * that works on an open channel: it clears the calling thread's last error,
 * refuses a NULL `pointer` (PARAMETER, naming `what` it points to), acquires
 * the channel as `ch` (NOT_OPEN with a reason when the handle is not open),
 * returns what `call` returns and checks that code against canal_results.h. */
#define CHANNEL_EXPORT(name, params, pointer, what, call)                                          \
    int CANAL_CALL name params                                                                     \
    {                                                                                              \
        u2c_error_clear();                                                                         \
        if (!(pointer))                                                                            \
            return checked(U2C_FN_##name, u2c_fail(CANAL_ERROR_PARAMETER,                          \
                                                   #name ": the " what " pointer is NULL"));       \
        u2c_channel *ch = acquire(handle, #name);                                                  \
        if (!ch)                                                                                   \
            return checked(U2C_FN_##name, CANAL_ERROR_NOT_OPEN);                                   \
        int code = (call);                                                                         \
        release(handle);                                                                           \
        return checked(U2C_FN_##name, code);                                                       \
    }
#define NO_POINTER 1

/* The receive wait policy (wait_policy.h) around a blocking receive. */
static int receive_within(u2c_channel *ch, long handle, canalMsg *msg, unsigned long timeout)
{
    uint64_t deadline = u2c_receive_deadline(handle, timeout, u2c_now_ns());
    int code = u2c_channel_receive_until(ch, msg, deadline, timeout);
    u2c_receive_returned(handle, u2c_now_ns());
    return code;
}

/* A remote bus (socketcand) has the bit rate its server gave it. */
static int set_bitrate(u2c_channel *ch, long handle, unsigned long baudrate)
{
    if (u2c_link_is_socketcand(u2c_channel_link(ch)))
        return u2c_fail(CANAL_ERROR_NOT_SUPPORTED,
                        "CanalSetBaudrate: handle %ld is a remote bus; its bit rate is set by "
                        "the server that owns the adapter",
                        handle);
    return u2c_channel_set_bitrate(ch, baudrate);
}

CHANNEL_EXPORT(CanalSend, (long handle, const canalMsg *pCanalMsg), pCanalMsg, "message",
               u2c_channel_send(ch, pCanalMsg))
CHANNEL_EXPORT(CanalBlockingSend, (long handle, const canalMsg *pCanalMsg, unsigned long timeout),
               pCanalMsg, "message", u2c_channel_blocking_send(ch, pCanalMsg, timeout))
CHANNEL_EXPORT(CanalReceive, (long handle, canalMsg *pCanalMsg), pCanalMsg, "message",
               u2c_channel_receive(ch, pCanalMsg))
CHANNEL_EXPORT(CanalBlockingReceive, (long handle, canalMsg *pCanalMsg, unsigned long timeout),
               pCanalMsg, "message", receive_within(ch, handle, pCanalMsg, timeout))
CHANNEL_EXPORT(CanalGetStatus, (long handle, canalStatus *pCanalStatus), pCanalStatus, "status",
               u2c_channel_get_status(ch, pCanalStatus))
CHANNEL_EXPORT(CanalGetStatistics, (long handle, canalStatistics *pCanalStatistics),
               pCanalStatistics, "statistics", u2c_channel_get_statistics(ch, pCanalStatistics))
CHANNEL_EXPORT(CanalSetFilter, (long handle, unsigned long filter), NO_POINTER, "",
               u2c_channel_set_filter(ch, filter))
CHANNEL_EXPORT(CanalSetMask, (long handle, unsigned long mask), NO_POINTER, "",
               u2c_channel_set_mask(ch, mask))
CHANNEL_EXPORT(CanalSetFilters, (long handle, unsigned long count, const unsigned long *pairs),
               NO_POINTER, "", u2c_channel_set_filters(ch, count, pairs))
CHANNEL_EXPORT(CanalSetBaudrate, (long handle, unsigned long baudrate), NO_POINTER, "",
               set_bitrate(ch, handle, baudrate))

/* A count, not a code: an invalid handle has 0 frames (and a reason). */
int CANAL_CALL CanalDataAvailable(long handle)
{
    u2c_error_clear();
    u2c_channel *ch = acquire(handle, "CanalDataAvailable");
    if (!ch)
        return 0;
    int n = u2c_channel_data_available(ch);
    release(handle);
    return n;
}

unsigned long CANAL_CALL CanalGetLevel(long handle)
{
    u2c_error_clear();
    u2c_channel *ch = acquire(handle, "CanalGetLevel");
    if (!ch)
        return 0;
    release(handle);
    return CANAL_LEVEL_STANDARD;
}

CANAL_RECEIVE_HANDLE CANAL_CALL CanalGetReceiveHandle(long handle)
{
    u2c_error_clear();
    u2c_channel *ch = acquire(handle, "CanalGetReceiveHandle");
    if (!ch)
        return NULL;
    void *event = u2c_channel_receive_handle(ch);
    release(handle);
    if (!event)
        u2c_error_set("CanalGetReceiveHandle: no waitable receive object on this system; "
                      "use CanalBlockingReceive");
    return event;
}

int u2c_api_diagnostics(long handle, u2c_channel_diag *out)
{
    u2c_error_clear();
    if (!out)
        return u2c_fail(CANAL_ERROR_PARAMETER, "diagnostics: the output pointer is NULL");
    u2c_channel *ch = acquire(handle, "diagnostics");
    if (!ch)
        return CANAL_ERROR_NOT_OPEN;
    u2c_channel_diagnostics(ch, out);
    release(handle);
    return CANAL_ERROR_SUCCESS;
}

/* --- versions and descriptions -------------------------------------------- */

#define VERSION_BYTES(major, minor, sub)                                                           \
    ((unsigned long)(major) | (unsigned long)(minor) << 8 | (unsigned long)(sub) << 16)

unsigned long CANAL_CALL CanalGetVersion(void)
{
    u2c_error_clear();
    return VERSION_BYTES(CANAL_MAIN_VERSION, CANAL_MINOR_VERSION, CANAL_SUB_VERSION);
}

unsigned long CANAL_CALL CanalGetDllVersion(void)
{
    u2c_error_clear();
    return VERSION_BYTES(USB2CAN_VERSION_MAJOR, USB2CAN_VERSION_MINOR, USB2CAN_VERSION_SUB);
}

/* "fw;hw;canal;dll;usb2can" of the most recently opened live channel; zeros
 * for fw and hw when none is open. Per thread, so no caller sees another
 * thread's rewrite. */
const char *CANAL_CALL CanalGetVendorString(void)
{
    char *text = u2c_thread_slot_get(U2C_SLOT_VENDOR_STRING);
    u2c_error_clear();
    u8d_version v = {0, 0, 0, 0};
    long handle = u2c_handles_latest(&g_handles);
    u2c_channel *ch = handle ? u2c_handles_acquire(&g_handles, handle, NULL) : NULL;
    if (ch) {
        v = u2c_channel_version(ch);
        release(handle);
    }
    snprintf(text, U2C_THREAD_SLOT_BYTES, "%u.%u;%u.%u;%d.%d.%d;%d.%d.%d;usb2can", v.fw_major,
             v.fw_minor, v.hw_major, v.hw_minor, CANAL_MAIN_VERSION, CANAL_MINOR_VERSION,
             CANAL_SUB_VERSION, USB2CAN_VERSION_MAJOR, USB2CAN_VERSION_MINOR, USB2CAN_VERSION_SUB);
    return text;
}

const char *CANAL_CALL CanalGetDriverInfo(void)
{
    u2c_error_clear();
    return u2c_driver_info_xml();
}

/* --- usb2can extensions ---------------------------------------------------- */

const char *CANAL_CALL Usb2canGetLastError(void)
{
    return u2c_error_get();
}

unsigned long CANAL_CALL Usb2canGetLastErrorText(char *buf, unsigned long size)
{
    const char *text = u2c_error_get();
    size_t len = strlen(text);
    if (buf && size > 0) {
        size_t n = len < size - 1 ? len : size - 1;
        memcpy(buf, text, n);
        buf[n] = '\0';
    }
    return (unsigned long)len;
}

long CANAL_CALL Usb2canListAdapters(usb2canAdapterInfo *list, long max)
{
    u2c_error_clear();
    return u2c_list_adapters(list, max);
}

long CANAL_CALL Usb2canListAdaptersEx(usb2canAdapterInfoEx *list, long max)
{
    u2c_error_clear();
    return u2c_list_adapters_ex(list, max);
}

unsigned long CANAL_CALL Usb2canGetEnvironment(char *buf, unsigned long size)
{
    u2c_error_clear();
    return (unsigned long)u2c_environment_text(buf, buf != NULL ? size : 0);
}

long CANAL_CALL Usb2canScanBitrate(const char *setup, const usb2canScanOptions *options,
                                   usb2canScanResult *results, long max_results, long *count)
{
    u2c_error_clear();
    return u2c_scan_run(setup, options, results, max_results, count);
}

int CANAL_CALL CanalClose(long handle)
{
    return checked(U2C_FN_CanalClose, canal_close(handle));
}
