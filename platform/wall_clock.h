/*
 * wall_clock.h — the host's calendar time, for recordings that carry
 * absolute timestamps (usb2can-cli monitor --log, replay).
 *
 * Contract: u2c_wall_clock_us reads the system's real-time clock in
 * microseconds since 1970-01-01 00:00 UTC (Windows: the precise system
 * time, 100 ns units truncated). It can step (NTP, the user), so callers
 * read it once and follow the monotonic clock (u2c_now_ns) from there.
 * u2c_local_time and u2c_local_mktime convert between seconds since the
 * epoch and the local calendar (the system's time zone, daylight saving
 * included), thread-safe; both return false for a time the C library
 * cannot represent.
 */
#ifndef USB2CAN_WALL_CLOCK_H
#define USB2CAN_WALL_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

int64_t u2c_wall_clock_us(void);

bool u2c_local_time(int64_t seconds, struct tm *out);

/* in->tm_isdst < 0 lets the library decide whether daylight saving applies. */
bool u2c_local_mktime(const struct tm *in, int64_t *seconds);

#endif
