/*
 * discover_rules.h — how discovery reads what the operating system reports
 * about a USB2CAN (VID 0483, PID 1234): the serial inside a Windows device
 * instance ID, and whether the driver bound to it lets libusb reach it.
 *
 * Contract: pure functions of their arguments (no I/O, no global state), so
 * the Windows rules are tested on Linux too. Outputs are always
 * NUL-terminated when their size is non-zero; a "problem" is the clause that
 * follows the adapter's name in a sentence ("is bound to driver 'x', ...").
 */
#ifndef USB2CAN_DISCOVER_RULES_H
#define USB2CAN_DISCOVER_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "u8d_codec.h"

/* Windows instance IDs of USB2CAN adapters start with this (any case). */
#define U2C_INSTANCE_ID_PREFIX                                                                     \
    "USB\\VID_" U8D_TEXT(U8D_USB_VID_DIGITS) "&PID_" U8D_TEXT(U8D_USB_PID_DIGITS) "\\"

/*
 * Splits "USB\VID_0483&PID_1234\<tail>". Returns false when id is not a
 * USB2CAN instance (other VID/PID, a composite child, an empty tail).
 * Otherwise serial receives the upper-cased tail — or "" when the tail is a
 * port-based ID Windows made up because the device has no usable serial
 * (it contains '&') or is longer than a setup string can name; location
 * then receives the whole upper-cased instance ID (else "").
 */
bool u2c_parse_instance_id(const char *id, char *serial, size_t serial_size, char *location,
                           size_t location_size);

/*
 * Windows: whether libusb can drive a device bound to this service (SPDRP_SERVICE,
 * "" when none). WinUSB needs a DeviceInterfaceGUIDs entry for libusb to find
 * its path. libusbK and libusb0 (libusb-win32) are reached only through
 * libusbK.dll in the system directory (libusbk_dll: whether it is there);
 * Zadig's libusbK package installs it, its libusb-win32 package does not.
 * When not usable, problem receives the fix, e.g. "is bound to driver
 * 'usb2can', not WinUSB; bind it to WinUSB with Zadig".
 */
bool u2c_windows_driver_usable(const char *service, bool has_interface_guid, bool libusbk_dll,
                               char *problem, size_t problem_size);

/*
 * Windows: the clause for a device Device Manager reports a problem with
 * (CM_Get_DevNode_Status: DN_HAS_PROBLEM and the problem code), e.g. "is
 * disabled in Device Manager (code 22); enable it there". Returns false
 * (and "") for code 0, which is no problem.
 */
bool u2c_windows_problem(unsigned long code, char *problem, size_t problem_size);

/*
 * Windows: the filter drivers installed on the device (SPDRP_UPPERFILTERS and
 * SPDRP_LOWERFILTERS, each a REG_MULTI_SZ list, NULL or "" for none) as a
 * clause: "has filter drivers (upper: 'a'; lower: 'b', 'c')", or "" when
 * there are none. Filters sit between libusb and the driver and can keep
 * it from opening the device.
 */
void u2c_windows_filters(const char *upper, const char *lower, char *text, size_t text_size);

/*
 * Linux: whether libusb can drive the device given the kernel driver bound to
 * its interface ("" none, "usbfs" = claimed through libusb by some program)
 * and whether this process may open its device node. interface_name is the
 * sysfs name of the interface (e.g. "1-1.4:1.0"), node_path the usbfs node.
 */
bool u2c_linux_driver_usable(const char *driver, const char *interface_name, bool node_accessible,
                             const char *node_path, char *problem, size_t problem_size);

/* Linux: a program holds the device through libusb when usbfs owns its interface. */
bool u2c_linux_driver_in_use(const char *driver);

/*
 * A device description fit to show: Windows stores INF-provided text as
 * "@oem12.inf,%desc%;USB2CAN converter", of which only the part after the
 * last ';' is meant for people. "" becomes "USB2CAN".
 */
void u2c_clean_description(char *dst, size_t dst_size, const char *raw);

/*
 * Windows: the port a device sits on at its parent hub, read the way libusb
 * 1.0.26 reads it, so that a location discovery shows is the one libusb
 * matches: SPDRP_LOCATION_INFORMATION when it reads "Port_#0004.Hub_#0003",
 * else the last "#USB(4)" of the first SPDRP_LOCATION_PATHS entry, else
 * SPDRP_ADDRESS. location_information and location_paths may be NULL or "";
 * address < 0 when there is none. False when none of them gives a port.
 */
bool u2c_windows_port_number(const char *location_information, const char *location_paths,
                             long address, unsigned *port);

/* Windows: whether an instance ID names a USB root hub ("USB\ROOT_HUB30\..."),
 * where libusb's port path stops. */
bool u2c_windows_is_root_hub(const char *instance_id);

/* "1-4.2" from a bus number and the ports from the root down; "" when
 * depth is 0 or more than 7. */
void u2c_format_port_path(char *out, size_t size, unsigned bus, const unsigned *ports,
                          unsigned depth);

/* u2c_copy_upper and u2c_compare_nocase: text.h. */
#include "text.h"

#endif
