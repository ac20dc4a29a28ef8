/*
 * The pure half of discovery, on every platform: reading a Windows instance
 * ID, judging a driver, and the exact sentences built from a scan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "discover.h"
#include "discover_rules.h"

/* The layout usb2can.h promises to ctypes and C# callers. */
static void test_adapter_info_layout(void **state)
{
    (void)state;
    assert_int_equal(offsetof(usb2canAdapterInfo, serial), 0);
    assert_int_equal(offsetof(usb2canAdapterInfo, driver), 33);
    assert_int_equal(offsetof(usb2canAdapterInfo, flags), 64);
    assert_int_equal(offsetof(usb2canAdapterInfo, description), 64 + sizeof(unsigned long));
#if defined(_WIN32)
    assert_int_equal(sizeof(usb2canAdapterInfo), 132);
#else
    assert_int_equal(sizeof(usb2canAdapterInfo), 136);
#endif
}

static void test_instance_id_gives_upper_case_serial(void **state)
{
    (void)state;
    char serial[33];
    char location[160];
    assert_true(u2c_parse_instance_id("USB\\VID_0483&PID_1234\\ED000200", serial, sizeof serial,
                                      location, sizeof location));
    assert_string_equal(serial, "ED000200");
    assert_string_equal(location, "");
    assert_true(u2c_parse_instance_id("usb\\vid_0483&pid_1234\\ed000400", serial, sizeof serial,
                                      location, sizeof location));
    assert_string_equal(serial, "ED000400");
}

static void test_instance_id_with_ampersand_is_a_port_id(void **state)
{
    (void)state;
    char serial[33] = "stale";
    char location[160];
    assert_true(u2c_parse_instance_id("USB\\VID_0483&PID_1234\\5&2c8a51b&0&3", serial,
                                      sizeof serial, location, sizeof location));
    assert_string_equal(serial, "");
    assert_string_equal(location, "USB\\VID_0483&PID_1234\\5&2C8A51B&0&3");
}

static void test_instance_id_longer_than_a_setup_serial_is_not_a_serial(void **state)
{
    (void)state;
    char serial[33];
    char location[160];
    const char *id = "USB\\VID_0483&PID_1234\\0123456789ABCDEF0123456789ABCDEF0";
    assert_true(u2c_parse_instance_id(id, serial, sizeof serial, location, sizeof location));
    assert_string_equal(serial, "");
    assert_string_equal(location, id);
    assert_true(u2c_parse_instance_id("USB\\VID_0483&PID_1234\\0123456789ABCDEF0123456789ABCDEF",
                                      serial, sizeof serial, location, sizeof location));
    assert_string_equal(serial, "0123456789ABCDEF0123456789ABCDEF");
}

static void test_other_devices_are_not_usb2can(void **state)
{
    (void)state;
    char serial[33];
    char location[160];
    static const char *const others[] = {
        "USB\\VID_0483&PID_5740\\ED000999",      /* another product of the same vendor */
        "USB\\VID_0484&PID_1234\\ED000999",      /* another vendor */
        "USB\\VID_0483&PID_12345\\ED000999",     /* a longer PID */
        "USB\\VID_0483&PID_1234&MI_00\\6&1&0&0", /* a composite child */
        "USB\\VID_0483&PID_1234\\",              /* no instance part */
        "USB\\VID_0483&PID_1234\\A\\B",          /* malformed */
        "HID\\VID_0483&PID_1234\\ED000999",      /* another enumerator */
        "USB\\VID_0483",                         /* truncated */
        "",
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        if (u2c_parse_instance_id(others[i], serial, sizeof serial, location, sizeof location))
            fail_msg("'%s' was taken for a USB2CAN", others[i]);
        assert_string_equal(serial, "");
    }
    assert_false(u2c_parse_instance_id(NULL, serial, sizeof serial, location, sizeof location));
}

