#include "wait_policy.h"

#include <stdbool.h>

#include "osal.h"
#include "thread_state.h"

#define NS_PER_MS 1000000ULL
/* A remainder call arrives at most ~1 ms before the caller's deadline, and
 * after it by no more than the caller's own overhead. */
#define REMAINDER_EARLY_NS (3 * NS_PER_MS / 2)
#define REMAINDER_LATE_NS (3 * NS_PER_MS)

/* now + ms + extra_ns, or U2C_DEADLINE_NEVER when that is past the end of
 * the clock: a timeout too large to represent means forever. (unsigned long
 * is 64 bits on LP64 systems, so ms + 1 itself can wrap to 0.) */
static uint64_t after_ms(uint64_t now_ns, uint64_t ms, uint64_t extra_ns)
{
    if (now_ns >= U2C_DEADLINE_NEVER - 1)
        return U2C_DEADLINE_NEVER;
    uint64_t room = U2C_DEADLINE_NEVER - 1 - now_ns;
    if (ms > room / NS_PER_MS)
        return U2C_DEADLINE_NEVER;
    uint64_t span = ms * NS_PER_MS;
    if (extra_ns > room - span)
        return U2C_DEADLINE_NEVER;
    return now_ns + span + extra_ns;
}

static bool is_truncated_remainder(const u2c_bounded_wait *last, long handle, uint64_t now_ns)
{
    if (!last->valid || last->handle != handle)
        return false;
    uint64_t end = last->asked_end_ns;
    uint64_t earliest = end > REMAINDER_EARLY_NS ? end - REMAINDER_EARLY_NS : 0;
    return now_ns >= earliest && now_ns <= end + REMAINDER_LATE_NS;
}

uint64_t u2c_receive_deadline(long handle, unsigned long timeout_ms, uint64_t now_ns)
{
    u2c_bounded_wait *last = &u2c_thread_state_get()->last_bounded;
    if (timeout_ms == 0) {
        if (is_truncated_remainder(last, handle, now_ns)) {
            last->valid = false; /* one remainder per bounded wait */
            return after_ms(now_ns, 1, 0);
        }
        return U2C_DEADLINE_NEVER;
    }
    uint64_t asked_end = after_ms(now_ns, timeout_ms, 0);
    last->handle = handle;
    last->asked_end_ns = asked_end;
    last->valid = asked_end != U2C_DEADLINE_NEVER; /* a forever wait leaves no remainder */
    return after_ms(now_ns, timeout_ms, NS_PER_MS);
}
