/* Virtual adapters on one in-process bus; contract and lock order in link_virtual.h. */
#include "link_virtual.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osal.h"
#include "text.h"

#if defined(_WIN32)
#include <windows.h>
#endif

typedef struct vlink {
    u2c_link base;
    unsigned slot;
    u8d_model *model;
    bool started;
    u2c_link_sink sink;
    bool out_wanted; /* the host may have records: pull when the model accepts */
    bool in_paused;
    bool gone;
    char gone_reason[64];
} vlink;

/* The thread that lets time pass: paced bus events and device timers. One
 * per bus lifetime; told to quit through its own context so that a new bus
 * can start while the old thread is still being joined. */
typedef struct clock_ctx {
    u2c_thread thread;
    bool quit;
} clock_ctx;

/* Process-wide state. The lock is created once (first use) and lives as
 * long as the process; the bus lives from the first open to the last close. */
static struct {
    atomic_int init; /* 0 none, 1 initialising, 2 ready */
    u2c_mutex lock;
    u2c_cond changed; /* gone / destroy, for commands waiting out a timeout */
    u2c_cond tick;    /* wakes the clock thread: something changed */
    vbus *bus;
    clock_ctx *clock;
    bool paced; /* mode of the next bus */
    vlink *slots[USB2CAN_VIRTUAL_ADAPTERS];
    u8d_model_config config[USB2CAN_VIRTUAL_ADAPTERS];
    bool config_set[USB2CAN_VIRTUAL_ADAPTERS];
} virtual_bus;

static void global_lock(void)
{
    int state = atomic_load(&virtual_bus.init);
    while (state != 2) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&virtual_bus.init, &expected, 1)) {
            u2c_mutex_init(&virtual_bus.lock);
            u2c_cond_init(&virtual_bus.changed);
            u2c_cond_init(&virtual_bus.tick);
            /* Real bit times by default: a virtual adapter then paces its
             * sender and fills its queues exactly as hardware does. */
            virtual_bus.paced = true;
            atomic_store(&virtual_bus.init, 2);
        } else {
            u2c_sleep_ms(0); /* another thread is creating the lock: yield */
        }
        state = atomic_load(&virtual_bus.init);
    }
    u2c_mutex_lock(&virtual_bus.lock);
}

static void global_unlock(void)
{
    u2c_mutex_unlock(&virtual_bus.lock);
}

static void set_reason(char *reason, size_t size, const char *text)
{
    if (reason != NULL && size > 0)
        snprintf(reason, size, "%s", text);
}

bool u2c_virtual_serial_slot(const char *serial, unsigned *slot)
{
    static const char prefix[] = "VIRTUAL";
    unsigned s = USB2CAN_VIRTUAL_ADAPTERS;
    if (serial == NULL)
        return false;
    for (size_t i = 0; i < sizeof prefix - 1; i++) {
        if (u2c_ascii_upper(serial[i]) != prefix[i])
            return false;
    }
    const char *rest = serial + sizeof prefix - 1;
    if (rest[0] == '\0')
        s = 0;
    else if (rest[0] >= '0' && rest[0] < '0' + USB2CAN_VIRTUAL_ADAPTERS && rest[1] == '\0')
        s = (unsigned)(rest[0] - '0');
    if (slot != NULL)
        *slot = s;
    return true;
}

/* --- pumping: host side of every virtual link ---------------------------------- */

static bool pump_out(vlink *l, uint64_t now)
{
    if (!l->started || l->gone || !l->out_wanted)
        return false;
    u8d_model_out ready = u8d_model_out_ready(l->model, now);
    if (ready != U8D_MODEL_OUT_ACCEPTED)
        return false; /* NAK: keep wanting; a drained queue resumes the pull */
    uint8_t record[U8D_TX_RECORD_SIZE];
    if (!l->sink.next_out(l->sink.ctx, record)) {
        l->out_wanted = false;
        return false;
    }
    (void)u8d_model_data_out(l->model, now, record, sizeof record);
    return true;
}

static bool pump_in(vlink *l, uint64_t now)
{
    bool moved = false;
    uint8_t packet[U8D_IN_PACKET_MAX];
    while (l->started && !l->gone && !l->in_paused) {
        size_t n = u8d_model_data_in(l->model, now, packet);
        if (n == 0)
            break;
        l->sink.in_packet(l->sink.ctx, packet, n);
        moved = true;
    }
    return moved;
}