static void test_instance_id_output_is_truncated_not_overflowed(void **state)
{
    (void)state;
    struct {
        char serial[4];
        char guard[4];
    } buffer;
    memset(buffer.guard, 'G', sizeof buffer.guard);
    assert_true(u2c_parse_instance_id("USB\\VID_0483&PID_1234\\ED000200", buffer.serial,
                                      sizeof buffer.serial, NULL, 0));
    assert_string_equal(buffer.serial, "ED0");
    assert_memory_equal(buffer.guard, "GGGG", 4);
}

static void test_windows_drivers(void **state)
{
    (void)state;
    char problem[224];
    assert_true(u2c_windows_driver_usable("WinUSB", true, false, problem, sizeof problem));
    assert_string_equal(problem, "");
    assert_true(u2c_windows_driver_usable("winusb", true, false, problem, sizeof problem));
    assert_true(u2c_windows_driver_usable("libusbK", false, true, problem, sizeof problem));
    assert_true(u2c_windows_driver_usable("libusb0", false, true, problem, sizeof problem));

    assert_false(u2c_windows_driver_usable("WinUSB", false, true, problem, sizeof problem));
    assert_string_equal(problem, "is bound to WinUSB without a DeviceInterfaceGUIDs entry; "
                                 "reinstall WinUSB with Zadig");
    assert_false(u2c_windows_driver_usable("usb2can", true, true, problem, sizeof problem));
    assert_string_equal(problem,
                        "is bound to driver 'usb2can', not WinUSB; bind it to WinUSB with Zadig");
    assert_false(u2c_windows_driver_usable("", true, true, problem, sizeof problem));
    assert_string_equal(problem, "has no driver installed; bind it to WinUSB with Zadig");
    assert_false(u2c_windows_driver_usable(NULL, true, true, problem, sizeof problem));
    assert_string_equal(problem, "has no driver installed; bind it to WinUSB with Zadig");
}

/* libusb 1.0.26 reaches libusb0.sys and libusbK.sys only through
 * libusbK.dll, which Zadig's libusb-win32 package does not install. */
static void test_libusb0_and_libusbk_need_libusbk_dll(void **state)
{
    (void)state;
    char problem[224];
    assert_false(u2c_windows_driver_usable("libusb0", true, false, problem, sizeof problem));
    assert_string_equal(problem, "is bound to libusb-win32 (libusb0), which libusb reaches only "
                                 "through libusbK.dll, and libusbK.dll is not installed; pick "
                                 "WinUSB in Zadig (or install libusbK.dll)");
    assert_false(u2c_windows_driver_usable("libusbK", true, false, problem, sizeof problem));
    assert_string_equal(problem, "is bound to libusbK, but libusbK.dll is not installed; "
                                 "reinstall libusbK with Zadig, or pick WinUSB there");
    /* WinUSB never needs it. */
    assert_true(u2c_windows_driver_usable("WinUSB", true, false, problem, sizeof problem));
}

/* What Device Manager's problem codes and filter drivers become. */
static void test_windows_problem_codes(void **state)
{
    (void)state;
    char problem[224];
    assert_false(u2c_windows_problem(0, problem, sizeof problem));
    assert_string_equal(problem, "");
    assert_true(u2c_windows_problem(22, problem, sizeof problem));
    assert_string_equal(problem, "is disabled in Device Manager (code 22); enable it there");
    assert_true(u2c_windows_problem(10, problem, sizeof problem));
    assert_string_equal(problem, "could not be started by Windows (Device Manager code 10); "
                                 "unplug it and plug it in again, or reinstall WinUSB with Zadig");
    assert_true(u2c_windows_problem(14, problem, sizeof problem));
    assert_string_equal(problem,
                        "waits for Windows to restart (Device Manager code 14); restart Windows");
    assert_true(u2c_windows_problem(28, problem, sizeof problem));
    assert_string_equal(problem, "has no driver installed (Device Manager code 28); bind it to "
                                 "WinUSB with Zadig");
    assert_true(u2c_windows_problem(31, problem, sizeof problem));
    assert_string_equal(problem, "has a problem Device Manager reports as code 31");
}

