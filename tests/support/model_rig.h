/*
 * model_rig.h — one emulated USB2CAN for the end-to-end tests: the device
 * model (u8d_model.h) behind the usbfs mock, on its own virtual CAN bus
 * (vbus.h, instant mode) with a second model as the far end that the test
 * drives directly.
 *
 * Contract: the device under test answers the host through mock_device_ops
 * exactly as u8d_model decides (commands, NAKs, IN packets). Whenever the
 * host touches the device, the rig first runs the bus to the current time:
 * the far end feeds its adapter from the test's send queue, but only while
 * the device under test holds fewer than `gate` received records (an
 * infinitely fast bus would otherwise overrun any host, which is not what
 * these tests measure); every frame the far end receives is logged. All
 * rig state lives under the mock bus lock; the rig_* calls take it. Time is
 * u2c_now_ns, read with the lock held, so models never see time go back.
 */
#ifndef USB2CAN_TESTS_MODEL_RIG_H
#define USB2CAN_TESTS_MODEL_RIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link.h"
#include "u8d_model.h"
#include "usbfs_mock.h"

#define RIG_FAR_LOG 32768 /* frames the far end remembers (a ring) */
#define RIG_FAR_QUEUE 16384

typedef struct model_rig model_rig;

/* Plugs a device with this identity; the model takes the flavour and the
 * serial (first 8 characters). The far end opens at far_kbps. */
model_rig *rig_create(mock_bus *bus, const mock_identity *id, u8d_flavor flavor, unsigned far_kbps);
/* After mock_bus_free (the mock stops calling the device first). */
void rig_destroy(model_rig *r);

/* A test's world: one mock USB bus and up to two rigs on it (NULL until
 * plugged), and a link the test may leave to the teardown. */
typedef struct rig_fixture {
    mock_bus *bus;
    model_rig *rig[2];
    u2c_link *link;
} rig_fixture;

/* cmocka group/test setup and teardown: *state becomes a fresh rig_fixture
 * (and the libusb session is set to end with the last link: no idle time);
 * teardown destroys the link if one is left (also after a failed assertion,
 * so that no libusb handle outlives the emulated device), then whatever rigs
 * were plugged, then the bus. */
int rig_fixture_setup(void **state);
int rig_fixture_teardown(void **state);
mock_usb *rig_usb(model_rig *r);

/* Unplugs the device; rig_replug() plugs it in again as after a power
 * cycle (a fresh model, lists empty, controller closed). */
void rig_unplug(model_rig *r);
void rig_replug(model_rig *r);

/* Far end: queues a frame to send (false when the queue is full), opens or
 * closes the far adapter (closed = nobody ACKs), and reads what it received:
 * frames numbered from 0 in arrival order; returns how many were copied. */
bool rig_far_send(model_rig *r, const u8d_frame *f);
void rig_far_set_open(model_rig *r, bool open);
size_t rig_far_received(model_rig *r, size_t from, u8d_frame *out, size_t max);
uint64_t rig_far_received_total(model_rig *r);
size_t rig_far_queued(model_rig *r);

/* The command IN pipe (0x83) hands out packets in order: the device's
 * replies and strays a test injects. rig_delay_next_reply holds the reply to
 * the next command on 0x04 back until delay_ms after that command arrived
 * (whatever queues behind it waits too), as an adapter that answers late.
 * rig_inject_reply queues len bytes (1..64) to be read next, ahead of any
 * later reply; false when the pipe is full (it holds 4 packets, and a full
 * pipe NAKs commands). rig_replies_waiting counts the packets not yet read. */
void rig_delay_next_reply(model_rig *r, unsigned delay_ms);
bool rig_inject_reply(model_rig *r, const uint8_t *bytes, size_t len);
size_t rig_replies_waiting(model_rig *r);
/* Every reply from now on is held back ms after its command (0 ends it), as
 * an adapter too busy to answer in time. A vendor adapter's newest reply
 * overwrites an unread one (u8d_model_reply_overwrites). */
void rig_withhold_replies(model_rig *r, unsigned ms);

/* A command as if the host had sent it on 0x04 (its reply, if any, waits in
 * the command IN pipe like any other): what an earlier program may leave
 * behind. */
void rig_device_command(model_rig *r, const uint8_t cmd[16]);

/* Called (lock held) with every command the device gets on 0x04, before the
 * device handles it; NULL removes it. rig_far_set_open_locked is what such a
 * hook may call to open or close the far end. */
typedef void (*rig_command_hook)(model_rig *r, const uint8_t *cmd, size_t len, void *ctx);
void rig_set_command_hook(model_rig *r, rig_command_hook hook, void *ctx);
void rig_far_set_open_locked(model_rig *r, bool open);

/* The data IN pipe (0x81): rig_inject_in_packet queues len bytes (1..64) to be
 * read ahead of the device's own packets (false when 4 are queued);
 * rig_fail_in makes the next `count` IN transfers on 0x81 fail with -error
 * (an errno: EPROTO, EPIPE ...) without touching the device. */
bool rig_inject_in_packet(model_rig *r, const uint8_t *bytes, size_t len);
void rig_fail_in(model_rig *r, unsigned count, int error);
/* The data IN pipe NAKs for the next `ms` milliseconds (the device keeps
 * its records), as a host that stopped reading. */
void rig_hold_in(model_rig *r, unsigned ms);
/* IN transfers still to fail from the last rig_fail_in. */
unsigned rig_in_failures_left(model_rig *r);

/* The data OUT pipe (0x02) NAKs for the next `ms` milliseconds, as an
 * adapter busy transmitting on a slow bus. */
void rig_hold_out(model_rig *r, unsigned ms);

/* Runs fn on the device under test under the lock, then runs the bus. */
typedef void (*rig_model_fn)(u8d_model *m, uint64_t now_ns, void *ctx);
void rig_with_device(model_rig *r, rig_model_fn fn, void *ctx);

#endif
