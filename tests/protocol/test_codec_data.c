/* Data channel of the 8devices codec: TX records and RX IN packets against the
 * bytes captured from a real CANalyze (tests/data/captures), every rejection of a
 * malformed packet, and the timestamp unwrap of both firmware flavours. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "u8d_codec.h"

/* `cansend can0 555#1122334455667788` and `cansend can0 777#8888888888888888`. */
static const uint8_t captured_tx_555[U8D_TX_RECORD_SIZE] = {
    0x55, 0x00, 0x00, 0x00, 0x05, 0x55, 0x08, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0xAA};
static const uint8_t captured_tx_777[U8D_TX_RECORD_SIZE] = {
    0x55, 0x00, 0x00, 0x00, 0x07, 0x77, 0x08, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0xAA};

/* Two records seen by `candump can0` (two sessions: USB device 7, then 8).
 * Byte 2 is 0x01 in both. That is the EXT flag: the CANalyze firmware starts
 * from flags 0 and ORs in 0x01 only when the bxCAN mailbox says IDE = extended
 * (kkuchera/canalyze-fw usbd_8dev_if.c), and the Linux driver turns 0x01 into
 * CAN_EFF_FLAG. So these frames were 29-bit frames with ids 0x00000555 and
 * 0x00000777 on the bus, whatever the page's annotation assumed; the codec
 * reports what the wire says.
 * Bytes 16..19 are little-endian milliseconds (HAL_GetTick): 0x00075EE6 =
 * 483046 ms and 0x000099B0 = 39344 ms of uptime, both plausible; read as the
 * vendor's big-endian 29-bit ticks they would be nonsense. */
static const uint8_t captured_rx_555[U8D_RX_RECORD_SIZE] = {
    0x55, 0x00, 0x01, 0x00, 0x00, 0x05, 0x55, 0x08, 0x11, 0x22, 0x33,
    0x44, 0x55, 0x66, 0x77, 0x88, 0xE6, 0x5E, 0x07, 0x00, 0xAA};
static const uint8_t captured_rx_777[U8D_RX_RECORD_SIZE] = {
    0x55, 0x00, 0x01, 0x00, 0x00, 0x07, 0x77, 0x08, 0x88, 0x88, 0x88,
    0x88, 0x88, 0x88, 0x88, 0x88, 0xB0, 0x99, 0x00, 0x00, 0xAA};

/* u8d_decode_in_packet seen the way a host consumes it: the good records in
 * wire order in out[0..*count-1]; *bad = wire index of the first bad record
 * (the number of whole records when only the tail is wrong). */
static u8d_status decode_packet(const uint8_t *in, size_t len, u8d_flavor flavor,
                                u8d_rx_record out[U8D_RX_MAX_RECORDS], size_t *count, size_t *bad)
{
    u8d_in_packet p;
    u8d_status st = u8d_decode_in_packet(in, len, flavor, &p);
    *count = 0;
    *bad = p.records;
    for (size_t i = p.records; i-- > 0;)
        if (p.st[i] != U8D_OK)
            *bad = i;
    for (size_t i = 0; i < p.records; i++)
        if (p.st[i] == U8D_OK)
            out[(*count)++] = p.rec[i];
    assert_int_equal(*count, p.good);
    return st;
}

static u8d_frame std_frame(uint32_t id, uint8_t dlc, uint8_t fill)
{
    u8d_frame f;
    f.id = id;
    f.flags = 0;
    f.dlc = dlc;
    memset(f.data, fill, sizeof f.data);
    return f;
}

/* --- TX records ---------------------------------------------------------- */

static void test_tx_matches_captures(void **state)
{
    (void)state;
    u8d_frame f = {0x555, 0, 8, {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}};
    uint8_t out[U8D_TX_RECORD_SIZE];
    assert_int_equal(u8d_encode_tx(out, &f), U8D_OK);
    assert_memory_equal(out, captured_tx_555, U8D_TX_RECORD_SIZE);

    f = std_frame(0x777, 8, 0x88);
    assert_int_equal(u8d_encode_tx(out, &f), U8D_OK);
    assert_memory_equal(out, captured_tx_777, U8D_TX_RECORD_SIZE);
}

