/*
 * A remote bus in CanalOpen ("BUS@HOST:PORT") against `usb2can-cli serve`
 * run in this process (so a local VIRTUAL2 shares the served adapters'
 * in-process bus): send, receive, blocking receive, status, statistics and
 * filters through the socketcand link; the clear refusals (bit rate,
 * listen-only); a lost connection handled like an unplug, timed against the
 * monotonic clock; and a reopen. Loopback only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "canal.h"
#include "cli.h"
#include "net_socket.h"
#include "osal.h"
#include "usb2can.h"

#define MS 1000000ULL

static char g_port_text[16];
static char g_listen[32];

typedef struct server_run {
    u2c_thread thread;
    atomic_int done;
    int status;
} server_run;

static void run_server(void *arg)
{
    server_run *s = arg;
    char *argv[] = {"usb2can-cli", "serve", "VIRTUAL0", "VIRTUAL1", "--listen", g_listen, NULL};
    FILE *out = fopen("remote_bus_server_out.txt", "wb");
    FILE *err = fopen("remote_bus_server_err.txt", "wb");
    s->status = u2c_cli_run(6, argv, out, err);
    fclose(out);
    fclose(err);
    atomic_store(&s->done, 1);
}

static void start_server(server_run *s)
{
    memset(s, 0, sizeof *s);
    assert_int_equal(u2c_thread_start(&s->thread, run_server, s), 0);
    /* ready once it accepts */
    for (int i = 0; i < 100; i++) {
        char reason[128];
        u2c_net_addr a = {0x7F000001u, (uint16_t)atoi(g_port_text)};
        u2c_socket t = u2c_net_connect_from(NULL, &a, 200, reason, sizeof reason);
        if (t != U2C_SOCKET_INVALID) {
            u2c_net_close(t);
            return;
        }
        u2c_sleep_ms(50);
    }
    fail_msg("server did not start");
}

static void stop_server(server_run *s)
{
    u2c_cli_request_stop();
    u2c_thread_join(&s->thread);
    assert_int_equal(s->status, 0);
}

static long open_remote(const char *bus, const char *tail, unsigned long flags)
{
    char setup[128];
    snprintf(setup, sizeof setup, "%s@127.0.0.1:%s%s", bus, g_port_text, tail);
    return CanalOpen(setup, flags);
}

static canalMsg frame(unsigned long id, unsigned char dlc, unsigned char first)
{
    canalMsg m;
    memset(&m, 0, sizeof m);
    m.id = id;
    m.sizeData = dlc;
    for (unsigned i = 0; i < dlc; i++)
        m.data[i] = (unsigned char)(first + i);
    return m;
}

static void expect_frame(long h, unsigned long id, unsigned char first)
{
    canalMsg m;
    int rc = CanalBlockingReceive(h, &m, 2000);
    if (rc != CANAL_ERROR_SUCCESS)
        fail_msg("handle %ld: no frame %lX: %d %s", h, id, rc, Usb2canGetLastError());
    assert_int_equal(m.id, id);
    assert_int_equal(m.data[0], first);
}

static void expect_nothing(long h, unsigned ms)
{
    canalMsg m;
    int rc = CanalBlockingReceive(h, &m, ms);
    if (rc == CANAL_ERROR_SUCCESS)
        fail_msg("handle %ld: unexpected frame %lX", h, m.id);
}

