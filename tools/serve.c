/* The socketcand server (serve.h). One thread runs the sockets (accept,
 * read, write, BCM timers, statistics, beacon); one thread per bus waits in
 * CanalBlockingReceive and fans each frame out. One lock guards the client
 * table; nothing blocks while holding it (sockets are non-blocking,
 * CanalSend only queues). */
#include "serve.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "canal.h"
#include "cli_commands.h"
#include "osal.h"
#include "usb2can.h"

enum { MODE_NO_BUS, MODE_BCM, MODE_RAW, MODE_CONTROL };

#define NS_PER_US 1000ULL
#define NS_PER_MS 1000000ULL
#define POLL_SLICE_MS 100
/* After "< ok >" nothing else is written for this long: python-can reads the
 * reply with one recv() and compares it whole, so a frame in the same read
 * would make its connect fail. */
#define OK_HOLD_NS (100 * NS_PER_MS)
#define BCM_MIN_INTERVAL_NS NS_PER_MS
#define BEACON_INTERVAL_NS (2000 * NS_PER_MS)
#define RECV_CHUNK 4096
/* Written before every frame, statistic and error element: python-can's
 * reader drops one character from the front of what it keeps each time a
 * read completes no element, so an element that reaches it in k + 1 reads
 * needs k characters in front of its '<' to survive. */
#define LEAD "   "
#define LEAD_LEN (sizeof LEAD - 1)

/* SocketCAN error classes (linux/can/error.h) for CANAL status messages. */
#define CAN_ERR_CRTL 0x004u
#define CAN_ERR_PROT 0x008u
#define CAN_ERR_ACK 0x020u
#define CAN_ERR_BUSOFF 0x040u
#define CAN_ERR_RESTARTED 0x100u

typedef struct bcm_job {
    bool used;
    u2c_scand_frame frame;
    uint64_t interval_ns;
    uint64_t due_ns;
} bcm_job;

typedef struct bcm_sub {
    bool used;
    bool content_filter; /* "filter": only changes under mask */
    uint32_t id;
    bool extended;
    uint8_t mask[8];
    uint64_t throttle_ns;
    uint64_t last_ns;
    bool have_last;
    uint8_t last[8];
    uint8_t last_dlc;
} bcm_sub;

typedef struct client {
    bool used;
    bool closing; /* write what is queued, then close */
    u2c_socket sock;
    u2c_net_addr peer;
    int mode;
    int bus;
    u2c_scand_reader reader;
    char queue[U2C_SERVE_QUEUE_BYTES];
    size_t head, len;
    uint64_t hold_until_ns;
    uint64_t dropped, dropped_reported;
    bcm_job jobs[U2C_SERVE_JOBS_MAX];
    bcm_sub subs[U2C_SERVE_SUBS_MAX];
    uint64_t stat_interval_ns, stat_due_ns;
} client;

typedef struct server server;

typedef struct rx_arg {
    server *srv;
    int bus;
} rx_arg;

struct server {
    const u2c_serve_config *cfg;
    u2c_mutex lock;
    client clients[U2C_SERVE_CLIENTS_MAX];
    size_t client_count;
    u2c_socket listener;
    u2c_socket wake[2];
    u2c_thread rx_threads[U2C_SERVE_BUSES_MAX];
    rx_arg rx_args[U2C_SERVE_BUSES_MAX];
    size_t rx_started;
    atomic_int stopping;
    uint64_t wall0_us; /* wall clock at mono0_ns */
    uint64_t mono0_ns;
    u2c_socket beacon_sock;
    uint64_t beacon_due_ns;
    char beacon_text[1024];
    size_t beacon_len;
};