static void test_tx_pads_data_past_dlc_and_rtr_with_zero(void **state)
{
    (void)state;
    u8d_frame f = {0x1ABCDEF0, U8D_FLAG_EXT, 3, {1, 2, 3, 4, 5, 6, 7, 8}};
    uint8_t out[U8D_TX_RECORD_SIZE];
    assert_int_equal(u8d_encode_tx(out, &f), U8D_OK);
    const uint8_t want[U8D_TX_RECORD_SIZE] = {0x55, 0x01, 0x1A, 0xBC, 0xDE, 0xF0, 0x03, 1,
                                              2,    3,    0,    0,    0,    0,    0,    0xAA};
    assert_memory_equal(out, want, U8D_TX_RECORD_SIZE);

    u8d_frame rtr = {0x123, U8D_FLAG_RTR, 4, {9, 9, 9, 9, 9, 9, 9, 9}};
    assert_int_equal(u8d_encode_tx(out, &rtr), U8D_OK);
    const uint8_t want_rtr[U8D_TX_RECORD_SIZE] = {0x55, 0x02, 0x00, 0x00, 0x01, 0x23, 0x04, 0,
                                                  0,    0,    0,    0,    0,    0,    0,    0xAA};
    assert_memory_equal(out, want_rtr, U8D_TX_RECORD_SIZE);
}

static void test_tx_id_and_dlc_limits(void **state)
{
    (void)state;
    uint8_t out[U8D_TX_RECORD_SIZE];
    uint8_t untouched[U8D_TX_RECORD_SIZE];
    memset(out, 0xEE, sizeof out);
    memcpy(untouched, out, sizeof out);

    u8d_frame f = std_frame(0x800, 0, 0);
    assert_int_equal(u8d_encode_tx(out, &f), U8D_ERR_RANGE);
    f.flags = U8D_FLAG_EXT;
    f.id = 0x20000000;
    assert_int_equal(u8d_encode_tx(out, &f), U8D_ERR_RANGE);
    f = std_frame(0x100, 9, 0);
    assert_int_equal(u8d_encode_tx(out, &f), U8D_ERR_DLC);
    f = std_frame(0x100, 8, 0);
    f.flags = U8D_FLAG_ERR;
    assert_int_equal(u8d_encode_tx(out, &f), U8D_ERR_TYPE);
    assert_int_equal(u8d_encode_tx(out, NULL), U8D_ERR_ARG);
    assert_int_equal(u8d_encode_tx(NULL, &f), U8D_ERR_ARG);
    assert_memory_equal(out, untouched, sizeof out);

    f = std_frame(0x7FF, 8, 0);
    assert_int_equal(u8d_encode_tx(out, &f), U8D_OK);
    f.flags = U8D_FLAG_EXT;
    f.id = 0x1FFFFFFF;
    assert_int_equal(u8d_encode_tx(out, &f), U8D_OK);
    assert_int_equal(out[2], 0x1F);
    assert_int_equal(out[5], 0xFF);
}

static void test_tx_decode_round_trip_and_rejections(void **state)
{
    (void)state;
    u8d_frame f;
    assert_int_equal(u8d_decode_tx(captured_tx_555, U8D_TX_RECORD_SIZE, &f), U8D_OK);
    assert_int_equal(f.id, 0x555);
    assert_int_equal(f.flags, 0);
    assert_int_equal(f.dlc, 8);
    const uint8_t data[8] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
    assert_memory_equal(f.data, data, 8);

    assert_int_equal(u8d_decode_tx(captured_tx_555, 15, &f), U8D_ERR_SHORT);
    assert_int_equal(u8d_decode_tx(captured_tx_555, 17, &f), U8D_ERR_LENGTH);
    assert_int_equal(u8d_decode_tx(NULL, 16, &f), U8D_ERR_ARG);
    uint8_t rec[U8D_TX_RECORD_SIZE];
    memcpy(rec, captured_tx_555, sizeof rec);
    rec[15] = 0xAB;
    assert_int_equal(u8d_decode_tx(rec, sizeof rec, &f), U8D_ERR_MARKER);
    memcpy(rec, captured_tx_555, sizeof rec);
    rec[6] = 12;
    assert_int_equal(u8d_decode_tx(rec, sizeof rec, &f), U8D_ERR_DLC);
    assert_int_equal(f.dlc, 12); /* raw fields stay visible to a device model */
    memcpy(rec, captured_tx_555, sizeof rec);
    rec[4] = 0x08; /* id 0x855 in a standard frame */
    assert_int_equal(u8d_decode_tx(rec, sizeof rec, &f), U8D_ERR_RANGE);
    assert_int_equal(f.id, 0x855);
}

