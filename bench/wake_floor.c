/*
 * wake_floor: what it costs on this machine, with no driver at all, to wake a
 * thread at a steady rate, as a stream of CAN frames makes any driver do.
 * A pacer thread (SCHED_FIFO when allowed, as the soak's device thread, and
 * also under default scheduling) ticks every PERIOD microseconds on the
 * monotonic clock and hands a token to a waiter blocked on a mutex and
 * condition variable (platform/osal.h, what the channel uses); the waiter does
 * nothing but take it and wait again. Reported per period and scheduling:
 * the waiter's CPU per wake and as % of one core (every repetition, so the
 * cheapest can serve as the floor), and the latency from the tick to the
 * waiter running, pooled over the repetitions.
 *   wake_floor [SECONDS [REPS]]   prints floor.* lines.
 * Periods: 1000 us (one wake per USB frame), 100 us (the slowest pace at
 * which a blocked receiver still gets every frame within 100 us), 47 us
 * (one wake per frame at 21,277 frames/s).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "bench_common.h"
#include "osal.h"

#define TIMER_SLACK_NS 1000
#define MAX_REPS 16

typedef struct floor_run {
    u2c_mutex lock;
    u2c_cond cond;
    uint64_t ticks, taken;   /* under lock */
    uint64_t oldest_tick_ns; /* when the first token not yet taken was handed over */
    bool stop;
    uint64_t period_ns, count;
    bool realtime, realtime_granted;
    uint64_t *latency; /* one per wake */
    size_t wakes;
    uint64_t waiter_cpu_ns;
} floor_run;

static void waiter(void *arg)
{
    floor_run *f = arg;
    uint64_t c0 = bench_thread_cpu_ns();
    u2c_mutex_lock(&f->lock);
    for (;;) {
        while (f->taken == f->ticks && !f->stop)
            u2c_cond_wait_until(&f->cond, &f->lock, U2C_DEADLINE_NEVER);
        if (f->taken == f->ticks)
            break;
        uint64_t now = u2c_now_ns();
        if (f->wakes < f->count)
            f->latency[f->wakes++] = now - f->oldest_tick_ns;
        f->taken = f->ticks;
    }
    u2c_mutex_unlock(&f->lock);
    f->waiter_cpu_ns = bench_thread_cpu_ns() - c0;
}

static void stop_waiter(floor_run *f)
{
    u2c_mutex_lock(&f->lock);
    f->stop = true;
    u2c_mutex_unlock(&f->lock);
    u2c_cond_signal(&f->cond);
}

static void pacer(void *arg)
{
    floor_run *f = arg;
    f->realtime_granted = f->realtime && bench_make_realtime();
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (uint64_t i = 0; i < f->count; i++) {
        bench_sleep_next_tick(&next, f->period_ns);
        u2c_mutex_lock(&f->lock);
        if (f->taken == f->ticks)
            f->oldest_tick_ns = u2c_now_ns();
        f->ticks++;
        u2c_mutex_unlock(&f->lock);
        u2c_cond_signal(&f->cond);
    }
    stop_waiter(f);
}

