/* The virtual CAN bus with device models on it: frame bits, ACK errors and
 * fault confinement, status records, arbitration, loopback, listen-only,
 * one-shot, bit-rate mismatch, bus-off and recovery, paced timing, load,
 * determinism. */
#include "model_helpers.h"

#include <stdlib.h>

#include "vbus.h"

#define NODES 4

typedef struct rig {
    vbus *bus;
    u8d_model *m[NODES];
    u8d_rx_record rx[NODES][256];
    size_t rx_count[NODES];
    vbus_event ev[512];
    size_t ev_count;
} rig;

static void observe(void *ctx, const vbus_event *ev)
{
    rig *r = ctx;
    if (r->ev_count < 512)
        r->ev[r->ev_count++] = *ev;
}

static rig *rig_new(vbus_mode mode, unsigned nodes)
{
    rig *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->bus = vbus_create(mode, 0);
    assert_non_null(r->bus);
    vbus_set_observer(r->bus, observe, r);
    for (unsigned i = 0; i < nodes; i++) {
        u8d_model_config cfg;
        u8d_model_config_vendor(&cfg);
        r->m[i] = u8d_model_create(&cfg, 0);
        assert_int_equal(vbus_attach(r->bus, r->m[i]), (int)i);
    }
    return r;
}

static void rig_free(rig *r)
{
    vbus_destroy(r->bus);
    for (unsigned i = 0; i < NODES; i++)
        u8d_model_destroy(r->m[i]);
    free(r);
}

/* Every host reads everything its device has. */
static bool read_all(rig *r, uint64_t now)
{
    bool got = false;
    for (unsigned i = 0; i < NODES; i++) {
        if (r->m[i] == NULL)
            continue;
        u8d_rx_record rec[3];
        size_t n;
        while ((n = model_read(r->m[i], now, rec)) > 0) {
            for (size_t k = 0; k < n && r->rx_count[i] < 256; k++)
                r->rx[i][r->rx_count[i]++] = rec[k];
            got = true;
        }
    }
    return got;
}

/* Runs the bus to `now`, hosts reading after every event. */
static void settle(rig *r, uint64_t now)
{
    bool moved = true;
    while (moved) {
        moved = vbus_step(r->bus, now);
        moved |= read_all(r, now);
    }
}

static size_t count_type(const rig *r, unsigned node, uint8_t type)
{
    size_t n = 0;
    for (size_t i = 0; i < r->rx_count[node]; i++)
        n += r->rx[node][i].type == type;
    return n;
}

/* The n-th status record of a node (asserts it exists). */
static const u8d_rx_record *status_at(const rig *r, unsigned node, size_t n)
{
    for (size_t i = 0; i < r->rx_count[node]; i++) {
        if (r->rx[node][i].type == U8D_TYPE_STATUS && n-- == 0)
            return &r->rx[node][i];
    }
    fail_msg("node %u has fewer status records", node);
    return NULL;
}

static void assert_status(const u8d_rx_record *s, uint8_t code, uint8_t rec, uint8_t tec)
{
    assert_int_equal(s->frame.flags, U8D_FLAG_ERR);
    assert_int_equal(s->frame.dlc, 4);
    assert_int_equal(s->frame.id, 0);
    assert_int_equal(s->frame.data[0], code);
    assert_int_equal(s->frame.data[1], rec);
    assert_int_equal(s->frame.data[2], tec);
    assert_int_equal(s->frame.data[3], 0);
}

static uint32_t status_word(u8d_model *m)
{
    uint8_t reply[U8D_CMD_SIZE];
    model_cmd(m, 0, U8D_CMD_GET_STATUS, 0, 0, reply);
    return u8d_reply_be32(reply);
}

static uint32_t stat(u8d_model *m, uint8_t index)
{
    uint8_t reply[U8D_CMD_SIZE];
    model_cmd(m, 0, U8D_CMD_GET_STATISTICS, index, 0, reply);
    return u8d_reply_be32(reply);
}

static u8d_model_can_view view(u8d_model *m)
{
    u8d_model_can_view v;
    u8d_model_can_state(m, &v);
    return v;
}

/* --- frame bits --------------------------------------------------------------- */

