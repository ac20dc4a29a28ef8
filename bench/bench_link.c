/* The benchmarks' direct and paced links (bench_link.h). */
#include "bench_link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "osal.h"

#define TIMER_SLACK_NS 1000 /* the device thread wakes at bus-event precision */
#define IDLE_WAIT_MS 100u

/* --- factory ------------------------------------------------------------------ */

static u2c_mutex g_offer_lock = U2C_MUTEX_INITIALIZER;
static u2c_link *g_offered;

static u2c_link *bench_factory(const char *serial, u2c_link_result *result, char *reason,
                               size_t reason_size)
{
    if (strcmp(serial, "BENCH") != 0)
        return NULL;
    u2c_mutex_lock(&g_offer_lock);
    u2c_link *link = g_offered;
    g_offered = NULL;
    u2c_mutex_unlock(&g_offer_lock);
    if (link == NULL) {
        *result = U2C_LINK_BUSY;
        snprintf(reason, reason_size, "no benchmark link was offered for BENCH");
    }
    return link;
}

void bench_link_offer(u2c_link *link)
{
    u2c_link_set_factory(bench_factory);
    u2c_mutex_lock(&g_offer_lock);
    g_offered = link;
    u2c_mutex_unlock(&g_offer_lock);
}

/* --- direct link ----------------------------------------------------------------- */

struct bench_direct {
    u2c_link base;
    u2c_mutex lock; /* commands and pulls */
    u8d_model *model;
    u2c_link_sink sink;
    bool started;
    bench_out_fn on_out;
    void *ctx;
};

static int direct_command(u2c_link *link, const uint8_t request[U8D_CMD_SIZE],
                          uint8_t reply[U8D_CMD_SIZE], unsigned timeout_ms)
{
    (void)timeout_ms;
    bench_direct *l = (bench_direct *)link;
    u2c_mutex_lock(&l->lock);
    size_t n = u8d_model_command(l->model, u2c_now_ns(), request, U8D_CMD_SIZE, reply);
    u2c_mutex_unlock(&l->lock);
    return n == U8D_CMD_SIZE ? U2C_LINK_OK : U2C_LINK_TIMEOUT;
}

static int direct_start(u2c_link *link, const u2c_link_sink *sink)
{
    bench_direct *l = (bench_direct *)link;
    u2c_mutex_lock(&l->lock);
    l->sink = *sink;
    l->started = true;
    u2c_mutex_unlock(&l->lock);
    return U2C_LINK_OK;
}

static void direct_kick_out(u2c_link *link)
{
    bench_direct *l = (bench_direct *)link;
    uint8_t record[U8D_TX_RECORD_SIZE];
    u2c_mutex_lock(&l->lock);
    while (l->started && l->sink.next_out(l->sink.ctx, record))
        l->on_out(l->ctx, record);
    u2c_mutex_unlock(&l->lock);
}

static void direct_stop(u2c_link *link)
{
    bench_direct *l = (bench_direct *)link;
    u2c_mutex_lock(&l->lock);
    l->started = false;
    u2c_mutex_unlock(&l->lock);
}

static void direct_destroy(u2c_link *link)
{
    bench_direct *l = (bench_direct *)link;
    u8d_model_destroy(l->model);
    u2c_mutex_destroy(&l->lock);
    free(l);
}

static const u2c_link_ops direct_ops = {direct_command, direct_start,   direct_kick_out,
                                        direct_stop,    direct_destroy, NULL};

bench_direct *bench_direct_create(bench_out_fn on_out, void *ctx)
{
    bench_direct *l = calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    u8d_model_config cfg;
    u8d_model_config_vendor(&cfg);
    l->model = u8d_model_create(&cfg, u2c_now_ns());
    if (l->model == NULL) {
        free(l);
        return NULL;
    }
    l->base.ops = &direct_ops;
    snprintf(l->base.serial, sizeof l->base.serial, "BENCH");
    u2c_mutex_init(&l->lock);
    l->on_out = on_out;
    l->ctx = ctx;
    return l;
}

