/*
 * link_libusb.h — the product's link: a USB2CAN reached through libusb-1.0
 * (WinUSB, libusbK or libusb0 on Windows; usbfs on Linux).
 *
 * Contract: see link.h. One libusb context per process, created by the first
 * open and destroyed after the last link is destroyed, with one event thread.
 * u2c_libusb_version_text needs no context and may be called at any time.
 */
#ifndef USB2CAN_LINK_LIBUSB_H
#define USB2CAN_LINK_LIBUSB_H

#include "link.h"

/* Bulk transfers kept in flight: IN on 0x81 (each resubmitted from its own
 * completion) and OUT on 0x02 (one 16-byte record each). */
#define U2C_LIBUSB_RX_TRANSFERS 16
#define U2C_LIBUSB_TX_TRANSFERS 8

u2c_link *u2c_link_open_libusb(const char *serial, u2c_link_result *result, char *reason,
                               size_t reason_size);

/* The libusb the library runs with, e.g. "1.0.26.11724"; one line, never
 * longer than size - 1. */
void u2c_libusb_version_text(char *out, size_t size);

#endif