static void test_frame_bits(void **state)
{
    (void)state;
    /* All-zero standard frame: 34 bits SOF..CRC (CRC of zeros is 0), all
     * dominant, so a stuff bit after every 5: 6 stuff bits; +13 tail = 53. */
    u8d_frame zero = {0};
    assert_int_equal(vbus_frame_stuff_bits(&zero), 6);
    assert_int_equal(vbus_frame_bits(&zero), 53);
    /* Seed 002's frame 0x555 with 11 22 .. 88: 98 bits, 1 stuff bit. */
    u8d_frame f555 = {
        .id = 0x555, .dlc = 8, .data = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}};
    assert_int_equal(vbus_frame_bits(&f555), 112);
    u8d_frame ext_rtr = {
        .id = 0x12345678 & 0x1FFFFFFF, .flags = U8D_FLAG_EXT | U8D_FLAG_RTR, .dlc = 4};
    assert_int_equal(vbus_frame_bits(&ext_rtr), 67);
    u8d_frame ext_ff = {.id = 0x1FFFFFFF, .flags = U8D_FLAG_EXT, .dlc = 8};
    memset(ext_ff.data, 0xFF, 8);
    assert_int_equal(vbus_frame_bits(&ext_ff), 149);

    /* Every frame within the frame-length bounds of docs/protocol.md: 47+8n (std) / 67+8n (ext)
     * without stuffing, at most floor((34+8n-1)/4) / floor((54+8n-1)/4) stuff bits. */
    uint32_t seed = 12345;
    for (unsigned i = 0; i < 20000; i++) {
        u8d_frame f = {0};
        seed = seed * 1103515245u + 12345u;
        f.flags = (uint8_t)((seed >> 8) & 3u);
        f.id = (seed >> 3) & ((f.flags & U8D_FLAG_EXT) ? 0x1FFFFFFFu : 0x7FFu);
        f.dlc = (uint8_t)((seed >> 20) % 9u);
        for (unsigned k = 0; k < 8; k++) {
            seed = seed * 1103515245u + 12345u;
            f.data[k] = (uint8_t)(seed >> 16);
        }
        unsigned n = (f.flags & U8D_FLAG_RTR) ? 0 : f.dlc;
        unsigned base = (f.flags & U8D_FLAG_EXT) ? 67 + 8 * n : 47 + 8 * n;
        unsigned worst = (f.flags & U8D_FLAG_EXT) ? (54 + 8 * n - 1) / 4 : (34 + 8 * n - 1) / 4;
        unsigned bits = vbus_frame_bits(&f);
        assert_int_equal(bits, base + vbus_frame_stuff_bits(&f));
        assert_true(vbus_frame_stuff_bits(&f) <= worst);
    }
    assert_int_equal(vbus_bits_to_ns(53, 1000000), 53000);
    assert_int_equal(vbus_bits_to_ns(3, 800000), 3750);
}

/* --- ACK errors and fault confinement --------------------------------------------- */

static void test_lone_sender_goes_passive_never_bus_off(void **state)
{
    (void)state;
    rig *r = rig_new(VBUS_INSTANT, 1);
    model_open(r->m[0], 0, 500, 0);
    u8d_frame f = std_frame(0x123, 8, 0);
    assert_int_equal(model_send(r->m[0], 0, &f), U8D_MODEL_OUT_ACCEPTED);
    for (unsigned k = 1; k <= 16; k++) {
        assert_true(vbus_step(r->bus, 0));
        assert_int_equal(view(r->m[0]).tec, 8 * k);
        assert_int_equal(view(r->m[0]).lec, U8D_LEC_ACK);
    }
    /* Error-passive: a further ACK error changes nothing, the frame is parked. */
    assert_true(vbus_step(r->bus, 0));
    assert_false(vbus_step(r->bus, 0));
    assert_int_equal(view(r->m[0]).tec, 128);
    assert_false(view(r->m[0]).bus_off);
    read_all(r, 0);
    assert_int_equal(r->rx_count[0], 3);
    assert_status(status_at(r, 0, 0), U8D_SC_ACK, 0, 8);
    assert_status(status_at(r, 0, 1), U8D_SC_BUSLIGHT, 0, 96);
    assert_status(status_at(r, 0, 2), U8D_SC_BUSHEAVY, 0, 128);
    assert_int_equal(status_word(r->m[0]), U8D_STATUS_PASSIVE | U8D_STATUS_BUS_WARN | 128u);
    assert_int_equal(stat(r->m[0], U8D_STAT_WARNINGS), 1);
    assert_int_equal(stat(r->m[0], U8D_STAT_BUSOFF), 0);
    assert_int_equal(stat(r->m[0], U8D_STAT_TX_FRAMES), 0);
    assert_int_equal(u8d_model_tx_pending(r->m[0]), 1);
    rig_free(r);
}

