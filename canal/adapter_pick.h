/*
 * adapter_pick.h — what the CANAL surface asks of adapter discovery.
 *
 * Contract: u2c_pick_only_adapter answers CanalOpen's empty serial: it
 * writes the serial of the one usable, free hardware adapter, or returns
 * false with discovery's reason in the last error (none, several: it names
 * them). Virtual adapters are never picked implicitly. u2c_list_adapters
 * is Usb2canListAdapters: hardware, then VIRTUAL0..VIRTUAL7, or -1 with the
 * reason in the last error. Both forward to setupapi/discover.h, which owns
 * the decisions.
 */
#ifndef USB2CAN_ADAPTER_PICK_H
#define USB2CAN_ADAPTER_PICK_H

#include <stdbool.h>
#include <stddef.h>

#include "usb2can.h"

bool u2c_pick_only_adapter(char *serial, size_t serial_size);
long u2c_list_adapters(usb2canAdapterInfo *list, long max);

#endif