u2c_link *bench_direct_link(bench_direct *l)
{
    return &l->base;
}

void bench_direct_inject(bench_direct *l, const uint8_t *packet, size_t len)
{
    /* Read without the lock: the benchmark injects only between open and close. */
    l->sink.in_packet(l->sink.ctx, packet, len);
}

/* --- paced link -------------------------------------------------------------------- */

struct bench_paced {
    u2c_link base;
    bdev *dev;
    u2c_mutex lock; /* dev and everything below */
    u2c_cond dev_cond;
    u2c_cond host_cond;
    u2c_mutex pull_lock; /* one puller at a time keeps the records in order */
    u2c_link_sink sink;
    bool started;
    bool quit;
    bool threads_joined;
    uint8_t out[BENCH_OUT_URBS][U8D_TX_RECORD_SIZE];
    unsigned out_head, out_count, out_done;
    uint8_t in[BENCH_IN_URBS][U8D_IN_PACKET_MAX];
    size_t in_len[BENCH_IN_URBS];
    uint64_t in_done_ns[BENCH_IN_URBS]; /* when the transfer completed */
    unsigned in_head, in_count;
    uint64_t in_delay_max_ns, in_delays_over_1ms, in_delivered;
    bool dev_waiting, dev_idle, host_waiting, produced;
    u2c_thread dev_thread, host_thread;
    bench_cpu_meter dev_cpu, host_cpu;
    bool device_realtime;
};

/* Device thread, lock held: the host controller's side of every URB. */
static void paced_pump(void *ctx, bdev *d)
{
    bench_paced *l = ctx;
    if (!l->started)
        return;
    while (l->out_count > 0 &&
           u8d_model_out_ready(d->world.dut, d->sim_now) == U8D_MODEL_OUT_ACCEPTED) {
        bdev_out(d, l->out[l->out_head], U8D_TX_RECORD_SIZE);
        l->out_head = (l->out_head + 1) % BENCH_OUT_URBS;
        l->out_count--;
        l->out_done++;
        l->produced = true;
    }
    while (l->in_count < BENCH_IN_URBS) {
        unsigned slot = (l->in_head + l->in_count) % BENCH_IN_URBS;
        size_t n = bdev_in(d, l->in[slot]);
        if (n == 0)
            break;
        l->in_len[slot] = n;
        l->in_done_ns[slot] = u2c_now_ns();
        l->in_count++;
        l->produced = true;
    }
}

static void device_thread(void *arg)
{
    bench_paced *l = arg;
    prctl(PR_SET_NAME, "bench-device", 0, 0, 0);
    prctl(PR_SET_TIMERSLACK, TIMER_SLACK_NS, 0, 0, 0);
    bool realtime = bench_make_realtime();
    u2c_mutex_lock(&l->lock);
    l->device_realtime = realtime;
    while (!l->quit) {
        uint64_t now = u2c_now_ns();
        uint64_t next = bdev_advance(l->dev, now, paced_pump, l);
        bool wake_host = l->produced && l->host_waiting;
        l->produced = false;
        if (wake_host) {
            /* As an interrupt would: the host thread must not wake only to
             * block on this lock. Then the bus is looked at again, since the
             * host may have queued OUT records meanwhile. */
            u2c_mutex_unlock(&l->lock);
            u2c_cond_signal(&l->host_cond);
            u2c_mutex_lock(&l->lock);
            continue;
        }
        bench_cpu_meter_tick(&l->dev_cpu);
        l->dev_idle = next == UINT64_MAX;
        uint64_t deadline = l->dev_idle ? u2c_deadline_after_ms(IDLE_WAIT_MS) : next;
        l->dev_waiting = true;
        u2c_cond_wait_until(&l->dev_cond, &l->lock, deadline);
        l->dev_waiting = false;
    }
    u2c_mutex_unlock(&l->lock);
    bench_cpu_meter_force(&l->dev_cpu);
}

/* Lock held: how long a completed IN transfer waited for the host thread. */
static void note_delivery_delay(bench_paced *l, uint64_t delay_ns)
{
    l->in_delivered++;
    if (delay_ns > l->in_delay_max_ns)
        l->in_delay_max_ns = delay_ns;
    if (delay_ns > 1000000u)
        l->in_delays_over_1ms++;
}