static void test_second_node_joins_and_tec_decreases(void **state)
{
    (void)state;
    rig *r = rig_new(VBUS_INSTANT, 2);
    model_open(r->m[0], 0, 250, 0);
    for (unsigned i = 0; i < 20; i++) {
        u8d_frame f = std_frame(0x400 + i, 4, (uint8_t)i);
        assert_int_equal(model_send(r->m[0], 0, &f), U8D_MODEL_OUT_ACCEPTED);
    }
    settle(r, 0);
    assert_int_equal(view(r->m[0]).tec, 128);
    assert_int_equal(r->rx_count[1], 0); /* closed nodes hear nothing */
    model_open(r->m[1], 0, 250, 0);
    settle(r, 0);
    assert_int_equal(count_type(r, 1, U8D_TYPE_CAN), 20);
    for (unsigned i = 0; i < 20; i++)
        assert_int_equal(r->rx[1][i].frame.id, 0x400 + i);
    assert_int_equal(view(r->m[0]).tec, 108);
    /* Sender: ACK, BUSLIGHT, BUSHEAVY, then BUSLIGHT (127) and OK (LEC 0). */
    assert_status(status_at(r, 0, 3), U8D_SC_BUSLIGHT, 0, 127);
    assert_status(status_at(r, 0, 4), U8D_SC_OK, 0, 127);
    assert_int_equal(status_word(r->m[0]), U8D_STATUS_BUS_WARN | 108u);
    assert_int_equal(stat(r->m[0], U8D_STAT_TX_FRAMES), 20);
    assert_int_equal(stat(r->m[1], U8D_STAT_RX_FRAMES), 20);
    assert_int_equal(stat(r->m[1], U8D_STAT_RX_BYTES), 80);
    /* Keep going until the sender is error-active again: OK at TEC 95. */
    for (unsigned i = 0; i < 20; i++) {
        u8d_frame f = std_frame(0x500 + i, 0, 0);
        assert_int_equal(model_send(r->m[0], 0, &f), U8D_MODEL_OUT_ACCEPTED);
        settle(r, 0);
    }
    assert_int_equal(view(r->m[0]).tec, 88);
    assert_status(status_at(r, 0, 5), U8D_SC_OK, 0, 95);
    rig_free(r);
}

static void test_bus_off_by_bit_errors_and_recovery_by_open(void **state)
{
    (void)state;
    rig *r = rig_new(VBUS_INSTANT, 2);
    model_open(r->m[0], 0, 500, 0);
    model_open(r->m[1], 0, 500, 0);
    u8d_model_inject_tx_errors(r->m[0], U8D_LEC_BIT0, 40);
    u8d_frame f = std_frame(0x7E, 2, 9);
    assert_int_equal(model_send(r->m[0], 0, &f), U8D_MODEL_OUT_ACCEPTED);
    f.id = 0x7F;
    assert_int_equal(model_send(r->m[0], 0, &f), U8D_MODEL_OUT_ACCEPTED);
    settle(r, 0);
    /* 32 bit errors: TEC 256 = bus-off (bit errors count while passive). */
    u8d_model_can_view v = view(r->m[0]);
    assert_true(v.bus_off);
    assert_int_equal(r->ev_count, 32);
    assert_status(status_at(r, 0, 0), U8D_SC_BIT0, 0, 8);
    assert_status(status_at(r, 0, 1), U8D_SC_BUSLIGHT, 0, 96);
    assert_status(status_at(r, 0, 2), U8D_SC_BUSHEAVY, 0, 128);
    assert_status(status_at(r, 0, 3), U8D_SC_BUSOFF, 0, 255);
    assert_int_equal(status_word(r->m[0]) & 0xE0000000u,
                     U8D_STATUS_BUS_OFF | U8D_STATUS_PASSIVE | U8D_STATUS_BUS_WARN);
    assert_int_equal(stat(r->m[0], U8D_STAT_BUSOFF), 1);
    assert_int_equal(count_type(r, 1, U8D_TYPE_CAN), 0);
    assert_int_equal(view(r->m[1]).rec, 32); /* the receiver saw 32 error flags */
    /* Bus-off: no transmission, no reception. */
    u8d_frame g = std_frame(0x10, 0, 0);
    assert_int_equal(model_send(r->m[1], 0, &g), U8D_MODEL_OUT_ACCEPTED);
    settle(r, 0);
    assert_int_equal(count_type(r, 0, U8D_TYPE_CAN), 0);
    assert_int_equal(view(r->m[1]).tec, 128); /* nobody ACKed it */

    /* OPEN re-initialises: counters 0, the message object's frame lost, the
     * queued one goes out after node 1's pending frame. */
    u8d_model_inject_tx_errors(r->m[0], U8D_LEC_BIT0, 0);
    model_open(r->m[0], 0, 500, 0);
    v = view(r->m[0]);
    assert_false(v.bus_off);
    assert_int_equal(v.tec, 0);
    assert_int_equal(status_word(r->m[0]), 0);
    settle(r, 0);
    assert_int_equal(u8d_model_frames_lost(r->m[0]), 1);
    assert_int_equal(count_type(r, 1, U8D_TYPE_CAN), 1);
    assert_int_equal(r->rx[1][r->rx_count[1] - 1].frame.id, 0x7F);
    assert_int_equal(count_type(r, 0, U8D_TYPE_CAN), 1); /* node 1's frame got through */
    rig_free(r);
}

