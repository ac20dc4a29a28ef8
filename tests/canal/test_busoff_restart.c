/* busoff=auto:N over virtual adapters on the paced bus: a node at another
 * rate drives the sender bus-off; with the option the channel re-opens the
 * adapter N ms later and the next frame gets through within N ms plus one
 * frame time (measured on the bus's own clock); without it the adapter stays
 * bus-off. Also the setup-string errors of the option. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "canal.h"
#include "canal_api.h"
#include "link_virtual.h"
#include "osal.h"
#include "usb2can.h"
#include "vbus.h"

#define MS 1000000ull
#define RESTART_MS 100u
/* Host-side latency allowed on top of N ms + one frame: the bus-off record
 * travels model -> channel -> restart thread -> OPEN on a loaded machine. */
#define HOST_SLACK_MS 15u

/* Written by the bus observer (virtual lock held), read under the same lock. */
typedef struct trace {
    int sender;             /* node index of VIRTUAL0 */
    uint64_t busoff_at;     /* end of the attempt that took it bus-off */
    uint64_t success_start; /* first acknowledged frame after that */
    uint64_t success_end;
    unsigned failures;
} trace;

static trace g_trace;

static void observe(void *ctx, const vbus_event *ev)
{
    vbus *bus = ctx;
    if (ev->sender != g_trace.sender)
        return;
    if (ev->outcome != VBUS_SENT) {
        g_trace.failures++;
        u8d_model_can_view v;
        u8d_model_can_state(vbus_node(bus, ev->sender), &v);
        if (v.bus_off && g_trace.busoff_at == 0)
            g_trace.busoff_at = ev->end_ns;
        return;
    }
    if (g_trace.busoff_at != 0 && g_trace.success_end == 0) {
        g_trace.success_start = ev->start_ns;
        g_trace.success_end = ev->end_ns;
    }
}

static void find_sender(u8d_model *m, uint64_t now_ns, void *ctx)
{
    (void)now_ns;
    *(u8d_model **)ctx = m;
}

static void install(vbus *bus, uint64_t now_ns, void *ctx)
{
    (void)now_ns;
    u8d_model *m = ctx;
    memset(&g_trace, 0, sizeof g_trace);
    g_trace.sender = -1;
    for (int i = 0; i < VBUS_MAX_NODES; i++)
        if (vbus_node(bus, i) == m)
            g_trace.sender = i;
    vbus_set_observer(bus, observe, bus);
}

static void uninstall(vbus *bus, uint64_t now_ns, void *ctx)
{
    (void)now_ns;
    *(trace *)ctx = g_trace;
    vbus_set_observer(bus, NULL, NULL);
}

static long open_ok(const char *setup, unsigned long flags)
{
    long h = CanalOpen(setup, flags);
    if (h <= 0)
        fail_msg("CanalOpen(\"%s\") failed: %s", setup, Usb2canGetLastError());
    return h;
}

static canalMsg frame(unsigned long id)
{
    canalMsg m;
    memset(&m, 0, sizeof m);
    m.id = id;
    m.sizeData = 2;
    m.data[0] = 0x11;
    m.data[1] = 0x22;
    return m;
}

/* Waits for a status message with this code (with code OK: the driver's
 * restart message, data[3] != 0, not the adapter's own OK records); false
 * after timeout_ms. */
static bool wait_status(long h, unsigned long code, unsigned long timeout_ms, canalMsg *out)
{
    uint64_t deadline = u2c_now_ns() + timeout_ms * MS;
    while (u2c_now_ns() < deadline) {
        canalMsg got;
        if (CanalBlockingReceive(h, &got, 50) != CANAL_ERROR_SUCCESS)
            continue;
        if ((got.flags & CANAL_IDFLAG_STATUS) && got.id == code &&
            (code != CANAL_STATUSMSG_OK || got.data[3] != 0)) {
            if (out)
                *out = got;
            return true;
        }
    }
    return false;
}

/* VIRTUAL0 (setup given) sends; VIRTUAL1 at 250 kbit/s destroys its frames
 * until it is bus-off, then leaves; VIRTUAL2 acknowledges and receives. */
static void drive_bus_off(const char *setup, long *sender, long *receiver)
{
    *sender = open_ok(setup, USB2CAN_FLAG_STATUS_FRAMES);
    long breaker = open_ok("VIRTUAL1;250", 0);
    *receiver = open_ok("VIRTUAL2;500", 0);
    u8d_model *m = NULL;
    assert_true(u2c_virtual_with_model(0, find_sender, &m));
    assert_true(u2c_virtual_with_bus(install, m));
    canalMsg first = frame(0x100);
    assert_int_equal(CanalSend(*sender, &first), CANAL_ERROR_SUCCESS);
    assert_true(wait_status(*sender, CANAL_STATUSMSG_BUSOFF, 2000, NULL));
    assert_int_equal(CanalClose(breaker), CANAL_ERROR_SUCCESS);
    canalMsg second = frame(0x200);
    assert_int_equal(CanalSend(*sender, &second), CANAL_ERROR_SUCCESS);
}

