/*
 * thread_slots.h — which of platform's opaque per-thread slots
 * (thread_state.h) the CANAL surface uses, and for what.
 *
 * Contract: each index names one slot, used by one module only, which
 * checks at compile time that its data fits U2C_THREAD_SLOT_BYTES.
 */
#ifndef USB2CAN_THREAD_SLOTS_H
#define USB2CAN_THREAD_SLOTS_H

#include "thread_state.h"

/* wait_policy.c: the thread's last bounded receive. */
#define U2C_SLOT_WAIT_POLICY 0u
/* canal_api.c: the thread's CanalGetVendorString text. */
#define U2C_SLOT_VENDOR_STRING 1u

#endif