/* Whether time alone can change anything: a paced bus or a device timer. */
static bool clock_needed(void)
{
    if (vbus_get_mode(virtual_bus.bus) == VBUS_PACED)
        return true;
    for (unsigned i = 0; i < USB2CAN_VIRTUAL_ADAPTERS; i++) {
        if (virtual_bus.slots[i] != NULL &&
            u8d_model_next_timer_ns(virtual_bus.slots[i]->model) != UINT64_MAX)
            return true;
    }
    return false;
}

/* Lets everything happen that can happen at `now`: one TX record per link,
 * one bus attempt, then every host reads what arrived; until quiet. */
static void settle(uint64_t now)
{
    if (virtual_bus.bus == NULL)
        return;
    bool moved;
    do {
        moved = false;
        for (unsigned i = 0; i < USB2CAN_VIRTUAL_ADAPTERS; i++) {
            if (virtual_bus.slots[i] != NULL)
                moved |= pump_out(virtual_bus.slots[i], now);
        }
        moved |= vbus_step(virtual_bus.bus, now);
        for (unsigned i = 0; i < USB2CAN_VIRTUAL_ADAPTERS; i++) {
            if (virtual_bus.slots[i] != NULL)
                moved |= pump_in(virtual_bus.slots[i], now);
        }
    } while (moved);
    if (clock_needed())
        u2c_cond_signal(&virtual_bus.tick); /* the next deadline may have moved */
}

static void mark_gone(vlink *l, const char *why)
{
    if (l->gone)
        return;
    l->gone = true;
    snprintf(l->gone_reason, sizeof l->gone_reason, "%s", why);
    vbus_detach(virtual_bus.bus, l->model);
    if (l->started && l->sink.gone != NULL)
        l->sink.gone(l->sink.ctx, l->gone_reason);
    u2c_cond_broadcast(&virtual_bus.changed);
}

/* The earliest time something happens without a host call. */
static uint64_t next_deadline(void)
{
    uint64_t next = vbus_next_event_ns(virtual_bus.bus);
    for (unsigned i = 0; i < USB2CAN_VIRTUAL_ADAPTERS; i++) {
        vlink *l = virtual_bus.slots[i];
        if (l == NULL || !l->started || l->gone || !l->out_wanted)
            continue;
        uint64_t t = u8d_model_next_timer_ns(l->model);
        if (t < next)
            next = t;
    }
    return next;
}

/* Frees the bus (lock held) and returns its clock thread, told to quit, for
 * join_clock once the lock is released. */
static clock_ctx *stop_bus(void)
{
    vbus_destroy(virtual_bus.bus);
    virtual_bus.bus = NULL;
    clock_ctx *clock = virtual_bus.clock;
    virtual_bus.clock = NULL;
    if (clock != NULL) {
        clock->quit = true;
        u2c_cond_broadcast(&virtual_bus.tick);
    }
    return clock;
}

static void join_clock(clock_ctx *clock)
{
    if (clock != NULL) {
        u2c_thread_join(&clock->thread);
        free(clock);
    }
}

static void clock_main(void *arg)
{
    clock_ctx *ctx = arg;
    global_lock();
    while (!ctx->quit) {
        uint64_t now = u2c_now_ns();
        settle(now);
        uint64_t deadline = next_deadline();
        if (deadline <= now)
            deadline = now + 100000u; /* never spin: an event that did not move is retried */
        (void)u2c_cond_wait_until(&virtual_bus.tick, &virtual_bus.lock, deadline);
    }
    global_unlock();
}

/* --- link operations ---------------------------------------------------------------- */

static int vl_command(u2c_link *link, const uint8_t request[U8D_CMD_SIZE],
                      uint8_t reply[U8D_CMD_SIZE], unsigned timeout_ms)
{
    vlink *l = (vlink *)link;
    if (request == NULL || reply == NULL)
        return U2C_LINK_IO;
    global_lock();
    if (l->gone) {
        global_unlock();
        return U2C_LINK_GONE;
    }
    uint64_t now = u2c_now_ns();
    size_t n = u8d_model_command(l->model, now, request, U8D_CMD_SIZE, reply);
    settle(now);
    if (n != 0) {
        if (u8d_model_detached(l->model))
            mark_gone(l, "device reset itself (RESET command) and left the bus");
        global_unlock();
        return U2C_LINK_OK;
    }
    /* No reply: the host's read runs into its timeout, as on hardware. */
    uint64_t deadline = u2c_deadline_after_ms(timeout_ms);
    while (!l->gone && u2c_cond_wait_until(&virtual_bus.changed, &virtual_bus.lock, deadline)) {
    }
    int rc = l->gone ? U2C_LINK_GONE : U2C_LINK_TIMEOUT;
    global_unlock();
    return rc;
}

