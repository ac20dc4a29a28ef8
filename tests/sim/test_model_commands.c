/* The command pipe of the device model, byte for byte: vendor firmware 1.7
 * (docs/protocol.md: commands, statistics) and CANalyze (its command subset,
 * golden bytes from the usbmon capture in
 * tests/data/captures/canalyze_linux_500k_commands.txt). */
#include "model_helpers.h"

/* A request with distinctive bytes everywhere, so echoes are visible. */
static void patterned(uint8_t req[U8D_CMD_SIZE], uint8_t cmd, uint8_t opt1)
{
    static const uint8_t data[10] = {0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9};
    u8d_encode_command(req, cmd, opt1, 0x5C, data);
    req[1] = 0x01; /* channel, echoed as is */
}

/* Sends req and compares the reply with want (16 bytes). */
static void exchange(u8d_model *m, uint64_t now, const uint8_t *req, const uint8_t *want)
{
    uint8_t reply[U8D_CMD_SIZE];
    memset(reply, 0xEE, sizeof reply);
    assert_int_equal(u8d_model_command(m, now, req, U8D_CMD_SIZE, reply), U8D_CMD_SIZE);
    assert_memory_equal(reply, want, U8D_CMD_SIZE);
}

static void test_version_commands(void **state)
{
    (void)state;
    u8d_model *m = vendor();
    uint8_t req[U8D_CMD_SIZE];
    patterned(req, U8D_CMD_GET_SOFTW_HARDW_VER, 0x33);
    const uint8_t want_both[] = {0x11, 0x01, 0x0C, 0x00, 0x5C, 0x01, 0x07, 0x01,
                                 0x00, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0x22};
    exchange(m, 0, req, want_both);
    patterned(req, U8D_CMD_GET_SOFTW_VER, 0x33);
    const uint8_t want_sw[] = {0x11, 0x01, 0x09, 0x00, 0x5C, 0x01, 0x07, 0xA2,
                               0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0x22};
    exchange(m, 0, req, want_sw);
    patterned(req, U8D_CMD_GET_HARDW_VER, 0x33);
    const uint8_t want_hw[] = {0x11, 0x01, 0x0A, 0x00, 0x5C, 0x01, 0x00, 0xA2,
                               0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0x22};
    exchange(m, 0, req, want_hw);
    u8d_model_destroy(m);

    /* Configurable versions (a Korlan answers 2.4 / 2.0). */
    u8d_model_config cfg;
    u8d_model_config_vendor(&cfg);
    cfg.version = (u8d_version){2, 4, 2, 0};
    m = u8d_model_create(&cfg, 0);
    uint8_t reply[U8D_CMD_SIZE];
    model_cmd(m, 0, U8D_CMD_GET_SOFTW_HARDW_VER, 0, 0, reply);
    assert_int_equal(u8d_reply_be32(reply), 0x02040200u);
    u8d_model_destroy(m);
}

static void test_open_close_and_speed_table(void **state)
{
    (void)state;
    u8d_model *m = vendor();
    /* The Linux driver's 500 kbit/s OPEN (docs/protocol.md, bit timing): echoed with opt1 0. */
    const uint8_t open_req[] = {0x11, 0x00, 0x02, 0x09, 0x00, 0x0D, 0x02, 0x01,
                                0x00, 0x04, 0x00, 0x00, 0x00, 0x08, 0x00, 0x22};
    const uint8_t open_reply[] = {0x11, 0x00, 0x02, 0x00, 0x00, 0x0D, 0x02, 0x01,
                                  0x00, 0x04, 0x00, 0x00, 0x00, 0x08, 0x00, 0x22};
    exchange(m, 0, open_req, open_reply);
    u8d_model_can_view v;
    u8d_model_can_state(m, &v);
    assert_true(v.running);
    assert_int_equal(v.bitrate, 500000);
    assert_false(v.silent || v.loopback || v.one_shot); /* 0x08 changes nothing */

    uint8_t req[U8D_CMD_SIZE];
    patterned(req, U8D_CMD_CLOSE, 0x44);
    const uint8_t close_reply[] = {0x11, 0x01, 0x03, 0x00, 0x5C, 0xA0, 0xA1, 0xA2,
                                   0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0x22};
    exchange(m, 0, req, close_reply);
    u8d_model_can_state(m, &v);
    assert_false(v.running);

    /* Predefined indexes: the firmware keeps only 6 BRP bits, so 10k and 20k
     * come out at brp 8 and 36 (docs/protocol.md, bit timing); 10 and above mean 125k. */
    static const uint32_t rates[] = {1000000, 800000, 500000, 250000, 125000,
                                     100000,  50000,  55556,  250000};
    for (uint8_t i = 0; i < 9; i++) {
        uint8_t reply[U8D_CMD_SIZE];
        model_cmd(m, 0, U8D_CMD_OPEN, i, 0, reply);
        u8d_model_can_state(m, &v);
        assert_int_equal(v.bitrate, rates[i]);
    }
    uint8_t reply[U8D_CMD_SIZE];
    model_cmd(m, 0, U8D_CMD_OPEN, 10, 0, reply);
    u8d_model_can_state(m, &v);
    assert_int_equal(v.bitrate, 125000);

    /* Manual timing with flags: every mode bit is taken. */
    u8d_bittiming bt = {.tseg1 = 11, .tseg2 = 4, .sjw = 2, .brp = 2};
    assert_int_equal(u8d_encode_open(req, &bt,
                                     U8D_OPEN_SILENT | U8D_OPEN_LOOPBACK | U8D_OPEN_ONE_SHOT |
                                         U8D_OPEN_STATUS_FRAMES),
                     U8D_OK);
    assert_int_equal(u8d_model_command(m, 0, req, sizeof req, reply), U8D_CMD_SIZE);
    u8d_model_can_state(m, &v);
    assert_int_equal(v.bitrate, 1000000);
    assert_true(v.silent && v.loopback && v.one_shot);
    assert_int_equal(v.bt.tseg1, 11);
    assert_int_equal(v.bt.brp, 2);
    u8d_model_destroy(m);
}

