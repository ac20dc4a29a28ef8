#include "wait_policy.h"

#include <stdbool.h>

#include "osal.h"
#include "thread_slots.h"

/* What the receive in progress on this thread waits for. */
typedef enum u2c_wait_kind {
    U2C_WAIT_NONE = 0,
    U2C_WAIT_BOUNDED,   /* the caller's own timeout */
    U2C_WAIT_REMAINDER, /* a 0 read as a truncated remainder: 1 ms */
    U2C_WAIT_FOREVER,
} u2c_wait_kind;

/* The calling thread's last bounded receive: which handle, when it
 * returned, and when the caller's own bounded wait that started the chain
 * of remainders returned. Zero (invalid, nothing pending) at the thread's
 * first call. */
typedef struct u2c_bounded_wait {
    long handle;
    uint64_t returned_ns;
    uint64_t chain_origin_ns;
    bool valid;
    u2c_wait_kind pending;
} u2c_bounded_wait;

_Static_assert(sizeof(u2c_bounded_wait) <= U2C_THREAD_SLOT_BYTES, "fits its thread slot");

static u2c_bounded_wait *last_bounded_wait(void)
{
    return u2c_thread_slot_get(U2C_SLOT_WAIT_POLICY);
}

#define NS_PER_MS 1000000ULL

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
    if (!last->valid || last->handle != handle || now_ns < last->returned_ns)
        return false;
    return now_ns - last->returned_ns <= U2C_REMAINDER_AFTER_MS * NS_PER_MS &&
           now_ns - last->chain_origin_ns <= U2C_REMAINDER_CHAIN_MS * NS_PER_MS;
}

uint64_t u2c_receive_deadline(long handle, unsigned long timeout_ms, uint64_t now_ns)
{
    u2c_bounded_wait *last = last_bounded_wait();
    if (timeout_ms == 0) {
        if (is_truncated_remainder(last, handle, now_ns)) {
            last->pending = U2C_WAIT_REMAINDER;
            return after_ms(now_ns, 1, 0);
        }
        last->pending = U2C_WAIT_FOREVER;
        return U2C_DEADLINE_NEVER;
    }
    uint64_t deadline = after_ms(now_ns, timeout_ms, NS_PER_MS);
    /* A timeout beyond the clock is a forever wait: it leaves no remainder. */
    last->pending = deadline == U2C_DEADLINE_NEVER ? U2C_WAIT_FOREVER : U2C_WAIT_BOUNDED;
    return deadline;
}

void u2c_receive_returned(long handle, uint64_t now_ns)
{
    u2c_bounded_wait *last = last_bounded_wait();
    switch (last->pending) {
    case U2C_WAIT_BOUNDED:
        last->chain_origin_ns = now_ns;
        last->returned_ns = now_ns;
        last->handle = handle;
        last->valid = true;
        break;
    case U2C_WAIT_REMAINDER:
        last->returned_ns = now_ns; /* the chain keeps its origin */
        break;
    case U2C_WAIT_FOREVER:
    default:
        last->valid = false;
        break;
    }
    last->pending = U2C_WAIT_NONE;
}
