/* model_rig.c — see model_rig.h. */
#include "model_rig.h"

#include <stdlib.h>
#include <string.h>

#include "link_libusb.h"
#include "osal.h"
#include "sim_rig.h"

/* Records the device under test may hold before the far end sends more. */
#define RIG_GATE 24
/* Packets the command IN pipe holds: a late reply, strays a test injected and
 * the replies queued behind them. More would mean the host stopped reading. */
#define RIG_REPLY_PIPE 4
/* Raw packets a test may queue on the data IN pipe. */
#define RIG_IN_INJECT 4

/* One packet waiting on 0x83; it may be read from ready_ns on. */
typedef struct rig_reply {
    uint8_t bytes[U8D_IN_PACKET_MAX];
    size_t len;
    uint64_t ready_ns;
    bool from_device; /* the device's reply (not a stray a test injected) */
} rig_reply;

struct model_rig {
    mock_bus *bus;
    mock_usb *usb;
    u8d_model_config config;
    unsigned far_kbps;
    sim_rig world; /* dut: the device under test, behind USB; peer: the far end */
    bool powered;
    bool far_open;
    /* the device's command IN pipe (0x83), oldest first, delivered in order */
    rig_reply replies[RIG_REPLY_PIPE];
    size_t reply_head, reply_count;
    uint64_t next_reply_delay_ns; /* applies to the next command's reply, then 0 */
    uint64_t reply_delay_ns;      /* applies to every reply (rig_withhold_replies) */
    rig_command_hook hook;
    void *hook_ctx;
    /* the data pipes */
    rig_reply in_inject[RIG_IN_INJECT];
    size_t in_inject_head, in_inject_count;
    unsigned in_failures;
    int in_failure_error;
    uint64_t out_held_until_ns;
    uint64_t in_held_until_ns;
    /* far end */
    u8d_frame *queue;
    size_t queue_head, queue_count;
    u8d_frame *log;
    uint64_t log_total;
};

static void far_command_open(model_rig *r, uint64_t now)
{
    sim_rig_peer_open(&r->world, r->far_open ? r->far_kbps : 0, now);
}

static void far_log(void *ctx, const u8d_frame *f)
{
    model_rig *r = ctx;
    r->log[r->log_total++ % RIG_FAR_LOG] = *f;
}

/* Takes the far adapter's IN packets into the log. */
static void far_drain(model_rig *r, uint64_t now)
{
    sim_rig_peer_drain(&r->world, now, far_log, r);
}

/* Feeds the far adapter from the queue while the device under test has room. */
static void far_feed(model_rig *r, uint64_t now)
{
    while (r->queue_count > 0 &&
           u8d_model_rx_pending(r->world.dut) + u8d_model_tx_pending(r->world.peer) < RIG_GATE) {
        if (!sim_rig_peer_send(&r->world, &r->queue[r->queue_head], now))
            return;
        r->queue_head = (r->queue_head + 1) % RIG_FAR_QUEUE;
        r->queue_count--;
    }
}

/* Runs the bus to now, one frame at a time so the far end never overruns. */
static void pump(model_rig *r, uint64_t now)
{
    if (!r->powered)
        return;
    for (;;) {
        far_feed(r, now);
        bool stepped = vbus_step(r->world.bus, now);
        far_drain(r, now);
        if (!stepped)
            return;
    }
}

/* --- the device's USB face ---------------------------------------------------- */

static bool reply_pipe_full(const model_rig *r)
{
    return r->reply_count == RIG_REPLY_PIPE;
}

/* Appends a packet to the command IN pipe. Lock held, pipe not full. The
 * device learns that its reply waits unread (a CANalyze drops the next one
 * meanwhile). */
