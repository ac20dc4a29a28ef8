/*
 * wake_latency: (1) the time from an IN completion (the link handing an IN
 * packet to the channel) to CanalBlockingReceive returning in a thread that
 * was blocked waiting for it, over WAKES wakes; (2) the CPU a thread uses
 * while blocked IDLE_S seconds in CanalBlockingReceive with nothing
 * arriving. Direct bench link, so nothing else runs in the process.
 * (3) For scale, what a wake-up costs on this machine without the driver:
 * two threads passing a token through a mutex and condition variables
 * (canal/osal.h, the primitives the channel uses), CPU and time per hand-off.
 *   wake_latency [WAKES [IDLE_S]]   prints wake.*, idle.* and osal.* lines.
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

#define SETTLE_NS 50000 /* the receiver is back in its wait well within this */
#define RECEIVE_TIMEOUT_MS 1000u
#define TIMER_SLACK_NS 1000

typedef struct wake_run {
    long handle;
    size_t wakes;
    uint64_t *latency;
    atomic_uint_fast64_t injected_ns;
    atomic_size_t done;
    size_t failures;
    uint64_t receiver_cpu_ns, receiver_switches;
} wake_run;

static void ignore_out(void *ctx, const uint8_t record[U8D_TX_RECORD_SIZE])
{
    (void)ctx;
    (void)record;
}

static void receiver(void *arg)
{
    wake_run *w = arg;
    canalMsg m;
    uint64_t c0 = bench_thread_cpu_ns(), s0 = bench_thread_switches();
    for (size_t i = 0; i < w->wakes; i++) {
        int code = CanalBlockingReceive(w->handle, &m, RECEIVE_TIMEOUT_MS);
        uint64_t now = u2c_now_ns();
        if (code == CANAL_ERROR_SUCCESS)
            w->latency[i] = now - atomic_load(&w->injected_ns);
        else
            w->failures++;
        atomic_store(&w->done, i + 1);
    }
    w->receiver_cpu_ns = bench_thread_cpu_ns() - c0;
    w->receiver_switches = bench_thread_switches() - s0;
}

static void sleep_ns(long ns)
{
    struct timespec ts = {0, ns};
    nanosleep(&ts, NULL);
}

static int measure_wakes(long h, bench_direct *l, size_t wakes)
{
    static wake_run w;
    memset(&w, 0, sizeof w);
    w.handle = h;
    w.wakes = wakes;
    w.latency = calloc(wakes, sizeof *w.latency);
    if (w.latency == NULL)
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
    for (size_t i = 0; i < wakes; i++) {
        while (atomic_load(&w.done) < i)
            sleep_ns(10000);
        sleep_ns(SETTLE_NS);
        atomic_store(&w.injected_ns, u2c_now_ns());
        bench_direct_inject(l, packet, sizeof packet);
    }
    u2c_thread_join(&t);
    uint64_t wall = bench_wall_ns() - wall0;
    size_t n = wakes - w.failures;
    printf("wake.count=%zu\n", n);
    printf("wake.failures=%zu\n", w.failures);
    printf("wake.p50_us=%.1f\n", bench_percentile(w.latency, n, 0.50) / 1e3);
    printf("wake.p90_us=%.1f\n", bench_percentile(w.latency, n, 0.90) / 1e3);
    printf("wake.p99_us=%.1f\n", bench_percentile(w.latency, n, 0.99) / 1e3);
    printf("wake.p999_us=%.1f\n", bench_percentile(w.latency, n, 0.999) / 1e3);
    printf("wake.max_us=%.1f\n", bench_percentile(w.latency, n, 1.0) / 1e3);
    printf("wake.min_us=%.1f\n", bench_percentile(w.latency, n, 0.0) / 1e3);
    printf("wake.receiver_switches_per_wake=%.2f\n", (double)w.receiver_switches / (double)wakes);
    printf("wake.receiver_cpu_us_per_wake=%.2f\n", w.receiver_cpu_ns / 1e3 / (double)wakes);
    printf("wake.seconds=%.1f\n", wall / 1e9);
    free(w.latency);
    return w.failures == 0 ? 0 : 1;
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

#define PINGPONG_ROUNDS 20000u

typedef struct pingpong {
    u2c_mutex lock;
    u2c_cond cond[2];
    unsigned turn; /* whose turn: 0 or 1 */
    unsigned rounds;
} pingpong;

static void pingpong_side(pingpong *p, unsigned me)
{
    u2c_mutex_lock(&p->lock);
    for (unsigned i = 0; i < p->rounds; i++) {
        while (p->turn != me)
            u2c_cond_wait_until(&p->cond[me], &p->lock, U2C_DEADLINE_NEVER);
        p->turn = 1 - me;
        u2c_cond_signal(&p->cond[1 - me]);
    }
    u2c_mutex_unlock(&p->lock);
}

static void pingpong_other(void *arg)
{
    pingpong_side(arg, 1);
}

static void measure_os_wake(void)
{
    static pingpong p;
    u2c_mutex_init(&p.lock);
    u2c_cond_init(&p.cond[0]);
    u2c_cond_init(&p.cond[1]);
    p.turn = 0;
    p.rounds = PINGPONG_ROUNDS;
    uint64_t w0 = bench_wall_ns(), c0 = bench_process_cpu_ns();
    u2c_thread t;
    if (u2c_thread_start(&t, pingpong_other, &p) != 0)
        return;
    pingpong_side(&p, 0);
    u2c_thread_join(&t);
    uint64_t wall = bench_wall_ns() - w0, cpu = bench_process_cpu_ns() - c0;
    unsigned handoffs = 2 * PINGPONG_ROUNDS;
    printf("osal.handoffs=%u\n", handoffs);
    printf("osal.us_per_handoff=%.2f\n", wall / 1e3 / handoffs);
    printf("osal.cpu_us_per_handoff=%.2f\n", cpu / 1e3 / handoffs);
    u2c_cond_destroy(&p.cond[0]);
    u2c_cond_destroy(&p.cond[1]);
    u2c_mutex_destroy(&p.lock);
}

int main(int argc, char **argv)
{
    size_t wakes = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    unsigned idle_s = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 10;
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
    measure_os_wake();
    return rc;
}
