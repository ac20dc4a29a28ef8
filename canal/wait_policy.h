/*
 * wait_policy.h — how a CANAL receive timeout becomes a deadline.
 *
 * CANAL says "timeout in ms, 0 = wait forever". python-can (and any caller
 * that keeps its own deadline in fractions of a millisecond) passes
 * int(remaining * 1000): when less than a millisecond remains it passes 0,
 * which would wait forever. Two rules keep such callers correct without
 * changing the meaning of 0 for anyone else:
 * 1. A bounded wait lasts timeout + 1 ms, so a caller who truncated its
 *    timeout finds its own deadline passed when TIMEOUT comes back.
 * 2. A 0 from the same thread on the same handle within
 *    U2C_REMAINDER_AFTER_MS of the moment that thread's previous bounded
 *    wait on that handle returned is that caller's truncated remainder: it
 *    waits 1 ms instead of forever. The window is measured from the actual
 *    return, not from the end the caller asked for: a wait that returned
 *    early with a frame the caller's software filters rejected, or one that
 *    returned late, is followed by its remainder at once. Such a 1 ms wait
 *    opens the window again when it returns, because a caller whose clock
 *    moves in coarse steps (python-can's time.time() moves in 15.625 ms
 *    steps on Windows with Python 3.12 and older) computes the same
 *    remainder until its clock moves; the chain ends U2C_REMAINDER_CHAIN_MS
 *    after the wait the caller bounded itself returned, after which a 0 is
 *    "forever" again.
 * A timeout whose deadline lies beyond the range of the monotonic clock in
 * nanoseconds (about 584 years; e.g. ULONG_MAX on LP64 systems) waits
 * forever, like 0, and leaves no remainder window behind.
 *
 * Contract: pure bookkeeping in the calling thread's block
 * (its slot, thread_slots.h); no locks, no allocation after the thread's first call.
 * `now_ns` is u2c_now_ns(). Every u2c_receive_deadline is followed by one
 * u2c_receive_returned when that receive returns, whatever its result.
 */
#ifndef USB2CAN_WAIT_POLICY_H
#define USB2CAN_WAIT_POLICY_H

#include <stdint.h>

/* How soon after a bounded wait returned a 0 still counts as its remainder. */
#define U2C_REMAINDER_AFTER_MS 3u
/* How long a chain of remainders may last after the caller's own bounded
 * wait returned: two of python-can's 15.625 ms clock steps. */
#define U2C_REMAINDER_CHAIN_MS 32u

/* Deadline (U2C_DEADLINE_NEVER = forever) for a blocking receive. */
uint64_t u2c_receive_deadline(long handle, unsigned long timeout_ms, uint64_t now_ns);

/* The receive that u2c_receive_deadline planned on this thread has returned. */
void u2c_receive_returned(long handle, uint64_t now_ns);

#endif
