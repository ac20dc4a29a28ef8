/*
 * rx_ring.h — a fixed-capacity FIFO of received canalMsg records.
 *
 * Contract: all memory is allocated once by u2c_rx_ring_init; push and pop never
 * allocate and run in constant time. When the ring is full, push refuses the
 * new record (the newest is dropped, the order of the queued ones is kept)
 * and the caller counts the overrun. Not thread-safe: the owning channel
 * serialises every call under its lock.
 */
#ifndef USB2CAN_RX_RING_H
#define USB2CAN_RX_RING_H

#include <stdbool.h>
#include <stdint.h>

#include "canal.h"

typedef struct u2c_rx_ring {
    canalMsg *slots;
    uint32_t capacity;
    uint32_t head; /* next record to pop */
    uint32_t count;
} u2c_rx_ring;

/* Allocates room for capacity records (capacity >= 1); false when out of memory. */
bool u2c_rx_ring_init(u2c_rx_ring *r, uint32_t capacity);
void u2c_rx_ring_free(u2c_rx_ring *r);

/* Appends a copy of *m; false (and nothing changes) when the ring is full. */
bool u2c_rx_ring_push(u2c_rx_ring *r, const canalMsg *m);
/* Removes the oldest record into *out; false when the ring is empty. */
bool u2c_rx_ring_pop(u2c_rx_ring *r, canalMsg *out);

uint32_t u2c_rx_ring_count(const u2c_rx_ring *r);
bool u2c_rx_ring_full(const u2c_rx_ring *r);

#endif
