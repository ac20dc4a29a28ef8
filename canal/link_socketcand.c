/* A socketcand server's bus as a link (link_socketcand.h). One thread per
 * link reads the socket and writes what kick_out could not; `lock` guards
 * the sink, the state, the counters and the output buffer, and may be held
 * while calling sink->next_out (which takes the channel's lock), never while
 * calling in_packet or gone. */
#include "link_socketcand.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_socket.h"
#include "osal.h"
#include "socketcand_codec.h"
#include "u8d_codec.h"

#define HOST_MAX 63
#define OUT_BUFFER 8192
#define IN_CHUNK 8192
#define FLUSH_AT_STOP_MS 1000
/* What this link says it is when asked (GET_SOFTW_HARDW_VER): a vendor
 * firmware 1.7 adapter, so the channel uses the vendor's record format. */
#define REMOTE_FW_MAJOR 1
#define REMOTE_FW_MINOR 7

typedef struct sc_link {
    u2c_link base;
    char bus[U2C_SCAND_BUS_NAME_MAX + 1];
    char where[HOST_MAX + 8];
    u2c_socket sock;
    u2c_mutex lock;
    u2c_thread thread;
    bool thread_running;
    const u2c_link_sink *sink;
    bool streaming;
    bool stopping;
    bool gone;
    bool want_write;
    uint64_t start_ns;
    uint32_t rx_frames, rx_bytes, tx_frames, tx_bytes, overruns;
    char out[OUT_BUFFER];
    size_t out_len;
    char pending[IN_CHUNK]; /* bytes read during the greeting after the last "< ok >" */
    size_t pending_len;
    u2c_scand_reader reader;
} sc_link;

static const u2c_link_ops socketcand_ops;

bool u2c_socketcand_is_remote(const char *spec)
{
    return spec != NULL && strchr(spec, '@') != NULL;
}

bool u2c_link_is_socketcand(const u2c_link *link)
{
    return link != NULL && link->ops == &socketcand_ops;
}

/* ---- commands, answered here ---- */

static int sc_command(u2c_link *base, const uint8_t request[U8D_CMD_SIZE],
                      uint8_t reply[U8D_CMD_SIZE], unsigned timeout_ms)
{
    (void)timeout_ms;
    sc_link *l = (sc_link *)base;
    uint8_t data[10] = {0};
    uint32_t value = 0;
    u2c_mutex_lock(&l->lock);
    if (l->gone) {
        u2c_mutex_unlock(&l->lock);
        return U2C_LINK_GONE;
    }
    switch (request[U8D_CMD_OFF_CODE]) {
    case U8D_CMD_GET_SOFTW_HARDW_VER:
        data[0] = REMOTE_FW_MAJOR;
        data[1] = REMOTE_FW_MINOR;
        data[2] = 1;
        data[3] = 0;
        break;
    case U8D_CMD_GET_STATISTICS:
        if (request[U8D_CMD_OFF_OPT1] <= U8D_STAT_OVERRUNS) {
            /* In the order of the selectors (enum u8d_stat_index). */
            const uint32_t counters[] = {l->rx_frames, l->rx_bytes, l->tx_frames, l->tx_bytes,
                                         l->overruns};
            value = counters[request[U8D_CMD_OFF_OPT1]];
        }
        break;
    default: /* OPEN, CLOSE, GET_STATUS (0: error active), the rest: accepted */
        break;
    }
    u2c_mutex_unlock(&l->lock);
    if (request[U8D_CMD_OFF_CODE] != U8D_CMD_GET_SOFTW_HARDW_VER) {
        u8d_put_be32(data, value);
    }
    u8d_encode_command(reply, request[U8D_CMD_OFF_CODE], U8D_RESULT_OK, 0, data);
    return U2C_LINK_OK;
}

/* ---- transmit ---- */

/* Writes the buffer and refills it from the channel's queue until the
 * socket would block or the queue is empty. lock held. */
