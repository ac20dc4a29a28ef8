/*
 * environment.h — the text of Usb2canGetEnvironment: what a bug report
 * needs to know about where the library runs.
 *
 * Contract: u2c_environment_text writes "name: value" lines, each ending in
 * "\n", in this order: library (version, 32/64-bit), os, libusb, timer
 * (sysinfo.h, link_libusb.h). It writes at most size - 1 characters and a
 * NUL when size > 0, and returns the length of the whole text, like
 * snprintf. Safe from any thread; nothing is allocated or kept.
 */
#ifndef USB2CAN_ENVIRONMENT_H
#define USB2CAN_ENVIRONMENT_H

#include <stddef.h>

size_t u2c_environment_text(char *out, size_t size);

#endif
