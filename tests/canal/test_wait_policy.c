/* How receive timeouts become deadlines, including python-can's truncated
 * remainders (see wait_policy.h), and a caller whose clock moves in
 * 15.625 ms steps, as python-can's time.time() does on Windows. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "osal.h"
#include "wait_policy.h"

#define MS 1000000ULL
#define US 1000ULL
static const uint64_t t0 = 5000 * MS; /* an arbitrary "now" */

/* One receive as the API makes it: plan, then report the return. */
static uint64_t planned(long h, unsigned long timeout_ms, uint64_t now, uint64_t returned)
{
    uint64_t deadline = u2c_receive_deadline(h, timeout_ms, now);
    u2c_receive_returned(h, returned);
    return deadline;
}

static void test_bounded_wait_lasts_one_extra_millisecond(void **state)
{
    (void)state;
    assert_true(planned(1681, 50, t0, t0 + 51 * MS) == t0 + 51 * MS);
    assert_true(planned(1681, 1, t0, t0 + 2 * MS) == t0 + 2 * MS);
}

static void test_zero_without_history_waits_forever(void **state)
{
    (void)state;
    assert_true(u2c_receive_deadline(1700, 0, t0) == U2C_DEADLINE_NEVER);
    u2c_receive_returned(1700, t0 + 10 * MS);
}

static void test_zero_at_the_end_of_a_bounded_wait_is_a_remainder(void **state)
{
    (void)state;
    /* recv(0.0509): 50 ms, a rejected frame at 49.6 ms, then 0. */
    uint64_t back = t0 + 49 * MS + 600 * US;
    planned(1682, 50, t0, back);
    assert_true(planned(1682, 0, back + 50 * US, back + 1050 * US) == back + 1050 * US);
}

static void test_zero_right_after_an_early_return_is_a_remainder(void **state)
{
    (void)state;
    /* recv(0.016) with can_filters: a rejected frame after 1 ms, and the
     * caller's clock steps 15.625 ms meanwhile: it asks for 0 at once, long
     * before the end it first asked for. */
    uint64_t back = t0 + 1 * MS;
    planned(1689, 16, t0, back);
    uint64_t now = back + 40 * US;
    assert_true(u2c_receive_deadline(1689, 0, now) == now + 1 * MS);
    u2c_receive_returned(1689, now + 1 * MS);
}

static void test_zero_after_a_late_return_is_a_remainder(void **state)
{
    (void)state;
    /* A 6 ms wait that the system's timer tick ended 16 ms late. */
    uint64_t back = t0 + 22 * MS;
    planned(1690, 6, t0, back);
    uint64_t now = back + 100 * US;
    assert_true(u2c_receive_deadline(1690, 0, now) == now + 1 * MS);
    u2c_receive_returned(1690, now + 1 * MS);
}

static void test_remainders_chain_until_the_caller_clock_can_move(void **state)
{
    (void)state;
    uint64_t back = t0 + 17 * MS;
    planned(1691, 16, t0, back);
    /* The caller's clock stands still for up to one step: the same 0 comes
     * back after every 1 ms wait, and each one is still a remainder. */
    uint64_t now = back;
    for (int i = 0; i < 16; i++) {
        now += 50 * US;
        assert_true(u2c_receive_deadline(1691, 0, now) == now + 1 * MS);
        now += 1 * MS;
        u2c_receive_returned(1691, now);
    }
    /* Past two steps of that clock a 0 means "forever" again. */
    now = back + U2C_REMAINDER_CHAIN_MS * MS + 1 * MS;
    assert_true(u2c_receive_deadline(1691, 0, now) == U2C_DEADLINE_NEVER);
    u2c_receive_returned(1691, now + 5 * MS);
}

static void test_zero_after_a_forever_wait_waits_forever(void **state)
{
    (void)state;
    planned(1692, 10, t0, t0 + 11 * MS);
    planned(1692, 0, t0 + 11 * MS + 100 * US, t0 + 12 * MS); /* a remainder */
    /* A forever wait that a frame ended does not open a window. */
    planned(1692, 0, t0 + 20 * MS, t0 + 21 * MS);
    assert_true(u2c_receive_deadline(1692, 0, t0 + 21 * MS + 100 * US) == U2C_DEADLINE_NEVER);
    u2c_receive_returned(1692, t0 + 30 * MS);
}

