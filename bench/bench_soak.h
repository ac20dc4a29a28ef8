/*
 * bench_soak.h — the host side of a full-bus soak: a CANAL client with one
 * thread sending the TX stream (CanalBlockingSend) and one receiving and
 * checking the RX stream (CanalBlockingReceive), over any transport that
 * runs a bench_device (in-process paced link, or libusb through umockdev).
 *
 * Contract: bench_soak_run takes an open handle whose adapter is the
 * device's DUT, runs traffic for `seconds`, lets both directions drain, and
 * prints "soak.<label>.<key>=<value>" lines: frames per direction, lost,
 * reordered and corrupt frames (sequence checks, and sent vs received
 * counts), bus load, frames/s against the profile's bus limit, CPU of the
 * process, of the simulated device and of the host alone (process minus
 * device), per host thread, and the IN packet fill. Returns 0 when nothing
 * was lost, reordered or corrupted and no error frame occurred.
 */
#ifndef USB2CAN_BENCH_SOAK_H
#define USB2CAN_BENCH_SOAK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bench_device.h"

typedef struct soak_snapshot {
    uint64_t dut_sent, peer_sent, peer_offered, error_frames;
    uint64_t in_packets, in_records[4];
    uint64_t dut_overruns;
    bench_checker tx_check;
    vbus_stats bus;
} soak_snapshot;

typedef struct soak_transport {
    void *ctx;
    /* Runs fn on the device with whatever lock guards it. */
    void (*with_device)(void *ctx, bench_dev_fn fn, void *fn_ctx);
    uint64_t (*device_cpu_ns)(void *ctx); /* CPU of the simulated device so far */
    uint64_t (*event_cpu_ns)(void *ctx);  /* host USB event thread, 0 if unknown */
    const char *event_thread_name;
    /* "host", "device" or "umockdev" for a thread; NULL: by name (bench-device = device). */
    const char *(*thread_role)(void *ctx, int tid, const char *name);
} soak_transport;

int bench_soak_run(const char *label, const bench_profile *p, long handle, const soak_transport *t,
                   double seconds, FILE *out);

/* A soak program's main: `PROGRAM [--seconds S] PROFILE...` runs soak_one
 * for every profile in turn; returns the first non-zero result, 2 on usage. */
typedef int (*bench_soak_one_fn)(const char *profile, double seconds);
int bench_soak_main(int argc, char **argv, const char *program, bench_soak_one_fn soak_one);

#endif
