#include "handles.h"

#include <stddef.h>

void u2c_handles_init(u2c_handle_table *t)
{
    u2c_mutex_init(&t->lock);
    u2c_cond_init(&t->drained);
    t->next_handle = U2C_HANDLE_FIRST;
    t->wrapped = false;
    t->next_seq = 1;
    for (int i = 0; i < U2C_HANDLE_SLOTS; i++)
        t->slots[i] = (u2c_handle_slot){0};
}

void u2c_handles_destroy(u2c_handle_table *t)
{
    u2c_cond_destroy(&t->drained);
    u2c_mutex_destroy(&t->lock);
}

/* Lock held. The slot holding exactly this number, whatever its state. */
static u2c_handle_slot *slot_of(u2c_handle_table *t, long handle)
{
    if (handle < U2C_HANDLE_FIRST)
        return NULL;
    for (int i = 0; i < U2C_HANDLE_SLOTS; i++)
        if (t->slots[i].state != U2C_SLOT_FREE && t->slots[i].handle == handle)
            return &t->slots[i];
    return NULL;
}

/* Lock held. The slot of a reservation, if it is still reserved. */
static u2c_handle_slot *reserved_slot(u2c_handle_table *t, int reservation)
{
    if (reservation < 1 || reservation > U2C_HANDLE_SLOTS)
        return NULL;
    u2c_handle_slot *s = &t->slots[reservation - 1];
    return s->state == U2C_SLOT_RESERVED ? s : NULL;
}

/* Lock held. Whether handle was ever handed out by this table. */
static bool was_issued(const u2c_handle_table *t, long handle)
{
    if (handle < U2C_HANDLE_FIRST || handle > U2C_HANDLE_LAST)
        return false;
    return t->wrapped || handle < t->next_handle;
}

/* Lock held. The next number no slot uses; the counter wraps to the first. */
static long take_number(u2c_handle_table *t)
{
    for (;;) {
        long candidate = t->next_handle;
        if (candidate == U2C_HANDLE_LAST) {
            t->next_handle = U2C_HANDLE_FIRST;
            t->wrapped = true;
        } else {
            t->next_handle = candidate + 1;
        }
        if (!slot_of(t, candidate))
            return candidate;
    }
}

int u2c_handles_reserve(u2c_handle_table *t)
{
    int reservation = 0;
    u2c_mutex_lock(&t->lock);
    for (int i = 0; i < U2C_HANDLE_SLOTS; i++) {
        if (t->slots[i].state == U2C_SLOT_FREE) {
            t->slots[i] = (u2c_handle_slot){.state = U2C_SLOT_RESERVED};
            reservation = i + 1;
            break;
        }
    }
    u2c_mutex_unlock(&t->lock);
    return reservation;
}

long u2c_handles_publish(u2c_handle_table *t, int reservation, void *obj)
{
    long handle = 0;
    u2c_mutex_lock(&t->lock);
    u2c_handle_slot *s = reserved_slot(t, reservation);
    if (s) {
        handle = take_number(t);
        s->handle = handle;
        s->obj = obj;
        s->opened_seq = t->next_seq++;
        s->state = U2C_SLOT_LIVE;
    }
    u2c_mutex_unlock(&t->lock);
    return handle;
}

void u2c_handles_cancel(u2c_handle_table *t, int reservation)
{
    u2c_mutex_lock(&t->lock);
    u2c_handle_slot *s = reserved_slot(t, reservation);
    if (s)
        *s = (u2c_handle_slot){0};
    u2c_mutex_unlock(&t->lock);
}

/* Lock held. */
static u2c_lookup_miss miss_of(const u2c_handle_table *t, const u2c_handle_slot *s, long handle)
{
    if (s)
        return U2C_MISS_CLOSING; /* the only state a found, non-live slot can be in */
    return was_issued(t, handle) ? U2C_MISS_CLOSED : U2C_MISS_UNKNOWN;
}

void *u2c_handles_acquire(u2c_handle_table *t, long handle, u2c_lookup_miss *miss)
{
    void *obj = NULL;
    u2c_mutex_lock(&t->lock);
    u2c_handle_slot *s = slot_of(t, handle);
    if (s && s->state == U2C_SLOT_LIVE) {
        s->users++;
        obj = s->obj;
    } else if (miss) {
        *miss = miss_of(t, s, handle);
    }
    u2c_mutex_unlock(&t->lock);
    return obj;
}

