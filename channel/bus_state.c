#include "bus_state.h"

#include <stdio.h>

#include "canal.h"
#include "u8d_codec.h"
#include "usb2can.h"

/* The adapter's GET_STATUS word has the layout CanalGetStatus reports (the
 * vendor DLL passed it through), so the wire bits are canal.h's. */
_Static_assert(U8D_STATUS_BUS_OFF == CANAL_STATUS_BUS_OFF, "bus-off bit");
_Static_assert(U8D_STATUS_PASSIVE == CANAL_STATUS_PASSIVE, "error-passive bit");
_Static_assert(U8D_STATUS_BUS_WARN == CANAL_STATUS_BUS_WARN, "bus-warning bit");

#define WARNING_LIMIT U8D_ERR_WARNING_LIMIT
#define PASSIVE_LIMIT U8D_ERR_PASSIVE_LIMIT
#define REC_PASSIVE_FLAG 0x80u
#define REC_COUNT_MASK 0x7Fu

void u2c_bus_state_init(u2c_bus_state *s)
{
    *s = (u2c_bus_state){0};
}

/* A state code other than BUSOFF: the level it names, and the bus is on. */
static void set_code_level(u2c_bus_state *s, u2c_bus_level level)
{
    s->code_level = level;
    s->bus_off = false;
}

void u2c_bus_state_apply(u2c_bus_state *s, uint8_t code, uint8_t rec_raw, uint8_t tec)
{
    s->tec = tec;
    s->rec_raw = rec_raw;
    s->last_code = code;
    s->seen_status = true;
    switch (code) {
    case CANAL_STATUSMSG_OK:
        set_code_level(s, U2C_BUS_ACTIVE);
        break;
    case CANAL_STATUSMSG_BUSLIGHT:
        set_code_level(s, U2C_BUS_WARNING);
        s->warnings++;
        break;
    case CANAL_STATUSMSG_BUSHEAVY:
        set_code_level(s, U2C_BUS_PASSIVE);
        break;
    case CANAL_STATUSMSG_BUSOFF:
        s->bus_off = true;
        s->bus_offs++;
        break;
    case CANAL_STATUSMSG_OVERRUN:
        s->device_overruns++;
        break;
    default: /* protocol errors (stuff, form, ACK, bit, CRC) leave the state alone */
        break;
    }
}

void u2c_bus_state_apply_at(u2c_bus_state *s, uint8_t code, uint8_t rec_raw, uint8_t tec,
                            uint64_t now_ns)
{
    u2c_bus_state_apply(s, code, rec_raw, tec);
    s->last_report_ns = now_ns;
}

void u2c_bus_state_apply_word(u2c_bus_state *s, uint32_t word)
{
    s->tec = (uint8_t)(word & 0xFFu);
    s->rec_raw = (uint8_t)((word >> 8) & REC_COUNT_MASK);
    s->bus_off = (word & U8D_STATUS_BUS_OFF) != 0;
    if (word & U8D_STATUS_PASSIVE)
        s->code_level = U2C_BUS_PASSIVE;
    else if (word & U8D_STATUS_BUS_WARN)
        s->code_level = U2C_BUS_WARNING;
    else
        s->code_level = U2C_BUS_ACTIVE;
}

void u2c_bus_state_restart(u2c_bus_state *s)
{
    s->tec = 0;
    s->rec_raw = 0;
    s->last_code = CANAL_STATUSMSG_OK;
    s->seen_status = false;
    s->code_level = U2C_BUS_ACTIVE;
    s->bus_off = false;
}

void u2c_bus_state_settle(u2c_bus_state *s, uint64_t now_ns)
{
    if (s->decay_ns == 0 || s->bus_off || s->code_level == U2C_BUS_ACTIVE)
        return;
    if (now_ns >= s->last_report_ns && now_ns - s->last_report_ns >= s->decay_ns)
        s->code_level = U2C_BUS_ACTIVE;
}

static u2c_bus_level counter_level(const u2c_bus_state *s)
{
    unsigned rec = s->rec_raw & REC_COUNT_MASK;
    unsigned worst = s->tec > rec ? s->tec : rec;
    if (worst >= PASSIVE_LIMIT || (s->rec_raw & REC_PASSIVE_FLAG))
        return U2C_BUS_PASSIVE;
    return worst >= WARNING_LIMIT ? U2C_BUS_WARNING : U2C_BUS_ACTIVE;
}

static u2c_bus_level level_of(const u2c_bus_state *s)
{
    u2c_bus_level by_counters = counter_level(s);
    return by_counters > s->code_level ? by_counters : s->code_level;
}

uint32_t u2c_bus_state_word(const u2c_bus_state *s)
{
    uint32_t word = (uint32_t)s->tec | (uint32_t)(s->rec_raw & REC_COUNT_MASK) << 8;
    u2c_bus_level level = level_of(s);
    if (level >= U2C_BUS_WARNING)
        word |= CANAL_STATUS_BUS_WARN;
    if (level >= U2C_BUS_PASSIVE)
        word |= CANAL_STATUS_PASSIVE;
    if (s->bus_off)
        word |= CANAL_STATUS_BUS_OFF;
    return word;
}

static const char *state_name(const u2c_bus_state *s)
{
    if (s->bus_off)
        return "bus off";
    switch (level_of(s)) {
    case U2C_BUS_PASSIVE:
        return "error passive";
    case U2C_BUS_WARNING:
        return "bus warning";
    default:
        return "error active";
    }
}

void u2c_bus_state_describe(const u2c_bus_state *s, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s; TEC %u REC %u", state_name(s), s->tec,
                     s->rec_raw & REC_COUNT_MASK);
    if (!s->seen_status || n < 0 || (size_t)n >= size)
        return;
    const char *name = Usb2canStatusName(s->last_code);
    if (name)
        snprintf(buf + n, size - (size_t)n, "; last: %s", name);
    else
        snprintf(buf + n, size - (size_t)n, "; last: status 0x%02X", s->last_code);
}
