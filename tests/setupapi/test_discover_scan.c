/*
 * Discovery against the operating system. On Windows (run under Wine in a
 * private prefix) the registry is seeded with fake adapters — several
 * serials, WinUSB / libusbK / a vendor service / no driver, a lower-case
 * instance ID, a Windows-made port ID, a WinUSB install without interface
 * GUIDs, other USB devices — and the list, the serial-less decision and
 * the error sentences are asserted exactly. Elsewhere libusb finds no
 * USB2CAN on this machine: the virtual adapters alone are listed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "canal.h"
#include "discover.h"
#include "open_here.h"
#include "usb2can.h"

static void assert_virtual_tail(const usb2canAdapterInfo *list, long hardware)
{
    for (long i = 0; i < USB2CAN_VIRTUAL_ADAPTERS; i++) {
        char name[16];
        snprintf(name, sizeof name, "VIRTUAL%ld", i);
        assert_string_equal(list[hardware + i].serial, name);
        assert_string_equal(list[hardware + i].driver, "virtual");
        assert_int_equal(list[hardware + i].flags,
                         USB2CAN_ADAPTER_VIRTUAL | USB2CAN_ADAPTER_USABLE);
    }
}

static void test_bad_arguments_are_refused_with_a_reason(void **state)
{
    (void)state;
    char reason[256];
    usb2canAdapterInfo one;
    assert_int_equal(u2c_discover_list(NULL, 3, reason, sizeof reason), -1);
    assert_string_equal(reason, "list is NULL but max is 3");
    assert_int_equal(u2c_discover_list(&one, -1, reason, sizeof reason), -1);
    assert_string_equal(reason, "max is negative (-1)");
}

static void test_count_only_matches_the_full_list(void **state)
{
    (void)state;
    char reason[256];
    long total = u2c_discover_list(NULL, 0, reason, sizeof reason);
    assert_true(total >= USB2CAN_VIRTUAL_ADAPTERS);
    usb2canAdapterInfo list[U2C_SCAN_MAX];
    memset(list, 0x5A, sizeof list);
    assert_int_equal(u2c_discover_list(list, 2, reason, sizeof reason), total);
    /* Nothing past max is written. */
    unsigned char untouched[sizeof list[2]];
    memset(untouched, 0x5A, sizeof untouched);
    assert_memory_equal(&list[2], untouched, sizeof untouched);
}

#if defined(_WIN32)
#include <windows.h>

#include "hw_scan.h"
#include "link_libusb.h"
#include "seed_devices.h"

/* libusbK.dll in the system directory, where libusb looks for it. Its
 * contents do not matter to discovery, which only asks whether it is there. */
static bool libusbk_dll_path(char *path, size_t size)
{
    UINT n = GetSystemDirectoryA(path, (UINT)size);
    return n > 0 && n < size && snprintf(path + n, size - n, "\\libusbK.dll") > 0;
}

