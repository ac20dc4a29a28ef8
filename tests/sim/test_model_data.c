/* The data endpoints of the device model: TX queue depth and NAK, stalls on
 * malformed records, RX packing of up to 3 records, overruns, timestamps,
 * status record bytes and statistics (docs/protocol.md: records, status, statistics). */
#include "model_helpers.h"

#include "vbus.h"

static uint32_t stat(u8d_model *m, uint8_t index)
{
    uint8_t reply[U8D_CMD_SIZE];
    model_cmd(m, 0, U8D_CMD_GET_STATISTICS, index, 0, reply);
    return u8d_reply_be32(reply);
}

static void test_tx_queue_fills_then_naks_and_drops_nothing(void **state)
{
    (void)state;
    u8d_model *a = vendor(), *b = vendor();
    vbus *bus = vbus_create(VBUS_INSTANT, 0);
    vbus_attach(bus, a);
    vbus_attach(bus, b);
    model_open(a, 0, 500, 0);
    /* Alone on the bus: one frame in the message object, 65 queued behind it. */
    unsigned accepted = 0;
    for (unsigned i = 0; i < 100; i++) {
        u8d_frame f = std_frame(0x10 + i, 8, (uint8_t)i);
        u8d_model_out r = model_send(a, 0, &f);
        vbus_run_until(bus, 0);
        if (r == U8D_MODEL_OUT_NAK)
            break;
        assert_int_equal(r, U8D_MODEL_OUT_ACCEPTED);
        accepted++;
    }
    assert_int_equal(accepted, U8D_MODEL_TX_CAPACITY);
    assert_int_equal(u8d_model_tx_pending(a), U8D_MODEL_TX_CAPACITY);
    assert_int_equal(u8d_model_out_ready(a, 0), U8D_MODEL_OUT_NAK);
    /* A NAK consumed nothing: the next frame is still id 0x10 + 66. */
    model_open(b, 0, 500, 0);
    u8d_rx_record r[3];
    unsigned got = 0;
    bool moved = true;
    while (moved) { /* the host reads after every frame, as the virtual link does */
        moved = vbus_step(bus, 1);
        size_t n;
        while ((n = model_read(b, 1, r)) > 0) {
            for (size_t i = 0; i < n; i++, got++) {
                assert_int_equal(r[i].type, U8D_TYPE_CAN);
                assert_int_equal(r[i].frame.id, 0x10 + got);
            }
            moved = true;
        }
    }
    assert_int_equal(u8d_model_tx_pending(a), 0);
    assert_int_equal(got, U8D_MODEL_TX_CAPACITY);
    assert_int_equal(u8d_model_frames_lost(a), 0);
    assert_int_equal(stat(a, U8D_STAT_TX_FRAMES), U8D_MODEL_TX_CAPACITY);
    assert_int_equal(stat(a, U8D_STAT_TX_BYTES), 0); /* FW never counts it */
    vbus_destroy(bus);
    u8d_model_destroy(a);
    u8d_model_destroy(b);
}

static void test_tx_queue_while_closed_and_open_loses_only_the_message_object(void **state)
{
    (void)state;
    u8d_model *a = vendor();
    for (unsigned i = 0; i < U8D_MODEL_TX_QUEUE_DEPTH; i++) {
        u8d_frame f = std_frame(i, 0, 0);
        assert_int_equal(model_send(a, 0, &f), U8D_MODEL_OUT_ACCEPTED);
    }
    u8d_frame f = std_frame(0x7FF, 0, 0);
    assert_int_equal(model_send(a, 0, &f), U8D_MODEL_OUT_NAK);
    model_open(a, 0, 500, 0); /* loads frame 0 into the message object */
    assert_int_equal(model_send(a, 0, &f), U8D_MODEL_OUT_ACCEPTED);
    u8d_frame head;
    assert_true(u8d_model_can_tx_peek(a, 0, &head, NULL));
    assert_int_equal(head.id, 0);
    /* A new OPEN re-initialises the controller: frame 0 is gone, 1 follows. */
    model_open(a, 0, 500, 0);
    assert_int_equal(u8d_model_frames_lost(a), 1);
    assert_true(u8d_model_can_tx_peek(a, 0, &head, NULL));
    assert_int_equal(head.id, 1);
    u8d_model_destroy(a);
}

