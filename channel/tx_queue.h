/*
 * tx_queue.h — the bounded FIFO between CanalSend and the link's OUT path.
 *
 * Contract: a fixed array of TX_QUEUE_CAPACITY frames inside the struct; no
 * allocation ever. Push refuses a frame when full (the caller reports
 * CANAL_ERROR_FIFO_FULL or waits); pop hands frames out in the order they
 * were pushed. Not thread-safe: the owning channel serialises every call.
 * u2c_tx_queue_should_wake is the channel's policy for waking senders blocked
 * on a full queue: a pure function of the fill level after a pop.
 */
#ifndef USB2CAN_TX_QUEUE_H
#define USB2CAN_TX_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "u8d_codec.h"

/* Same depth as the vendor DLL's TX list. */
#define TX_QUEUE_CAPACITY 1024u

/* Free slots a pop must leave before blocked senders are woken. Waking on
 * every frame that leaves costs one thread wake-up (several us of CPU) per
 * bus frame at a full bus; after 64 free slots a woken sender refills them
 * in one go, and 64 frames still cover 3-9 ms of a 1 Mbit/s bus, far more
 * than a sender needs to get scheduled. */
#define TX_WAKE_ROOM 64u

typedef struct u2c_tx_queue {
    u8d_frame frames[TX_QUEUE_CAPACITY];
    uint32_t head;
    uint32_t count;
} u2c_tx_queue;

void u2c_tx_queue_init(u2c_tx_queue *q);
bool u2c_tx_queue_push(u2c_tx_queue *q, const u8d_frame *f);
bool u2c_tx_queue_pop(u2c_tx_queue *q, u8d_frame *out);
uint32_t u2c_tx_queue_count(const u2c_tx_queue *q);
bool u2c_tx_queue_full(const u2c_tx_queue *q);
/* Whether a pop that left `count_after_pop` of `capacity` frames queued
 * should wake blocked senders: when at least TX_WAKE_ROOM slots are free,
 * or when the queue became empty (so a queue smaller than TX_WAKE_ROOM
 * still wakes them). */
bool u2c_tx_queue_should_wake(uint32_t count_after_pop, uint32_t capacity);

#endif