/* Fills free OUT slots from the channel's queue (host side, any thread). */
static void refill_out(bench_paced *l)
{
    uint8_t records[BENCH_OUT_URBS][U8D_TX_RECORD_SIZE];
    u2c_mutex_lock(&l->pull_lock);
    u2c_mutex_lock(&l->lock);
    unsigned room = l->started ? BENCH_OUT_URBS - l->out_count : 0;
    u2c_link_sink sink = l->sink;
    u2c_mutex_unlock(&l->lock);
    unsigned n = 0;
    while (n < room && sink.next_out(sink.ctx, records[n]))
        n++;
    if (n > 0) {
        u2c_mutex_lock(&l->lock);
        for (unsigned i = 0; i < n; i++) {
            unsigned slot = (l->out_head + l->out_count) % BENCH_OUT_URBS;
            memcpy(l->out[slot], records[i], U8D_TX_RECORD_SIZE);
            l->out_count++;
        }
        bool wake_device = l->dev_waiting && l->dev_idle;
        u2c_mutex_unlock(&l->lock);
        if (wake_device)
            u2c_cond_signal(&l->dev_cond);
    }
    u2c_mutex_unlock(&l->pull_lock);
}

static void host_thread(void *arg)
{
    bench_paced *l = arg;
    uint8_t packets[BENCH_IN_URBS][U8D_IN_PACKET_MAX];
    size_t lens[BENCH_IN_URBS];
    prctl(PR_SET_NAME, "bench-usb-event", 0, 0, 0);
    u2c_mutex_lock(&l->lock);
    while (!l->quit) {
        if (l->in_count == 0 && l->out_done == 0) {
            l->host_waiting = true;
            u2c_cond_wait_until(&l->host_cond, &l->lock, u2c_deadline_after_ms(IDLE_WAIT_MS));
            l->host_waiting = false;
            continue;
        }
        unsigned n = l->in_count;
        uint64_t now = u2c_now_ns();
        for (unsigned i = 0; i < n; i++) {
            unsigned slot = (l->in_head + i) % BENCH_IN_URBS;
            lens[i] = l->in_len[slot];
            memcpy(packets[i], l->in[slot], lens[i]);
            note_delivery_delay(l, now - l->in_done_ns[slot]);
        }
        l->in_head = (l->in_head + n) % BENCH_IN_URBS;
        l->in_count = 0;
        bool refill = l->out_done > 0;
        l->out_done = 0;
        u2c_link_sink sink = l->sink;
        bool started = l->started;
        u2c_mutex_unlock(&l->lock);
        for (unsigned i = 0; i < n && started; i++)
            sink.in_packet(sink.ctx, packets[i], lens[i]);
        if (refill)
            refill_out(l);
        bench_cpu_meter_tick(&l->host_cpu);
        u2c_mutex_lock(&l->lock);
    }
    u2c_mutex_unlock(&l->lock);
    bench_cpu_meter_force(&l->host_cpu);
}

static int paced_command(u2c_link *link, const uint8_t request[U8D_CMD_SIZE],
                         uint8_t reply[U8D_CMD_SIZE], unsigned timeout_ms)
{
    (void)timeout_ms;
    bench_paced *l = (bench_paced *)link;
    u2c_mutex_lock(&l->lock);
    bdev_advance(l->dev, u2c_now_ns(), paced_pump, l);
    size_t n = bdev_command(l->dev, request, U8D_CMD_SIZE, reply);
    if (l->dev_waiting)
        u2c_cond_signal(&l->dev_cond);
    u2c_mutex_unlock(&l->lock);
    return n == U8D_CMD_SIZE ? U2C_LINK_OK : U2C_LINK_TIMEOUT;
}

static int paced_start(u2c_link *link, const u2c_link_sink *sink)
{
    bench_paced *l = (bench_paced *)link;
    u2c_mutex_lock(&l->lock);
    l->sink = *sink;
    l->started = true;
    u2c_mutex_unlock(&l->lock);
    return U2C_LINK_OK;
}