/* One run; false when a thread could not start. */
static bool run_once(floor_run *f, uint64_t period_ns, double seconds, bool realtime,
                     uint64_t *latency)
{
    memset(f, 0, sizeof *f);
    u2c_mutex_init(&f->lock);
    u2c_cond_init(&f->cond);
    f->period_ns = period_ns;
    f->count = (uint64_t)(seconds * 1e9 / (double)period_ns);
    f->realtime = realtime;
    f->latency = latency;
    u2c_thread w, p;
    bool ok = u2c_thread_start(&w, waiter, f) == 0;
    if (ok) {
        if (u2c_thread_start(&p, pacer, f) == 0)
            u2c_thread_join(&p);
        else {
            stop_waiter(f);
            ok = false;
        }
        u2c_thread_join(&w);
    }
    u2c_cond_destroy(&f->cond);
    u2c_mutex_destroy(&f->lock);
    return ok;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int measure(unsigned period_us, bool realtime, double seconds, unsigned reps)
{
    const char *sched = realtime ? "fifo" : "default";
    uint64_t per_run = (uint64_t)(seconds * 1e6 / period_us);
    uint64_t *pool = calloc((size_t)(per_run * reps), sizeof *pool);
    if (pool == NULL)
        return 1;
    double cpu_per_wake[MAX_REPS], pct[MAX_REPS];
    size_t pooled = 0;
    uint64_t offered = 0, woken = 0;
    bool granted = true;
    static floor_run f;
    for (unsigned i = 0; i < reps; i++) {
        if (!run_once(&f, period_us * 1000ull, seconds, realtime, pool + pooled)) {
            free(pool);
            return 1;
        }
        granted = granted && (!realtime || f.realtime_granted);
        cpu_per_wake[i] = f.wakes ? f.waiter_cpu_ns / 1e3 / (double)f.wakes : 0;
        pct[i] = 100.0 * (double)f.waiter_cpu_ns / (seconds * 1e9);
        pooled += f.wakes;
        offered += f.count;
        woken += f.wakes;
        printf("floor.%uus.%s.run%u=cpu_us_per_wake %.2f cpu_pct %.2f wakes %zu of %llu\n",
               period_us, sched, i + 1, cpu_per_wake[i], pct[i], f.wakes,
               (unsigned long long)f.count);
    }
    qsort(cpu_per_wake, reps, sizeof *cpu_per_wake, compare_double);
    qsort(pct, reps, sizeof *pct, compare_double);
    const char *k = sched;
    printf("floor.%uus.%s.pacer_realtime=%s\n", period_us, k,
           realtime ? (granted ? "yes" : "refused") : "no");
    printf("floor.%uus.%s.wakes_per_s=%.0f\n", period_us, k, 1e6 / period_us);
    printf("floor.%uus.%s.woken_share=%.3f\n", period_us, k,
           offered ? (double)woken / (double)offered : 0);
    printf("floor.%uus.%s.cpu_us_per_wake_min=%.2f\n", period_us, k, cpu_per_wake[0]);
    printf("floor.%uus.%s.cpu_us_per_wake_median=%.2f\n", period_us, k, cpu_per_wake[reps / 2]);
    printf("floor.%uus.%s.cpu_pct_min=%.2f\n", period_us, k, pct[0]);
    printf("floor.%uus.%s.cpu_pct_median=%.2f\n", period_us, k, pct[reps / 2]);
    printf("floor.%uus.%s.latency_p50_us=%.1f\n", period_us, k,
           bench_percentile(pool, pooled, 0.5) / 1e3);
    printf("floor.%uus.%s.latency_p99_us=%.1f\n", period_us, k,
           bench_percentile(pool, pooled, 0.99) / 1e3);
    printf("floor.%uus.%s.latency_max_us=%.1f\n", period_us, k,
           bench_percentile(pool, pooled, 1.0) / 1e3);
    free(pool);
    return 0;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? strtod(argv[1], NULL) : 3.0;
    unsigned reps = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 3;
    if (seconds <= 0 || reps == 0 || reps > MAX_REPS) {
        fprintf(stderr, "usage: wake_floor [SECONDS>0 [REPS 1..%d]]\n", MAX_REPS);
        return 2;
    }
    prctl(PR_SET_TIMERSLACK, TIMER_SLACK_NS, 0, 0, 0);
    static const unsigned periods_us[] = {1000, 100, 47};
    int rc = 0;
    printf("floor.seconds=%.1f\nfloor.reps=%u\n", seconds, reps);
    for (size_t i = 0; i < sizeof periods_us / sizeof *periods_us; i++) {
        rc |= measure(periods_us[i], true, seconds, reps);
        rc |= measure(periods_us[i], false, seconds, reps);
    }
    return rc;
}
