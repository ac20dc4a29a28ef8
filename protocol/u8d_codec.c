/* The 8devices wire format (see u8d_codec.h for the contract). */
#include "u8d_codec.h"

#include <string.h>

#include "usb2can.h"

#define CAN_FLAGS_KNOWN (U8D_FLAG_EXT | U8D_FLAG_RTR)

/* TX record layout. */
#define TX_OFF_FLAGS 1
#define TX_OFF_ID 2
#define TX_OFF_DLC 6
#define TX_OFF_DATA 7

/* RX record layout. */
#define RX_OFF_TYPE 1
#define RX_OFF_FLAGS 2
#define RX_OFF_ID 3
#define RX_OFF_DLC 7
#define RX_OFF_DATA 8
#define RX_OFF_TIMESTAMP 16

/* Vendor tick = 127 * 250 / 32 MHz = 992.1875 us = 15875/16 us. */
#define VENDOR_TICK_US_NUM 15875u
#define VENDOR_TICK_US_DEN 16u
#define CANALYZE_TICK_US 1000u

const char *u8d_status_text(u8d_status st)
{
#define U8D_STATUS_TEXT(name, text)                                                                \
    if (st == name)                                                                                \
        return text;
    U8D_STATUS_LIST(U8D_STATUS_TEXT)
#undef U8D_STATUS_TEXT
    return "unknown codec status";
}

static bool id_fits(uint32_t id, uint8_t flags)
{
    return id <= ((flags & U8D_FLAG_EXT) ? USB2CAN_EXT_ID_MAX : USB2CAN_STD_ID_MAX);
}

/* --- commands ------------------------------------------------------------ */

void u8d_encode_command(uint8_t out[U8D_CMD_SIZE], uint8_t cmd, uint8_t opt1, uint8_t opt2,
                        const uint8_t data[10])
{
    if (out == NULL) {
        return;
    }
    out[0] = U8D_CMD_START;
    out[U8D_CMD_OFF_CHANNEL] = 0;
    out[U8D_CMD_OFF_CODE] = cmd;
    out[U8D_CMD_OFF_OPT1] = opt1;
    out[U8D_CMD_OFF_OPT2] = opt2;
    if (data != NULL) {
        memcpy(out + U8D_CMD_OFF_DATA, data, U8D_CMD_DATA_SIZE);
    } else {
        memset(out + U8D_CMD_OFF_DATA, 0, U8D_CMD_DATA_SIZE);
    }
    out[U8D_CMD_SIZE - 1] = U8D_CMD_END;
}

u8d_status u8d_encode_open(uint8_t out[U8D_CMD_SIZE], const u8d_bittiming *bt, uint32_t flags)
{
    if (out == NULL || bt == NULL) {
        return U8D_ERR_ARG;
    }
    if (u8d_bittiming_check_any(bt, NULL, 0) != U8D_OK || (flags & ~U8D_OPEN_FLAGS_KNOWN) != 0) {
        return U8D_ERR_RANGE;
    }
    uint8_t data[U8D_CMD_DATA_SIZE] = {0};
    data[0] = bt->tseg1;
    data[1] = bt->tseg2;
    data[2] = bt->sjw;
    u8d_put_be16(data + 3, bt->brp);
    u8d_put_be32(data + 5, flags);
    u8d_encode_command(out, U8D_CMD_OPEN, U8D_SPEED_MANUAL, 0, data);
    return U8D_OK;
}

/* One record of exactly `size` bytes between its start and end markers. */
static u8d_status check_framed(const uint8_t *p, size_t len, size_t size, uint8_t start,
                               uint8_t end)
{
    if (len < size) {
        return U8D_ERR_SHORT;
    }
    if (len > size) {
        return U8D_ERR_LENGTH;
    }
    return p[0] == start && p[size - 1] == end ? U8D_OK : U8D_ERR_MARKER;
}

u8d_status u8d_check_command(const uint8_t *cmd, size_t len)
{
    if (cmd == NULL) {
        return U8D_ERR_ARG;
    }
    return check_framed(cmd, len, U8D_CMD_SIZE, U8D_CMD_START, U8D_CMD_END);
}

void u8d_decode_open(const uint8_t cmd[U8D_CMD_SIZE], u8d_bittiming *bt, uint32_t *flags)
{
    if (cmd == NULL) {
        return;
    }
    const uint8_t *data = cmd + U8D_CMD_OFF_DATA;
    if (bt != NULL) {
        bt->tseg1 = data[0];
        bt->tseg2 = data[1];
        bt->sjw = data[2];
        bt->brp = (uint16_t)(data[3] << 8 | data[4]);
    }
    if (flags != NULL) {
        *flags = u8d_get_be32(data + 5);
    }
}