static void test_windows_filter_drivers(void **state)
{
    (void)state;
    char text[128];
    u2c_windows_filters(NULL, "", text, sizeof text);
    assert_string_equal(text, "");
    u2c_windows_filters("usbfilt\0", NULL, text, sizeof text);
    assert_string_equal(text, "has filter drivers (upper: 'usbfilt')");
    u2c_windows_filters("a\0", "libusb0\0b\0", text, sizeof text);
    assert_string_equal(text, "has filter drivers (upper: 'a'; lower: 'libusb0', 'b')");
    char small[16];
    u2c_windows_filters("averyveryverylongname\0", NULL, small, sizeof small);
    assert_int_equal(strlen(small), sizeof small - 1);
}

static void test_linux_drivers(void **state)
{
    (void)state;
    char problem[224];
    assert_true(u2c_linux_driver_usable("", "1-1.4:1.0", true, "/dev/bus/usb/001/004", problem,
                                        sizeof problem));
    assert_string_equal(problem, "");
    assert_true(u2c_linux_driver_usable("usbfs", "1-1.4:1.0", true, "/dev/bus/usb/001/004", problem,
                                        sizeof problem));
    assert_true(u2c_linux_driver_in_use("usbfs"));
    assert_false(u2c_linux_driver_in_use(""));
    assert_false(u2c_linux_driver_in_use("usb_8dev"));

    assert_false(u2c_linux_driver_usable("usb_8dev", "1-1.4:1.0", true, "/dev/bus/usb/001/004",
                                         problem, sizeof problem));
    assert_string_equal(problem, "is bound to the kernel driver 'usb_8dev' (SocketCAN); unbind it "
                                 "first: echo 1-1.4:1.0 > /sys/bus/usb/drivers/usb_8dev/unbind");
    assert_false(u2c_linux_driver_usable("", "1-2:1.0", false, "/dev/bus/usb/001/007", problem,
                                         sizeof problem));
    assert_string_equal(problem, "cannot be opened: no permission on /dev/bus/usb/001/007; add a "
                                 "udev rule giving your user access to USB device 0483:1234");
}

static void test_descriptions(void **state)
{
    (void)state;
    char text[64];
    u2c_clean_description(text, sizeof text, "@oem5.inf,%usb2can.devicedesc%;USB2CAN converter");
    assert_string_equal(text, "USB2CAN converter");
    u2c_clean_description(text, sizeof text, "USB2CAN; the real one");
    assert_string_equal(text, "USB2CAN; the real one");
    u2c_clean_description(text, sizeof text, "");
    assert_string_equal(text, "USB2CAN");
    u2c_clean_description(text, sizeof text, NULL);
    assert_string_equal(text, "USB2CAN");
}

/* ---- decisions on a scan made by hand ---- */

static u2c_scan scan;

static void add_hardware(const char *serial, const char *location, const char *driver,
                         unsigned long flags, const char *problem)
{
    u2c_found_adapter *a = &scan.adapter[scan.hardware++];
    memset(a, 0, sizeof *a);
    snprintf(a->info.serial, sizeof a->info.serial, "%s", serial);
    snprintf(a->location, sizeof a->location, "%s", location);
    snprintf(a->info.driver, sizeof a->info.driver, "%s", driver);
    snprintf(a->problem, sizeof a->problem, "%s", problem);
    a->info.flags = flags;
    scan.hardware_total = scan.count = scan.hardware;
}

static void add_virtual(void)
{
    for (unsigned i = 0; i < USB2CAN_VIRTUAL_ADAPTERS; i++) {
        u2c_found_adapter *a = &scan.adapter[scan.count++];
        memset(a, 0, sizeof *a);
        snprintf(a->info.serial, sizeof a->info.serial, "VIRTUAL%u", i);
        a->info.flags = USB2CAN_ADAPTER_VIRTUAL | USB2CAN_ADAPTER_USABLE;
    }
}

static int reset_scan(void **state)
{
    (void)state;
    memset(&scan, 0, sizeof scan);
    return 0;
}

