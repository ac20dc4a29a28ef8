/* The soak benchmarks' paced bus, adapter under test and peer (bench_device.h). */
#include "bench_device.h"

#include <stdlib.h>
#include <string.h>

#define BUS_KBPS 1000u

static void on_bus_event(void *ctx, const vbus_event *ev)
{
    bdev *d = ctx;
    if (ev->outcome != VBUS_SENT) {
        d->error_frames++;
        return;
    }
    if (ev->sender == d->world.dut_index)
        d->dut_sent++;
    else if (ev->sender == d->world.peer_index)
        d->peer_sent++;
}

bdev *bdev_create(const bench_profile *p, uint64_t now_ns)
{
    bdev *d = calloc(1, sizeof *d);
    if (d == NULL)
        return NULL;
    u8d_model_config cfg;
    u8d_model_config_vendor(&cfg);
    d->profile = p;
    d->sim_now = now_ns;
    if (!sim_rig_init(&d->world, VBUS_PACED, &cfg, now_ns)) {
        free(d);
        return NULL;
    }
    vbus_set_observer(d->world.bus, on_bus_event, d);
    bench_checker_init(&d->tx_check, p, BENCH_STREAM_TX);
    d->generating = true;
    if (!sim_rig_peer_open(&d->world, BUS_KBPS, now_ns)) {
        bdev_destroy(d);
        return NULL;
    }
    return d;
}

void bdev_destroy(bdev *d)
{
    if (d == NULL)
        return;
    sim_rig_free(&d->world);
    free(d);
}

size_t bdev_command(bdev *d, const uint8_t *request, size_t len, uint8_t reply[U8D_CMD_SIZE])
{
    return u8d_model_command(d->world.dut, d->sim_now, request, len, reply);
}

u8d_model_out bdev_out(bdev *d, const uint8_t *record, size_t len)
{
    return u8d_model_data_out(d->world.dut, d->sim_now, record, len);
}

size_t bdev_in(bdev *d, uint8_t packet[U8D_IN_PACKET_MAX])
{
    size_t n = u8d_model_data_in(d->world.dut, d->sim_now, packet);
    if (n > 0) {
        d->in_packets++;
        d->in_records[n / U8D_RX_RECORD_SIZE <= 3 ? n / U8D_RX_RECORD_SIZE : 0]++;
    }
    return n;
}

/* The peer offers its next frame once the DUT has caught up with it. */
static void feed_peer(bdev *d)
{
    if (!d->generating || d->peer_offered > d->dut_sent || u8d_model_tx_pending(d->world.peer) > 0)
        return;
    if (sim_rig_peer_send(&d->world, bench_frame(d->profile, BENCH_STREAM_RX, d->peer_offered),
                          d->sim_now))
        d->peer_offered++;
}

static void check_tx_stream(void *ctx, const u8d_frame *f)
{
    bdev *d = ctx;
    bench_checker_take(&d->tx_check, f);
}

/* The peer's host reads everything at once and checks the TX stream. */
static void drain_peer(bdev *d)
{
    sim_rig_peer_drain(&d->world, d->sim_now, check_tx_stream, d);
}

static void local_work(bdev *d, bdev_pump_fn pump, void *ctx)
{
    if (pump)
        pump(ctx, d);
    drain_peer(d);
    feed_peer(d);
}

uint64_t bdev_advance(bdev *d, uint64_t now_ns, bdev_pump_fn pump, void *ctx)
{
    for (;;) {
        local_work(d, pump, ctx);
        uint64_t t = vbus_next_event_ns(d->world.bus);
        if (t <= now_ns) {
            if (t > d->sim_now)
                d->sim_now = t;
            if (vbus_step(d->world.bus, d->sim_now))
                continue;
            return UINT64_MAX; /* announced but not runnable: never spin on it */
        }
        if (d->sim_now < now_ns) {
            d->sim_now = now_ns;
            vbus_step(d->world.bus, now_ns); /* nothing is due: the bus clock moves on */
            continue;
        }
        return t;
    }
}
