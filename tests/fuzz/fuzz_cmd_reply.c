/* Fuzz target: replies from the command endpoint, checked against every
 * command code, with the accessors and the device-side OPEN decoder. */
#include <string.h>

#include "fuzz_check.h"
#include "fuzz_target.h"
#include "u8d_codec.h"

static void check_accepted(const uint8_t *reply, uint8_t cmd)
{
    FUZZ_CHECK(reply[0] == U8D_CMD_START && reply[15] == U8D_CMD_END);
    FUZZ_CHECK(reply[2] == cmd && reply[3] == U8D_RESULT_OK);

    uint32_t word = u8d_reply_be32(reply);
    u8d_version v = u8d_reply_version(reply);
    FUZZ_CHECK((word >> 24) == v.fw_major && ((word >> 16) & 0xFF) == v.fw_minor);
    FUZZ_CHECK(((word >> 8) & 0xFF) == v.hw_major && (word & 0xFF) == v.hw_minor);
    u8d_flavor flavor = u8d_flavor_of(v);
    FUZZ_CHECK((flavor == U8D_FLAVOR_CANALYZE) == (v.fw_major == 0));

    /* Re-encoding the fields gives the same bytes (channel is always 0). */
    uint8_t again[U8D_CMD_SIZE];
    u8d_encode_command(again, reply[2], reply[3], reply[4], reply + 5);
    FUZZ_CHECK(memcmp(again + 2, reply + 2, U8D_CMD_SIZE - 2) == 0);
    FUZZ_CHECK(again[1] == 0);
}

/* A well-formed OPEN decodes to fields that encode back to the same bytes. */
static void check_open(const uint8_t *cmd)
{
    u8d_bittiming bt;
    uint32_t flags;
    u8d_decode_open(cmd, &bt, &flags);
    uint8_t again[U8D_CMD_SIZE];
    u8d_status st = u8d_encode_open(again, &bt, flags);
    bool plain = cmd[1] == 0 && cmd[2] == U8D_CMD_OPEN && cmd[3] == U8D_SPEED_MANUAL &&
                 cmd[4] == 0 && cmd[14] == 0;
    if (st == U8D_OK) {
        FUZZ_CHECK(u8d_bittiming_check_any(&bt, NULL, 0) == U8D_OK);
        FUZZ_CHECK(u8d_bittiming_bitrate(&bt) > 0);
        if (plain) {
            FUZZ_CHECK(memcmp(again, cmd, U8D_CMD_SIZE) == 0);
        }
    } else {
        FUZZ_CHECK(st == U8D_ERR_RANGE);
        char reason[80];
        bool timing_ok = u8d_bittiming_check_any(&bt, reason, sizeof reason) == U8D_OK;
        FUZZ_CHECK(!timing_ok || (flags & ~0x0Fu) != 0);
    }
}

static void check_one(const uint8_t *data, size_t size, uint8_t cmd)
{
    u8d_status st = u8d_check_reply(data, size, cmd);
    FUZZ_CHECK(u8d_status_text(st) != NULL);
    switch (st) {
    case U8D_OK:
        FUZZ_CHECK(size == U8D_CMD_SIZE);
        check_accepted(data, cmd);
        break;
    case U8D_ERR_SHORT:
        FUZZ_CHECK(size < U8D_CMD_SIZE);
        break;
    case U8D_ERR_LENGTH:
        FUZZ_CHECK(size > U8D_CMD_SIZE);
        break;
    case U8D_ERR_MARKER:
        FUZZ_CHECK(data[0] != U8D_CMD_START || data[15] != U8D_CMD_END);
        break;
    case U8D_ERR_MISMATCH:
        FUZZ_CHECK(data[2] != cmd);
        break;
    case U8D_ERR_RESULT:
        FUZZ_CHECK(data[2] == cmd && data[3] != U8D_RESULT_OK);
        break;
    default:
        FUZZ_CHECK(st == U8D_ERR_ARG && data == NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (unsigned cmd = 0; cmd <= U8D_CMD_GET_SOFTW_HARDW_VER + 1; cmd++) {
        check_one(data, size, (uint8_t)cmd);
    }
    if (size > 2) {
        check_one(data, size, data[2]);
    }
    if (u8d_check_command(data, size) == U8D_OK) {
        check_open(data);
    }
    return 0;
}
