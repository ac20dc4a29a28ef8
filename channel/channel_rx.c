/* The IN path: decode packets into the ring; and the receive calls. */
#include <stdio.h>
#include <string.h>

#include "channel_impl.h"
#include "last_error.h"
#include "usb2can.h"

#define STATUS_MSG_SIZE 4

/* Lock held. */
static void queue_message(u2c_channel *ch, const canalMsg *m)
{
    if (!u2c_rx_ring_push(&ch->ring, m)) {
        ch->diag.ring_overruns++;
        return;
    }
    if (u2c_rx_ring_count(&ch->ring) == 1)
        u2c_rx_event_set(&ch->event);
}

/* Lock held. */
static void take_can_frame(u2c_channel *ch, const u8d_rx_record *rec)
{
    const u8d_frame *f = &rec->frame;
    bool ext = (f->flags & U8D_FLAG_EXT) != 0;
    bool rtr = (f->flags & U8D_FLAG_RTR) != 0;
    /* DLC 9..15 is legal classic CAN and means 8 data bytes (u8d_dlc_bytes). */
    uint8_t dlc = u8d_dlc_bytes(f->dlc);

    ch->last_us = u8d_clock_to_us(&ch->clock, rec->timestamp);
    ch->rx_frames++;
    ch->rx_bytes += rtr ? 0 : dlc;
    if (!rx_filter_accepts(&ch->filter, f->id, ext, rtr)) {
        ch->diag.filtered_frames++;
        return;
    }
    canalMsg m;
    memset(&m, 0, sizeof m);
    m.flags = (ext ? CANAL_IDFLAG_EXTENDED : 0) | (rtr ? CANAL_IDFLAG_RTR : 0);
    m.id = f->id & USB2CAN_EXT_ID_MAX;
    m.sizeData = dlc;
    if (!rtr)
        memcpy(m.data, f->data, dlc);
    m.timestamp = (unsigned long)ch->last_us;
    queue_message(ch, &m);
}

/* A CANAL status message with that code and nothing else filled in. */
static canalMsg status_message(uint8_t code)
{
    canalMsg m;
    memset(&m, 0, sizeof m);
    m.flags = CANAL_IDFLAG_STATUS;
    m.id = code;
    m.sizeData = STATUS_MSG_SIZE;
    return m;
}

/* Lock held. Status records carry no valid timestamp (the firmware leaves it
 * uninitialised), so they get the newest CAN frame's time and never touch
 * the clock. */
void u2c_channel_queue_status(u2c_channel *ch, uint8_t code, uint8_t rec, uint8_t tec)
{
    if (!ch->deliver_status)
        return;
    canalMsg m = status_message(code);
    m.data[0] = code;
    m.data[1] = rec;
    m.data[2] = tec;
    m.timestamp = (unsigned long)ch->last_us;
    queue_message(ch, &m);
}

/* Lock held. A CANalyze fills only the code; its counter bytes are stale
 * leftovers, so they count as 0, and its records are the only source of
 * its state. The vendor firmware keeps records across CLOSE and sends them
 * after the next OPEN, where nothing tells them from new ones (status
 * records carry no timestamp, docs/protocol.md): a BUSOFF record, which
 * would stick until the next OPEN, only notes the code and makes the
 * refresher confirm it with GET_STATUS, whose word sets the state (the
 * message follows once confirmed); other records apply at once, and in the
 * first U2C_STALE_WINDOW_MS after an OPEN they are confirmed too. */
static void take_status(u2c_channel *ch, const u8d_rx_record *rec)
{
    const uint8_t *raw = rec->frame.data;
    uint64_t now = u2c_now_ns();
    ch->diag.status_records++;
    ch->status_records_seen++;
    u2c_bus_state_settle(&ch->bus, now);
    bool vendor = ch->flavor != U8D_FLAVOR_CANALYZE;
    if (vendor && ch->refresher_running && raw[0] == CANAL_STATUSMSG_BUSOFF) {
        u2c_bus_state_note(&ch->bus, raw[0], now);
        u2c_channel_want_refresh(ch, true);
        ch->busoff_msg_pending = true;
        return;
    }
    uint8_t rec_raw = vendor ? raw[1] : 0, tec = vendor ? raw[2] : 0;
    u2c_bus_state_apply_at(&ch->bus, raw[0], rec_raw, tec, now);
    if (raw[0] == CANAL_STATUSMSG_BUSOFF)
        u2c_channel_bus_off_seen(ch, now);
    u2c_channel_queue_status(ch, raw[0], rec_raw, tec);
    if (vendor && now - ch->opened_ns < (uint64_t)U2C_STALE_WINDOW_MS * 1000000u)
        u2c_channel_want_refresh(ch, true);
}

void u2c_channel_bus_off_seen(u2c_channel *ch, uint64_t now_ns)
{
    if (ch->setup.busoff_restart_ms != 0 && ch->bus_off_since_ns == 0) {
        ch->bus_off_since_ns = now_ns;
        u2c_cond_broadcast(&ch->restart_cond);
    }
}

