/*
 * u8d_model.h — one USB2CAN adapter as the host sees it over USB: the
 * vendor firmware 1.7 (or the CANalyze firmware) with its CAN controller.
 *
 * Contract: a pure state machine driven by explicit time in nanoseconds, so
 * it is deterministic under a test clock. No I/O, no threads, no locks (the
 * owner serialises calls), no allocation after u8d_model_create. Every call
 * takes `now_ns`; callers never pass a time earlier than a previous call.
 *
 * Two faces:
 * - USB (the host side): the command pipe (EP 0x04/0x83), the OUT data
 *   endpoint (EP 0x02, one TX record per transfer, NAK when full) and the
 *   IN data endpoint (EP 0x81, packets of 1..3 RX records).
 * - CAN (the bus side, driven by vbus.h): the frame the controller wants to
 *   send, and the outcome of every bus event (sent, error, received). The
 *   error counters follow ISO 11898-1 fault confinement; the model, not the
 *   bus, applies the counter rules.
 *
 * What is modelled, as docs/protocol.md describes the two firmwares:
 * - Vendor fw 1.7: every valid 16-byte command is answered with a copy of
 *   the request (opt1 = result, named data bytes changed). The firmware
 *   checks only byte 0 = 0x11, byte 15 = 0x22 and length <= 16 of its
 *   packet buffer, which keeps the previous command's bytes: a short packet
 *   is merged over the previous one and answered with the same length.
 *   A rejected command gets no reply at all.
 * - TX path: FW list (63) + hold stage (1) + the OUT endpoint buffer (1)
 *   = U8D_MODEL_TX_QUEUE_DEPTH records wait in order, plus one in the CAN
 *   message object being transmitted. The host's OUT transfer completes
 *   when the record is in the endpoint buffer, so U8D_MODEL_TX_CAPACITY
 *   transfers succeed before the first NAK. Nothing is ever dropped, except
 *   the frame in the message object when OPEN/CLOSE re-initialise the
 *   controller (the lists survive, as in FW 1.7).
 * - A malformed TX record (length > 16 or wrong markers after the merge
 *   with the endpoint buffer) stalls the OUT endpoint for good: the firmware
 *   never re-arms it, so every later transfer NAKs (U8D_MODEL_OUT_STALLED)
 *   until u8d_model_usb_reinit. Fields the firmware does not check (flags
 *   bits 2..7, id bits above the format, dlc 9..15) are masked as FW does.
 * - RX path: RX list of 63 records + the one loaded IN packet (up to 3
 *   records, loaded as soon as records exist and the endpoint is free).
 *   A frame arriving at a full list is dropped and Overruns is counted; no
 *   status record is sent. Status records share the list and are dropped
 *   silently when it is full.
 * - Status records (type 3, flags 0x04, dlc 4, data = code, REC & 0x7F,
 *   TEC, 0) while open, on a change of the state bits (BUSOFF > BUSHEAVY >
 *   BUSLIGHT > OK) and then on a change of the last error code. The
 *   firmware leaves their id 0 and their timestamp and data[4..7]
 *   uninitialised; the model writes the current tick and zeros.
 * - Statistics: RX frames/bytes per stored RX frame, TX frames per
 *   successful transmission, TX bytes always 0 (FW never counts it),
 *   Overruns, Warnings (transitions reported as BUSLIGHT), BusOff
 *   (transitions reported as BUSOFF). Cleared by index 7 and when the
 *   controller goes from closed to open or back, together with the error
 *   tracking; an OPEN while open keeps them (the firmware's main loop acts
 *   on transitions only).
 * - Fault confinement (ISO 11898-1): TEC +8 per transmit error except an
 *   ACK error while error-passive; TEC -1 per success; REC +1 per receive
 *   error (saturating at 128 = receive-passive), -1 per good frame, and
 *   back to 127 from passive. Warning at 96, passive at 128, bus-off above
 *   255; bus-off lasts until OPEN (no automatic recovery, as C_CAN in FW).
 * - Test modes, OPEN flag bits 0..1, as the vendor firmware sets them
 *   (krumboeck/usb2can_firmware, commands.c, USB2CAN_open: `flags & 3`
 *   selects CAN_MODE_NORMAL, _SILENT, _LOOPBACK or _SILENT_LOOPBACK, which
 *   write the C_CAN test register's Silent and LBack bits; bit 2 sets DAR):
 *   0x01 silent receives but never starts a transmission (queued frames
 *   wait); 0x02 loopback receives its own frames, needs no ACK and ignores
 *   the bus input while its frames still go out; 0x03 silent loopback
 *   receives its own frames and nothing reaches the bus (vbus.h). The
 *   CANalyze firmware reads the same bits.
 * - Inferences (the sources do not say): in bus-off the TEC register reads
 *   255; OUT records are queued while the controller is closed and go out
 *   after OPEN; OPEN/CLOSE clear the message object (its frame is counted
 *   by u8d_model_frames_lost); a loopback copy does not change REC.
 * - CANalyze (fw 0.1): answers only OPEN, CLOSE and GET_SOFTW_HARDW_VER;
 *   anything else, or a malformed command, gets no reply and kills the
 *   command pipe until u8d_model_usb_reinit. Its reply carries the stale
 *   data bytes of its transmit buffer, and it has one reply buffer: while a
 *   reply is held unread (u8d_model_reply_held) the next one is dropped.
 *   Its CAN clock is 48 MHz and the host's brp is scaled by 1.5, truncated
 *   and wrapped into 10 bits (the bit rate in u8d_model_can_view is the one
 *   it really runs at). OPEN flags: bits 0..2 of the low byte. TX: three bxCAN mailboxes sent in
 *   id order; the OUT endpoint stays busy (NAK) until the frame is sent or
 *   10 ms passed; a frame arriving with no free mailbox is lost. RX: one
 *   record per IN packet, a frame arriving while the single IN buffer is
 *   loaded is lost. Status records on every error, code as its firmware
 *   maps the HAL error bits, other bytes stale from the last record.
 *   LE32 millisecond timestamps.
 */
