/* What CanalOpen says when no adapter it could open had the serial: each
 * libusb error that kept a candidate closed has its own reason and result
 * (winusb/open_survey.h). On Windows, LIBUSB_ERROR_ACCESS is also what a
 * libusb-win32 adapter gives when libusbK.dll is missing; it used to be
 * reported as "in use" like LIBUSB_ERROR_BUSY. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <libusb.h>

#include "open_survey.h"

static u2c_link_result verdict_for(int libusb_error, bool windows, char *reason, size_t size)
{
    u2c_open_survey s;
    memset(&s, 0, sizeof s);
    u2c_survey_add_open_error(&s, libusb_error);
    return u2c_survey_verdict(&s, "ED000200", windows, reason, size);
}

static void test_each_open_error_has_its_own_reason(void **state)
{
    (void)state;
    char reason[512];
    assert_int_equal(verdict_for(LIBUSB_ERROR_BUSY, true, reason, sizeof reason), U2C_LINK_BUSY);
    assert_string_equal(reason, "no USB2CAN with serial ED000200; none could be opened; 1 more "
                                "in use by another program (LIBUSB_ERROR_BUSY)");
    assert_int_equal(verdict_for(LIBUSB_ERROR_ACCESS, true, reason, sizeof reason),
                     U2C_LINK_ACCESS);
    assert_string_equal(reason, "no USB2CAN with serial ED000200; none could be opened; 1 more "
                                "refused access (LIBUSB_ERROR_ACCESS): another program has it "
                                "open, or its driver is libusb-win32 or libusbK and libusbK.dll "
                                "is not installed (pick WinUSB in Zadig)");
    assert_int_equal(verdict_for(LIBUSB_ERROR_ACCESS, false, reason, sizeof reason),
                     U2C_LINK_ACCESS);
    assert_string_equal(reason, "no USB2CAN with serial ED000200; none could be opened; 1 more "
                                "not accessible (LIBUSB_ERROR_ACCESS: no permission; install a "
                                "udev rule for 0483:1234)");
    assert_int_equal(verdict_for(LIBUSB_ERROR_IO, true, reason, sizeof reason), U2C_LINK_IO);
    assert_string_equal(reason, "no USB2CAN with serial ED000200; none could be opened; 1 more "
                                "failed with an I/O error while being opened (LIBUSB_ERROR_IO): "
                                "unplug and plug it in again");
    assert_int_equal(verdict_for(LIBUSB_ERROR_NO_DEVICE, true, reason, sizeof reason),
                     U2C_LINK_NOT_FOUND);
    assert_string_equal(reason, "no USB2CAN with serial ED000200; none could be opened; 1 more "
                                "unplugged while being opened (LIBUSB_ERROR_NO_DEVICE)");
    assert_int_equal(verdict_for(LIBUSB_ERROR_NOT_SUPPORTED, true, reason, sizeof reason),
                     U2C_LINK_ACCESS);
    assert_string_equal(reason, "no USB2CAN with serial ED000200; none could be opened; 1 more "
                                "bound to a driver libusb cannot use (LIBUSB_ERROR_NOT_SUPPORTED: "
                                "bind it to WinUSB with Zadig)");
    assert_int_equal(verdict_for(LIBUSB_ERROR_NO_MEM, true, reason, sizeof reason), U2C_LINK_IO);
    assert_string_equal(reason, "no USB2CAN with serial ED000200; none could be opened; 1 more "
                                "could not be opened (LIBUSB_ERROR_NO_MEM)");
}

static void test_serials_read_and_errors_together(void **state)
{
    (void)state;
    u2c_open_survey s;
    memset(&s, 0, sizeof s);
    u2c_survey_add_serial(&s, "ED000201");
    u2c_survey_add_open_error(&s, LIBUSB_ERROR_BUSY);
    u2c_survey_add_open_error(&s, LIBUSB_ERROR_BUSY);
    u2c_survey_add_open_error(&s, LIBUSB_ERROR_IO);
    char reason[512];
    assert_int_equal(u2c_survey_verdict(&s, "ED000200", true, reason, sizeof reason),
                     U2C_LINK_BUSY);
    assert_string_equal(reason, "no USB2CAN with serial ED000200; connected: ED000201; 1 more "
                                "failed with an I/O error while being opened (LIBUSB_ERROR_IO): "
                                "unplug and plug it in again; 2 more in use by another program "
                                "(LIBUSB_ERROR_BUSY)");
    /* Nothing at all. */
    memset(&s, 0, sizeof s);
    assert_int_equal(u2c_survey_verdict(&s, "ED000200", true, reason, sizeof reason),
                     U2C_LINK_NOT_FOUND);
    assert_string_equal(reason, "no USB2CAN with serial ED000200; none connected");
    /* A short buffer is cut, never overrun. */
    char small[24];
    memset(&s, 0, sizeof s);
    u2c_survey_add_open_error(&s, LIBUSB_ERROR_ACCESS);
    u2c_survey_verdict(&s, "ED000200", true, small, sizeof small);
    assert_int_equal(strlen(small), sizeof small - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_open_error_has_its_own_reason),
        cmocka_unit_test(test_serials_read_and_errors_together),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
