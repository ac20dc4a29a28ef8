/* Command channel of the 8devices codec: encoders against the bytes captured
 * from a real adapter (tests/data/captures: Linux usb_8dev driver talking to a
 * CANalyze at 500 kbit/s) and every reason a reply is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "u8d_codec.h"

/* `ip link set can0 up` with bitrate 500000: the OPEN command and its reply. */
static const uint8_t captured_open[U8D_CMD_SIZE] = {0x11, 0x00, 0x02, 0x09, 0x00, 0x0D, 0x02, 0x01,
                                                    0x00, 0x04, 0x00, 0x00, 0x00, 0x08, 0x00, 0x22};
/* The CANalyze firmware answers from one shared buffer it never clears, so the
 * OPEN and CLOSE replies still carry the version data 00 01 00 01 (fw 0.1,
 * hw 0.1) of the GET_SOFTW_HARDW_VER the driver sent at probe time. */
static const uint8_t captured_open_reply[U8D_CMD_SIZE] = {
    0x11, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x22};
/* `ip link set can0 down`. */
static const uint8_t captured_close[U8D_CMD_SIZE] = {
    0x11, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x22};
static const uint8_t captured_close_reply[U8D_CMD_SIZE] = {
    0x11, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x22};

static void test_open_500k_matches_capture(void **state)
{
    (void)state;
    u8d_bittiming bt;
    assert_true(u8d_bittiming_standard(500, &bt));
    uint8_t out[U8D_CMD_SIZE];
    memset(out, 0xEE, sizeof out);
    assert_int_equal(u8d_encode_open(out, &bt, U8D_OPEN_STATUS_FRAMES), U8D_OK);
    assert_memory_equal(out, captured_open, U8D_CMD_SIZE);
}

static void test_open_flags_are_big_endian_in_data_5_to_8(void **state)
{
    (void)state;
    u8d_bittiming bt = {6, 1, 1, 0x0305};
    uint8_t out[U8D_CMD_SIZE];
    uint32_t all = U8D_OPEN_SILENT | U8D_OPEN_LOOPBACK | U8D_OPEN_ONE_SHOT | U8D_OPEN_STATUS_FRAMES;
    assert_int_equal(u8d_encode_open(out, &bt, all), U8D_OK);
    const uint8_t want[U8D_CMD_SIZE] = {0x11, 0x00, 0x02, 0x09, 0x00, 0x06, 0x01, 0x01,
                                        0x03, 0x05, 0x00, 0x00, 0x00, 0x0F, 0x00, 0x22};
    assert_memory_equal(out, want, U8D_CMD_SIZE);
}

static void test_open_refuses_bad_timing_flags_and_null(void **state)
{
    (void)state;
    uint8_t out[U8D_CMD_SIZE];
    uint8_t untouched[U8D_CMD_SIZE];
    memset(out, 0xEE, sizeof out);
    memcpy(untouched, out, sizeof out);
    u8d_bittiming bad = {17, 2, 1, 4};
    assert_int_equal(u8d_encode_open(out, &bad, 0), U8D_ERR_RANGE);
    u8d_bittiming good = {13, 2, 1, 4};
    assert_int_equal(u8d_encode_open(out, &good, 0x10), U8D_ERR_RANGE);
    assert_int_equal(u8d_encode_open(out, NULL, 0), U8D_ERR_ARG);
    assert_int_equal(u8d_encode_open(NULL, &good, 0), U8D_ERR_ARG);
    assert_memory_equal(out, untouched, U8D_CMD_SIZE);
}

static void test_close_matches_capture(void **state)
{
    (void)state;
    uint8_t out[U8D_CMD_SIZE];
    memset(out, 0xEE, sizeof out);
    u8d_encode_command(out, U8D_CMD_CLOSE, 0, 0, NULL);
    assert_memory_equal(out, captured_close, U8D_CMD_SIZE);
}