static int vl_start(u2c_link *link, const u2c_link_sink *sink)
{
    vlink *l = (vlink *)link;
    if (sink == NULL || sink->in_packet == NULL || sink->next_out == NULL)
        return U2C_LINK_IO;
    global_lock();
    int rc = U2C_LINK_OK;
    if (l->gone) {
        rc = U2C_LINK_GONE;
    } else if (l->started) {
        rc = U2C_LINK_IO;
    } else {
        l->sink = *sink;
        l->started = true;
        l->out_wanted = true;
        settle(u2c_now_ns());
    }
    global_unlock();
    return rc;
}

static void vl_kick_out(u2c_link *link)
{
    vlink *l = (vlink *)link;
    global_lock();
    if (l->started && !l->gone) {
        l->out_wanted = true;
        settle(u2c_now_ns());
    }
    global_unlock();
}

static void vl_stop(u2c_link *link)
{
    vlink *l = (vlink *)link;
    global_lock();
    l->started = false;
    l->out_wanted = false;
    memset(&l->sink, 0, sizeof l->sink);
    global_unlock();
}

static void vl_destroy(u2c_link *link)
{
    vlink *l = (vlink *)link;
    if (l == NULL)
        return;
    global_lock();
    l->started = false;
    if (!l->gone)
        vbus_detach(virtual_bus.bus, l->model);
    virtual_bus.slots[l->slot] = NULL;
    u8d_model_destroy(l->model);
    bool last = true;
    for (unsigned i = 0; i < USB2CAN_VIRTUAL_ADAPTERS; i++)
        last = last && virtual_bus.slots[i] == NULL;
    clock_ctx *clock = NULL;
    if (last)
        clock = stop_bus();
    else
        settle(u2c_now_ns()); /* a node left: parked frames may now fail differently */
    u2c_cond_broadcast(&virtual_bus.changed);
    global_unlock();
    join_clock(clock);
    free(l);
}

static const u2c_link_ops vlink_ops =
    U2C_LINK_OPS(vl_command, vl_start, vl_kick_out, vl_stop, vl_destroy, NULL);

/* --- open ---------------------------------------------------------------------------- */

static void slot_config(unsigned slot, u8d_model_config *cfg)
{
    if (virtual_bus.config_set[slot]) {
        *cfg = virtual_bus.config[slot];
        return;
    }
    u8d_model_config_vendor(cfg);
    snprintf(cfg->serial, sizeof cfg->serial, "VIRTUAL%u", slot);
}

/* USB2CAN_VIRTUAL_SAMPLE_POINT_TOLERANCE: per mille, 0..1000; anything
 * else (or unset) leaves the check off. */
static unsigned sample_point_tolerance_from_environment(void)
{
    char text[16];
#if defined(_WIN32)
    /* The process environment, not this C runtime's copy of it. */
    DWORD n = GetEnvironmentVariableA(U2C_VIRTUAL_SP_TOLERANCE_ENV, text, (DWORD)sizeof text);
    if (n == 0 || n >= sizeof text)
        return 0;
#else
    const char *value = getenv(U2C_VIRTUAL_SP_TOLERANCE_ENV);
    if (value == NULL || strlen(value) >= sizeof text)
        return 0;
    snprintf(text, sizeof text, "%s", value);
#endif
    char *end = NULL;
    unsigned long permille = strtoul(text, &end, 10);
    if (end == text || *end != '\0' || permille > 1000)
        return 0;
    return (unsigned)permille;
}

/* The bus and its clock thread (with the lock held). */
static bool start_bus(uint64_t now)
{
    virtual_bus.bus = vbus_create(virtual_bus.paced ? VBUS_PACED : VBUS_INSTANT, now);
    if (virtual_bus.bus != NULL)
        vbus_set_sample_point_tolerance(virtual_bus.bus, sample_point_tolerance_from_environment());
    clock_ctx *clock = calloc(1, sizeof *clock);
    if (virtual_bus.bus == NULL || clock == NULL ||
        u2c_thread_start(&clock->thread, clock_main, clock) != 0) {
        free(clock);
        vbus_destroy(virtual_bus.bus);
        virtual_bus.bus = NULL;
        return false;
    }
    virtual_bus.clock = clock;
    return true;
}