static void pump_out(sc_link *l, bool pull)
{
    for (;;) {
        while (l->out_len > 0) {
            long n = u2c_net_send(l->sock, l->out, l->out_len);
            if (n == U2C_NET_WOULD_BLOCK || n == 0) {
                l->want_write = true;
                return;
            }
            if (n < 0)
                return; /* the reader finds the broken connection */
            memmove(l->out, l->out + n, l->out_len - (size_t)n);
            l->out_len -= (size_t)n;
        }
        l->want_write = false;
        if (!pull || !l->streaming || l->gone || l->sink == NULL)
            return;
        bool any = false;
        while (l->out_len + U2C_SCAND_FORMAT_MAX <= sizeof l->out) {
            uint8_t record[U8D_TX_RECORD_SIZE];
            if (!l->sink->next_out(l->sink->ctx, record))
                break;
            u8d_frame f;
            if (u8d_decode_tx(record, sizeof record, &f) != U8D_OK)
                continue; /* the channel encodes only valid records */
            u2c_scand_frame sf = {
                f.id, (f.flags & U8D_FLAG_EXT) != 0, (f.flags & U8D_FLAG_RTR) != 0, f.dlc, {0}};
            memcpy(sf.data, f.data, sizeof sf.data);
            l->out_len +=
                u2c_scand_format_send(l->out + l->out_len, sizeof l->out - l->out_len, &sf);
            l->tx_frames++;
            l->tx_bytes += f.dlc;
            any = true;
        }
        if (!any)
            return;
    }
}

static void sc_kick_out(u2c_link *base)
{
    sc_link *l = (sc_link *)base;
    u2c_mutex_lock(&l->lock);
    pump_out(l, true);
    u2c_mutex_unlock(&l->lock);
}

/* ---- receive ---- */

typedef struct packet {
    uint8_t bytes[U8D_IN_PACKET_MAX];
    size_t len;
} packet;

static void packet_flush(sc_link *l, packet *p)
{
    if (p->len > 0)
        l->sink->in_packet(l->sink->ctx, p->bytes, p->len);
    p->len = 0;
}

static void take_element(sc_link *l, const char *element, packet *p)
{
    u2c_scand_command cmd;
    u2c_scand_parse(element, &cmd);
    if (cmd.kind == U2C_SCAND_FRAME) {
        u8d_rx_record r;
        memset(&r, 0, sizeof r);
        r.type = U8D_TYPE_CAN;
        r.frame.id = cmd.frame.id;
        r.frame.flags =
            (uint8_t)((cmd.frame.extended ? U8D_FLAG_EXT : 0) | (cmd.frame.rtr ? U8D_FLAG_RTR : 0));
        r.frame.dlc = cmd.frame.dlc;
        memcpy(r.frame.data, cmd.frame.data, 8);
        /* vendor ticks: 992.1875 us = 127/128 ms */
        uint64_t us = (u2c_now_ns() - l->start_ns) / 1000u;
        r.timestamp = (uint32_t)(us * 128u / 127000u);
        u8d_encode_rx(p->bytes + p->len, &r, U8D_FLAVOR_VENDOR);
        p->len += U8D_RX_RECORD_SIZE;
        u2c_mutex_lock(&l->lock);
        l->rx_frames++;
        l->rx_bytes += cmd.frame.dlc;
        u2c_mutex_unlock(&l->lock);
        if (p->len + U8D_RX_RECORD_SIZE > U8D_IN_PACKET_MAX)
            packet_flush(l, p);
    } else if (cmd.kind == U2C_SCAND_ERROR) {
        unsigned long long dropped = 0;
        if (sscanf(cmd.text, "queue full: %llu frames dropped", &dropped) == 1) {
            u2c_mutex_lock(&l->lock);
            l->overruns += (uint32_t)dropped;
            u2c_mutex_unlock(&l->lock);
        }
    }
}

