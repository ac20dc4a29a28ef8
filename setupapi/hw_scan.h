/*
 * hw_scan.h — the operating system's half of discovery: the USB2CAN
 * hardware adapters present now, described without talking to them.
 *
 * Contract: u2c_hw_scan fills scan->adapter[0 ..] with at most
 * U2C_SCAN_MAX_HARDWARE hardware entries in any order and sets hardware,
 * hardware_total and count; each entry has a serial or a location,
 * the driver, a description, USABLE / IN_USE / NO_SERIAL flags and, when not
 * usable, a problem clause (discover_rules.h). It returns false with a
 * reason only when the operating system's device list cannot be read.
 *
 * Windows (hw_scan_win32.c): SetupAPI devices of enumerator "USB", the serial
 * from the instance ID (or, when Windows made that up from the port, from
 * the serial string descriptor, asked of the parent hub), the driver from SPDRP_SERVICE, "in use"
 * from a query-only CreateFile of the device's GUID_DEVINTERFACE_USB_DEVICE path, and for
 * libusbK/libusb0 whether libusbK.dll is in the system directory. Elsewhere (hw_scan_libusb.c):
 * libusb's device list, the serial, interface driver and device node from sysfs (or the string
 * descriptor when sysfs has none and the device can be opened).
 */
#ifndef USB2CAN_HW_SCAN_H
#define USB2CAN_HW_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "discover.h"

bool u2c_hw_scan(u2c_scan *scan, char *reason, size_t reason_size);

#if defined(_WIN32)
/* Windows: when a device's instance ID carries no serial (Windows made one
 * up from the port), the scan reads the serial string descriptor through
 * the parent hub without opening the device. Tests replace that reader
 * (NULL restores it); it returns false when it cannot tell. */
typedef bool (*u2c_serial_reader)(const char *instance_id, char *serial, size_t size);
void u2c_hw_set_serial_reader(u2c_serial_reader reader);
#endif

#endif