u2c_link *u2c_link_open_virtual(const char *serial, u2c_link_result *result, char *reason,
                                size_t reason_size)
{
    u2c_link_result dummy;
    if (result == NULL)
        result = &dummy;
    unsigned slot;
    if (!u2c_virtual_serial_slot(serial, &slot) || slot >= USB2CAN_VIRTUAL_ADAPTERS) {
        *result = U2C_LINK_NOT_FOUND;
        if (reason != NULL && reason_size > 0)
            snprintf(reason, reason_size,
                     "no virtual adapter named %s; virtual adapters are VIRTUAL and "
                     "VIRTUAL0..VIRTUAL7",
                     serial ? serial : "(null)");
        return NULL;
    }
    vlink *l = calloc(1, sizeof *l);
    if (l == NULL) {
        *result = U2C_LINK_NO_MEMORY;
        set_reason(reason, reason_size, "out of memory opening a virtual adapter");
        return NULL;
    }
    l->base.ops = &vlink_ops;
    l->slot = slot;
    snprintf(l->base.serial, sizeof l->base.serial, "VIRTUAL%u", slot);

    global_lock();
    if (virtual_bus.slots[slot] != NULL) {
        global_unlock();
        free(l);
        *result = U2C_LINK_BUSY;
        if (reason != NULL && reason_size > 0)
            snprintf(reason, reason_size,
                     "virtual adapter VIRTUAL%u is already open (each one opens once; "
                     "use another of VIRTUAL0..VIRTUAL7)",
                     slot);
        return NULL;
    }
    uint64_t now = u2c_now_ns();
    bool new_bus = virtual_bus.bus == NULL;
    if (new_bus && !start_bus(now)) {
        global_unlock();
        free(l);
        *result = U2C_LINK_NO_MEMORY;
        set_reason(reason, reason_size, "out of memory (or no thread) starting the virtual bus");
        return NULL;
    }
    u8d_model_config cfg;
    slot_config(slot, &cfg);
    l->model = u8d_model_create(&cfg, now);
    if (l->model == NULL || vbus_attach(virtual_bus.bus, l->model) < 0) {
        u8d_model_destroy(l->model);
        clock_ctx *clock = new_bus ? stop_bus() : NULL;
        global_unlock();
        join_clock(clock);
        free(l);
        *result = U2C_LINK_NO_MEMORY;
        set_reason(reason, reason_size, "out of memory opening a virtual adapter");
        return NULL;
    }
    virtual_bus.slots[slot] = l;
    global_unlock();
    *result = U2C_LINK_OK;
    return &l->base;
}

/* --- test hooks ---------------------------------------------------------------------- */

bool u2c_virtual_set_paced(bool paced)
{
    global_lock();
    bool idle = virtual_bus.bus == NULL;
    if (idle)
        virtual_bus.paced = paced;
    global_unlock();
    return idle;
}

bool u2c_virtual_set_config(unsigned slot, const u8d_model_config *cfg)
{
    if (slot >= USB2CAN_VIRTUAL_ADAPTERS)
        return false;
    global_lock();
    virtual_bus.config_set[slot] = cfg != NULL;
    if (cfg != NULL)
        virtual_bus.config[slot] = *cfg;
    global_unlock();
    return true;
}

static vlink *open_slot(unsigned slot)
{
    return slot < USB2CAN_VIRTUAL_ADAPTERS ? virtual_bus.slots[slot] : NULL;
}

bool u2c_virtual_unplug(unsigned slot)
{
    global_lock();
    vlink *l = open_slot(slot);
    if (l != NULL && !l->gone) {
        mark_gone(l, "device unplugged");
        settle(u2c_now_ns());
    }
    global_unlock();
    return l != NULL;
}

bool u2c_virtual_pause_in(unsigned slot, bool paused)
{
    global_lock();
    vlink *l = open_slot(slot);
    if (l != NULL) {
        l->in_paused = paused;
        settle(u2c_now_ns());
    }
    global_unlock();
    return l != NULL;
}

bool u2c_virtual_with_model(unsigned slot, u2c_virtual_model_fn fn, void *ctx)
{
    global_lock();
    vlink *l = open_slot(slot);
    if (l != NULL && fn != NULL) {
        uint64_t now = u2c_now_ns();
        fn(l->model, now, ctx);
        settle(now);
    }
    global_unlock();
    return l != NULL;
}

bool u2c_virtual_with_bus(u2c_virtual_bus_fn fn, void *ctx)
{
    global_lock();
    bool open = virtual_bus.bus != NULL;
    if (open && fn != NULL) {
        uint64_t now = u2c_now_ns();
        fn(virtual_bus.bus, now, ctx);
        settle(now);
    }
    global_unlock();
    return open;
}

unsigned u2c_link_virtual_slot(const u2c_link *link)
{
    if (link == NULL || link->ops != &vlink_ops)
        return USB2CAN_VIRTUAL_ADAPTERS;
    return ((const vlink *)link)->slot;
}
