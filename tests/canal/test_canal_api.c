/* The public CANAL API over virtual adapters (VIRTUAL0..7 share one
 * in-process bus): round trips, every entry point, bad input, stale
 * handles, timeouts against the monotonic clock, close from another thread,
 * filters, status messages, overruns, versions and strings. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "canal.h"
#include "canal_api.h"
#include "link_virtual.h"
#include "osal.h"
#include "usb2can.h"

#if defined(_WIN32)
#include <windows.h>
#endif

#define MS 1000000ull
#define RX_WAIT_MS 2000ul

static long open_ok(const char *setup, unsigned long flags)
{
    long h = CanalOpen(setup, flags);
    if (h <= 0)
        fail_msg("CanalOpen(\"%s\") failed: %s", setup, Usb2canGetLastError());
    assert_true(h >= 1681);
    return h;
}

static void close_ok(long h)
{
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
}

static canalMsg make_msg(unsigned long flags, unsigned long id, unsigned char dlc,
                         unsigned char seed)
{
    canalMsg m;
    memset(&m, 0, sizeof m);
    m.flags = flags;
    m.id = id;
    m.sizeData = dlc;
    for (int i = 0; i < 8; i++)
        m.data[i] = (unsigned char)(seed + 17 * i);
    return m;
}

static void expect_frame(long h, const canalMsg *sent)
{
    canalMsg got;
    memset(&got, 0xEE, sizeof got);
    int rc = CanalBlockingReceive(h, &got, RX_WAIT_MS);
    if (rc != CANAL_ERROR_SUCCESS)
        fail_msg("no frame: code %d, %s", rc, Usb2canGetLastError());
    unsigned long wire_flags = sent->flags & (CANAL_IDFLAG_EXTENDED | CANAL_IDFLAG_RTR);
    assert_int_equal(got.flags, wire_flags);
    assert_int_equal(got.id, sent->id);
    assert_int_equal(got.sizeData, sent->sizeData);
    assert_int_equal(got.obid, 0);
    for (int i = 0; i < 8; i++) {
        bool carried = !(sent->flags & CANAL_IDFLAG_RTR) && i < sent->sizeData;
        assert_int_equal(got.data[i], carried ? sent->data[i] : 0);
    }
}

static void expect_silence(long h, unsigned long ms)
{
    canalMsg got;
    int rc = CanalBlockingReceive(h, &got, ms);
    if (rc != CANAL_ERROR_TIMEOUT)
        fail_msg("expected no frame, got code %d (id 0x%lX flags 0x%lX)", rc, got.id, got.flags);
}

/* --- round trips ------------------------------------------------------------ */

static void test_round_trip_all_shapes(void **state)
{
    (void)state;
    long a = open_ok("VIRTUAL0;500", 0);
    long b = open_ok("VIRTUAL1;500", 0);
    const unsigned long formats[] = {0, CANAL_IDFLAG_EXTENDED, CANAL_IDFLAG_RTR,
                                     CANAL_IDFLAG_EXTENDED | CANAL_IDFLAG_RTR};
    const unsigned long ids[] = {0x7FF, 0x1FFFFFFF, 0x123, 0x18DAF110};
    for (int f = 0; f < 4; f++) {
        for (unsigned char dlc = 0; dlc <= 8; dlc++) {
            canalMsg m = make_msg(formats[f] | CANAL_IDFLAG_SEND, ids[f] - dlc, dlc,
                                  (unsigned char)(f * 9 + dlc));
            assert_int_equal(CanalSend(a, &m), CANAL_ERROR_SUCCESS);
            expect_frame(b, &m);
            /* and back */
            assert_int_equal(CanalBlockingSend(b, &m, 1000), CANAL_ERROR_SUCCESS);
            expect_frame(a, &m);
        }
    }
    close_ok(a);
    close_ok(b);
}

static void test_round_trip_fifo_order_and_timestamps(void **state)
{
    (void)state;
    long a = open_ok("VIRTUAL0;1000", 0);
    long b = open_ok("VIRTUAL1;1000", 0);
    enum { N = 300 };
    for (int i = 0; i < N; i++) {
        canalMsg m =
            make_msg(i % 2 ? CANAL_IDFLAG_EXTENDED : 0, (unsigned long)i, 8, (unsigned char)i);
        m.data[0] = (unsigned char)(i >> 8);
        m.data[1] = (unsigned char)i;
        assert_int_equal(CanalSend(a, &m), CANAL_ERROR_SUCCESS);
    }
    unsigned long last_ts = 0;
    for (int i = 0; i < N; i++) {
        canalMsg got;
        assert_int_equal(CanalBlockingReceive(b, &got, RX_WAIT_MS), CANAL_ERROR_SUCCESS);
        assert_int_equal(got.id, (unsigned long)i);
        assert_int_equal(got.data[0] << 8 | got.data[1], i);
        assert_true(got.timestamp >= last_ts);
        last_ts = got.timestamp;
    }
    assert_int_equal(CanalDataAvailable(b), 0);
    canalStatistics sa, sb;
    assert_int_equal(CanalGetStatistics(a, &sa), CANAL_ERROR_SUCCESS);
    assert_int_equal(CanalGetStatistics(b, &sb), CANAL_ERROR_SUCCESS);
    assert_int_equal(sa.cntTransmitFrames, N);
    assert_int_equal(sa.cntTransmitData, 8 * N);
    assert_int_equal(sb.cntReceiveFrames, N);
    assert_int_equal(sb.cntReceiveData, 8 * N);
    /* Cumulative, not reset by reading. */
    assert_int_equal(CanalGetStatistics(b, &sb), CANAL_ERROR_SUCCESS);
    assert_int_equal(sb.cntReceiveFrames, N);
    close_ok(a);
    close_ok(b);
}