static void test_malformed_tx_record_stalls_the_endpoint(void **state)
{
    (void)state;
    u8d_model *a = vendor();
    model_open(a, 0, 500, 0);
    uint8_t rec[U8D_TX_RECORD_SIZE];
    u8d_frame f = std_frame(0x123, 2, 0x40);
    assert_int_equal(u8d_encode_tx(rec, &f), U8D_OK);
    rec[15] = 0xAB;
    assert_int_equal(u8d_model_data_out(a, 0, rec, sizeof rec), U8D_MODEL_OUT_ACCEPTED);
    assert_int_equal(u8d_model_out_ready(a, 0), U8D_MODEL_OUT_STALLED);
    rec[15] = 0xAA;
    assert_int_equal(u8d_model_data_out(a, 0, rec, sizeof rec), U8D_MODEL_OUT_STALLED);
    assert_int_equal(u8d_model_tx_pending(a), 0);
    u8d_model_usb_reinit(a, 0);
    assert_int_equal(u8d_model_data_out(a, 0, rec, sizeof rec), U8D_MODEL_OUT_ACCEPTED);
    assert_int_equal(u8d_model_tx_pending(a), 1);
    u8d_model_destroy(a);

    /* Longer than 16 bytes: stalls too. */
    a = vendor();
    uint8_t big[20] = {0x55};
    assert_int_equal(u8d_model_data_out(a, 0, big, sizeof big), U8D_MODEL_OUT_ACCEPTED);
    assert_int_equal(u8d_model_out_ready(a, 0), U8D_MODEL_OUT_STALLED);
    u8d_model_destroy(a);
}

static void test_tx_fields_masked_as_firmware(void **state)
{
    (void)state;
    u8d_model *a = vendor();
    model_open(a, 0, 500, 0);
    /* flags 0xF0, a standard id with high bits set, dlc 12: FW masks, does not reject. */
    const uint8_t rec[] = {0x55, 0xF0, 0x12, 0x34, 0x7F, 0xFF, 0x0C, 1, 2, 3, 4, 5, 6, 7, 8, 0xAA};
    assert_int_equal(u8d_model_data_out(a, 0, rec, sizeof rec), U8D_MODEL_OUT_ACCEPTED);
    u8d_frame f;
    assert_true(u8d_model_can_tx_peek(a, 0, &f, NULL));
    assert_int_equal(f.flags, 0);
    assert_int_equal(f.id, 0x7FF);
    assert_int_equal(f.dlc, 12);
    u8d_model_destroy(a);
}

static void test_rx_packs_three_and_counts_overruns(void **state)
{
    (void)state;
    u8d_model *m = vendor();
    model_open(m, 0, 500, 0);
    /* The host does not read: the first record is loaded alone into the IN
     * endpoint, 63 wait in the list, the rest overrun. */
    for (unsigned i = 0; i < 70; i++) {
        u8d_frame f = std_frame(0x300 + i, (uint8_t)(i % 9), (uint8_t)i);
        u8d_model_can_rx(m, 0, &f);
    }
    assert_int_equal(u8d_model_rx_pending(m), 64);
    assert_int_equal(stat(m, U8D_STAT_OVERRUNS), 6);
    assert_int_equal(stat(m, U8D_STAT_RX_FRAMES), 64);
    uint32_t bytes = 0;
    for (unsigned i = 0; i < 64; i++)
        bytes += i % 9;
    assert_int_equal(stat(m, U8D_STAT_RX_BYTES), bytes);

    u8d_rx_record r[3];
    assert_int_equal(model_read(m, 0, r), 1);
    assert_int_equal(r[0].frame.id, 0x300);
    unsigned next = 1;
    for (unsigned p = 0; p < 21; p++) {
        assert_int_equal(model_read(m, 0, r), 3);
        for (unsigned i = 0; i < 3; i++, next++) {
            assert_int_equal(r[i].frame.id, 0x300 + next);
            assert_int_equal(r[i].frame.dlc, next % 9);
        }
    }
    assert_int_equal(model_read(m, 0, r), 0);
    /* No status record for an overrun (FW 1.7 never sends OVERRUN). */
    u8d_model_destroy(m);
}

