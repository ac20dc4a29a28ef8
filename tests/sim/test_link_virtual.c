/* The virtual adapters through the link.h contract: naming, open/busy/close,
 * frames from one node to another, ACK errors while alone, automatic resume
 * of a blocked TX queue, unplug, CANalyze flavour and command timeouts. */
#include "model_helpers.h"

#include <stdio.h>

#include "link_open.h"
#include "link_virtual.h"
#include "osal.h"

/* A host side: frames to send, records received. */
typedef struct host {
    u8d_frame out[256];
    size_t out_count, out_next;
    u8d_rx_record in[512];
    size_t in_count;
    size_t packets;
    size_t bad_packets;
    int gone_calls;
    char gone_reason[80];
} host;

static void host_in(void *ctx, const uint8_t *bytes, size_t len)
{
    host *h = ctx;
    u8d_in_packet p;
    h->packets++;
    if (u8d_decode_in_packet(bytes, len, U8D_FLAVOR_VENDOR, &p) != U8D_OK)
        h->bad_packets++;
    for (size_t i = 0; i < p.records && h->in_count < 512; i++)
        if (p.st[i] == U8D_OK)
            h->in[h->in_count++] = p.rec[i];
}

static int host_next(void *ctx, uint8_t record[U8D_TX_RECORD_SIZE])
{
    host *h = ctx;
    if (h->out_next == h->out_count)
        return 0;
    assert_int_equal(u8d_encode_tx(record, &h->out[h->out_next++]), U8D_OK);
    return 1;
}

static void host_gone(void *ctx, const char *reason)
{
    host *h = ctx;
    h->gone_calls++;
    snprintf(h->gone_reason, sizeof h->gone_reason, "%s", reason);
}

static u2c_link_sink sink_of(host *h)
{
    return (u2c_link_sink){
        .ctx = h, .in_packet = host_in, .next_out = host_next, .gone = host_gone};
}

static u2c_link *open_ok(const char *serial)
{
    u2c_link_result res = U2C_LINK_IO;
    char reason[200] = "";
    u2c_link *l = u2c_link_open(serial, &res, reason, sizeof reason);
    assert_non_null(l);
    assert_int_equal(res, U2C_LINK_OK);
    return l;
}

static void command_ok(u2c_link *l, uint8_t cmd, uint8_t reply[U8D_CMD_SIZE])
{
    uint8_t req[U8D_CMD_SIZE];
    u8d_encode_command(req, cmd, 0, 0, NULL);
    assert_int_equal(l->ops->command(l, req, reply, 1000), U2C_LINK_OK);
    assert_int_equal(u8d_check_reply(reply, U8D_CMD_SIZE, cmd), U8D_OK);
}

static void open_can(u2c_link *l, unsigned kbps, uint32_t flags)
{
    u8d_bittiming bt;
    assert_true(u8d_bittiming_standard(kbps, &bt));
    uint8_t req[U8D_CMD_SIZE], reply[U8D_CMD_SIZE];
    assert_int_equal(u8d_encode_open(req, &bt, flags), U8D_OK);
    assert_int_equal(l->ops->command(l, req, reply, 1000), U2C_LINK_OK);
    assert_int_equal(u8d_check_reply(reply, U8D_CMD_SIZE, U8D_CMD_OPEN), U8D_OK);
}

static size_t count_can(const host *h)
{
    size_t n = 0;
    for (size_t i = 0; i < h->in_count; i++)
        n += h->in[i].type == U8D_TYPE_CAN;
    return n;
}

static bool has_status(const host *h, uint8_t code, uint8_t tec)
{
    for (size_t i = 0; i < h->in_count; i++) {
        if (h->in[i].type == U8D_TYPE_STATUS && h->in[i].frame.data[0] == code &&
            h->in[i].frame.data[2] == tec)
            return true;
    }
    return false;
}

