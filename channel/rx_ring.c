#include "rx_ring.h"

#include <stdlib.h>

bool u2c_rx_ring_init(u2c_rx_ring *r, uint32_t capacity)
{
    r->head = 0;
    r->count = 0;
    r->capacity = 0;
    r->slots = capacity ? calloc(capacity, sizeof *r->slots) : NULL;
    if (!r->slots)
        return false;
    r->capacity = capacity;
    return true;
}

void u2c_rx_ring_free(u2c_rx_ring *r)
{
    free(r->slots);
    r->slots = NULL;
    r->capacity = 0;
    r->head = 0;
    r->count = 0;
}

bool u2c_rx_ring_push(u2c_rx_ring *r, const canalMsg *m)
{
    if (r->count == r->capacity)
        return false;
    uint32_t tail = r->head + r->count;
    if (tail >= r->capacity)
        tail -= r->capacity;
    r->slots[tail] = *m;
    r->count++;
    return true;
}

bool u2c_rx_ring_pop(u2c_rx_ring *r, canalMsg *out)
{
    if (r->count == 0)
        return false;
    *out = r->slots[r->head];
    r->head = r->head + 1 == r->capacity ? 0 : r->head + 1;
    r->count--;
    return true;
}

uint32_t u2c_rx_ring_count(const u2c_rx_ring *r)
{
    return r->count;
}

bool u2c_rx_ring_full(const u2c_rx_ring *r)
{
    return r->count == r->capacity;
}
