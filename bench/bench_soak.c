/* The CANAL client of the soak benchmarks (bench_soak.h). */
#include "bench_soak.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "canal.h"
#include "canal_api.h"
#include "osal.h"

#define CALL_TIMEOUT_MS 100u
#define DRAIN_MAX_MS 5000u

typedef struct soak_client {
    long handle;
    const bench_profile *p;
    atomic_bool tx_stop, rx_stop;
    atomic_uint_fast64_t tx_sent;
    atomic_uint_fast64_t rx_taken;
    uint64_t tx_errors, rx_errors;
    int tx_last_error, rx_last_error;
    bench_checker rx_check; /* RX thread only until it is joined */
    bench_cpu_meter tx_cpu, rx_cpu;
} soak_client;

static void tx_thread(void *arg)
{
    soak_client *c = arg;
    uint64_t seq = 0;
    canalMsg m;
    prctl(PR_SET_NAME, "soak-tx", 0, 0, 0);
    bench_cpu_meter_force(&c->tx_cpu);
    while (!atomic_load(&c->tx_stop)) {
        bench_msg_from_frame(&m, bench_frame(c->p, BENCH_STREAM_TX, seq));
        int code = CanalBlockingSend(c->handle, &m, CALL_TIMEOUT_MS);
        if (code == CANAL_ERROR_SUCCESS) {
            seq++;
            atomic_store(&c->tx_sent, seq);
        } else if (code != CANAL_ERROR_TIMEOUT) {
            c->tx_errors++;
            c->tx_last_error = code;
        }
        bench_cpu_meter_tick(&c->tx_cpu);
    }
    bench_cpu_meter_force(&c->tx_cpu);
}

static void rx_thread(void *arg)
{
    soak_client *c = arg;
    canalMsg m;
    u8d_frame f;
    prctl(PR_SET_NAME, "soak-rx", 0, 0, 0);
    bench_cpu_meter_force(&c->rx_cpu);
    while (!atomic_load(&c->rx_stop)) {
        int code = CanalBlockingReceive(c->handle, &m, CALL_TIMEOUT_MS);
        if (code == CANAL_ERROR_SUCCESS) {
            bench_frame_from_msg(&f, &m);
            bench_checker_take(&c->rx_check, &f);
            atomic_fetch_add(&c->rx_taken, 1);
        } else if (code != CANAL_ERROR_TIMEOUT) {
            c->rx_errors++;
            c->rx_last_error = code;
        }
        bench_cpu_meter_tick(&c->rx_cpu);
    }
    bench_cpu_meter_force(&c->rx_cpu);
}

static void take_snapshot(bdev *d, void *ctx)
{
    soak_snapshot *s = ctx;
    s->dut_sent = d->dut_sent;
    s->peer_sent = d->peer_sent;
    s->peer_offered = d->peer_offered;
    s->error_frames = d->error_frames;
    s->in_packets = d->in_packets;
    memcpy(s->in_records, d->in_records, sizeof s->in_records);
    s->dut_overruns = u8d_model_statistic(d->world.dut, U8D_STAT_OVERRUNS);
    s->tx_check = d->tx_check;
    vbus_get_stats(d->world.bus, &s->bus);
}

static void start_window(bdev *d, void *ctx)
{
    (void)ctx;
    vbus_reset_stats(d->world.bus);
    d->generating = true;
}

static void stop_generating(bdev *d, void *ctx)
{
    (void)ctx;
    d->generating = false;
}

static soak_snapshot snapshot(const soak_transport *t)
{
    soak_snapshot s;
    memset(&s, 0, sizeof s);
    t->with_device(t->ctx, take_snapshot, &s);
    return s;
}

/* Waits until every frame that went on the bus has reached its receiver. */
static soak_snapshot drain(const soak_transport *t, soak_client *c)
{
    uint64_t deadline = u2c_deadline_after_ms(DRAIN_MAX_MS);
    soak_snapshot s = snapshot(t);
    while (u2c_now_ns() < deadline) {
        s = snapshot(t);
        uint64_t sent = atomic_load(&c->tx_sent);
        bool tx_done = s.dut_sent == sent && s.tx_check.received == sent;
        bool rx_done = atomic_load(&c->rx_taken) == s.peer_sent && s.peer_sent == s.peer_offered;
        if (tx_done && rx_done)
            break;
        u2c_sleep_ms(10);
    }
    return s;
}