static void test_set_speed_only_while_open(void **state)
{
    (void)state;
    u8d_model *m = vendor();
    uint8_t reply[U8D_CMD_SIZE];
    model_cmd(m, 0, U8D_CMD_SET_SPEED, 2, U8D_RESULT_ERROR, reply);
    model_open(m, 0, 125, 0);
    model_cmd(m, 0, U8D_CMD_SET_SPEED, 2, U8D_RESULT_OK, reply);
    u8d_model_can_view v;
    u8d_model_can_state(m, &v);
    assert_int_equal(v.bitrate, 500000);
    model_cmd(m, 0, U8D_CMD_SET_SPEED, 9, U8D_RESULT_OK, reply); /* manual: timing kept */
    u8d_model_can_state(m, &v);
    assert_int_equal(v.bitrate, 500000);
    u8d_model_destroy(m);
}

static void test_status_statistics_serial(void **state)
{
    (void)state;
    u8d_model *m = vendor();
    uint8_t req[U8D_CMD_SIZE];
    patterned(req, U8D_CMD_GET_STATUS, 0x12);
    const uint8_t want_status[] = {0x11, 0x01, 0x06, 0x00, 0x5C, 0x00, 0x00, 0x00,
                                   0x00, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0x22};
    exchange(m, 0, req, want_status);

    for (uint8_t i = 0; i < 7; i++) {
        patterned(req, U8D_CMD_GET_STATISTICS, i);
        const uint8_t want[] = {0x11, 0x01, 0x07, 0x00, 0x5C, 0x00, 0x00, 0x00,
                                0x00, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0x22};
        exchange(m, 0, req, want);
    }
    patterned(req, U8D_CMD_GET_STATISTICS, 7);
    const uint8_t want_reset[] = {0x11, 0x01, 0x07, 0x00, 0x5C, 0x00, 0x00, 0x00,
                                  0x00, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0x22};
    exchange(m, 0, req, want_reset);
    patterned(req, U8D_CMD_GET_STATISTICS, 8);
    const uint8_t want_bad[] = {0x11, 0x01, 0x07, 0xFF, 0x5C, 0xA0, 0xA1, 0xA2,
                                0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0x22};
    exchange(m, 0, req, want_bad);

    patterned(req, U8D_CMD_GET_SERIAL, 0);
    const uint8_t want_serial[] = {0x11, 0x01, 0x08, 0x00, 0x5C, 'E',  'D',  '0',
                                   '0',  '0',  '0',  '0',  '1',  0xA8, 0xA9, 0x22};
    exchange(m, 0, req, want_serial);
    u8d_model_destroy(m);
}