static void test_zero_far_from_the_return_waits_forever(void **state)
{
    (void)state;
    planned(1684, 100, t0, t0 + 101 * MS);
    assert_true(u2c_receive_deadline(1684, 0, t0 + 101 * MS + (U2C_REMAINDER_AFTER_MS + 1) * MS) ==
                U2C_DEADLINE_NEVER);
    u2c_receive_returned(1684, t0 + 200 * MS);
    planned(1684, 100, t0 + 300 * MS, t0 + 401 * MS);
    assert_true(u2c_receive_deadline(1684, 0, t0 + 600 * MS) == U2C_DEADLINE_NEVER);
    u2c_receive_returned(1684, t0 + 700 * MS);
}

static void test_zero_on_another_handle_waits_forever(void **state)
{
    (void)state;
    planned(1685, 20, t0, t0 + 21 * MS);
    assert_true(u2c_receive_deadline(1686, 0, t0 + 21 * MS) == U2C_DEADLINE_NEVER);
    u2c_receive_returned(1686, t0 + 30 * MS);
}

struct other_thread {
    uint64_t deadline;
};

static void zero_from_other_thread(void *arg)
{
    struct other_thread *o = arg;
    o->deadline = u2c_receive_deadline(1687, 0, t0 + 21 * MS);
    u2c_receive_returned(1687, t0 + 30 * MS);
}

static void test_another_threads_history_does_not_count(void **state)
{
    (void)state;
    planned(1687, 20, t0, t0 + 21 * MS);
    struct other_thread o = {0};
    u2c_thread t;
    assert_int_equal(u2c_thread_start(&t, zero_from_other_thread, &o), 0);
    u2c_thread_join(&t);
    assert_true(o.deadline == U2C_DEADLINE_NEVER);
}

static void test_huge_timeouts_saturate(void **state)
{
    (void)state;
    assert_true(u2c_receive_deadline(1688, 0xFFFFFFFFUL, t0) == t0 + 0x100000000ULL * MS);
    u2c_receive_returned(1688, t0 + 1 * MS);
}

/* The deadline a bounded receive of timeout ms must get: timeout + 1 ms,
 * or forever when that lies beyond the clock's range. */
static uint64_t expected_deadline(unsigned long timeout)
{
    uint64_t room_ms = (U2C_DEADLINE_NEVER - 1 - t0) / MS;
    if ((uint64_t)timeout >= room_ms)
        return U2C_DEADLINE_NEVER;
    return t0 + ((uint64_t)timeout + 1) * MS;
}

/* A timeout too large to represent waits forever. On LP64 systems unsigned
 * long is 64 bits and ULONG_MAX + 1 ms used to wrap to an immediate
 * deadline; with a 32-bit unsigned long every timeout fits (49.7 days). */
static void test_timeouts_beyond_the_clock_wait_forever(void **state)
{
    (void)state;
    const uint64_t room_ms = (U2C_DEADLINE_NEVER - 1 - t0) / MS;
    const unsigned long edge = room_ms <= ULONG_MAX ? (unsigned long)room_ms : ULONG_MAX;
    const unsigned long huge[] = {ULONG_MAX, ULONG_MAX - 1, ULONG_MAX / 2,
                                  edge,      edge - 1,      edge - 2};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        uint64_t got = u2c_receive_deadline(1693, huge[i], t0);
        u2c_receive_returned(1693, t0 + 1);
        if (got != expected_deadline(huge[i]))
            fail_msg("timeout %lu ms: deadline %llu, want %llu", huge[i], (unsigned long long)got,
                     (unsigned long long)expected_deadline(huge[i]));
    }
    if (sizeof(unsigned long) >= sizeof(uint64_t)) {
        assert_true(u2c_receive_deadline(1693, ULONG_MAX, t0) == U2C_DEADLINE_NEVER);
        u2c_receive_returned(1693, t0 + 1);
    }
    /* A forever wait leaves no remainder behind: a 0 right after it is forever too. */
    u2c_receive_deadline(1694, ULONG_MAX, t0);
    u2c_receive_returned(1694, t0 + 1);
    if (sizeof(unsigned long) >= sizeof(uint64_t))
        assert_true(u2c_receive_deadline(1694, 0, t0 + 2) == U2C_DEADLINE_NEVER);
    u2c_receive_returned(1694, t0 + 3);
}

/* --- python-can's recv() with a clock in 15.625 ms steps ---------------------- */

#define CALLER_STEP_NS 15625000ULL
#define MAX_CALLS 200

