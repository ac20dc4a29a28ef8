/* Bounded waits and sleeps against a system whose timed waits end on a
 * 15.625 ms tick, as Windows 10 2004 and later does for a process that did
 * not ask for finer timers (Wine's waits are precise, so the tick is
 * simulated: win_timers.h lets this test replace the timer services).
 * CanalBlockingReceive(h, m, 10) must return TIMEOUT after 11 ms, not after
 * the next tick: with a high-resolution timer, and without one (then
 * timeBeginPeriod(1) is held only while a bounded wait is in progress).
 * u2c_sleep_ms(1) must take about 1 ms, not 16. Windows only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "canal.h"
#include "osal.h"
#include "usb2can.h"
#include "win_timers.h"

#define MS 1000000ULL
#define TICK_US 15625u
#define WAITS 7
#define SLEEPS 20

#ifndef CREATE_WAITABLE_TIMER_HIGH_RESOLUTION
#define CREATE_WAITABLE_TIMER_HIGH_RESOLUTION 0x00000002
#endif

/* --- a system with a 15.625 ms timer tick ------------------------------------ */

static atomic_bool have_precise_timer;
static atomic_int fine_period;     /* timeBeginPeriod(1) minus timeEndPeriod(1) */
static atomic_int fine_begins;     /* timeBeginPeriod(1) calls */
static atomic_int tick_waits;      /* tick-based waits with a timeout */
static atomic_int tick_waits_fine; /* of them, made while the fine period was held */

/* What a timeout of ms becomes on the tick: rounded up to 15.625 ms, or to
 * 1 ms while someone holds timeBeginPeriod(1). */
static DWORD on_the_tick(DWORD ms)
{
    if (ms == INFINITE)
        return ms;
    atomic_fetch_add(&tick_waits, 1);
    if (atomic_load(&fine_period) > 0) {
        atomic_fetch_add(&tick_waits_fine, 1);
        return ms;
    }
    uint64_t ticks = ((uint64_t)ms * 1000u + TICK_US - 1) / TICK_US;
    return (DWORD)((ticks * TICK_US + 999u) / 1000u);
}

static HANDLE fake_create_precise_timer(void)
{
    if (!atomic_load(&have_precise_timer))
        return NULL;
    return CreateWaitableTimerExW(
        NULL, NULL, CREATE_WAITABLE_TIMER_MANUAL_RESET | CREATE_WAITABLE_TIMER_HIGH_RESOLUTION,
        TIMER_ALL_ACCESS);
}

static BOOL fake_sleep_cv(CONDITION_VARIABLE *cv, SRWLOCK *lock, DWORD ms)
{
    return SleepConditionVariableSRW(cv, lock, on_the_tick(ms), 0);
}

static void fake_sleep(DWORD ms)
{
    Sleep(on_the_tick(ms));
}

static void fake_begin(void)
{
    atomic_fetch_add(&fine_begins, 1);
    atomic_fetch_add(&fine_period, 1);
}

static void fake_end(void)
{
    atomic_fetch_sub(&fine_period, 1);
}

static const u2c_win_timers ticking = {
    .create_precise_timer = fake_create_precise_timer,
    .sleep_cv = fake_sleep_cv,
    .sleep = fake_sleep,
    .fine_period_begin = fake_begin,
    .fine_period_end = fake_end,
};

static int use_ticking(void **state)
{
    (void)state;
    atomic_store(&fine_period, 0);
    atomic_store(&fine_begins, 0);
    atomic_store(&tick_waits, 0);
    atomic_store(&tick_waits_fine, 0);
    u2c_win_timers_use(&ticking);
    return 0;
}

static int use_real(void **state)
{
    (void)state;
    u2c_win_timers_use(NULL);
    return 0;
}

/* --- measurements, each in a thread of its own (a thread makes its timer at
 * its first bounded wait) ------------------------------------------------------ */

typedef struct run {
    const char *setup;
    uint64_t took[WAITS > SLEEPS ? WAITS : SLEEPS];
    int codes[WAITS];
    unsigned holders_after;
    int open_failed;
} run;

