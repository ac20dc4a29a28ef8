/*
 * bench_link.h — two links (link.h) that the benchmarks install through
 * u2c_link_set_factory, so CanalOpen("BENCH;1000") reaches them and the
 * whole CANAL surface (handles, channel, ring, queue) is measured.
 *
 * Contract:
 * - bench_link_offer hands one created link to the factory; the next
 *   CanalOpen of serial "BENCH" takes it (and the channel owns it from then
 *   on: CanalClose destroys it). Opening "BENCH" with nothing offered fails
 *   with a reason; other serials open as usual.
 * - Direct link: no threads. The benchmark's thread plays the USB host
 *   controller: bench_direct_inject hands an IN packet to the channel as an
 *   IN completion would, and kick_out (inside CanalSend) pulls every queued
 *   record at once and passes each to the on_out callback. Commands are
 *   answered by a device model (vendor fw 1.7).
 * - Paced link: the simulated hardware of bench_device.h, run in real time
 *   by a device thread, and a host event thread that plays libusb's: it
 *   delivers IN packets (up to BENCH_IN_URBS in flight) to the channel and
 *   refills up to BENCH_OUT_URBS OUT records as they complete. CanalSend's
 *   kick_out fills free OUT slots on the caller's thread, as the libusb link
 *   does. Sink callbacks never run after stop() returns. The device
 *   thread's CPU time is the simulated device's, metered separately from
 *   the host's (event thread included). The device thread asks for
 *   real-time priority: real hardware does not wait for the host's CPU.
 */
#ifndef USB2CAN_BENCH_LINK_H
#define USB2CAN_BENCH_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench_common.h"
#include "bench_device.h"
#include "link_libusb.h"
#include "link_open.h"

/* The host keeps as many transfers in flight as the libusb link does. */
#define BENCH_IN_URBS U2C_LIBUSB_RX_TRANSFERS
#define BENCH_OUT_URBS U2C_LIBUSB_TX_TRANSFERS

void bench_link_offer(u2c_link *link);

typedef void (*bench_out_fn)(void *ctx, const uint8_t record[U8D_TX_RECORD_SIZE]);

typedef struct bench_direct bench_direct;
bench_direct *bench_direct_create(bench_out_fn on_out, void *ctx);
u2c_link *bench_direct_link(bench_direct *l);
void bench_direct_inject(bench_direct *l, const uint8_t *packet, size_t len);

typedef struct bench_paced bench_paced;
/* Takes ownership of d; starts the device and host threads. */
bench_paced *bench_paced_create(bdev *d);
u2c_link *bench_paced_link(bench_paced *l);
/* Runs fn on the device under the link's lock (start/stop generating, read counters). */
void bench_paced_with_device(bench_paced *l, bench_dev_fn fn, void *ctx);
/* CPU time so far of the device thread and of the host event thread. */
uint64_t bench_paced_device_cpu_ns(bench_paced *l);
uint64_t bench_paced_event_cpu_ns(bench_paced *l);
/* IN transfers handed to the channel, and the longest (and how many over
 * 1 ms) a completed one waited for the host event thread to run. */
void bench_paced_delivery(bench_paced *l, uint64_t *delivered, uint64_t *max_delay_ns,
                          uint64_t *over_1ms);
/* Whether the device thread got real-time priority (bench_make_realtime). */
bool bench_paced_device_realtime(bench_paced *l);

#endif
