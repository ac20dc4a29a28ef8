/*
 * handles.h — CANAL handle numbers mapped to open channels.
 *
 * Contract: a table of U2C_HANDLE_SLOTS slots behind one lock. Handle numbers
 * start at U2C_HANDLE_FIRST (the vendor's first handle) and grow by one per
 * open; a number is not handed out again until the counter wraps at
 * U2C_HANDLE_LAST, and never while it is still in use. Lookups compare the
 * exact number, so a closed or invented handle is never mistaken for a live
 * one. Every lookup (acquire) counts a user of the object. Removal takes
 * three steps: begin_remove makes the handle unknown to new lookups and
 * returns the object (the caller then wakes its blocked users);
 * wait_unused returns once the last user has released it, so the caller may
 * free the object; forget frees the slot (the slot stays taken until then,
 * so the table never counts more objects than it holds).
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
    U2C_SLOT_RESERVED, /* number taken, object still being opened */
    U2C_SLOT_LIVE,
    U2C_SLOT_CLOSING, /* unknown to lookups, waiting for its users to leave */
} u2c_slot_state;

typedef struct u2c_handle_slot {
    long handle;
    void *obj;
    unsigned users;
    uint64_t opened_seq; /* order of publication, for "most recent" */
    u2c_slot_state state;
} u2c_handle_slot;

typedef struct u2c_handle_table {
    u2c_mutex lock;
    u2c_cond drained;
    long next_handle;
    uint64_t next_seq;
    u2c_handle_slot slots[U2C_HANDLE_SLOTS];
} u2c_handle_table;

/* Why a lookup failed. */
typedef enum u2c_lookup_miss {
    U2C_MISS_UNKNOWN, /* never handed out, or closed */
    U2C_MISS_CLOSING, /* being closed right now */
    U2C_MISS_OPENING, /* still being opened by CanalOpen */
} u2c_lookup_miss;

void u2c_handles_init(u2c_handle_table *t);
void u2c_handles_destroy(u2c_handle_table *t);

/* Takes a number for an object still being opened; 0 when every slot is used. */
long u2c_handles_reserve(u2c_handle_table *t);
/* Makes a reserved handle usable. */
void u2c_handles_publish(u2c_handle_table *t, long handle, void *obj);
/* Gives a reserved number back after a failed open. */
void u2c_handles_cancel(u2c_handle_table *t, long handle);

/* The live object behind handle, with one more user; NULL (and *miss says
 * why, when miss is not NULL) otherwise. Pair with u2c_handles_release. */
void *u2c_handles_acquire(u2c_handle_table *t, long handle, u2c_lookup_miss *miss);
void u2c_handles_release(u2c_handle_table *t, long handle);

/* Close, step 1: the handle stops resolving; returns its object, or NULL
 * when the handle is not live (*miss says why). */
void *u2c_handles_begin_remove(u2c_handle_table *t, long handle, u2c_lookup_miss *miss);
/* Close, step 2: waits until no user holds the handle any more. */
void u2c_handles_wait_unused(u2c_handle_table *t, long handle);
/* Close, step 3 (after the object is freed): the slot becomes free. */
void u2c_handles_forget(u2c_handle_table *t, long handle);

/* The most recently published live handle, or 0 when none is live. */
long u2c_handles_latest(u2c_handle_table *t);
/* Slots not free (live, opening or closing). */
int u2c_handles_in_use(u2c_handle_table *t);

#endif