u8d_status u8d_check_reply(const uint8_t *reply, size_t len, uint8_t cmd)
{
    u8d_status st = u8d_check_command(reply, len);
    if (st != U8D_OK) {
        return st;
    }
    if (reply[U8D_CMD_OFF_CODE] != cmd) {
        return U8D_ERR_MISMATCH;
    }
    if (reply[U8D_CMD_OFF_OPT1] != U8D_RESULT_OK) {
        return U8D_ERR_RESULT;
    }
    return U8D_OK;
}

uint32_t u8d_reply_be32(const uint8_t reply[U8D_CMD_SIZE])
{
    return reply != NULL ? u8d_get_be32(reply + U8D_CMD_OFF_DATA) : 0;
}

u8d_version u8d_reply_version(const uint8_t reply[U8D_CMD_SIZE])
{
    u8d_version v = {0, 0, 0, 0};
    if (reply != NULL) {
        v.fw_major = reply[U8D_CMD_OFF_DATA];
        v.fw_minor = reply[U8D_CMD_OFF_DATA + 1];
        v.hw_major = reply[U8D_CMD_OFF_DATA + 2];
        v.hw_minor = reply[U8D_CMD_OFF_DATA + 3];
    }
    return v;
}

u8d_flavor u8d_flavor_of(u8d_version v)
{
    /* The CANalyze firmware reports itself as 0.1; the vendor's start at 1.x. */
    return v.fw_major == 0 ? U8D_FLAVOR_CANALYZE : U8D_FLAVOR_VENDOR;
}

/* --- data ---------------------------------------------------------------- */

static u8d_status check_frame(const u8d_frame *f)
{
    if ((f->flags & ~CAN_FLAGS_KNOWN) != 0) {
        return U8D_ERR_TYPE;
    }
    if (f->dlc > 8) {
        return U8D_ERR_DLC;
    }
    if (!id_fits(f->id, f->flags)) {
        return U8D_ERR_RANGE;
    }
    return U8D_OK;
}

u8d_status u8d_encode_tx(uint8_t out[U8D_TX_RECORD_SIZE], const u8d_frame *f)
{
    if (out == NULL || f == NULL) {
        return U8D_ERR_ARG;
    }
    u8d_status st = check_frame(f);
    if (st != U8D_OK) {
        return st;
    }
    out[0] = U8D_DATA_START;
    out[TX_OFF_FLAGS] = f->flags;
    u8d_put_be32(out + TX_OFF_ID, f->id);
    out[TX_OFF_DLC] = f->dlc;
    memset(out + TX_OFF_DATA, 0, 8);
    if (!(f->flags & U8D_FLAG_RTR)) {
        memcpy(out + TX_OFF_DATA, f->data, f->dlc);
    }
    out[U8D_TX_RECORD_SIZE - 1] = U8D_DATA_END;
    return U8D_OK;
}

u8d_status u8d_decode_tx(const uint8_t *in, size_t len, u8d_frame *f)
{
    if (in == NULL || f == NULL) {
        return U8D_ERR_ARG;
    }
    u8d_status framed = check_framed(in, len, U8D_TX_RECORD_SIZE, U8D_DATA_START, U8D_DATA_END);
    if (framed != U8D_OK) {
        return framed;
    }
    f->flags = in[TX_OFF_FLAGS];
    f->id = u8d_get_be32(in + TX_OFF_ID);
    f->dlc = in[TX_OFF_DLC];
    memcpy(f->data, in + TX_OFF_DATA, 8);
    return check_frame(f);
}

void u8d_encode_rx(uint8_t out[U8D_RX_RECORD_SIZE], const u8d_rx_record *r, u8d_flavor flavor)
{
    if (out == NULL || r == NULL) {
        return;
    }
    out[0] = U8D_DATA_START;
    out[RX_OFF_TYPE] = r->type;
    out[RX_OFF_FLAGS] = r->frame.flags;
    u8d_put_be32(out + RX_OFF_ID, r->frame.id);
    out[RX_OFF_DLC] = r->frame.dlc;
    memcpy(out + RX_OFF_DATA, r->frame.data, 8);
    if (flavor == U8D_FLAVOR_CANALYZE) {
        u8d_put_le32(out + RX_OFF_TIMESTAMP, r->timestamp);
    } else {
        u8d_put_be32(out + RX_OFF_TIMESTAMP, r->timestamp & U8D_VENDOR_TS_MASK);
    }
    out[U8D_RX_RECORD_SIZE - 1] = U8D_DATA_END;
}