static void test_generic_command_places_every_field(void **state)
{
    (void)state;
    const uint8_t data[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    uint8_t out[U8D_CMD_SIZE];
    u8d_encode_command(out, U8D_CMD_GET_STATISTICS, 0x07, 0xA5, data);
    const uint8_t want[U8D_CMD_SIZE] = {0x11, 0x00, 0x07, 0x07, 0xA5, 1, 2,  3,
                                        4,    5,    6,    7,    8,    9, 10, 0x22};
    assert_memory_equal(out, want, U8D_CMD_SIZE);
}

static void test_captured_replies_are_accepted(void **state)
{
    (void)state;
    assert_int_equal(u8d_check_reply(captured_open_reply, U8D_CMD_SIZE, U8D_CMD_OPEN), U8D_OK);
    assert_int_equal(u8d_check_reply(captured_close_reply, U8D_CMD_SIZE, U8D_CMD_CLOSE), U8D_OK);
    /* A reply is tied to its command: the OPEN reply does not answer CLOSE. */
    assert_int_equal(u8d_check_reply(captured_open_reply, U8D_CMD_SIZE, U8D_CMD_CLOSE),
                     U8D_ERR_MISMATCH);
}

static void test_captured_version_data_is_canalyze(void **state)
{
    (void)state;
    u8d_version v = u8d_reply_version(captured_open_reply);
    assert_int_equal(v.fw_major, 0);
    assert_int_equal(v.fw_minor, 1);
    assert_int_equal(v.hw_major, 0);
    assert_int_equal(v.hw_minor, 1);
    assert_int_equal(u8d_flavor_of(v), U8D_FLAVOR_CANALYZE);
}

static void test_flavor_of_vendor_firmware(void **state)
{
    (void)state;
    u8d_version fw17 = {1, 7, 1, 0};
    u8d_version korlan = {2, 4, 2, 0};
    assert_int_equal(u8d_flavor_of(fw17), U8D_FLAVOR_VENDOR);
    assert_int_equal(u8d_flavor_of(korlan), U8D_FLAVOR_VENDOR);
}

static void test_reply_version_reads_data_0_to_3(void **state)
{
    (void)state;
    uint8_t reply[U8D_CMD_SIZE];
    const uint8_t data[10] = {1, 7, 2, 3, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    u8d_encode_command(reply, U8D_CMD_GET_SOFTW_HARDW_VER, 0, 0, data);
    assert_int_equal(u8d_check_reply(reply, sizeof reply, U8D_CMD_GET_SOFTW_HARDW_VER), U8D_OK);
    u8d_version v = u8d_reply_version(reply);
    assert_int_equal(v.fw_major, 1);
    assert_int_equal(v.fw_minor, 7);
    assert_int_equal(v.hw_major, 2);
    assert_int_equal(v.hw_minor, 3);
}

static void test_reply_be32_is_big_endian(void **state)
{
    (void)state;
    uint8_t reply[U8D_CMD_SIZE];
    const uint8_t data[10] = {0x80, 0x00, 0x01, 0x02, 0xAA, 0, 0, 0, 0, 0};
    u8d_encode_command(reply, U8D_CMD_GET_STATUS, 0, 0, data);
    assert_int_equal(u8d_reply_be32(reply), 0x80000102u);
    assert_true((u8d_reply_be32(reply) & U8D_STATUS_BUS_OFF) != 0);
}

static void test_reply_rejections_have_distinct_statuses(void **state)
{
    (void)state;
    uint8_t reply[U8D_CMD_SIZE + 1];
    memcpy(reply, captured_close_reply, U8D_CMD_SIZE);
    reply[U8D_CMD_SIZE] = 0x00;

    assert_int_equal(u8d_check_reply(NULL, U8D_CMD_SIZE, U8D_CMD_CLOSE), U8D_ERR_ARG);
    assert_int_equal(u8d_check_reply(reply, 0, U8D_CMD_CLOSE), U8D_ERR_SHORT);
    assert_int_equal(u8d_check_reply(reply, U8D_CMD_SIZE - 1, U8D_CMD_CLOSE), U8D_ERR_SHORT);
    assert_int_equal(u8d_check_reply(reply, U8D_CMD_SIZE + 1, U8D_CMD_CLOSE), U8D_ERR_LENGTH);

    reply[0] = 0x12;
    assert_int_equal(u8d_check_reply(reply, U8D_CMD_SIZE, U8D_CMD_CLOSE), U8D_ERR_MARKER);
    reply[0] = U8D_CMD_START;
    reply[15] = 0x00;
    assert_int_equal(u8d_check_reply(reply, U8D_CMD_SIZE, U8D_CMD_CLOSE), U8D_ERR_MARKER);
    reply[15] = U8D_CMD_END;

    reply[3] = U8D_RESULT_ERROR;
    assert_int_equal(u8d_check_reply(reply, U8D_CMD_SIZE, U8D_CMD_CLOSE), U8D_ERR_RESULT);
    reply[3] = 0x01; /* any non-zero result is a failure */
    assert_int_equal(u8d_check_reply(reply, U8D_CMD_SIZE, U8D_CMD_CLOSE), U8D_ERR_RESULT);
    /* The echoed command is checked before the result. */
    assert_int_equal(u8d_check_reply(reply, U8D_CMD_SIZE, U8D_CMD_OPEN), U8D_ERR_MISMATCH);
    reply[3] = U8D_RESULT_OK;
    assert_int_equal(u8d_check_reply(reply, U8D_CMD_SIZE, U8D_CMD_CLOSE), U8D_OK);
}

static void test_device_side_command_check_and_open_decode(void **state)
{
    (void)state;
    assert_int_equal(u8d_check_command(captured_open, U8D_CMD_SIZE), U8D_OK);
    assert_int_equal(u8d_check_command(captured_open, U8D_CMD_SIZE - 1), U8D_ERR_SHORT);
    assert_int_equal(u8d_check_command(NULL, U8D_CMD_SIZE), U8D_ERR_ARG);
    uint8_t bad_end[U8D_CMD_SIZE];
    memcpy(bad_end, captured_open, U8D_CMD_SIZE);
    bad_end[15] = 0x23;
    assert_int_equal(u8d_check_command(bad_end, U8D_CMD_SIZE), U8D_ERR_MARKER);

    u8d_bittiming bt = {0, 0, 0, 0};
    uint32_t flags = 0;
    u8d_decode_open(captured_open, &bt, &flags);
    assert_int_equal(bt.tseg1, 13);
    assert_int_equal(bt.tseg2, 2);
    assert_int_equal(bt.sjw, 1);
    assert_int_equal(bt.brp, 4);
    assert_int_equal(flags, U8D_OPEN_STATUS_FRAMES);
}

static void test_status_texts_are_distinct_and_never_null(void **state)
{
    (void)state;
    for (int a = U8D_OK; a <= U8D_ERR_ARG; a++) {
        const char *ta = u8d_status_text((u8d_status)a);
        assert_non_null(ta);
        assert_true(strlen(ta) > 0);
        for (int b = a + 1; b <= U8D_ERR_ARG; b++) {
            assert_string_not_equal(ta, u8d_status_text((u8d_status)b));
        }
    }
    assert_non_null(u8d_status_text((u8d_status)99));
    assert_string_equal(u8d_status_text(U8D_ERR_MARKER), "start or end marker wrong");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_500k_matches_capture),
        cmocka_unit_test(test_open_flags_are_big_endian_in_data_5_to_8),
        cmocka_unit_test(test_open_refuses_bad_timing_flags_and_null),
        cmocka_unit_test(test_close_matches_capture),
        cmocka_unit_test(test_generic_command_places_every_field),
        cmocka_unit_test(test_captured_replies_are_accepted),
        cmocka_unit_test(test_captured_version_data_is_canalyze),
        cmocka_unit_test(test_flavor_of_vendor_firmware),
        cmocka_unit_test(test_reply_version_reads_data_0_to_3),
        cmocka_unit_test(test_reply_be32_is_big_endian),
        cmocka_unit_test(test_reply_rejections_have_distinct_statuses),
        cmocka_unit_test(test_device_side_command_check_and_open_decode),
        cmocka_unit_test(test_status_texts_are_distinct_and_never_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
