/*
 * channel_setup.h — everything a channel is opened with: the adapter's
 * serial, the bit timing, the CANAL filter and the RX ring's size.
 *
 * Contract: a plain value type. canal/cfg_parse.c fills it from a CanalOpen
 * setup string; u2c_channel_open reads it and keeps a copy. Bit rates come
 * from u8d_bittiming_for_kbps (or literal manual timing); mask and filter
 * follow rx_filter_mask_accepts.
 */
#ifndef USB2CAN_CHANNEL_SETUP_H
#define USB2CAN_CHANNEL_SETUP_H

#include <stdbool.h>
#include <stdint.h>

#include "u8d_codec.h"
#include "usb2can.h"

/* Plain numbers: the driver-info XML spells them. */
#define U2C_RX_CAPACITY_DEFAULT 4096
#define U2C_RX_CAPACITY_MIN 64
#define U2C_RX_CAPACITY_MAX 1048576
#define U2C_BUSOFF_RESTART_MAX_MS 60000
#define U2C_ERROR_FLAGS_MAX 1000000

/* A remote bus: 16 characters of bus name, '@', 63 of host, ':' and 5 of port. */
#define U2C_REMOTE_MAX 86

typedef struct u2c_setup {
    char serial[USB2CAN_SERIAL_MAX + 1]; /* upper-cased; "" = the only adapter */
    char remote[U2C_REMOTE_MAX + 1];     /* "BUS@HOST[:PORT]" as given, or "" (a local adapter) */
    uint32_t bitrate;                    /* bit/s actually configured */
    uint32_t bitrate_error_ppm;          /* |configured - requested| / requested; 0 for kbps 0 */
    u8d_bittiming timing;                /* what OPEN sends */
    bool manual_timing;                  /* kbps was 0 */
    uint32_t kbps;                       /* as requested (0: manual timing, or not known) */
    bool has_filter;                     /* mask;filter given */
    uint32_t mask;                       /* see rx_filter_mask_accepts */
    uint32_t filter;
    uint32_t rx_capacity; /* frames in the RX ring (rxqueue=N) */
    /* busoff=auto:N: re-open the controller N ms after it reported bus-off
     * (0 = never, the default: bus-off lasts until the program acts). */
    uint32_t busoff_restart_ms;
    /* errorframes=N, virtual adapters only: the adapter's model destroys
     * every N-th frame on the bus (u8d_model_set_error_flags); 0 = off. */
    uint32_t virtual_error_flags;
    char location[32]; /* USB port path "1-4.2" (location=...); "" = any */
} u2c_setup;

#endif
