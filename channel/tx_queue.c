#include "tx_queue.h"

void u2c_tx_queue_init(u2c_tx_queue *q)
{
    q->head = 0;
    q->count = 0;
}

bool u2c_tx_queue_push(u2c_tx_queue *q, const u8d_frame *f)
{
    if (q->count == TX_QUEUE_CAPACITY)
        return false;
    q->frames[(q->head + q->count) % TX_QUEUE_CAPACITY] = *f;
    q->count++;
    return true;
}

bool u2c_tx_queue_pop(u2c_tx_queue *q, u8d_frame *out)
{
    if (q->count == 0)
        return false;
    *out = q->frames[q->head];
    q->head = (q->head + 1) % TX_QUEUE_CAPACITY;
    q->count--;
    return true;
}

uint32_t u2c_tx_queue_count(const u2c_tx_queue *q)
{
    return q->count;
}

bool u2c_tx_queue_full(const u2c_tx_queue *q)
{
    return q->count == TX_QUEUE_CAPACITY;
}

bool u2c_tx_queue_should_wake(uint32_t count_after_pop, uint32_t capacity)
{
    if (count_after_pop == 0)
        return true;
    return count_after_pop <= capacity && capacity - count_after_pop >= TX_WAKE_ROOM;
}