static void reply_push(model_rig *r, const uint8_t *bytes, size_t len, uint64_t ready_ns,
                       bool from_device)
{
    if (from_device && r->reply_count > 0 && u8d_model_reply_overwrites(r->world.dut)) {
        /* Vendor: one reply buffer, the newest reply overwrites an unread one
         * (u8d_model.h). A stray a test injected is another packet. */
        rig_reply *newest = &r->replies[(r->reply_head + r->reply_count - 1) % RIG_REPLY_PIPE];
        if (newest->from_device) {
            memcpy(newest->bytes, bytes, len);
            newest->len = len;
            newest->ready_ns = ready_ns;
            return;
        }
    }
    rig_reply *slot = &r->replies[(r->reply_head + r->reply_count++) % RIG_REPLY_PIPE];
    memcpy(slot->bytes, bytes, len);
    slot->len = len;
    slot->ready_ns = ready_ns;
    slot->from_device = from_device;
    if (from_device)
        u8d_model_reply_held(r->world.dut, true);
}

/* Hands the oldest packet to an IN of max bytes, or -1 (NAK) while it is held
 * back or there is none: nothing overtakes a held reply. Lock held. */
static int reply_pop(model_rig *r, uint64_t now, uint8_t *data, size_t max)
{
    if (r->reply_count == 0)
        return -1;
    const rig_reply *oldest = &r->replies[r->reply_head];
    if (now < oldest->ready_ns || max < oldest->len)
        return -1;
    size_t n = oldest->len;
    memcpy(data, oldest->bytes, n);
    if (oldest->from_device)
        u8d_model_reply_held(r->world.dut, false);
    r->reply_head = (r->reply_head + 1) % RIG_REPLY_PIPE;
    r->reply_count--;
    return (int)n;
}

/* The device takes a command from 0x04. Lock held. False: NAK. */
static bool device_command(model_rig *r, uint64_t now, const uint8_t *data, size_t len)
{
    if (u8d_model_detached(r->world.dut) || !u8d_model_command_pipe_alive(r->world.dut))
        return false; /* the endpoint is never re-armed: NAK */
    if (reply_pipe_full(r) && !u8d_model_reply_overwrites(r->world.dut))
        return false; /* no room for the answer: the device takes no command */
    if (r->hook)
        r->hook(r, data, len, r->hook_ctx);
    uint8_t reply[U8D_CMD_SIZE];
    size_t n = u8d_model_command(r->world.dut, now, data, len, reply);
    if (n > 0)
        reply_push(r, reply, n, now + r->next_reply_delay_ns + r->reply_delay_ns, true);
    r->next_reply_delay_ns = 0;
    return true;
}

static bool rig_out(void *device, uint8_t ep, const uint8_t *data, size_t len)
{
    model_rig *r = device;
    uint64_t now = u2c_now_ns();
    pump(r, now);
    bool accepted = false;
    if (ep == U8D_EP_CMD_OUT) {
        if (!device_command(r, now, data, len))
            return false;
        accepted = true;
    } else if (ep == U8D_EP_DATA_OUT) {
        if (now < r->out_held_until_ns)
            return false;
        accepted = u8d_model_data_out(r->world.dut, now, data, len) == U8D_MODEL_OUT_ACCEPTED;
    }
    pump(r, now);
    return accepted;
}

static int rig_in(void *device, uint8_t ep, uint8_t *data, size_t max)
{
    model_rig *r = device;
    uint64_t now = u2c_now_ns();
    pump(r, now);
    if (ep == U8D_EP_CMD_IN)
        return reply_pop(r, now, data, max);
    if (ep != U8D_EP_DATA_IN || max < U8D_IN_PACKET_MAX)
        return -1;
    if (now < r->in_held_until_ns)
        return -1;
    if (r->in_failures > 0) {
        r->in_failures--;
        return -r->in_failure_error;
    }
    if (r->in_inject_count > 0) {
        const rig_reply *p = &r->in_inject[r->in_inject_head];
        size_t n = p->len;
        memcpy(data, p->bytes, n);
        r->in_inject_head = (r->in_inject_head + 1) % RIG_IN_INJECT;
        r->in_inject_count--;
        return (int)n;
    }
    size_t n = u8d_model_data_in(r->world.dut, now, data);
    pump(r, now);
    return n > 0 ? (int)n : -1;
}

static const mock_device_ops rig_ops = {.out = rig_out, .in = rig_in};

/* --- lifecycle -------------------------------------------------------------- */

