/*
 * wake_latency: (1) the time from an IN completion (the link handing an IN
 * packet to the channel) to CanalBlockingReceive returning in a thread that
 * was blocked waiting for it; (2) the same hand-off with no driver at all,
 * a flag under the same kind of mutex and condition variable (platform/osal.h)
 * the channel uses: what this machine's kernel alone costs. The two
 * alternate in blocks of WAKES/20, so both see the same load. Packets arrive
 * on a grid of TICK_US microseconds, as bus frames complete IN transfers,
 * and the injecting thread sleeps between ticks as a USB event thread sleeps
 * between completions; a tick is skipped if the receiver is not yet back in
 * its wait. (3) The CPU a thread uses while blocked IDLE_S seconds in
 * CanalBlockingReceive with nothing arriving. Direct bench link, so nothing
 * else runs in the process.
 *   wake_latency [WAKES [IDLE_S [TICK_US]]]   (defaults 100000, 10, 100)
 * prints wake.tTICK.*, bare.tTICK.* and idle.* lines.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "bench_link.h"
#include "canal.h"
#include "osal.h"
#include "usb2can.h"

#define DEFAULT_TICK_NS 100000
#define RECEIVE_TIMEOUT_MS 1000u
#define TIMER_SLACK_NS 1000

/* The driver-free twin of the channel's receive wait. */
typedef struct bare_wait {
    u2c_mutex lock;
    u2c_cond cond;
    bool ready;
} bare_wait;

typedef struct wake_run {
    long handle;
    bare_wait bare;
    size_t wakes, block;
    uint64_t *latency;
    atomic_uint_fast64_t injected_ns;
    atomic_size_t done;
    size_t failures[2];
    uint64_t cpu_ns[2], switches[2];
} wake_run;

enum { WAKE_DRIVER = 0, WAKE_BARE = 1 };

static int kind_of(const wake_run *w, size_t i)
{
    return (int)((i / w->block) % 2);
}

static void ignore_out(void *ctx, const uint8_t record[U8D_TX_RECORD_SIZE])
{
    (void)ctx;
    (void)record;
}

static bool bare_receive(bare_wait *b, unsigned long timeout_ms)
{
    uint64_t deadline = u2c_deadline_after_ms(timeout_ms);
    bool got = true;
    u2c_mutex_lock(&b->lock);
    while (!b->ready && got)
        got = u2c_cond_wait_until(&b->cond, &b->lock, deadline) || b->ready;
    b->ready = false;
    u2c_mutex_unlock(&b->lock);
    return got;
}

static void bare_inject(bare_wait *b)
{
    u2c_mutex_lock(&b->lock);
    b->ready = true;
    u2c_mutex_unlock(&b->lock);
    u2c_cond_signal(&b->cond);
}

static void receiver(void *arg)
{
    wake_run *w = arg;
    canalMsg m;
    uint64_t c0 = bench_thread_cpu_ns(), s0 = bench_thread_switches();
    for (size_t i = 0; i < w->wakes; i++) {
        int kind = kind_of(w, i);
        bool ok = kind == WAKE_BARE ? bare_receive(&w->bare, RECEIVE_TIMEOUT_MS)
                                    : CanalBlockingReceive(w->handle, &m, RECEIVE_TIMEOUT_MS) ==
                                          CANAL_ERROR_SUCCESS;
        uint64_t now = u2c_now_ns();
        w->latency[i] = ok ? now - atomic_load(&w->injected_ns) : UINT64_MAX;
        if (!ok)
            w->failures[kind]++;
        if (i + 1 == w->wakes || kind_of(w, i + 1) != kind) {
            uint64_t c1 = bench_thread_cpu_ns(), s1 = bench_thread_switches();
            w->cpu_ns[kind] += c1 - c0;
            w->switches[kind] += s1 - s0;
            c0 = c1;
            s0 = s1;
        }
        atomic_store(&w->done, i + 1);
    }
}

static long g_tick_ns = DEFAULT_TICK_NS;

static void print_wakes(const char *key, wake_run *w, int kind, uint64_t *scratch)
{
    size_t n = 0, offered = 0;
    for (size_t i = 0; i < w->wakes; i++) {
        if (kind_of(w, i) != kind)
            continue;
        offered++;
        if (w->latency[i] != UINT64_MAX)
            scratch[n++] = w->latency[i];
    }
    printf("%s.count=%zu\n", key, n);
    printf("%s.failures=%zu\n", key, w->failures[kind]);
    printf("%s.p50_us=%.1f\n", key, bench_percentile(scratch, n, 0.50) / 1e3);
    printf("%s.p90_us=%.1f\n", key, bench_percentile(scratch, n, 0.90) / 1e3);
    printf("%s.p99_us=%.1f\n", key, bench_percentile(scratch, n, 0.99) / 1e3);
    printf("%s.p999_us=%.1f\n", key, bench_percentile(scratch, n, 0.999) / 1e3);
    printf("%s.max_us=%.1f\n", key, bench_percentile(scratch, n, 1.0) / 1e3);
    printf("%s.min_us=%.1f\n", key, bench_percentile(scratch, n, 0.0) / 1e3);
    printf("%s.receiver_switches_per_wake=%.2f\n", key,
           offered ? (double)w->switches[kind] / (double)offered : 0);
    printf("%s.receiver_cpu_us_per_wake=%.2f\n", key,
           offered ? w->cpu_ns[kind] / 1e3 / (double)offered : 0);
}