#define USABLE USB2CAN_ADAPTER_USABLE
#define IN_USE USB2CAN_ADAPTER_IN_USE
#define VENDOR_PROBLEM "is bound to driver 'usb2can', not WinUSB; bind it to WinUSB with Zadig"
#define NO_DRIVER_PROBLEM "has no driver installed; bind it to WinUSB with Zadig"

static void test_only_serial_with_nothing_connected(void **state)
{
    (void)state;
    add_virtual();
    char serial[33] = "stale";
    char reason[512];
    assert_int_equal(u2c_decide_only_serial(&scan, serial, sizeof serial, reason, sizeof reason),
                     U2C_DISCOVER_NOT_FOUND);
    assert_string_equal(serial, "");
    assert_string_equal(reason,
                        "no USB2CAN adapter connected (virtual adapters: VIRTUAL0..VIRTUAL7)");
}

static void test_only_serial_picks_the_one_usable_free_adapter(void **state)
{
    (void)state;
    add_hardware("ED000200", "", "WinUSB", USABLE, "");
    add_hardware("ED000215", "", "usb2can", 0, VENDOR_PROBLEM);
    add_hardware("ED000301", "", "WinUSB", USABLE | IN_USE, "");
    add_virtual();
    char serial[33];
    char reason[512];
    assert_int_equal(u2c_decide_only_serial(&scan, serial, sizeof serial, reason, sizeof reason),
                     U2C_DISCOVER_OK);
    assert_string_equal(serial, "ED000200");
    assert_string_equal(reason, "");
}

static void test_only_serial_refuses_to_choose_between_several(void **state)
{
    (void)state;
    add_hardware("ED000200", "", "WinUSB", USABLE, "");
    add_hardware("ED000400", "", "libusbK", USABLE, "");
    add_hardware("", "USB\\VID_0483&PID_1234\\5&2C8A51B&0&3", "WinUSB", USABLE, "");
    add_virtual();
    char serial[33];
    char reason[512];
    assert_int_equal(u2c_decide_only_serial(&scan, serial, sizeof serial, reason, sizeof reason),
                     U2C_DISCOVER_SEVERAL);
    assert_string_equal(serial, "");
    assert_string_equal(reason, "several USB2CAN adapters connected (ED000200, ED000400, adapter "
                                "without serial (USB\\VID_0483&PID_1234\\5&2C8A51B&0&3)); name "
                                "one in the setup string");
}

static void test_only_serial_explains_every_unavailable_adapter(void **state)
{
    (void)state;
    add_hardware("ED000215", "", "usb2can", 0, VENDOR_PROBLEM);
    add_hardware("ED000216", "", "", 0, NO_DRIVER_PROBLEM);
    add_hardware("ED000301", "", "WinUSB", USABLE | IN_USE, "");
    char serial[33];
    char reason[512];
    assert_int_equal(u2c_decide_only_serial(&scan, serial, sizeof serial, reason, sizeof reason),
                     U2C_DISCOVER_DRIVER);
    assert_string_equal(reason,
                        "no USB2CAN adapter available: ED000215 " VENDOR_PROBLEM
                        "; ED000216 " NO_DRIVER_PROBLEM "; ED000301 is in use by another program");
}

static void test_only_serial_when_all_are_in_use(void **state)
{
    (void)state;
    add_hardware("ED000301", "", "WinUSB", USABLE | IN_USE, "");
    char serial[33];
    char reason[512];
    assert_int_equal(u2c_decide_only_serial(&scan, serial, sizeof serial, reason, sizeof reason),
                     U2C_DISCOVER_IN_USE);
    assert_string_equal(reason,
                        "no USB2CAN adapter available: ED000301 is in use by another program");
}

static void test_only_serial_with_a_serial_less_adapter(void **state)
{
    (void)state;
    add_hardware("", "USB\\VID_0483&PID_1234\\5&2C8A51B&0&3", "WinUSB",
                 USABLE | USB2CAN_ADAPTER_NO_SERIAL, "");
    char serial[33];
    char reason[512];
    assert_int_equal(u2c_decide_only_serial(&scan, serial, sizeof serial, reason, sizeof reason),
                     U2C_DISCOVER_NO_SERIAL);
    assert_string_equal(serial, "");
    assert_string_equal(reason, "the only usable USB2CAN adapter "
                                "(USB\\VID_0483&PID_1234\\5&2C8A51B&0&3) reports no serial "
                                "number, so it cannot be named in a setup string");
}

