/*
 * vbus.h — a virtual CAN bus joining several device models (u8d_model.h).
 *
 * Contract: deterministic, driven by explicit time in nanoseconds like the
 * models; no threads, no locks (the owner serialises calls on the bus and
 * on every attached model), no allocation after vbus_create. Times passed
 * to the bus and to its models never go back.
 *
 * What happens on the bus, per transmission attempt (ISO 11898-1 rules,
 * counters kept by each model):
 * - Arbitration: among nodes whose frame is ready when the bus turns idle,
 *   the lowest arbitration field wins (u8d_frame_arbitration_key); losers
 *   wait, one-shot losers drop their frame (C_CAN DAR). Identical
 *   arbitration fields: the lower node index goes first (simplification).
 * - A node takes part when it is open (running), not bus-off and not in
 *   loopback mode (loopback ignores the bus input). It is compatible when its
 *   bit rate is within VBUS_BITRATE_TOLERANCE_PPM of the sender's.
 * - An incompatible node that is error-active and not silent destroys the
 *   frame with its error flag: the sender gets a bit error (LEC Bit1, TEC +8
 *   also when error-passive, so bus-off is reachable), every participant a
 *   stuff error (REC +1).
 * - Otherwise the frame is ACKed when a compatible, non-silent participant
 *   exists: the sender succeeds (TEC -1), compatible participants receive it
 *   (REC -1), incompatible ones count a stuff error.
 * - Otherwise the sender gets an ACK error: TEC +8 while error-active, no
 *   change when error-passive (so a lone sender ends error-passive at 128,
 *   never bus-off, as hardware does). Listen-only receivers see a form error
 *   while the sender is active (its dominant error flag hits the ACK
 *   delimiter) and receive the frame on each retry once it is passive.
 * - Loopback senders always succeed and receive their own frame; silent +
 *   loopback senders never reach the bus (a private lane at their own rate).
 * - Errors injected with u8d_model_inject_tx_errors fail the attempt with
 *   that error code; participants count a stuff error.
 * - Sample points: with vbus_set_sample_point_tolerance(b, t) (per mille,
 *   0 = off, the default), a node whose sample point differs from the
 *   sender's by more than t is incompatible like one at another rate. It
 *   stands for a long bus or poor oscillators, where a receiver sampling too
 *   early or too late misreads bits; with identical clocks and no
 *   propagation delay any sample point would work, so it is off by default.
 * - A faulty node (u8d_model_set_error_flags) at the sender's timing, open,
 *   not silent, destroys every N-th frame it sees with an active error
 *   flag in the data field, whatever its own counters: the sender gets a
 *   bit error (TEC +8, so it goes error-passive and bus-off if this goes
 *   on), the other participants a stuff error (REC +1); the faulty node
 *   itself counts nothing. A silent listener therefore sees stuff errors
 *   and the retransmissions. Loopback senders are not disturbed.
 *
 * Time: VBUS_PACED occupies the bus for the real bit time of each attempt at
 * the sender's bit rate: exact frame bits with stuff bits computed from the
 * bit stream (SOF, arbitration, control, data, CRC-15), CRC delimiter, ACK,
 * EOF and the 3-bit intermission; error frames add the error flag (6, or 12
 * with superposition for a destroyed frame), the 8-bit delimiter and the
 * intermission; an error-passive transmitter also waits 8 bits (suspend).
 * VBUS_INSTANT delivers at zero bus time; there, an attempt that leaves the
 * sender's counters and error code unchanged (a lone error-passive sender)
 * parks its frame until a node opens, closes or changes (the retries would
 * change nothing but burn CPU).
 */
#ifndef USB2CAN_VBUS_H
#define USB2CAN_VBUS_H

#include <stdbool.h>
#include <stdint.h>

#include "u8d_model.h"

#define VBUS_MAX_NODES 16
#define VBUS_BITRATE_TOLERANCE_PPM 10000u

typedef enum vbus_mode {
    VBUS_INSTANT = 0,
    VBUS_PACED = 1,
} vbus_mode;