static void test_status_record_bytes_and_timestamp(void **state)
{
    (void)state;
    u8d_model *m = vendor();
    model_open(m, 0, 500, 0);
    /* 1000 ticks of 992.1875 us after power-on. */
    uint64_t t = 992187500ull;
    u8d_model_can_rx_error(m, t, U8D_LEC_CRC);
    uint8_t pkt[U8D_IN_PACKET_MAX];
    assert_int_equal(u8d_model_data_in(m, t, pkt), 21);
    const uint8_t want[] = {0x55, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00, 0x04, 0x27, 0x01, 0x00,
                            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xE8, 0xAA};
    assert_memory_equal(pkt, want, sizeof want);
    /* A good frame clears the error code: OK, then the frame. */
    u8d_frame f = std_frame(0x555, 8, 0x11);
    u8d_model_can_rx(m, t, &f);
    u8d_rx_record r[3];
    assert_int_equal(model_read(m, t, r), 1);
    assert_int_equal(r[0].type, U8D_TYPE_CAN);
    assert_int_equal(model_read(m, t, r), 1);
    assert_int_equal(r[0].type, U8D_TYPE_STATUS);
    assert_int_equal(r[0].frame.data[0], U8D_SC_OK);
    assert_int_equal(r[0].frame.data[1], 0);
    /* The vendor tick counter wraps at 29 bits. */
    uint64_t wrap = (1ull << 29) * 15875000ull / 16ull;
    assert_int_equal(u8d_model_timestamp(m, wrap), 0);
    assert_int_equal(u8d_model_timestamp(m, wrap - 1000000ull), (1u << 29) - 2u);
    u8d_model_destroy(m);
}

static void test_statistics_cleared_by_open_close_and_reset(void **state)
{
    (void)state;
    u8d_model *m = vendor();
    model_open(m, 0, 500, 0);
    u8d_frame f = std_frame(1, 3, 0);
    u8d_model_can_rx(m, 0, &f);
    assert_int_equal(stat(m, U8D_STAT_RX_FRAMES), 1);
    assert_int_equal(stat(m, U8D_STAT_RX_BYTES), 3);
    uint8_t reply[U8D_CMD_SIZE];
    model_cmd(m, 0, U8D_CMD_GET_STATISTICS, 7, 0, reply);
    assert_int_equal(stat(m, U8D_STAT_RX_FRAMES), 0);
    u8d_model_can_rx(m, 0, &f);
    model_cmd(m, 0, U8D_CMD_CLOSE, 0, 0, reply);
    assert_int_equal(stat(m, U8D_STAT_RX_FRAMES), 0);
    /* Closed: frames from the bus are not taken. */
    u8d_model_can_rx(m, 0, &f);
    assert_int_equal(stat(m, U8D_STAT_RX_FRAMES), 0);
    u8d_model_destroy(m);
}

static void test_canalyze_one_record_per_packet_le_ms(void **state)
{
    (void)state;
    u8d_model *m = canalyze();
    uint8_t reply[U8D_CMD_SIZE];
    model_open(m, 0, 500, 0);
    /* Seed 002's RX record: ext id 0x555, 8 bytes, 483046 ms after boot. */
    u8d_frame f = {.id = 0x555,
                   .flags = U8D_FLAG_EXT,
                   .dlc = 8,
                   .data = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}};
    uint64_t t = 483046 * MS + 500000;
    u8d_model_can_rx(m, t, &f);
    /* The single IN buffer is busy: the next frame is lost. */
    u8d_model_can_rx(m, t, &f);
    assert_int_equal(u8d_model_frames_lost(m), 1);
    uint8_t pkt[U8D_IN_PACKET_MAX];
    assert_int_equal(u8d_model_data_in(m, t, pkt), 21);
    const uint8_t want[] = {0x55, 0x00, 0x01, 0x00, 0x00, 0x05, 0x55, 0x08, 0x11, 0x22, 0x33,
                            0x44, 0x55, 0x66, 0x77, 0x88, 0xe6, 0x5e, 0x07, 0x00, 0xaa};
    assert_memory_equal(pkt, want, sizeof want);
    assert_int_equal(u8d_model_data_in(m, t, pkt), 0);
    /* Its 25-bit extended-id mask. */
    f.id = 0x1FFFFFFF;
    u8d_model_can_rx(m, t, &f);
    u8d_rx_record r[3];
    assert_int_equal(model_read(m, t, r), 1);
    assert_int_equal(r[0].frame.id, 0x1FFFFFF);
    /* An error record: code in data[0], the rest stale from the last frame. */
    u8d_model_can_rx_error(m, t, U8D_LEC_STUFF);
    assert_int_equal(u8d_model_data_in(m, t, pkt), 21);
    assert_int_equal(pkt[1], U8D_TYPE_STATUS);
    assert_int_equal(pkt[2], U8D_FLAG_ERR);
    assert_int_equal(pkt[8], U8D_SC_STUFF);
    assert_int_equal(pkt[9], 0x22); /* stale data[1] */
    (void)reply;
    u8d_model_destroy(m);
}

