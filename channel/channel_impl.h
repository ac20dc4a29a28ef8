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

/* Vendor firmware: the channel's refresher thread (channel_refresh.c) asks
 * the adapter for its status word (GET_STATUS) and its own overrun count
 * (GET_STATISTICS 4) when CanalGetStatus or CanalGetStatistics was called
 * and the last answer is at least U2C_STATUS_REFRESH_MS old, each waiting at
 * most U2C_STATUS_QUERY_TIMEOUT_MS; the callers never wait for it. A status
 * record makes it confirm the state at once (no closer than
 * U2C_STATUS_CONFIRM_MS apart): the word, not the record, sets the state.
 * Never a CANalyze (it would kill its command pipe). */
#define U2C_STATUS_REFRESH_MS 500u
#define U2C_STATUS_QUERY_TIMEOUT_MS 200u
#define U2C_STATUS_CONFIRM_MS 5u
/* Vendor: records held across CLOSE arrive within a few milliseconds after
 * the next OPEN (at most 66 of them); status records in this window after
 * an OPEN are confirmed with GET_STATUS. */
#define U2C_STALE_WINDOW_MS 100u
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
    /* Vendor: the adapter's own overruns (GET_STATISTICS 4). It clears them
     * at every open/close transition, so sessions add up: earlier ones in
     * overruns_before, this one as the count minus the value after OPEN. */
    uint64_t adapter_overruns_before;
    uint32_t overrun_stat_at_open;
    uint32_t overrun_stat_now;
    /* Vendor: frames the adapter held when it was last closed (CanalSetBaudrate
     * or close): lost at CLOSE, and left to go out after the next OPEN. */
    uint64_t tx_lost_at_close;
    uint64_t tx_left_at_close;

    /* The refresher thread (vendor only). */
    u2c_thread refresher;
    bool refresher_running;
    bool refresher_stop;
    bool refresh_wanted;     /* a caller wants fresh values (due by the interval) */
    bool confirm_wanted;     /* a status record came: confirm the state now */
    bool busoff_msg_pending; /* a BUSOFF record waits for confirmation (flag 0x08) */
    uint64_t status_confirmed_ns;
    uint64_t opened_ns;           /* when the last OPEN was answered */
    uint64_t status_records_seen; /* counts take_status calls, for the refresher */
    u2c_cond refresh_cond;
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

/* Refresher (channel_refresh.c). start: after the link started, vendor only;
 * stop: before CLOSE (joins it). want: lock held, never waits. */
void u2c_channel_refresher_start(u2c_channel *ch);
void u2c_channel_refresher_stop(u2c_channel *ch);
/* Stops one of the channel's own threads: when *started, sets *stop and
 * wakes `wake` under the channel lock, joins the thread, clears *started. */
void u2c_channel_stop_thread(u2c_channel *ch, bool *started, bool *stop, u2c_cond *wake,
                             u2c_thread *thread);
void u2c_channel_want_refresh(u2c_channel *ch, bool confirm_now);
/* Lock held: queues a status message (CanalOpen flag 0x08). */
void u2c_channel_queue_status(u2c_channel *ch, uint8_t code, uint8_t rec, uint8_t tec);
/* Lock held: a status message (with flag 0x08) telling that busoff=auto
 * re-opened the controller: code OK, data[3] = restarts so far (1..255). */
void u2c_channel_note_restart(u2c_channel *ch);
/* Lock held: the adapter is bus-off (a record of a CANalyze, or a status
 * word that confirmed it); busoff=auto:N counts from here. */
void u2c_channel_bus_off_seen(u2c_channel *ch, uint64_t now_ns);

/* Lock held: the CANAL code for a channel that cannot do I/O any more
 * (0 when it still can), with the reason set. */
int u2c_channel_dead_code(const u2c_channel *ch);

#endif
