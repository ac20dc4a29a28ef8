/* Many threads on two virtual adapters: 8 senders, 4 receivers and a
 * closer. Phase 1 checks that nothing is lost or reordered; phase 2 closes
 * both handles while every thread is still inside the API. Built for the
 * ThreadSanitizer and AddressSanitizer presets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "canal.h"
#include "osal.h"
#include "usb2can.h"

#define SENDERS 8
#define RECEIVERS 4
#define FRAMES_PER_SENDER 400
#define MS 1000000ull

struct shared {
    long tx;
    long rx;
    int close_rc[2];   /* what CanalClose returned for rx and tx */
    int stats_rc;      /* a failed CanalGetStatistics while waiting, or 0 */
    bool until_closed; /* phase 2: send until the handle is closed, with short waits */
};

struct sender {
    struct shared *sh;
    unsigned index;
    unsigned sent;
    int bad_code; /* first unexpected return code, 0 if none */
};

struct receiver {
    struct shared *sh;
    unsigned received;
    int64_t last_seq[SENDERS];
    int bad_code;
    bool out_of_order;
};

static void sender_main(void *arg)
{
    struct sender *s = arg;
    canalMsg m;
    memset(&m, 0, sizeof m);
    m.id = 0x100 + s->index;
    m.sizeData = 4;
    bool until_closed = s->sh->until_closed;
    while (until_closed || s->sent < FRAMES_PER_SENDER) {
        m.data[0] = (unsigned char)(s->sent >> 24);
        m.data[1] = (unsigned char)(s->sent >> 16);
        m.data[2] = (unsigned char)(s->sent >> 8);
        m.data[3] = (unsigned char)s->sent;
        int rc = CanalBlockingSend(s->sh->tx, &m, until_closed ? 20 : 0);
        if (rc == CANAL_ERROR_SUCCESS) {
            s->sent++;
        } else if (rc == CANAL_ERROR_NOT_OPEN) {
            break;
        } else if (rc != CANAL_ERROR_TIMEOUT || !until_closed) {
            s->bad_code = rc;
            break;
        }
    }
}

static void receiver_main(void *arg)
{
    struct receiver *r = arg;
    for (int i = 0; i < SENDERS; i++)
        r->last_seq[i] = -1;
    for (;;) {
        canalMsg m;
        int rc = CanalBlockingReceive(r->sh->rx, &m, 0);
        if (rc == CANAL_ERROR_NOT_OPEN)
            break;
        if (rc != CANAL_ERROR_SUCCESS) {
            r->bad_code = rc;
            break;
        }
        unsigned who = (unsigned)m.id - 0x100;
        if (who >= SENDERS || m.sizeData != 4) {
            r->bad_code = -1;
            break;
        }
        int64_t seq = (int64_t)m.data[0] << 24 | m.data[1] << 16 | m.data[2] << 8 | m.data[3];
        if (seq <= r->last_seq[who])
            r->out_of_order = true;
        r->last_seq[who] = seq;
        r->received++;
    }
}

static void run_threads(struct shared *sh, struct sender *s, struct receiver *r,
                        void (*closer)(struct shared *))
{
    u2c_thread st[SENDERS], rt[RECEIVERS];
    for (unsigned i = 0; i < RECEIVERS; i++) {
        r[i] = (struct receiver){.sh = sh};
        assert_int_equal(u2c_thread_start(&rt[i], receiver_main, &r[i]), 0);
    }
    for (unsigned i = 0; i < SENDERS; i++) {
        s[i] = (struct sender){.sh = sh, .index = i};
        assert_int_equal(u2c_thread_start(&st[i], sender_main, &s[i]), 0);
    }
    closer(sh);
    for (unsigned i = 0; i < SENDERS; i++)
        u2c_thread_join(&st[i]);
    for (unsigned i = 0; i < RECEIVERS; i++)
        u2c_thread_join(&rt[i]);
}

struct closer_arg {
    struct shared *sh;
    void (*fn)(struct shared *);
};

static void closer_main(void *arg)
{
    struct closer_arg *c = arg;
    c->fn(c->sh);
}

/* The closing thread is a thread of its own: close must work from anywhere. */
static void close_from_thread(struct shared *sh, void (*fn)(struct shared *))
{
    struct closer_arg c = {.sh = sh, .fn = fn};
    u2c_thread t;
    assert_int_equal(u2c_thread_start(&t, closer_main, &c), 0);
    u2c_thread_join(&t);
}

