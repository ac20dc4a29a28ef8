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
 * from the instance ID, the driver from SPDRP_SERVICE, "in use" from a
 * query-only CreateFile of the device's GUID_DEVINTERFACE_USB_DEVICE path,
 * and for libusbK/libusb0 whether libusbK.dll is in the system directory.
 * Elsewhere (hw_scan_libusb.c): libusb's device list, the serial, interface
 * driver and device node from sysfs (or the string descriptor when sysfs
 * has none and the device can be opened).
 */
#ifndef USB2CAN_HW_SCAN_H
#define USB2CAN_HW_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "discover.h"

bool u2c_hw_scan(u2c_scan *scan, char *reason, size_t reason_size);

#endif
