/*
 * cfg_parse.h — the CanalOpen setup string.
 *
 * Contract: u2c_setup_parse is a pure function of its input; it never writes
 * the caller's string and reads it only up to its NUL, at most U2C_SETUP_MAX
 * bytes; it allocates nothing. On success *out holds everything CanalOpen
 * needs and reason is "". On failure it returns false, leaves *out
 * unspecified, and writes a readable reason naming the offending token and
 * its position ("token 2 'abc': kbps is not a number ..."). reason may be
 * NULL; a short buffer gets a truncated, NUL-terminated reason.
 *
 * Grammar (tokens separated by ';', spaces and tabs around a token ignored):
 *   serial ; kbps [ ; tseg1 ; tseg2 ; sjw ; brp ]   (the four exactly when kbps is 0)
 *          [ ; mask ; filter ] [ ; key=value ... ]   (a single trailing ';' is allowed)
 * - serial: 0..USB2CAN_SERIAL_MAX characters of [A-Za-z0-9_-], case-insensitive
 *   (stored upper-cased); empty = the only connected adapter.
 * - numbers: decimal or 0x-hex, 32 bits, no sign. A leading 0 does NOT mean
 *   octal ("010" is ten), unlike the vendor DLL's strtoul(.., 0).
 * - kbps: 10, 20, 50, 100, 125, 250, 500, 800, 1000 use the firmware's own
 *   timing (u8d_bittiming_standard). python-can passes bitrate // 1000, so
 *   33, 62 and 83 mean 33 333, 62 500 and 83 333 bit/s. Any other kbps in
 *   1..1000 gets the nearest timing the 32 MHz clock allows, refused when it
 *   is more than 0.5 % off. kbps 0 takes tseg1;tseg2;sjw;brp literally.
 * - mask;filter: both or neither, see rx_filter_mask_accepts (rx_filter.h).
 * - options: rxqueue=N, the RX ring's capacity in frames
 *   (U2C_RX_CAPACITY_MIN..U2C_RX_CAPACITY_MAX, default U2C_RX_CAPACITY_DEFAULT).
 *   busoff=off|auto:N (1..U2C_BUSOFF_RESTART_MAX_MS): re-open the controller
 *   N ms after a bus-off (channel.h); errorframes=N, only on a virtual
 *   adapter's serial: its model becomes a faulty node destroying every N-th
 *   frame (0 = off); location=1-4.2, the adapter's USB port path (bus, then
 *   ports) as usb2can-cli list shows it, to pick one of adapters that report
 *   the same serial (or none).
 *   Keys are case-insensitive; unknown or repeated keys are refused.
 */
#ifndef USB2CAN_CFG_PARSE_H
#define USB2CAN_CFG_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "channel_setup.h"

#define U2C_SETUP_MAX 1024 /* including the NUL */

bool u2c_setup_parse(const char *text, u2c_setup *out, char *reason, size_t reason_size);

#endif