static double per_cent(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static const char *role_by_name(void *ctx, int tid, const char *name)
{
    (void)ctx;
    (void)tid;
    return strcmp(name, "bench-device") == 0 ? "device" : "host";
}

/* One line per thread: role, CPU (user + kernel) and wake-ups per bus frame. */
static void print_threads(FILE *out, const char *label, const soak_transport *t,
                          const bench_thread_stat *a, size_t na, const bench_thread_stat *b,
                          size_t nb, uint64_t wall, uint64_t frames)
{
    const char *(*role)(void *, int, const char *) = t->thread_role ? t->thread_role : role_by_name;
    for (size_t i = 0; i < nb; i++) {
        bench_thread_stat z = {0};
        const bench_thread_stat *before = &z;
        for (size_t j = 0; j < na; j++)
            before = a[j].tid == b[i].tid ? &a[j] : before;
        uint64_t user = b[i].user_ns - before->user_ns, sys = b[i].sys_ns - before->sys_ns;
        uint64_t vol = b[i].voluntary_switches - before->voluntary_switches;
        if (user + sys == 0 && vol == 0)
            continue;
        fprintf(out, "soak.%s.thread.%s.%s.%d=user %.2f %% sys %.2f %% wakes/frame %.2f\n", label,
                role(t->ctx, b[i].tid, b[i].name), b[i].name, b[i].tid, per_cent(user, wall),
                per_cent(sys, wall), frames ? (double)vol / (double)frames : 0);
    }
}

int bench_soak_run(const char *label, const bench_profile *p, long handle, const soak_transport *t,
                   double seconds, FILE *out)
{
    static soak_client c; /* large checker tables: not on the stack */
    memset(&c, 0, sizeof c);
    c.handle = handle;
    c.p = p;
    bench_checker_init(&c.rx_check, p, BENCH_STREAM_RX);
    u2c_thread txt, rxt;
    if (u2c_thread_start(&rxt, rx_thread, &c) != 0)
        return 1;
    if (u2c_thread_start(&txt, tx_thread, &c) != 0) {
        atomic_store(&c.rx_stop, true);
        u2c_thread_join(&rxt);
        return 1;
    }

    uint64_t wall0 = bench_wall_ns(), cpu0 = bench_process_cpu_ns();
    uint64_t dev0 = t->device_cpu_ns(t->ctx), ev0 = t->event_cpu_ns ? t->event_cpu_ns(t->ctx) : 0;
    uint64_t txc0 = bench_cpu_meter_read(&c.tx_cpu), rxc0 = bench_cpu_meter_read(&c.rx_cpu);
    t->with_device(t->ctx, start_window, NULL);
    soak_snapshot s0 = snapshot(t);
    static bench_thread_stat th0[BENCH_MAX_THREADS], th1[BENCH_MAX_THREADS];
    size_t nth0 = bench_read_threads(th0, BENCH_MAX_THREADS);
    u2c_sleep_ms((unsigned)(seconds * 1000.0));
    size_t nth1 = bench_read_threads(th1, BENCH_MAX_THREADS);
    soak_snapshot s1 = snapshot(t);
    uint64_t wall1 = bench_wall_ns(), cpu1 = bench_process_cpu_ns();
    uint64_t dev1 = t->device_cpu_ns(t->ctx), ev1 = t->event_cpu_ns ? t->event_cpu_ns(t->ctx) : 0;
    uint64_t txc1 = bench_cpu_meter_read(&c.tx_cpu), rxc1 = bench_cpu_meter_read(&c.rx_cpu);

    atomic_store(&c.tx_stop, true);
    t->with_device(t->ctx, stop_generating, NULL);
    u2c_thread_join(&txt);
    soak_snapshot end = drain(t, &c);
    atomic_store(&c.rx_stop, true);
    u2c_thread_join(&rxt);
    u2c_channel_diag diag;
    memset(&diag, 0, sizeof diag);
    u2c_api_diagnostics(handle, &diag);

    uint64_t tx_sent = atomic_load(&c.tx_sent);
    uint64_t rx_count_lost =
        end.peer_sent > c.rx_check.received ? end.peer_sent - c.rx_check.received : 0;
    uint64_t tx_count_lost = tx_sent > end.tx_check.received ? tx_sent - end.tx_check.received : 0;
    uint64_t rx_lost = c.rx_check.lost > rx_count_lost ? c.rx_check.lost : rx_count_lost;
    uint64_t tx_lost = end.tx_check.lost > tx_count_lost ? end.tx_check.lost : tx_count_lost;
    uint64_t wall = wall1 - wall0, cpu = cpu1 - cpu0, dev = dev1 - dev0;
    uint64_t host = cpu > dev ? cpu - dev : 0;
    uint64_t frames = (s1.dut_sent - s0.dut_sent) + (s1.peer_sent - s0.peer_sent);
    double secs = (double)wall / 1e9;
    double fps = (double)frames / secs;
    double mean_bits = s1.bus.frames_sent ? (double)s1.bus.bits / (double)s1.bus.frames_sent : 0;

    const char *L = label;
    fprintf(out, "soak.%s.profile=%s\n", L, p->name);
    fprintf(out, "soak.%s.profile_what=%s\n", L, p->what);
    fprintf(out, "soak.%s.seconds=%.1f\n", L, secs);
    fprintf(out, "soak.%s.frames_per_s=%.0f\n", L, fps);
    fprintf(out, "soak.%s.rx_frames_per_s=%.0f\n", L, (double)(s1.peer_sent - s0.peer_sent) / secs);
    fprintf(out, "soak.%s.tx_frames_per_s=%.0f\n", L, (double)(s1.dut_sent - s0.dut_sent) / secs);
    fprintf(out, "soak.%s.bus_limit_fps=%.0f\n", L, mean_bits > 0 ? 1e6 / mean_bits : p->limit_fps);
    fprintf(out, "soak.%s.mean_bits=%.2f\n", L, mean_bits);
    fprintf(out, "soak.%s.stuff_bits_range=%u..%u\n", L, p->min_stuff, p->max_stuff);
    fprintf(out, "soak.%s.bus_load_pct=%.2f\n", L, 100.0 * vbus_load(&s1.bus));
    fprintf(out, "soak.%s.rx_frames=%llu\n", L, (unsigned long long)c.rx_check.received);
    fprintf(out, "soak.%s.tx_frames=%llu\n", L, (unsigned long long)tx_sent);
    fprintf(out, "soak.%s.rx_lost=%llu\n", L, (unsigned long long)rx_lost);
    fprintf(out, "soak.%s.tx_lost=%llu\n", L, (unsigned long long)tx_lost);
    fprintf(out, "soak.%s.rx_reordered=%llu\n", L, (unsigned long long)c.rx_check.reordered);
    fprintf(out, "soak.%s.tx_reordered=%llu\n", L, (unsigned long long)end.tx_check.reordered);
    fprintf(out, "soak.%s.corrupt=%llu\n", L,
            (unsigned long long)(c.rx_check.corrupt + end.tx_check.corrupt));
    fprintf(out, "soak.%s.error_frames=%llu\n", L, (unsigned long long)end.error_frames);
    fprintf(out, "soak.%s.device_overruns=%llu\n", L, (unsigned long long)end.dut_overruns);
    fprintf(out, "soak.%s.ring_overruns=%llu\n", L, (unsigned long long)diag.ring_overruns);
    fprintf(out, "soak.%s.malformed_packets=%llu\n", L, (unsigned long long)diag.malformed_packets);
    fprintf(out, "soak.%s.api_errors=%llu\n", L, (unsigned long long)(c.tx_errors + c.rx_errors));
    fprintf(out, "soak.%s.in_packets=%llu\n", L, (unsigned long long)end.in_packets);
    fprintf(out, "soak.%s.in_records_1_2_3=%llu/%llu/%llu\n", L,
            (unsigned long long)end.in_records[1], (unsigned long long)end.in_records[2],
            (unsigned long long)end.in_records[3]);
    fprintf(out, "soak.%s.process_cpu_pct=%.3f\n", L, per_cent(cpu, wall));
    fprintf(out, "soak.%s.device_cpu_pct=%.3f\n", L, per_cent(dev, wall));
    fprintf(out, "soak.%s.host_cpu_pct=%.3f\n", L, per_cent(host, wall));
    fprintf(out, "soak.%s.host_ns_per_frame=%.0f\n", L, frames ? (double)host / (double)frames : 0);
    fprintf(out, "soak.%s.rx_thread_cpu_pct=%.3f\n", L, per_cent(rxc1 - rxc0, wall));
    fprintf(out, "soak.%s.tx_thread_cpu_pct=%.3f\n", L, per_cent(txc1 - txc0, wall));
    if (t->event_cpu_ns)
        fprintf(out, "soak.%s.%s_cpu_pct=%.3f\n", L, t->event_thread_name,
                per_cent(ev1 - ev0, wall));
    print_threads(out, L, t, th0, nth0, th1, nth1, wall, frames);
    fflush(out);
    bool clean = rx_lost == 0 && tx_lost == 0 && c.rx_check.reordered == 0 &&
                 end.tx_check.reordered == 0 && c.rx_check.corrupt == 0 &&
                 end.tx_check.corrupt == 0 && end.error_frames == 0;
    return clean ? 0 : 1;
}

int bench_soak_main(int argc, char **argv, const char *program, bench_soak_one_fn soak_one)
{
    double seconds = 10;
    int rc = 0, profiles = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            seconds = atof(argv[++i]);
            continue;
        }
        int r = soak_one(argv[i], seconds);
        rc = rc ? rc : r;
        profiles++;
    }
    if (profiles == 0) {
        fprintf(stderr,
                "usage: %s [--seconds S] PROFILE...\n"
                "profiles: std0-minstuff std0-maxstuff std8-nostuff std8-maxstuff mixed\n",
                program);
        return 2;
    }
    return rc;
}
