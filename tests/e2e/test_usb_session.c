/* The libusb session outlives the last CanalClose for an idle time, so a
 * program that closes and opens again neither starts libusb nor lists every
 * USB device afresh; the idle session then ends by itself. Measures open
 * and close with the session ending at every close (as before) and kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "canal.h"
#include "link_libusb.h"
#include "model_rig.h"
#include "osal.h"
#include "usb2can.h"

#define CYCLES 20
#define IDLE_MS 1000u

static const mock_identity adapter_200 = {"ED000200", "USB2CAN converter", "edevices", 0xFF};

typedef struct timing {
    uint64_t open_ns;
    uint64_t close_ns;
} timing;

static timing cycles(unsigned n)
{
    timing t = {0, 0};
    for (unsigned i = 0; i < n; i++) {
        uint64_t t0 = u2c_now_ns();
        long h = CanalOpen("ED000200;500", 0);
        uint64_t t1 = u2c_now_ns();
        if (h <= 0)
            fail_msg("CanalOpen failed: %s", Usb2canGetLastError());
        assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
        t.open_ns += t1 - t0;
        t.close_ns += u2c_now_ns() - t1;
    }
    t.open_ns /= n;
    t.close_ns /= n;
    return t;
}

static void test_session_is_kept_between_opens_then_ends(void **state)
{
    rig_fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &adapter_200, U8D_FLAVOR_VENDOR, 500);

    /* Ending with every close: a session per open. */
    u2c_link_libusb_set_idle_ms(0);
    unsigned first = u2c_link_libusb_sessions_started();
    timing each = cycles(CYCLES);
    assert_int_equal(u2c_link_libusb_sessions_started() - first, CYCLES);
    assert_false(u2c_link_libusb_session_alive());

    /* Kept: one session for every open, alive after the last close. */
    u2c_link_libusb_set_idle_ms(IDLE_MS);
    first = u2c_link_libusb_sessions_started();
    timing kept = cycles(CYCLES);
    unsigned started = u2c_link_libusb_sessions_started() - first;
    if (started != 1)
        fail_msg("%u libusb sessions for %d open/close cycles", started, CYCLES);
    assert_true(u2c_link_libusb_session_alive());
    print_message("open/close (average of %d, emulated adapter): session per open %.3f / %.3f ms, "
                  "session kept %.3f / %.3f ms\n",
                  CYCLES, (double)each.open_ns / 1e6, (double)each.close_ns / 1e6,
                  (double)kept.open_ns / 1e6, (double)kept.close_ns / 1e6);

    /* Idle long enough, it ends by itself; the next open starts another. */
    uint64_t deadline = u2c_deadline_after_ms(IDLE_MS + 3000);
    while (u2c_link_libusb_session_alive() && u2c_now_ns() < deadline)
        u2c_sleep_ms(20);
    assert_false(u2c_link_libusb_session_alive());
    first = u2c_link_libusb_sessions_started();
    u2c_link_libusb_set_idle_ms(0); /* this one ends with the test */
    cycles(1);
    assert_int_equal(u2c_link_libusb_sessions_started() - first, 1);
    assert_false(u2c_link_libusb_session_alive());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_session_is_kept_between_opens_then_ends,
                                        rig_fixture_setup, rig_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
