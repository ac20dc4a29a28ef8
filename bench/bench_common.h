/*
 * bench_common.h — what the benchmarks share: clocks (wall, process and
 * thread CPU), percentiles, the traffic profiles and the sequence checker.
 *
 * Contract: a profile is two tables of distinct frames, one per direction
 * (stream 0 = peer -> host "RX", stream 1 = host -> peer "TX"); frame number
 * `seq` of a stream is table[seq % n], so a receiver knows exactly which
 * frame comes next. Every RX frame wins arbitration against every TX frame
 * (RX ids have the top identifier bit 0, TX ids 1), which lets the device
 * bench alternate the two directions on a full bus. Tables are built by a
 * deterministic search over exact stuff-bit counts (vbus_frame_stuff_bits),
 * so the same profile always has the same frames. The checker classifies
 * every received frame as in order, after a gap (lost frames), from the
 * past (reordered) or unknown (corrupt). Nothing here allocates or locks;
 * a checker belongs to one thread.
 */
#ifndef USB2CAN_BENCH_COMMON_H
#define USB2CAN_BENCH_COMMON_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "canal.h"
#include "u8d_codec.h"

#define BENCH_TABLE_MAX 1024
#define BENCH_STREAM_RX 0
#define BENCH_STREAM_TX 1

/* Monotonic wall clock, CPU time of the whole process and of the calling thread (ns). */
uint64_t bench_wall_ns(void);
uint64_t bench_process_cpu_ns(void);
uint64_t bench_thread_cpu_ns(void);
/* Moves *tick on by period_ns on the monotonic clock and sleeps until
 * then: a steady grid of ticks that does not drift with wake-up delays. */
void bench_sleep_next_tick(struct timespec *tick, uint64_t period_ns);

/* Voluntary + involuntary context switches of the calling thread. */
uint64_t bench_thread_switches(void);

/* A thread's CPU time, sampled by the thread itself at most every 5 ms of
 * wall time, readable by any thread (the sample lags by at most 5 ms). */
typedef struct bench_cpu_meter {
    _Atomic uint64_t cpu_ns;
    uint64_t last_wall_ns;
} bench_cpu_meter;
void bench_cpu_meter_tick(bench_cpu_meter *m);  /* cheap unless 5 ms passed */
void bench_cpu_meter_force(bench_cpu_meter *m); /* samples now */
uint64_t bench_cpu_meter_read(bench_cpu_meter *m);

/* Every thread of this process from /proc/self/task: CPU split into user
 * and kernel time (clock-tick resolution) and context switches. */
#define BENCH_MAX_THREADS 64
typedef struct bench_thread_stat {
    int tid;
    char name[16];
    uint64_t user_ns, sys_ns;
    uint64_t voluntary_switches, involuntary_switches;
} bench_thread_stat;
size_t bench_read_threads(bench_thread_stat *out, size_t max);

/* Puts the calling thread under SCHED_FIFO (simulated hardware keeps bus
 * time even when the host's threads compete for the cores); false when the
 * system refuses (not root). */
bool bench_make_realtime(void);

/* Sorts v and returns the value at fraction q (0..1) of it. */
uint64_t bench_percentile(uint64_t *v, size_t n, double q);

typedef struct bench_profile {
    const char *name; /* "std0-minstuff", ... */
    const char *what; /* one line for the report */
    u8d_frame frames[2][BENCH_TABLE_MAX];
    unsigned n[2];
    double mean_bits;   /* mean bus bits per frame over both tables */
    double limit_fps;   /* 1 Mbit/s divided by mean_bits */
    unsigned min_stuff; /* over both tables */
    unsigned max_stuff;
} bench_profile;

/* Names: std0-minstuff, std0-maxstuff, std8-nostuff, std8-maxstuff, mixed.
 * False for an unknown name. */
bool bench_profile_build(bench_profile *p, const char *name);
const u8d_frame *bench_frame(const bench_profile *p, int stream, uint64_t seq);

void bench_msg_from_frame(canalMsg *m, const u8d_frame *f);
void bench_frame_from_msg(u8d_frame *f, const canalMsg *m);
bool bench_frame_equal(const u8d_frame *a, const u8d_frame *b);

typedef struct bench_checker {
    const bench_profile *p;
    int stream;
    uint64_t next; /* sequence number expected next */
    uint64_t received, lost, reordered, corrupt;
} bench_checker;

void bench_checker_init(bench_checker *c, const bench_profile *p, int stream);
void bench_checker_take(bench_checker *c, const u8d_frame *f);

#endif