static void test_send_receive_filters_status(void **state)
{
    (void)state;
    server_run s;
    start_server(&s);
    long a = open_remote("VIRTUAL0", ";500", 0);
    if (a <= 0)
        fail_msg("open: %s", Usb2canGetLastError());
    long b = open_remote("VIRTUAL0", "", 0); /* no bit rate: the server owns it */
    assert_true(b > 0);
    long local = CanalOpen("VIRTUAL2;500", 0);
    assert_true(local > 0);
    u2c_sleep_ms(60); /* past the server's hold after "< ok >" */

    canalMsg m = frame(0x123, 3, 0x10);
    assert_int_equal(CanalSend(a, &m), CANAL_ERROR_SUCCESS);
    expect_frame(b, 0x123, 0x10);     /* the other client */
    expect_frame(local, 0x123, 0x10); /* the bus, through the served VIRTUAL0 */
    expect_nothing(a, 200);           /* never its own */

    m = frame(0x1ABCDEF, 8, 0x20);
    m.flags = CANAL_IDFLAG_EXTENDED;
    assert_int_equal(CanalSend(local, &m), CANAL_ERROR_SUCCESS);
    for (long h = a; h <= b; h++) {
        canalMsg r;
        assert_int_equal(CanalBlockingReceive(h, &r, 2000), CANAL_ERROR_SUCCESS);
        assert_int_equal(r.id, 0x1ABCDEF);
        assert_true(r.flags & CANAL_IDFLAG_EXTENDED);
        assert_int_equal(r.sizeData, 8);
        assert_int_equal(r.data[7], 0x27);
    }

    /* CANAL filter on a remote handle: only 0x200 */
    assert_int_equal(CanalSetFilter(b, 0x200), CANAL_ERROR_SUCCESS);
    assert_int_equal(CanalSetMask(b, 0x7FF), CANAL_ERROR_SUCCESS);
    m = frame(0x123, 1, 1);
    assert_int_equal(CanalSend(local, &m), CANAL_ERROR_SUCCESS);
    m = frame(0x200, 1, 2);
    assert_int_equal(CanalSend(local, &m), CANAL_ERROR_SUCCESS);
    expect_frame(b, 0x200, 2);
    expect_nothing(b, 200);
    expect_frame(a, 0x123, 1);
    expect_frame(a, 0x200, 2);

    canalStatus st;
    assert_int_equal(CanalGetStatus(a, &st), CANAL_ERROR_SUCCESS);
    canalStatistics stats;
    assert_int_equal(CanalGetStatistics(a, &stats), CANAL_ERROR_SUCCESS);
    assert_int_equal(stats.cntReceiveFrames, 3);
    assert_int_equal(stats.cntTransmitFrames, 1);

    /* what socketcand cannot carry is refused with a reason */
    assert_int_equal(CanalSetBaudrate(a, 250), CANAL_ERROR_NOT_SUPPORTED);
    assert_non_null(strstr(Usb2canGetLastError(), "remote bus"));
    assert_true(open_remote("VIRTUAL0", ";500", 1) <= 0);
    assert_non_null(strstr(Usb2canGetLastError(), "listen-only"));
    assert_true(open_remote("NOSUCHBUS", ";500", 0) <= 0);
    assert_non_null(strstr(Usb2canGetLastError(), "no such bus"));

    CanalClose(a);
    CanalClose(b);
    CanalClose(local);
    stop_server(&s);
}

typedef struct blocked {
    long handle;
    int rc;
    uint64_t returned_ns;
    char reason[256];
} blocked;

static void receive_blocked(void *arg)
{
    blocked *b = arg;
    canalMsg m;
    b->rc = CanalBlockingReceive(b->handle, &m, 10000);
    b->returned_ns = u2c_now_ns();
    snprintf(b->reason, sizeof b->reason, "%s", Usb2canGetLastError());
}

/* Plays the server for one connection: "< hi >", then "< ok >" for each of
 * the client's two commands; leaves the connection in f->peer. */
typedef struct fake {
    u2c_socket listener;
    u2c_socket peer;
} fake;