static void take_bytes(sc_link *l, const char *bytes, size_t len)
{
    packet p = {{0}, 0};
    size_t at = 0;
    while (at < len) {
        size_t used = 0;
        u2c_scand_event ev = u2c_scand_reader_push(&l->reader, bytes + at, len - at, &used);
        at += used;
        if (ev == U2C_SCAND_ELEMENT)
            take_element(l, l->reader.element, &p);
    }
    packet_flush(l, &p);
}

static void lost(sc_link *l, const char *why)
{
    char reason[400];
    snprintf(reason, sizeof reason, "connection to socketcand server %s (bus %s) lost: %s",
             l->where, l->bus, why);
    u2c_mutex_lock(&l->lock);
    bool first = !l->gone;
    l->gone = true;
    const u2c_link_sink *sink = l->sink;
    u2c_mutex_unlock(&l->lock);
    if (first && sink && sink->gone)
        sink->gone(sink->ctx, reason);
}

static void reader_thread(void *arg)
{
    sc_link *l = arg;
    char *chunk = malloc(IN_CHUNK);
    if (chunk == NULL) {
        lost(l, "out of memory");
        return;
    }
    if (l->pending_len > 0) {
        take_bytes(l, l->pending, l->pending_len);
        l->pending_len = 0;
    }
    for (;;) {
        u2c_mutex_lock(&l->lock);
        bool stop = l->stopping || l->gone;
        unsigned events = U2C_NET_POLL_IN | (l->want_write ? U2C_NET_POLL_OUT : 0u);
        u2c_mutex_unlock(&l->lock);
        if (stop)
            break;
        u2c_net_pollfd p = {l->sock, events, 0};
        int n = u2c_net_poll(&p, 1, U2C_SOCKETCAND_POLL_MS);
        if (n <= 0)
            continue;
        if (p.revents & U2C_NET_POLL_OUT) {
            u2c_mutex_lock(&l->lock);
            pump_out(l, true);
            u2c_mutex_unlock(&l->lock);
        }
        if (p.revents & (U2C_NET_POLL_IN | U2C_NET_POLL_ERR)) {
            long got = u2c_net_recv(l->sock, chunk, IN_CHUNK);
            if (got == U2C_NET_WOULD_BLOCK)
                continue;
            if (got <= 0) {
                char text[160];
                if (got == 0)
                    snprintf(text, sizeof text, "the server closed the connection");
                else
                    u2c_net_last_error(text, sizeof text);
                lost(l, text);
                break;
            }
            take_bytes(l, chunk, (size_t)got);
        }
    }
    free(chunk);
}

static int sc_start(u2c_link *base, const u2c_link_sink *sink)
{
    sc_link *l = (sc_link *)base;
    u2c_mutex_lock(&l->lock);
    if (l->gone) {
        u2c_mutex_unlock(&l->lock);
        return U2C_LINK_GONE;
    }
    l->sink = sink;
    l->streaming = true;
    l->stopping = false;
    l->start_ns = u2c_now_ns();
    u2c_mutex_unlock(&l->lock);
    if (u2c_thread_start(&l->thread, reader_thread, l) != 0) {
        u2c_mutex_lock(&l->lock);
        l->streaming = false;
        u2c_mutex_unlock(&l->lock);
        return U2C_LINK_NO_MEMORY;
    }
    l->thread_running = true;
    return U2C_LINK_OK;
}

static void sc_stop(u2c_link *base)
{
    sc_link *l = (sc_link *)base;
    /* What the channel handed over is written before the connection goes. */
    uint64_t deadline = u2c_deadline_after_ms(FLUSH_AT_STOP_MS);
    for (;;) {
        u2c_mutex_lock(&l->lock);
        if (!l->gone)
            pump_out(l, l->streaming);
        bool done = l->out_len == 0 || l->gone;
        u2c_mutex_unlock(&l->lock);
        if (done || u2c_now_ns() >= deadline)
            break;
        u2c_net_pollfd p = {l->sock, U2C_NET_POLL_OUT, 0};
        (void)u2c_net_poll(&p, 1, U2C_SOCKETCAND_POLL_MS);
    }
    u2c_mutex_lock(&l->lock);
    l->stopping = true;
    u2c_mutex_unlock(&l->lock);
    if (l->thread_running) {
        u2c_thread_join(&l->thread);
        l->thread_running = false;
    }
    u2c_mutex_lock(&l->lock);
    l->streaming = false;
    l->sink = NULL;
    u2c_mutex_unlock(&l->lock);
}

