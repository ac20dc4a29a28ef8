/*
 * adapter_pick.h — what the CANAL surface asks of adapter discovery.
 *
 * Contract: u2c_pick_only_adapter answers CanalOpen's empty serial: it
 * writes the serial of the one usable, free hardware adapter, or returns
 * false with discovery's reason in the last error (none, several: it names
 * them). Virtual adapters are never picked implicitly. u2c_list_adapters
 * is Usb2canListAdapters: hardware, then VIRTUAL0..VIRTUAL7, or -1 with the
 * reason in the last error. u2c_explain_link_failure sets the last error
 * after u2c_link_open failed for a hardware serial, preferring what the
 * operating system says about that adapter (wrong driver, in use, not
 * connected: which ones are) to the link's own words. When the system
 * lists the adapter as free but libusb could not open it, it says exactly
 * that, with libusb's words: "ED000200 is connected (WinUSB) and not in
 * use, but libusb cannot open it (libusb: ...)". All forward to
 * setupapi/discover.h, which owns the decisions.
 */
#ifndef USB2CAN_ADAPTER_PICK_H
#define USB2CAN_ADAPTER_PICK_H

#include <stdbool.h>
#include <stddef.h>

#include "link.h"
#include "usb2can.h"

bool u2c_pick_only_adapter(char *serial, size_t serial_size);
long u2c_list_adapters(usb2canAdapterInfo *list, long max);
long u2c_list_adapters_ex(usb2canAdapterInfoEx *list, long max);
void u2c_explain_link_failure(const char *serial, u2c_link_result result, const char *link_reason);

#endif