#ifndef USB2CAN_U8D_MODEL_H
#define USB2CAN_U8D_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "u8d_codec.h"

/* Records waiting in order in front of the CAN message object (vendor). */
#define U8D_MODEL_TX_QUEUE_DEPTH 65
/* OUT transfers accepted before the first NAK while the message object is busy. */
#define U8D_MODEL_TX_CAPACITY (U8D_MODEL_TX_QUEUE_DEPTH + 1)
/* Usable entries of the firmware's RX list. */
#define U8D_MODEL_RX_QUEUE_DEPTH 63
/* CANalyze: bxCAN transmit mailboxes and the blocking transmit timeout. */
#define U8D_MODEL_CZ_MAILBOXES 3
#define U8D_MODEL_CZ_TX_TIMEOUT_NS 10000000ull

/* Vendor timestamp tick: 32 MHz / 127 / 250 = 992.1875 us. */
#define U8D_MODEL_TICK_NUM_NS 15875000ull /* 16 ticks = 15.875 ms */
#define U8D_MODEL_TICK_DEN 16ull

/* Status codes in status records (docs/protocol.md, status records). */
enum u8d_status_code {
    U8D_SC_OK = 0x00,
    U8D_SC_OVERRUN = 0x01,
    U8D_SC_BUSLIGHT = 0x02,
    U8D_SC_BUSHEAVY = 0x03,
    U8D_SC_BUSOFF = 0x04,
    U8D_SC_STUFF = 0x20,
    U8D_SC_FORM = 0x21,
    U8D_SC_ACK = 0x23,
    U8D_SC_BIT1 = 0x24, /* could not send a recessive bit */
    U8D_SC_BIT0 = 0x25, /* could not send a dominant bit */
    U8D_SC_CRC = 0x27,
};

/* Last error code of the CAN controller (C_CAN SR.LEC). */
typedef enum u8d_lec {
    U8D_LEC_NONE = 0,
    U8D_LEC_STUFF = 1,
    U8D_LEC_FORM = 2,
    U8D_LEC_ACK = 3,
    U8D_LEC_BIT1 = 4,
    U8D_LEC_BIT0 = 5,
    U8D_LEC_CRC = 6,
    U8D_LEC_UNUSED = 7,
} u8d_lec;

