/*
 * channel_impl.h — the channel's state, shared by channel.c (open, close,
 * commands, status), channel_rx.c (IN path, receive calls) and
 * channel_tx.c (send calls, OUT path). Private to those three files.
 *
 * Locking: `lock` guards every field below it; `cmd_lock` serialises
 * command exchanges (open, set-bitrate, close) without blocking the data
 * paths. Nobody calls into the link while holding `lock`.
 */
#ifndef USB2CAN_CHANNEL_IMPL_H
#define USB2CAN_CHANNEL_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "bus_state.h"
#include "channel.h"
#include "osal.h"
#include "rx_event.h"
#include "rx_filter.h"
#include "rx_ring.h"
#include "tx_queue.h"

/* Vendor firmware: CanalGetStatus asks the adapter (GET_STATUS) for fresh
 * error counters when the last answer is at least this old, waiting at most
 * U2C_STATUS_QUERY_TIMEOUT_MS; never a CANalyze (it would kill its command
 * pipe). Status records update the counters in between. */
#define U2C_STATUS_REFRESH_MS 500u
#define U2C_STATUS_QUERY_TIMEOUT_MS 200u
/* A CANalyze never reports recovery (no OK record): warning and passive fall
 * back to error-active after this long without a status record. */
#define U2C_CANALYZE_DECAY_MS 3000u
#define U2C_GONE_REASON_MAX 160

/* A sender blocked on a full TX queue re-checks at least this often. Pops
 * wake it only once TX_WAKE_ROOM slots are free (tx_queue.h), and a link
 * that takes one record and then stalls (bus off, no ACK) pops no more: the
 * re-check bounds how long it can miss room that exists. */
#define TX_RECHECK_MS 20u

struct u2c_channel {
    /* Fixed after open. */
    u2c_link *link;
    u2c_link_sink sink; /* the link may keep a pointer to it */
    u8d_version version;
    u8d_flavor flavor;
    uint32_t open_flags; /* as sent to the adapter: CanalOpen bits 0..2, always 0x08 */
    bool deliver_status; /* CanalOpen flag 0x08: status records become messages */
    u2c_mutex cmd_lock;
    u2c_setup setup; /* timing and bitrate change under cmd_lock + lock */

    u2c_mutex lock;
    u2c_cond rx_cond; /* ring not empty, or closing/gone */
    u2c_cond tx_cond; /* u2c_tx_queue_should_wake after a pop, or closing/gone */
    unsigned rx_waiters;
    unsigned tx_waiters;
    bool closing;
    bool gone;
    char gone_reason[U2C_GONE_REASON_MAX];

    u2c_rx_ring ring;
    u2c_rx_event event;
    rx_filter filter;
    u8d_clock clock;
    uint64_t last_us; /* timestamp of the newest CAN frame, for status messages */
    u2c_tx_queue txq;

    u2c_bus_state bus;
    uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
    uint64_t tx_frames_at_open; /* tx_frames when the adapter was last opened */
    uint32_t tx_stat_at_open;   /* vendor: GET_STATISTICS(2) right after that OPEN */
    uint64_t status_asked_ns;   /* vendor: when GET_STATUS was last asked (or OPEN) */
    u2c_channel_diag diag;

    /* busoff=auto:N (setup.busoff_restart_ms > 0): a thread re-opens the
     * controller that long after the bus-off record came. */
    u2c_thread restart_thread;
    bool restart_started;
    u2c_cond restart_cond;     /* a bus-off came, or closing/gone */
    uint64_t bus_off_since_ns; /* when the pending bus-off came; 0 = none */
};

/* Sink callbacks (channel_rx.c, channel_tx.c). */
void u2c_channel_on_in_packet(void *ctx, const uint8_t *bytes, size_t len);
int u2c_channel_on_next_out(void *ctx, uint8_t record[U8D_TX_RECORD_SIZE]);

/* Lock held: a status message (with flag 0x08) telling that busoff=auto
 * re-opened the controller: code OK, data[3] = restarts so far (1..255). */
void u2c_channel_note_restart(u2c_channel *ch);

/* Lock held: the CANAL code for a channel that cannot do I/O any more
 * (0 when it still can), with the reason set. */
int u2c_channel_dead_code(const u2c_channel *ch);

#endif
