/*
 * sysinfo.h — one-line descriptions of the system the library runs on, for
 * bug reports (Usb2canGetEnvironment, usb2can-cli selftest and doctor).
 *
 * Contract: each function writes one line without a newline into out,
 * always NUL-terminated when size > 0 and truncated, never overflowing,
 * when out is short; it never fails (what cannot be read is written as
 * "unknown" with the reason). Safe from any thread; nothing is kept.
 * - u2c_sysinfo_os: the system, its version and architecture; under Wine
 *   also Wine's version and the host system's.
 * - u2c_sysinfo_timer: what bounds timed waits: on Windows the timer
 *   resolution in effect now (and its finest and coarsest values) and the
 *   performance counter's frequency; on POSIX the monotonic clock's
 *   resolution and the thread's timer slack.
 */
#ifndef USB2CAN_SYSINFO_H
#define USB2CAN_SYSINFO_H

#include <stddef.h>

void u2c_sysinfo_os(char *out, size_t size);
void u2c_sysinfo_timer(char *out, size_t size);

#endif