static void test_unimplemented_and_unknown_commands(void **state)
{
    (void)state;
    u8d_model *m = vendor();
    uint8_t req[U8D_CMD_SIZE];
    /* SET_MASK_FILTER and RESET_TIMESTAMP do nothing and echo opt1. */
    patterned(req, U8D_CMD_SET_MASK_FILTER, 0x00);
    const uint8_t want_filter[] = {0x11, 0x01, 0x05, 0x00, 0x5C, 0xA0, 0xA1, 0xA2,
                                   0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0x22};
    exchange(m, 0, req, want_filter);
    patterned(req, U8D_CMD_RESET_TIMESTAMP, 0x5A);
    const uint8_t want_ts[] = {0x11, 0x01, 0x0B, 0x5A, 0x5C, 0xA0, 0xA1, 0xA2,
                               0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0x22};
    exchange(m, 0, req, want_ts);
    /* RESET_TIMESTAMP really does not reset the clock. */
    assert_int_equal(u8d_model_timestamp(m, 10 * 992187500ull), 10000);
    static const uint8_t unknown[] = {0x00, 0x0D, 0x20, 0xFF};
    for (size_t i = 0; i < sizeof unknown; i++) {
        patterned(req, unknown[i], 0x00);
        uint8_t want[U8D_CMD_SIZE];
        memcpy(want, req, sizeof want);
        want[3] = 0xFF;
        exchange(m, 0, req, want);
    }
    u8d_model_destroy(m);
}

static void test_malformed_commands_get_no_reply(void **state)
{
    (void)state;
    u8d_model *m = vendor();
    uint8_t req[U8D_CMD_SIZE], reply[U8D_CMD_SIZE];
    patterned(req, U8D_CMD_GET_STATUS, 0);
    req[0] = 0x12;
    assert_int_equal(u8d_model_command(m, 0, req, sizeof req, reply), 0);
    patterned(req, U8D_CMD_GET_STATUS, 0);
    req[15] = 0x23;
    assert_int_equal(u8d_model_command(m, 0, req, sizeof req, reply), 0);
    uint8_t longer[17];
    patterned(longer, U8D_CMD_GET_STATUS, 0);
    longer[16] = 0x22;
    assert_int_equal(u8d_model_command(m, 0, longer, sizeof longer, reply), 0);
    assert_int_equal(u8d_model_command(m, 0, NULL, 16, reply), 0);
    /* The pipe stays alive on the vendor firmware. */
    assert_true(u8d_model_command_pipe_alive(m));
    model_cmd(m, 0, U8D_CMD_GET_STATUS, 0, 0, reply);

    /* A short packet lands on the previous one's bytes (the firmware checks
     * byte 15 of its buffer), and the reply has the request's length. */
    patterned(req, U8D_CMD_GET_SOFTW_HARDW_VER, 0);
    assert_int_equal(u8d_model_command(m, 0, req, 16, reply), 16);
    const uint8_t shorter[] = {0x11, 0x00, 0x06, 0x00};
    memset(reply, 0xEE, sizeof reply);
    assert_int_equal(u8d_model_command(m, 0, shorter, sizeof shorter, reply), 4);
    const uint8_t want[] = {0x11, 0x00, 0x06, 0x00, 0xEE};
    assert_memory_equal(reply, want, 5);
    u8d_model_destroy(m);
}

static void test_reset_detaches_until_reinit(void **state)
{
    (void)state;
    u8d_model *m = vendor();
    uint8_t reply[U8D_CMD_SIZE];
    model_open(m, 0, 500, 0);
    model_cmd(m, 0, U8D_CMD_RESET, 0, 0, reply);
    assert_true(u8d_model_detached(m));
    uint8_t req[U8D_CMD_SIZE];
    cmd_bytes(req, U8D_CMD_GET_STATUS, 0);
    assert_int_equal(u8d_model_command(m, 0, req, sizeof req, reply), 0);
    u8d_frame f = std_frame(1, 1, 1);
    assert_int_equal(model_send(m, 0, &f), U8D_MODEL_OUT_STALLED);
    assert_false(u8d_model_can_tx_peek(m, 0, NULL, NULL));
    /* Re-enumerated: a fresh boot, clock from zero, controller closed. */
    u8d_model_usb_reinit(m, 5 * MS);
    assert_false(u8d_model_detached(m));
    assert_int_equal(u8d_model_timestamp(m, 5 * MS), 0);
    u8d_model_can_view v;
    u8d_model_can_state(m, &v);
    assert_false(v.running);
    model_cmd(m, 5 * MS, U8D_CMD_GET_STATUS, 0, 0, reply);
    u8d_model_destroy(m);
}

/* tests/data/captures/canalyze_linux_500k_commands.txt: usbmon capture of a
 * CANalyze under the Linux driver. */