static u8d_status check_record_kind(uint8_t type, uint8_t flags)
{
    if (type == U8D_TYPE_CAN) {
        return (flags & ~CAN_FLAGS_KNOWN) == 0 ? U8D_OK : U8D_ERR_TYPE;
    }
    if (type == U8D_TYPE_STATUS) {
        return flags == U8D_FLAG_ERR ? U8D_OK : U8D_ERR_TYPE;
    }
    return U8D_ERR_TYPE;
}

uint8_t u8d_dlc_bytes(uint8_t dlc)
{
    dlc &= 0x0Fu;
    return dlc > 8 ? 8 : dlc;
}

u8d_status u8d_decode_rx_record(const uint8_t *in, u8d_flavor flavor, u8d_rx_record *r)
{
    if (in == NULL || r == NULL) {
        return U8D_ERR_ARG;
    }
    if (in[0] != U8D_DATA_START || in[U8D_RX_RECORD_SIZE - 1] != U8D_DATA_END) {
        return U8D_ERR_MARKER;
    }
    uint8_t type = in[RX_OFF_TYPE];
    uint8_t flags = in[RX_OFF_FLAGS];
    u8d_status st = check_record_kind(type, flags);
    if (st != U8D_OK) {
        return st;
    }
    uint32_t id = u8d_get_be32(in + RX_OFF_ID);
    /* Status records carry no id (vendor: 0, CANalyze: a stale one). */
    if (type == U8D_TYPE_CAN && !id_fits(id, flags)) {
        return U8D_ERR_RANGE;
    }
    r->type = type;
    r->frame.flags = flags;
    r->frame.id = id;
    r->frame.dlc = in[RX_OFF_DLC] & 0x0Fu; /* the Linux driver's msg->dlc & 0xF */
    memcpy(r->frame.data, in + RX_OFF_DATA, 8);
    if (flavor == U8D_FLAVOR_CANALYZE) {
        r->timestamp = u8d_get_le32(in + RX_OFF_TIMESTAMP);
    } else {
        r->timestamp = u8d_get_be32(in + RX_OFF_TIMESTAMP) & U8D_VENDOR_TS_MASK;
    }
    return U8D_OK;
}

u8d_status u8d_decode_in_packet(const uint8_t *in, size_t len, u8d_flavor flavor,
                                u8d_in_packet *out)
{
    if (out == NULL) {
        return U8D_ERR_ARG;
    }
    out->records = 0;
    out->good = 0;
    out->tail = U8D_OK;
    if (in == NULL) {
        return U8D_ERR_ARG;
    }
    if (len < U8D_RX_RECORD_SIZE) {
        out->tail = U8D_ERR_SHORT;
        return U8D_ERR_SHORT;
    }
    size_t whole = len / U8D_RX_RECORD_SIZE;
    if (whole > U8D_RX_MAX_RECORDS) {
        whole = U8D_RX_MAX_RECORDS;
    }
    u8d_status first = U8D_OK;
    for (size_t i = 0; i < whole; i++) {
        out->st[i] = u8d_decode_rx_record(in + i * U8D_RX_RECORD_SIZE, flavor, &out->rec[i]);
        if (out->st[i] == U8D_OK) {
            out->good++;
        } else if (first == U8D_OK) {
            first = out->st[i];
        }
    }
    out->records = whole;
    if (len != whole * U8D_RX_RECORD_SIZE) {
        out->tail = U8D_ERR_LENGTH;
        if (first == U8D_OK) {
            first = U8D_ERR_LENGTH;
        }
    }
    return first;
}

/* --- timestamps ---------------------------------------------------------- */

void u8d_clock_init(u8d_clock *c, u8d_flavor flavor)
{
    if (c == NULL) {
        return;
    }
    c->flavor = flavor;
    c->started = false;
    c->last_raw = 0;
    c->ticks = 0;
}

uint64_t u8d_clock_to_us(u8d_clock *c, uint32_t raw)
{
    if (c == NULL) {
        return 0;
    }
    bool canalyze = c->flavor == U8D_FLAVOR_CANALYZE;
    uint32_t mask = canalyze ? UINT32_MAX : U8D_VENDOR_TS_MASK;
    raw &= mask;
    if (c->started) {
        /* Modular difference: one wrap between two records is taken as forward time. */
        c->ticks += (uint32_t)(raw - c->last_raw) & mask;
    } else {
        c->started = true;
        c->ticks = 0;
    }
    c->last_raw = raw;
    if (canalyze) {
        return c->ticks * CANALYZE_TICK_US;
    }
    return c->ticks * VENDOR_TICK_US_NUM / VENDOR_TICK_US_DEN;
}
