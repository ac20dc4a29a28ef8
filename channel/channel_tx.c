/* The send calls and the OUT path. */
#include <string.h>

#include "channel_impl.h"
#include "last_error.h"
#include "usb2can.h"

/* Only EXT and RTR reach the wire; SEND, STATUS and other bits are ignored
 * as the vendor DLL ignores them (python-can always sets SEND). */
static int frame_from_msg(const u2c_channel *ch, const canalMsg *m, u8d_frame *f)
{
    bool ext = (m->flags & CANAL_IDFLAG_EXTENDED) != 0;
    bool rtr = (m->flags & CANAL_IDFLAG_RTR) != 0;
    /* The CANalyze firmware never sets RTR on transmit (kkuchera/canalyze-fw
     * src/usbd_8dev_if.c ~283-292): the request would go out as a data frame. */
    if (rtr && ch->flavor == U8D_FLAVOR_CANALYZE)
        return u2c_fail(CANAL_ERROR_NOT_SUPPORTED,
                        "a CANalyze cannot send remote requests (its firmware would send id "
                        "0x%lX as a data frame); not sent",
                        m->id);
    if (m->sizeData > 8)
        return u2c_fail(CANAL_ERROR_PARAMETER, "sizeData %u is more than 8 bytes",
                        (unsigned)m->sizeData);
    if (ext && m->id > USB2CAN_EXT_ID_MAX)
        return u2c_fail(CANAL_ERROR_CAN_ID, "extended id 0x%lX is wider than 29 bits", m->id);
    if (!ext && m->id > USB2CAN_STD_ID_MAX)
        return u2c_fail(CANAL_ERROR_CAN_ID,
                        "standard id 0x%lX is wider than 11 bits (set CANAL_IDFLAG_EXTENDED "
                        "for a 29-bit id)",
                        m->id);
    memset(f, 0, sizeof *f);
    f->id = (uint32_t)m->id;
    f->flags = (uint8_t)((ext ? U8D_FLAG_EXT : 0) | (rtr ? U8D_FLAG_RTR : 0));
    f->dlc = m->sizeData;
    if (!rtr)
        memcpy(f->data, m->data, m->sizeData);
    return CANAL_ERROR_SUCCESS;
}

int u2c_channel_send(u2c_channel *ch, const canalMsg *msg)
{
    u8d_frame f;
    int code = frame_from_msg(ch, msg, &f);
    if (code != CANAL_ERROR_SUCCESS)
        return code;
    u2c_mutex_lock(&ch->lock);
    if (ch->closing || ch->gone)
        code = u2c_channel_dead_code(ch);
    else if (!u2c_tx_queue_push(&ch->txq, &f))
        code = u2c_fail(CANAL_ERROR_FIFO_FULL,
                        "TX queue full: %u frames wait for the adapter (is the bus connected "
                        "and another node acknowledging?)",
                        TX_QUEUE_CAPACITY);
    u2c_mutex_unlock(&ch->lock);
    if (code == CANAL_ERROR_SUCCESS)
        ch->link->ops->kick_out(ch->link);
    return code;
}

/* Pops wake blocked senders only now and then (u2c_tx_queue_should_wake), so
 * a sender also wakes by itself every TX_RECHECK_MS; the caller's deadline
 * alone decides when it gives up. */
static uint64_t recheck_deadline(uint64_t deadline)
{
    uint64_t recheck = u2c_deadline_after_ms(TX_RECHECK_MS);
    return recheck < deadline ? recheck : deadline;
}

int u2c_channel_blocking_send(u2c_channel *ch, const canalMsg *msg, unsigned long timeout_ms)
{
    u8d_frame f;
    int code = frame_from_msg(ch, msg, &f);
    if (code != CANAL_ERROR_SUCCESS)
        return code;
    uint64_t deadline =
        timeout_ms == CANAL_BLOCK_FOREVER ? U2C_DEADLINE_NEVER : u2c_deadline_after_ms(timeout_ms);
    u2c_mutex_lock(&ch->lock);
    for (;;) {
        if (ch->closing || ch->gone) {
            code = u2c_channel_dead_code(ch);
            break;
        }
        if (u2c_tx_queue_push(&ch->txq, &f))
            break;
        if (deadline != U2C_DEADLINE_NEVER && u2c_now_ns() >= deadline) {
            code = u2c_fail(CANAL_ERROR_TIMEOUT,
                            "TX queue stayed full for %lu ms (%u frames wait for the adapter)",
                            timeout_ms, TX_QUEUE_CAPACITY);
            break;
        }
        ch->tx_waiters++;
        u2c_cond_wait_until(&ch->tx_cond, &ch->lock, recheck_deadline(deadline));
        ch->tx_waiters--;
    }
    u2c_mutex_unlock(&ch->lock);
    if (code == CANAL_ERROR_SUCCESS)
        ch->link->ops->kick_out(ch->link);
    return code;
}

int u2c_channel_on_next_out(void *ctx, uint8_t record[U8D_TX_RECORD_SIZE])
{
    u2c_channel *ch = ctx;
    u8d_frame f;
    for (;;) {
        u2c_mutex_lock(&ch->lock);
        bool have = u2c_tx_queue_pop(&ch->txq, &f);
        bool wake = false;
        if (have) {
            ch->tx_frames++;
            ch->tx_bytes += (f.flags & U8D_FLAG_RTR) ? 0 : f.dlc;
            wake = ch->tx_waiters > 0 &&
                   u2c_tx_queue_should_wake(u2c_tx_queue_count(&ch->txq), TX_QUEUE_CAPACITY);
        }
        u2c_mutex_unlock(&ch->lock);
        if (wake) /* after unlocking, as u2c_channel_on_in_packet */
            u2c_cond_broadcast(&ch->tx_cond);
        if (!have)
            return 0;
        /* frame_from_msg checked everything the encoder checks. */
        if (u8d_encode_tx(record, &f) == U8D_OK)
            return 1;
    }
}