/* A fresh bus with a freshly powered device and the far end. Lock held. */
static void power_up(model_rig *r, uint64_t now)
{
    r->powered = sim_rig_init(&r->world, VBUS_INSTANT, &r->config, now);
    if (r->powered)
        far_command_open(r, now);
    r->reply_head = 0;
    r->reply_count = 0;
    r->next_reply_delay_ns = 0;
    r->in_inject_count = 0;
    r->in_failures = 0;
    r->out_held_until_ns = 0;
    r->in_held_until_ns = 0;
    r->reply_delay_ns = 0;
}

static void power_down(model_rig *r)
{
    sim_rig_free(&r->world);
    r->powered = false;
}

model_rig *rig_create(mock_bus *bus, const mock_identity *id, u8d_flavor flavor, unsigned far_kbps)
{
    model_rig *r = calloc(1, sizeof *r);
    r->bus = bus;
    r->far_kbps = far_kbps;
    r->far_open = true;
    if (flavor == U8D_FLAVOR_CANALYZE)
        u8d_model_config_canalyze(&r->config);
    else
        u8d_model_config_vendor(&r->config);
    strncpy(r->config.serial, id->serial, sizeof r->config.serial - 1);
    r->queue = calloc(RIG_FAR_QUEUE, sizeof *r->queue);
    r->log = calloc(RIG_FAR_LOG, sizeof *r->log);
    mock_bus_lock(bus);
    power_up(r, u2c_now_ns());
    mock_bus_unlock(bus);
    r->usb = mock_usb_plug(bus, id, &rig_ops, r);
    return r;
}

void rig_destroy(model_rig *r)
{
    if (!r)
        return;
    power_down(r);
    free(r->queue);
    free(r->log);
    free(r);
}

mock_usb *rig_usb(model_rig *r)
{
    return r->usb;
}

void rig_unplug(model_rig *r)
{
    mock_usb_unplug(r->usb);
}

void rig_replug(model_rig *r)
{
    mock_bus_lock(r->bus);
    power_down(r);
    power_up(r, u2c_now_ns());
    r->queue_count = 0;
    mock_bus_unlock(r->bus);
    mock_usb_plug_again(r->usb);
}

/* --- command pipe ------------------------------------------------------------ */

void rig_delay_next_reply(model_rig *r, unsigned delay_ms)
{
    mock_bus_lock(r->bus);
    r->next_reply_delay_ns = (uint64_t)delay_ms * 1000000u;
    mock_bus_unlock(r->bus);
}

bool rig_inject_reply(model_rig *r, const uint8_t *bytes, size_t len)
{
    if (!bytes || len == 0 || len > U8D_IN_PACKET_MAX)
        return false;
    mock_bus_lock(r->bus);
    bool ok = !reply_pipe_full(r);
    if (ok)
        reply_push(r, bytes, len, u2c_now_ns(), false);
    mock_bus_unlock(r->bus);
    return ok;
}

size_t rig_replies_waiting(model_rig *r)
{
    mock_bus_lock(r->bus);
    size_t n = r->reply_count;
    mock_bus_unlock(r->bus);
    return n;
}

/* --- far end ---------------------------------------------------------------- */

bool rig_far_send(model_rig *r, const u8d_frame *f)
{
    mock_bus_lock(r->bus);
    bool ok = r->queue_count < RIG_FAR_QUEUE;
    if (ok)
        r->queue[(r->queue_head + r->queue_count++) % RIG_FAR_QUEUE] = *f;
    pump(r, u2c_now_ns());
    mock_bus_unlock(r->bus);
    return ok;
}

void rig_far_set_open_locked(model_rig *r, bool open)
{
    r->far_open = open;
    uint64_t now = u2c_now_ns();
    far_command_open(r, now);
    pump(r, now);
}

void rig_far_set_open(model_rig *r, bool open)
{
    mock_bus_lock(r->bus);
    rig_far_set_open_locked(r, open);
    mock_bus_unlock(r->bus);
}

