/*
 * adapter_pick.h — what the CANAL surface asks of adapter discovery.
 *
 * Contract: u2c_pick_only_adapter answers CanalOpen's empty serial: it
 * writes the serial of the one connected hardware adapter, or returns false
 * with a readable reason in the last error (none, or several: it names
 * them). Virtual adapters are never picked implicitly. u2c_list_adapters
 * is Usb2canListAdapters: hardware (from discovery, once it is built in)
 * then the virtual adapters VIRTUAL0..VIRTUAL7. Both are thin forwards so
 * discovery can replace them with one line each.
 */
#ifndef USB2CAN_ADAPTER_PICK_H
#define USB2CAN_ADAPTER_PICK_H

#include <stdbool.h>
#include <stddef.h>

#include "usb2can.h"

#define U2C_VIRTUAL_ADAPTERS 8

bool u2c_pick_only_adapter(char *serial, size_t serial_size);
long u2c_list_adapters(usb2canAdapterInfo *list, long max);

#endif
