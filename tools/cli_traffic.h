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

/* Bits a data frame takes on the bus from SOF to the end of the 3-bit
 * intermission, before stuff bits: 47 for a standard frame without data, 67
 * for an extended one, plus 8 per data byte (none for a remote frame). A
 * standard frame with 8 data bytes: 111. */
unsigned cli_frame_bits(const canalMsg *m);

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

/* Frames per second of back-to-back 8-byte standard frames at kbps, stuff
 * bits not counted. */
double cli_bus_limit_fps(unsigned long kbps);

#endif