void rig_device_command(model_rig *r, const uint8_t cmd[16])
{
    mock_bus_lock(r->bus);
    uint64_t now = u2c_now_ns();
    pump(r, now);
    (void)device_command(r, now, cmd, U8D_CMD_SIZE);
    pump(r, now);
    mock_bus_unlock(r->bus);
}

void rig_set_command_hook(model_rig *r, rig_command_hook hook, void *ctx)
{
    mock_bus_lock(r->bus);
    r->hook = hook;
    r->hook_ctx = ctx;
    mock_bus_unlock(r->bus);
}

bool rig_inject_in_packet(model_rig *r, const uint8_t *bytes, size_t len)
{
    if (!bytes || len == 0 || len > U8D_IN_PACKET_MAX)
        return false;
    mock_bus_lock(r->bus);
    bool ok = r->in_inject_count < RIG_IN_INJECT;
    if (ok) {
        rig_reply *p = &r->in_inject[(r->in_inject_head + r->in_inject_count++) % RIG_IN_INJECT];
        memcpy(p->bytes, bytes, len);
        p->len = len;
    }
    mock_bus_unlock(r->bus);
    return ok;
}

void rig_fail_in(model_rig *r, unsigned count, int error)
{
    mock_bus_lock(r->bus);
    r->in_failures = count;
    r->in_failure_error = error;
    mock_bus_unlock(r->bus);
}

void rig_hold_out(model_rig *r, unsigned ms)
{
    mock_bus_lock(r->bus);
    r->out_held_until_ns = u2c_now_ns() + (uint64_t)ms * 1000000u;
    mock_bus_unlock(r->bus);
}

size_t rig_far_received(model_rig *r, size_t from, u8d_frame *out, size_t max)
{
    mock_bus_lock(r->bus);
    pump(r, u2c_now_ns());
    size_t n = 0;
    uint64_t oldest = r->log_total > RIG_FAR_LOG ? r->log_total - RIG_FAR_LOG : 0;
    for (uint64_t i = from; i < r->log_total && n < max; i++)
        if (i >= oldest)
            out[n++] = r->log[i % RIG_FAR_LOG];
    mock_bus_unlock(r->bus);
    return n;
}

uint64_t rig_far_received_total(model_rig *r)
{
    mock_bus_lock(r->bus);
    pump(r, u2c_now_ns());
    uint64_t n = r->log_total;
    mock_bus_unlock(r->bus);
    return n;
}

size_t rig_far_queued(model_rig *r)
{
    mock_bus_lock(r->bus);
    size_t n = r->queue_count;
    mock_bus_unlock(r->bus);
    return n;
}

void rig_with_device(model_rig *r, rig_model_fn fn, void *ctx)
{
    mock_bus_lock(r->bus);
    uint64_t now = u2c_now_ns();
    fn(r->world.dut, now, ctx);
    pump(r, now);
    mock_bus_unlock(r->bus);
}

int rig_fixture_setup(void **state)
{
    rig_fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    f->bus = mock_bus_new();
    /* Each test's emulated devices go with its bus: no libusb session (and
     * its cache of devices) outlives the test's last link. */
    u2c_link_libusb_set_idle_ms(0);
    *state = f;
    return 0;
}

int rig_fixture_teardown(void **state)
{
    rig_fixture *f = *state;
    if (f->link)
        f->link->ops->destroy(f->link);
    mock_bus_free(f->bus);
    rig_destroy(f->rig[0]);
    rig_destroy(f->rig[1]);
    free(f);
    return 0;
}

void rig_withhold_replies(model_rig *r, unsigned ms)
{
    mock_bus_lock(r->bus);
    r->reply_delay_ns = (uint64_t)ms * 1000000u;
    mock_bus_unlock(r->bus);
}

void rig_hold_in(model_rig *r, unsigned ms)
{
    mock_bus_lock(r->bus);
    r->in_held_until_ns = u2c_now_ns() + (uint64_t)ms * 1000000u;
    mock_bus_unlock(r->bus);
}

unsigned rig_in_failures_left(model_rig *r)
{
    mock_bus_lock(r->bus);
    unsigned left = r->in_failures;
    mock_bus_unlock(r->bus);
    return left;
}
