/* Fuzz target: IN packets from the data endpoint, decoded as both firmware
 * flavours, with each delivered record re-encoded and fed to the clock. */
#include <string.h>

#include "fuzz_check.h"
#include "fuzz_target.h"
#include "u8d_codec.h"

#define VENDOR_TS_MASK 0x1FFFFFFFu

static void check_record(const u8d_rx_record *r)
{
    FUZZ_CHECK(r->frame.dlc <= 8);
    if (r->type == U8D_TYPE_CAN) {
        FUZZ_CHECK((r->frame.flags & ~(U8D_FLAG_EXT | U8D_FLAG_RTR)) == 0);
        FUZZ_CHECK(r->frame.id <= ((r->frame.flags & U8D_FLAG_EXT) ? 0x1FFFFFFFu : 0x7FFu));
    } else {
        FUZZ_CHECK(r->type == U8D_TYPE_STATUS);
        FUZZ_CHECK(r->frame.flags == U8D_FLAG_ERR);
    }
}

/* A delivered record re-encodes to the bytes it came from (vendor: except the
 * three timestamp bits the firmware masks off). */
static void check_round_trip(const uint8_t *wire, const u8d_rx_record *r, u8d_flavor flavor)
{
    uint8_t again[U8D_RX_RECORD_SIZE];
    u8d_encode_rx(again, r, flavor);
    if (flavor == U8D_FLAVOR_VENDOR) {
        FUZZ_CHECK(memcmp(again, wire, 16) == 0);
        FUZZ_CHECK(again[16] == (wire[16] & 0x1F));
        FUZZ_CHECK(memcmp(again + 17, wire + 17, 4) == 0);
        FUZZ_CHECK(r->timestamp <= VENDOR_TS_MASK);
    } else {
        FUZZ_CHECK(memcmp(again, wire, U8D_RX_RECORD_SIZE) == 0);
    }
}

static void check_packet_status(u8d_status st, size_t size, size_t count, size_t bad)
{
    FUZZ_CHECK(count <= U8D_RX_MAX_RECORDS);
    FUZZ_CHECK(u8d_status_text(st) != NULL);
    if (st == U8D_OK) {
        FUZZ_CHECK(size % U8D_RX_RECORD_SIZE == 0 && size <= 63 && size > 0);
        FUZZ_CHECK(count == size / U8D_RX_RECORD_SIZE);
        return;
    }
    FUZZ_CHECK(bad == count);
    FUZZ_CHECK(st == U8D_ERR_SHORT || st == U8D_ERR_LENGTH || st == U8D_ERR_MARKER ||
               st == U8D_ERR_DLC || st == U8D_ERR_TYPE || st == U8D_ERR_RANGE);
    if (st == U8D_ERR_SHORT) {
        FUZZ_CHECK(size < U8D_RX_RECORD_SIZE && count == 0);
    }
    if (st == U8D_ERR_LENGTH) {
        FUZZ_CHECK(size % U8D_RX_RECORD_SIZE != 0 || size > 63);
    }
}

static void decode_as(const uint8_t *data, size_t size, u8d_flavor flavor)
{
    u8d_rx_record out[U8D_RX_MAX_RECORDS];
    size_t count = 99, bad = 99;
    u8d_status st = u8d_decode_in_packet(data, size, flavor, out, &count, &bad);
    check_packet_status(st, size, count, bad);

    u8d_clock clock;
    u8d_clock_init(&clock, flavor);
    uint64_t last_us = 0;
    for (size_t i = 0; i < count; i++) {
        check_record(&out[i]);
        check_round_trip(data + i * U8D_RX_RECORD_SIZE, &out[i], flavor);
        uint64_t us = u8d_clock_to_us(&clock, out[i].timestamp);
        FUZZ_CHECK(i > 0 || us == 0);
        FUZZ_CHECK(us >= last_us);
        last_us = us;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    decode_as(data, size, U8D_FLAVOR_VENDOR);
    decode_as(data, size, U8D_FLAVOR_CANALYZE);
    return 0;
}
