/*
 * soak_usb: the full-bus soak end to end through the real libusb link, with
 * usbfs emulated in user space by umockdev (tests/support/usbfs_mock.h) and the
 * paced bus of bench_device.h behind it. Run under umockdev's preload:
 *   LD_PRELOAD=libumockdev-preload.so.0 soak_usb [--seconds S] PROFILE...
 * Prints soak.usb-<profile>.* lines (bench_soak.h) plus the CPU of every
 * thread; the emulated kernel (umockdev's ioctl worker) and the device
 * thread count as the simulated side, everything else as the host.
 */
#define _GNU_SOURCE /* pthread-free thread names through prctl */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "bench_soak.h"
#include "canal.h"
#include "osal.h"
#include "usb2can.h"
#include "usbfs_mock.h"

#define SERIAL "ED000200"
#define IDLE_POLL_MS 10u
#define TIMER_SLACK_NS 1000
#define MAX_THREADS BENCH_MAX_THREADS

typedef struct usb_rig {
    mock_bus *bus;
    mock_usb *usb;
    bdev *dev;
    uint8_t reply[U8D_CMD_SIZE];
    size_t reply_len;
    atomic_bool quit;
    atomic_bool realtime;
    u2c_mutex wake_lock; /* taken inside the mock's lock, never around it */
    u2c_cond wake;
    bool kicked;
    u2c_thread thread;
    bench_cpu_meter dev_cpu;
} usb_rig;

/* --- the device behind usbfs (callbacks run with the mock's lock held) ------- */

static bool rig_out(void *device, uint8_t ep, const uint8_t *data, size_t len)
{
    usb_rig *r = device;
    bdev_advance(r->dev, u2c_now_ns(), NULL, NULL);
    if (ep == U8D_EP_CMD_OUT) {
        r->reply_len = bdev_command(r->dev, data, len, r->reply);
        return true;
    }
    if (ep != U8D_EP_DATA_OUT || bdev_out(r->dev, data, len) != U8D_MODEL_OUT_ACCEPTED)
        return false;
    /* A frame for the bus: the device thread must run the bus from now on. */
    u2c_mutex_lock(&r->wake_lock);
    r->kicked = true;
    u2c_cond_signal(&r->wake);
    u2c_mutex_unlock(&r->wake_lock);
    return true;
}

static int rig_in(void *device, uint8_t ep, uint8_t *data, size_t max)
{
    usb_rig *r = device;
    bdev_advance(r->dev, u2c_now_ns(), NULL, NULL);
    if (ep == U8D_EP_CMD_IN) {
        if (r->reply_len == 0 || max < r->reply_len)
            return -1;
        memcpy(data, r->reply, r->reply_len);
        size_t n = r->reply_len;
        r->reply_len = 0;
        return (int)n;
    }
    if (ep != U8D_EP_DATA_IN || max < U8D_IN_PACKET_MAX)
        return -1;
    size_t n = bdev_in(r->dev, data);
    return n > 0 ? (int)n : -1;
}

static const mock_device_ops rig_ops = {.out = rig_out, .in = rig_in};

/* Runs the bus in real time between the host's visits. */
static void device_thread(void *arg)
{
    usb_rig *r = arg;
    prctl(PR_SET_NAME, "bench-device", 0, 0, 0);
    prctl(PR_SET_TIMERSLACK, TIMER_SLACK_NS, 0, 0, 0);
    atomic_store(&r->realtime, bench_make_realtime());
    while (!atomic_load(&r->quit)) {
        mock_bus_lock(r->bus);
        uint64_t next = bdev_advance(r->dev, u2c_now_ns(), NULL, NULL);
        mock_bus_unlock(r->bus);
        bench_cpu_meter_tick(&r->dev_cpu);
        uint64_t deadline = next == UINT64_MAX ? u2c_deadline_after_ms(IDLE_POLL_MS) : next;
        u2c_mutex_lock(&r->wake_lock);
        while (!r->kicked && !atomic_load(&r->quit) &&
               u2c_cond_wait_until(&r->wake, &r->wake_lock, deadline)) {
        }
        r->kicked = false;
        u2c_mutex_unlock(&r->wake_lock);
    }
    bench_cpu_meter_force(&r->dev_cpu);
}