static void paced_kick_out(u2c_link *link)
{
    refill_out((bench_paced *)link);
}

static void join_threads(bench_paced *l)
{
    if (l->threads_joined)
        return;
    u2c_mutex_lock(&l->lock);
    l->quit = true;
    u2c_cond_broadcast(&l->dev_cond);
    u2c_cond_broadcast(&l->host_cond);
    u2c_mutex_unlock(&l->lock);
    u2c_thread_join(&l->dev_thread);
    u2c_thread_join(&l->host_thread);
    l->threads_joined = true;
}

static void paced_stop(u2c_link *link)
{
    bench_paced *l = (bench_paced *)link;
    u2c_mutex_lock(&l->pull_lock);
    u2c_mutex_lock(&l->lock);
    l->started = false;
    u2c_mutex_unlock(&l->lock);
    u2c_mutex_unlock(&l->pull_lock);
    join_threads(l); /* no callback can be running once both threads are gone */
}

static void paced_destroy(u2c_link *link)
{
    bench_paced *l = (bench_paced *)link;
    join_threads(l);
    bdev_destroy(l->dev);
    u2c_cond_destroy(&l->dev_cond);
    u2c_cond_destroy(&l->host_cond);
    u2c_mutex_destroy(&l->pull_lock);
    u2c_mutex_destroy(&l->lock);
    free(l);
}

static const u2c_link_ops paced_ops = {paced_command, paced_start,   paced_kick_out,
                                       paced_stop,    paced_destroy, NULL};

bench_paced *bench_paced_create(bdev *d)
{
    bench_paced *l = calloc(1, sizeof *l);
    if (l == NULL) {
        bdev_destroy(d);
        return NULL;
    }
    l->base.ops = &paced_ops;
    snprintf(l->base.serial, sizeof l->base.serial, "BENCH");
    l->dev = d;
    u2c_mutex_init(&l->lock);
    u2c_mutex_init(&l->pull_lock);
    u2c_cond_init(&l->dev_cond);
    u2c_cond_init(&l->host_cond);
    if (u2c_thread_start(&l->dev_thread, device_thread, l) != 0) {
        l->threads_joined = true;
        paced_destroy(&l->base);
        return NULL;
    }
    if (u2c_thread_start(&l->host_thread, host_thread, l) != 0) {
        u2c_mutex_lock(&l->lock);
        l->quit = true;
        u2c_cond_broadcast(&l->dev_cond);
        u2c_mutex_unlock(&l->lock);
        u2c_thread_join(&l->dev_thread);
        l->threads_joined = true;
        paced_destroy(&l->base);
        return NULL;
    }
    return l;
}

u2c_link *bench_paced_link(bench_paced *l)
{
    return &l->base;
}

void bench_paced_with_device(bench_paced *l, bench_dev_fn fn, void *ctx)
{
    u2c_mutex_lock(&l->lock);
    fn(l->dev, ctx);
    if (l->dev_waiting)
        u2c_cond_signal(&l->dev_cond);
    u2c_mutex_unlock(&l->lock);
}

uint64_t bench_paced_device_cpu_ns(bench_paced *l)
{
    return bench_cpu_meter_read(&l->dev_cpu);
}

void bench_paced_delivery(bench_paced *l, uint64_t *delivered, uint64_t *max_delay_ns,
                          uint64_t *over_1ms)
{
    u2c_mutex_lock(&l->lock);
    *delivered = l->in_delivered;
    *max_delay_ns = l->in_delay_max_ns;
    *over_1ms = l->in_delays_over_1ms;
    u2c_mutex_unlock(&l->lock);
}

bool bench_paced_device_realtime(bench_paced *l)
{
    u2c_mutex_lock(&l->lock);
    bool rt = l->device_realtime;
    u2c_mutex_unlock(&l->lock);
    return rt;
}

uint64_t bench_paced_event_cpu_ns(bench_paced *l)
{
    return bench_cpu_meter_read(&l->host_cpu);
}
