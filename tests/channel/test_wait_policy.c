/* How receive timeouts become deadlines, including python-can's truncated
 * remainders (see canal/wait_policy.h). */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "osal.h"
#include "wait_policy.h"

#define MS 1000000ULL
static const uint64_t t0 = 5000 * MS; /* an arbitrary "now" */

static void test_bounded_wait_lasts_one_extra_millisecond(void **state)
{
    (void)state;
    assert_true(u2c_receive_deadline(1681, 50, t0) == t0 + 51 * MS);
    assert_true(u2c_receive_deadline(1681, 1, t0) == t0 + 2 * MS);
}

static void test_zero_without_history_waits_forever(void **state)
{
    (void)state;
    assert_true(u2c_receive_deadline(1700, 0, t0) == U2C_DEADLINE_NEVER);
}

static void test_zero_at_the_end_of_a_bounded_wait_is_a_remainder(void **state)
{
    (void)state;
    /* recv(0.0509): 50 ms, a rejected frame at 49.6 ms, then 0. */
    u2c_receive_deadline(1682, 50, t0);
    uint64_t now = t0 + 49 * MS + 600000;
    assert_true(u2c_receive_deadline(1682, 0, now) == now + 1 * MS);
    /* The next 0 is a real "forever": one remainder per bounded wait. */
    assert_true(u2c_receive_deadline(1682, 0, now + 2 * MS) == U2C_DEADLINE_NEVER);
}

static void test_zero_just_after_the_asked_end_is_a_remainder(void **state)
{
    (void)state;
    u2c_receive_deadline(1683, 250, t0);
    uint64_t now = t0 + 250 * MS + 500000; /* the caller's own overhead */
    assert_true(u2c_receive_deadline(1683, 0, now) == now + 1 * MS);
}

static void test_zero_far_from_the_end_waits_forever(void **state)
{
    (void)state;
    u2c_receive_deadline(1684, 100, t0);
    assert_true(u2c_receive_deadline(1684, 0, t0 + 10 * MS) == U2C_DEADLINE_NEVER);
    u2c_receive_deadline(1684, 100, t0);
    assert_true(u2c_receive_deadline(1684, 0, t0 + 200 * MS) == U2C_DEADLINE_NEVER);
}

static void test_zero_on_another_handle_waits_forever(void **state)
{
    (void)state;
    u2c_receive_deadline(1685, 20, t0);
    assert_true(u2c_receive_deadline(1686, 0, t0 + 20 * MS) == U2C_DEADLINE_NEVER);
}

struct other_thread {
    uint64_t deadline;
};

static void zero_from_other_thread(void *arg)
{
    struct other_thread *o = arg;
    o->deadline = u2c_receive_deadline(1687, 0, t0 + 20 * MS);
}

static void test_another_threads_history_does_not_count(void **state)
{
    (void)state;
    u2c_receive_deadline(1687, 20, t0);
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
        uint64_t got = u2c_receive_deadline(1689, huge[i], t0);
        if (got != expected_deadline(huge[i]))
            fail_msg("timeout %lu ms: deadline %llu, want %llu", huge[i], (unsigned long long)got,
                     (unsigned long long)expected_deadline(huge[i]));
    }
    if (sizeof(unsigned long) >= sizeof(uint64_t))
        assert_true(u2c_receive_deadline(1689, ULONG_MAX, t0) == U2C_DEADLINE_NEVER);
    /* A forever wait leaves no remainder behind: a 0 right after it is forever too. */
    u2c_receive_deadline(1690, ULONG_MAX, t0);
    if (sizeof(unsigned long) >= sizeof(uint64_t))
        assert_true(u2c_receive_deadline(1690, 0, t0 + 1) == U2C_DEADLINE_NEVER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounded_wait_lasts_one_extra_millisecond),
        cmocka_unit_test(test_zero_without_history_waits_forever),
        cmocka_unit_test(test_zero_at_the_end_of_a_bounded_wait_is_a_remainder),
        cmocka_unit_test(test_zero_just_after_the_asked_end_is_a_remainder),
        cmocka_unit_test(test_zero_far_from_the_end_waits_forever),
        cmocka_unit_test(test_zero_on_another_handle_waits_forever),
        cmocka_unit_test(test_another_threads_history_does_not_count),
        cmocka_unit_test(test_huge_timeouts_saturate),
        cmocka_unit_test(test_timeouts_beyond_the_clock_wait_forever),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