#if defined(__GNUC__)
static void log_line(server *srv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#endif

static void log_line(server *srv, const char *fmt, ...)
{
    if (srv->cfg->log == NULL)
        return;
    va_list args;
    va_start(args, fmt);
    fprintf(srv->cfg->log, "serve: ");
    vfprintf(srv->cfg->log, fmt, args);
    fprintf(srv->cfg->log, "\n");
    fflush(srv->cfg->log);
    va_end(args);
}

static void wall_now(server *srv, uint64_t *secs, uint32_t *usecs)
{
    uint64_t us = srv->wall0_us + (u2c_now_ns() - srv->mono0_ns) / NS_PER_US;
    *secs = us / 1000000u;
    *usecs = (uint32_t)(us % 1000000u);
}

/* ---- the per-client queue ---- */

static size_t queue_free(const client *c)
{
    return sizeof c->queue - c->len;
}

static void queue_append(client *c, const char *bytes, size_t len)
{
    size_t tail = (c->head + c->len) % sizeof c->queue;
    size_t first = sizeof c->queue - tail < len ? sizeof c->queue - tail : len;
    memcpy(c->queue + tail, bytes, first);
    memcpy(c->queue, bytes + first, len - first);
    c->len += len;
}

/* Queues one element; when it does not fit it is dropped and counted. A
 * pending drop count goes first, as soon as both fit. */
static bool queue_put(client *c, const char *bytes, size_t len)
{
    if (c->closing)
        return false;
    if (c->dropped > c->dropped_reported) {
        char report[80];
        int n = snprintf(report, sizeof report, LEAD "< error queue full: %llu frames dropped >",
                         (unsigned long long)(c->dropped - c->dropped_reported));
        if (n > 0 && (size_t)n + len <= queue_free(c)) {
            queue_append(c, report, (size_t)n);
            c->dropped_reported = c->dropped;
        }
    }
    if (len > queue_free(c)) {
        c->dropped++;
        return false;
    }
    queue_append(c, bytes, len);
    return true;
}

static void client_close(server *srv, client *c, const char *why)
{
    char where[32];
    u2c_net_format_addr(&c->peer, where, sizeof where);
    u2c_net_close(c->sock);
    c->used = false;
    srv->client_count--;
    log_line(srv, "%s disconnected (%s); %u client(s)", where, why, (unsigned)srv->client_count);
}

/* Writes what the queue holds, as far as the socket takes it. */
static void client_flush(server *srv, client *c, uint64_t now)
{
    if (now < c->hold_until_ns)
        return;
    while (c->len > 0) {
        size_t chunk = sizeof c->queue - c->head < c->len ? sizeof c->queue - c->head : c->len;
        long n = u2c_net_send(c->sock, c->queue + c->head, chunk);
        if (n == U2C_NET_WOULD_BLOCK || n == 0)
            return;
        if (n < 0) {
            client_close(srv, c, "write failed");
            return;
        }
        c->head = (c->head + (size_t)n) % sizeof c->queue;
        c->len -= (size_t)n;
    }
}

static void reply(client *c, const char *element)
{
    queue_put(c, element, strlen(element));
}

static void reply_ok(client *c)
{
    reply(c, "< ok >");
    c->hold_until_ns = u2c_now_ns() + OK_HOLD_NS;
}

static void reply_error(client *c, const char *text)
{
    char element[U2C_SCAND_ELEMENT_MAX + LEAD_LEN + 1];
    memcpy(element, LEAD, LEAD_LEN);
    if (u2c_scand_format_error(element + LEAD_LEN, sizeof element - LEAD_LEN, text) > 0)
        reply(c, element);
}

/* ---- fan-out ---- */

static bool sub_wants(bcm_sub *s, const u2c_scand_frame *f, uint64_t now)
{
    if (s->throttle_ns && s->have_last && now - s->last_ns < s->throttle_ns)
        return false;
    if (s->content_filter && s->have_last) {
        bool changed = f->dlc != s->last_dlc;
        for (unsigned i = 0; i < 8 && !changed; i++)
            changed = ((f->data[i] ^ s->last[i]) & s->mask[i]) != 0;
        if (!changed)
            return false;
    }
    s->have_last = true;
    s->last_ns = now;
    s->last_dlc = f->dlc;
    memcpy(s->last, f->data, 8);
    return true;
}

static bcm_sub *find_sub(client *c, uint32_t id, bool extended)
{
    for (size_t i = 0; i < U2C_SERVE_SUBS_MAX; i++)
        if (c->subs[i].used && c->subs[i].id == id && c->subs[i].extended == extended)
            return &c->subs[i];
    return NULL;
}

/* A frame on bus `bus` to every client of it but `origin` (-1: from the
 * adapter). error_class != 0 makes it an error frame. Returns true when
 * some client was left with bytes to write. */
static bool deliver(server *srv, int bus, const u2c_scand_frame *f, uint32_t error_class,
                    int origin, bool flush)
{
    uint64_t secs;
    uint32_t usecs;
    wall_now(srv, &secs, &usecs);
    uint64_t now = u2c_now_ns();
    /* Each element is written with one space before it: python-can's reader
     * drops one character after the last whole element it parsed, so
     * without it a frame cut by a read boundary would lose its '<'. */
    char raw[U2C_SCAND_FORMAT_MAX + LEAD_LEN] = LEAD;
    char bcm[U2C_SCAND_FORMAT_MAX + LEAD_LEN] = LEAD;
    size_t raw_len = 0, bcm_len = 0;
    bool pending = false;
    for (int i = 0; i < U2C_SERVE_CLIENTS_MAX; i++) {
        client *c = &srv->clients[i];
        if (!c->used || c->bus != bus || i == origin || c->closing)
            continue;
        if (c->mode == MODE_RAW) {
            if (raw_len == 0)
                raw_len = LEAD_LEN +
                          (error_class
                               ? u2c_scand_format_error_frame(raw + LEAD_LEN, sizeof raw - LEAD_LEN,
                                                              error_class, secs, usecs)
                               : u2c_scand_format_frame(raw + LEAD_LEN, sizeof raw - LEAD_LEN, f,
                                                        secs, usecs, false));
            queue_put(c, raw, raw_len);
        } else if (c->mode == MODE_BCM && error_class == 0) {
            bcm_sub *s = find_sub(c, f->id, f->extended);
            if (s == NULL || !sub_wants(s, f, now))
                continue;
            if (bcm_len == 0)
                bcm_len = LEAD_LEN + u2c_scand_format_frame(bcm + LEAD_LEN, sizeof bcm - LEAD_LEN,
                                                            f, secs, usecs, true);
            queue_put(c, bcm, bcm_len);
        } else {
            continue;
        }
        if (flush)
            client_flush(srv, c, now);
        if (c->used && c->len > 0)
            pending = true;
    }
    return pending;
}

static uint32_t error_class_of(unsigned long status)
{
    switch (status) {
    case CANAL_STATUSMSG_OK:
        return CAN_ERR_RESTARTED;
    case CANAL_STATUSMSG_OVERRUN:
    case CANAL_STATUSMSG_BUSLIGHT:
    case CANAL_STATUSMSG_BUSHEAVY:
        return CAN_ERR_CRTL;
    case CANAL_STATUSMSG_BUSOFF:
        return CAN_ERR_BUSOFF;
    case CANAL_STATUSMSG_ACK:
        return CAN_ERR_ACK;
    default:
        return CAN_ERR_PROT;
    }
}

#define RX_BATCH 64
#define NOT_FORWARDED UINT32_MAX

/* The frame of a CANAL message; returns its error class (0 for a data
 * frame), NOT_FORWARDED for a status the error mask leaves out. */
static uint32_t frame_of(server *srv, const canalMsg *msg, u2c_scand_frame *f)
{
    memset(f, 0, sizeof *f);
    if (msg->flags & CANAL_IDFLAG_STATUS) {
        uint32_t error_class = error_class_of(msg->id) & srv->cfg->error_mask;
        return error_class ? error_class : NOT_FORWARDED;
    }
    f->id = (uint32_t)msg->id;
    f->extended = (msg->flags & CANAL_IDFLAG_EXTENDED) != 0;
    f->rtr = (msg->flags & CANAL_IDFLAG_RTR) != 0;
    f->dlc = msg->sizeData <= 8 ? msg->sizeData : 8;
    memcpy(f->data, msg->data, 8);
    return 0;
}

static void rx_thread(void *arg)
{
    rx_arg *a = arg;
    server *srv = a->srv;
    const u2c_serve_bus *bus = &srv->cfg->buses[a->bus];
    bool failing = false;
    while (!atomic_load(&srv->stopping)) {
        canalMsg msg;
        int rc = CanalBlockingReceive(bus->handle, &msg, POLL_SLICE_MS);
        if (rc == CANAL_ERROR_TIMEOUT || rc == CANAL_ERROR_FIFO_EMPTY ||
            rc == CANAL_ERROR_RCV_EMPTY)
            continue;
        if (rc != CANAL_ERROR_SUCCESS) {
            if (!failing) {
                char text[200];
                snprintf(text, sizeof text, "bus %s: receive failed: %s", bus->name,
                         Usb2canGetLastError());
                u2c_mutex_lock(&srv->lock);
                log_line(srv, "%s", text);
                for (int i = 0; i < U2C_SERVE_CLIENTS_MAX; i++)
                    if (srv->clients[i].used && srv->clients[i].bus == a->bus)
                        reply_error(&srv->clients[i], text);
                u2c_mutex_unlock(&srv->lock);
                u2c_net_wake(srv->wake[1]);
            }
            failing = true;
            u2c_sleep_ms(POLL_SLICE_MS);
            continue;
        }
        failing = false;
        /* What waits behind this frame goes out in the same writes: fewer
         * system calls per frame when the bus is busy, no delay when not. */
        u2c_mutex_lock(&srv->lock);
        for (int batch = 0; batch < RX_BATCH; batch++) {
            u2c_scand_frame f;
            uint32_t error_class = frame_of(srv, &msg, &f);
            if (error_class != NOT_FORWARDED)
                (void)deliver(srv, a->bus, &f, error_class, -1, false);
            if (batch + 1 == RX_BATCH || CanalReceive(bus->handle, &msg) != CANAL_ERROR_SUCCESS)
                break;
        }
        uint64_t now = u2c_now_ns();
        bool pending = false;
        for (int i = 0; i < U2C_SERVE_CLIENTS_MAX; i++) {
            client *c = &srv->clients[i];
            if (!c->used || c->bus != a->bus || c->len == 0)
                continue;
            client_flush(srv, c, now);
            if (c->used && c->len > 0)
                pending = true;
        }
        u2c_mutex_unlock(&srv->lock);
        if (pending)
            u2c_net_wake(srv->wake[1]);
    }
}

/* ---- commands ---- */

static int find_bus(server *srv, const char *name)
{
    for (size_t i = 0; i < srv->cfg->bus_count; i++) {
        const char *a = srv->cfg->buses[i].name;
        size_t k = 0;
        for (; a[k] && name[k]; k++) {
            char x = a[k], y = name[k];
            if (x >= 'a' && x <= 'z')
                x = (char)(x - 32);
            if (y >= 'a' && y <= 'z')
                y = (char)(y - 32);
            if (x != y)
                break;
        }
        if (a[k] == '\0' && name[k] == '\0')
            return (int)i;
    }
    return -1;
}

static void do_send(server *srv, client *c, int index, const u2c_scand_frame *f)
{
    canalMsg m;
    memset(&m, 0, sizeof m);
    m.flags = (f->extended ? CANAL_IDFLAG_EXTENDED : 0) | (f->rtr ? CANAL_IDFLAG_RTR : 0);
    m.id = f->id;
    m.sizeData = f->dlc;
    memcpy(m.data, f->data, 8);
    int rc = CanalSend(srv->cfg->buses[c->bus].handle, &m);
    if (rc != CANAL_ERROR_SUCCESS) {
        char text[200];
        snprintf(text, sizeof text, "send failed: %s", Usb2canGetLastError());
        reply_error(c, text);
        return;
    }
    deliver(srv, c->bus, f, 0, index, true);
}

static const char *mode_word(int mode)
{
    switch (mode) {
    case MODE_BCM:
        return "BCM";
    case MODE_RAW:
        return "raw";
    case MODE_CONTROL:
        return "control";
    default:
        return "no-bus";
    }
}

static bool need_mode(client *c, int mode, const char *word)
{
    if (c->mode == mode)
        return true;
    char text[120];
    snprintf(text, sizeof text, "'%s' works in %s mode, this connection is in %s mode", word,
             mode_word(mode), mode_word(c->mode));
    reply_error(c, text);
    return false;
}

static void bcm_add(client *c, const u2c_scand_command *cmd)
{
    uint64_t interval = cmd->secs * 1000000000ULL + cmd->usecs * NS_PER_US;
    if (interval < BCM_MIN_INTERVAL_NS) {
        reply_error(c, "cyclic interval must be at least 1 ms");
        return;
    }
    bcm_job *slot = NULL;
    for (size_t i = 0; i < U2C_SERVE_JOBS_MAX; i++) {
        bcm_job *j = &c->jobs[i];
        if (j->used && j->frame.id == cmd->frame.id && j->frame.extended == cmd->frame.extended) {
            slot = j; /* as the BCM: a second add for an id replaces the job */
            break;
        }
        if (!j->used && slot == NULL)
            slot = j;
    }
    if (slot == NULL) {
        reply_error(c, "too many cyclic jobs on this connection");
        return;
    }
    slot->used = true;
    slot->frame = cmd->frame;
    slot->interval_ns = interval;
    slot->due_ns = u2c_now_ns();
}

static bcm_job *find_job(client *c, const u2c_scand_frame *f)
{
    for (size_t i = 0; i < U2C_SERVE_JOBS_MAX; i++)
        if (c->jobs[i].used && c->jobs[i].frame.id == f->id &&
            c->jobs[i].frame.extended == f->extended)
            return &c->jobs[i];
    return NULL;
}

static void bcm_subscribe(client *c, const u2c_scand_command *cmd, bool content)
{
    bcm_sub *s = find_sub(c, cmd->frame.id, cmd->frame.extended);
    if (s == NULL) {
        for (size_t i = 0; i < U2C_SERVE_SUBS_MAX && s == NULL; i++)
            if (!c->subs[i].used)
                s = &c->subs[i];
    }
    if (s == NULL) {
        reply_error(c, "too many subscriptions on this connection");
        return;
    }
    memset(s, 0, sizeof *s);
    s->used = true;
    s->id = cmd->frame.id;
    s->extended = cmd->frame.extended;
    s->content_filter = content;
    memcpy(s->mask, cmd->frame.data, 8);
    s->throttle_ns = cmd->secs * 1000000000ULL + cmd->usecs * NS_PER_US;
}

static void handle_element(server *srv, client *c, int index, const char *element)
{
    u2c_scand_command cmd;
    u2c_scand_parse(element, &cmd);
    char text[160];
    switch (cmd.kind) {
    case U2C_SCAND_BAD:
        reply_error(c, cmd.reason);
        return;
    case U2C_SCAND_ECHO:
        reply(c, "< echo >");
        return;
    case U2C_SCAND_OPEN: {
        if (c->mode != MODE_NO_BUS) {
            reply_error(c, "a bus is already open on this connection");
            return;
        }
        int bus = find_bus(srv, cmd.bus);
        if (bus < 0) {
            snprintf(text, sizeof text, "could not open bus %s: this server has no such bus",
                     cmd.bus);
            reply_error(c, text);
            return;
        }
        c->bus = bus;
        c->mode = MODE_BCM;
        reply_ok(c);
        return;
    }
    case U2C_SCAND_CONFIGURE:
        reply_error(c, "the server owns the bus configuration (bit timing and control modes)");
        return;
    case U2C_SCAND_UNSUPPORTED:
        snprintf(text, sizeof text, "'%s' is not supported by this server", cmd.word);
        reply_error(c, text);
        return;
    case U2C_SCAND_HI:
    case U2C_SCAND_OK:
    case U2C_SCAND_FRAME:
    case U2C_SCAND_ERROR:
    case U2C_SCAND_STAT:
        reply_error(c, "that element is sent by a server, not a client");
        return;
    default:
        break;
    }
    if (c->mode == MODE_NO_BUS) {
        reply_error(c, "open a bus first: < open BUS >");
        return;
    }
    switch (cmd.kind) {
    case U2C_SCAND_RAWMODE:
    case U2C_SCAND_BCMMODE:
    case U2C_SCAND_CONTROLMODE:
        c->mode = cmd.kind == U2C_SCAND_RAWMODE   ? MODE_RAW
                  : cmd.kind == U2C_SCAND_BCMMODE ? MODE_BCM
                                                  : MODE_CONTROL;
        reply_ok(c);
        return;
    case U2C_SCAND_ISOTPMODE:
        reply_error(c, "ISO-TP mode is not supported by this server");
        return;
    case U2C_SCAND_SEND:
        if (c->mode == MODE_CONTROL) {
            reply_error(c, "'send' works in raw and BCM mode, this connection is in control mode");
            return;
        }
        do_send(srv, c, index, &cmd.frame);
        return;
    case U2C_SCAND_ADD:
        if (need_mode(c, MODE_BCM, "add"))
            bcm_add(c, &cmd);
        return;
    case U2C_SCAND_UPDATE:
    case U2C_SCAND_DELETE: {
        bool update = cmd.kind == U2C_SCAND_UPDATE;
        bcm_job *j =
            need_mode(c, MODE_BCM, update ? "update" : "delete") ? find_job(c, &cmd.frame) : NULL;
        if (j != NULL && update)
            j->frame = cmd.frame;
        else if (j != NULL)
            j->used = false;
        else if (c->mode == MODE_BCM)
            reply_error(c, "no cyclic job for that identifier");
        return;
    }
    case U2C_SCAND_SUBSCRIBE:
        if (need_mode(c, MODE_BCM, "subscribe"))
            bcm_subscribe(c, &cmd, false);
        return;
    case U2C_SCAND_FILTER:
        if (need_mode(c, MODE_BCM, "filter"))
            bcm_subscribe(c, &cmd, true);
        return;
    case U2C_SCAND_UNSUBSCRIBE:
        if (need_mode(c, MODE_BCM, "unsubscribe")) {
            bcm_sub *s = find_sub(c, cmd.frame.id, cmd.frame.extended);
            if (s == NULL)
                reply_error(c, "no subscription for that identifier");
            else
                s->used = false;
        }
        return;
    case U2C_SCAND_STATISTICS:
        if (need_mode(c, MODE_CONTROL, "statistics")) {
            c->stat_interval_ns = cmd.secs * NS_PER_MS;
            c->stat_due_ns = u2c_now_ns() + c->stat_interval_ns;
        }
        return;
    default:
        reply_error(c, "unexpected command");
        return;
    }
}

static void client_read(server *srv, client *c, int index)
{
    char bytes[RECV_CHUNK];
    long n = u2c_net_recv(c->sock, bytes, sizeof bytes);
    if (n == U2C_NET_WOULD_BLOCK)
        return;
    if (n <= 0) {
        client_close(srv, c, n == 0 ? "closed by peer" : "read failed");
        return;
    }
    size_t at = 0;
    while (at < (size_t)n && c->used) {
        size_t used = 0;
        u2c_scand_event ev = u2c_scand_reader_push(&c->reader, bytes + at, (size_t)n - at, &used);
        at += used;
        if (ev == U2C_SCAND_ELEMENT)
            handle_element(srv, c, index, c->reader.element);
        else if (ev == U2C_SCAND_TOO_LONG)
            reply_error(c, "element too long");
        else if (ev == U2C_SCAND_MALFORMED)
            reply_error(c, "malformed element (binary bytes, text outside '< >' or a '<' inside)");
    }
}

/* ---- accept, timers, beacon ---- */

static bool peer_allowed(const u2c_serve_config *cfg, uint32_t ip)
{
    if (cfg->allow_count == 0)
        return true;
    for (size_t i = 0; i < cfg->allow_count; i++)
        if ((ip & cfg->allow_mask[i]) == cfg->allow_network[i])
            return true;
    return false;
}

static void accept_clients(server *srv)
{
    for (;;) {
        u2c_net_addr peer;
        u2c_socket s = u2c_net_accept(srv->listener, &peer);
        if (s == U2C_SOCKET_INVALID)
            return;
        char where[32];
        u2c_net_format_addr(&peer, where, sizeof where);
        if (!peer_allowed(srv->cfg, peer.ip)) {
            u2c_net_close(s);
            log_line(srv, "%s refused: not in an allowed network (--allow)", where);
            continue;
        }
        u2c_net_set_nonblocking(s);
        u2c_net_set_nodelay(s);
        client *c = NULL;
        for (int i = 0; i < U2C_SERVE_CLIENTS_MAX && c == NULL; i++)
            if (!srv->clients[i].used)
                c = &srv->clients[i];
        if (c == NULL) {
            static const char full[] = "< error too many clients >";
            (void)u2c_net_send(s, full, sizeof full - 1);
            u2c_net_close(s);
            log_line(srv, "%s refused: %d clients already", where, U2C_SERVE_CLIENTS_MAX);
            continue;
        }
        memset(c, 0, offsetof(client, queue));
        c->head = c->len = 0;
        c->hold_until_ns = 0;
        c->dropped = c->dropped_reported = 0;
        memset(c->jobs, 0, sizeof c->jobs);
        memset(c->subs, 0, sizeof c->subs);
        c->stat_interval_ns = c->stat_due_ns = 0;
        c->used = true;
        c->sock = s;
        c->peer = peer;
        c->mode = MODE_NO_BUS;
        c->bus = -1;
        u2c_scand_reader_init(&c->reader);
        srv->client_count++;
        reply(c, "< hi >");
        log_line(srv, "%s connected; %u client(s)", where, (unsigned)srv->client_count);
    }
}

static uint64_t run_timers(server *srv, uint64_t now)
{
    uint64_t next = now + POLL_SLICE_MS * NS_PER_MS;
    for (int i = 0; i < U2C_SERVE_CLIENTS_MAX; i++) {
        client *c = &srv->clients[i];
        if (!c->used)
            continue;
        if (c->mode == MODE_BCM) {
            for (size_t k = 0; k < U2C_SERVE_JOBS_MAX; k++) {
                bcm_job *j = &c->jobs[k];
                if (!j->used)
                    continue;
                if (j->due_ns <= now) {
                    do_send(srv, c, i, &j->frame);
                    j->due_ns += j->interval_ns;
                    if (j->due_ns <= now) /* fell behind: no burst to catch up */
                        j->due_ns = now + j->interval_ns;
                }
                if (j->due_ns < next)
                    next = j->due_ns;
            }
        }
        if (c->mode == MODE_CONTROL && c->stat_interval_ns) {
            if (c->stat_due_ns <= now) {
                canalStatistics st;
                if (CanalGetStatistics(srv->cfg->buses[c->bus].handle, &st) ==
                    CANAL_ERROR_SUCCESS) {
                    uint64_t v[4] = {st.cntReceiveData, st.cntReceiveFrames, st.cntTransmitData,
                                     st.cntTransmitFrames};
                    char element[U2C_SCAND_FORMAT_MAX + LEAD_LEN] = LEAD;
                    size_t n =
                        u2c_scand_format_stat(element + LEAD_LEN, sizeof element - LEAD_LEN, v);
                    if (n)
                        queue_put(c, element, n + LEAD_LEN);
                }
                c->stat_due_ns += c->stat_interval_ns;
                if (c->stat_due_ns <= now)
                    c->stat_due_ns = now + c->stat_interval_ns;
            }
            if (c->stat_due_ns < next)
                next = c->stat_due_ns;
        }
        if (c->len > 0 && c->hold_until_ns > now && c->hold_until_ns < next)
            next = c->hold_until_ns;
    }
    if (srv->beacon_sock != U2C_SOCKET_INVALID) {
        if (srv->beacon_due_ns <= now) {
            u2c_net_addr to = {u2c_net_is_loopback(srv->cfg->listen.ip) ? 0x7FFFFFFFu : 0xFFFFFFFFu,
                               U2C_SERVE_BEACON_PORT};
            if (srv->cfg->listen.ip == 0x7F000001u)
                to.ip = 0x7F000001u; /* loopback only: straight to a local listener */
            (void)u2c_net_send_to(srv->beacon_sock, &to, srv->beacon_text, srv->beacon_len);
            srv->beacon_due_ns = now + BEACON_INTERVAL_NS;
        }
        if (srv->beacon_due_ns < next)
            next = srv->beacon_due_ns;
    }
    return next;
}

static void make_beacon(server *srv)
{
    const u2c_serve_config *cfg = srv->cfg;
    char url[32];
    u2c_net_format_addr(&cfg->listen, url, sizeof url);
    int n = snprintf(srv->beacon_text, sizeof srv->beacon_text,
                     "<CANBeacon name=\"usb2can\" type=\"adapter\" description=\"usb2can-cli "
                     "serve\">\n<URL>can://%s</URL>",
                     url);
    size_t used = n > 0 ? (size_t)n : 0;
    for (size_t i = 0; i < cfg->bus_count && used < sizeof srv->beacon_text; i++) {
        n = snprintf(srv->beacon_text + used, sizeof srv->beacon_text - used, "<Bus name=\"%s\"/>",
                     cfg->buses[i].name);
        used += n > 0 ? (size_t)n : 0;
    }
    if (used < sizeof srv->beacon_text) {
        n = snprintf(srv->beacon_text + used, sizeof srv->beacon_text - used, "</CANBeacon>");
        used += n > 0 ? (size_t)n : 0;
    }
    srv->beacon_len = used < sizeof srv->beacon_text ? used : sizeof srv->beacon_text - 1;
}

/* ---- the loop ---- */

static void serve_loop(server *srv)
{
    u2c_net_pollfd fds[2 + U2C_SERVE_CLIENTS_MAX];
    int owner[2 + U2C_SERVE_CLIENTS_MAX];
    while (!cli_stop_requested()) {
        u2c_mutex_lock(&srv->lock);
        uint64_t now = u2c_now_ns();
        uint64_t next = run_timers(srv, now);
        size_t count = 0;
        fds[count] = (u2c_net_pollfd){srv->listener, U2C_NET_POLL_IN, 0};
        owner[count++] = -1;
        fds[count] = (u2c_net_pollfd){srv->wake[0], U2C_NET_POLL_IN, 0};
        owner[count++] = -1;
        for (int i = 0; i < U2C_SERVE_CLIENTS_MAX; i++) {
            client *c = &srv->clients[i];
            if (!c->used)
                continue;
            client_flush(srv, c, now);
            if (!c->used)
                continue;
            unsigned events = c->closing ? 0 : U2C_NET_POLL_IN;
            if (c->len > 0 && now >= c->hold_until_ns)
                events |= U2C_NET_POLL_OUT;
            fds[count] = (u2c_net_pollfd){c->sock, events, 0};
            owner[count++] = i;
        }
        u2c_mutex_unlock(&srv->lock);

        uint64_t wait_ns = next > now ? next - now : 0;
        int timeout = (int)((wait_ns + NS_PER_MS - 1) / NS_PER_MS);
        if (u2c_net_poll(fds, count, timeout) < 0) {
            u2c_sleep_ms(1);
            continue;
        }

        u2c_mutex_lock(&srv->lock);
        if (fds[1].revents)
            u2c_net_drain(srv->wake[0]);
        if (fds[0].revents & U2C_NET_POLL_IN)
            accept_clients(srv);
        now = u2c_now_ns();
        for (size_t k = 2; k < count; k++) {
            client *c = &srv->clients[owner[k]];
            if (!c->used || c->sock != fds[k].sock)
                continue;
            if (fds[k].revents & U2C_NET_POLL_IN)
                client_read(srv, c, owner[k]);
            else if (fds[k].revents & U2C_NET_POLL_ERR)
                client_close(srv, c, "connection error");
            if (c->used && (fds[k].revents & U2C_NET_POLL_OUT))
                client_flush(srv, c, now);
        }
        u2c_mutex_unlock(&srv->lock);
    }
}

int u2c_serve_run(const u2c_serve_config *config, char *reason, size_t reason_size)
{
    if (!u2c_net_init(reason, reason_size))
        return -1;
    server *srv = calloc(1, sizeof *srv);
    if (srv == NULL) {
        snprintf(reason, reason_size, "out of memory");
        return -1;
    }
    srv->cfg = config;
    u2c_mutex_init(&srv->lock);
    srv->beacon_sock = U2C_SOCKET_INVALID;
    srv->wall0_us = u2c_net_epoch_us();
    srv->mono0_ns = u2c_now_ns();
    int result = -1;
    srv->listener = u2c_net_listen(&config->listen, reason, reason_size);
    if (srv->listener == U2C_SOCKET_INVALID)
        goto out;
    u2c_net_set_nonblocking(srv->listener);
    if (!u2c_net_wake_pair(srv->wake, reason, reason_size)) {
        u2c_net_close(srv->listener);
        goto out;
    }
    if (config->beacon) {
        srv->beacon_sock = u2c_net_udp_broadcaster();
        make_beacon(srv);
    }
    for (size_t i = 0; i < config->bus_count; i++) {
        srv->rx_args[i] = (rx_arg){srv, (int)i};
        if (u2c_thread_start(&srv->rx_threads[i], rx_thread, &srv->rx_args[i]) != 0) {
            snprintf(reason, reason_size, "cannot start a receive thread");
            break;
        }
        srv->rx_started++;
    }
    if (srv->rx_started == config->bus_count) {
        char where[32];
        u2c_net_format_addr(&config->listen, where, sizeof where);
        log_line(srv, "listening on %s (socketcand protocol; no authentication, no encryption)",
                 where);
        serve_loop(srv);
        result = 0;
    }
    atomic_store(&srv->stopping, 1);
    for (size_t i = 0; i < srv->rx_started; i++)
        u2c_thread_join(&srv->rx_threads[i]);
    for (int i = 0; i < U2C_SERVE_CLIENTS_MAX; i++)
        if (srv->clients[i].used)
            client_close(srv, &srv->clients[i], "server stopping");
    u2c_net_close(srv->listener);
    u2c_net_close(srv->wake[0]);
    u2c_net_close(srv->wake[1]);
    u2c_net_close(srv->beacon_sock);
out:
    u2c_mutex_destroy(&srv->lock);
    free(srv);
    return result;
}
