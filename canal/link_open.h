/*
 * link_open.h — which link serves a serial: a virtual adapter (VIRTUAL,
 * VIRTUAL0..7, sim/link_virtual.h) or the hardware through libusb
 * (winusb/link_libusb.h), after a test's factory had its say.
 *
 * Contract: u2c_link_open returns an open link or NULL; on failure *result
 * says why and reason holds a readable sentence naming the fix. result and
 * reason may be NULL. The factory is process-wide state behind a lock.
 */
#ifndef USB2CAN_LINK_OPEN_H
#define USB2CAN_LINK_OPEN_H

#include <stddef.h>

#include "link.h"

/* Opens the adapter with this serial (case-insensitive); VIRTUAL* opens a
 * model-backed adapter. On failure returns NULL, *result says why and
 * reason holds a readable sentence naming the fix. */
u2c_link *u2c_link_open(const char *serial, u2c_link_result *result, char *reason,
                        size_t reason_size);

/* The same at a USB location ("1-4.2", NULL or "": any; link_libusb.h,
 * u2c_link_open_libusb_at): with an empty serial it opens whatever adapter
 * is there, which is how one without a serial is named. */
u2c_link *u2c_link_open_at(const char *serial, const char *location, u2c_link_result *result,
                           char *reason, size_t reason_size);

/* Test and benchmark hook: u2c_link_open asks this factory first. It returns
 * a link for the serials it serves, or NULL with *result U2C_LINK_NOT_FOUND
 * for every other serial, which then opens as usual. NULL removes it. The
 * product never installs one. */
typedef u2c_link *(*u2c_link_factory)(const char *serial, u2c_link_result *result, char *reason,
                                      size_t reason_size);
void u2c_link_set_factory(u2c_link_factory factory);

#endif
