/*
 * precise_sleep.h — sleeping until a point on the monotonic clock
 * (u2c_now_ns) with sub-millisecond precision, for replaying recorded
 * traffic with its original timing.
 *
 * Contract: u2c_sleep_until_ns returns at or after deadline_ns (at once
 * when it has passed), as soon after it as the system allows: POSIX sleeps
 * on the absolute deadline (clock_nanosleep, waking within the timer slack,
 * 50 us by default); Windows sleeps on the high-resolution timer of
 * u2c_sleep_ms to within a millisecond, then yields its time slice
 * (Sleep(0)) until the deadline, since no Windows wait ends closer than
 * about half a millisecond. Safe from any thread; keeps no state.
 */
#ifndef USB2CAN_PRECISE_SLEEP_H
#define USB2CAN_PRECISE_SLEEP_H

#include <stdint.h>

void u2c_sleep_until_ns(uint64_t deadline_ns);

#endif
