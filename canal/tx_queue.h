/*
 * tx_queue.h — the bounded FIFO between CanalSend and the link's OUT path.
 *
 * Contract: a fixed array of TX_QUEUE_CAPACITY frames inside the struct; no
 * allocation ever. Push refuses a frame when full (the caller reports
 * CANAL_ERROR_FIFO_FULL or waits); pop hands frames out in the order they
 * were pushed. Not thread-safe: the owning channel serialises every call.
 */
#ifndef USB2CAN_TX_QUEUE_H
#define USB2CAN_TX_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "u8d_codec.h"

/* Same depth as the vendor DLL's TX list. */
#define TX_QUEUE_CAPACITY 1024u

typedef struct tx_queue {
    u8d_frame frames[TX_QUEUE_CAPACITY];
    uint32_t head;
    uint32_t count;
} tx_queue;

void tx_queue_init(tx_queue *q);
bool tx_queue_push(tx_queue *q, const u8d_frame *f);
bool tx_queue_pop(tx_queue *q, u8d_frame *out);
uint32_t tx_queue_count(const tx_queue *q);
bool tx_queue_full(const tx_queue *q);

#endif
