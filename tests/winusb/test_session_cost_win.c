/* Why the libusb session outlives the last close on Windows by 5 s: what a
 * CanalOpen costs with a session started for it and with one kept. Under
 * Wine no adapter is present, so each open starts libusb (or finds it
 * started), lists the USB devices and fails; that is the part the kept
 * session saves (the adapter's own open and commands cost the same either
 * way). Medians of CYCLES opens each way are printed; the kept session must
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

#define CYCLES 31

static int by_value(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static uint64_t median_open_ns(unsigned idle_ms)
{
    uint64_t ns[CYCLES];
    u2c_link_libusb_set_idle_ms(idle_ms);
    for (int i = 0; i < CYCLES; i++) {
        uint64_t t0 = u2c_now_ns();
        assert_int_equal(CanalOpen("ED000200;500", 0), 0); /* no adapter under Wine */
        ns[i] = u2c_now_ns() - t0;
    }
    qsort(ns, CYCLES, sizeof ns[0], by_value);
    return ns[CYCLES / 2];
}

static void test_kept_session_makes_reopening_cheaper(void **state)
{
    (void)state;
    unsigned first = u2c_link_libusb_sessions_started();
    uint64_t each = median_open_ns(0);
    assert_int_equal(u2c_link_libusb_sessions_started() - first, CYCLES);
    first = u2c_link_libusb_sessions_started();
    uint64_t kept = median_open_ns(5000);
    assert_int_equal(u2c_link_libusb_sessions_started() - first, 1);
    u2c_link_libusb_set_idle_ms(0);
    print_message("CanalOpen without an adapter (median of %d): session per open %.3f ms, "
                  "session kept %.3f ms\n",
                  CYCLES, (double)each / 1e6, (double)kept / 1e6);
    assert_true(kept < each);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kept_session_makes_reopening_cheaper),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