static void test_serial_names(void **state)
{
    (void)state;
    unsigned slot = 99;
    assert_true(u2c_virtual_serial_slot("VIRTUAL", &slot));
    assert_int_equal(slot, 0);
    assert_true(u2c_virtual_serial_slot("virtual7", &slot));
    assert_int_equal(slot, 7);
    assert_true(u2c_virtual_serial_slot("Virtual3", &slot));
    assert_int_equal(slot, 3);
    assert_true(u2c_virtual_serial_slot("VIRTUAL8", &slot));
    assert_int_equal(slot, USB2CAN_VIRTUAL_ADAPTERS);
    assert_true(u2c_virtual_serial_slot("VIRTUAL00", &slot));
    assert_int_equal(slot, USB2CAN_VIRTUAL_ADAPTERS);
    assert_false(u2c_virtual_serial_slot("ED000200", &slot));
    assert_false(u2c_virtual_serial_slot("VIRTUA", &slot));
    assert_false(u2c_virtual_serial_slot(NULL, &slot));

    u2c_link_result res = U2C_LINK_OK;
    char reason[200] = "";
    assert_null(u2c_link_open("VIRTUAL8", &res, reason, sizeof reason));
    assert_int_equal(res, U2C_LINK_NOT_FOUND);
    assert_non_null(strstr(reason, "VIRTUAL0..VIRTUAL7"));
    assert_null(u2c_link_open(NULL, &res, reason, sizeof reason));
    assert_int_equal(res, U2C_LINK_NOT_FOUND);
    assert_true(strlen(reason) > 10);
}

static void test_open_busy_close_reopen(void **state)
{
    (void)state;
    u2c_link *a = open_ok("VIRTUAL");
    assert_string_equal(a->serial, "VIRTUAL0");
    assert_int_equal(u2c_link_virtual_slot(a), 0);

    u2c_link_result res = U2C_LINK_OK;
    char reason[200] = "";
    assert_null(u2c_link_open("virtual0", &res, reason, sizeof reason));
    assert_int_equal(res, U2C_LINK_BUSY);
    assert_non_null(strstr(reason, "VIRTUAL0 is already open"));

    u2c_link *b = open_ok("VIRTUAL1");
    uint8_t reply[U8D_CMD_SIZE];
    command_ok(b, U8D_CMD_GET_SOFTW_HARDW_VER, reply);
    u8d_version v = u8d_reply_version(reply);
    assert_int_equal(v.fw_major, 1);
    assert_int_equal(v.fw_minor, 7);
    assert_int_equal(v.hw_major, 1);
    assert_int_equal(v.hw_minor, 0);
    command_ok(b, U8D_CMD_GET_SERIAL, reply);
    assert_memory_equal(reply + 5, "VIRTUAL1", 8);

    a->ops->destroy(a);
    b->ops->destroy(b);
    assert_false(u2c_virtual_with_bus(NULL, NULL)); /* the bus went with the last close */
    a = open_ok("VIRTUAL0");
    a->ops->destroy(a);
}

static void test_frames_reach_the_other_node(void **state)
{
    (void)state;
    static host ha, hb;
    memset(&ha, 0, sizeof ha);
    memset(&hb, 0, sizeof hb);
    u2c_link *a = open_ok("VIRTUAL0");
    u2c_link *b = open_ok("VIRTUAL1");
    u2c_link_sink sa = sink_of(&ha), sb = sink_of(&hb);
    assert_int_equal(a->ops->start(a, &sa), U2C_LINK_OK);
    assert_int_equal(b->ops->start(b, &sb), U2C_LINK_OK);
    open_can(a, 500, U8D_OPEN_STATUS_FRAMES);
    open_can(b, 500, U8D_OPEN_STATUS_FRAMES);

    uint64_t t0 = u2c_now_ns();
    for (unsigned i = 0; i < 100; i++)
        ha.out[ha.out_count++] = std_frame(0x100 + i, (uint8_t)(i % 9), (uint8_t)i);
    a->ops->kick_out(a);
    uint64_t t1 = u2c_now_ns();

    assert_int_equal(ha.out_next, 100);
    assert_int_equal(count_can(&hb), 100);
    for (unsigned i = 0; i < 100; i++) {
        assert_int_equal(hb.in[i].type, U8D_TYPE_CAN);
        assert_int_equal(hb.in[i].frame.id, 0x100 + i);
        assert_int_equal(hb.in[i].frame.dlc, i % 9);
        assert_memory_equal(hb.in[i].frame.data, ha.out[i].data, i % 9);
    }
    assert_int_equal(ha.in_count, 0); /* no echo without loopback */
    /* Timestamps: device ticks of 992.1875 us since the adapter was opened. */
    assert_true(hb.in[99].timestamp <= (t1 - t0) / 992187u + 2000u);

    uint8_t reply[U8D_CMD_SIZE];
    command_ok(b, U8D_CMD_GET_STATISTICS, reply);
    assert_int_equal(u8d_reply_be32(reply), 100); /* index 0 = RX frames */

    a->ops->stop(a);
    b->ops->stop(b);
    a->ops->destroy(a);
    b->ops->destroy(b);
}

