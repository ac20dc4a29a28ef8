/*
 * clock_map.h — maps the adapter's timestamps to host wall-clock time,
 * correcting for the rate difference between the adapter's crystal and the
 * host's clock (±100 ppm is 6 ms per minute).
 *
 * How: each frame pairs its device time d (CANAL timestamp, microseconds
 * from the device clock, extended across the 32-bit wrap of a Windows
 * unsigned long) with the host time h it was received. h - d is the
 * clock offset plus a delivery latency that is never negative, so the
 * smallest values (the lower envelope) follow the true offset. The map
 * keeps the smallest h - d of each block of 2 s of device time for the last
 * 32 blocks; the least-squares slope through these points is the rate
 * difference, and the line with that slope under every point, touching the
 * lowest, is the offset. A frame's host time is
 * d + offset(d) + half a device tick (the device stamps the tick at or
 * before reception). Until two blocks are complete the rate is taken as 0.
 *
 * Error bound (docs/recording.md): half a device tick (0.5 ms) + the
 * smallest delivery latency seen (USB: up to about 1 ms; virtual adapters:
 * microseconds) + rate error × 64 s (1 ppm: 64 µs); in the first 4 s also the
 * uncorrected drift (0.4 ms at 100 ppm) and the latency of the first frames.
 *
 * Contract: pure, no allocation, no clock of its own: times come from the
 * caller. Mapped times never decrease. A jump of the offset by more than a
 * second (a re-opened device, a host clock step) restarts the estimate.
 */
#ifndef USB2CAN_CLOCK_MAP_H
#define USB2CAN_CLOCK_MAP_H

#include <stdbool.h>
#include <stdint.h>

#define U2C_CLOCK_MAP_BLOCKS 32
#define U2C_CLOCK_MAP_BLOCK_US 2000000

typedef struct u2c_clock_point {
    int64_t device_us;
    int64_t offset_us; /* host - device */
} u2c_clock_point;

typedef struct u2c_clock_map {
    int64_t half_tick_us;
    bool started;
    unsigned long last_raw;
    int64_t device_us;
    u2c_clock_point blocks[U2C_CLOCK_MAP_BLOCKS]; /* completed blocks' lowest points, ring */
    unsigned block_count;
    unsigned block_head; /* the oldest */
    u2c_clock_point current;
    int64_t current_start_us;
    double rate; /* d(offset)/d(device): -1e-4 for an adapter 100 ppm fast */
    u2c_clock_point reference;
    int64_t last_out_us;
    bool have_out;
    unsigned long restarts;
} u2c_clock_map;

/* tick_us: the resolution of the device's timestamps (992 for the vendor
 * firmware, 1000 for CANalyze). */
void u2c_clock_map_init(u2c_clock_map *m, int64_t tick_us);

/* A CAN frame's host time: observe, then host_time. */
int64_t u2c_clock_map_frame(u2c_clock_map *m, unsigned long device_us, int64_t host_us);
/* Feeds a frame to the estimate; returns its device time, extended across the wrap. */
int64_t u2c_clock_map_observe(u2c_clock_map *m, unsigned long device_us, int64_t host_us);
/* The host time of an observed frame (device_time from observe) with the
 * estimate as it is now: a caller may hold frames back and map them once
 * the estimate has seen what followed (the first second of a recording). */
int64_t u2c_clock_map_host_time(u2c_clock_map *m, int64_t device_time, int64_t host_us);

/* An event without a device time of its own (a status message): its host
 * receive time, never before the previous result. */
int64_t u2c_clock_map_event(u2c_clock_map *m, int64_t host_us);

/* The adapter's clock rate relative to the host's, in ppm (positive: fast). */
double u2c_clock_map_drift_ppm(const u2c_clock_map *m);

#endif
