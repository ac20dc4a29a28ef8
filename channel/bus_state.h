/*
 * bus_state.h — the CAN controller state as the adapter's status records
 * report it, kept on the host so CanalGetStatus needs no USB traffic.
 *
 * Contract: a pure value type fed with each status record (code, the REC
 * byte whose bit 7 flags receive-passive, TEC). The status word uses the
 * vendor DLL's layout: TEC in bits 0..7, REC in bits 8..15 and canal.h's
 * CANAL_STATUS_BUS_WARN, _PASSIVE and _BUS_OFF bits. Warning and passive
 * follow the error counters (U8D_ERR_WARNING_LIMIT, U8D_ERR_PASSIVE_LIMIT,
 * or the receive-passive flag) and
 * the last state code (BUSLIGHT, BUSHEAVY; OK clears the code's part);
 * bus-off is set by BUSOFF and cleared by any other state code. Counters:
 * every BUSLIGHT is a bus warning, every BUSOFF a bus-off, every OVERRUN an
 * adapter overrun.
 * Every OPEN starts from error-active (u2c_bus_state_restart: the adapter
 * re-initialises its controller and reports nothing until something
 * changes). The adapter's GET_STATUS word, when the host asks for it, is
 * taken as the current truth (u2c_bus_state_apply_word). An adapter that
 * never reports recovery (a CANalyze never sends OK) can be given a decay:
 * warning and passive (never bus-off, which lasts until the next OPEN) fall
 * back to error-active once no status record came for decay_ns.
 */
#ifndef USB2CAN_BUS_STATE_H
#define USB2CAN_BUS_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum u2c_bus_level {
    U2C_BUS_ACTIVE = 0,
    U2C_BUS_WARNING,
    U2C_BUS_PASSIVE,
} u2c_bus_level;

typedef struct u2c_bus_state {
    uint8_t tec;
    uint8_t rec_raw;   /* as reported: bit 7 = receive passive */
    uint8_t last_code; /* CANAL_STATUSMSG_* */
    bool seen_status;
    u2c_bus_level code_level;
    bool bus_off;
    uint64_t warnings;
    uint64_t bus_offs;
    uint64_t device_overruns;
    uint64_t decay_ns;       /* 0 = the level holds until the adapter reports a change */
    uint64_t last_report_ns; /* when the newest status record came (apply_at) */
} u2c_bus_state;

void u2c_bus_state_init(u2c_bus_state *s);
void u2c_bus_state_apply(u2c_bus_state *s, uint8_t code, uint8_t rec_raw, uint8_t tec);
/* The same, noting when the record came (for the decay). */
void u2c_bus_state_apply_at(u2c_bus_state *s, uint8_t code, uint8_t rec_raw, uint8_t tec,
                            uint64_t now_ns);
/* A GET_STATUS word (vendor layout, as u2c_bus_state_word): counters and the
 * level from its bits; cumulative counters untouched. */
void u2c_bus_state_apply_word(u2c_bus_state *s, uint32_t word);
/* After an OPEN: error-active, counters 0, no bus-off, nothing seen yet; the
 * cumulative counters (warnings, bus-offs, overruns) and the decay stay. */
void u2c_bus_state_restart(u2c_bus_state *s);
/* Applies the decay as of now_ns (no-op when decay_ns is 0). */
void u2c_bus_state_settle(u2c_bus_state *s, uint64_t now_ns);
uint32_t u2c_bus_state_word(const u2c_bus_state *s);
/* e.g. "error passive; TEC 128 REC 0; last: ACK error" (always NUL-terminated). */
void u2c_bus_state_describe(const u2c_bus_state *s, char *buf, size_t size);

#endif