static void test_bitrate_mismatch_drives_sender_bus_off(void **state)
{
    (void)state;
    rig *r = rig_new(VBUS_INSTANT, 2);
    model_open(r->m[0], 0, 500, 0);
    model_open(r->m[1], 0, 250, 0);
    u8d_frame f = std_frame(0x100, 1, 1);
    assert_int_equal(model_send(r->m[0], 0, &f), U8D_MODEL_OUT_ACCEPTED);
    settle(r, 0);
    assert_true(view(r->m[0]).bus_off);
    assert_int_equal(view(r->m[1]).rec, 32);
    assert_status(status_at(r, 0, 0), U8D_SC_BIT1, 0, 8);
    assert_status(status_at(r, 1, 0), U8D_SC_STUFF, 1, 0);
    assert_int_equal(count_type(r, 1, U8D_TYPE_CAN), 0);
    rig_free(r);
}

/* --- modes ---------------------------------------------------------------------- */

static void test_loopback(void **state)
{
    (void)state;
    rig *r = rig_new(VBUS_INSTANT, 2);
    model_open(r->m[0], 0, 500, U8D_OPEN_LOOPBACK);
    for (unsigned i = 0; i < 3; i++) {
        u8d_frame f = std_frame(0x20 + i, 2, (uint8_t)i);
        assert_int_equal(model_send(r->m[0], 0, &f), U8D_MODEL_OUT_ACCEPTED);
    }
    settle(r, 0);
    /* Alone, no ACK needed: its own frames come back. */
    assert_int_equal(r->rx_count[0], 3);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(r->rx[0][i].type, U8D_TYPE_CAN);
        assert_int_equal(r->rx[0][i].frame.id, 0x20 + i);
    }
    assert_int_equal(view(r->m[0]).tec, 0);
    assert_int_equal(stat(r->m[0], U8D_STAT_TX_FRAMES), 3);
    assert_int_equal(stat(r->m[0], U8D_STAT_RX_FRAMES), 3);
    /* With a normal node: it receives them; the loopback node ignores the bus
     * and does not ACK node 1's frame. */
    model_open(r->m[1], 0, 500, 0);
    u8d_frame f = std_frame(0x30, 0, 0);
    assert_int_equal(model_send(r->m[0], 0, &f), U8D_MODEL_OUT_ACCEPTED);
    settle(r, 0);
    assert_int_equal(count_type(r, 1, U8D_TYPE_CAN), 1);
    assert_int_equal(r->rx[1][0].frame.id, 0x30);
    f.id = 0x31;
    assert_int_equal(model_send(r->m[1], 0, &f), U8D_MODEL_OUT_ACCEPTED);
    settle(r, 0);
    assert_int_equal(count_type(r, 0, U8D_TYPE_CAN), 4);
    assert_int_equal(view(r->m[1]).tec, 128);
    rig_free(r);
}

static void test_silent_loopback_stays_off_the_bus(void **state)
{
    (void)state;
    rig *r = rig_new(VBUS_PACED, 2);
    model_open(r->m[0], 0, 500, U8D_OPEN_SILENT | U8D_OPEN_LOOPBACK);
    model_open(r->m[1], 0, 500, 0);
    u8d_frame f = std_frame(0x55, 8, 0);
    assert_int_equal(model_send(r->m[0], 0, &f), U8D_MODEL_OUT_ACCEPTED);
    unsigned bits = vbus_frame_bits(&f) - 3;
    settle(r, bits * 2000ull - 1);
    assert_int_equal(r->rx_count[0], 0);
    settle(r, bits * 2000ull);
    assert_int_equal(count_type(r, 0, U8D_TYPE_CAN), 1);
    assert_int_equal(r->rx_count[1], 0);
    assert_int_equal(r->ev_count, 0); /* nothing on the shared bus */
    rig_free(r);
}

