/*
 * cfg_parse.h — the CanalOpen setup string.
 *
 * Grammar (tokens separated by ';', spaces around tokens ignored):
 *   serial ; kbps [ ; tseg1 ; tseg2 ; sjw ; brp ]   (the four only when kbps is 0)
 *          [ ; mask ; filter ] [ ; key=value ... ]
 * Numbers are decimal or 0x-hex. serial may be empty (= the only adapter),
 * is case-insensitive and of any length up to U2C_SERIAL_MAX. kbps selects
 * the firmware table for the nine standard rates, otherwise the nearest
 * timing within 0.5 %; known truncated rates (python-can passes bitrate//1000)
 * mean their real value: 33 -> 33 333, 62 -> 62 500, 83 -> 83 333 bit/s.
 *
 * Contract: pure function of its input; never writes the caller's string;
 * reads at most U2C_SETUP_MAX bytes of it; on failure returns false and
 * writes a readable reason naming the offending token.
 */
#ifndef USB2CAN_CFG_PARSE_H
#define USB2CAN_CFG_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "u8d_codec.h"

#define U2C_SERIAL_MAX 32
#define U2C_SETUP_MAX 1024
#define U2C_RX_CAPACITY_DEFAULT 4096u
#define U2C_RX_CAPACITY_MIN 64u
#define U2C_RX_CAPACITY_MAX 1048576u

typedef struct u2c_setup {
    char serial[U2C_SERIAL_MAX + 1]; /* upper-cased; "" = the only adapter */
    uint32_t bitrate;                /* bit/s actually configured */
    u8d_bittiming timing;            /* what OPEN sends */
    bool has_filter;                 /* mask;filter given */
    uint32_t mask;                   /* CANAL semantics, see channel.h */
    uint32_t filter;
    uint32_t rx_capacity;            /* frames in the RX ring (rxqueue=N) */
} u2c_setup;

bool u2c_setup_parse(const char *text, u2c_setup *out, char *reason, size_t reason_size);

#endif
