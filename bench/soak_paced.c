/*
 * soak_paced: the full-bus soak with the adapter model in-process. For each
 * profile: a paced 1 Mbit/s bus (bench_device.h) behind the paced bench
 * link, opened through CanalOpen, RX and TX at once for --seconds.
 *   soak_paced [--seconds S] PROFILE...
 * Prints soak.<profile>.* lines (bench_soak.h); exit status 1 when any
 * frame was lost, reordered or corrupted.
 */
#include <stdio.h>

#include "bench_link.h"
#include "bench_soak.h"
#include "canal.h"
#include "usb2can.h"
#include "osal.h"

static void with_device(void *ctx, bench_dev_fn fn, void *fn_ctx)
{
    bench_paced_with_device(ctx, fn, fn_ctx);
}

static uint64_t device_cpu(void *ctx)
{
    return bench_paced_device_cpu_ns(ctx);
}

static uint64_t event_cpu(void *ctx)
{
    return bench_paced_event_cpu_ns(ctx);
}

static int soak_one(const char *name, double seconds)
{
    static bench_profile profile;
    if (!bench_profile_build(&profile, name)) {
        fprintf(stderr, "soak_paced: unknown profile '%s'\n", name);
        return 2;
    }
    bdev *d = bdev_create(&profile, u2c_now_ns());
    if (d == NULL)
        return 1;
    d->generating = false;
    bench_paced *l = bench_paced_create(d);
    if (l == NULL)
        return 1;
    bench_link_offer(bench_paced_link(l));
    long h = CanalOpen("BENCH;1000", 0);
    if (h <= 0) {
        fprintf(stderr, "soak_paced: CanalOpen: %s\n", Usb2canGetLastError());
        return 1;
    }
    soak_transport t = {l, with_device, device_cpu, event_cpu, "event_thread", NULL};
    int rc = bench_soak_run(name, &profile, h, &t, seconds, stdout);
    uint64_t delivered, max_delay, over_1ms;
    bench_paced_delivery(l, &delivered, &max_delay, &over_1ms);
    printf("soak.%s.in_delivery_max_us=%.0f\n", name, max_delay / 1e3);
    printf("soak.%s.in_delivery_over_1ms=%llu of %llu\n", name, (unsigned long long)over_1ms,
           (unsigned long long)delivered);
    printf("soak.%s.device_thread=%s\n", name,
           bench_paced_device_realtime(l) ? "SCHED_FIFO" : "default scheduling");
    CanalClose(h);
    return rc;
}

int main(int argc, char **argv)
{
    return bench_soak_main(argc, argv, "soak_paced", soak_one);
}