/* --- RX records and packets ---------------------------------------------- */

static void test_rx_captures_decode_to_their_fields(void **state)
{
    (void)state;
    u8d_rx_record out[U8D_RX_MAX_RECORDS];
    size_t count = 99, bad = 99;
    assert_int_equal(decode_packet(captured_rx_555, sizeof captured_rx_555, U8D_FLAVOR_CANALYZE,
                                   out, &count, &bad),
                     U8D_OK);
    assert_int_equal(count, 1);
    assert_int_equal(out[0].type, U8D_TYPE_CAN);
    assert_int_equal(out[0].frame.flags, U8D_FLAG_EXT);
    assert_int_equal(out[0].frame.id, 0x555);
    assert_int_equal(out[0].frame.dlc, 8);
    const uint8_t data[8] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
    assert_memory_equal(out[0].frame.data, data, 8);
    assert_int_equal(out[0].timestamp, 0x00075EE6u);
    assert_int_equal(out[0].timestamp, 483046u);

    assert_int_equal(decode_packet(captured_rx_777, sizeof captured_rx_777, U8D_FLAVOR_CANALYZE,
                                   out, &count, &bad),
                     U8D_OK);
    assert_int_equal(count, 1);
    assert_int_equal(out[0].frame.flags, U8D_FLAG_EXT);
    assert_int_equal(out[0].frame.id, 0x777);
    assert_int_equal(out[0].frame.dlc, 8);
    const uint8_t eights[8] = {0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88};
    assert_memory_equal(out[0].frame.data, eights, 8);
    assert_int_equal(out[0].timestamp, 39344u);

    /* The same bytes read as vendor firmware: big-endian, top 3 bits masked. */
    assert_int_equal(decode_packet(captured_rx_555, sizeof captured_rx_555, U8D_FLAVOR_VENDOR, out,
                                   &count, &bad),
                     U8D_OK);
    assert_int_equal(out[0].timestamp, 0x065E0700u);
}

static u8d_rx_record can_record(uint32_t id, uint8_t dlc, uint32_t ts)
{
    u8d_rx_record r;
    memset(&r, 0, sizeof r);
    r.type = U8D_TYPE_CAN;
    r.frame = std_frame(id, dlc, (uint8_t)id);
    r.timestamp = ts;
    return r;
}

static void test_rx_encoder_byte_order_per_flavour(void **state)
{
    (void)state;
    u8d_rx_record r = can_record(0x123, 2, 0xF2345678);
    uint8_t out[U8D_RX_RECORD_SIZE];
    u8d_encode_rx(out, &r, U8D_FLAVOR_VENDOR);
    const uint8_t want_vendor[U8D_RX_RECORD_SIZE] = {0x55, 0x00, 0x00, 0x00, 0x00, 0x01, 0x23,
                                                     0x02, 0x23, 0x23, 0x23, 0x23, 0x23, 0x23,
                                                     0x23, 0x23, 0x12, 0x34, 0x56, 0x78, 0xAA};
    assert_memory_equal(out, want_vendor, sizeof out);
    u8d_encode_rx(out, &r, U8D_FLAVOR_CANALYZE);
    assert_int_equal(out[16], 0x78);
    assert_int_equal(out[17], 0x56);
    assert_int_equal(out[18], 0x34);
    assert_int_equal(out[19], 0xF2);
}