void u2c_handles_release(u2c_handle_table *t, long handle)
{
    u2c_mutex_lock(&t->lock);
    u2c_handle_slot *s = slot_of(t, handle);
    if (s && s->users > 0) {
        s->users--;
        if (s->users == 0 && s->state == U2C_SLOT_CLOSING)
            u2c_cond_broadcast(&t->drained);
    }
    u2c_mutex_unlock(&t->lock);
}

void *u2c_handles_begin_remove(u2c_handle_table *t, long handle, u2c_lookup_miss *miss)
{
    void *obj = NULL;
    u2c_mutex_lock(&t->lock);
    u2c_handle_slot *s = slot_of(t, handle);
    if (s && s->state == U2C_SLOT_LIVE) {
        s->state = U2C_SLOT_CLOSING;
        obj = s->obj;
    } else if (miss) {
        *miss = miss_of(t, s, handle);
    }
    u2c_mutex_unlock(&t->lock);
    return obj;
}

void *u2c_handles_begin_remove_unused(u2c_handle_table *t, long handle, bool *in_use)
{
    void *obj = NULL;
    *in_use = false;
    u2c_mutex_lock(&t->lock);
    u2c_handle_slot *s = slot_of(t, handle);
    if (s && s->state == U2C_SLOT_LIVE) {
        if (s->users == 0) {
            s->state = U2C_SLOT_CLOSING;
            obj = s->obj;
        } else {
            *in_use = true;
        }
    }
    u2c_mutex_unlock(&t->lock);
    return obj;
}

bool u2c_handles_wait_unused_until(u2c_handle_table *t, long handle, uint64_t deadline_ns)
{
    bool unused = true;
    u2c_mutex_lock(&t->lock);
    u2c_handle_slot *s = slot_of(t, handle);
    while (s && s->state == U2C_SLOT_CLOSING && s->users > 0) {
        if (!u2c_cond_wait_until(&t->drained, &t->lock, deadline_ns)) {
            unused = s->users == 0;
            break;
        }
    }
    u2c_mutex_unlock(&t->lock);
    return unused;
}

void u2c_handles_wait_unused(u2c_handle_table *t, long handle)
{
    (void)u2c_handles_wait_unused_until(t, handle, U2C_DEADLINE_NEVER);
}

void u2c_handles_forget(u2c_handle_table *t, long handle)
{
    u2c_mutex_lock(&t->lock);
    u2c_handle_slot *s = slot_of(t, handle);
    if (s && s->state == U2C_SLOT_CLOSING && s->users == 0) {
        *s = (u2c_handle_slot){0};
        u2c_cond_broadcast(&t->drained);
    }
    u2c_mutex_unlock(&t->lock);
}

void u2c_handles_wait_closed(u2c_handle_table *t, long handle)
{
    u2c_mutex_lock(&t->lock);
    while (slot_of(t, handle) != NULL)
        u2c_cond_wait_until(&t->drained, &t->lock, U2C_DEADLINE_NEVER);
    u2c_mutex_unlock(&t->lock);
}

long u2c_handles_latest(u2c_handle_table *t)
{
    long handle = 0;
    uint64_t best = 0;
    u2c_mutex_lock(&t->lock);
    for (int i = 0; i < U2C_HANDLE_SLOTS; i++) {
        const u2c_handle_slot *s = &t->slots[i];
        if (s->state == U2C_SLOT_LIVE && s->opened_seq > best) {
            best = s->opened_seq;
            handle = s->handle;
        }
    }
    u2c_mutex_unlock(&t->lock);
    return handle;
}

int u2c_handles_in_use(u2c_handle_table *t)
{
    int n = 0;
    u2c_mutex_lock(&t->lock);
    for (int i = 0; i < U2C_HANDLE_SLOTS; i++)
        n += t->slots[i].state != U2C_SLOT_FREE;
    u2c_mutex_unlock(&t->lock);
    return n;
}

int u2c_handles_live(u2c_handle_table *t, long *out, int max)
{
    int n = 0;
    u2c_mutex_lock(&t->lock);
    for (int i = 0; i < U2C_HANDLE_SLOTS && n < max; i++)
        if (t->slots[i].state == U2C_SLOT_LIVE)
            out[n++] = t->slots[i].handle;
    u2c_mutex_unlock(&t->lock);
    return n;
}