static void fake_server(void *arg)
{
    fake *f = arg;
    u2c_socket peer = U2C_SOCKET_INVALID;
    for (int i = 0; i < 200 && peer == U2C_SOCKET_INVALID; i++) {
        u2c_net_pollfd p = {f->listener, U2C_NET_POLL_IN, 0};
        if (u2c_net_poll(&p, 1, 20) > 0)
            peer = u2c_net_accept(f->listener, NULL);
    }
    if (peer == U2C_SOCKET_INVALID)
        return;
    (void)u2c_net_send(peer, "< hi >", 6);
    char buf[256];
    size_t have = 0;
    int oks = 0;
    uint64_t deadline = u2c_now_ns() + 3000 * MS;
    while (oks < 2 && u2c_now_ns() < deadline && have + 1 < sizeof buf) {
        long n = u2c_net_recv(peer, buf + have, sizeof buf - have - 1);
        if (n <= 0)
            break;
        have += (size_t)n;
        int elements = 0;
        for (size_t i = 0; i < have; i++)
            elements += buf[i] == '>';
        for (; oks < elements; oks++) /* one reply per send: python-can style reads */
            (void)u2c_net_send(peer, "< ok >", 6);
    }
    f->peer = peer;
}

/* The server drops the connection while a receive is blocked, twice: the
 * second round is the reopen. */
static void test_lost_connection_is_an_unplug(void **state)
{
    (void)state;
    char reason[128];
    u2c_net_addr where = {0x7F000001u, (uint16_t)(atoi(g_port_text) + 1)};
    u2c_socket listener = u2c_net_listen(&where, reason, sizeof reason);
    if (listener == U2C_SOCKET_INVALID)
        fail_msg("%s", reason);
    char setup[64];
    snprintf(setup, sizeof setup, "can0@127.0.0.1:%u;500", (unsigned)where.port);
    for (int round = 0; round < 2; round++) {
        fake f = {listener, U2C_SOCKET_INVALID};
        u2c_thread t;
        assert_int_equal(u2c_thread_start(&t, fake_server, &f), 0);
        long h = CanalOpen(setup, 0);
        u2c_thread_join(&t);
        if (h <= 0)
            fail_msg("open: %s", Usb2canGetLastError());
        const char *frame_text = " < frame 123 1.000000 1122 >";
        assert_int_equal(u2c_net_send(f.peer, frame_text, strlen(frame_text)),
                         (long)strlen(frame_text));
        canalMsg m;
        assert_int_equal(CanalBlockingReceive(h, &m, 2000), CANAL_ERROR_SUCCESS);
        assert_int_equal(m.id, 0x123);
        assert_int_equal(m.sizeData, 2);
        assert_int_equal(m.data[1], 0x22);

        blocked b = {h, 0, 0, ""};
        u2c_thread waiter;
        assert_int_equal(u2c_thread_start(&waiter, receive_blocked, &b), 0);
        u2c_sleep_ms(100);
        uint64_t dropped_at = u2c_now_ns();
        u2c_net_close(f.peer);
        u2c_thread_join(&waiter);
        uint64_t took_ms = (b.returned_ns - dropped_at) / MS;
        print_message("round %d: blocked receive returned %llu ms after the server dropped "
                      "the connection: %s\n",
                      round, (unsigned long long)took_ms, b.reason);
        assert_int_equal(b.rc, CANAL_ERROR_COMMUNICATION);
        assert_true(took_ms < 100);
        assert_non_null(strstr(b.reason, "lost"));
        uint64_t t0 = u2c_now_ns();
        assert_int_equal(CanalSend(h, &m), CANAL_ERROR_COMMUNICATION);
        assert_true((u2c_now_ns() - t0) / MS < 100);
        assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
    }
    u2c_net_close(listener);
}

int main(void)
{
    char reason[128];
    if (!u2c_net_init(reason, sizeof reason))
        return 1;
    /* two ports next to each other, varied so that parallel runs rarely meet */
    int port = 29700 + (int)(u2c_now_ns() / 1000 % 200) * 2;
    snprintf(g_port_text, sizeof g_port_text, "%d", port);
    snprintf(g_listen, sizeof g_listen, "127.0.0.1:%d", port);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_send_receive_filters_status),
        cmocka_unit_test(test_lost_connection_is_an_unplug),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