static void test_rx_status_record(void **state)
{
    (void)state;
    /* Vendor firmware: type 3, flags 0x04, id 0, dlc 4, code/REC/TEC/0. */
    const uint8_t bus_off[U8D_RX_RECORD_SIZE] = {0x55, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00,
                                                 0x04, 0x04, 0x05, 0xF8, 0x00, 0xDE, 0xAD,
                                                 0xBE, 0xEF, 0x00, 0x00, 0x12, 0x34, 0xAA};
    u8d_rx_record out[U8D_RX_MAX_RECORDS];
    size_t count, bad;
    assert_int_equal(decode_packet(bus_off, sizeof bus_off, U8D_FLAVOR_VENDOR, out, &count, &bad),
                     U8D_OK);
    assert_int_equal(count, 1);
    assert_int_equal(out[0].type, U8D_TYPE_STATUS);
    assert_int_equal(out[0].frame.flags, U8D_FLAG_ERR);
    assert_int_equal(out[0].frame.dlc, 4);
    assert_int_equal(out[0].frame.data[0], 0x04);
    assert_int_equal(out[0].frame.data[1], 0x05);
    assert_int_equal(out[0].frame.data[2], 0xF8);

    /* CANalyze leaves a stale id in status records: not a reason to refuse. */
    uint8_t stale[U8D_RX_RECORD_SIZE];
    memcpy(stale, bus_off, sizeof stale);
    stale[3] = 0xFF;
    assert_int_equal(decode_packet(stale, sizeof stale, U8D_FLAVOR_CANALYZE, out, &count, &bad),
                     U8D_OK);
}

/* Three valid records in one 63-byte packet, plus one spare byte. */
static void three_records(uint8_t buf[U8D_IN_PACKET_MAX], u8d_flavor flavor)
{
    for (unsigned i = 0; i < 3; i++) {
        u8d_rx_record r = can_record(0x100 + i, (uint8_t)(i + 1), 1000 + i);
        u8d_encode_rx(buf + i * U8D_RX_RECORD_SIZE, &r, flavor);
    }
    buf[U8D_IN_PACKET_MAX - 1] = U8D_DATA_START;
}

static void test_three_record_packet_keeps_wire_order(void **state)
{
    (void)state;
    uint8_t buf[U8D_IN_PACKET_MAX];
    three_records(buf, U8D_FLAVOR_VENDOR);
    u8d_rx_record out[U8D_RX_MAX_RECORDS];
    size_t count, bad;
    assert_int_equal(decode_packet(buf, 63, U8D_FLAVOR_VENDOR, out, &count, &bad), U8D_OK);
    assert_int_equal(count, 3);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(out[i].frame.id, 0x100 + i);
        assert_int_equal(out[i].frame.dlc, i + 1);
        assert_int_equal(out[i].frame.data[0], (uint8_t)(0x100 + i));
        assert_int_equal(out[i].timestamp, 1000 + i);
    }
}

/* Every length 0..64, each in a heap block of exactly that size so that the
 * sanitizer sees any read past the end. */
static void test_every_packet_length_0_to_64(void **state)
{
    (void)state;
    uint8_t full[U8D_IN_PACKET_MAX];
    three_records(full, U8D_FLAVOR_CANALYZE);
    for (size_t len = 0; len <= U8D_IN_PACKET_MAX; len++) {
        uint8_t *pkt = malloc(len > 0 ? len : 1);
        assert_non_null(pkt);
        memcpy(pkt, full, len);
        u8d_rx_record out[U8D_RX_MAX_RECORDS];
        size_t count = 99, bad = 99;
        u8d_status st = decode_packet(pkt, len, U8D_FLAVOR_CANALYZE, out, &count, &bad);
        size_t whole = len / U8D_RX_RECORD_SIZE;
        if (len < U8D_RX_RECORD_SIZE) {
            assert_int_equal(st, U8D_ERR_SHORT);
            assert_int_equal(count, 0);
        } else if (len % U8D_RX_RECORD_SIZE == 0) {
            assert_int_equal(st, U8D_OK);
            assert_int_equal(count, whole);
        } else {
            /* Partial trailing record: the whole ones in front are delivered. */
            assert_int_equal(st, U8D_ERR_LENGTH);
            assert_int_equal(count, whole);
            assert_int_equal(bad, whole);
        }
        for (size_t i = 0; i < count; i++) {
            assert_int_equal(out[i].frame.id, 0x100 + i);
        }
        free(pkt);
    }
}

