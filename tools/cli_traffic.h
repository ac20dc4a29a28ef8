/*
 * cli_traffic.h — the test traffic bench and selftest send and check:
 * numbered 8-byte frames, the accounting of which came back (lost,
 * reordered, damaged), and the bus's limit for such frames.
 *
 * Contract: pure functions and a value type; no allocation, no threads.
 * A numbered frame carries n (little-endian) in data[0..3] and ~n in
 * data[4..7], so a damaged frame is told from a lost one.
 */
#ifndef USB2CAN_CLI_TRAFFIC_H
#define USB2CAN_CLI_TRAFFIC_H

#include <stdbool.h>
#include <stdint.h>

#include "canal.h"

/* A standard frame with 8 data bytes: 111 bits with the 3-bit intermission,
 * before stuff bits. */
#define CLI_FRAME_BITS_8_BYTES 111u

canalMsg cli_numbered_frame(unsigned long id, uint32_t n);
/* True when m is an intact numbered frame with that id (its number in *n). */
bool cli_numbered_read(const canalMsg *m, unsigned long id, uint32_t *n);

typedef struct cli_sequence {
    uint32_t expected; /* highest number seen + 1 */
    unsigned long received, lost, reordered;
} cli_sequence;

/* Accounts for number n: a gap counts as lost, a number below the
 * expected one as reordered. */
void cli_sequence_note(cli_sequence *s, uint32_t n);

/* Frames per second of back-to-back 8-byte standard frames at kbps. */
double cli_bus_limit_fps(unsigned long kbps);

#endif
