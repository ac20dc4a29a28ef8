/*
 * rx_filter.h — the software acceptance filter applied to received frames.
 *
 * Contract: a pure value type; no allocation, no locking (the channel holds
 * its lock around every call). A frame is described by a 32-bit key:
 *   bits 0..28  the identifier (11 or 29 bits)
 *   bit 31      set for an extended (29-bit) frame   (RX_FILTER_KEY_EXT)
 *   bit 30      set for a remote frame               (RX_FILTER_KEY_RTR)
 * Two stages, both must accept:
 * 1. The CANAL filter/mask (CanalSetFilter, CanalSetMask, `;mask;filter` in
 *    the setup string): rx_filter_mask_accepts, i.e. accept when
 *    ((key ^ filter) & mask) == 0. A set mask bit means "this bit must equal
 *    the filter's bit"; mask 0 accepts all.
 * 2. The list from 8devices' CanalSetFilters: an array of values read as
 *    (id, mask) pairs; a frame passes if any pair accepts it with the same
 *    rule, where only bits 0..28 and bit 31 (extended) take part. An empty
 *    list accepts all.
 * Status messages never reach the filter.
 */
#ifndef USB2CAN_RX_FILTER_H
#define USB2CAN_RX_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RX_FILTER_KEY_EXT 0x80000000u
#define RX_FILTER_KEY_RTR 0x40000000u
#define RX_FILTER_MAX_PAIRS 64u

typedef struct rx_filter {
    uint32_t filter;
    uint32_t mask;
    uint32_t pair_count;
    uint32_t pair_id[RX_FILTER_MAX_PAIRS];
    uint32_t pair_mask[RX_FILTER_MAX_PAIRS];
} rx_filter;

/* Accepts everything. */
void rx_filter_init(rx_filter *f);

/* Replaces the (id, mask) list with value_count values (2 per pair; 0 clears
 * the list). False with a reason, and the list unchanged, when value_count
 * is odd, values is NULL while value_count > 0, or there are too many pairs. */
bool rx_filter_set_pairs(rx_filter *f, unsigned long value_count, const unsigned long *values,
                         char *reason, size_t reason_size);

bool rx_filter_accepts(const rx_filter *f, uint32_t id, bool extended, bool remote);

/*
 * The CANAL acceptance rule (the vendor DLL's doFilter, as it was meant):
 * key = id (11 bits for standard, 29 for extended frames)
 *       | RX_FILTER_KEY_EXT if extended | RX_FILTER_KEY_RTR if remote;
 * a frame passes when ((key ^ filter) & mask) == 0. Mask 0 passes everything;
 * a mask bit set means "this bit must equal the filter's". Status messages
 * (CANAL_IDFLAG_STATUS) are not CAN frames and are not filtered.
 */
bool rx_filter_mask_accepts(uint32_t mask, uint32_t filter, uint32_t id, bool extended, bool rtr);

#endif