static void test_packet_longer_than_three_records(void **state)
{
    (void)state;
    uint8_t buf[4 * U8D_RX_RECORD_SIZE];
    three_records(buf, U8D_FLAVOR_VENDOR);
    memcpy(buf + 3 * U8D_RX_RECORD_SIZE, buf, U8D_RX_RECORD_SIZE);
    u8d_rx_record out[U8D_RX_MAX_RECORDS];
    size_t count, bad;
    assert_int_equal(decode_packet(buf, sizeof buf, U8D_FLAVOR_VENDOR, out, &count, &bad),
                     U8D_ERR_LENGTH);
    assert_int_equal(count, 3);
    assert_int_equal(bad, 3);
}

struct corruption {
    size_t offset; /* within record 2 (index 1) */
    uint8_t value;
    u8d_status want;
};

static void test_each_record_rejection_reason(void **state)
{
    (void)state;
    const struct corruption cases[] = {
        {0, 0x54, U8D_ERR_MARKER},  /* start marker */
        {20, 0x00, U8D_ERR_MARKER}, /* end marker */
        {1, 1, U8D_ERR_TYPE},       /* DATA_FRAME_ACK: defined, never sent */
        {1, 2, U8D_ERR_TYPE},       /* DATA_FRAME_NACK */
        {1, 4, U8D_ERR_TYPE},       {2, 0x04, U8D_ERR_TYPE},  /* error flag on a CAN record */
        {2, 0x80, U8D_ERR_TYPE},    {5, 0x08, U8D_ERR_RANGE}, /* standard id 0x801 */
        {3, 0x20, U8D_ERR_RANGE},                             /* bit 29 set */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        uint8_t buf[U8D_IN_PACKET_MAX];
        three_records(buf, U8D_FLAVOR_VENDOR);
        buf[U8D_RX_RECORD_SIZE + cases[k].offset] = cases[k].value;
        u8d_in_packet p;
        u8d_status st = u8d_decode_in_packet(buf, 63, U8D_FLAVOR_VENDOR, &p);
        if (st != cases[k].want) {
            fail_msg("case %zu: status %d, want %d", k, (int)st, (int)cases[k].want);
        }
        /* Judged on its own: the bad middle record costs nothing else. */
        assert_int_equal(p.records, 3);
        assert_int_equal(p.good, 2);
        assert_int_equal(p.st[0], U8D_OK);
        assert_int_equal(p.st[1], cases[k].want);
        assert_int_equal(p.st[2], U8D_OK);
        assert_int_equal(p.tail, U8D_OK);
        assert_int_equal(p.rec[0].frame.id, 0x100);
        assert_int_equal(p.rec[2].frame.id, 0x102);
        assert_int_equal(p.rec[2].frame.dlc, 3);
    }
}

/* DLC 9..15 is legal classic CAN (8 data bytes); both firmwares forward the
 * raw 4-bit code. The record is good; dlc keeps the code, 8 bytes count. */
static void test_dlc_9_to_15_is_a_good_record(void **state)
{
    (void)state;
    for (unsigned dlc = 9; dlc <= 15; dlc++) {
        uint8_t buf[U8D_IN_PACKET_MAX];
        three_records(buf, U8D_FLAVOR_VENDOR);
        buf[U8D_RX_RECORD_SIZE + 7] = (uint8_t)dlc;
        u8d_in_packet p;
        assert_int_equal(u8d_decode_in_packet(buf, 63, U8D_FLAVOR_VENDOR, &p), U8D_OK);
        assert_int_equal(p.good, 3);
        assert_int_equal(p.rec[1].frame.dlc, dlc);
        assert_int_equal(u8d_dlc_bytes(p.rec[1].frame.dlc), 8);
        assert_int_equal(p.rec[1].frame.id, 0x101);
    }
    /* The upper nibble is not part of the code (the driver's dlc & 0xF). */
    uint8_t rec[U8D_RX_RECORD_SIZE];
    memcpy(rec, captured_rx_555, sizeof rec);
    rec[7] = 0xF2;
    u8d_rx_record r;
    assert_int_equal(u8d_decode_rx_record(rec, U8D_FLAVOR_CANALYZE, &r), U8D_OK);
    assert_int_equal(r.frame.dlc, 2);
    assert_int_equal(u8d_dlc_bytes(0), 0);
    assert_int_equal(u8d_dlc_bytes(8), 8);
    assert_int_equal(u8d_dlc_bytes(0x1C), 8);
}