static void test_listen_only_never_acks_never_sends(void **state)
{
    (void)state;
    rig *r = rig_new(VBUS_INSTANT, 3);
    model_open(r->m[0], 0, 500, 0);
    model_open(r->m[2], 0, 500, U8D_OPEN_SILENT);
    u8d_frame f = std_frame(0x111, 1, 7);
    assert_int_equal(model_send(r->m[0], 0, &f), U8D_MODEL_OUT_ACCEPTED);
    settle(r, 0);
    /* No ACK from the listener: the sender ends error-passive. */
    assert_int_equal(view(r->m[0]).tec, 128);
    /* The listener saw the active error flags as form errors (16), then got
     * the frame once the sender's flags turned recessive. */
    assert_int_equal(view(r->m[2]).rec, 15);
    assert_int_equal(count_type(r, 2, U8D_TYPE_CAN), 1);
    assert_status(status_at(r, 2, 0), U8D_SC_FORM, 1, 0);
    /* The listener cannot transmit: its frame stays queued, nobody hears it. */
    model_open(r->m[1], 0, 500, 0);
    settle(r, 0);
    assert_int_equal(count_type(r, 1, U8D_TYPE_CAN), 1); /* node 0's frame, ACKed by node 1 */
    u8d_frame g = std_frame(0x222, 0, 0);
    assert_int_equal(model_send(r->m[2], 0, &g), U8D_MODEL_OUT_ACCEPTED);
    settle(r, 0);
    assert_int_equal(u8d_model_tx_pending(r->m[2]), 1);
    assert_int_equal(count_type(r, 1, U8D_TYPE_CAN), 1);
    assert_int_equal(count_type(r, 0, U8D_TYPE_CAN), 0);
    rig_free(r);
}

static void test_listen_only_hears_every_retry_of_a_passive_sender(void **state)
{
    (void)state;
    rig *r = rig_new(VBUS_PACED, 2);
    model_open(r->m[0], 0, 1000, 0);
    model_open(r->m[1], 0, 1000, U8D_OPEN_SILENT);
    u8d_frame f = std_frame(0x111, 0, 0);
    assert_int_equal(model_send(r->m[0], 0, &f), U8D_MODEL_OUT_ACCEPTED);
    settle(r, 5 * MS);
    assert_int_equal(view(r->m[0]).tec, 128);
    /* 16 attempts while active, then a copy per retry: dozens in 5 ms. */
    assert_true(count_type(r, 1, U8D_TYPE_CAN) > 40);
    rig_free(r);
}

static void test_one_shot(void **state)
{
    (void)state;
    rig *r = rig_new(VBUS_INSTANT, 2);
    model_open(r->m[0], 0, 500, U8D_OPEN_ONE_SHOT);
    for (unsigned i = 0; i < 3; i++) {
        u8d_frame f = std_frame(0x60 + i, 0, 0);
        assert_int_equal(model_send(r->m[0], 0, &f), U8D_MODEL_OUT_ACCEPTED);
    }
    settle(r, 0);
    /* One attempt each, no retransmission. */
    assert_int_equal(r->ev_count, 3);
    assert_int_equal(view(r->m[0]).tec, 24);
    assert_int_equal(u8d_model_tx_pending(r->m[0]), 0);
    assert_int_equal(stat(r->m[0], U8D_STAT_TX_FRAMES), 0);
    rig_free(r);

    /* Lost arbitration drops a one-shot frame too (C_CAN DAR). */
    r = rig_new(VBUS_PACED, 3);
    model_open(r->m[0], 0, 500, U8D_OPEN_ONE_SHOT);
    model_open(r->m[1], 0, 500, 0);
    model_open(r->m[2], 0, 500, 0);
    u8d_frame lo = std_frame(0x100, 0, 0), hi = std_frame(0x200, 0, 0);
    assert_int_equal(model_send(r->m[0], MS, &hi), U8D_MODEL_OUT_ACCEPTED);
    assert_int_equal(model_send(r->m[1], MS, &lo), U8D_MODEL_OUT_ACCEPTED);
    settle(r, 10 * MS);
    assert_int_equal(count_type(r, 2, U8D_TYPE_CAN), 1);
    assert_int_equal(r->rx[2][0].frame.id, 0x100);
    assert_int_equal(u8d_model_tx_pending(r->m[0]), 0);
    rig_free(r);
}

/* --- arbitration and time ------------------------------------------------------------ */