static void test_explain_each_state(void **state)
{
    (void)state;
    add_hardware("ED000200", "", "WinUSB", USABLE, "");
    add_hardware("ED000215", "", "usb2can", 0, VENDOR_PROBLEM);
    add_hardware("ED000301", "", "WinUSB", USABLE | IN_USE, "");
    add_virtual();
    char reason[512];
    assert_int_equal(u2c_decide_explain(&scan, "ed000215", reason, sizeof reason),
                     U2C_DISCOVER_DRIVER);
    assert_string_equal(reason, "ED000215 " VENDOR_PROBLEM);
    assert_int_equal(u2c_decide_explain(&scan, "ED000301", reason, sizeof reason),
                     U2C_DISCOVER_IN_USE);
    assert_string_equal(reason, "ED000301 is in use by another program");
    assert_int_equal(u2c_decide_explain(&scan, "ED000200", reason, sizeof reason), U2C_DISCOVER_OK);
    assert_string_equal(reason, "ED000200 is connected (WinUSB) and not in use");
    assert_int_equal(u2c_decide_explain(&scan, "virtual3", reason, sizeof reason), U2C_DISCOVER_OK);
    assert_string_equal(reason, "VIRTUAL3 is a virtual adapter");
    assert_int_equal(u2c_decide_explain(&scan, "ed000999", reason, sizeof reason),
                     U2C_DISCOVER_NOT_FOUND);
    assert_string_equal(reason, "no adapter with serial ED000999; connected: ED000200 (WinUSB), "
                                "ED000215 (usb2can), ED000301 (in use)");
}

static void test_explain_without_hardware(void **state)
{
    (void)state;
    add_virtual();
    char reason[512];
    assert_int_equal(u2c_decide_explain(&scan, "ED000215", reason, sizeof reason),
                     U2C_DISCOVER_NOT_FOUND);
    assert_string_equal(reason, "no adapter with serial ED000215; no USB2CAN adapter connected "
                                "(virtual adapters: VIRTUAL0..VIRTUAL7)");
}

static void test_explain_of_no_serial_is_the_serial_less_decision(void **state)
{
    (void)state;
    add_hardware("ED000200", "", "WinUSB", USABLE, "");
    char reason[512];
    assert_int_equal(u2c_decide_explain(&scan, "", reason, sizeof reason), U2C_DISCOVER_OK);
    assert_int_equal(u2c_decide_explain(&scan, NULL, reason, sizeof reason), U2C_DISCOVER_OK);
}

static void test_explain_names_linux_states_and_counts_the_rest(void **state)
{
    (void)state;
    add_hardware("ED000200", "", "", USABLE, "");
    add_hardware("ED000201", "", "usbfs", USABLE | IN_USE, "");
    add_hardware("", "USB port 1-1.4", "", 0, "cannot be opened: no permission");
    scan.hardware_total = 5;
    char reason[512];
    assert_int_equal(u2c_decide_explain(&scan, "X", reason, sizeof reason), U2C_DISCOVER_NOT_FOUND);
    assert_string_equal(reason, "no adapter with serial X; connected: ED000200 (free), ED000201 "
                                "(in use), adapter without serial (USB port 1-1.4) (no driver) "
                                "and 2 more");
}

static void test_reasons_are_truncated_safely(void **state)
{
    (void)state;
    for (int i = 0; i < 20; i++) {
        char serial[16];
        snprintf(serial, sizeof serial, "ED0003%02d", i);
        add_hardware(serial, "", "WinUSB", USABLE | IN_USE, "");
    }
    struct {
        char reason[40];
        char guard[8];
    } buffer;
    memset(buffer.guard, 'G', sizeof buffer.guard);
    char serial[33];
    assert_int_equal(
        u2c_decide_only_serial(&scan, serial, sizeof serial, buffer.reason, sizeof buffer.reason),
        U2C_DISCOVER_IN_USE);
    assert_int_equal(strlen(buffer.reason), sizeof buffer.reason - 1);
    assert_memory_equal(buffer.reason, "no USB2CAN adapter available: ED000300 ", 39);
    for (size_t i = 0; i < sizeof buffer.guard; i++)
        assert_int_equal(buffer.guard[i], 'G');
    assert_int_equal(u2c_decide_explain(&scan, "ED000310", buffer.reason, 0), U2C_DISCOVER_IN_USE);
}

