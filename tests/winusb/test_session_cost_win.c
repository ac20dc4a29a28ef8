/* Why the libusb session outlives the last close on Windows by 5 s: what a
 * CanalOpen costs with a session started for it and with one kept. Under
 * Wine no adapter is present, so each open starts libusb (or finds it
 * started), lists the USB devices and fails; that is the part the kept
 * session saves (the adapter's own open and commands cost the same either
 * way). Medians of ROUNDS opens each way are printed; the kept session must
 * be the faster, or it has no reason to exist (docs/windows.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "canal.h"
#include "link_libusb.h"
#include "osal.h"

#define ROUNDS 31

static int by_value(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static uint64_t timed_failed_open(void)
{
    uint64_t t0 = u2c_now_ns();
    assert_int_equal(CanalOpen("ED000200;500", 0), 0); /* no adapter under Wine */
    return u2c_now_ns() - t0;
}

static uint64_t median(uint64_t *ns)
{
    qsort(ns, ROUNDS, sizeof ns[0], by_value);
    return ns[ROUNDS / 2];
}

/* The two ways alternate round by round, so a busy machine slows both alike. */
static void test_kept_session_makes_reopening_cheaper(void **state)
{
    (void)state;
    uint64_t each[ROUNDS], kept[ROUNDS];
    for (int i = 0; i < ROUNDS; i++) {
        u2c_link_libusb_set_idle_ms(0);
        (void)timed_failed_open(); /* ends the session the last round kept */
        assert_false(u2c_link_libusb_session_alive());
        unsigned started = u2c_link_libusb_sessions_started();
        each[i] = timed_failed_open(); /* starts a session and ends it */
        assert_int_equal(u2c_link_libusb_sessions_started() - started, 1);
        u2c_link_libusb_set_idle_ms(5000);
        (void)timed_failed_open(); /* starts a session and keeps it */
        assert_true(u2c_link_libusb_session_alive());
        started = u2c_link_libusb_sessions_started();
        kept[i] = timed_failed_open(); /* finds it */
        assert_int_equal(u2c_link_libusb_sessions_started() - started, 0);
    }
    u2c_link_libusb_set_idle_ms(0);
    (void)timed_failed_open();
    assert_false(u2c_link_libusb_session_alive());
    uint64_t each_ns = median(each), kept_ns = median(kept);
    print_message("CanalOpen without an adapter (median of %d, alternating): session per open "
                  "%.3f ms, session kept %.3f ms\n",
                  ROUNDS, (double)each_ns / 1e6, (double)kept_ns / 1e6);
    assert_true(kept_ns < each_ns);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kept_session_makes_reopening_cheaper),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
