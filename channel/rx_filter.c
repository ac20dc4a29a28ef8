#include "rx_filter.h"

#include <stdio.h>

#include "usb2can.h"

/* Bits of a CanalSetFilters pair that take part in matching. */
#define PAIR_BITS (RX_FILTER_KEY_EXT | USB2CAN_EXT_ID_MAX)

void rx_filter_init(rx_filter *f)
{
    f->filter = 0;
    f->mask = 0;
    f->pair_count = 0;
}

bool rx_filter_set_pairs(rx_filter *f, unsigned long value_count, const unsigned long *values,
                         char *reason, size_t reason_size)
{
    if (value_count > 0 && !values) {
        snprintf(reason, reason_size, "CanalSetFilters: %lu values announced but the array is NULL",
                 value_count);
        return false;
    }
    if (value_count % 2 != 0) {
        snprintf(reason, reason_size,
                 "CanalSetFilters: %lu values is odd; the array holds (id, mask) pairs",
                 value_count);
        return false;
    }
    if (value_count / 2 > RX_FILTER_MAX_PAIRS) {
        snprintf(reason, reason_size, "CanalSetFilters: %lu filters, at most %u are supported",
                 value_count / 2, RX_FILTER_MAX_PAIRS);
        return false;
    }
    f->pair_count = (uint32_t)(value_count / 2);
    for (uint32_t i = 0; i < f->pair_count; i++) {
        f->pair_id[i] = (uint32_t)values[2 * i] & PAIR_BITS;
        f->pair_mask[i] = (uint32_t)values[2 * i + 1] & PAIR_BITS;
    }
    return true;
}

static bool pair_list_accepts(const rx_filter *f, uint32_t id, bool extended)
{
    if (f->pair_count == 0)
        return true;
    uint32_t key = (id & USB2CAN_EXT_ID_MAX) | (extended ? RX_FILTER_KEY_EXT : 0);
    for (uint32_t i = 0; i < f->pair_count; i++)
        if (((key ^ f->pair_id[i]) & f->pair_mask[i]) == 0)
            return true;
    return false;
}

bool rx_filter_accepts(const rx_filter *f, uint32_t id, bool extended, bool remote)
{
    return rx_filter_mask_accepts(f->mask, f->filter, id, extended, remote) &&
           pair_list_accepts(f, id, extended);
}

bool rx_filter_mask_accepts(uint32_t mask, uint32_t filter, uint32_t id, bool extended, bool rtr)
{
    uint32_t key =
        extended ? ((id & USB2CAN_EXT_ID_MAX) | RX_FILTER_KEY_EXT) : (id & USB2CAN_STD_ID_MAX);
    if (rtr)
        key |= RX_FILTER_KEY_RTR;
    return ((key ^ filter) & mask) == 0;
}
