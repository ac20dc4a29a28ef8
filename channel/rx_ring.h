/*
 * rx_ring.h — a fixed-capacity FIFO of received canalMsg records.
 *
 * Contract: all memory is allocated once by rx_ring_init; push and pop never
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

typedef struct rx_ring {
    canalMsg *slots;
    uint32_t capacity;
    uint32_t head; /* next record to pop */
    uint32_t count;
} rx_ring;

/* Allocates room for capacity records (capacity >= 1); false when out of memory. */
bool rx_ring_init(rx_ring *r, uint32_t capacity);
void rx_ring_free(rx_ring *r);

/* Appends a copy of *m; false (and nothing changes) when the ring is full. */
bool rx_ring_push(rx_ring *r, const canalMsg *m);
/* Removes the oldest record into *out; false when the ring is empty. */
bool rx_ring_pop(rx_ring *r, canalMsg *out);

uint32_t rx_ring_count(const rx_ring *r);
bool rx_ring_full(const rx_ring *r);

#endif