static void test_lone_sender_then_second_node_resumes(void **state)
{
    (void)state;
    static host ha, hb;
    memset(&ha, 0, sizeof ha);
    memset(&hb, 0, sizeof hb);
    u2c_link *a = open_ok("VIRTUAL2");
    u2c_link_sink sa = sink_of(&ha), sb = sink_of(&hb);
    assert_int_equal(a->ops->start(a, &sa), U2C_LINK_OK);
    open_can(a, 250, 0);
    for (unsigned i = 0; i < 100; i++)
        ha.out[ha.out_count++] = std_frame(0x200 + i, 8, (uint8_t)i);
    a->ops->kick_out(a);

    /* Alone: ACK errors up to error-passive, the device queue fills, the link stops pulling. */
    assert_int_equal(ha.out_next, U8D_MODEL_TX_CAPACITY);
    assert_true(has_status(&ha, U8D_SC_ACK, 8));
    assert_true(has_status(&ha, U8D_SC_BUSLIGHT, 96));
    assert_true(has_status(&ha, U8D_SC_BUSHEAVY, 128));
    assert_false(has_status(&ha, U8D_SC_BUSOFF, 128));
    uint8_t reply[U8D_CMD_SIZE];
    command_ok(a, U8D_CMD_GET_STATUS, reply);
    assert_int_equal(u8d_reply_be32(reply), U8D_STATUS_PASSIVE | U8D_STATUS_BUS_WARN | 128u);

    /* A second node opens: everything goes through, pulling resumes by itself. */
    u2c_link *b = open_ok("VIRTUAL5");
    assert_int_equal(b->ops->start(b, &sb), U2C_LINK_OK);
    open_can(b, 250, 0);
    assert_int_equal(ha.out_next, 100);
    assert_int_equal(count_can(&hb), 100);
    for (unsigned i = 0; i < 100; i++)
        assert_int_equal(hb.in[i].frame.id, 0x200 + i);
    command_ok(a, U8D_CMD_GET_STATUS, reply);
    assert_int_equal(u8d_reply_be32(reply), 28u);       /* TEC 128 - 100 successes */
    assert_true(has_status(&ha, U8D_SC_OK, 127));       /* LEC back to no error */
    assert_true(has_status(&ha, U8D_SC_BUSLIGHT, 127)); /* passive -> warning */
    assert_true(has_status(&ha, U8D_SC_OK, 95));        /* warning -> active */

    a->ops->destroy(a);
    b->ops->destroy(b);
}

static void test_unplug_reports_gone_once(void **state)
{
    (void)state;
    static host ha;
    memset(&ha, 0, sizeof ha);
    u2c_link *a = open_ok("VIRTUAL3");
    u2c_link_sink sa = sink_of(&ha);
    assert_int_equal(a->ops->start(a, &sa), U2C_LINK_OK);
    assert_true(u2c_virtual_unplug(3));
    assert_int_equal(ha.gone_calls, 1);
    assert_string_equal(ha.gone_reason, "device unplugged");
    uint8_t req[U8D_CMD_SIZE], reply[U8D_CMD_SIZE];
    u8d_encode_command(req, U8D_CMD_GET_STATUS, 0, 0, NULL);
    assert_int_equal(a->ops->command(a, req, reply, 1000), U2C_LINK_GONE);
    a->ops->kick_out(a);
    assert_true(u2c_virtual_unplug(3));
    assert_int_equal(ha.gone_calls, 1);
    a->ops->stop(a);
    a->ops->destroy(a);
    assert_false(u2c_virtual_unplug(3));
    a = open_ok("VIRTUAL3"); /* replugged */
    a->ops->destroy(a);
}

