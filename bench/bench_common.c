/* Clocks, percentiles, traffic profiles and the sequence checker (bench_common.h). */
#define _GNU_SOURCE /* RUSAGE_THREAD */
#include "bench_common.h"

#include <dirent.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "vbus.h"

#define RX_STD_ID_TOP 0x400u      /* RX std ids below, TX std ids from here */
#define RX_EXT_ID_TOP 0x10000000u /* same split for 29-bit ids */
#define BUS_BITRATE 1000000u

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t bench_wall_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

uint64_t bench_process_cpu_ns(void)
{
    return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

uint64_t bench_thread_cpu_ns(void)
{
    return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

uint64_t bench_thread_switches(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) != 0)
        return 0;
    return (uint64_t)ru.ru_nvcsw + (uint64_t)ru.ru_nivcsw;
}

#define METER_PERIOD_NS 5000000ull

void bench_cpu_meter_force(bench_cpu_meter *m)
{
    m->last_wall_ns = bench_wall_ns();
    atomic_store(&m->cpu_ns, bench_thread_cpu_ns());
}

void bench_cpu_meter_tick(bench_cpu_meter *m)
{
    if (bench_wall_ns() - m->last_wall_ns >= METER_PERIOD_NS)
        bench_cpu_meter_force(m);
}

uint64_t bench_cpu_meter_read(bench_cpu_meter *m)
{
    return atomic_load(&m->cpu_ns);
}

#define REALTIME_PRIORITY 10

bool bench_make_realtime(void)
{
    struct sched_param sp = {.sched_priority = REALTIME_PRIORITY};
    return sched_setscheduler(0, SCHED_FIFO, &sp) == 0;
}

static bool read_stat(const char *tid, bench_thread_stat *t)
{
    char path[300], line[512];
    snprintf(path, sizeof path, "/proc/self/task/%s/stat", tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool ok = false;
    if (fgets(line, sizeof line, f)) {
        char *open = strchr(line, '('), *close = strrchr(line, ')');
        unsigned long long ut = 0, st = 0;
        if (open && close &&
            sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) ==
                2) {
            uint64_t tick_ns = 1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK);
            size_t len = (size_t)(close - open - 1);
            len = len < sizeof t->name - 1 ? len : sizeof t->name - 1;
            memcpy(t->name, open + 1, len);
            t->name[len] = '\0';
            t->user_ns = ut * tick_ns;
            t->sys_ns = st * tick_ns;
            ok = true;
        }
    }
    fclose(f);
    return ok;
}

static void read_switches(const char *tid, bench_thread_stat *t)
{
    char path[300], line[256];
    snprintf(path, sizeof path, "/proc/self/task/%s/status", tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        unsigned long long v;
        if (sscanf(line, "voluntary_ctxt_switches: %llu", &v) == 1)
            t->voluntary_switches = v;
        else if (sscanf(line, "nonvoluntary_ctxt_switches: %llu", &v) == 1)
            t->involuntary_switches = v;
    }
    fclose(f);
}