static void sc_destroy(u2c_link *base)
{
    sc_link *l = (sc_link *)base;
    if (l->thread_running)
        sc_stop(base);
    u2c_net_close(l->sock);
    u2c_mutex_destroy(&l->lock);
    free(l);
}

static const u2c_link_ops socketcand_ops =
    U2C_LINK_OPS(sc_command, sc_start, sc_kick_out, sc_stop, sc_destroy, NULL);

/* ---- opening ---- */

static bool parse_spec(const char *spec, char *bus, char *host, uint16_t *port, char *reason,
                       size_t reason_size)
{
    const char *at = strchr(spec, '@');
    size_t bus_len = at ? (size_t)(at - spec) : 0;
    if (at == NULL || bus_len == 0 || bus_len > U2C_SCAND_BUS_NAME_MAX) {
        snprintf(reason, reason_size,
                 "remote bus '%s': give BUS@HOST[:PORT], BUS of 1 to %d characters", spec,
                 U2C_SCAND_BUS_NAME_MAX);
        return false;
    }
    memcpy(bus, spec, bus_len);
    bus[bus_len] = '\0';
    const char *h = at + 1;
    const char *colon = strchr(h, ':');
    size_t host_len = colon ? (size_t)(colon - h) : strlen(h);
    if (host_len == 0 || host_len > HOST_MAX) {
        snprintf(reason, reason_size, "remote bus '%s': the host is empty or longer than %d", spec,
                 HOST_MAX);
        return false;
    }
    memcpy(host, h, host_len);
    host[host_len] = '\0';
    *port = U2C_SOCKETCAND_PORT;
    if (colon) {
        unsigned long p = 0;
        const char *d = colon + 1;
        if (*d == '\0')
            p = 0;
        for (; *d >= '0' && *d <= '9' && p <= 65535; d++)
            p = p * 10 + (unsigned long)(*d - '0');
        if (*d != '\0' || p == 0 || p > 65535) {
            snprintf(reason, reason_size, "remote bus '%s': port must be 1 to 65535", spec);
            return false;
        }
        *port = (uint16_t)p;
    }
    return true;
}

/* Reads until one element arrives (blocking socket, bounded), leaving
 * anything after it in l->pending. */
static bool expect(sc_link *l, const char *wanted, char *reason, size_t reason_size,
                   u2c_link_result *result)
{
    uint64_t deadline = u2c_deadline_after_ms(U2C_SOCKETCAND_CONNECT_MS);
    for (;;) {
        size_t at = 0;
        while (at < l->pending_len) {
            size_t used = 0;
            u2c_scand_event ev =
                u2c_scand_reader_push(&l->reader, l->pending + at, l->pending_len - at, &used);
            at += used;
            if (ev != U2C_SCAND_ELEMENT)
                continue;
            memmove(l->pending, l->pending + at, l->pending_len - at);
            l->pending_len -= at;
            if (strcmp(l->reader.element, wanted) == 0)
                return true;
            u2c_scand_command cmd;
            u2c_scand_parse(l->reader.element, &cmd);
            *result = U2C_LINK_NOT_FOUND;
            snprintf(reason, reason_size, "socketcand server %s, bus %s: wanted '%s', got '%s'",
                     l->where, l->bus, wanted, l->reader.element);
            return false;
        }
        l->pending_len = 0;
        uint64_t now = u2c_now_ns();
        if (now >= deadline) {
            *result = U2C_LINK_TIMEOUT;
            snprintf(reason, reason_size, "socketcand server %s: no '%s' within %d ms", l->where,
                     wanted, U2C_SOCKETCAND_CONNECT_MS);
            return false;
        }
        u2c_net_pollfd p = {l->sock, U2C_NET_POLL_IN, 0};
        int n = u2c_net_poll(&p, 1, (int)((deadline - now) / 1000000u) + 1);
        if (n <= 0)
            continue;
        long got = u2c_net_recv(l->sock, l->pending, sizeof l->pending);
        if (got == U2C_NET_WOULD_BLOCK)
            continue;
        if (got <= 0) {
            *result = U2C_LINK_IO;
            snprintf(reason, reason_size, "socketcand server %s closed the connection before '%s'",
                     l->where, wanted);
            return false;
        }
        l->pending_len = (size_t)got;
    }
}