static void test_arbitration_lowest_id_first(void **state)
{
    (void)state;
    rig *r = rig_new(VBUS_PACED, 3);
    for (unsigned i = 0; i < 3; i++)
        model_open(r->m[i], 0, 1000, 0);
    u8d_frame a1 = std_frame(0x300, 0, 0), a2 = std_frame(0x301, 0, 0);
    u8d_frame b1 = std_frame(0x100, 0, 0), b2 = std_frame(0x102, 0, 0);
    u8d_frame ext = {.id = 0x050u << 18, .flags = U8D_FLAG_EXT};
    u8d_frame std_rtr = {.id = 0x050, .flags = U8D_FLAG_RTR};
    model_send(r->m[0], MS, &a1);
    model_send(r->m[0], MS, &a2);
    model_send(r->m[1], MS, &b1);
    model_send(r->m[1], MS, &b2);
    settle(r, 20 * MS);
    static const uint32_t order[] = {0x100, 0x102, 0x300, 0x301};
    assert_int_equal(count_type(r, 2, U8D_TYPE_CAN), 4);
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(r->rx[2][i].frame.id, order[i]);
    /* Same base id: a standard remote frame beats an extended data frame. */
    model_send(r->m[0], 30 * MS, &ext);
    model_send(r->m[1], 30 * MS, &std_rtr);
    settle(r, 40 * MS);
    assert_int_equal(r->rx[2][4].frame.flags, U8D_FLAG_RTR);
    assert_int_equal(r->rx[2][5].frame.flags, U8D_FLAG_EXT);
    assert_true(u8d_frame_arbitration_key(&std_rtr) < u8d_frame_arbitration_key(&ext));
    rig_free(r);
}

static void test_paced_timing_and_load(void **state)
{
    (void)state;
    rig *r = rig_new(VBUS_PACED, 2);
    model_open(r->m[0], 0, 1000, 0);
    model_open(r->m[1], 0, 1000, 0);
    uint64_t now = 0;
    unsigned sent = 0;
    /* Keep the sender's queue full for 50 ms of bus time. */
    while (now <= 50 * MS) {
        u8d_frame f = std_frame(0x123, 8, (uint8_t)sent);
        while (model_send(r->m[0], now, &f) == U8D_MODEL_OUT_ACCEPTED)
            f = std_frame(0x123, 8, (uint8_t)++sent);
        settle(r, now);
        r->ev_count = 0; /* only the timing of each frame matters here */
        uint64_t next = vbus_next_event_ns(r->bus);
        now = next > now ? next : now + 1000;
        settle(r, now);
        for (size_t i = 0; i < r->ev_count; i++) {
            const vbus_event *e = &r->ev[i];
            assert_int_equal(e->outcome, VBUS_SENT);
            assert_int_equal(e->end_ns - e->start_ns, e->bits * 1000ull);
            assert_int_equal(e->bits, vbus_frame_bits(&e->frame));
            assert_int_equal(e->receivers, 1);
        }
        r->rx_count[1] = 0;
    }
    vbus_stats s;
    vbus_get_stats(r->bus, &s);
    /* 8-byte standard frames at 1 Mbit/s take 111..135 bits: 370..450 in 50 ms. */
    assert_true(s.frames_sent >= 370 && s.frames_sent <= 451);
    assert_int_equal(s.error_frames, 0);
    assert_true(vbus_load(&s) > 0.99);
    assert_int_equal(stat(r->m[1], U8D_STAT_RX_FRAMES), s.frames_sent);
    rig_free(r);
}

static void test_paced_lone_sender_retry_spacing(void **state)
{
    (void)state;
    rig *r = rig_new(VBUS_PACED, 1);
    model_open(r->m[0], 0, 500, 0);
    u8d_frame f = std_frame(0x7A, 3, 0x10);
    model_send(r->m[0], 0, &f);
    settle(r, 100 * MS);
    u8d_model_can_view v = view(r->m[0]);
    assert_int_equal(v.tec, 128);
    assert_false(v.bus_off);
    /* Attempt: SOF..CRC (stuffed), CRC delimiter, ACK slot, error flag 6,
     * delimiter 8, intermission 3; passive adds 8 suspend bits. */
    unsigned attempt = vbus_frame_bits(&f) - 13 + 2 + 17;
    assert_true(r->ev_count > 20);
    for (size_t i = 0; i < r->ev_count; i++) {
        assert_int_equal(r->ev[i].outcome, VBUS_ACK_ERROR);
        assert_int_equal(r->ev[i].bits, attempt);
    }
    for (size_t i = 1; i < 16; i++)
        assert_int_equal(r->ev[i].start_ns - r->ev[i - 1].start_ns, attempt * 2000ull);
    for (size_t i = 16; i < r->ev_count; i++)
        assert_int_equal(r->ev[i].start_ns - r->ev[i - 1].start_ns, (attempt + 8) * 2000ull);
    vbus_stats s;
    vbus_get_stats(r->bus, &s);
    assert_int_equal(s.frames_sent, 0);
    assert_true(vbus_load(&s) > 0.85);
    rig_free(r);
}