static bool place_libusbk_dll(void)
{
    char path[MAX_PATH + 16];
    if (!libusbk_dll_path(path, sizeof path))
        return false;
    HANDLE f =
        CreateFileA(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (f == INVALID_HANDLE_VALUE) {
        printf("cannot create %s (error %lu)\n", path, (unsigned long)GetLastError());
        return false;
    }
    DWORD written = 0;
    WriteFile(f, "MZ", 2, &written, NULL);
    CloseHandle(f);
    return true;
}

static void remove_libusbk_dll(void)
{
    char path[MAX_PATH + 16];
    if (libusbk_dll_path(path, sizeof path))
        DeleteFileA(path);
}

#define WINUSB_DESC "@oem5.inf,%usb2can.devicedesc%;USB2CAN converter"

static const seed_device all_kinds[] = {
    {"USB\\VID_0483&PID_1234\\ED000301", "WinUSB", WINUSB_DESC, NULL, true, SEED_INTERFACE_HELD},
    {"USB\\VID_0483&PID_1234\\ED000200", "WinUSB", WINUSB_DESC, NULL, true, SEED_INTERFACE_FREE},
    {"USB\\VID_0483&PID_1234\\ED000215", "usb2can", "USB2CAN", NULL, false,
     SEED_INTERFACE_NO_OBJECT},
    {"USB\\VID_0483&PID_1234\\ED000216", NULL, "USB2CAN converter", NULL, false, SEED_NO_INTERFACE},
    {"USB\\VID_0483&PID_1234\\ed000400", "libusbK", "USB2CAN converter", "USB2CAN (libusbK)", true,
     SEED_INTERFACE_NO_OBJECT},
    {"USB\\VID_0483&PID_1234\\5&2c8a51b&0&3", "WinUSB", WINUSB_DESC, NULL, true,
     SEED_INTERFACE_NO_OBJECT},
    {"USB\\VID_0483&PID_1234\\ED000500", "WinUSB", WINUSB_DESC, NULL, false,
     SEED_INTERFACE_NO_OBJECT},
    {"USB\\VID_0483&PID_5740\\ED000999", "usbser", "STM32 Virtual COM Port", NULL, false,
     SEED_INTERFACE_NO_OBJECT},
    {"USB\\VID_0483&PID_1234&MI_00\\6&1a2b3c&0&0000", "WinUSB", "composite child", NULL, true,
     SEED_NO_INTERFACE},
    {"USB\\VID_046D&PID_C52B\\5&11ae6d8&0&1", "usbccgp", "USB Composite Device", NULL, false,
     SEED_INTERFACE_NO_OBJECT},
};
#define ALL_KINDS (sizeof all_kinds / sizeof all_kinds[0])

static const seed_device one_usable[] = {
    {"USB\\VID_0483&PID_1234\\ED000215", "usb2can", "USB2CAN", NULL, false,
     SEED_INTERFACE_NO_OBJECT},
    {"USB\\VID_0483&PID_1234\\ED000301", "WinUSB", WINUSB_DESC, NULL, true, SEED_INTERFACE_HELD},
    {"USB\\VID_0483&PID_1234\\ED000200", "WinUSB", WINUSB_DESC, NULL, true, SEED_INTERFACE_FREE},
};
#define ONE_USABLE (sizeof one_usable / sizeof one_usable[0])

static const seed_device none_usable[] = {
    {"USB\\VID_0483&PID_1234\\ED000215", "usb2can", "USB2CAN", NULL, false,
     SEED_INTERFACE_NO_OBJECT},
    {"USB\\VID_0483&PID_1234\\ED000216", NULL, "USB2CAN converter", NULL, false, SEED_NO_INTERFACE},
    {"USB\\VID_0483&PID_1234\\ED000301", "WinUSB", WINUSB_DESC, NULL, true, SEED_INTERFACE_HELD},
};
#define NONE_USABLE (sizeof none_usable / sizeof none_usable[0])

static const seed_device only_port_id[] = {
    {"USB\\VID_0483&PID_1234\\5&2c8a51b&0&3", "WinUSB", WINUSB_DESC, NULL, true,
     SEED_INTERFACE_FREE},
};
#define ONLY_PORT_ID (sizeof only_port_id / sizeof only_port_id[0])

/* The libusbK adapter among them is usable: libusbK.dll is installed. */
static int seed_all_kinds(void **state)
{
    (void)state;
    return place_libusbk_dll() && seed_devices(all_kinds, ALL_KINDS) ? 0 : -1;
}
static int clear_all_kinds(void **state)
{
    (void)state;
    seed_clear(all_kinds, ALL_KINDS);
    remove_libusbk_dll();
    return 0;
}

/* A WinUSB install whose DeviceInterfaceGUIDs holds several GUIDs (libusb
 * uses the first), longer than any fixed buffer. */
static const seed_device many_guids[] = {
    {"USB\\VID_0483&PID_1234\\ED000700", "WinUSB", WINUSB_DESC, NULL, true, SEED_INTERFACE_FREE},
};
#define MANY_GUIDS (sizeof many_guids / sizeof many_guids[0])

static int seed_many_guids(void **state)
{
    (void)state;
    static const char guids[] = "{11111111-2222-3333-4444-555555555555}\0"
                                "{66666666-7777-8888-9999-AAAAAAAAAAAA}\0"
                                "{BBBBBBBB-CCCC-DDDD-EEEE-FFFFFFFFFFFF}\0"
                                "{3C6D21E6-8C5B-4C7E-9F2A-0D1E2F3A4B5C}\0"
                                "{0A0B0C0D-1E2F-3A4B-5C6D-7E8F90A1B2C3}\0";
    return seed_devices(many_guids, MANY_GUIDS) &&
                   seed_device_value(many_guids[0].instance_id, "Device Parameters",
                                     "DeviceInterfaceGUIDs", REG_MULTI_SZ, guids, sizeof guids)
               ? 0
               : -1;
}
static int clear_many_guids(void **state)
{
    (void)state;
    seed_clear(many_guids, MANY_GUIDS);
    return 0;
}

/* An instance ID without serial: the serial comes from the string
 * descriptor (on Windows through the parent hub; here a reader standing in
 * for the hub, which Wine does not have). */
static bool descriptor_says_ed000800(const char *instance_id, char *serial, size_t size)
{
    if (strcmp(instance_id, "USB\\VID_0483&PID_1234\\5&2C8A51B&0&3") != 0)
        return false;
    snprintf(serial, size, "ed000800");
    return true;
}

static void test_serial_from_the_descriptor_when_the_id_has_none(void **state)
{
    (void)state;
    u2c_hw_set_serial_reader(descriptor_says_ed000800);
    usb2canAdapterInfo list[U2C_SCAN_MAX];
    char reason[512];
    long n = u2c_discover_list(list, U2C_SCAN_MAX, reason, sizeof reason);
    char serial[33];
    int verdict = u2c_discover_only_serial(serial, sizeof serial, reason, sizeof reason);
    u2c_hw_set_serial_reader(NULL);
    assert_int_equal(n, 1 + USB2CAN_VIRTUAL_ADAPTERS);
    assert_string_equal(list[0].serial, "ED000800");
    assert_int_equal(list[0].flags, USB2CAN_ADAPTER_USABLE);
    assert_int_equal(verdict, U2C_DISCOVER_OK);
    assert_string_equal(serial, "ED000800");
}

/* Issue 20, item 1: an adapter whose instance ID Windows made from the port
 * (no serial, one Windows rejects, or one another device repeats) is still
 * "attached" for the USB link's presence check, identified by the serial
 * its descriptor gave, as the open identified it: otherwise every command
 * or transfer error reads "was unplugged". */
static void test_attached_knows_an_adapter_by_its_port_made_id(void **state)
{
    (void)state;
    u2c_hw_set_serial_reader(descriptor_says_ed000800);
    usb2canAdapterInfo list[U2C_SCAN_MAX];
    char reason[512];
    long n = u2c_discover_list(list, U2C_SCAN_MAX, reason, sizeof reason);
    u2c_hw_set_serial_reader(NULL);
    assert_int_equal(n, 1 + USB2CAN_VIRTUAL_ADAPTERS);
    /* The link asks from its event thread, which may not read descriptors. */
    assert_true(u2c_discover_attached("ED000800"));
    assert_true(u2c_discover_attached("ed000800"));
    assert_false(u2c_discover_attached("ED000801"));
}

/* What the opening thread runs before libusb opens: it learns the serial
 * of every port-made ID without a scan. */
static bool descriptor_says_ed000900(const char *instance_id, char *serial, size_t size)
{
    if (strcmp(instance_id, "USB\\VID_0483&PID_1234\\5&2C8A51B&0&3") != 0)
        return false;
    snprintf(serial, size, "ED000900");
    return true;
}

static void test_learned_before_open_the_check_identifies_it(void **state)
{
    (void)state;
    /* Another adapter now sits on that port: the open learns it afresh. */
    u2c_hw_set_serial_reader(descriptor_says_ed000900);
    u2c_discover_learn_serials();
    u2c_hw_set_serial_reader(NULL);
    assert_true(u2c_discover_attached("ED000900"));
    assert_false(u2c_discover_attached("ED000800"));
}

/* Once it is gone, it is not attached any more. */
static void test_port_made_id_unplugged_is_not_attached(void **state)
{
    (void)state;
    assert_false(u2c_discover_attached("ED000800"));
}

/* Issue 20, item 6: an adapter this process holds is open in this program,
 * with its handle, not "in use by another program"; the query-only probe
 * is not even made. */
static void test_adapter_held_here_is_reported_as_open_here(void **state)
{
    (void)state;
    static const int key = 0;
    u2c_open_here_add(&key, "ED000301", "1-4");
    u2c_open_here_set_handle(&key, 1683);
    char reason[512];
    int verdict = u2c_discover_explain("ED000301", reason, sizeof reason);
    int other = u2c_discover_explain("ED000200", reason + 256, sizeof reason - 256);
    u2c_open_here_remove(&key);
    assert_int_equal(verdict, U2C_DISCOVER_IN_USE);
    assert_string_equal(reason, "ED000301 is already open in this program (handle 1683)");
    assert_int_equal(other, U2C_DISCOVER_OK);
    char again[256];
    assert_int_equal(u2c_discover_explain("ED000301", again, sizeof again), U2C_DISCOVER_IN_USE);
    assert_string_equal(again, "ED000301 is in use by another program");
}

/* Filter drivers are named wherever the adapter is. */
static void test_filter_drivers_are_named(void **state)
{
    (void)state;
    static const char upper[] = "usbfilt\0";
    static const char lower[] = "libusb0\0other\0";
    assert_true(seed_device_value(many_guids[0].instance_id, NULL, "UpperFilters", REG_MULTI_SZ,
                                  upper, sizeof upper));
    assert_true(seed_device_value(many_guids[0].instance_id, NULL, "LowerFilters", REG_MULTI_SZ,
                                  lower, sizeof lower));
    char reason[512];
    assert_int_equal(u2c_discover_explain("ED000700", reason, sizeof reason), U2C_DISCOVER_OK);
    assert_string_equal(reason, "ED000700 is connected (WinUSB) and not in use; it has filter "
                                "drivers (upper: 'usbfilt'; lower: 'libusb0', 'other')");
}

/* Listing such an install usable is true only with a libusb that reads the
 * whole value: 1.0.26 read a fixed 40 bytes and failed on a second GUID
 * (libusb issue 1307), 1.0.27 reads the list. */
static void test_interface_guids_of_any_length(void **state)
{
    (void)state;
    char version[64];
    unsigned major = 0, minor = 0, micro = 0;
    u2c_libusb_version_text(version, sizeof version);
    assert_int_equal(sscanf(version, "%u.%u.%u", &major, &minor, &micro), 3);
    if (major * 10000 + minor * 100 + micro < 10027)
        fail_msg("libusb %s cannot open a WinUSB device with several DeviceInterfaceGUIDs; "
                 "the build needs 1.0.27 or later (scripts/bootstrap.sh)",
                 version);
    usb2canAdapterInfo list[U2C_SCAN_MAX];
    char reason[512];
    assert_int_equal(u2c_discover_list(list, U2C_SCAN_MAX, reason, sizeof reason),
                     1 + USB2CAN_VIRTUAL_ADAPTERS);
    assert_string_equal(list[0].serial, "ED000700");
    if (list[0].flags != USB2CAN_ADAPTER_USABLE) {
        u2c_discover_explain("ED000700", reason, sizeof reason);
        fail_msg("flags 0x%lx: %s", list[0].flags, reason);
    }
}

/* An adapter Zadig bound to libusb-win32. */
static const seed_device libusb0_only[] = {
    {"USB\\VID_0483&PID_1234\\ED000600", "libusb0", "USB2CAN converter", "USB2CAN (libusb-win32)",
     false, SEED_INTERFACE_NO_OBJECT},
};
#define LIBUSB0_ONLY (sizeof libusb0_only / sizeof libusb0_only[0])

static int seed_libusb0_only(void **state)
{
    (void)state;
    remove_libusbk_dll();
    return seed_devices(libusb0_only, LIBUSB0_ONLY) ? 0 : -1;
}
static int clear_libusb0_only(void **state)
{
    (void)state;
    seed_clear(libusb0_only, LIBUSB0_ONLY);
    remove_libusbk_dll();
    return 0;
}
static int seed_one_usable(void **state)
{
    (void)state;
    return seed_devices(one_usable, ONE_USABLE) ? 0 : -1;
}
static int clear_one_usable(void **state)
{
    (void)state;
    seed_clear(one_usable, ONE_USABLE);
    return 0;
}
static int seed_none_usable(void **state)
{
    (void)state;
    return seed_devices(none_usable, NONE_USABLE) ? 0 : -1;
}
static int clear_none_usable(void **state)
{
    (void)state;
    seed_clear(none_usable, NONE_USABLE);
    return 0;
}
static int seed_only_port_id(void **state)
{
    (void)state;
    return seed_devices(only_port_id, ONLY_PORT_ID) ? 0 : -1;
}
static int clear_only_port_id(void **state)
{
    (void)state;
    seed_clear(only_port_id, ONLY_PORT_ID);
    return 0;
}
/* Nothing seeded: also clears whatever an interrupted run left. */
static int clear_everything(void **state)
{
    (void)state;
    seed_clear(all_kinds, ALL_KINDS);
    return 0;
}

struct expected_adapter {
    const char *serial;
    const char *driver;
    unsigned long flags;
    const char *description;
};

#define USABLE USB2CAN_ADAPTER_USABLE
#define IN_USE USB2CAN_ADAPTER_IN_USE
#define NO_SERIAL USB2CAN_ADAPTER_NO_SERIAL

static void test_list_of_every_kind(void **state)
{
    (void)state;
    static const struct expected_adapter expected[] = {
        {"ED000200", "WinUSB", USABLE, "USB2CAN converter"},
        {"ED000215", "usb2can", 0, "USB2CAN"},
        {"ED000216", "", 0, "USB2CAN converter"},
        {"ED000301", "WinUSB", USABLE | IN_USE, "USB2CAN converter"},
        {"ED000400", "libusbK", USABLE, "USB2CAN (libusbK)"},
        {"ED000500", "WinUSB", 0, "USB2CAN converter"},
        {"", "WinUSB", USABLE | NO_SERIAL, "USB2CAN converter"},
    };
    const long hardware = sizeof expected / sizeof expected[0];
    usb2canAdapterInfo list[U2C_SCAN_MAX];
    char reason[256];
    assert_int_equal(u2c_discover_list(NULL, 0, reason, sizeof reason),
                     hardware + USB2CAN_VIRTUAL_ADAPTERS);
    assert_int_equal(u2c_discover_list(list, U2C_SCAN_MAX, reason, sizeof reason),
                     hardware + USB2CAN_VIRTUAL_ADAPTERS);
    assert_string_equal(reason, "");
    for (long i = 0; i < hardware; i++) {
        assert_string_equal(list[i].serial, expected[i].serial);
        assert_string_equal(list[i].driver, expected[i].driver);
        assert_string_equal(list[i].description, expected[i].description);
        if (list[i].flags != expected[i].flags)
            fail_msg("%s: flags 0x%lx, expected 0x%lx", expected[i].serial, list[i].flags,
                     expected[i].flags);
    }
    assert_virtual_tail(list, hardware);
}

static void test_serial_less_open_refuses_to_choose(void **state)
{
    (void)state;
    char serial[33] = "stale";
    char reason[512];
    assert_int_equal(u2c_discover_only_serial(serial, sizeof serial, reason, sizeof reason),
                     U2C_DISCOVER_SEVERAL);
    assert_string_equal(serial, "");
    assert_string_equal(reason, "several USB2CAN adapters connected (ED000200, ED000400, adapter "
                                "without serial (USB\\VID_0483&PID_1234\\5&2C8A51B&0&3)); name "
                                "one in the setup string");
}

static void test_open_errors_of_every_kind(void **state)
{
    (void)state;
    char reason[512];
    assert_int_equal(u2c_discover_explain("ED000215", reason, sizeof reason), U2C_DISCOVER_DRIVER);
    assert_string_equal(
        reason, "ED000215 is bound to driver 'usb2can', not WinUSB; bind it to WinUSB with Zadig");
    assert_int_equal(u2c_discover_explain("ed000216", reason, sizeof reason), U2C_DISCOVER_DRIVER);
    assert_string_equal(reason, "ED000216 has no driver installed; bind it to WinUSB with Zadig");
    assert_int_equal(u2c_discover_explain("ED000301", reason, sizeof reason), U2C_DISCOVER_IN_USE);
    assert_string_equal(reason, "ED000301 is in use by another program");
    assert_int_equal(u2c_discover_explain("ED000500", reason, sizeof reason), U2C_DISCOVER_DRIVER);
    assert_string_equal(reason, "ED000500 is bound to WinUSB without a DeviceInterfaceGUIDs "
                                "entry; reinstall WinUSB with Zadig");
    assert_int_equal(u2c_discover_explain("ED000200", reason, sizeof reason), U2C_DISCOVER_OK);
    assert_string_equal(reason, "ED000200 is connected (WinUSB) and not in use");
    assert_int_equal(u2c_discover_explain("ED000400", reason, sizeof reason), U2C_DISCOVER_OK);
    assert_string_equal(reason, "ED000400 is connected (libusbK) and not in use");
    /* Serials of other devices are not USB2CAN serials. */
    assert_int_equal(u2c_discover_explain("ED000999", reason, sizeof reason),
                     U2C_DISCOVER_NOT_FOUND);
    assert_string_equal(reason,
                        "no adapter with serial ED000999; connected: ED000200 (WinUSB), ED000215 "
                        "(usb2can), ED000216 (no driver), ED000301 (in use), ED000400 (libusbK), "
                        "ED000500 (WinUSB), adapter without serial "
                        "(USB\\VID_0483&PID_1234\\5&2C8A51B&0&3) (WinUSB)");
}

/* What the USB link asks when libusb reports an I/O error: is it still there? */
static void test_attached_asks_windows_for_one_serial(void **state)
{
    (void)state;
    assert_true(u2c_discover_attached("ED000200"));
    assert_true(u2c_discover_attached("ed000301"));
    assert_true(u2c_discover_attached("ED000215")); /* listed, whatever its driver */
    assert_false(u2c_discover_attached("ED000777"));
    assert_false(u2c_discover_attached("ED000999")); /* another product's serial */
    assert_false(u2c_discover_attached(""));
    assert_false(u2c_discover_attached(NULL));
}

static void test_attached_is_false_once_unplugged(void **state)
{
    (void)state;
    assert_false(u2c_discover_attached("ED000200"));
}

/* CanalOpen can only return 0; the last error says what discovery found. */
static void assert_open_fails_with(const char *setup, const char *expected)
{
    assert_int_equal(CanalOpen(setup, 0), 0);
    assert_string_equal(Usb2canGetLastError(), expected);
}

static void test_canal_open_failures_name_the_fix(void **state)
{
    (void)state;
    assert_open_fails_with(
        "ED000215;500",
        "ED000215 is bound to driver 'usb2can', not WinUSB; bind it to WinUSB with Zadig");
    assert_open_fails_with("ed000301; 250", "ED000301 is in use by another program");
    /* Windows lists it, free and with WinUSB, but libusb (under Wine: no
     * devices at all) cannot open it: both, each in its own words. */
    assert_open_fails_with("ED000200;500", "ED000200 is connected (WinUSB) and not in use, but "
                                           "libusb cannot open it (libusb: no USB2CAN with serial "
                                           "ED000200; none connected)");
    assert_open_fails_with("; 500", "no serial given: several USB2CAN adapters connected "
                                    "(ED000200, ED000400, adapter without serial "
                                    "(USB\\VID_0483&PID_1234\\5&2C8A51B&0&3)); name one in the "
                                    "setup string");
    assert_open_fails_with("ED000777;500",
                           "no adapter with serial ED000777; connected: ED000200 (WinUSB), "
                           "ED000215 (usb2can), ED000216 (no driver), ED000301 (in use), "
                           "ED000400 (libusbK), ED000500 (WinUSB), adapter without serial "
                           "(USB\\VID_0483&PID_1234\\5&2C8A51B&0&3) (WinUSB)");
    usb2canAdapterInfo list[U2C_SCAN_MAX];
    assert_int_equal(Usb2canListAdapters(list, U2C_SCAN_MAX), 7 + USB2CAN_VIRTUAL_ADAPTERS);
    assert_string_equal(list[0].serial, "ED000200");
    assert_string_equal(Usb2canGetLastError(), "");
}

#define LIBUSB0_PROBLEM                                                                            \
    "ED000600 is bound to libusb-win32 (libusb0), which libusb reaches only through "              \
    "libusbK.dll, and libusbK.dll is not installed; pick WinUSB in Zadig (or install "             \
    "libusbK.dll)"

static void test_libusb0_without_libusbk_dll_is_not_usable(void **state)
{
    (void)state;
    usb2canAdapterInfo list[U2C_SCAN_MAX];
    char reason[512];
    assert_int_equal(u2c_discover_list(list, U2C_SCAN_MAX, reason, sizeof reason),
                     1 + USB2CAN_VIRTUAL_ADAPTERS);
    assert_string_equal(list[0].serial, "ED000600");
    assert_string_equal(list[0].driver, "libusb0");
    assert_int_equal(list[0].flags, 0);
    assert_int_equal(u2c_discover_explain("ED000600", reason, sizeof reason), U2C_DISCOVER_DRIVER);
    assert_string_equal(reason, LIBUSB0_PROBLEM);
    /* CanalOpen says so too, not "in use". */
    assert_int_equal(CanalOpen("ED000600;500", 0), 0);
    assert_string_equal(Usb2canGetLastError(), LIBUSB0_PROBLEM);
}

static void test_libusb0_with_libusbk_dll_is_usable(void **state)
{
    (void)state;
    assert_true(place_libusbk_dll());
    usb2canAdapterInfo list[U2C_SCAN_MAX];
    char reason[512];
    assert_int_equal(u2c_discover_list(list, U2C_SCAN_MAX, reason, sizeof reason),
                     1 + USB2CAN_VIRTUAL_ADAPTERS);
    assert_int_equal(list[0].flags, USB2CAN_ADAPTER_USABLE);
    assert_int_equal(u2c_discover_explain("ED000600", reason, sizeof reason), U2C_DISCOVER_OK);
    assert_string_equal(reason, "ED000600 is connected (libusb0) and not in use");
}

static void test_serial_less_open_takes_the_one_usable_free_adapter(void **state)
{
    (void)state;
    char serial[33];
    char reason[512];
    assert_int_equal(u2c_discover_only_serial(serial, sizeof serial, reason, sizeof reason),
                     U2C_DISCOVER_OK);
    assert_string_equal(serial, "ED000200");
    assert_string_equal(reason, "");
}

static void test_serial_less_open_explains_why_none_is_available(void **state)
{
    (void)state;
    char serial[33];
    char reason[512];
    assert_int_equal(u2c_discover_only_serial(serial, sizeof serial, reason, sizeof reason),
                     U2C_DISCOVER_DRIVER);
    assert_string_equal(serial, "");
    assert_string_equal(reason, "no USB2CAN adapter available: ED000215 is bound to driver "
                                "'usb2can', not WinUSB; bind it to WinUSB with Zadig; ED000216 "
                                "has no driver installed; bind it to WinUSB with Zadig; ED000301 "
                                "is in use by another program");
}

static void test_serial_less_open_of_an_adapter_without_serial(void **state)
{
    (void)state;
    char serial[33];
    char reason[512];
    assert_int_equal(u2c_discover_only_serial(serial, sizeof serial, reason, sizeof reason),
                     U2C_DISCOVER_NO_SERIAL);
    assert_string_equal(reason, "the only usable USB2CAN adapter "
                                "(USB\\VID_0483&PID_1234\\5&2C8A51B&0&3) reports no serial "
                                "number, so it cannot be named in a setup string");
}
#endif

static void test_nothing_connected(void **state)
{
    (void)state;
    usb2canAdapterInfo list[U2C_SCAN_MAX];
    char reason[512];
    char serial[33] = "stale";
    assert_int_equal(u2c_discover_list(list, U2C_SCAN_MAX, reason, sizeof reason),
                     USB2CAN_VIRTUAL_ADAPTERS);
    assert_virtual_tail(list, 0);
    assert_int_equal(u2c_discover_only_serial(serial, sizeof serial, reason, sizeof reason),
                     U2C_DISCOVER_NOT_FOUND);
    assert_string_equal(serial, "");
    assert_string_equal(reason,
                        "no USB2CAN adapter connected (virtual adapters: VIRTUAL0..VIRTUAL7)");
    assert_int_equal(u2c_discover_explain("ED000215", reason, sizeof reason),
                     U2C_DISCOVER_NOT_FOUND);
    assert_string_equal(reason, "no adapter with serial ED000215; no USB2CAN adapter connected "
                                "(virtual adapters: VIRTUAL0..VIRTUAL7)");
    assert_int_equal(u2c_discover_explain("virtual7", reason, sizeof reason), U2C_DISCOVER_OK);
    assert_string_equal(reason, "VIRTUAL7 is a virtual adapter");

    assert_int_equal(CanalOpen("ED000215;500", 0), 0);
    assert_string_equal(Usb2canGetLastError(),
                        "no adapter with serial ED000215; no USB2CAN adapter connected "
                        "(virtual adapters: VIRTUAL0..VIRTUAL7)");
    assert_int_equal(CanalOpen(";500", 0), 0);
    assert_string_equal(Usb2canGetLastError(), "no serial given: no USB2CAN adapter connected "
                                               "(virtual adapters: VIRTUAL0..VIRTUAL7)");
    /* A virtual adapter's own words are kept. */
    assert_int_equal(CanalOpen("VIRTUAL9;500", 0), 0);
    assert_string_equal(Usb2canGetLastError(), "no virtual adapter named VIRTUAL9; virtual "
                                               "adapters are VIRTUAL and VIRTUAL0..VIRTUAL7");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_arguments_are_refused_with_a_reason),
        cmocka_unit_test(test_count_only_matches_the_full_list),
#if defined(_WIN32)
        cmocka_unit_test_setup_teardown(test_nothing_connected, clear_everything, NULL),
        cmocka_unit_test_setup_teardown(test_list_of_every_kind, seed_all_kinds, clear_all_kinds),
        cmocka_unit_test_setup_teardown(test_serial_less_open_refuses_to_choose, seed_all_kinds,
                                        clear_all_kinds),
        cmocka_unit_test_setup_teardown(test_open_errors_of_every_kind, seed_all_kinds,
                                        clear_all_kinds),
        cmocka_unit_test_setup_teardown(test_canal_open_failures_name_the_fix, seed_all_kinds,
                                        clear_all_kinds),
        cmocka_unit_test_setup_teardown(test_attached_asks_windows_for_one_serial, seed_all_kinds,
                                        clear_all_kinds),
        cmocka_unit_test_setup_teardown(test_attached_is_false_once_unplugged, clear_everything,
                                        NULL),
        cmocka_unit_test_setup_teardown(test_interface_guids_of_any_length, seed_many_guids,
                                        clear_many_guids),
        cmocka_unit_test_setup_teardown(test_filter_drivers_are_named, seed_many_guids,
                                        clear_many_guids),
        cmocka_unit_test_setup_teardown(test_libusb0_without_libusbk_dll_is_not_usable,
                                        seed_libusb0_only, clear_libusb0_only),
        cmocka_unit_test_setup_teardown(test_libusb0_with_libusbk_dll_is_usable, seed_libusb0_only,
                                        clear_libusb0_only),
        cmocka_unit_test_setup_teardown(test_serial_less_open_takes_the_one_usable_free_adapter,
                                        seed_one_usable, clear_one_usable),
        cmocka_unit_test_setup_teardown(test_serial_less_open_explains_why_none_is_available,
                                        seed_none_usable, clear_none_usable),
        cmocka_unit_test_setup_teardown(test_serial_less_open_of_an_adapter_without_serial,
                                        seed_only_port_id, clear_only_port_id),
        cmocka_unit_test_setup_teardown(test_serial_from_the_descriptor_when_the_id_has_none,
                                        seed_only_port_id, clear_only_port_id),
        cmocka_unit_test_setup_teardown(test_attached_knows_an_adapter_by_its_port_made_id,
                                        seed_only_port_id, clear_only_port_id),
        cmocka_unit_test_setup_teardown(test_learned_before_open_the_check_identifies_it,
                                        seed_only_port_id, clear_only_port_id),
        cmocka_unit_test_setup_teardown(test_port_made_id_unplugged_is_not_attached,
                                        clear_everything, NULL),
        cmocka_unit_test_setup_teardown(test_adapter_held_here_is_reported_as_open_here,
                                        seed_all_kinds, clear_all_kinds),
#else
        /* This machine has no USB bus: libusb lists nothing. */
        cmocka_unit_test(test_nothing_connected),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