typedef struct u8d_model_config {
    u8d_flavor flavor;
    u8d_version version; /* GET_SOFTW_HARDW_VER reply (vendor flavour) */
    char serial[9];      /* 8 ASCII characters, GET_SERIAL reply */
} u8d_model_config;

/* fw 1.7 hw 1.0, serial "ED000001". */
void u8d_model_config_vendor(u8d_model_config *cfg);
/* fw 0.1 hw 0.1, 12-hex-digit style serial truncated to 8 ("CA000001"). */
void u8d_model_config_canalyze(u8d_model_config *cfg);

typedef struct u8d_model u8d_model;

/* Powers the device up at power_on_ns (its timestamp epoch). NULL on no memory
 * or a NULL cfg. */
u8d_model *u8d_model_create(const u8d_model_config *cfg, uint64_t power_on_ns);
void u8d_model_destroy(u8d_model *m);
const u8d_model_config *u8d_model_get_config(const u8d_model *m);

/* --- USB face ------------------------------------------------------------- */

/* One command transfer of len bytes. Returns the reply length written to
 * reply (equal to len) or 0 when the device does not answer. A caller that
 * hands the reply to the host at once needs nothing more; one that keeps it
 * in a modelled IN pipe reports that with u8d_model_reply_held. */
size_t u8d_model_command(u8d_model *m, uint64_t now_ns, const uint8_t *request, size_t len,
                         uint8_t reply[U8D_CMD_SIZE]);
/* The last reply sits unread in the command IN endpoint (true) or the host
 * has read it (false). A CANalyze drops every reply while one is held. */
void u8d_model_reply_held(u8d_model *m, bool held);
/* False once the command pipe is dead (CANalyze after a bad command). */
bool u8d_model_command_pipe_alive(const u8d_model *m);

typedef enum u8d_model_out {
    U8D_MODEL_OUT_ACCEPTED = 0, /* the transfer completed */
    U8D_MODEL_OUT_NAK,          /* endpoint busy or full: retry later, nothing consumed */
    U8D_MODEL_OUT_STALLED,      /* endpoint dead until u8d_model_usb_reinit */
} u8d_model_out;

/* Whether an OUT transfer now would be accepted (without sending one). */
u8d_model_out u8d_model_out_ready(const u8d_model *m, uint64_t now_ns);
/* One OUT transfer of len bytes on EP 0x02. On NAK/STALLED nothing is
 * consumed. A malformed record is ACCEPTED by USB and then stalls the endpoint. */
u8d_model_out u8d_model_data_out(u8d_model *m, uint64_t now_ns, const uint8_t *record, size_t len);

/* One IN transfer on EP 0x81: writes the loaded packet (21, 42 or 63 bytes)
 * and returns its length, or 0 when the endpoint NAKs (nothing to send). */
size_t u8d_model_data_in(u8d_model *m, uint64_t now_ns, uint8_t packet[U8D_IN_PACKET_MAX]);
/* Records waiting for the host (loaded packet + RX list). */
size_t u8d_model_rx_pending(const u8d_model *m);

/* USB re-initialisation (re-plug or bus reset): revives a dead command pipe
 * and a stalled OUT endpoint, closes the CAN controller, clears both lists
 * and the loaded IN packet. */
void u8d_model_usb_reinit(u8d_model *m, uint64_t now_ns);
/* True after RESET was answered: the device left the bus to re-enumerate;
 * it answers nothing until u8d_model_usb_reinit. */
bool u8d_model_detached(const u8d_model *m);

/* --- inspection (tests, tools) -------------------------------------------- */