static void test_canalyze_tx_mailboxes_and_busy_endpoint(void **state)
{
    (void)state;
    u8d_model *m = canalyze();
    model_open(m, 0, 500, 0);
    u8d_frame f = std_frame(0x300, 1, 0);
    assert_int_equal(model_send(m, 0, &f), U8D_MODEL_OUT_ACCEPTED);
    /* The blocking transmit waits up to 10 ms for the frame to go out. */
    assert_int_equal(model_send(m, 1 * MS, &f), U8D_MODEL_OUT_NAK);
    f.id = 0x200;
    assert_int_equal(model_send(m, 10 * MS, &f), U8D_MODEL_OUT_ACCEPTED);
    f.id = 0x100;
    assert_int_equal(model_send(m, 20 * MS, &f), U8D_MODEL_OUT_ACCEPTED);
    /* Three mailboxes full: the fourth frame is lost without a trace. */
    f.id = 0x050;
    assert_int_equal(model_send(m, 30 * MS, &f), U8D_MODEL_OUT_ACCEPTED);
    assert_int_equal(u8d_model_frames_lost(m), 1);
    assert_int_equal(u8d_model_tx_pending(m), 3);
    /* The mailboxes go out by identifier, lowest first. */
    u8d_frame head;
    assert_true(u8d_model_can_tx_peek(m, 40 * MS, &head, NULL));
    assert_int_equal(head.id, 0x100);
    u8d_model_can_tx_done(m, 40 * MS);
    assert_true(u8d_model_can_tx_peek(m, 40 * MS, &head, NULL));
    assert_int_equal(head.id, 0x200);
    u8d_model_destroy(m);
}

/* krumboeck/usb2can_firmware main.c ~174-193: statistics and error tracking
 * are cleared when the main loop sees closed -> open or open -> closed, not
 * by an OPEN that finds the controller already open. */
static void test_statistics_cleared_only_on_open_close_transitions(void **state)
{
    (void)state;
    u8d_model *m = vendor();
    model_open(m, 0, 500, 0);
    u8d_frame f = std_frame(1, 3, 0);
    u8d_model_can_rx(m, 0, &f);
    u8d_model_can_rx(m, 0, &f);
    assert_int_equal(stat(m, U8D_STAT_RX_FRAMES), 2);
    model_open(m, 1 * MS, 250, 0); /* open again without CLOSE */
    assert_int_equal(stat(m, U8D_STAT_RX_FRAMES), 2);
    u8d_model_can_rx(m, 1 * MS, &f);
    assert_int_equal(stat(m, U8D_STAT_RX_FRAMES), 3);
    uint8_t reply[U8D_CMD_SIZE];
    model_cmd(m, 2 * MS, U8D_CMD_CLOSE, 0, 0, reply);
    assert_int_equal(stat(m, U8D_STAT_RX_FRAMES), 0);
    u8d_model_destroy(m);
}

/* Both firmwares forward the controller's raw 4-bit DLC: 9..15 reach the
 * host as they are (vendor: 75x_can.c ~524; CANalyze: usbd_8dev_if.c ~176). */
static void test_raw_dlc_9_to_15_is_forwarded(void **state)
{
    (void)state;
    u8d_model *models[2] = {vendor(), canalyze()};
    for (int k = 0; k < 2; k++) {
        u8d_model *m = models[k];
        model_open(m, 0, 500, 0);
        u8d_frame f = {.id = 0x2A, .dlc = 12, .data = {1, 2, 3, 4, 5, 6, 7, 8}};
        u8d_model_can_rx(m, 1 * MS, &f);
        u8d_rx_record r[3];
        assert_int_equal(model_read(m, 1 * MS, r), 1);
        assert_int_equal(r[0].frame.dlc, 12);
        assert_memory_equal(r[0].frame.data, f.data, 8);
        u8d_model_destroy(m);
    }
}

/* CANalyze: bxCAN error callback, first of BOF, EPV, EWG, then the LEC codes
 * (usbd_8dev_if.c ~299-324); never OK; stale bytes besides the code. */
