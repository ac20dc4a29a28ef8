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
 * 2. A 0 from the same thread on the same handle within a couple of
 *    milliseconds of the end of that thread's previous bounded wait is that
 *    caller's truncated remainder (e.g. after a frame its software filters
 *    rejected): it waits 1 ms instead of forever.
 * A timeout whose deadline lies beyond the range of the monotonic clock in
 * nanoseconds (about 584 years; e.g. ULONG_MAX on LP64 systems) waits
 * forever, like 0.
 *
 * Contract: pure bookkeeping in the calling thread's block
 * (thread_state.h); no locks, no allocation after the thread's first call.
 * `now_ns` is u2c_now_ns().
 */
#ifndef USB2CAN_WAIT_POLICY_H
#define USB2CAN_WAIT_POLICY_H

#include <stdint.h>

/* Deadline (U2C_DEADLINE_NEVER = forever) for a blocking receive. */
uint64_t u2c_receive_deadline(long handle, unsigned long timeout_ms, uint64_t now_ns);

#endif