typedef struct u8d_model_can_view {
    bool running; /* OPEN received, CLOSE not */
    bool bus_off;
    bool silent;      /* flag 0x01 */
    bool loopback;    /* flag 0x02 */
    bool one_shot;    /* flag 0x04 */
    u8d_bittiming bt; /* as in effect */
    uint32_t bitrate; /* bit/s, 0 when the timing is unusable */
    uint16_t tec;     /* 0..256 */
    uint16_t rec;     /* 0..128 (128 = receive error-passive) */
    u8d_lec lec;
} u8d_model_can_view;
void u8d_model_can_state(const u8d_model *m, u8d_model_can_view *v);
/* The GET_STATUS word as the firmware builds it. */
uint32_t u8d_model_status_word(const u8d_model *m);
uint32_t u8d_model_statistic(const u8d_model *m, enum u8d_stat_index index);
/* Records queued for transmission (mailbox(es) included). */
size_t u8d_model_tx_pending(const u8d_model *m);
/* Frames lost without a trace in the protocol: CANalyze mailbox/IN-buffer
 * losses, vendor message object cleared by OPEN/CLOSE. */
uint32_t u8d_model_frames_lost(const u8d_model *m);
/* When the device will change by itself (CANalyze: its blocking transmit
 * times out and the OUT endpoint takes data again); UINT64_MAX for never. */
uint64_t u8d_model_next_timer_ns(const u8d_model *m);
/* Raw timestamp the device would write at now_ns. */
uint32_t u8d_model_timestamp(const u8d_model *m, uint64_t now_ns);
/* Changes on every event that can change what the bus may do with this node
 * (OPEN, CLOSE, SET_SPEED, re-init, error injection). */
uint32_t u8d_model_generation(const u8d_model *m);

/* --- CAN face (driven by the bus) ----------------------------------------- */

/* Arbitration order of a frame: the arbitration field (id, SRR, IDE, RTR) as a
 * left-aligned 32-bit number; the lower key wins the bus. */
uint32_t u8d_frame_arbitration_key(const u8d_frame *f);

/* The frame the controller wants on the bus now, and since when it is ready.
 * False when there is none, the controller is closed, bus-off or silent
 * (silent+loopback sends only to itself, see can_view.loopback). */
bool u8d_model_can_tx_peek(u8d_model *m, uint64_t now_ns, u8d_frame *frame, uint64_t *ready_ns);
/* The peeked frame was sent and acknowledged (or looped back): TEC-1, LEC 0,
 * statistics, loopback copy into the RX path, next frame. */
void u8d_model_can_tx_done(u8d_model *m, uint64_t now_ns);
/* The peeked frame failed with this error. TEC +8, except an ACK error of an
 * error-passive transmitter (ISO 11898-1 fault confinement rule 3 exception).
 * One-shot drops the frame. */
void u8d_model_can_tx_error(u8d_model *m, uint64_t now_ns, u8d_lec lec);
/* The peeked frame lost arbitration; one-shot drops it (C_CAN DAR). */
void u8d_model_can_tx_lost_arbitration(u8d_model *m, uint64_t now_ns);
/* A valid frame was received: REC-1 (or back to 127 from passive), LEC 0,
 * stored in the RX path or counted as an overrun. */
void u8d_model_can_rx(u8d_model *m, uint64_t now_ns, const u8d_frame *frame);
/* A receive error was detected: REC +1 (saturating at 128). */
void u8d_model_can_rx_error(u8d_model *m, uint64_t now_ns, u8d_lec lec);

/* Fault injection: the next `count` transmissions of this node fail with
 * `lec` (e.g. U8D_LEC_BIT0: TEC +8 each, even when error-passive). */
void u8d_model_inject_tx_errors(u8d_model *m, u8d_lec lec, unsigned count);
/* Consumes one injected error, if any, into *lec. */
bool u8d_model_take_injected_error(u8d_model *m, u8d_lec *lec);

/* A faulty node (no firmware does this on purpose; it stands for a broken
 * transceiver or controller elsewhere on the bus): while it takes part in
 * the bus at the sender's rate, it destroys every `every`-th frame it sees
 * with an active error flag (vbus.h says what the others see). Its own
 * counters do not move for the flags it raises. 0 turns it off. */
void u8d_model_set_error_flags(u8d_model *m, unsigned every);
unsigned u8d_model_error_flags(const u8d_model *m);
/* Counts one frame seen; true when this one gets the error flag. */
bool u8d_model_take_error_flag(u8d_model *m);

#endif