/* Identical inputs, identical history. */
static void run_scenario(vbus_event *log, size_t *count)
{
    rig *r = rig_new(VBUS_PACED, 3);
    model_open(r->m[0], 0, 500, 0);
    model_open(r->m[1], 0, 500, 0);
    for (unsigned i = 0; i < 30; i++) {
        u8d_frame f = std_frame(0x100 + (i * 37) % 200, (uint8_t)(i % 9), (uint8_t)i);
        model_send(r->m[i % 2], i * 50000ull, &f);
        settle(r, i * 50000ull);
    }
    model_open(r->m[2], 3 * MS, 500, U8D_OPEN_SILENT);
    settle(r, 20 * MS);
    memcpy(log, r->ev, r->ev_count * sizeof *log);
    *count = r->ev_count;
    rig_free(r);
}

static void test_deterministic(void **state)
{
    (void)state;
    static vbus_event a[512], b[512];
    size_t na = 0, nb = 0;
    run_scenario(a, &na);
    run_scenario(b, &nb);
    assert_int_equal(na, 30);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_int_equal(a[i].sender, b[i].sender);
        assert_int_equal(a[i].frame.id, b[i].frame.id);
        assert_int_equal(a[i].outcome, b[i].outcome);
        assert_int_equal(a[i].receivers, b[i].receivers);
        assert_int_equal(a[i].bits, b[i].bits);
        assert_int_equal(a[i].start_ns, b[i].start_ns);
        assert_int_equal(a[i].end_ns, b[i].end_ns);
    }
}

static void test_detach_mid_frame(void **state)
{
    (void)state;
    rig *r = rig_new(VBUS_PACED, 2);
    model_open(r->m[0], 0, 10, 0);
    model_open(r->m[1], 0, 10, 0);
    u8d_frame f = std_frame(1, 8, 0);
    model_send(r->m[0], 0, &f);
    settle(r, 1 * MS); /* an 8-byte frame takes over 11 ms at 10 kbit/s */
    vbus_detach(r->bus, r->m[0]);
    settle(r, 100 * MS);
    assert_int_equal(r->rx_count[1], 0);
    assert_int_equal(r->ev_count, 0);
    assert_null(vbus_node(r->bus, 0));
    assert_int_equal(vbus_attach(r->bus, r->m[0]), 0);
    assert_int_equal(vbus_attach(r->bus, r->m[0]), -1);
    rig_free(r);
}

/* --- sample points and faulty nodes -------------------------------------------- */

static void open_timing(u8d_model *m, unsigned tseg1, unsigned tseg2, unsigned brp, uint32_t flags)
{
    u8d_bittiming bt = {
        .tseg1 = (uint8_t)tseg1, .tseg2 = (uint8_t)tseg2, .sjw = 1, .brp = (uint16_t)brp};
    uint8_t req[U8D_CMD_SIZE], reply[U8D_CMD_SIZE];
    assert_int_equal(u8d_encode_open(req, &bt, flags), U8D_OK);
    assert_int_equal(u8d_model_command(m, 0, req, sizeof req, reply), U8D_CMD_SIZE);
}

static void test_sample_point_tolerance(void **state)
{
    (void)state;
    /* 500 kbit/s at 62.5 % (9;6) sends; listeners at 87.5 % (13;2) and 62.5 %. */
    rig *r = rig_new(VBUS_INSTANT, 4);
    open_timing(r->m[0], 9, 6, 4, 0);
    open_timing(r->m[1], 13, 2, 4, U8D_OPEN_SILENT);
    open_timing(r->m[2], 9, 6, 4, U8D_OPEN_SILENT);
    open_timing(r->m[3], 9, 6, 4, 0); /* acknowledges */
    u8d_bittiming a = {.tseg1 = 9, .tseg2 = 6}, b = {.tseg1 = 13, .tseg2 = 2};
    assert_int_equal(vbus_sample_point_permille(&a), 625);
    assert_int_equal(vbus_sample_point_permille(&b), 875);
    /* Off by default: every sample point receives. */
    assert_int_equal(vbus_get_sample_point_tolerance(r->bus), 0);
    u8d_frame f = std_frame(0x123, 2, 1);
    assert_int_equal(model_send(r->m[0], 0, &f), U8D_MODEL_OUT_ACCEPTED);
    settle(r, 0);
    assert_int_equal(count_type(r, 1, U8D_TYPE_CAN), 1);
    assert_int_equal(count_type(r, 2, U8D_TYPE_CAN), 1);
    /* 10 % tolerance: the 87.5 % listener now misreads (stuff error); the
     * sender, acknowledged by node 3, is not disturbed by a silent node. */
    vbus_set_sample_point_tolerance(r->bus, 100);
    assert_int_equal(model_send(r->m[0], 0, &f), U8D_MODEL_OUT_ACCEPTED);
    settle(r, 0);
    assert_int_equal(count_type(r, 1, U8D_TYPE_CAN), 1);
    assert_int_equal(view(r->m[1]).rec, 1);
    assert_status(status_at(r, 1, 0), U8D_SC_STUFF, 1, 0);
    assert_int_equal(count_type(r, 2, U8D_TYPE_CAN), 2);
    assert_int_equal(view(r->m[0]).tec, 0);
    /* Within tolerance (62.5 vs 68.75 %: 10;5) it receives. */
    open_timing(r->m[1], 10, 5, 4, U8D_OPEN_SILENT);
    assert_int_equal(model_send(r->m[0], 0, &f), U8D_MODEL_OUT_ACCEPTED);
    settle(r, 0);
    assert_int_equal(count_type(r, 1, U8D_TYPE_CAN), 2);
    rig_free(r);
}

