/*
 * link_virtual.h — the virtual adapters: serials VIRTUAL (= VIRTUAL0) and
 * VIRTUAL0..VIRTUAL7, case-insensitive, each a device model (u8d_model.h)
 * on ONE process-wide virtual CAN bus (vbus.h, paced in real time).
 *
 * Contract: see link.h; in particular
 * - The bus, its models and every virtual link share one global lock. The
 *   bus is created by the first open and freed after the last destroy.
 * - Time is the monotonic clock (u2c_now_ns), read under the lock, so model
 *   timestamps follow real time (vendor ticks of 992.1875 us). A clock
 *   thread, started with the bus and joined after the last close, runs
 *   what happens without a host call.
 * - The bus is paced in real time by default (frames take their bit time,
 *   so senders are paced and queues fill as with hardware);
 *   u2c_virtual_set_paced(false) before the first open makes it instant.
 * - Frames are delivered synchronously: a kick_out() or command() that lets
 *   frames through runs the bus and delivers every resulting IN packet to
 *   the receiving links' sinks before it returns, one frame at a time so
 *   no host misses a frame it could have read. kick_out() pulls records
 *   with next_out while the model accepts them and stops at the first NAK;
 *   pulling resumes by itself when the TX queue drains (a frame finally
 *   ACKed because a second node opened, for example).
 * - Sink callbacks run on the thread that caused them (any link's caller)
 *   or on the bus's clock thread (paced bus events, device timers such as
 *   the CANalyze 10 ms transmit timeout), always with the global lock held,
 *   possibly before start() returns. They must not call into any virtual
 *   link.
 * - A command the model does not answer blocks for the full timeout_ms and
 *   returns U2C_LINK_TIMEOUT, as on hardware (lock not held while waiting).
 * - After stop() returns no sink callback of that link runs any more.
 * - The bus's sample-point tolerance comes from the environment variable
 *   U2C_VIRTUAL_SP_TOLERANCE_ENV when the bus is created.
 *
 * Lock order: channel lock -> (never held while calling a link) ; global
 * virtual lock -> channel lock (sink callbacks may take the channel's lock).
 * So a channel must never call a link while holding its own lock, which
 * link.h already requires.
 */
#ifndef USB2CAN_LINK_VIRTUAL_H
#define USB2CAN_LINK_VIRTUAL_H

#include <stdbool.h>
#include <stddef.h>

#include "link.h"
#include "u8d_model.h"
#include "usb2can.h"
#include "vbus.h"

/* Read when the bus is created: the sample-point tolerance of vbus.h in per
 * mille (e.g. 50 = receivers more than 5 percentage points off the sender's
 * sample point misread its frames); unset, invalid or 0 = not checked. */
#define U2C_VIRTUAL_SP_TOLERANCE_ENV "USB2CAN_VIRTUAL_SAMPLE_POINT_TOLERANCE"

/* True when serial names a virtual adapter (starts with "VIRTUAL",
 * case-insensitive); *slot gets 0..7 when the name is a valid one, else
 * USB2CAN_VIRTUAL_ADAPTERS. serial may be NULL (false). */
bool u2c_virtual_serial_slot(const char *serial, unsigned *slot);

/* Opens a virtual adapter. NOT_FOUND for a VIRTUAL* name outside the
 * range, BUSY when that adapter is already open, NO_MEMORY. */
u2c_link *u2c_link_open_virtual(const char *serial, u2c_link_result *result, char *reason,
                                size_t reason_size);

/* --- test hooks --------------------------------------------------------------
 * Each takes the global lock; those that change a device settle the bus and
 * deliver the resulting packets before returning. */

/* Mode of the next virtual bus: paced (real bit times, in real time) or
 * instant; paced by default. False, and no change, while a virtual adapter is open. */
bool u2c_virtual_set_paced(bool paced);
/* The model configuration used when `slot` is next opened (flavour,
 * versions, serial); NULL restores the default (fw 1.7 hw 1.0, serial
 * "VIRTUALn"). Kept across bus lifetimes. False for a bad slot. */
bool u2c_virtual_set_config(unsigned slot, const u8d_model_config *cfg);
/* Simulates unplugging an open adapter: it leaves the bus, its sink gets
 * gone("device unplugged") once, and every later call returns
 * U2C_LINK_GONE. False when the slot is not open. */
bool u2c_virtual_unplug(unsigned slot);
/* Stops (true) or resumes (false) the host reading the IN endpoint, so the
 * model's RX list fills and overruns. False when the slot is not open. */
bool u2c_virtual_pause_in(unsigned slot, bool paused);
/* Runs fn on the slot's model under the lock with the current time, then
 * settles the bus. False when the slot is not open. */
typedef void (*u2c_virtual_model_fn)(u8d_model *m, uint64_t now_ns, void *ctx);
bool u2c_virtual_with_model(unsigned slot, u2c_virtual_model_fn fn, void *ctx);
/* Runs fn on the shared bus under the lock (statistics, observers). False
 * when no virtual adapter is open. */
typedef void (*u2c_virtual_bus_fn)(vbus *bus, uint64_t now_ns, void *ctx);
bool u2c_virtual_with_bus(u2c_virtual_bus_fn fn, void *ctx);
/* The slot of an open virtual link (USB2CAN_VIRTUAL_ADAPTERS for other links). */
unsigned u2c_link_virtual_slot(const u2c_link *link);

#endif
