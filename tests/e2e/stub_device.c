/* stub_device.c — see stub_device.h. */
#include "stub_device.h"

#include <string.h>

enum { CMD_OPEN = 2, CMD_CLOSE = 3, CMD_VERSION = 12 };

void stub_init(stub_device *d, bool canalyze)
{
    memset(d, 0, sizeof *d);
    d->canalyze = canalyze;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static bool push_record(stub_device *d, uint8_t type, uint8_t flags, uint32_t id, uint8_t dlc,
                        const uint8_t data[8])
{
    if (d->rx_count == STUB_RX_DEPTH)
        return false;
    uint8_t *r = d->rx[(d->rx_head + d->rx_count++) % STUB_RX_DEPTH];
    r[0] = 0x55;
    r[1] = type;
    r[2] = flags;
    put_be32(r + 3, id);
    r[7] = dlc;
    memcpy(r + 8, data, 8);
    d->ticks++;
    if (d->canalyze)
        put_le32(r + 16, d->ticks);
    else
        put_be32(r + 16, d->ticks & 0x1FFFFFFFu);
    r[20] = 0xAA;
    return true;
}

bool stub_push_frame(stub_device *d, const stub_frame *f)
{
    return push_record(d, 0, f->flags & 0x03, f->id, f->dlc, f->data);
}

bool stub_push_status(stub_device *d, uint8_t code, uint8_t rec, uint8_t tec)
{
    const uint8_t data[8] = {code, rec, tec, 0, 0, 0, 0, 0};
    return push_record(d, 3, 0x04, 0, 4, data);
}

bool stub_pop_tx(stub_device *d, uint8_t record[16])
{
    if (d->tx_count == 0)
        return false;
    memcpy(record, d->tx[d->tx_head], 16);
    d->tx_head = (d->tx_head + 1) % STUB_TX_DEPTH;
    d->tx_count--;
    return true;
}

/* A command on 0x04. Returns false to NAK (a dead CANalyze pipe). */
static bool command(stub_device *d, const uint8_t *req, size_t len)
{
    if (d->command_pipe_dead)
        return false;
    bool valid = len == 16 && req[0] == 0x11 && req[15] == 0x22;
    uint8_t cmd = valid ? req[2] : 0;
    if (d->canalyze && (!valid || (cmd != CMD_OPEN && cmd != CMD_CLOSE && cmd != CMD_VERSION))) {
        d->command_pipe_dead = true; /* taken, never answered, never re-armed */
        return true;
    }
    if (!valid)
        return true; /* vendor firmware: silently ignored */
    memcpy(d->reply, req, 16);
    d->reply[3] = 0;
    switch (cmd) {
    case CMD_OPEN:
        d->open = true;
        break;
    case CMD_CLOSE:
        d->open = false;
        break;
    case CMD_VERSION:
        d->reply[5] = d->canalyze ? 0 : 1;
        d->reply[6] = d->canalyze ? 1 : 7;
        d->reply[7] = d->canalyze ? 0 : 1;
        d->reply[8] = d->canalyze ? 1 : 0;
        break;
    default:
        break;
    }
    d->reply_pending = true;
    return true;
}

static bool tx_record(stub_device *d, const uint8_t *rec, size_t len)
{
    if (d->tx_count == STUB_TX_DEPTH)
        return false; /* NAK until the bus takes one */
    uint8_t *slot = d->tx[(d->tx_head + d->tx_count++) % STUB_TX_DEPTH];
    memset(slot, 0, 16);
    memcpy(slot, rec, len < 16 ? len : 16);
    return true;
}

static bool stub_out(void *device, uint8_t ep, const uint8_t *data, size_t len)
{
    stub_device *d = device;
    if (ep == 0x04)
        return command(d, data, len);
    if (ep == 0x02)
        return tx_record(d, data, len);
    return false;
}

static int stub_in(void *device, uint8_t ep, uint8_t *data, size_t max)
{
    stub_device *d = device;
    if (ep == 0x83) {
        if (!d->reply_pending || max < 16)
            return -1;
        d->reply_pending = false;
        memcpy(data, d->reply, 16);
        return 16;
    }
    if (ep != 0x81 || !d->open || d->rx_count == 0)
        return -1;
    unsigned per_packet = d->canalyze ? 1 : 3;
    unsigned n = 0;
    while (n < per_packet && d->rx_count > 0 && (n + 1) * 21 <= max) {
        memcpy(data + n * 21, d->rx[d->rx_head], 21);
        d->rx_head = (d->rx_head + 1) % STUB_RX_DEPTH;
        d->rx_count--;
        n++;
    }
    return (int)(n * 21);
}

const mock_device_ops stub_device_ops = {.out = stub_out, .in = stub_in};