static void test_canalyze_golden_bytes(void **state)
{
    (void)state;
    u8d_model *m = canalyze();
    uint8_t req[U8D_CMD_SIZE];
    cmd_bytes(req, U8D_CMD_GET_SOFTW_HARDW_VER, 0);
    const uint8_t want_ver[] = {0x11, 0x00, 0x0C, 0x00, 0x00, 0x00, 0x01, 0x00,
                                0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x22};
    exchange(m, 0, req, want_ver);
    /* OPEN and CLOSE replies carry the version bytes left in its buffer. */
    const uint8_t open_req[] = {0x11, 0x00, 0x02, 0x09, 0x00, 0x0d, 0x02, 0x01,
                                0x00, 0x04, 0x00, 0x00, 0x00, 0x08, 0x00, 0x22};
    const uint8_t open_reply[] = {0x11, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00,
                                  0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x22};
    exchange(m, 0, open_req, open_reply);
    u8d_model_can_view v;
    u8d_model_can_state(m, &v);
    assert_true(v.running);
    assert_int_equal(v.bitrate, 500000);
    const uint8_t close_req[] = {0x11, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
                                 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x22};
    const uint8_t close_reply[] = {0x11, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00,
                                   0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x22};
    exchange(m, 0, close_req, close_reply);
    u8d_model_destroy(m);
}

static void test_canalyze_unsupported_command_kills_the_pipe(void **state)
{
    (void)state;
    static const uint8_t unsupported[] = {
        U8D_CMD_RESET,      U8D_CMD_SET_SPEED,       U8D_CMD_GET_STATUS,    U8D_CMD_GET_STATISTICS,
        U8D_CMD_GET_SERIAL, U8D_CMD_RESET_TIMESTAMP, U8D_CMD_GET_SOFTW_VER, 0x0D};
    for (size_t i = 0; i < sizeof unsupported; i++) {
        u8d_model *m = canalyze();
        uint8_t req[U8D_CMD_SIZE], reply[U8D_CMD_SIZE];
        cmd_bytes(req, unsupported[i], 0);
        assert_int_equal(u8d_model_command(m, 0, req, sizeof req, reply), 0);
        assert_false(u8d_model_command_pipe_alive(m));
        cmd_bytes(req, U8D_CMD_GET_SOFTW_HARDW_VER, 0);
        assert_int_equal(u8d_model_command(m, 0, req, sizeof req, reply), 0);
        u8d_model_usb_reinit(m, 0);
        assert_int_equal(u8d_model_command(m, 0, req, sizeof req, reply), 16);
        u8d_model_destroy(m);
    }
    /* A malformed command kills it too, and so does a short one. */
    u8d_model *m = canalyze();
    uint8_t req[U8D_CMD_SIZE], reply[U8D_CMD_SIZE];
    cmd_bytes(req, U8D_CMD_GET_SOFTW_HARDW_VER, 0);
    assert_int_equal(u8d_model_command(m, 0, req, 15, reply), 0);
    assert_false(u8d_model_command_pipe_alive(m));
    u8d_model_destroy(m);
}

/* CANalyze: one reply buffer (usbd_8dev.c ~182-199). While a reply waits
 * unread, the next command is carried out but its reply is dropped. */
static void test_canalyze_drops_replies_while_one_is_unread(void **state)
{
    (void)state;
    u8d_model *m = canalyze();
    uint8_t req[U8D_CMD_SIZE], reply[U8D_CMD_SIZE];
    cmd_bytes(req, U8D_CMD_GET_SOFTW_HARDW_VER, 0);
    assert_int_equal(u8d_model_command(m, 0, req, sizeof req, reply), U8D_CMD_SIZE);
    u8d_model_reply_held(m, true);
    u8d_bittiming bt;
    assert_true(u8d_bittiming_standard(500, &bt));
    assert_int_equal(u8d_encode_open(req, &bt, 0), U8D_OK);
    assert_int_equal(u8d_model_command(m, 0, req, sizeof req, reply), 0);
    u8d_model_can_view v;
    u8d_model_can_state(m, &v);
    assert_true(v.running); /* carried out all the same */
    assert_true(u8d_model_command_pipe_alive(m));
    u8d_model_reply_held(m, false);
    cmd_bytes(req, U8D_CMD_CLOSE, 0);
    assert_int_equal(u8d_model_command(m, 0, req, sizeof req, reply), U8D_CMD_SIZE);
    u8d_model_destroy(m);

    /* The vendor firmware answers every command. */
    m = vendor();
    u8d_model_reply_held(m, true);
    model_cmd(m, 0, U8D_CMD_GET_STATUS, 0, 0, reply);
    u8d_model_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_commands),
        cmocka_unit_test(test_open_close_and_speed_table),
        cmocka_unit_test(test_set_speed_only_while_open),
        cmocka_unit_test(test_status_statistics_serial),
        cmocka_unit_test(test_unimplemented_and_unknown_commands),
        cmocka_unit_test(test_malformed_commands_get_no_reply),
        cmocka_unit_test(test_reset_detaches_until_reinit),
        cmocka_unit_test(test_canalyze_golden_bytes),
        cmocka_unit_test(test_canalyze_unsupported_command_kills_the_pipe),
        cmocka_unit_test(test_canalyze_drops_replies_while_one_is_unread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