/* Runs on the closer thread: no cmocka asserts here, results go to *sh. */
static void close_when_all_arrived(struct shared *sh)
{
    const unsigned long total = SENDERS * FRAMES_PER_SENDER;
    uint64_t deadline = u2c_now_ns() + 8000 * MS;
    canalStatistics st = {0};
    while (u2c_now_ns() < deadline) {
        int rc = CanalGetStatistics(sh->rx, &st);
        if (rc != CANAL_ERROR_SUCCESS) {
            sh->stats_rc = rc;
            break;
        }
        if (st.cntReceiveFrames >= total && CanalDataAvailable(sh->rx) == 0)
            break;
        u2c_sleep_ms(5);
    }
    sh->close_rc[0] = CanalClose(sh->rx);
    sh->close_rc[1] = CanalClose(sh->tx);
}

static void phase1_closer(struct shared *sh)
{
    close_from_thread(sh, close_when_all_arrived);
}

static void close_while_busy(struct shared *sh)
{
    u2c_sleep_ms(200);
    sh->close_rc[0] = CanalClose(sh->rx);
    u2c_sleep_ms(20);
    sh->close_rc[1] = CanalClose(sh->tx);
}

static void phase2_closer(struct shared *sh)
{
    close_from_thread(sh, close_while_busy);
}

static long open_or_fail(const char *setup)
{
    long h = CanalOpen(setup, 0);
    if (h <= 0)
        fail_msg("CanalOpen(%s): %s", setup, Usb2canGetLastError());
    return h;
}

static void test_no_loss_no_reorder(void **state)
{
    (void)state;
    struct shared sh = {.tx = open_or_fail("VIRTUAL0;1000"),
                        .rx = open_or_fail("VIRTUAL1;1000;rxqueue=65536")};
    struct sender s[SENDERS];
    struct receiver r[RECEIVERS];
    uint64_t t0 = u2c_now_ns();
    run_threads(&sh, s, r, phase1_closer);
    assert_int_equal(sh.stats_rc, 0);
    assert_int_equal(sh.close_rc[0], CANAL_ERROR_SUCCESS);
    assert_int_equal(sh.close_rc[1], CANAL_ERROR_SUCCESS);
    unsigned total = 0;
    for (unsigned i = 0; i < SENDERS; i++) {
        assert_int_equal(s[i].bad_code, 0);
        assert_int_equal(s[i].sent, FRAMES_PER_SENDER);
    }
    for (unsigned i = 0; i < RECEIVERS; i++) {
        assert_int_equal(r[i].bad_code, 0);
        assert_false(r[i].out_of_order);
        total += r[i].received;
    }
    assert_int_equal(total, SENDERS * FRAMES_PER_SENDER);
    print_message("%u frames through 8 senders and 4 receivers in %.1f ms\n", total,
                  (u2c_now_ns() - t0) / 1e6);
}

static void test_close_while_every_thread_is_inside(void **state)
{
    (void)state;
    struct shared sh = {.tx = open_or_fail("VIRTUAL0;1000"),
                        .rx = open_or_fail("VIRTUAL1;1000"),
                        .until_closed = true};
    struct sender s[SENDERS];
    struct receiver r[RECEIVERS];
    run_threads(&sh, s, r, phase2_closer);
    assert_int_equal(sh.close_rc[0], CANAL_ERROR_SUCCESS);
    assert_int_equal(sh.close_rc[1], CANAL_ERROR_SUCCESS);
    for (unsigned i = 0; i < SENDERS; i++)
        assert_int_equal(s[i].bad_code, 0);
    for (unsigned i = 0; i < RECEIVERS; i++) {
        assert_int_equal(r[i].bad_code, 0);
        assert_false(r[i].out_of_order);
    }
    /* Both adapters are free again. */
    long a = open_or_fail("VIRTUAL0;1000");
    long b = open_or_fail("VIRTUAL1;1000");
    assert_int_equal(CanalClose(a), CANAL_ERROR_SUCCESS);
    assert_int_equal(CanalClose(b), CANAL_ERROR_SUCCESS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_loss_no_reorder),
        cmocka_unit_test(test_close_while_every_thread_is_inside),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
