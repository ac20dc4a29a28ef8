/*
 * The exported CANAL entry points: argument checks, handle lookup, and a
 * call into the channel. Every entry clears the calling thread's last error
 * first and returns only codes 0..37.
 */
#include "canal_api.h"

#include <stdio.h>
#include <string.h>

#include "adapter_pick.h"
#include "canal.h"
#include "cfg_parse.h"
#include "driver_info.h"
#include "environment.h"
#include "handles.h"
#include "keep_loaded.h"
#include "last_error.h"
#include "link_open.h"
#include "link_socketcand.h"
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

static u2c_channel *open_channel(const u2c_setup *setup, unsigned long flags)
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
        return u2c_channel_open(link, setup, flags, &code);
    }
    snprintf(serial, sizeof serial, "%s", setup->serial);
    if (!serial[0] && !u2c_pick_only_adapter(serial, sizeof serial))
        return NULL;
    u2c_link *link = u2c_link_open(serial, &result, reason, sizeof reason);
    if (!link) {
        u2c_explain_link_failure(serial, result, reason);
        return NULL;
    }
    int code = CANAL_ERROR_SUCCESS;
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
    u2c_channel *ch = open_channel(&setup, flags);
    if (!ch) {
        u2c_handles_cancel(&g_handles, reservation);
        u2c_keep_loaded_drop();
        return 0;
    }
    return u2c_handles_publish(&g_handles, reservation, ch);
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

int CANAL_CALL CanalClose(long handle)
{
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
        u2c_channel *ch = u2c_handles_begin_remove(&g_handles, live[i], NULL);
        if (ch && !finish_close(live[i], ch, deadline))
            left_open++;
    }
    return left_open;
}

/* --- frames ---------------------------------------------------------------- */

int CANAL_CALL CanalSend(long handle, const canalMsg *pCanalMsg)
{
    u2c_error_clear();
    if (!pCanalMsg)
        return u2c_fail(CANAL_ERROR_PARAMETER, "CanalSend: the message pointer is NULL");
    u2c_channel *ch = acquire(handle, "CanalSend");
    if (!ch)
        return CANAL_ERROR_NOT_OPEN;
    int code = u2c_channel_send(ch, pCanalMsg);
    release(handle);
    return code;
}

int CANAL_CALL CanalBlockingSend(long handle, const canalMsg *pCanalMsg, unsigned long timeout)
{
    u2c_error_clear();
    if (!pCanalMsg)
        return u2c_fail(CANAL_ERROR_PARAMETER, "CanalBlockingSend: the message pointer is NULL");
    u2c_channel *ch = acquire(handle, "CanalBlockingSend");
    if (!ch)
        return CANAL_ERROR_NOT_OPEN;
    int code = u2c_channel_blocking_send(ch, pCanalMsg, timeout);
    release(handle);
    return code;
}

int CANAL_CALL CanalReceive(long handle, canalMsg *pCanalMsg)
{
    u2c_error_clear();
    if (!pCanalMsg)
        return u2c_fail(CANAL_ERROR_PARAMETER, "CanalReceive: the message pointer is NULL");
    u2c_channel *ch = acquire(handle, "CanalReceive");
    if (!ch)
        return CANAL_ERROR_NOT_OPEN;
    int code = u2c_channel_receive(ch, pCanalMsg);
    release(handle);
    return code;
}

int CANAL_CALL CanalBlockingReceive(long handle, canalMsg *pCanalMsg, unsigned long timeout)
{
    u2c_error_clear();
    if (!pCanalMsg)
        return u2c_fail(CANAL_ERROR_PARAMETER, "CanalBlockingReceive: the message pointer is NULL");
    u2c_channel *ch = acquire(handle, "CanalBlockingReceive");
    if (!ch)
        return CANAL_ERROR_NOT_OPEN;
    uint64_t deadline = u2c_receive_deadline(handle, timeout, u2c_now_ns());
    int code = u2c_channel_receive_until(ch, pCanalMsg, deadline, timeout);
    u2c_receive_returned(handle, u2c_now_ns());
    release(handle);
    return code;
}

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

/* --- state ----------------------------------------------------------------- */

int CANAL_CALL CanalGetStatus(long handle, canalStatus *pCanalStatus)
{
    u2c_error_clear();
    if (!pCanalStatus)
        return u2c_fail(CANAL_ERROR_PARAMETER, "CanalGetStatus: the status pointer is NULL");
    u2c_channel *ch = acquire(handle, "CanalGetStatus");
    if (!ch)
        return CANAL_ERROR_NOT_OPEN;
    int code = u2c_channel_get_status(ch, pCanalStatus);
    release(handle);
    return code;
}

int CANAL_CALL CanalGetStatistics(long handle, canalStatistics *pCanalStatistics)
{
    u2c_error_clear();
    if (!pCanalStatistics)
        return u2c_fail(CANAL_ERROR_PARAMETER,
                        "CanalGetStatistics: the statistics pointer is NULL");
    u2c_channel *ch = acquire(handle, "CanalGetStatistics");
    if (!ch)
        return CANAL_ERROR_NOT_OPEN;
    int code = u2c_channel_get_statistics(ch, pCanalStatistics);
    release(handle);
    return code;
}

int CANAL_CALL CanalSetFilter(long handle, unsigned long filter)
{
    u2c_error_clear();
    u2c_channel *ch = acquire(handle, "CanalSetFilter");
    if (!ch)
        return CANAL_ERROR_NOT_OPEN;
    int code = u2c_channel_set_filter(ch, filter);
    release(handle);
    return code;
}

int CANAL_CALL CanalSetMask(long handle, unsigned long mask)
{
    u2c_error_clear();
    u2c_channel *ch = acquire(handle, "CanalSetMask");
    if (!ch)
        return CANAL_ERROR_NOT_OPEN;
    int code = u2c_channel_set_mask(ch, mask);
    release(handle);
    return code;
}

int CANAL_CALL CanalSetFilters(long handle, unsigned long count, const unsigned long *pairs)
{
    u2c_error_clear();
    u2c_channel *ch = acquire(handle, "CanalSetFilters");
    if (!ch)
        return CANAL_ERROR_NOT_OPEN;
    int code = u2c_channel_set_filters(ch, count, pairs);
    release(handle);
    return code;
}

int CANAL_CALL CanalSetBaudrate(long handle, unsigned long baudrate)
{
    u2c_error_clear();
    u2c_channel *ch = acquire(handle, "CanalSetBaudrate");
    if (!ch)
        return CANAL_ERROR_NOT_OPEN;
    if (u2c_link_is_socketcand(u2c_channel_link(ch))) {
        release(handle);
        return u2c_fail(CANAL_ERROR_NOT_SUPPORTED,
                        "CanalSetBaudrate: handle %ld is a remote bus; its bit rate is set by "
                        "the server that owns the adapter",
                        handle);
    }
    int code = u2c_channel_set_bitrate(ch, baudrate);
    release(handle);
    return code;
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

unsigned long CANAL_CALL Usb2canGetEnvironment(char *buf, unsigned long size)
{
    u2c_error_clear();
    return (unsigned long)u2c_environment_text(buf, buf != NULL ? size : 0);
}