size_t bench_read_threads(bench_thread_stat *out, size_t max)
{
    DIR *dir = opendir("/proc/self/task");
    size_t n = 0;
    struct dirent *e;
    while (dir && n < max && (e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        memset(&out[n], 0, sizeof out[n]);
        out[n].tid = atoi(e->d_name);
        if (!read_stat(e->d_name, &out[n]))
            continue;
        read_switches(e->d_name, &out[n]);
        n++;
    }
    if (dir)
        closedir(dir);
    return n;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

uint64_t bench_percentile(uint64_t *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, compare_u64);
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

/* --- profiles ------------------------------------------------------------- */

static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

static bool already_in(const u8d_frame *table, unsigned n, const u8d_frame *f)
{
    for (unsigned i = 0; i < n; i++) {
        if (bench_frame_equal(&table[i], f))
            return true;
    }
    return false;
}

/* A random frame of the stream's id range; ext and dlc as asked. */
static void random_frame(u8d_frame *f, int stream, bool ext, uint8_t dlc, uint64_t *rng,
                         const uint8_t *alphabet, size_t alphabet_len)
{
    memset(f, 0, sizeof *f);
    uint32_t r = (uint32_t)next_random(rng);
    if (ext) {
        f->flags = U8D_FLAG_EXT;
        f->id = (r % RX_EXT_ID_TOP) + (stream == BENCH_STREAM_TX ? RX_EXT_ID_TOP : 0);
    } else {
        f->id = (r % RX_STD_ID_TOP) + (stream == BENCH_STREAM_TX ? RX_STD_ID_TOP : 0);
    }
    f->dlc = dlc;
    for (unsigned i = 0; i < dlc; i++) {
        uint64_t b = next_random(rng);
        f->data[i] = alphabet ? alphabet[b % alphabet_len] : (uint8_t)b;
    }
}

/* Standard dlc-0 frames: the ids of the stream's range with the fewest
 * (most) stuff bits, widened one stuff bit at a time until at least
 * STD0_MIN_IDS qualify. (A dlc-0 data frame always has one stuff bit: RTR,
 * IDE, r0 and the DLC are seven dominant bits in a row.) */
#define STD0_MIN_IDS 16u
static unsigned build_std0(u8d_frame *table, int stream, bool most_stuff)
{
    uint32_t base = stream == BENCH_STREAM_TX ? RX_STD_ID_TOP : 0;
    unsigned best = most_stuff ? 0 : 1000, n = 0;
    for (uint32_t id = 0; id < RX_STD_ID_TOP; id++) {
        u8d_frame f = {.id = base + id};
        unsigned s = vbus_frame_stuff_bits(&f);
        best = most_stuff ? (s > best ? s : best) : (s < best ? s : best);
    }
    for (unsigned slack = 0; n < STD0_MIN_IDS && slack < 32; slack++) {
        n = 0;
        for (uint32_t id = 0; id < RX_STD_ID_TOP; id++) {
            u8d_frame f = {.id = base + id};
            unsigned s = vbus_frame_stuff_bits(&f);
            if (most_stuff ? s + slack >= best : s <= best + slack)
                table[n++] = f;
        }
    }
    return n;
}

/* Frames with dlc 8 whose stuff bits are minimal (0) or as high as a
 * biased search finds. */
static unsigned build_std8(u8d_frame *table, int stream, bool most_stuff, uint64_t *rng)
{
    static const uint8_t runs[] = {0x00, 0xFF, 0x0F, 0xF0, 0x07, 0x83, 0xC1, 0xE0,
                                   0x3E, 0x1F, 0x7C, 0xF8, 0x78, 0x87, 0x3C, 0xC3};
    unsigned n = 0;
    while (n < BENCH_TABLE_MAX) {
        u8d_frame best;
        unsigned best_stuff = 0;
        bool have = false;
        for (unsigned tries = 0; tries < (most_stuff ? 256u : 4096u); tries++) {
            u8d_frame f;
            random_frame(&f, stream, false, 8, rng, most_stuff ? runs : NULL,
                         most_stuff ? sizeof runs : 0);
            unsigned s = vbus_frame_stuff_bits(&f);
            if (!most_stuff && s == 0) {
                best = f;
                have = true;
                break;
            }
            if (most_stuff && (!have || s > best_stuff)) {
                best = f;
                best_stuff = s;
                have = true;
            }
        }
        if (have && !already_in(table, n, &best))
            table[n++] = best;
    }
    return n;
}

static unsigned build_mixed(u8d_frame *table, int stream, uint64_t *rng)
{
    unsigned n = 0;
    while (n < BENCH_TABLE_MAX) {
        u8d_frame f;
        bool ext = next_random(rng) % 4 == 0;
        random_frame(&f, stream, ext, (uint8_t)(n % 9), rng, NULL, 0);
        if (!already_in(table, n, &f))
            table[n++] = f;
    }
    return n;
}

static void summarise(bench_profile *p)
{
    /* Both streams send equally often, so the bus mean weighs them equally. */
    double mean[2];
    p->min_stuff = 1000;
    p->max_stuff = 0;
    for (int s = 0; s < 2; s++) {
        double bits = 0;
        for (unsigned i = 0; i < p->n[s]; i++) {
            unsigned st = vbus_frame_stuff_bits(&p->frames[s][i]);
            bits += vbus_frame_bits(&p->frames[s][i]);
            p->min_stuff = st < p->min_stuff ? st : p->min_stuff;
            p->max_stuff = st > p->max_stuff ? st : p->max_stuff;
        }
        mean[s] = bits / p->n[s];
    }
    p->mean_bits = (mean[0] + mean[1]) / 2;
    p->limit_fps = BUS_BITRATE / p->mean_bits;
}

bool bench_profile_build(bench_profile *p, const char *name)
{
    memset(p, 0, sizeof *p);
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    for (int s = 0; s < 2; s++) {
        if (strcmp(name, "std0-minstuff") == 0) {
            p->what = "standard id, 0 data bytes, fewest stuff bits (the 21,277 frames/s case)";
            p->n[s] = build_std0(p->frames[s], s, false);
        } else if (strcmp(name, "std0-maxstuff") == 0) {
            p->what = "standard id, 0 data bytes, the ids with the most stuff bits";
            p->n[s] = build_std0(p->frames[s], s, true);
        } else if (strcmp(name, "std8-nostuff") == 0) {
            p->what = "standard id, 8 data bytes, no stuff bits (the 9,009 frames/s case)";
            p->n[s] = build_std8(p->frames[s], s, false, &rng);
        } else if (strcmp(name, "std8-maxstuff") == 0) {
            p->what = "standard id, 8 data bytes, searched for the most stuff bits";
            p->n[s] = build_std8(p->frames[s], s, true, &rng);
        } else if (strcmp(name, "mixed") == 0) {
            p->what = "dlc 0..8 in turn, 1 in 4 extended ids, random data";
            p->n[s] = build_mixed(p->frames[s], s, &rng);
        } else {
            return false;
        }
        if (p->n[s] < 2)
            return false;
    }
    p->name = name;
    summarise(p);
    return true;
}

const u8d_frame *bench_frame(const bench_profile *p, int stream, uint64_t seq)
{
    return &p->frames[stream][seq % p->n[stream]];
}

void bench_msg_from_frame(canalMsg *m, const u8d_frame *f)
{
    memset(m, 0, sizeof *m);
    m->flags = (f->flags & U8D_FLAG_EXT) ? CANAL_IDFLAG_EXTENDED : CANAL_IDFLAG_STANDARD;
    m->id = f->id;
    m->sizeData = f->dlc;
    memcpy(m->data, f->data, f->dlc);
}

void bench_frame_from_msg(u8d_frame *f, const canalMsg *m)
{
    memset(f, 0, sizeof *f);
    f->flags = (m->flags & CANAL_IDFLAG_EXTENDED) ? U8D_FLAG_EXT : 0;
    f->id = (uint32_t)m->id;
    f->dlc = m->sizeData <= 8 ? m->sizeData : 8;
    memcpy(f->data, m->data, f->dlc);
}

bool bench_frame_equal(const u8d_frame *a, const u8d_frame *b)
{
    return a->id == b->id && (a->flags & U8D_FLAG_EXT) == (b->flags & U8D_FLAG_EXT) &&
           a->dlc == b->dlc && memcmp(a->data, b->data, a->dlc <= 8 ? a->dlc : 8) == 0;
}

/* --- checker -------------------------------------------------------------- */

void bench_checker_init(bench_checker *c, const bench_profile *p, int stream)
{
    memset(c, 0, sizeof *c);
    c->p = p;
    c->stream = stream;
}

void bench_checker_take(bench_checker *c, const u8d_frame *f)
{
    unsigned period = c->p->n[c->stream];
    unsigned window = period / 2 < 64 ? period / 2 : 64;
    c->received++;
    if (bench_frame_equal(f, bench_frame(c->p, c->stream, c->next))) {
        c->next++;
        return;
    }
    for (unsigned k = 1; k < window; k++) {
        if (bench_frame_equal(f, bench_frame(c->p, c->stream, c->next + k))) {
            c->lost += k;
            c->next += k + 1;
            return;
        }
    }
    for (unsigned k = 1; k < window && k <= c->next; k++) {
        if (bench_frame_equal(f, bench_frame(c->p, c->stream, c->next - k))) {
            c->reordered++;
            return;
        }
    }
    c->corrupt++;
}

void bench_sleep_next_tick(struct timespec *tick, uint64_t period_ns)
{
    uint64_t ns = (uint64_t)tick->tv_nsec + period_ns;
    tick->tv_sec += (time_t)(ns / 1000000000u);
    tick->tv_nsec = (long)(ns % 1000000000u);
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, tick, NULL);
}