/* Two bad records out of three, then a partial record: each counted alone. */
static void test_every_bad_record_is_reported(void **state)
{
    (void)state;
    uint8_t buf[U8D_IN_PACKET_MAX];
    three_records(buf, U8D_FLAVOR_VENDOR);
    buf[0] = 0x00;                       /* record 1: start marker */
    buf[2 * U8D_RX_RECORD_SIZE + 1] = 7; /* record 3: unknown type */
    u8d_in_packet p;
    assert_int_equal(u8d_decode_in_packet(buf, 64, U8D_FLAVOR_VENDOR, &p), U8D_ERR_MARKER);
    assert_int_equal(p.records, 3);
    assert_int_equal(p.good, 1);
    assert_int_equal(p.st[0], U8D_ERR_MARKER);
    assert_int_equal(p.st[1], U8D_OK);
    assert_int_equal(p.st[2], U8D_ERR_TYPE);
    assert_int_equal(p.tail, U8D_ERR_LENGTH);
    assert_int_equal(p.rec[1].frame.id, 0x101);
}

static void test_status_record_flags_must_be_exactly_err(void **state)
{
    (void)state;
    const uint8_t bad_flags[] = {0x00, 0x01, 0x05, 0x06};
    for (size_t k = 0; k < sizeof bad_flags; k++) {
        uint8_t buf[U8D_RX_RECORD_SIZE];
        u8d_rx_record r = can_record(0, 4, 0);
        r.type = U8D_TYPE_STATUS;
        r.frame.flags = bad_flags[k];
        u8d_encode_rx(buf, &r, U8D_FLAVOR_VENDOR);
        u8d_rx_record out[U8D_RX_MAX_RECORDS];
        size_t count, bad;
        assert_int_equal(decode_packet(buf, sizeof buf, U8D_FLAVOR_VENDOR, out, &count, &bad),
                         U8D_ERR_TYPE);
        assert_int_equal(count, 0);
    }
}

static void test_extended_id_limits_on_rx(void **state)
{
    (void)state;
    uint8_t buf[U8D_RX_RECORD_SIZE];
    u8d_rx_record r = can_record(0x1FFFFFFF, 0, 0);
    r.frame.flags = U8D_FLAG_EXT | U8D_FLAG_RTR;
    u8d_encode_rx(buf, &r, U8D_FLAVOR_CANALYZE);
    u8d_rx_record out[U8D_RX_MAX_RECORDS];
    size_t count, bad;
    assert_int_equal(decode_packet(buf, sizeof buf, U8D_FLAVOR_CANALYZE, out, &count, &bad),
                     U8D_OK);
    assert_int_equal(out[0].frame.id, 0x1FFFFFFF);
    assert_int_equal(out[0].frame.flags, U8D_FLAG_EXT | U8D_FLAG_RTR);
}

static void test_decode_null_arguments(void **state)
{
    (void)state;
    u8d_in_packet p;
    p.records = 99;
    assert_int_equal(u8d_decode_in_packet(NULL, 21, U8D_FLAVOR_VENDOR, &p), U8D_ERR_ARG);
    assert_int_equal(p.records, 0);
    assert_int_equal(p.good, 0);
    assert_int_equal(u8d_decode_in_packet(captured_rx_555, 21, U8D_FLAVOR_VENDOR, NULL),
                     U8D_ERR_ARG);
    u8d_rx_record r;
    assert_int_equal(u8d_decode_rx_record(NULL, U8D_FLAVOR_VENDOR, &r), U8D_ERR_ARG);
    assert_int_equal(u8d_decode_rx_record(captured_rx_555, U8D_FLAVOR_VENDOR, NULL), U8D_ERR_ARG);
}

/* --- timestamps ---------------------------------------------------------- */