static void test_canalyze_slot_and_dead_command_pipe(void **state)
{
    (void)state;
    u8d_model_config cfg;
    u8d_model_config_canalyze(&cfg);
    assert_true(u2c_virtual_set_config(4, &cfg));
    u2c_link *a = open_ok("VIRTUAL4");
    uint8_t reply[U8D_CMD_SIZE];
    command_ok(a, U8D_CMD_GET_SOFTW_HARDW_VER, reply);
    u8d_version v = u8d_reply_version(reply);
    assert_int_equal(u8d_flavor_of(v), U8D_FLAVOR_CANALYZE);

    uint8_t req[U8D_CMD_SIZE];
    u8d_encode_command(req, U8D_CMD_GET_STATUS, 0, 0, NULL);
    uint64_t t0 = u2c_now_ns();
    assert_int_equal(a->ops->command(a, req, reply, 50), U2C_LINK_TIMEOUT);
    uint64_t waited = u2c_now_ns() - t0;
    assert_true(waited >= 50 * MS);
    /* The pipe is dead now: even a supported command times out. */
    u8d_encode_command(req, U8D_CMD_GET_SOFTW_HARDW_VER, 0, 0, NULL);
    assert_int_equal(a->ops->command(a, req, reply, 20), U2C_LINK_TIMEOUT);
    a->ops->destroy(a);
    assert_true(u2c_virtual_set_config(4, NULL));
    a = open_ok("VIRTUAL4");
    command_ok(a, U8D_CMD_GET_STATUS, reply);
    a->ops->destroy(a);
}

static void test_paused_host_overruns_then_gets_packed_packets(void **state)
{
    (void)state;
    static host ha, hb;
    memset(&ha, 0, sizeof ha);
    memset(&hb, 0, sizeof hb);
    u2c_link *a = open_ok("VIRTUAL0");
    u2c_link *b = open_ok("VIRTUAL1");
    u2c_link_sink sa = sink_of(&ha), sb = sink_of(&hb);
    assert_int_equal(a->ops->start(a, &sa), U2C_LINK_OK);
    assert_int_equal(b->ops->start(b, &sb), U2C_LINK_OK);
    open_can(a, 1000, 0);
    open_can(b, 1000, 0);
    assert_true(u2c_virtual_pause_in(1, true));
    for (unsigned i = 0; i < 100; i++)
        ha.out[ha.out_count++] = std_frame(0x700 + i, 1, (uint8_t)i);
    a->ops->kick_out(a);
    assert_int_equal(ha.out_next, 100);
    assert_int_equal(hb.packets, 0);
    assert_true(u2c_virtual_pause_in(1, false));
    /* One record was loaded before the list filled; then packets of 3. */
    assert_int_equal(hb.in_count, 64);
    assert_int_equal(hb.packets, 1 + 21);
    for (unsigned i = 0; i < 64; i++)
        assert_int_equal(hb.in[i].frame.id, 0x700 + i);
    uint8_t reply[U8D_CMD_SIZE], req[U8D_CMD_SIZE];
    u8d_encode_command(req, U8D_CMD_GET_STATISTICS, U8D_STAT_OVERRUNS, 0, NULL);
    assert_int_equal(b->ops->command(b, req, reply, 1000), U2C_LINK_OK);
    assert_int_equal(u8d_reply_be32(reply), 36);
    assert_false(u2c_virtual_pause_in(5, true)); /* not open */
    a->ops->destroy(a);
    b->ops->destroy(b);
}

static void test_reset_command_leaves_the_bus(void **state)
{
    (void)state;
    static host ha;
    memset(&ha, 0, sizeof ha);
    u2c_link *a = open_ok("VIRTUAL2");
    u2c_link_sink sa = sink_of(&ha);
    assert_int_equal(a->ops->start(a, &sa), U2C_LINK_OK);
    uint8_t reply[U8D_CMD_SIZE];
    command_ok(a, U8D_CMD_RESET, reply);
    assert_int_equal(ha.gone_calls, 1);
    uint8_t req[U8D_CMD_SIZE];
    u8d_encode_command(req, U8D_CMD_GET_STATUS, 0, 0, NULL);
    assert_int_equal(a->ops->command(a, req, reply, 1000), U2C_LINK_GONE);
    a->ops->destroy(a);
}

/* Reads host counters under the virtual lock (callbacks may run on the clock thread). */
typedef struct probe {
    host *h;
    size_t out_next, can_count;
    uint32_t lost;
    size_t tx_pending;
} probe;

static void probe_fn(u8d_model *m, uint64_t now, void *ctx)
{
    (void)now;
    probe *p = ctx;
    p->out_next = p->h->out_next;
    p->can_count = count_can(p->h);
    p->lost = u8d_model_frames_lost(m);
    p->tx_pending = u8d_model_tx_pending(m);
}