/* --- per-thread CPU from /proc (umockdev's worker is not our thread) ---------- */

/* The threads umockdev starts (its ioctl worker: the emulated kernel) are
 * the ones that appear while the mock bus and device are created. */
static int g_simulated[MAX_THREADS];
static size_t g_simulated_count;

static void note_new_threads(const bench_thread_stat *before, size_t nb)
{
    bench_thread_stat now[MAX_THREADS];
    size_t n = bench_read_threads(now, MAX_THREADS);
    for (size_t i = 0; i < n && g_simulated_count < MAX_THREADS; i++) {
        bool old = false;
        for (size_t j = 0; j < nb; j++)
            old = old || before[j].tid == now[i].tid;
        if (!old)
            g_simulated[g_simulated_count++] = now[i].tid;
    }
}

static bool simulated_tid(int tid)
{
    for (size_t i = 0; i < g_simulated_count; i++) {
        if (g_simulated[i] == tid)
            return true;
    }
    return false;
}

static uint64_t simulated_kernel_ns(void)
{
    bench_thread_stat t[MAX_THREADS];
    size_t n = bench_read_threads(t, MAX_THREADS);
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += simulated_tid(t[i].tid) ? t[i].user_ns + t[i].sys_ns : 0;
    return sum;
}

/* --- transport for bench_soak ------------------------------------------------------ */

static void with_device(void *ctx, bench_dev_fn fn, void *fn_ctx)
{
    usb_rig *r = ctx;
    mock_bus_lock(r->bus);
    fn(r->dev, fn_ctx);
    mock_bus_unlock(r->bus);
}

static uint64_t device_cpu(void *ctx)
{
    usb_rig *r = ctx;
    return bench_cpu_meter_read(&r->dev_cpu) + simulated_kernel_ns();
}

static const char *thread_role(void *ctx, int tid, const char *name)
{
    (void)ctx;
    if (simulated_tid(tid))
        return "umockdev";
    return strcmp(name, "bench-device") == 0 ? "device" : "host";
}

static int soak_one(const char *name, double seconds)
{
    static bench_profile profile;
    if (!bench_profile_build(&profile, name)) {
        fprintf(stderr, "soak_usb: unknown profile '%s'\n", name);
        return 2;
    }
    static usb_rig r;
    memset(&r, 0, sizeof r);
    r.dev = bdev_create(&profile, u2c_now_ns());
    if (r.dev == NULL)
        return 1;
    r.dev->generating = false;
    u2c_mutex_init(&r.wake_lock);
    u2c_cond_init(&r.wake);
    bench_thread_stat initial[MAX_THREADS];
    size_t ni = bench_read_threads(initial, MAX_THREADS);
    g_simulated_count = 0;
    r.bus = mock_bus_new();
    mock_identity id = {SERIAL, "USB2CAN converter", "edevices", 0xFF};
    r.usb = mock_usb_plug(r.bus, &id, &rig_ops, &r);
    note_new_threads(initial, ni);
    if (u2c_thread_start(&r.thread, device_thread, &r) != 0)
        return 1;
    long h = CanalOpen(SERIAL ";1000", 0);
    int rc = 1;
    if (h <= 0) {
        fprintf(stderr, "soak_usb: CanalOpen: %s\n", Usb2canGetLastError());
    } else {
        char label[64];
        snprintf(label, sizeof label, "usb-%s", name);
        soak_transport t = {&r, with_device, device_cpu, NULL, NULL, thread_role};
        rc = bench_soak_run(label, &profile, h, &t, seconds, stdout);
        printf("soak.%s.device_thread=%s\n", label,
               atomic_load(&r.realtime) ? "SCHED_FIFO" : "default scheduling");
        CanalClose(h);
    }
    atomic_store(&r.quit, true);
    u2c_thread_join(&r.thread);
    mock_bus_free(r.bus);
    bdev_destroy(r.dev);
    u2c_cond_destroy(&r.wake);
    u2c_mutex_destroy(&r.wake_lock);
    return rc;
}

int main(int argc, char **argv)
{
    return bench_soak_main(argc, argv, "soak_usb", soak_one);
}