void u2c_channel_note_restart(u2c_channel *ch)
{
    ch->diag.busoff_restarts++;
    if (!ch->deliver_status)
        return;
    canalMsg m = status_message(CANAL_STATUSMSG_OK);
    m.data[3] = (unsigned char)(ch->diag.busoff_restarts > 255 ? 255 : ch->diag.busoff_restarts);
    m.timestamp = (unsigned long)ch->last_us;
    queue_message(ch, &m);
}

/* Lock held. One problem in an IN packet: a bad record (index 0..2) or the
 * packet's tail (index = the number of whole records). */
static void note_bad(u2c_channel *ch, u8d_status st, size_t index, size_t len, bool record)
{
    if (record)
        ch->diag.bad_records++;
    snprintf(ch->diag.last_malformed, sizeof ch->diag.last_malformed,
             "IN packet of %zu bytes, %s %zu: %s", len, record ? "record" : "bytes after record",
             record ? index + 1 : index, u8d_status_text(st));
}

/* Each record is judged on its own, as the Linux driver does: a bad one is
 * counted and skipped, the records before and after it are delivered. */
void u2c_channel_on_in_packet(void *ctx, const uint8_t *bytes, size_t len)
{
    u2c_channel *ch = ctx;
    if (len == 0)
        return; /* a zero-length transfer carries nothing */
    u8d_in_packet pkt;
    u8d_status st = u8d_decode_in_packet(bytes, len, ch->flavor, &pkt);

    u2c_mutex_lock(&ch->lock);
    for (size_t i = 0; i < pkt.records && i < U8D_RX_MAX_RECORDS; i++) {
        if (pkt.st[i] != U8D_OK)
            note_bad(ch, pkt.st[i], i, len, true);
        else if (pkt.rec[i].type == U8D_TYPE_STATUS)
            take_status(ch, &pkt.rec[i]);
        else
            take_can_frame(ch, &pkt.rec[i]);
    }
    if (pkt.tail != U8D_OK)
        note_bad(ch, pkt.tail, pkt.records, len, false);
    if (st != U8D_OK)
        ch->diag.malformed_packets++;
    bool wake = ch->rx_waiters > 0 && u2c_rx_ring_count(&ch->ring) > 0;
    u2c_mutex_unlock(&ch->lock);
    /* Signalled after unlocking: a receiver woken while the lock is still
     * held would only block again on the mutex, a second context switch. */
    if (wake)
        u2c_cond_broadcast(&ch->rx_cond);
}

/* Lock held. */
static bool pop_message(u2c_channel *ch, canalMsg *out)
{
    if (!u2c_rx_ring_pop(&ch->ring, out))
        return false;
    if (u2c_rx_ring_count(&ch->ring) == 0 && !ch->gone && !ch->closing)
        u2c_rx_event_reset(&ch->event);
    return true;
}

int u2c_channel_receive(u2c_channel *ch, canalMsg *out)
{
    int code = CANAL_ERROR_SUCCESS;
    u2c_mutex_lock(&ch->lock);
    if (ch->closing)
        code = u2c_channel_dead_code(ch);
    else if (pop_message(ch, out))
        code = CANAL_ERROR_SUCCESS;
    else if (ch->gone)
        code = u2c_channel_dead_code(ch);
    else
        code = u2c_note(CANAL_ERROR_FIFO_EMPTY, "no frame received yet");
    u2c_mutex_unlock(&ch->lock);
    return code;
}

int u2c_channel_blocking_receive(u2c_channel *ch, canalMsg *out, unsigned long timeout_ms)
{
    uint64_t deadline =
        timeout_ms == CANAL_BLOCK_FOREVER ? U2C_DEADLINE_NEVER : u2c_deadline_after_ms(timeout_ms);
    return u2c_channel_receive_until(ch, out, deadline, timeout_ms);
}

int u2c_channel_receive_until(u2c_channel *ch, canalMsg *out, uint64_t deadline,
                              unsigned long timeout_ms)
{
    int code;
    u2c_mutex_lock(&ch->lock);
    for (;;) {
        if (ch->closing) {
            code = u2c_channel_dead_code(ch);
            break;
        }
        if (pop_message(ch, out)) {
            code = CANAL_ERROR_SUCCESS;
            break;
        }
        if (ch->gone) {
            code = u2c_channel_dead_code(ch);
            break;
        }
        if (deadline != U2C_DEADLINE_NEVER && u2c_now_ns() >= deadline) {
            code = u2c_note(CANAL_ERROR_TIMEOUT, "no frame within %lu ms", timeout_ms);
            break;
        }
        ch->rx_waiters++;
        u2c_cond_wait_until(&ch->rx_cond, &ch->lock, deadline);
        ch->rx_waiters--;
    }
    u2c_mutex_unlock(&ch->lock);
    return code;
}

int u2c_channel_data_available(u2c_channel *ch)
{
    u2c_mutex_lock(&ch->lock);
    int n = (int)u2c_rx_ring_count(&ch->ring);
    u2c_mutex_unlock(&ch->lock);
    return n;
}