static probe probe_slot(unsigned slot, host *h)
{
    probe p = {.h = h};
    assert_true(u2c_virtual_with_model(slot, probe_fn, &p));
    return p;
}

static void test_canalyze_transmit_timeout_runs_by_itself(void **state)
{
    (void)state;
    static host ha;
    memset(&ha, 0, sizeof ha);
    u8d_model_config cfg;
    u8d_model_config_canalyze(&cfg);
    assert_true(u2c_virtual_set_config(6, &cfg));
    u2c_link *a = open_ok("VIRTUAL6");
    u2c_link_sink sa = sink_of(&ha);
    assert_int_equal(a->ops->start(a, &sa), U2C_LINK_OK);
    open_can(a, 500, 0);
    for (unsigned i = 0; i < 4; i++)
        ha.out[ha.out_count++] = std_frame(0x600 + i, 1, (uint8_t)i);
    uint64_t t0 = u2c_now_ns();
    a->ops->kick_out(a);
    /* Alone, each frame blocks the OUT endpoint for its 10 ms transmit
     * timeout; the 4th finds all 3 mailboxes busy and is lost. */
    probe p = probe_slot(6, &ha);
    if (u2c_now_ns() - t0 < 9 * MS)
        assert_int_equal(p.out_next, 1);
    do {
        u2c_sleep_ms(5);
        p = probe_slot(6, &ha);
    } while (p.out_next < 4 && u2c_now_ns() - t0 < 2000 * MS);
    assert_int_equal(p.out_next, 4);
    assert_true(u2c_now_ns() - t0 >= 30 * MS);
    u2c_sleep_ms(15);
    p = probe_slot(6, &ha);
    assert_int_equal(p.lost, 1);
    assert_int_equal(p.tx_pending, 3);
    /* CANalyze status records: an ACK error per attempt. */
    assert_true(ha.in_count >= 1);
    assert_int_equal(ha.in[0].type, U8D_TYPE_STATUS);
    assert_int_equal(ha.in[0].frame.data[0], U8D_SC_ACK);
    a->ops->stop(a);
    a->ops->destroy(a);
    assert_true(u2c_virtual_set_config(6, NULL));
}

static void test_paced_bus_takes_real_bit_time(void **state)
{
    (void)state;
    static host ha, hb;
    memset(&ha, 0, sizeof ha);
    memset(&hb, 0, sizeof hb);
    assert_true(u2c_virtual_set_paced(true));
    u2c_link *a = open_ok("VIRTUAL0");
    assert_false(u2c_virtual_set_paced(false)); /* not while a bus exists */
    u2c_link *b = open_ok("VIRTUAL1");
    u2c_link_sink sa = sink_of(&ha), sb = sink_of(&hb);
    assert_int_equal(a->ops->start(a, &sa), U2C_LINK_OK);
    assert_int_equal(b->ops->start(b, &sb), U2C_LINK_OK);
    open_can(a, 125, 0);
    open_can(b, 125, 0);
    for (unsigned i = 0; i < 50; i++)
        ha.out[ha.out_count++] = std_frame(0x100, 8, (uint8_t)i);
    uint64_t t0 = u2c_now_ns();
    a->ops->kick_out(a);
    /* 50 frames of 8 bytes at 125 kbit/s: at least 50 * 111 bits * 8 us = 44.4 ms. */
    probe p = probe_slot(1, &hb);
    if (u2c_now_ns() - t0 < 40 * MS)
        assert_true(p.can_count < 50);
    do {
        u2c_sleep_ms(5);
        p = probe_slot(1, &hb);
    } while (p.can_count < 50 && u2c_now_ns() - t0 < 5000 * MS);
    assert_int_equal(p.can_count, 50);
    assert_true(u2c_now_ns() - t0 >= 44 * MS);
    /* Device timestamps span the bus time: 49 frame times >= 43.5 ms = 43 ticks. */
    assert_true(hb.in[49].timestamp - hb.in[0].timestamp >= 43);
    a->ops->destroy(a);
    b->ops->destroy(b);
    assert_true(u2c_virtual_set_paced(false));
}

/* Two hosts on their own threads, each with its own lock (like a channel),
 * sending to each other while polling status: every frame arrives, in order. */
typedef struct thread_host {
    u2c_mutex lock;
    u2c_link *link;
    unsigned next_to_send, total;
    unsigned received, in_order;
    uint32_t id_base, peer_base;
} thread_host;

