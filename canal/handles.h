/*
 * handles.h — CANAL handle numbers mapped to open channels.
 *
 * Contract: a table of U2C_HANDLE_SLOTS slots behind one lock. An open
 * reserves a slot first (u2c_handles_reserve) and gets its number only when
 * it succeeds (u2c_handles_publish): numbers start at U2C_HANDLE_FIRST (the
 * vendor's first handle), grow by one per successful open, and are not
 * handed out again until the counter wraps at U2C_HANDLE_LAST, and never
 * while still in use. So the numbers issued so far are exactly
 * U2C_HANDLE_FIRST .. next - 1 (all of them once the counter has wrapped),
 * and the table tells a handle that was closed (issued, not in use) from
 * one never issued. Lookups compare the exact number, so a closed or
 * invented handle is never mistaken for a live one. Every lookup (acquire)
 * counts a user of the object. Removal takes three steps: begin_remove
 * makes the handle unknown to new lookups and returns the object (the
 * caller then wakes its blocked users); wait_unused returns once the last
 * user has released it, so the caller may free the object; forget frees the
 * slot (the slot stays taken until then, so the table never counts more
 * objects than it holds) and wakes anyone in wait_closed.
 */
#ifndef USB2CAN_HANDLES_H
#define USB2CAN_HANDLES_H

#include <stdbool.h>
#include <stdint.h>

#include "osal.h"

#define U2C_HANDLE_FIRST 1681L
#define U2C_HANDLE_LAST 0x7FFFFFFFL
#define U2C_HANDLE_SLOTS 32

typedef enum u2c_slot_state {
    U2C_SLOT_FREE = 0,
    U2C_SLOT_RESERVED, /* taken by an open in progress; no number yet */
    U2C_SLOT_LIVE,
    U2C_SLOT_CLOSING, /* unknown to lookups, waiting for its users to leave */
} u2c_slot_state;

typedef struct u2c_handle_slot {
    long handle; /* 0 while reserved */
    void *obj;
    unsigned users;
    uint64_t opened_seq; /* order of publication, for "most recent" */
    u2c_slot_state state;
} u2c_handle_slot;

typedef struct u2c_handle_table {
    u2c_mutex lock;
    u2c_cond drained; /* a closing slot lost its last user, or a slot was forgotten */
    long next_handle;
    bool wrapped; /* every number in FIRST..LAST has been issued once */
    uint64_t next_seq;
    u2c_handle_slot slots[U2C_HANDLE_SLOTS];
} u2c_handle_table;

/* Why a lookup failed. */
typedef enum u2c_lookup_miss {
    U2C_MISS_UNKNOWN, /* never issued by this table */
    U2C_MISS_CLOSED,  /* issued, and closed since */
    U2C_MISS_CLOSING, /* being closed right now */
} u2c_lookup_miss;

void u2c_handles_init(u2c_handle_table *t);
void u2c_handles_destroy(u2c_handle_table *t);

/* Takes a slot for an object still being opened: a reservation (> 0), or 0
 * when every slot is used. */
int u2c_handles_reserve(u2c_handle_table *t);
/* Numbers a reservation and makes it usable; returns its handle. */
long u2c_handles_publish(u2c_handle_table *t, int reservation, void *obj);
/* Gives a reservation back after a failed open (no number is used up). */
void u2c_handles_cancel(u2c_handle_table *t, int reservation);

/* The live object behind handle, with one more user; NULL (and *miss says
 * why, when miss is not NULL) otherwise. Pair with u2c_handles_release. */
void *u2c_handles_acquire(u2c_handle_table *t, long handle, u2c_lookup_miss *miss);
void u2c_handles_release(u2c_handle_table *t, long handle);

/* Close, step 1: the handle stops resolving; returns its object, or NULL
 * when the handle is not live (*miss says why). */
void *u2c_handles_begin_remove(u2c_handle_table *t, long handle, u2c_lookup_miss *miss);
/* Close, step 1, only for a handle no call is using (unloading): as
 * begin_remove when the handle is live and has no user; NULL otherwise,
 * with *in_use true when it is live but a call is inside. */
void *u2c_handles_begin_remove_unused(u2c_handle_table *t, long handle, bool *in_use);
/* Close, step 2: waits until no user holds the handle any more. */
void u2c_handles_wait_unused(u2c_handle_table *t, long handle);
/* The same with a deadline on u2c_now_ns: false if users remain then. */
bool u2c_handles_wait_unused_until(u2c_handle_table *t, long handle, uint64_t deadline_ns);
/* Close, step 3 (after the object is freed): the slot becomes free. */
void u2c_handles_forget(u2c_handle_table *t, long handle);
/* Waits until a handle another thread is closing has been forgotten. */
void u2c_handles_wait_closed(u2c_handle_table *t, long handle);

/* The most recently published live handle, or 0 when none is live. */
long u2c_handles_latest(u2c_handle_table *t);
/* Slots not free (live, opening or closing). */
int u2c_handles_in_use(u2c_handle_table *t);
/* Copies up to max live handles into out; returns how many it copied. */
int u2c_handles_live(u2c_handle_table *t, long *out, int max);

#endif