static void test_canalyze_error_codes_follow_its_priority_chain(void **state)
{
    (void)state;
    u8d_model *m = canalyze();
    model_open(m, 0, 500, 0);
    u8d_frame f = std_frame(0x33, 2, 0x70);
    u8d_model_can_rx(m, 0, &f);
    u8d_rx_record r[3];
    assert_int_equal(model_read(m, 0, r), 1);
    u8d_model_inject_tx_errors(m, U8D_LEC_BIT0, 100);
    assert_int_equal(model_send(m, 0, &f), U8D_MODEL_OUT_ACCEPTED);
    uint8_t codes[40];
    size_t n = 0;
    for (unsigned k = 0; k < 20; k++) {
        u8d_lec lec;
        assert_true(u8d_model_take_injected_error(m, &lec));
        assert_true(u8d_model_can_tx_peek(m, (k + 1) * MS, NULL, NULL));
        u8d_model_can_tx_error(m, (k + 1) * MS, lec);
        if (model_read(m, (k + 1) * MS, r) == 1) {
            assert_int_equal(r[0].type, U8D_TYPE_STATUS);
            assert_int_equal(r[0].frame.id, 0x33);      /* stale */
            assert_int_equal(r[0].frame.dlc, 2);        /* stale */
            assert_int_equal(r[0].frame.data[1], 0x71); /* stale */
            codes[n++] = r[0].frame.data[0];
        }
    }
    assert_int_equal(n, 20);
    for (size_t k = 0; k < 11; k++) /* TEC 8 .. 88 */
        assert_int_equal(codes[k], U8D_SC_BIT0);
    for (size_t k = 11; k < 15; k++) /* TEC 96 .. 120: warning beats the LEC */
        assert_int_equal(codes[k], U8D_SC_BUSLIGHT);
    for (size_t k = 15; k < 20; k++) /* TEC 128 ..: passive */
        assert_int_equal(codes[k], U8D_SC_BUSHEAVY);
    u8d_model_destroy(m);
}

/* CANalyze: brp * 1.5 into an integer at 48 MHz (usbd_8dev_if.c ~255);
 * HAL_CAN_Init writes Prescaler - 1 into BTR's 10-bit field. */
static void test_canalyze_scales_brp_by_one_and_a_half(void **state)
{
    (void)state;
    const struct {
        u8d_bittiming bt;
        uint32_t bitrate;
    } cases[] = {
        {{13, 2, 1, 4}, 500000},    /* even: exact */
        {{6, 1, 1, 5}, 857143},     /* the vendor table's 800k: brp 7 */
        {{15, 4, 2, 2}, 800000},    /* the Linux driver's 800k */
        {{13, 2, 1, 682}, 2933},    /* 1023: the largest that fits */
        {{13, 2, 1, 684}, 1500000}, /* 1026 wraps to 2 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        u8d_model *m = canalyze();
        uint8_t req[U8D_CMD_SIZE], reply[U8D_CMD_SIZE];
        assert_int_equal(u8d_encode_open(req, &cases[i].bt, 0), U8D_OK);
        assert_int_equal(u8d_model_command(m, 0, req, sizeof req, reply), U8D_CMD_SIZE);
        u8d_model_can_view v;
        u8d_model_can_state(m, &v);
        if (v.bitrate != cases[i].bitrate)
            fail_msg("brp %u: %u bit/s, want %u", cases[i].bt.brp, v.bitrate, cases[i].bitrate);
        u8d_model_destroy(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tx_queue_fills_then_naks_and_drops_nothing),
        cmocka_unit_test(test_tx_queue_while_closed_and_open_loses_only_the_message_object),
        cmocka_unit_test(test_malformed_tx_record_stalls_the_endpoint),
        cmocka_unit_test(test_tx_fields_masked_as_firmware),
        cmocka_unit_test(test_rx_packs_three_and_counts_overruns),
        cmocka_unit_test(test_status_record_bytes_and_timestamp),
        cmocka_unit_test(test_statistics_cleared_by_open_close_and_reset),
        cmocka_unit_test(test_statistics_cleared_only_on_open_close_transitions),
        cmocka_unit_test(test_raw_dlc_9_to_15_is_forwarded),
        cmocka_unit_test(test_canalyze_error_codes_follow_its_priority_chain),
        cmocka_unit_test(test_canalyze_scales_brp_by_one_and_a_half),
        cmocka_unit_test(test_canalyze_one_record_per_packet_le_ms),
        cmocka_unit_test(test_canalyze_tx_mailboxes_and_busy_endpoint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