typedef struct sim {
    long handle;
    uint64_t real;     /* the true time (what the driver measures) */
    uint64_t phase;    /* where the caller's clock steps, relative to the true time */
    uint64_t frame_at; /* a frame the caller's filters reject arrives then (0: none) */
    uint64_t late;     /* every bounded wait returns this much after its deadline */
    unsigned calls;
} sim;

/* time.time() as python-can sees it: it moves only every 15.625 ms. */
static uint64_t caller_clock(const sim *s)
{
    return (s->real + s->phase) / CALLER_STEP_NS * CALLER_STEP_NS;
}

/* One CanalBlockingReceive in simulated time: false when it would never return. */
static bool sim_receive(sim *s, unsigned long timeout_ms, bool *got_frame)
{
    uint64_t deadline = u2c_receive_deadline(s->handle, timeout_ms, s->real);
    s->calls++;
    *got_frame = false;
    if (s->frame_at != 0 && s->frame_at >= s->real &&
        (deadline == U2C_DEADLINE_NEVER || s->frame_at < deadline)) {
        s->real = s->frame_at;
        s->frame_at = 0;
        *got_frame = true;
    } else if (deadline == U2C_DEADLINE_NEVER) {
        return false; /* nothing else will come: the caller hangs */
    } else {
        s->real = deadline + s->late;
    }
    u2c_receive_returned(s->handle, s->real);
    s->real += 30 * US; /* the interpreter between two calls */
    return true;
}

/* BusABC.recv(timeout) with can_filters: re-calls with int(left * 1000). */
static void sim_recv(sim *s, uint64_t timeout_ns)
{
    uint64_t start_real = s->real;
    uint64_t start = caller_clock(s);
    uint64_t left = timeout_ns;
    for (;;) {
        bool got_frame;
        if (!sim_receive(s, (unsigned long)(left / MS), &got_frame))
            fail_msg("recv(%.4f s) hangs: call %u waits forever (clock phase %.3f ms, frame %s, "
                     "waits %.3f ms late)",
                     (double)timeout_ns / 1e9, s->calls, (double)s->phase / 1e6,
                     got_frame ? "yes" : "no", (double)s->late / 1e6);
        if (s->calls > MAX_CALLS)
            fail_msg("recv(%.4f s) made %u calls", (double)timeout_ns / 1e9, s->calls);
        uint64_t elapsed = caller_clock(s) - start;
        if (elapsed >= timeout_ns)
            break;
        left = timeout_ns - elapsed;
    }
    /* It ends once the caller's clock has moved past the timeout. */
    assert_true(s->real - start_real <= timeout_ns + 2 * CALLER_STEP_NS + s->late + 3 * MS);
}

static void test_stepped_clock_caller_never_hangs(void **state)
{
    (void)state;
    long handle = 1750;
    for (uint64_t timeout_us = 1000; timeout_us <= 70000; timeout_us += 350) {
        for (uint64_t phase = 0; phase < CALLER_STEP_NS; phase += 781250) {
            for (int variant = 0; variant < 4; variant++) {
                sim s = {.handle = handle, .real = t0 + 1000 * MS, .phase = phase};
                if (variant & 1)
                    s.frame_at = s.real + (timeout_us * US) / 3 + 20 * US;
                if (variant & 2)
                    s.late = CALLER_STEP_NS / 2; /* waits rounded up to a coarse tick */
                sim_recv(&s, timeout_us * US);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounded_wait_lasts_one_extra_millisecond),
        cmocka_unit_test(test_zero_without_history_waits_forever),
        cmocka_unit_test(test_zero_at_the_end_of_a_bounded_wait_is_a_remainder),
        cmocka_unit_test(test_zero_right_after_an_early_return_is_a_remainder),
        cmocka_unit_test(test_zero_after_a_late_return_is_a_remainder),
        cmocka_unit_test(test_remainders_chain_until_the_caller_clock_can_move),
        cmocka_unit_test(test_zero_after_a_forever_wait_waits_forever),
        cmocka_unit_test(test_zero_far_from_the_return_waits_forever),
        cmocka_unit_test(test_zero_on_another_handle_waits_forever),
        cmocka_unit_test(test_another_threads_history_does_not_count),
        cmocka_unit_test(test_huge_timeouts_saturate),
        cmocka_unit_test(test_timeouts_beyond_the_clock_wait_forever),
        cmocka_unit_test(test_stepped_clock_caller_never_hangs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