static void receive_waits(void *arg)
{
    run *r = arg;
    long h = CanalOpen(r->setup, 0);
    if (h <= 0) {
        r->open_failed = 1;
        return;
    }
    for (int i = 0; i < WAITS; i++) {
        canalMsg m;
        uint64_t t0 = u2c_now_ns();
        r->codes[i] = CanalBlockingReceive(h, &m, 10);
        r->took[i] = u2c_now_ns() - t0;
    }
    CanalClose(h);
    r->holders_after = u2c_win_fine_period_holders();
}

static void short_sleeps(void *arg)
{
    run *r = arg;
    for (int i = 0; i < SLEEPS; i++) {
        uint64_t t0 = u2c_now_ns();
        u2c_sleep_ms(1);
        r->took[i] = u2c_now_ns() - t0;
    }
    r->holders_after = u2c_win_fine_period_holders();
}

static run measure(u2c_thread_fn fn, const char *setup)
{
    static run r;
    memset(&r, 0, sizeof r);
    r.setup = setup;
    u2c_thread t;
    assert_int_equal(u2c_thread_start(&t, fn, &r), 0);
    u2c_thread_join(&t);
    return r;
}

static int by_value(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *values, size_t n)
{
    qsort(values, n, sizeof values[0], by_value);
    return values[n / 2];
}

/* 10 ms asked: TIMEOUT after 11 ms (never earlier), not at the next tick. */
static void expect_receive_on_time(run *r)
{
    assert_int_equal(r->open_failed, 0);
    for (int i = 0; i < WAITS; i++) {
        assert_int_equal(r->codes[i], CANAL_ERROR_TIMEOUT);
        if (r->took[i] < 10 * MS)
            fail_msg("wait %d returned early: %.3f ms", i, (double)r->took[i] / 1e6);
    }
    uint64_t typical = median(r->took, WAITS);
    if (typical >= 14 * MS)
        fail_msg("CanalBlockingReceive(h, m, 10) took %.3f ms (median of %d): the timer tick, "
                 "not the deadline, ended it",
                 (double)typical / 1e6, WAITS);
}

static void test_receive_timeout_on_a_precise_timer(void **state)
{
    (void)state;
    atomic_store(&have_precise_timer, true);
    run r = measure(receive_waits, "VIRTUAL5;500");
    expect_receive_on_time(&r);
    /* Nothing waited on the tick, nothing asked for finer timers. */
    assert_int_equal(atomic_load(&fine_begins), 0);
    assert_int_equal(r.holders_after, 0);
}

static void test_receive_timeout_without_a_precise_timer(void **state)
{
    (void)state;
    atomic_store(&have_precise_timer, false);
    run r = measure(receive_waits, "VIRTUAL6;500");
    expect_receive_on_time(&r);
    /* Every tick-based wait held timeBeginPeriod(1), and it was given back. */
    assert_true(atomic_load(&tick_waits) >= WAITS);
    assert_int_equal(atomic_load(&tick_waits_fine), atomic_load(&tick_waits));
    assert_int_equal(atomic_load(&fine_period), 0);
    assert_int_equal(r.holders_after, 0);
}

static void expect_sleeps_short(run *r)
{
    uint64_t typical = median(r->took, SLEEPS);
    if (typical >= 4 * MS)
        fail_msg("u2c_sleep_ms(1) took %.3f ms (median of %d)", (double)typical / 1e6, SLEEPS);
    for (int i = 0; i < SLEEPS; i++)
        assert_true(r->took[i] >= 1 * MS);
    assert_int_equal(r->holders_after, 0);
}

static void test_sleep_on_a_precise_timer(void **state)
{
    (void)state;
    atomic_store(&have_precise_timer, true);
    run r = measure(short_sleeps, NULL);
    expect_sleeps_short(&r);
    assert_int_equal(atomic_load(&fine_begins), 0);
}

static void test_sleep_without_a_precise_timer(void **state)
{
    (void)state;
    atomic_store(&have_precise_timer, false);
    run r = measure(short_sleeps, NULL);
    expect_sleeps_short(&r);
    assert_int_equal(atomic_load(&fine_period), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_receive_timeout_on_a_precise_timer, use_ticking,
                                        use_real),
        cmocka_unit_test_setup_teardown(test_receive_timeout_without_a_precise_timer, use_ticking,
                                        use_real),
        cmocka_unit_test_setup_teardown(test_sleep_on_a_precise_timer, use_ticking, use_real),
        cmocka_unit_test_setup_teardown(test_sleep_without_a_precise_timer, use_ticking, use_real),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