/* Windows: the port number read as libusb 1.0.26 reads it, and the path. */
static void test_windows_port_path_rules(void **state)
{
    (void)state;
    unsigned port = 0;
    assert_true(u2c_windows_port_number("Port_#0004.Hub_#0003", NULL, 9, &port));
    assert_int_equal(port, 4);
    assert_true(u2c_windows_port_number(
        "USB2CAN converter", "PCIROOT(0)#PCI(1400)#USBROOT(0)#USB(2)#USB(3)#USBMI(0)", 9, &port));
    assert_int_equal(port, 3);
    assert_true(u2c_windows_port_number("", "", 7, &port));
    assert_int_equal(port, 7);
    assert_false(u2c_windows_port_number(NULL, NULL, -1, &port));

    assert_true(u2c_windows_is_root_hub("USB\\ROOT_HUB30\\4&1A2B3C&0&0"));
    assert_true(u2c_windows_is_root_hub("usb\\root_hub\\4&1&0"));
    assert_false(u2c_windows_is_root_hub("USB\\VID_05E3&PID_0610\\5&1&0&4"));
    assert_false(u2c_windows_is_root_hub(NULL));

    char path[32];
    const unsigned ports[] = {4, 2};
    u2c_format_port_path(path, sizeof path, 1, ports, 2);
    assert_string_equal(path, "1-4.2");
    u2c_format_port_path(path, sizeof path, 3, ports, 1);
    assert_string_equal(path, "3-4");
    u2c_format_port_path(path, sizeof path, 1, ports, 0);
    assert_string_equal(path, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adapter_info_layout),
        cmocka_unit_test(test_instance_id_gives_upper_case_serial),
        cmocka_unit_test(test_instance_id_with_ampersand_is_a_port_id),
        cmocka_unit_test(test_instance_id_longer_than_a_setup_serial_is_not_a_serial),
        cmocka_unit_test(test_other_devices_are_not_usb2can),
        cmocka_unit_test(test_instance_id_output_is_truncated_not_overflowed),
        cmocka_unit_test(test_windows_drivers),
        cmocka_unit_test(test_libusb0_and_libusbk_need_libusbk_dll),
        cmocka_unit_test(test_windows_problem_codes),
        cmocka_unit_test(test_windows_filter_drivers),
        cmocka_unit_test(test_linux_drivers),
        cmocka_unit_test(test_descriptions),
        cmocka_unit_test(test_windows_port_path_rules),
        cmocka_unit_test_setup(test_only_serial_with_nothing_connected, reset_scan),
        cmocka_unit_test_setup(test_only_serial_picks_the_one_usable_free_adapter, reset_scan),
        cmocka_unit_test_setup(test_only_serial_refuses_to_choose_between_several, reset_scan),
        cmocka_unit_test_setup(test_only_serial_explains_every_unavailable_adapter, reset_scan),
        cmocka_unit_test_setup(test_only_serial_when_all_are_in_use, reset_scan),
        cmocka_unit_test_setup(test_only_serial_with_a_serial_less_adapter, reset_scan),
        cmocka_unit_test_setup(test_explain_each_state, reset_scan),
        cmocka_unit_test_setup(test_explain_without_hardware, reset_scan),
        cmocka_unit_test_setup(test_explain_of_no_serial_is_the_serial_less_decision, reset_scan),
        cmocka_unit_test_setup(test_explain_names_linux_states_and_counts_the_rest, reset_scan),
        cmocka_unit_test_setup(test_reasons_are_truncated_safely, reset_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