static void th_in(void *ctx, const uint8_t *bytes, size_t len)
{
    thread_host *h = ctx;
    u8d_in_packet p;
    (void)u8d_decode_in_packet(bytes, len, U8D_FLAVOR_VENDOR, &p);
    const u8d_rx_record *r = p.rec;
    u2c_mutex_lock(&h->lock);
    for (size_t i = 0; i < p.records; i++) {
        if (p.st[i] != U8D_OK || r[i].type != U8D_TYPE_CAN)
            continue;
        uint32_t seq = (uint32_t)r[i].frame.data[0] << 8 | r[i].frame.data[1];
        h->in_order += seq == h->received && r[i].frame.id == h->peer_base + seq % 16;
        h->received++;
    }
    u2c_mutex_unlock(&h->lock);
}

static int th_next(void *ctx, uint8_t record[U8D_TX_RECORD_SIZE])
{
    thread_host *h = ctx;
    u2c_mutex_lock(&h->lock);
    int have = h->next_to_send < h->total;
    if (have) {
        unsigned seq = h->next_to_send++;
        u8d_frame f = {
            .id = h->id_base + seq % 16, .dlc = 2, .data = {(uint8_t)(seq >> 8), (uint8_t)seq}};
        (void)u8d_encode_tx(record, &f);
    }
    u2c_mutex_unlock(&h->lock);
    return have;
}

static void th_main(void *arg)
{
    thread_host *h = arg;
    uint8_t req[U8D_CMD_SIZE], reply[U8D_CMD_SIZE];
    u8d_encode_command(req, U8D_CMD_GET_STATUS, 0, 0, NULL);
    for (unsigned round = 0; round < 200; round++) {
        u2c_mutex_lock(&h->lock);
        h->total += 10;
        u2c_mutex_unlock(&h->lock);
        h->link->ops->kick_out(h->link);
        (void)h->link->ops->command(h->link, req, reply, 1000);
    }
}

static void test_two_threads_exchange_frames(void **state)
{
    (void)state;
    static thread_host h[2];
    memset(h, 0, sizeof h);
    u2c_thread t[2];
    for (unsigned i = 0; i < 2; i++) {
        u2c_mutex_init(&h[i].lock);
        h[i].id_base = 0x100 + 0x100 * i;
        h[i].peer_base = 0x200 - 0x100 * i;
        h[i].link = open_ok(i ? "VIRTUAL1" : "VIRTUAL0");
        u2c_link_sink s = {.ctx = &h[i], .in_packet = th_in, .next_out = th_next};
        assert_int_equal(h[i].link->ops->start(h[i].link, &s), U2C_LINK_OK);
        open_can(h[i].link, 1000, 0);
    }
    for (unsigned i = 0; i < 2; i++)
        assert_int_equal(u2c_thread_start(&t[i], th_main, &h[i]), 0);
    for (unsigned i = 0; i < 2; i++)
        u2c_thread_join(&t[i]);
    for (unsigned i = 0; i < 2; i++) {
        h[i].link->ops->stop(h[i].link);
        u2c_mutex_lock(&h[i].lock);
        assert_int_equal(h[i].received, 2000);
        assert_int_equal(h[i].in_order, 2000);
        u2c_mutex_unlock(&h[i].lock);
    }
    for (unsigned i = 0; i < 2; i++) {
        h[i].link->ops->destroy(h[i].link);
        u2c_mutex_destroy(&h[i].lock);
    }
}

int main(void)
{
    /* These tests step the link deterministically: instant bus unless a test
     * asks for the (default) paced one itself. */
    u2c_virtual_set_paced(false);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serial_names),
        cmocka_unit_test(test_open_busy_close_reopen),
        cmocka_unit_test(test_frames_reach_the_other_node),
        cmocka_unit_test(test_lone_sender_then_second_node_resumes),
        cmocka_unit_test(test_unplug_reports_gone_once),
        cmocka_unit_test(test_canalyze_slot_and_dead_command_pipe),
        cmocka_unit_test(test_paused_host_overruns_then_gets_packed_packets),
        cmocka_unit_test(test_reset_command_leaves_the_bus),
        cmocka_unit_test(test_canalyze_transmit_timeout_runs_by_itself),
        cmocka_unit_test(test_paced_bus_takes_real_bit_time),
        cmocka_unit_test(test_two_threads_exchange_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
