/* Fuzz target: IN packets from the data endpoint, decoded as both firmware
 * flavours, with each delivered record re-encoded and fed to the clock. */
#include <string.h>

#include "fuzz_check.h"
#include "fuzz_target.h"
#include "u8d_codec.h"

#define VENDOR_TS_MASK 0x1FFFFFFFu

static void check_record(const u8d_rx_record *r)
{
    FUZZ_CHECK(r->frame.dlc <= 15);
    FUZZ_CHECK(u8d_dlc_bytes(r->frame.dlc) <= 8);
    if (r->type == U8D_TYPE_CAN) {
        FUZZ_CHECK((r->frame.flags & ~(U8D_FLAG_EXT | U8D_FLAG_RTR)) == 0);
        FUZZ_CHECK(r->frame.id <= ((r->frame.flags & U8D_FLAG_EXT) ? 0x1FFFFFFFu : 0x7FFu));
    } else {
        FUZZ_CHECK(r->type == U8D_TYPE_STATUS);
        FUZZ_CHECK(r->frame.flags == U8D_FLAG_ERR);
    }
}

/* A delivered record re-encodes to the bytes it came from (vendor: except the
 * three timestamp bits the firmware masks off; both: the dlc byte's upper
 * nibble, which the decoder drops). */
static void check_round_trip(const uint8_t *in, const u8d_rx_record *r, u8d_flavor flavor)
{
    uint8_t wire[U8D_RX_RECORD_SIZE];
    memcpy(wire, in, sizeof wire);
    wire[7] &= 0x0F;
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

static void check_packet(u8d_status st, size_t size, const u8d_in_packet *p)
{
    FUZZ_CHECK(p->records <= U8D_RX_MAX_RECORDS);
    FUZZ_CHECK(p->good <= p->records);
    FUZZ_CHECK(u8d_status_text(st) != NULL);
    size_t whole = size / U8D_RX_RECORD_SIZE;
    FUZZ_CHECK(p->records == (whole > 3 ? 3 : whole));
    size_t good = 0;
    u8d_status first = U8D_OK;
    for (size_t i = 0; i < p->records; i++) {
        u8d_status s = p->st[i];
        FUZZ_CHECK(s == U8D_OK || s == U8D_ERR_MARKER || s == U8D_ERR_TYPE || s == U8D_ERR_RANGE);
        good += s == U8D_OK;
        if (first == U8D_OK)
            first = s;
    }
    FUZZ_CHECK(good == p->good);
    if (first == U8D_OK)
        first = p->tail;
    FUZZ_CHECK(st == first);
    FUZZ_CHECK(p->tail == U8D_OK || p->tail == U8D_ERR_SHORT || p->tail == U8D_ERR_LENGTH);
    FUZZ_CHECK((p->tail == U8D_ERR_SHORT) == (size < U8D_RX_RECORD_SIZE));
    if (p->tail == U8D_ERR_LENGTH) {
        FUZZ_CHECK(size % U8D_RX_RECORD_SIZE != 0 || size > 63);
    }
}

static void decode_as(const uint8_t *data, size_t size, u8d_flavor flavor)
{
    u8d_in_packet p;
    u8d_status st = u8d_decode_in_packet(data, size, flavor, &p);
    check_packet(st, size, &p);

    u8d_clock clock;
    u8d_clock_init(&clock, flavor);
    uint64_t last_us = 0;
    bool first = true;
    for (size_t i = 0; i < p.records; i++) {
        if (p.st[i] != U8D_OK)
            continue;
        check_record(&p.rec[i]);
        check_round_trip(data + i * U8D_RX_RECORD_SIZE, &p.rec[i], flavor);
        uint64_t us = u8d_clock_to_us(&clock, p.rec[i].timestamp);
        FUZZ_CHECK(!first || us == 0);
        FUZZ_CHECK(us >= last_us);
        last_us = us;
        first = false;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    decode_as(data, size, U8D_FLAVOR_VENDOR);
    decode_as(data, size, U8D_FLAVOR_CANALYZE);
    return 0;
}
