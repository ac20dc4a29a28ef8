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
    if (ev->sender == d->dut_index)
        d->dut_sent++;
    else if (ev->sender == d->peer_index)
        d->peer_sent++;
}

static bool open_peer(bdev *d)
{
    u8d_bittiming bt;
    uint8_t request[U8D_CMD_SIZE], reply[U8D_CMD_SIZE];
    if (!u8d_bittiming_standard(BUS_KBPS, &bt) || u8d_encode_open(request, &bt, 0) != U8D_OK)
        return false;
    return u8d_model_command(d->peer, d->sim_now, request, sizeof request, reply) == sizeof reply &&
           u8d_check_reply(reply, sizeof reply, request[2]) == U8D_OK;
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
    d->bus = vbus_create(VBUS_PACED, now_ns);
    d->dut = u8d_model_create(&cfg, now_ns);
    d->peer = u8d_model_create(&cfg, now_ns);
    if (d->bus == NULL || d->dut == NULL || d->peer == NULL) {
        bdev_destroy(d);
        return NULL;
    }
    d->dut_index = vbus_attach(d->bus, d->dut);
    d->peer_index = vbus_attach(d->bus, d->peer);
    vbus_set_observer(d->bus, on_bus_event, d);
    bench_checker_init(&d->tx_check, p, BENCH_STREAM_TX);
    d->generating = true;
    if (!open_peer(d)) {
        bdev_destroy(d);
        return NULL;
    }
    return d;
}

void bdev_destroy(bdev *d)
{
    if (d == NULL)
        return;
    if (d->bus)
        vbus_destroy(d->bus);
    u8d_model_destroy(d->dut);
    u8d_model_destroy(d->peer);
    free(d);
}

size_t bdev_command(bdev *d, const uint8_t *request, size_t len, uint8_t reply[U8D_CMD_SIZE])
{
    return u8d_model_command(d->dut, d->sim_now, request, len, reply);
}

u8d_model_out bdev_out(bdev *d, const uint8_t *record, size_t len)
{
    return u8d_model_data_out(d->dut, d->sim_now, record, len);
}

size_t bdev_in(bdev *d, uint8_t packet[U8D_IN_PACKET_MAX])
{
    size_t n = u8d_model_data_in(d->dut, d->sim_now, packet);
    if (n > 0) {
        d->in_packets++;
        d->in_records[n / U8D_RX_RECORD_SIZE <= 3 ? n / U8D_RX_RECORD_SIZE : 0]++;
    }
    return n;
}

/* The peer offers its next frame once the DUT has caught up with it. */
static void feed_peer(bdev *d)
{
    if (!d->generating || d->peer_offered > d->dut_sent || u8d_model_tx_pending(d->peer) > 0)
        return;
    uint8_t record[U8D_TX_RECORD_SIZE];
    u8d_encode_tx(record, bench_frame(d->profile, BENCH_STREAM_RX, d->peer_offered));
    if (u8d_model_data_out(d->peer, d->sim_now, record, sizeof record) == U8D_MODEL_OUT_ACCEPTED)
        d->peer_offered++;
}

/* The peer's host reads everything at once and checks the TX stream. */
static void drain_peer(bdev *d)
{
    uint8_t packet[U8D_IN_PACKET_MAX];
    size_t n;
    while ((n = u8d_model_data_in(d->peer, d->sim_now, packet)) > 0) {
        u8d_in_packet pkt;
        u8d_decode_in_packet(packet, n, U8D_FLAVOR_VENDOR, &pkt);
        for (size_t i = 0; i < pkt.records; i++) {
            if (pkt.st[i] == U8D_OK && pkt.rec[i].type == U8D_TYPE_CAN)
                bench_checker_take(&d->tx_check, &pkt.rec[i].frame);
        }
    }
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
        uint64_t t = vbus_next_event_ns(d->bus);
        if (t <= now_ns) {
            if (t > d->sim_now)
                d->sim_now = t;
            if (vbus_step(d->bus, d->sim_now))
                continue;
            return UINT64_MAX; /* announced but not runnable: never spin on it */
        }
        if (d->sim_now < now_ns) {
            d->sim_now = now_ns;
            vbus_step(d->bus, now_ns); /* nothing is due: the bus clock moves on */
            continue;
        }
        return t;
    }
}