static void test_auto_restart_within_n_ms_plus_a_frame(void **state)
{
    (void)state;
    long a, c;
    drive_bus_off("VIRTUAL0;500;busoff=auto:100", &a, &c);
    canalMsg got;
    assert_int_equal(CanalBlockingReceive(c, &got, 2000), CANAL_ERROR_SUCCESS);
    /* The frame being sent at bus-off was dropped by the re-initialisation. */
    assert_int_equal(got.id, 0x200);
    canalMsg restarted;
    assert_true(wait_status(a, CANAL_STATUSMSG_OK, 1000, &restarted));
    assert_int_equal(restarted.data[3], 1);
    trace t;
    assert_true(u2c_virtual_with_bus(uninstall, &t));
    assert_int_equal(t.failures, 32); /* 32 bit errors: TEC 256 */
    assert_true(t.busoff_at != 0 && t.success_end > t.busoff_at);
    uint64_t frame_ns = t.success_end - t.success_start;
    uint64_t took = t.success_end - t.busoff_at;
    printf("bus-off to the next acknowledged frame: %.3f ms (limit %u ms + frame %.3f ms + "
           "%u ms host slack)\n",
           (double)took / 1e6, RESTART_MS, (double)frame_ns / 1e6, HOST_SLACK_MS);
    assert_true(took >= (uint64_t)RESTART_MS * MS);
    assert_true(took <= (uint64_t)(RESTART_MS + HOST_SLACK_MS) * MS + frame_ns);
    canalStatistics stats;
    assert_int_equal(CanalGetStatistics(a, &stats), CANAL_ERROR_SUCCESS);
    assert_int_equal(stats.cntBusOff, 1);
    canalStatus st;
    assert_int_equal(CanalGetStatus(a, &st), CANAL_ERROR_SUCCESS);
    assert_false(st.channel_status & CANAL_STATUS_BUS_OFF);
    assert_int_equal(CanalClose(a), CANAL_ERROR_SUCCESS);
    assert_int_equal(CanalClose(c), CANAL_ERROR_SUCCESS);
}

static void test_default_stays_bus_off(void **state)
{
    (void)state;
    long a, c;
    drive_bus_off("VIRTUAL0;500", &a, &c);
    canalMsg got;
    assert_int_equal(CanalBlockingReceive(c, &got, 3 * RESTART_MS), CANAL_ERROR_TIMEOUT);
    assert_false(wait_status(a, CANAL_STATUSMSG_OK, 100, NULL));
    trace t;
    assert_true(u2c_virtual_with_bus(uninstall, &t));
    assert_int_equal(t.success_end, 0);
    canalStatus st;
    assert_int_equal(CanalGetStatus(a, &st), CANAL_ERROR_SUCCESS);
    assert_true(st.channel_status & CANAL_STATUS_BUS_OFF);
    assert_int_equal(CanalClose(a), CANAL_ERROR_SUCCESS);
    assert_int_equal(CanalClose(c), CANAL_ERROR_SUCCESS);
}

static void expect_refused(const char *setup, const char *reason_part)
{
    assert_int_equal(CanalOpen(setup, 0), 0);
    const char *why = Usb2canGetLastError();
    if (strstr(why, reason_part) == NULL)
        fail_msg("'%s': reason '%s' lacks '%s'", setup, why, reason_part);
}

static void test_bad_options(void **state)
{
    (void)state;
    expect_refused("VIRTUAL0;500;busoff=auto:0", "busoff=auto:N: N must be 1..60000 ms");
    expect_refused("VIRTUAL0;500;busoff=auto:60001", "N must be 1..60000 ms");
    expect_refused("VIRTUAL0;500;busoff=sometimes", "busoff takes 'off' or 'auto:N'");
    expect_refused("VIRTUAL0;500;busoff=auto:x", "busoff=auto:N: N ");
    expect_refused("VIRTUAL0;500;busoff=off;busoff=auto:5", "busoff is already given in token 3");
    expect_refused("ED000200;500;errorframes=3", "ED000200 is not a virtual adapter");
    expect_refused("VIRTUAL0;500;errorframes=1000001", "errorframes must be 0 (off) .. 1000000");
    long h = open_ok("VIRTUAL0;500;BusOff = Auto:5;errorframes=0", 0);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auto_restart_within_n_ms_plus_a_frame),
        cmocka_unit_test(test_default_stays_bus_off),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