static void test_data_available_and_receive(void **state)
{
    (void)state;
    long a = open_ok("VIRTUAL0;500", 0);
    long b = open_ok("VIRTUAL1;500", 0);
    canalMsg got;
    assert_int_equal(CanalReceive(b, &got), CANAL_ERROR_FIFO_EMPTY);
    assert_int_equal(CanalDataAvailable(b), 0);
    canalMsg m = make_msg(0, 0x321, 2, 1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(CanalSend(a, &m), CANAL_ERROR_SUCCESS);
    uint64_t deadline = u2c_now_ns() + RX_WAIT_MS * MS;
    while (CanalDataAvailable(b) < 3 && u2c_now_ns() < deadline)
        u2c_sleep_ms(1);
    assert_int_equal(CanalDataAvailable(b), 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(CanalReceive(b, &got), CANAL_ERROR_SUCCESS);
    assert_int_equal(CanalReceive(b, &got), CANAL_ERROR_FIFO_EMPTY);
    close_ok(a);
    close_ok(b);
}

/* --- handles and bad input -------------------------------------------------- */

static void expect_error_code(int rc, const char *what)
{
    if (rc <= 0 || rc > 37)
        fail_msg("%s returned %d, want an error code in 1..37", what, rc);
    if (strlen(Usb2canGetLastError()) == 0)
        fail_msg("%s left no reason", what);
}

/* Every call on a handle that is not open fails with a code and a reason;
 * CanalClose too, except on a handle that was open and is closed now: that
 * returns SUCCESS, as often as it is called. */
static void expect_dead_handle(long h, bool closed)
{
    canalMsg m = make_msg(0, 1, 1, 0);
    canalStatus st;
    canalStatistics stats;
    unsigned long pairs[2] = {0, 0};
    expect_error_code(CanalSend(h, &m), "CanalSend");
    assert_non_null(strstr(Usb2canGetLastError(), closed ? "it was closed" : "never returned"));
    expect_error_code(CanalBlockingSend(h, &m, 10), "CanalBlockingSend");
    expect_error_code(CanalReceive(h, &m), "CanalReceive");
    expect_error_code(CanalBlockingReceive(h, &m, 10), "CanalBlockingReceive");
    expect_error_code(CanalGetStatus(h, &st), "CanalGetStatus");
    expect_error_code(CanalGetStatistics(h, &stats), "CanalGetStatistics");
    expect_error_code(CanalSetFilter(h, 0), "CanalSetFilter");
    expect_error_code(CanalSetMask(h, 0), "CanalSetMask");
    expect_error_code(CanalSetFilters(h, 2, pairs), "CanalSetFilters");
    expect_error_code(CanalSetBaudrate(h, 500), "CanalSetBaudrate");
    if (closed) {
        assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
        assert_string_equal(Usb2canGetLastError(), "");
    } else {
        assert_int_equal(CanalClose(h), CANAL_ERROR_NOT_OPEN);
        assert_non_null(strstr(Usb2canGetLastError(), "never returned"));
    }
    assert_int_equal(CanalDataAvailable(h), 0);
    assert_true(strlen(Usb2canGetLastError()) > 0);
    assert_int_equal(CanalGetLevel(h), 0);
    assert_null(CanalGetReceiveHandle(h));
    u2c_channel_diag diag;
    expect_error_code(u2c_api_diagnostics(h, &diag), "diagnostics");
}

static void test_stale_and_unknown_handles(void **state)
{
    (void)state;
    long h = open_ok("VIRTUAL0;500", 0);
    assert_int_equal(CanalGetLevel(h), CANAL_LEVEL_STANDARD);
    close_ok(h);
    expect_dead_handle(h, true);
    const long unknown[] = {0, -1, 1, 1680, h + 1000, 0x7FFFFFFF};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        expect_dead_handle(unknown[i], false);
    /* A new open never gets the closed number back. */
    long again = open_ok("VIRTUAL0;500", 0);
    assert_true(again != h);
    expect_dead_handle(h, true);
    close_ok(again);
}

/* python-can's shutdown() closes every time it is called (`with can.Bus()`
 * plus an explicit shutdown() closes twice) and raises on anything but 0. */
static void test_close_is_idempotent(void **state)
{
    (void)state;
    long h = open_ok("VIRTUAL0;500", 0);
    for (int i = 0; i < 3; i++)
        close_ok(h);
    /* A failed open uses up no handle number: the next one is still unknown. */
    assert_int_equal(CanalOpen("VIRTUAL9;500", 0), 0);
    assert_int_equal(CanalClose(h + 1), CANAL_ERROR_NOT_OPEN);
    long next = open_ok("VIRTUAL0;500", 0);
    assert_int_equal(next, h + 1);
    close_ok(next);
    close_ok(next);
}

struct closer {
    long handle;
    int rc;
};

static void close_now(void *arg)
{
    struct closer *c = arg;
    c->rc = CanalClose(c->handle);
}

/* Two threads closing one handle at once: both return SUCCESS, and the one
 * that finds the close under way returns only once it is done. */
static void test_concurrent_close_both_succeed(void **state)
{
    (void)state;
    for (int round = 0; round < 20; round++) {
        long h = open_ok("VIRTUAL1;500", 0);
        long peer = open_ok("VIRTUAL2;500", 0);
        canalMsg m = make_msg(0, 0x55, 8, (unsigned char)round);
        for (int i = 0; i < 20; i++)
            assert_int_equal(CanalSend(h, &m), CANAL_ERROR_SUCCESS);
        struct closer c[2] = {{.handle = h}, {.handle = h}};
        u2c_thread th[2];
        for (int i = 0; i < 2; i++)
            assert_int_equal(u2c_thread_start(&th[i], close_now, &c[i]), 0);
        for (int i = 0; i < 2; i++) {
            u2c_thread_join(&th[i]);
            assert_int_equal(c[i].rc, CANAL_ERROR_SUCCESS);
        }
        /* Both returned: the adapter is free again. */
        close_ok(open_ok("VIRTUAL1;500", 0));
        close_ok(peer);
    }
}

static void test_eight_handles_distinct(void **state)
{
    (void)state;
    long h[8];
    char setup[32];
    for (int i = 0; i < 8; i++) {
        snprintf(setup, sizeof setup, "VIRTUAL%d;500", i);
        h[i] = open_ok(setup, 0);
        if (i > 0)
            assert_true(h[i] > h[i - 1]);
    }
    for (int i = 0; i < 8; i++)
        close_ok(h[i]);
    long next = open_ok("VIRTUAL3;500", 0);
    assert_true(next > h[7]);
    close_ok(next);
}

static void test_null_pointers(void **state)
{
    (void)state;
    assert_int_equal(CanalOpen(NULL, 0), 0);
    assert_non_null(strstr(Usb2canGetLastError(), "NULL"));
    long h = open_ok("VIRTUAL0;500", 0);
    assert_int_equal(CanalSend(h, NULL), CANAL_ERROR_PARAMETER);
    assert_non_null(strstr(Usb2canGetLastError(), "NULL"));
    assert_int_equal(CanalBlockingSend(h, NULL, 10), CANAL_ERROR_PARAMETER);
    assert_int_equal(CanalReceive(h, NULL), CANAL_ERROR_PARAMETER);
    assert_int_equal(CanalBlockingReceive(h, NULL, 10), CANAL_ERROR_PARAMETER);
    assert_int_equal(CanalGetStatus(h, NULL), CANAL_ERROR_PARAMETER);
    assert_int_equal(CanalGetStatistics(h, NULL), CANAL_ERROR_PARAMETER);
    assert_int_equal(CanalSetFilters(h, 2, NULL), CANAL_ERROR_PARAMETER);
    assert_int_equal(u2c_api_diagnostics(h, NULL), CANAL_ERROR_PARAMETER);
    assert_int_equal(CanalSetFilters(h, 0, NULL), CANAL_ERROR_SUCCESS);
    close_ok(h);
    /* The error text accessors. */
    assert_int_equal(CanalClose(h + 1000), CANAL_ERROR_NOT_OPEN);
    unsigned long len = Usb2canGetLastErrorText(NULL, 0);
    assert_int_equal(len, strlen(Usb2canGetLastError()));
    char small[8];
    assert_int_equal(Usb2canGetLastErrorText(small, sizeof small), len);
    assert_int_equal(strlen(small), 7);
    assert_int_equal(strncmp(small, Usb2canGetLastError(), 7), 0);
    assert_int_equal(Usb2canListAdapters(NULL, 3), -1);
    assert_int_equal(Usb2canListAdapters(NULL, -1), -1);
    assert_true(Usb2canListAdapters(NULL, 0) >= 8);
}

static void test_last_error_cleared_by_next_call(void **state)
{
    (void)state;
    assert_int_equal(CanalClose(12345), CANAL_ERROR_NOT_OPEN);
    assert_true(strlen(Usb2canGetLastError()) > 0);
    (void)CanalGetVersion();
    assert_string_equal(Usb2canGetLastError(), "");
}

static void test_bad_setup_strings(void **state)
{
    (void)state;
    const char *bad[] = {
        "",                        /* nothing */
        ";",                       /* no kbps */
        "VIRTUAL0",                /* no kbps */
        "VIRTUAL0;abc",            /* not a number */
        "VIRTUAL0;2000",           /* beyond 1 Mbit/s */
        "VIRTUAL0;0;1;2",          /* manual timing incomplete */
        "VIRTUAL0;500;rxqueue=1",  /* ring too small */
        "VIRTUAL0;500;nonsense=1", /* unknown key */
        "NOSUCH01;500",            /* no such adapter */
        "; 500",                   /* no serial, no hardware here */
        "VIRTUAL0;-500",           /* negative */
        "VIRTUAL0;+500",           /* signs are not numbers here */
        "VIRTUAL0;500x",           /* trailing garbage */
        "VIRTUAL0;0x",             /* hex without digits */
        "VIRTUAL0;99999999999",    /* overflow */
        "VIRTUAL0;1",              /* 1 kbit/s: the 32 MHz clock cannot go that slow */
        "VIRTUAL0;101",            /* nearest rate 0.58 % off */
        "VIRTUAL0;0;0;2;1;4",      /* tseg1 0 */
        "VIRTUAL0;0;17;2;1;4",     /* tseg1 17 */
        "VIRTUAL0;0;13;9;1;4",     /* tseg2 9 */
        "VIRTUAL0;0;13;2;5;4",     /* sjw 5 */
        "VIRTUAL0;0;13;2;3;4",     /* sjw above tseg2 */
        "VIRTUAL0;0;13;2;1;0",     /* brp 0 */
        "VIRTUAL0;0;13;2;1;1025",  /* brp 1025 */
        "VIRTUAL0;500;0x7FF",      /* mask without filter */
        "VIRTUAL0;500;0x7FF;zz",   /* filter not a number */
        "VIRTUAL0;;500",           /* empty token in the middle */
        "VIR TUAL0;500",           /* space inside the serial */
        "VIRTUAL0!;500",           /* character not allowed in a serial */
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456;500", /* 33-character serial */
        "VIRTUAL0;500;rxqueue=",                 /* option without value */
        "VIRTUAL0;500;rxqueue=99999999",         /* ring too large */
        "VIRTUAL9;500",                          /* no such adapter */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long h = CanalOpen(bad[i], 0);
        if (h != 0)
            fail_msg("CanalOpen(\"%s\") returned %ld", bad[i], h);
        if (strlen(Usb2canGetLastError()) == 0)
            fail_msg("CanalOpen(\"%s\") left no reason", bad[i]);
    }
    assert_int_equal(CanalOpen(NULL, 0), 0);
    assert_true(strlen(Usb2canGetLastError()) > 0);
    /* A failed open leaves nothing behind: all eight still open. */
    long h[8];
    char setup[32];
    for (int i = 0; i < 8; i++) {
        snprintf(setup, sizeof setup, "VIRTUAL%d;500", i);
        h[i] = open_ok(setup, 0);
    }
    for (int i = 0; i < 8; i++)
        close_ok(h[i]);
}

/* CanalClose right after CanalSend: the frames the adapter took still wait in
 * its queue for bus time; closing must not strand them there. */
static void test_close_right_after_send_delivers_everything(void **state)
{
    (void)state;
    long rx = open_ok("VIRTUAL5;125", 0);
    long tx = open_ok("VIRTUAL4;125", 0);
    enum { FRAMES = 40 }; /* ~36 ms of a 125 kbit/s bus, more than the adapter holds */
    for (unsigned i = 0; i < FRAMES; i++) {
        canalMsg m;
        memset(&m, 0, sizeof m);
        m.id = 0x300 + i;
        m.sizeData = 8;
        m.data[0] = (unsigned char)i;
        assert_int_equal(CanalSend(tx, &m), CANAL_ERROR_SUCCESS);
    }
    close_ok(tx);
    for (unsigned i = 0; i < FRAMES; i++) {
        canalMsg m;
        int rc = CanalBlockingReceive(rx, &m, 500);
        if (rc != CANAL_ERROR_SUCCESS)
            fail_msg("frame %u of %u missing after close (code %d)", i, FRAMES, rc);
        assert_int_equal(m.id, 0x300 + i);
        assert_int_equal(m.data[0], i);
    }
    close_ok(rx);
}

/* --- timing ------------------------------------------------------------------ */

static void test_timeout_never_early(void **state)
{
    (void)state;
    long h = open_ok("VIRTUAL2;500", 0);
    const unsigned long timeouts[] = {1, 10, 50, 250};
    for (size_t i = 0; i < sizeof timeouts / sizeof timeouts[0]; i++) {
        canalMsg m;
        uint64_t t0 = u2c_now_ns();
        int rc = CanalBlockingReceive(h, &m, timeouts[i]);
        uint64_t elapsed = u2c_now_ns() - t0;
        assert_int_equal(rc, CANAL_ERROR_TIMEOUT);
        if (elapsed < timeouts[i] * MS)
            fail_msg("timeout %lu ms returned after %llu ns", timeouts[i],
                     (unsigned long long)elapsed);
        assert_true(elapsed < timeouts[i] * MS + 2000 * MS); /* and not forever */
    }
    close_ok(h);
}

struct delayed_send {
    long handle;
    unsigned delay_ms;
    canalMsg msg;
    uint64_t sent_at;
    int rc;
};

static void send_later(void *arg)
{
    struct delayed_send *d = arg;
    u2c_sleep_ms(d->delay_ms);
    d->sent_at = u2c_now_ns();
    d->rc = CanalSend(d->handle, &d->msg);
}

static void test_timeout_zero_waits_forever(void **state)
{
    (void)state;
    long rx = open_ok("VIRTUAL2;500", 0);
    long tx = open_ok("VIRTUAL3;500", 0);
    struct delayed_send d = {.handle = tx, .delay_ms = 150, .msg = make_msg(0, 0x77, 1, 5)};
    u2c_thread th;
    assert_int_equal(u2c_thread_start(&th, send_later, &d), 0);
    canalMsg got;
    assert_int_equal(CanalBlockingReceive(rx, &got, 0), CANAL_ERROR_SUCCESS);
    uint64_t back = u2c_now_ns();
    u2c_thread_join(&th);
    assert_int_equal(d.rc, CANAL_ERROR_SUCCESS);
    assert_int_equal(got.id, 0x77);
    assert_true(back >= d.sent_at); /* it waited for the frame, not for a timeout */
    close_ok(rx);
    close_ok(tx);
}

/* python-can's recv(0.016) with can_filters on Windows: the frame that ends
 * the first wait early is rejected by its filters, and its time.time() has
 * just moved by one 15.625 ms step, so it asks for int(0.375) = 0 at once,
 * long before the end it first asked for. That 0 is its remainder: TIMEOUT
 * within milliseconds, not a wait for the next frame. */
static void test_remainder_right_after_a_rejected_frame(void **state)
{
    (void)state;
    long rx = open_ok("VIRTUAL2;500", 0);
    long tx = open_ok("VIRTUAL3;500", 0);
    canalMsg rejected = make_msg(0, 0x55, 1, 1);
    assert_int_equal(CanalSend(tx, &rejected), CANAL_ERROR_SUCCESS);
    uint64_t until = u2c_now_ns() + 2000 * MS;
    while (CanalDataAvailable(rx) == 0 && u2c_now_ns() < until)
        u2c_sleep_ms(1);
    canalMsg got;
    assert_int_equal(CanalBlockingReceive(rx, &got, 16), CANAL_ERROR_SUCCESS);
    /* Should the 0 wait forever after all, this frame ends it and fails the test. */
    struct delayed_send d = {.handle = tx, .delay_ms = 500, .msg = make_msg(0, 0x66, 1, 2)};
    u2c_thread th;
    assert_int_equal(u2c_thread_start(&th, send_later, &d), 0);
    uint64_t t0 = u2c_now_ns();
    int rc = CanalBlockingReceive(rx, &got, 0);
    uint64_t elapsed = u2c_now_ns() - t0;
    u2c_thread_join(&th);
    if (rc != CANAL_ERROR_TIMEOUT)
        fail_msg("the remainder 0 waited for the next frame (code %d after %llu ms)", rc,
                 (unsigned long long)(elapsed / MS));
    assert_true(elapsed < 100 * MS);
    assert_int_equal(CanalBlockingReceive(rx, &got, RX_WAIT_MS), CANAL_ERROR_SUCCESS);
    assert_int_equal(got.id, 0x66);
    close_ok(rx);
    close_ok(tx);
}

/* Waits until the handle has `rx` threads blocked in a receive and `tx` in
 * a send, so a wake-up latency measures the wake-up, not a slow thread start. */
static void wait_for_waiters(long h, uint32_t rx, uint32_t tx)
{
    uint64_t deadline = u2c_now_ns() + 10000 * MS;
    u2c_channel_diag diag;
    do {
        u2c_sleep_ms(1);
        assert_int_equal(u2c_api_diagnostics(h, &diag), CANAL_ERROR_SUCCESS);
    } while ((diag.rx_waiters < rx || diag.tx_waiters < tx) && u2c_now_ns() < deadline);
    assert_int_equal(diag.rx_waiters, rx);
    assert_int_equal(diag.tx_waiters, tx);
}

struct blocked_receiver {
    long handle;
    int rc;
    uint64_t returned_at;
};

static void receive_forever(void *arg)
{
    struct blocked_receiver *r = arg;
    canalMsg m;
    r->rc = CanalBlockingReceive(r->handle, &m, 0);
    r->returned_at = u2c_now_ns();
}

static void test_close_wakes_blocked_receivers(void **state)
{
    (void)state;
    long h = open_ok("VIRTUAL4;500", 0);
    struct blocked_receiver r[3] = {{.handle = h}, {.handle = h}, {.handle = h}};
    u2c_thread th[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(u2c_thread_start(&th[i], receive_forever, &r[i]), 0);
    wait_for_waiters(h, 3, 0);
    uint64_t t0 = u2c_now_ns();
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
    print_message("CanalClose took %.3f ms\n", (u2c_now_ns() - t0) / 1e6);
    for (int i = 0; i < 3; i++) {
        u2c_thread_join(&th[i]);
        assert_int_equal(r[i].rc, CANAL_ERROR_NOT_OPEN);
        uint64_t woke = r[i].returned_at - t0;
        print_message("receiver %d woke %.3f ms after CanalClose began\n", i, woke / 1e6);
        assert_true(woke < 100 * MS);
    }
    expect_dead_handle(h, true);
}

struct blocked_sender {
    long handle;
    int rc;
    uint64_t returned_at;
};

static void send_forever(void *arg)
{
    struct blocked_sender *b = arg;
    canalMsg m = make_msg(0, 0x200, 2, 0);
    b->rc = CanalBlockingSend(b->handle, &m, 0);
    b->returned_at = u2c_now_ns();
}

/* Alone on the bus nothing is acknowledged, so the queue fills; a sender
 * waiting for room is woken by CanalClose. */
static void test_close_wakes_blocked_sender(void **state)
{
    (void)state;
    long h = open_ok("VIRTUAL5;500", 0);
    canalMsg m = make_msg(0, 0x200, 2, 0);
    int rc = CANAL_ERROR_SUCCESS;
    int sent = 0;
    for (; sent < 5000 && rc == CANAL_ERROR_SUCCESS; sent++)
        rc = CanalSend(h, &m);
    assert_int_equal(rc, CANAL_ERROR_FIFO_FULL);
    assert_true(sent > 1024);
    uint64_t t0 = u2c_now_ns();
    assert_int_equal(CanalBlockingSend(h, &m, 30), CANAL_ERROR_TIMEOUT);
    assert_true(u2c_now_ns() - t0 >= 30 * MS);

    struct blocked_sender b = {.handle = h};
    u2c_thread th;
    assert_int_equal(u2c_thread_start(&th, send_forever, &b), 0);
    wait_for_waiters(h, 0, 1);
    uint64_t t1 = u2c_now_ns();
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
    u2c_thread_join(&th);
    assert_int_equal(b.rc, CANAL_ERROR_NOT_OPEN);
    print_message("blocked sender woke %.3f ms after CanalClose began\n",
                  (b.returned_at - t1) / 1e6);
    assert_true(b.returned_at - t1 < 100 * MS);
}

/* A timeout too large to represent means forever (unsigned long is 64 bits
 * on LP64 systems: ULONG_MAX ms once wrapped into a 13 us wait). */
static const unsigned long huge_timeouts[] = {ULONG_MAX, ULONG_MAX - 1, ULONG_MAX / 2,
                                              ULONG_MAX / 1000 + 1};

struct huge_wait {
    long handle;
    unsigned long timeout;
    int rc;
    atomic_int returned;
};

static void receive_huge(void *arg)
{
    struct huge_wait *w = arg;
    canalMsg m;
    w->rc = CanalBlockingReceive(w->handle, &m, w->timeout);
    atomic_store(&w->returned, 1);
}

static void send_huge(void *arg)
{
    struct huge_wait *w = arg;
    canalMsg m = make_msg(0, 0x201, 2, 0);
    w->rc = CanalBlockingSend(w->handle, &m, w->timeout);
    atomic_store(&w->returned, 1);
}

/* CanalBlockingReceive with each huge timeout waits until a frame comes. */
static void huge_receive_timeouts_block(void)
{
    long rx = open_ok("VIRTUAL2;500", 0);
    long tx = open_ok("VIRTUAL3;500", 0);
    for (size_t i = 0; i < sizeof huge_timeouts / sizeof huge_timeouts[0]; i++) {
        struct huge_wait w = {.handle = rx, .timeout = huge_timeouts[i], .rc = -1};
        u2c_thread th;
        assert_int_equal(u2c_thread_start(&th, receive_huge, &w), 0);
        wait_for_waiters(rx, 1, 0);
        u2c_sleep_ms(200);
        if (atomic_load(&w.returned))
            fail_msg("CanalBlockingReceive(h, m, %lu) returned %d (%s) instead of waiting",
                     huge_timeouts[i], w.rc, Usb2canGetLastError());
        canalMsg m = make_msg(0, 0x300 + i, 1, 3);
        assert_int_equal(CanalSend(tx, &m), CANAL_ERROR_SUCCESS);
        u2c_thread_join(&th);
        assert_int_equal(w.rc, CANAL_ERROR_SUCCESS);
    }
    close_ok(rx);
    close_ok(tx);
}

/* CanalBlockingSend with each huge timeout waits on a full queue until
 * the handle is closed. */
static void huge_send_timeouts_block(void)
{
    long h = open_ok("VIRTUAL6;500", 0); /* alone on the bus: the queue fills */
    canalMsg m = make_msg(0, 0x200, 2, 0);
    int rc = CANAL_ERROR_SUCCESS;
    for (int sent = 0; sent < 5000 && rc == CANAL_ERROR_SUCCESS; sent++)
        rc = CanalSend(h, &m);
    assert_int_equal(rc, CANAL_ERROR_FIFO_FULL);
    struct huge_wait w[sizeof huge_timeouts / sizeof huge_timeouts[0]];
    u2c_thread th[sizeof huge_timeouts / sizeof huge_timeouts[0]];
    const size_t n = sizeof huge_timeouts / sizeof huge_timeouts[0];
    for (size_t i = 0; i < n; i++) {
        w[i] = (struct huge_wait){.handle = h, .timeout = huge_timeouts[i], .rc = -1};
        assert_int_equal(u2c_thread_start(&th[i], send_huge, &w[i]), 0);
    }
    wait_for_waiters(h, 0, (uint32_t)n);
    u2c_sleep_ms(200);
    for (size_t i = 0; i < n; i++)
        if (atomic_load(&w[i].returned))
            fail_msg("CanalBlockingSend(h, m, %lu) returned %d instead of waiting",
                     huge_timeouts[i], w[i].rc);
    close_ok(h);
    for (size_t i = 0; i < n; i++) {
        u2c_thread_join(&th[i]);
        assert_int_equal(w[i].rc, CANAL_ERROR_NOT_OPEN); /* woken by the close */
    }
}

static void test_huge_timeouts_block_both_calls(void **state)
{
    (void)state;
    huge_receive_timeouts_block();
    huge_send_timeouts_block();
}

/* What unloading libusb2can.so does (dllmain.c): every channel still open
 * that no call is inside is closed and reads as closed; a channel a thread
 * is blocked in is left open and that thread is not woken (at exit it would
 * run the program's code again), until the program closes it. */
static void test_close_all_closes_what_is_open(void **state)
{
    (void)state;
    long a = open_ok("VIRTUAL0;500", 0);
    long b = open_ok("VIRTUAL1;500", 0);
    struct blocked_receiver r = {.handle = a, .rc = -1};
    u2c_thread th;
    assert_int_equal(u2c_thread_start(&th, receive_forever, &r), 0);
    wait_for_waiters(a, 1, 0);
    canalMsg m = make_msg(0, 0x11, 8, 1);
    for (int i = 0; i < 30; i++) /* in flight to b at the close */
        assert_int_equal(CanalSend(a, &m), CANAL_ERROR_SUCCESS);
    uint64_t t0 = u2c_now_ns();
    assert_int_equal(u2c_api_close_all(2000), 1); /* a: a receiver is inside */
    assert_true(u2c_now_ns() - t0 < 1000 * MS);   /* never waits for it */
    expect_dead_handle(b, true);
    u2c_sleep_ms(100);
    wait_for_waiters(a, 1, 0); /* still blocked, not woken */
    assert_int_equal(r.rc, -1);
    assert_int_equal(CanalClose(a), CANAL_ERROR_SUCCESS);
    u2c_thread_join(&th);
    assert_int_equal(r.rc, CANAL_ERROR_NOT_OPEN);
    expect_dead_handle(a, true);
    assert_int_equal(u2c_api_close_all(2000), 0); /* nothing left */
    close_ok(open_ok("VIRTUAL0;500", 0));         /* the adapters are free */
}

/* --- filters ------------------------------------------------------------------ */

static void send_ids(long h, const unsigned long *ids, const unsigned long *flags, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        canalMsg m = make_msg(flags[i], ids[i], 1, (unsigned char)i);
        assert_int_equal(CanalSend(h, &m), CANAL_ERROR_SUCCESS);
    }
}

static void expect_id(long h, unsigned long id, unsigned long flags)
{
    canalMsg got;
    assert_int_equal(CanalBlockingReceive(h, &got, RX_WAIT_MS), CANAL_ERROR_SUCCESS);
    assert_int_equal(got.id, id);
    assert_int_equal(got.flags, flags);
}

static const unsigned long F_IDS[] = {0x122, 0x123, 0x124, 0x123, 0x18DA00F1, 0x18DB00F1};
static const unsigned long F_FLAGS[] = {
    0, 0, 0, CANAL_IDFLAG_EXTENDED, CANAL_IDFLAG_EXTENDED, CANAL_IDFLAG_EXTENDED};
#define F_N (sizeof F_IDS / sizeof F_IDS[0])

static void test_filter_from_setup_string(void **state)
{
    (void)state;
    long a = open_ok("VIRTUAL0;500", 0);
    long b = open_ok("VIRTUAL1;500;0x7FF;0x123", 0); /* mask;filter */
    send_ids(a, F_IDS, F_FLAGS, F_N);
    expect_id(b, 0x123, 0);
    expect_id(b, 0x123, CANAL_IDFLAG_EXTENDED); /* the format is not in the mask */
    expect_silence(b, 100);
    close_ok(a);
    close_ok(b);
}

static void test_filter_set_filter_and_mask(void **state)
{
    (void)state;
    long a = open_ok("VIRTUAL0;500", 0);
    long b = open_ok("VIRTUAL1;500", 0);
    assert_int_equal(CanalSetMask(b, 0x80000000ul | 0x1FFF0000ul), CANAL_ERROR_SUCCESS);
    assert_int_equal(CanalSetFilter(b, 0x80000000ul | 0x18DA0000ul), CANAL_ERROR_SUCCESS);
    send_ids(a, F_IDS, F_FLAGS, F_N);
    expect_id(b, 0x18DA00F1, CANAL_IDFLAG_EXTENDED);
    expect_silence(b, 100);
    /* Mask 0 lets everything through again. */
    assert_int_equal(CanalSetMask(b, 0), CANAL_ERROR_SUCCESS);
    send_ids(a, F_IDS, F_FLAGS, F_N);
    for (size_t i = 0; i < F_N; i++)
        expect_id(b, F_IDS[i], F_FLAGS[i]);
    close_ok(a);
    close_ok(b);
}

static void test_filter_set_filters_pairs(void **state)
{
    (void)state;
    long a = open_ok("VIRTUAL0;500", 0);
    long b = open_ok("VIRTUAL1;500", 0);
    /* As 8devices' python-can fork passes them: the count is the number of
     * values; bit 31 of an id means extended, of a mask "match the format". */
    const unsigned long pairs[] = {
        0x124, 0x7FF | 0x80000000ul,                          /* standard 0x124 */
        0x18DB00F1 | 0x80000000ul, 0x1FFFFFFF | 0x80000000ul, /* extended 0x18DB00F1 */
    };
    assert_int_equal(CanalSetFilters(b, 4, pairs), CANAL_ERROR_SUCCESS);
    send_ids(a, F_IDS, F_FLAGS, F_N);
    expect_id(b, 0x124, 0);
    expect_id(b, 0x18DB00F1, CANAL_IDFLAG_EXTENDED);
    expect_silence(b, 100);
    assert_int_equal(CanalSetFilters(b, 3, pairs), CANAL_ERROR_PARAMETER);
    assert_non_null(strstr(Usb2canGetLastError(), "odd"));
    assert_int_equal(CanalSetFilters(b, 0, NULL), CANAL_ERROR_SUCCESS);
    send_ids(a, F_IDS, F_FLAGS, 2);
    expect_id(b, 0x122, 0);
    expect_id(b, 0x123, 0);
    close_ok(a);
    close_ok(b);
}

/* --- status and error counters --------------------------------------------- */

/* A lone sender gets no ACK: TEC climbs by 8 per attempt, the adapter reports
 * BUSLIGHT at 96 and BUSHEAVY at 128. */
static void test_lone_sender_status_messages(void **state)
{
    (void)state;
    long h = open_ok("VIRTUAL5;500", USB2CAN_FLAG_STATUS_FRAMES);
    canalMsg m = make_msg(0, 0x100, 1, 0);
    assert_int_equal(CanalSend(h, &m), CANAL_ERROR_SUCCESS);
    bool light = false, heavy = false, ack = false;
    unsigned last_tec = 0;
    uint64_t deadline = u2c_now_ns() + 3000 * MS;
    while (!(light && heavy) && u2c_now_ns() < deadline) {
        canalMsg got;
        if (CanalBlockingReceive(h, &got, 200) != CANAL_ERROR_SUCCESS)
            continue;
        assert_int_equal(got.flags, CANAL_IDFLAG_STATUS);
        assert_int_equal(got.sizeData, 4);
        assert_int_equal(got.data[0], got.id);
        assert_true(got.data[2] >= last_tec); /* TEC only climbs */
        last_tec = got.data[2];
        light |= got.id == CANAL_STATUSMSG_BUSLIGHT;
        heavy |= got.id == CANAL_STATUSMSG_BUSHEAVY;
        ack |= got.id == CANAL_STATUSMSG_ACK;
    }
    assert_true(ack);
    assert_true(light);
    assert_true(heavy);
    canalStatus st;
    assert_int_equal(CanalGetStatus(h, &st), CANAL_ERROR_SUCCESS);
    assert_true((st.channel_status & 0xFF) >= 128);
    assert_true(st.channel_status & CANAL_STATUS_BUS_WARN);
    assert_true(st.channel_status & CANAL_STATUS_PASSIVE);
    assert_false(st.channel_status & CANAL_STATUS_BUS_OFF);
    assert_non_null(strstr(st.lasterrorstr, "passive"));
    canalStatistics stats;
    assert_int_equal(CanalGetStatistics(h, &stats), CANAL_ERROR_SUCCESS);
    assert_true(stats.cntBusWarnings >= 1);
    close_ok(h);
}

static void test_no_status_messages_without_flag(void **state)
{
    (void)state;
    long h = open_ok("VIRTUAL5;500", 0);
    canalMsg m = make_msg(0, 0x100, 1, 0);
    assert_int_equal(CanalSend(h, &m), CANAL_ERROR_SUCCESS);
    uint64_t deadline = u2c_now_ns() + 3000 * MS;
    canalStatus st;
    do {
        u2c_sleep_ms(10);
        assert_int_equal(CanalGetStatus(h, &st), CANAL_ERROR_SUCCESS);
    } while (!(st.channel_status & CANAL_STATUS_PASSIVE) && u2c_now_ns() < deadline);
    assert_true(st.channel_status & CANAL_STATUS_PASSIVE);
    assert_int_equal(CanalDataAvailable(h), 0);
    expect_silence(h, 50);
    close_ok(h);
}

/* --- overrun ------------------------------------------------------------------ */

static void test_overrun_when_ring_full(void **state)
{
    (void)state;
    long a = open_ok("VIRTUAL0;1000", 0);
    long b = open_ok("VIRTUAL1;1000;rxqueue=64", 0);
    enum { N = 100 };
    for (int i = 0; i < N; i++) {
        canalMsg m = make_msg(0, (unsigned long)i, 0, 0);
        assert_int_equal(CanalSend(a, &m), CANAL_ERROR_SUCCESS);
    }
    canalStatistics st;
    uint64_t deadline = u2c_now_ns() + 3000 * MS;
    do {
        u2c_sleep_ms(5);
        assert_int_equal(CanalGetStatistics(b, &st), CANAL_ERROR_SUCCESS);
    } while (st.cntReceiveFrames < N && u2c_now_ns() < deadline);
    assert_int_equal(st.cntReceiveFrames, N);
    assert_int_equal(st.cntOverruns, N - 64);
    assert_int_equal(CanalDataAvailable(b), 64);
    u2c_channel_diag diag;
    assert_int_equal(u2c_api_diagnostics(b, &diag), CANAL_ERROR_SUCCESS);
    assert_int_equal(diag.ring_overruns, N - 64);
    for (int i = 0; i < 64; i++) { /* the oldest kept, in order */
        canalMsg got;
        assert_int_equal(CanalReceive(b, &got), CANAL_ERROR_SUCCESS);
        assert_int_equal(got.id, (unsigned long)i);
    }
    close_ok(a);
    close_ok(b);
}

/* --- bitrate --------------------------------------------------------------------- */

static void test_set_baudrate(void **state)
{
    (void)state;
    long a = open_ok("VIRTUAL0;500", 0);
    long b = open_ok("VIRTUAL1;500", 0);
    assert_int_equal(CanalSetBaudrate(a, 250), CANAL_ERROR_SUCCESS);
    assert_int_equal(CanalSetBaudrate(b, 250), CANAL_ERROR_SUCCESS);
    u2c_channel_diag diag;
    assert_int_equal(u2c_api_diagnostics(a, &diag), CANAL_ERROR_SUCCESS);
    assert_int_equal(diag.bitrate, 250000);
    canalMsg m = make_msg(0, 0x42, 3, 3);
    assert_int_equal(CanalSend(a, &m), CANAL_ERROR_SUCCESS);
    expect_frame(b, &m);
    assert_int_equal(CanalSetBaudrate(a, 0), CANAL_ERROR_BAUDRATE);
    assert_true(strlen(Usb2canGetLastError()) > 0);
    assert_int_equal(CanalSetBaudrate(a, 1234567), CANAL_ERROR_BAUDRATE);
    close_ok(a);
    close_ok(b);
}

/* --- versions, strings ---------------------------------------------------------- */

static void test_versions(void **state)
{
    (void)state;
    assert_int_equal(CanalGetVersion(), 0x000E0001ul);
    assert_int_equal(CanalGetDllVersion(), (unsigned long)USB2CAN_VERSION_MAJOR |
                                               (unsigned long)USB2CAN_VERSION_MINOR << 8 |
                                               (unsigned long)USB2CAN_VERSION_SUB << 16);
}

static void test_vendor_string(void **state)
{
    (void)state;
    const char *none = CanalGetVendorString();
    assert_non_null(none);
    char want[64];
    snprintf(want, sizeof want, "0.0;0.0;1.0.14;%d.%d.%d;usb2can", USB2CAN_VERSION_MAJOR,
             USB2CAN_VERSION_MINOR, USB2CAN_VERSION_SUB);
    assert_string_equal(none, want);

    long h = open_ok("VIRTUAL6;500", 0);
    const char *s = CanalGetVendorString();
    assert_non_null(s);
    unsigned fw_major, fw_minor, hw_major, hw_minor;
    char tail[48];
    assert_int_equal(
        sscanf(s, "%u.%u;%u.%u;%47s", &fw_major, &fw_minor, &hw_major, &hw_minor, tail), 5);
    assert_true(fw_major > 0 || fw_minor > 0);
    assert_string_equal(tail, want + 8); /* "1.0.14;<dll>;usb2can" */
    close_ok(h);
    assert_string_equal(CanalGetVendorString(), want);
}

static void test_driver_info(void **state)
{
    (void)state;
    const char *xml = CanalGetDriverInfo();
    assert_non_null(xml);
    assert_non_null(strstr(xml, "<config>"));
    assert_non_null(strstr(xml, "</config>"));
}

static void test_receive_handle(void **state)
{
    (void)state;
    long a = open_ok("VIRTUAL0;500", 0);
    long b = open_ok("VIRTUAL1;500", 0);
    CANAL_RECEIVE_HANDLE ev = CanalGetReceiveHandle(b);
#if defined(_WIN32)
    assert_non_null(ev);
    assert_int_equal(WaitForSingleObject(ev, 0), WAIT_TIMEOUT);
    canalMsg m = make_msg(0, 0x11, 1, 1);
    assert_int_equal(CanalSend(a, &m), CANAL_ERROR_SUCCESS);
    assert_int_equal(CanalSend(a, &m), CANAL_ERROR_SUCCESS);
    assert_int_equal(WaitForSingleObject(ev, RX_WAIT_MS), WAIT_OBJECT_0);
    uint64_t deadline = u2c_now_ns() + RX_WAIT_MS * MS;
    while (CanalDataAvailable(b) < 2 && u2c_now_ns() < deadline)
        u2c_sleep_ms(1);
    canalMsg got;
    assert_int_equal(CanalReceive(b, &got), CANAL_ERROR_SUCCESS);
    assert_int_equal(WaitForSingleObject(ev, 0), WAIT_OBJECT_0); /* one left */
    assert_int_equal(CanalReceive(b, &got), CANAL_ERROR_SUCCESS);
    assert_int_equal(WaitForSingleObject(ev, 0), WAIT_TIMEOUT);
#else
    assert_null(ev);
    assert_true(strlen(Usb2canGetLastError()) > 0);
#endif
    close_ok(a);
    close_ok(b);
}

/* Usb2canGetEnvironment: the lines a bug report needs, copied like the
 * last-error text. */
static void test_environment_text(void **state)
{
    (void)state;
    unsigned long len = Usb2canGetEnvironment(NULL, 0);
    assert_true(len > 40 && len < 2000);
    char text[2048];
    memset(text, 'x', sizeof text);
    assert_int_equal(Usb2canGetEnvironment(text, sizeof text), len);
    assert_int_equal(strlen(text), len);
    print_message("%s", text);
    char library[64];
    snprintf(library, sizeof library, "library: usb2can %s (%d-bit)\n", USB2CAN_VERSION_STRING,
             (int)(sizeof(void *) * 8));
    assert_true(strncmp(text, library, strlen(library)) == 0);
#if defined(_WIN32)
    assert_non_null(strstr(text, "\nos: Windows "));
    assert_non_null(strstr(text, "\ntimer: timer resolution"));
#else
    assert_non_null(strstr(text, "\nos: Linux "));
    assert_non_null(strstr(text, "\ntimer: monotonic clock resolution "));
#endif
    assert_non_null(strstr(text, "\nlibusb: 1.0."));
    assert_int_equal(text[len - 1], '\n');
    /* Short buffers get a truncated, terminated copy and the full length. */
    char small[10];
    assert_int_equal(Usb2canGetEnvironment(small, sizeof small), len);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_true(strncmp(small, text, sizeof small - 1) == 0);
    assert_int_equal(Usb2canGetEnvironment(small, 0), len);
}

static void test_list_adapters(void **state)
{
    (void)state;
    usb2canAdapterInfo list[32];
    long n = Usb2canListAdapters(list, 32);
    assert_true(n >= 8);
    int virtual_count = 0;
    for (long i = 0; i < n && i < 32; i++) {
        if (list[i].flags & USB2CAN_ADAPTER_VIRTUAL) {
            char want[32];
            snprintf(want, sizeof want, "VIRTUAL%d", virtual_count++);
            assert_string_equal(list[i].serial, want);
        }
    }
    assert_int_equal(virtual_count, 8);
}

/* --- unplug and the CANalyze flavour ------------------------------------------ */

static void test_unplug_fails_every_call_then_close_frees(void **state)
{
    (void)state;
    long h = open_ok("VIRTUAL7;500", 8);
    struct blocked_receiver r = {.handle = h};
    u2c_thread th;
    assert_int_equal(u2c_thread_start(&th, receive_forever, &r), 0);
    wait_for_waiters(h, 1, 0);
    uint64_t t0 = u2c_now_ns();
    assert_true(u2c_virtual_unplug(7));
    u2c_thread_join(&th);
    assert_int_equal(r.rc, CANAL_ERROR_COMMUNICATION);
    print_message("blocked receiver failed %.3f ms after the unplug\n", (r.returned_at - t0) / 1e6);
    assert_true(r.returned_at - t0 < 100 * MS);

    canalMsg m = make_msg(0, 0x10, 1, 1);
    assert_int_equal(CanalSend(h, &m), CANAL_ERROR_COMMUNICATION);
    assert_non_null(strstr(Usb2canGetLastError(), "unplugged"));
    assert_int_equal(CanalBlockingSend(h, &m, 0), CANAL_ERROR_COMMUNICATION);
    assert_int_equal(CanalReceive(h, &m), CANAL_ERROR_COMMUNICATION);
    uint64_t t1 = u2c_now_ns();
    assert_int_equal(CanalBlockingReceive(h, &m, 0), CANAL_ERROR_COMMUNICATION);
    assert_true(u2c_now_ns() - t1 < 100 * MS);
    assert_int_equal(CanalSetBaudrate(h, 250), CANAL_ERROR_COMMUNICATION);
    canalStatus st;
    assert_int_equal(CanalGetStatus(h, &st), CANAL_ERROR_COMMUNICATION);
    assert_non_null(strstr(st.lasterrorstr, "unplugged"));
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
    expect_dead_handle(h, true);
    /* Plugged in again: it opens. */
    close_ok(open_ok("VIRTUAL7;500", 8));
}

static void check_pipe(u8d_model *m, uint64_t now_ns, void *ctx)
{
    (void)now_ns;
    *(bool *)ctx = u8d_model_command_pipe_alive(m);
}

static void test_canalyze_gets_only_open_close_version(void **state)
{
    (void)state;
    u8d_model_config cfg;
    u8d_model_config_canalyze(&cfg);
    assert_true(u2c_virtual_set_config(6, &cfg));
    long cz = open_ok("VIRTUAL6;500", USB2CAN_FLAG_STATUS_FRAMES);
    assert_int_equal(strncmp(CanalGetVendorString(), "0.1;", 4), 0); /* the latest opened */
    long peer = open_ok("VIRTUAL0;500", 0);
    assert_int_equal(strncmp(CanalGetVendorString(), "1.7;", 4), 0);

    canalMsg m = make_msg(CANAL_IDFLAG_EXTENDED, 0x1234567, 6, 9);
    assert_int_equal(CanalSend(peer, &m), CANAL_ERROR_SUCCESS);
    expect_frame(cz, &m);
    m = make_msg(0, 0x321, 8, 4);
    assert_int_equal(CanalSend(cz, &m), CANAL_ERROR_SUCCESS);
    expect_frame(peer, &m);
    canalStatus st;
    canalStatistics stats;
    assert_int_equal(CanalGetStatus(cz, &st), CANAL_ERROR_SUCCESS);
    assert_int_equal(CanalGetStatistics(cz, &stats), CANAL_ERROR_SUCCESS);
    assert_int_equal(stats.cntTransmitFrames, 1);
    assert_int_equal(CanalSetFilter(cz, 0), CANAL_ERROR_SUCCESS);
    assert_int_equal(CanalSetMask(cz, 0), CANAL_ERROR_SUCCESS);
    assert_int_equal(CanalSetBaudrate(cz, 500), CANAL_ERROR_SUCCESS);
    bool alive = false;
    assert_true(u2c_virtual_with_model(6, check_pipe, &alive));
    assert_true(alive);
    close_ok(cz);
    close_ok(peer);
    assert_true(u2c_virtual_set_config(6, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_all_shapes),
        cmocka_unit_test(test_round_trip_fifo_order_and_timestamps),
        cmocka_unit_test(test_data_available_and_receive),
        cmocka_unit_test(test_stale_and_unknown_handles),
        cmocka_unit_test(test_close_is_idempotent),
        cmocka_unit_test(test_concurrent_close_both_succeed),
        cmocka_unit_test(test_eight_handles_distinct),
        cmocka_unit_test(test_null_pointers),
        cmocka_unit_test(test_last_error_cleared_by_next_call),
        cmocka_unit_test(test_bad_setup_strings),
        cmocka_unit_test(test_close_right_after_send_delivers_everything),
        cmocka_unit_test(test_timeout_never_early),
        cmocka_unit_test(test_timeout_zero_waits_forever),
        cmocka_unit_test(test_remainder_right_after_a_rejected_frame),
        cmocka_unit_test(test_close_wakes_blocked_receivers),
        cmocka_unit_test(test_close_wakes_blocked_sender),
        cmocka_unit_test(test_huge_timeouts_block_both_calls),
        cmocka_unit_test(test_close_all_closes_what_is_open),
        cmocka_unit_test(test_filter_from_setup_string),
        cmocka_unit_test(test_filter_set_filter_and_mask),
        cmocka_unit_test(test_filter_set_filters_pairs),
        cmocka_unit_test(test_lone_sender_status_messages),
        cmocka_unit_test(test_no_status_messages_without_flag),
        cmocka_unit_test(test_overrun_when_ring_full),
        cmocka_unit_test(test_set_baudrate),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_vendor_string),
        cmocka_unit_test(test_driver_info),
        cmocka_unit_test(test_receive_handle),
        cmocka_unit_test(test_environment_text),
        cmocka_unit_test(test_list_adapters),
        cmocka_unit_test(test_unplug_fails_every_call_then_close_frees),
        cmocka_unit_test(test_canalyze_gets_only_open_close_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