typedef enum vbus_outcome {
    VBUS_SENT = 0,   /* acknowledged (or looped back) */
    VBUS_ACK_ERROR,  /* nobody acknowledged */
    VBUS_BIT_ERROR,  /* destroyed by an incompatible node's error flag */
    VBUS_INJECTED,   /* failed with an injected error */
    VBUS_ERROR_FLAG, /* destroyed by a faulty node's error flag */
} vbus_outcome;

/* One finished attempt, for observers (benchmarks, traces). */
typedef struct vbus_event {
    int sender; /* node index */
    u8d_frame frame;
    vbus_outcome outcome;
    unsigned receivers; /* nodes that stored the frame (sender's loopback excluded) */
    unsigned bits;      /* bus bits of the attempt, intermission included */
    uint64_t start_ns;  /* SOF */
    uint64_t end_ns;    /* bus idle again */
} vbus_event;
typedef void (*vbus_observer)(void *ctx, const vbus_event *ev);

typedef struct vbus_stats {
    uint64_t frames_sent;  /* acknowledged attempts */
    uint64_t error_frames; /* failed attempts */
    uint64_t bits;         /* bus bits of all attempts */
    uint64_t busy_ns;      /* time the bus was not idle (paced mode) */
    uint64_t since_ns;     /* start of the statistics window */
    uint64_t now_ns;       /* time the bus has been run to */
} vbus_stats;

typedef struct vbus vbus;

/* NULL on no memory. start_ns is the bus's initial time. */
vbus *vbus_create(vbus_mode mode, uint64_t start_ns);
/* Detaches every model (models are not freed). */
void vbus_destroy(vbus *b);
vbus_mode vbus_get_mode(const vbus *b);

/* Node index (0..VBUS_MAX_NODES-1), or -1 when the bus is full or m is NULL
 * or already attached. */
int vbus_attach(vbus *b, u8d_model *m);
/* A transmission of m in flight is abandoned. */
void vbus_detach(vbus *b, u8d_model *m);
u8d_model *vbus_node(const vbus *b, int index);

/* Runs one bus event due at or before now_ns (instant mode: one attempt);
 * false when nothing was due. Lets an owner drain hosts between frames. */
bool vbus_step(vbus *b, uint64_t now_ns);
/* Runs every bus event up to and including now_ns. Instant mode: settles
 * every frame that can be settled at now_ns. */
void vbus_run_until(vbus *b, uint64_t now_ns);
/* Time of the next bus event (paced), UINT64_MAX when nothing is pending;
 * a real-time driver sleeps until then or until a host action. */
uint64_t vbus_next_event_ns(vbus *b);
/* True while a frame is pending that the bus may still deliver (not parked). */
bool vbus_busy(vbus *b);

void vbus_set_observer(vbus *b, vbus_observer fn, void *ctx);
void vbus_get_stats(const vbus *b, vbus_stats *s);
void vbus_reset_stats(vbus *b);
/* busy_ns / (now_ns - since_ns), 0..1. */
double vbus_load(const vbus_stats *s);

/* Sample point checking between nodes (per mille; 0 = not checked). */
void vbus_set_sample_point_tolerance(vbus *b, unsigned permille);
unsigned vbus_get_sample_point_tolerance(const vbus *b);
/* (1 + tseg1) / (1 + tseg1 + tseg2) in per mille, rounded. */
unsigned vbus_sample_point_permille(const u8d_bittiming *bt);

/* Bits of a successful frame on the wire: SOF to CRC with exact stuff bits,
 * CRC delimiter, ACK slot and delimiter, 7 EOF bits, 3 intermission bits. */
unsigned vbus_frame_bits(const u8d_frame *f);
/* Stuff bits inserted between SOF and the end of the CRC sequence. */
unsigned vbus_frame_stuff_bits(const u8d_frame *f);
/* Nanoseconds for `bits` at `bitrate` bit/s (rounded). */
uint64_t vbus_bits_to_ns(uint64_t bits, uint32_t bitrate);

#endif