static void test_faulty_node_destroys_every_nth_frame(void **state)
{
    (void)state;
    rig *r = rig_new(VBUS_INSTANT, 3);
    model_open(r->m[0], 0, 500, 0);
    model_open(r->m[1], 0, 500, 0);
    model_open(r->m[2], 0, 500, U8D_OPEN_SILENT);
    u8d_model_set_error_flags(r->m[1], 4);
    assert_int_equal(u8d_model_error_flags(r->m[1]), 4);
    for (unsigned i = 0; i < 7; i++) {
        u8d_frame f = std_frame(0x200 + i, 1, (uint8_t)i);
        assert_int_equal(model_send(r->m[0], 0, &f), U8D_MODEL_OUT_ACCEPTED);
    }
    settle(r, 0);
    /* 7 frames took 9 attempts: the 4th and 8th were destroyed (retried). */
    assert_int_equal(r->ev_count, 9);
    assert_int_equal(r->ev[3].outcome, VBUS_ERROR_FLAG);
    assert_int_equal(r->ev[7].outcome, VBUS_ERROR_FLAG);
    assert_int_equal(r->ev[4].frame.id, r->ev[3].frame.id);
    /* TEC: 0 0 0 (floor), +8, -1 -1 -1, +8, -1 = 12. */
    assert_int_equal(view(r->m[0]).tec, 12);
    assert_status(status_at(r, 0, 0), U8D_SC_BIT1, 0, 8);
    /* The listener: stuff errors, and every frame once. */
    assert_int_equal(count_type(r, 2, U8D_TYPE_CAN), 7);
    assert_status(status_at(r, 2, 0), U8D_SC_STUFF, 1, 0);
    /* The faulty node received the others and counted nothing for its flags. */
    assert_int_equal(count_type(r, 1, U8D_TYPE_CAN), 7);
    assert_int_equal(view(r->m[1]).tec, 0);
    assert_int_equal(view(r->m[1]).rec, 0);
    /* Every second attempt destroyed: +8 -1 per frame, error-passive, then
     * bus-off: a sender cannot get through a node that does this. */
    u8d_model_set_error_flags(r->m[1], 2);
    for (unsigned i = 0; i < 40; i++) {
        u8d_frame f = std_frame(0x300, 0, 0);
        (void)model_send(r->m[0], 0, &f);
    }
    settle(r, 0);
    assert_true(view(r->m[0]).bus_off);
    rig_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_bits),
        cmocka_unit_test(test_lone_sender_goes_passive_never_bus_off),
        cmocka_unit_test(test_second_node_joins_and_tec_decreases),
        cmocka_unit_test(test_bus_off_by_bit_errors_and_recovery_by_open),
        cmocka_unit_test(test_bitrate_mismatch_drives_sender_bus_off),
        cmocka_unit_test(test_loopback),
        cmocka_unit_test(test_silent_loopback_stays_off_the_bus),
        cmocka_unit_test(test_listen_only_never_acks_never_sends),
        cmocka_unit_test(test_listen_only_hears_every_retry_of_a_passive_sender),
        cmocka_unit_test(test_one_shot),
        cmocka_unit_test(test_arbitration_lowest_id_first),
        cmocka_unit_test(test_paced_timing_and_load),
        cmocka_unit_test(test_paced_lone_sender_retry_spacing),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_detach_mid_frame),
        cmocka_unit_test(test_sample_point_tolerance),
        cmocka_unit_test(test_faulty_node_destroys_every_nth_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
