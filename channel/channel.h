/*
 * channel.h — one open CANAL channel: an adapter behind a link, its RX ring,
 * TX queue, software filter, bus state and counters.
 *
 * Contract:
 * - u2c_channel_open takes a link that is open but not started, asks the
 *   adapter for its version (which picks the wire flavour: fw 0.x is a
 *   CANalyze that gets nothing but OPEN, CLOSE and the version query),
 *   starts streaming and sends OPEN with the setup's timing (on a CANalyze
 *   one with an even brp, or the open fails with BAUDRATE and a reason) and
 *   flags bits 0..2 plus 0x08. Every OPEN (also CanalSetBaudrate's) starts
 *   the bus state from error-active; on vendor firmware the transmitted-
 *   frames count is read right after it as the baseline for closing. It
 *   owns the link from then on, also when it fails.
 * - RX runs in the link's sink callbacks: IN packets are decoded straight
 *   into the fixed ring (no allocation per frame); each 21-byte record is
 *   judged on its own (a bad one is counted, with the reason in the
 *   diagnostics, and skipped; the others are delivered); DLC 9..15 gives 8
 *   data bytes; a full ring drops the newest frame and counts an overrun;
 *   status records update the bus state and, with CanalOpen flag 0x08, become
 *   CANAL_IDFLAG_STATUS messages (id = code, data = code, REC, TEC, 0). The
 *   OPEN on the wire always asks for status records (bit 0x08), as the Linux
 *   driver does.
 * - Every call returns a CANAL code (0..37) and, on failure, leaves a reason
 *   in the calling thread's last error. Blocking calls wait on condition
 *   variables signalled by the link callbacks; a timeout of 0 waits forever
 *   and TIMEOUT is returned only once the whole timeout has passed on the
 *   monotonic clock.
 * - Get status: vendor firmware is asked for its status word at most every
 *   U2C_STATUS_REFRESH_MS (never a CANalyze); a CANalyze's warning/passive
 *   level decays after U2C_CANALYZE_DECAY_MS without a status record.
 * - Send only queues (TX_QUEUE_CAPACITY frames) and kicks the link without
 *   holding the channel lock; the link pulls records with next_out. A
 *   blocking send on a full queue is woken once TX_WAKE_ROOM slots are free
 *   (or the queue is empty) and re-checks every TX_RECHECK_MS, so it never
 *   waits longer than that while room exists. A remote request to a
 *   CANalyze is refused (NOT_SUPPORTED): its firmware sends it as data.
 * - Close is two calls: u2c_channel_shutdown (wakes every blocked caller
 *   with NOT_OPEN; callable while others still use the channel) and, once
 *   no caller is inside any more, u2c_channel_close (drain, CLOSE, stop the
 *   link, free everything; a CANalyze first gets every OUT transfer in
 *   flight completed, as it drops a pending frame at CLOSE).
 * - busoff=auto:N (setup.busoff_restart_ms): N ms after a BUSOFF status
 *   record the channel sends OPEN again with the same timing and flags (what
 *   the Linux driver's restart does: usb_8dev.c, usb_8dev_set_mode,
 *   CAN_MODE_START sends the open command), counts it
 *   (diag.busoff_restarts) and, with flag 0x08, delivers a status message
 *   (code OK, data[3] = restarts so far, saturating at 255). The adapter's
 *   re-initialisation drops the frame it was sending, as SocketCAN's restart
 *   does. A helper thread exists only with this option. Without it bus-off
 *   lasts until the program re-opens or calls CanalSetBaudrate.
 * - Once the link reports the device gone, queued frames are still handed
 *   out; after that every call fails with COMMUNICATION and the reason.
 */
#ifndef USB2CAN_CHANNEL_H
#define USB2CAN_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "canal.h"
#include "channel_setup.h"
#include "link.h"

typedef struct u2c_channel u2c_channel;

/* Host-side counters for diagnostics (cumulative since open). */
typedef struct u2c_channel_diag {
    uint64_t malformed_packets; /* IN packets with a bad record or stray bytes */
    uint64_t bad_records;       /* 21-byte records skipped (the others were delivered) */
    uint64_t ring_overruns;     /* frames dropped because the RX ring was full */
    uint64_t filtered_frames;   /* frames the software filter rejected */
    uint64_t status_records;    /* status records from the adapter */
    uint64_t tx_lost_at_close;  /* vendor: frames the adapter lost at CLOSE (at most 2 each) */
    uint64_t tx_left_at_close;  /* vendor: not sent at the last CLOSE, go out after OPEN */
    uint32_t rx_queued;
    uint32_t rx_capacity;
    uint32_t tx_queued;
    uint32_t rx_waiters;      /* threads blocked in CanalBlockingReceive now */
    uint32_t tx_waiters;      /* threads blocked in CanalBlockingSend (or close) now */
    uint32_t bitrate;         /* bit/s currently configured */
    uint64_t busoff_restarts; /* re-opens by busoff=auto:N */
    u8d_version version;      /* as the adapter reported it at open */
    u8d_flavor flavor;
    char last_malformed[96]; /* what was wrong with the last malformed packet */
} u2c_channel_diag;

/* NULL on failure with *code a CANAL code and the reason in the last error. */
u2c_channel *u2c_channel_open(u2c_link *link, const u2c_setup *setup, unsigned long flags,
                              int *code);
void u2c_channel_shutdown(u2c_channel *ch);
void u2c_channel_close(u2c_channel *ch);

int u2c_channel_send(u2c_channel *ch, const canalMsg *msg);
int u2c_channel_blocking_send(u2c_channel *ch, const canalMsg *msg, unsigned long timeout_ms);
int u2c_channel_receive(u2c_channel *ch, canalMsg *out);
int u2c_channel_blocking_receive(u2c_channel *ch, canalMsg *out, unsigned long timeout_ms);
/* The same with an absolute deadline on u2c_now_ns (U2C_DEADLINE_NEVER =
 * forever); timeout_ms only words the TIMEOUT reason. */
int u2c_channel_receive_until(u2c_channel *ch, canalMsg *out, uint64_t deadline,
                              unsigned long timeout_ms);
int u2c_channel_data_available(u2c_channel *ch);

int u2c_channel_get_status(u2c_channel *ch, canalStatus *out);
int u2c_channel_get_statistics(u2c_channel *ch, canalStatistics *out);

int u2c_channel_set_filter(u2c_channel *ch, unsigned long filter);
int u2c_channel_set_mask(u2c_channel *ch, unsigned long mask);
int u2c_channel_set_filters(u2c_channel *ch, unsigned long count, const unsigned long *values);
/* Re-opens the adapter at kbps (CLOSE, then OPEN with the new timing). */
int u2c_channel_set_bitrate(u2c_channel *ch, unsigned long kbps);

/* The Win32 event of rx_event.h; NULL on other systems. */
void *u2c_channel_receive_handle(u2c_channel *ch);
u8d_version u2c_channel_version(const u2c_channel *ch);
/* The link behind the channel (which kind of bus it is). */
const u2c_link *u2c_channel_link(const u2c_channel *ch);
void u2c_channel_diagnostics(u2c_channel *ch, u2c_channel_diag *out);

#endif
