/*
 * bench_device.h — the simulated hardware of the soak benchmarks: a paced
 * 1 Mbit/s virtual CAN bus (sim_rig.h, VBUS_PACED) with two device models,
 * the adapter under test (DUT, whose USB face the host drives) and a peer
 * node that generates the RX stream and checks the TX stream.
 *
 * Contract: no threads, no locks (the owner serialises every call), no
 * allocation after bdev_create. Time is simulated in nanoseconds and follows
 * real time through bdev_advance(now): every bus event up to `now` runs at
 * its exact bus time, and after each one the owner's pump (if any) moves
 * the DUT's OUT records and IN packets, so an IN packet is ready at the bus
 * time its frame ended, as on hardware. The USB calls (bdev_command,
 * bdev_out, bdev_in) act at the current simulated time.
 * The peer alternates with the DUT: it offers its next frame (sequence
 * numbered, bench_common.h stream RX) only when the DUT has sent as many
 * frames as it has, and it always wins arbitration, so the bus stays 100 %
 * busy exactly as long as the host keeps the DUT's TX queue filled.
 */
#ifndef USB2CAN_BENCH_DEVICE_H
#define USB2CAN_BENCH_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench_common.h"
#include "sim_rig.h"

typedef struct bdev {
    sim_rig world; /* the bus, the adapter under test (dut) and the peer */
    const bench_profile *profile;
    uint64_t sim_now;
    bool generating;        /* the peer offers frames */
    uint64_t peer_offered;  /* RX stream frames handed to the peer */
    uint64_t peer_sent;     /* acknowledged on the bus */
    uint64_t dut_sent;      /* TX stream frames acknowledged on the bus */
    uint64_t error_frames;  /* failed attempts (must stay 0) */
    uint64_t in_packets;    /* DUT IN packets taken by the host */
    uint64_t in_records[4]; /* ... holding 0..3 records */
    bench_checker tx_check; /* what the peer received from the host */
} bdev;

/* Something to run on a device under its owner's lock. */
typedef void (*bench_dev_fn)(bdev *d, void *ctx);

/* The peer is open at 1 Mbit/s; the DUT waits for the host's OPEN. */
bdev *bdev_create(const bench_profile *p, uint64_t now_ns);
void bdev_destroy(bdev *d);

/* The DUT's USB face at the simulated time. */
size_t bdev_command(bdev *d, const uint8_t *request, size_t len, uint8_t reply[U8D_CMD_SIZE]);
u8d_model_out bdev_out(bdev *d, const uint8_t *record, size_t len);
size_t bdev_in(bdev *d, uint8_t packet[U8D_IN_PACKET_MAX]);

/* Runs the bus up to now_ns, calling pump(ctx, d) after every event (and
 * once at the start). Returns the time of the next bus event, UINT64_MAX
 * when the bus is idle. */
typedef void (*bdev_pump_fn)(void *ctx, bdev *d);
uint64_t bdev_advance(bdev *d, uint64_t now_ns, bdev_pump_fn pump, void *ctx);

#endif
