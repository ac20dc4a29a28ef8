/* The libusb link on a machine with no adapter (Wine, or Linux without a
 * USB bus): opening fails cleanly with NOT_FOUND and a readable reason,
 * repeatedly, and the process-wide USB session comes and goes with it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "canal.h"
#include "link_libusb.h"
#include "osal.h"
#include "usb2can.h"

static void test_open_without_adapter_is_not_found(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++) {
        u2c_link_result result = U2C_LINK_OK;
        char reason[256] = "";
        uint64_t t0 = u2c_now_ns();
        assert_null(u2c_link_open_libusb("ED000200", &result, reason, sizeof reason));
        assert_int_equal(result, U2C_LINK_NOT_FOUND);
        print_message("reason: %s (%llu ms)\n", reason,
                      (unsigned long long)((u2c_now_ns() - t0) / 1000000u));
        /* Either "no USB2CAN with serial ED000200; none connected" or, with no
         * USB subsystem at all, "USB is not available ...". */
        assert_true(strstr(reason, "ED000200") || strstr(reason, "USB is not available"));
    }
}

static void test_bad_arguments_do_not_crash(void **state)
{
    (void)state;
    u2c_link_result result = U2C_LINK_OK;
    char reason[64] = "";
    assert_null(u2c_link_open_libusb(NULL, &result, reason, sizeof reason));
    assert_int_equal(result, U2C_LINK_NOT_FOUND);
    assert_string_equal(reason, "no serial number given");
    assert_null(u2c_link_open_libusb("ED000200", NULL, NULL, 0));
    char tiny[4];
    assert_null(u2c_link_open_libusb("ED000200", &result, tiny, sizeof tiny));
    assert_int_equal(strlen(tiny), 3); /* truncated, still terminated */
}

static void test_canal_open_without_adapter_fails_with_a_reason(void **state)
{
    (void)state;
    assert_int_equal(CanalOpen("ED000200;500", 0), 0);
    const char *why = Usb2canGetLastError();
    print_message("CanalOpen: %s\n", why);
    assert_true(strstr(why, "ED000200") || strstr(why, "USB is not available"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_without_adapter_is_not_found),
        cmocka_unit_test(test_bad_arguments_do_not_crash),
        cmocka_unit_test(test_canal_open_without_adapter_fails_with_a_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