static int measure_wakes(long h, bench_direct *l, size_t wakes)
{
    static wake_run w;
    memset(&w, 0, sizeof w);
    w.handle = h;
    w.wakes = wakes;
    w.block = wakes / 20 > 0 ? wakes / 20 : 1;
    u2c_mutex_init(&w.bare.lock);
    u2c_cond_init(&w.bare.cond);
    w.latency = calloc(wakes, sizeof *w.latency);
    uint64_t *scratch = calloc(wakes, sizeof *scratch);
    if (w.latency == NULL || scratch == NULL)
        return 1;
    uint8_t packet[U8D_RX_RECORD_SIZE];
    u8d_rx_record r;
    memset(&r, 0, sizeof r);
    r.frame.id = 0x100;
    r.frame.dlc = 8;
    u8d_encode_rx(packet, &r, U8D_FLAVOR_VENDOR);
    u2c_thread t;
    if (u2c_thread_start(&t, receiver, &w) != 0)
        return 1;
    uint64_t wall0 = bench_wall_ns();
    struct timespec tick;
    clock_gettime(CLOCK_MONOTONIC, &tick);
    for (size_t i = 0; i < wakes; i++) {
        do /* the next tick at which the receiver is back in its wait */
            bench_sleep_next_tick(&tick, (uint64_t)g_tick_ns);
        while (atomic_load(&w.done) < i);
        atomic_store(&w.injected_ns, u2c_now_ns());
        if (kind_of(&w, i) == WAKE_BARE)
            bare_inject(&w.bare);
        else
            bench_direct_inject(l, packet, sizeof packet);
    }
    u2c_thread_join(&t);
    uint64_t wall = bench_wall_ns() - wall0;
    char key[32];
    snprintf(key, sizeof key, "wake.t%ld", g_tick_ns / 1000);
    print_wakes(key, &w, WAKE_DRIVER, scratch);
    snprintf(key, sizeof key, "bare.t%ld", g_tick_ns / 1000);
    print_wakes(key, &w, WAKE_BARE, scratch);
    printf("wake.t%ld.block=%zu\n", g_tick_ns / 1000, w.block);
    printf("wake.t%ld.seconds=%.1f\n", g_tick_ns / 1000, wall / 1e9);
    free(scratch);
    free(w.latency);
    u2c_cond_destroy(&w.bare.cond);
    u2c_mutex_destroy(&w.bare.lock);
    return w.failures[0] + w.failures[1] == 0 ? 0 : 1;
}

typedef struct idle_run {
    long handle;
    unsigned long timeout_ms;
    int code;
    uint64_t cpu_ns, switches, wall_ns;
} idle_run;

static void idle_waiter(void *arg)
{
    idle_run *r = arg;
    canalMsg m;
    uint64_t c0 = bench_thread_cpu_ns(), s0 = bench_thread_switches(), w0 = bench_wall_ns();
    r->code = CanalBlockingReceive(r->handle, &m, r->timeout_ms);
    r->wall_ns = bench_wall_ns() - w0;
    r->cpu_ns = bench_thread_cpu_ns() - c0;
    r->switches = bench_thread_switches() - s0;
}

static int measure_idle(long h, unsigned seconds)
{
    idle_run r = {h, seconds * 1000ul, -1, 0, 0, 0};
    u2c_thread t;
    uint64_t p0 = bench_process_cpu_ns();
    if (u2c_thread_start(&t, idle_waiter, &r) != 0)
        return 1;
    u2c_thread_join(&t);
    uint64_t process = bench_process_cpu_ns() - p0;
    printf("idle.seconds=%.3f\n", r.wall_ns / 1e9);
    printf("idle.result=%s\n",
           r.code == CANAL_ERROR_TIMEOUT ? "CANAL_ERROR_TIMEOUT" : "unexpected");
    printf("idle.thread_cpu_us=%.1f\n", r.cpu_ns / 1e3);
    printf("idle.thread_switches=%llu\n", (unsigned long long)r.switches);
    printf("idle.process_cpu_us=%.1f\n", process / 1e3);
    printf("idle.thread_cpu_pct=%.5f\n",
           r.wall_ns ? 100.0 * (double)r.cpu_ns / (double)r.wall_ns : 0);
    return r.code == CANAL_ERROR_TIMEOUT && r.wall_ns >= seconds * 1000000000ull ? 0 : 1;
}

int main(int argc, char **argv)
{
    size_t wakes = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    unsigned idle_s = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 10;
    if (argc > 3)
        g_tick_ns = strtol(argv[3], NULL, 10) * 1000;
    if (g_tick_ns < 10000 || g_tick_ns >= 1000000000) {
        fprintf(stderr, "wake_latency: TICK_US must be 10..999999\n");
        return 2;
    }
    prctl(PR_SET_TIMERSLACK, TIMER_SLACK_NS, 0, 0, 0);
    bench_direct *l = bench_direct_create(ignore_out, NULL);
    if (l == NULL)
        return 1;
    bench_link_offer(bench_direct_link(l));
    long h = CanalOpen("BENCH;1000", 0);
    if (h <= 0) {
        fprintf(stderr, "wake_latency: CanalOpen: %s\n", Usb2canGetLastError());
        return 1;
    }
    int rc = wakes > 0 ? measure_wakes(h, l, wakes) : 0;
    if (idle_s > 0)
        rc |= measure_idle(h, idle_s);
    CanalClose(h);
    return rc;
}