static void test_vendor_tick_is_992_1875_us(void **state)
{
    (void)state;
    u8d_clock c;
    u8d_clock_init(&c, U8D_FLAVOR_VENDOR);
    assert_int_equal(u8d_clock_to_us(&c, 5000), 0);
    assert_int_equal(u8d_clock_to_us(&c, 5016), 15875); /* 16 ticks, exact */
    assert_int_equal(u8d_clock_to_us(&c, 5017), 16867); /* 17 * 992.1875 = 16867.19 */
    assert_int_equal(u8d_clock_to_us(&c, 1005016), 992203375ull);
}

static void test_vendor_unwraps_at_2_pow_29(void **state)
{
    (void)state;
    u8d_clock c;
    u8d_clock_init(&c, U8D_FLAVOR_VENDOR);
    assert_int_equal(u8d_clock_to_us(&c, 0x1FFFFFF0u), 0);
    assert_int_equal(u8d_clock_to_us(&c, 0x00000010u), 31750); /* 32 ticks across the wrap */
    /* Bits above 28 are not part of the value. */
    assert_int_equal(u8d_clock_to_us(&c, 0xE0000010u), 31750);
    /* Four quarter-wrap steps per wrap, three wraps: 3 * 2^29 ticks. */
    uint32_t raw = 0x10;
    for (int i = 0; i < 12; i++) {
        raw = (raw + (1u << 27)) & 0x1FFFFFFFu;
        u8d_clock_to_us(&c, raw);
    }
    assert_int_equal(u8d_clock_to_us(&c, raw), 31750ull + 1598029824000ull);
}

static void test_canalyze_unwraps_at_2_pow_32(void **state)
{
    (void)state;
    u8d_clock c;
    u8d_clock_init(&c, U8D_FLAVOR_CANALYZE);
    assert_int_equal(u8d_clock_to_us(&c, 0xFFFFFF00u), 0);
    assert_int_equal(u8d_clock_to_us(&c, 0x00000100u), 512000); /* 0x200 ms */
    /* Just under a full wrap forward (49.7 days) is still forward time. */
    assert_int_equal(u8d_clock_to_us(&c, 0x000000FFu), 512000ull + 4294967295000ull);
}

static void test_clock_restarts_on_init(void **state)
{
    (void)state;
    u8d_clock c;
    u8d_clock_init(&c, U8D_FLAVOR_CANALYZE);
    assert_int_equal(u8d_clock_to_us(&c, 483046), 0);
    assert_int_equal(u8d_clock_to_us(&c, 483054), 8000);
    u8d_clock_init(&c, U8D_FLAVOR_CANALYZE);
    assert_int_equal(u8d_clock_to_us(&c, 39344), 0);
    assert_int_equal(u8d_clock_to_us(NULL, 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tx_matches_captures),
        cmocka_unit_test(test_tx_pads_data_past_dlc_and_rtr_with_zero),
        cmocka_unit_test(test_tx_id_and_dlc_limits),
        cmocka_unit_test(test_tx_decode_round_trip_and_rejections),
        cmocka_unit_test(test_rx_captures_decode_to_their_fields),
        cmocka_unit_test(test_rx_encoder_byte_order_per_flavour),
        cmocka_unit_test(test_rx_status_record),
        cmocka_unit_test(test_three_record_packet_keeps_wire_order),
        cmocka_unit_test(test_every_packet_length_0_to_64),
        cmocka_unit_test(test_packet_longer_than_three_records),
        cmocka_unit_test(test_each_record_rejection_reason),
        cmocka_unit_test(test_dlc_9_to_15_is_a_good_record),
        cmocka_unit_test(test_every_bad_record_is_reported),
        cmocka_unit_test(test_status_record_flags_must_be_exactly_err),
        cmocka_unit_test(test_extended_id_limits_on_rx),
        cmocka_unit_test(test_decode_null_arguments),
        cmocka_unit_test(test_vendor_tick_is_992_1875_us),
        cmocka_unit_test(test_vendor_unwraps_at_2_pow_29),
        cmocka_unit_test(test_canalyze_unwraps_at_2_pow_32),
        cmocka_unit_test(test_clock_restarts_on_init),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