static bool say(sc_link *l, const char *text)
{
    size_t len = strlen(text);
    size_t at = 0;
    uint64_t deadline = u2c_deadline_after_ms(U2C_SOCKETCAND_CONNECT_MS);
    while (at < len && u2c_now_ns() < deadline) {
        long n = u2c_net_send(l->sock, text + at, len - at);
        if (n > 0) {
            at += (size_t)n;
            continue;
        }
        if (n != U2C_NET_WOULD_BLOCK)
            return false;
        u2c_net_pollfd p = {l->sock, U2C_NET_POLL_OUT, 0};
        (void)u2c_net_poll(&p, 1, U2C_SOCKETCAND_POLL_MS);
    }
    return at == len;
}

u2c_link *u2c_link_open_socketcand(const char *spec, u2c_link_result *result, char *reason,
                                   size_t reason_size)
{
    char host[HOST_MAX + 1];
    uint16_t port;
    sc_link *l = calloc(1, sizeof *l);
    if (l == NULL) {
        *result = U2C_LINK_NO_MEMORY;
        snprintf(reason, reason_size, "out of memory");
        return NULL;
    }
    if (!parse_spec(spec, l->bus, host, &port, reason, reason_size)) {
        *result = U2C_LINK_NOT_FOUND;
        free(l);
        return NULL;
    }
    snprintf(l->where, sizeof l->where, "%s:%u", host, (unsigned)port);
    if (!u2c_net_init(reason, reason_size)) {
        *result = U2C_LINK_IO;
        free(l);
        return NULL;
    }
    l->sock = u2c_net_connect(host, port, U2C_SOCKETCAND_CONNECT_MS, reason, reason_size);
    if (l->sock == U2C_SOCKET_INVALID) {
        *result = U2C_LINK_NOT_FOUND;
        free(l);
        return NULL;
    }
    u2c_net_set_nonblocking(l->sock);
    u2c_scand_reader_init(&l->reader);
    char open_cmd[U2C_SCAND_BUS_NAME_MAX + 16];
    snprintf(open_cmd, sizeof open_cmd, "< open %s >", l->bus);
    bool ok = expect(l, "< hi >", reason, reason_size, result);
    if (ok && !(ok = say(l, open_cmd))) {
        *result = U2C_LINK_IO;
        snprintf(reason, reason_size, "socketcand server %s: cannot send '%s'", l->where, open_cmd);
    }
    ok = ok && expect(l, "< ok >", reason, reason_size, result);
    if (ok && !(ok = say(l, "< rawmode >"))) {
        *result = U2C_LINK_IO;
        snprintf(reason, reason_size, "socketcand server %s: cannot send '< rawmode >'", l->where);
    }
    ok = ok && expect(l, "< ok >", reason, reason_size, result);
    if (!ok) {
        u2c_net_close(l->sock);
        free(l);
        return NULL;
    }
    u2c_mutex_init(&l->lock);
    l->base.ops = &socketcand_ops;
    snprintf(l->base.serial, sizeof l->base.serial, "%s", spec);
    *result = U2C_LINK_OK;
    return &l->base;
}
