/* The channel over a scripted link: command bytes, RX decoding, malformed
 * packets, status records, TX records, queue limits, unplug, set-bitrate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "canal.h"
#include "cfg_parse.h"
#include "channel.h"
#include "fake_link.h"
#include "last_error.h"
#include "osal.h"
#include "tx_queue.h"

static fake_link g_fake;

static u2c_setup setup_of(const char *text)
{
    u2c_setup s;
    char reason[256];
    if (!u2c_setup_parse(text, &s, reason, sizeof reason))
        fail_msg("setup '%s' refused: %s", text, reason);
    return s;
}

static u2c_channel *open_fake(uint8_t fw_major, uint8_t fw_minor, const char *setup,
                              unsigned long flags)
{
    fake_link_init(&g_fake, fw_major, fw_minor);
    u2c_setup s = setup_of(setup);
    int code = -1;
    u2c_channel *ch = u2c_channel_open(&g_fake.base, &s, flags, &code);
    if (!ch)
        fail_msg("open failed (%d): %s", code, u2c_error_get());
    assert_int_equal(code, CANAL_ERROR_SUCCESS);
    assert_true(g_fake.started);
    return ch;
}

static void close_fake(u2c_channel *ch)
{
    u2c_channel_shutdown(ch);
    u2c_channel_close(ch);
    assert_true(g_fake.stopped);
    assert_true(g_fake.destroyed);
    fake_link_fini(&g_fake);
}

/* One RX record as the vendor firmware (or a CANalyze) sends it. */
static void encode_frame(uint8_t *out, u8d_flavor flavor, uint32_t id, uint8_t flags, uint8_t dlc,
                         uint8_t fill, uint32_t ticks)
{
    u8d_rx_record r;
    memset(&r, 0, sizeof r);
    r.type = U8D_TYPE_CAN;
    r.frame.id = id;
    r.frame.flags = flags;
    r.frame.dlc = dlc;
    for (int i = 0; i < 8; i++)
        r.frame.data[i] = (uint8_t)(fill + i);
    r.timestamp = ticks;
    u8d_encode_rx(out, &r, flavor);
}

static void encode_status(uint8_t *out, u8d_flavor flavor, uint8_t code, uint8_t rec, uint8_t tec)
{
    u8d_rx_record r;
    memset(&r, 0, sizeof r);
    r.type = U8D_TYPE_STATUS;
    r.frame.flags = U8D_FLAG_ERR;
    r.frame.dlc = 4;
    r.frame.data[0] = code;
    r.frame.data[1] = rec;
    r.frame.data[2] = tec;
    r.timestamp = 0x1BADBEEF & 0x1FFFFFFF; /* firmware leaves garbage here */
    u8d_encode_rx(out, &r, flavor);
}

/* --- open ---------------------------------------------------------------- */

static void test_open_sends_version_query_then_open(void **state)
{
    (void)state;
    u2c_channel *ch = open_fake(1, 7, "FAKE0001;500", 0x8000000Aul);
    assert_int_equal(g_fake.n_commands, 4);
    assert_int_equal(fake_link_command_code(&g_fake, 0), U8D_CMD_GET_SOFTW_HARDW_VER);
    /* 500 kbit/s, flags 0x0A: bits above 0..3 are not sent. */
    const uint8_t open[16] = {0x11, 0x00, 0x02, 0x09, 0x00, 0x0D, 0x02, 0x01,
                              0x00, 0x04, 0x00, 0x00, 0x00, 0x0A, 0x00, 0x22};
    assert_memory_equal(g_fake.commands[1], open, 16);
    /* Vendor firmware: the transmitted-frames count right after OPEN is the
     * baseline for closing (its statistics do not restart at every OPEN). */
    const uint8_t tx_count[16] = {0x11, 0, 0x07, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x22};
    assert_memory_equal(g_fake.commands[2], tx_count, 16);
    /* ... and so is its own overrun count (index 4), for cntOverruns. */
    const uint8_t overruns[16] = {0x11, 0, 0x07, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x22};
    assert_memory_equal(g_fake.commands[3], overruns, 16);
    u8d_version v = u2c_channel_version(ch);
    assert_int_equal(v.fw_major, 1);
    assert_int_equal(v.fw_minor, 7);
    close_fake(ch);
    /* Close sends CLOSE. */
    assert_int_equal(g_fake.n_commands, 5);
    assert_int_equal(fake_link_command_code(&g_fake, 4), U8D_CMD_CLOSE);
}

static void test_open_fails_cleanly(void **state)
{
    (void)state;
    const struct {
        int command_result;
        int refuse_cmd;
        int want_code;
        const char *want_text;
    } cases[] = {
        {U2C_LINK_TIMEOUT, -1, CANAL_ERROR_TIMEOUT, "version query"},
        {U2C_LINK_GONE, -1, CANAL_ERROR_COMMUNICATION, "gone"},
        {U2C_LINK_OK, U8D_CMD_GET_SOFTW_HARDW_VER, CANAL_ERROR_HARDWARE, "refused"},
        {U2C_LINK_OK, U8D_CMD_OPEN, CANAL_ERROR_HARDWARE, "OPEN"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fake_link_init(&g_fake, 1, 7);
        g_fake.command_result = cases[i].command_result;
        g_fake.refuse_cmd = cases[i].refuse_cmd;
        u2c_setup s = setup_of("FAKE0001;250");
        int code = 0;
        u2c_error_clear();
        assert_null(u2c_channel_open(&g_fake.base, &s, 8, &code));
        assert_int_equal(code, cases[i].want_code);
        assert_non_null(strstr(u2c_error_get(), cases[i].want_text));
        assert_non_null(strstr(u2c_error_get(), "FAKE0001"));
        assert_true(g_fake.destroyed);
        assert_true(g_fake.stopped == g_fake.started); /* started links are stopped */
        fake_link_fini(&g_fake);
    }
}

/* --- RX ------------------------------------------------------------------ */

static void test_rx_three_records_exact(void **state)
{
    (void)state;
    u2c_channel *ch = open_fake(1, 7, "FAKE0001;1000", 0);
    uint8_t pkt[63];
    encode_frame(pkt, U8D_FLAVOR_VENDOR, 0x123, 0, 3, 0xA0, 5000);
    encode_frame(pkt + 21, U8D_FLAVOR_VENDOR, 0x1ABCDEF5, U8D_FLAG_EXT, 8, 0x10, 6000);
    encode_frame(pkt + 42, U8D_FLAVOR_VENDOR, 0x7FF, U8D_FLAG_RTR, 5, 0x77, 6001);
    fake_link_inject(&g_fake, pkt, sizeof pkt);
    assert_int_equal(u2c_channel_data_available(ch), 3);

    u8d_clock clock;
    u8d_clock_init(&clock, U8D_FLAVOR_VENDOR);
    canalMsg m;
    assert_int_equal(u2c_channel_receive(ch, &m), CANAL_ERROR_SUCCESS);
    assert_int_equal(m.flags, 0);
    assert_int_equal(m.id, 0x123);
    assert_int_equal(m.sizeData, 3);
    const uint8_t d0[8] = {0xA0, 0xA1, 0xA2, 0, 0, 0, 0, 0};
    assert_memory_equal(m.data, d0, 8);
    assert_int_equal(m.obid, 0);
    assert_int_equal(m.timestamp, (unsigned long)u8d_clock_to_us(&clock, 5000));

    assert_int_equal(u2c_channel_receive(ch, &m), CANAL_ERROR_SUCCESS);
    assert_int_equal(m.flags, CANAL_IDFLAG_EXTENDED);
    assert_int_equal(m.id, 0x1ABCDEF5);
    assert_int_equal(m.sizeData, 8);
    const uint8_t d1[8] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17};
    assert_memory_equal(m.data, d1, 8);
    unsigned long t1 = m.timestamp;
    assert_int_equal(t1, (unsigned long)u8d_clock_to_us(&clock, 6000));
    /* 1000 device ticks of ~0.992 ms. */
    assert_in_range(t1, 990000, 994000);

    assert_int_equal(u2c_channel_receive(ch, &m), CANAL_ERROR_SUCCESS);
    assert_int_equal(m.flags, CANAL_IDFLAG_RTR);
    assert_int_equal(m.id, 0x7FF);
    assert_int_equal(m.sizeData, 5);
    const uint8_t zeros[8] = {0};
    assert_memory_equal(m.data, zeros, 8); /* a remote frame carries no data */
    assert_true(m.timestamp >= t1);

    assert_int_equal(u2c_channel_receive(ch, &m), CANAL_ERROR_FIFO_EMPTY);
    close_fake(ch);
}

static void test_rx_canalyze_flavour(void **state)
{
    (void)state;
    u2c_channel *ch = open_fake(0, 1, "FAKE0001;125", 8);
    uint8_t rec[21];
    encode_frame(rec, U8D_FLAVOR_CANALYZE, 0x42, 0, 2, 1, 1000);
    fake_link_inject(&g_fake, rec, sizeof rec);
    encode_frame(rec, U8D_FLAVOR_CANALYZE, 0x43, 0, 2, 1, 1250); /* ms */
    fake_link_inject(&g_fake, rec, sizeof rec);
    encode_status(rec, U8D_FLAVOR_CANALYZE, CANAL_STATUSMSG_ACK, 0x55, 0x66); /* stale bytes */
    fake_link_inject(&g_fake, rec, sizeof rec);
    canalMsg a, b, st;
    assert_int_equal(u2c_channel_receive(ch, &a), CANAL_ERROR_SUCCESS);
    assert_int_equal(u2c_channel_receive(ch, &b), CANAL_ERROR_SUCCESS);
    assert_int_equal(b.timestamp - a.timestamp, 250000);
    assert_int_equal(u2c_channel_receive(ch, &st), CANAL_ERROR_SUCCESS);
    assert_int_equal(st.flags, CANAL_IDFLAG_STATUS);
    assert_int_equal(st.id, CANAL_STATUSMSG_ACK);
    assert_int_equal(st.data[1], 0);
    assert_int_equal(st.data[2], 0);

    /* Everything the channel offers, then close: only OPEN, CLOSE and the
     * version query may reach a CANalyze. */
    canalStatus status;
    canalStatistics stats;
    canalMsg out = {.id = 0x10, .sizeData = 1};
    assert_int_equal(u2c_channel_get_status(ch, &status), CANAL_ERROR_SUCCESS);
    assert_int_equal(u2c_channel_get_statistics(ch, &stats), CANAL_ERROR_SUCCESS);
    assert_int_equal(u2c_channel_set_filter(ch, 0), CANAL_ERROR_SUCCESS);
    assert_int_equal(u2c_channel_set_mask(ch, 0), CANAL_ERROR_SUCCESS);
    assert_int_equal(u2c_channel_send(ch, &out), CANAL_ERROR_SUCCESS);
    assert_int_equal(u2c_channel_set_bitrate(ch, 250), CANAL_ERROR_SUCCESS);
    close_fake(ch);
    for (int i = 0; i < g_fake.n_commands; i++) {
        int c = fake_link_command_code(&g_fake, i);
        assert_true(c == U8D_CMD_GET_SOFTW_HARDW_VER || c == U8D_CMD_OPEN || c == U8D_CMD_CLOSE);
    }
}

static void test_rx_malformed_packets_counted_and_skipped(void **state)
{
    (void)state;
    u2c_channel *ch = open_fake(1, 7, "FAKE0001;500", 0);
    uint8_t pkt[63];
    encode_frame(pkt, U8D_FLAVOR_VENDOR, 0x100, 0, 1, 0, 10);
    encode_frame(pkt + 21, U8D_FLAVOR_VENDOR, 0x101, 0, 1, 0, 11);
    encode_frame(pkt + 42, U8D_FLAVOR_VENDOR, 0x102, 0, 1, 0, 12);
    pkt[21 + 20] = 0x00; /* end marker of record 2 */
    fake_link_inject(&g_fake, pkt, sizeof pkt);
    fake_link_inject(&g_fake, pkt, 20);      /* shorter than a record */
    fake_link_inject(&g_fake, pkt, 0);       /* zero-length transfer: nothing, no error */
    fake_link_inject(&g_fake, pkt, 21 + 10); /* a record and a partial one */

    u2c_channel_diag diag;
    u2c_channel_diagnostics(ch, &diag);
    assert_int_equal(diag.malformed_packets, 3);
    assert_int_equal(diag.bad_records, 1);
    assert_true(strlen(diag.last_malformed) > 0);
    canalMsg m;
    /* Each record judged on its own: the bad middle one costs nothing else. */
    assert_int_equal(u2c_channel_receive(ch, &m), CANAL_ERROR_SUCCESS);
    assert_int_equal(m.id, 0x100);
    assert_int_equal(u2c_channel_receive(ch, &m), CANAL_ERROR_SUCCESS);
    assert_int_equal(m.id, 0x102);
    assert_int_equal(u2c_channel_receive(ch, &m), CANAL_ERROR_SUCCESS);
    assert_int_equal(m.id, 0x100); /* the whole record in front of the partial one */
    assert_int_equal(u2c_channel_receive(ch, &m), CANAL_ERROR_FIFO_EMPTY);

    /* Random bytes never crash and every frame that comes out is well formed. */
    srand(1234);
    uint8_t junk[64];
    for (int i = 0; i < 5000; i++) {
        size_t len = (size_t)(rand() % 65);
        for (size_t k = 0; k < len; k++)
            junk[k] = (uint8_t)rand();
        if (i % 3 == 0 && len >= 21) {
            junk[0] = 0x55;
            junk[20] = 0xAA;
        }
        fake_link_inject(&g_fake, junk, len);
        while (u2c_channel_receive(ch, &m) == CANAL_ERROR_SUCCESS) {
            assert_true(m.sizeData <= 8);
            assert_true(m.id <= 0x1FFFFFFF);
        }
    }
    close_fake(ch);
}

static void test_rx_status_records(void **state)
{
    (void)state;
    const unsigned long flag_sets[] = {0, 8};
    for (int f = 0; f < 2; f++) {
        u2c_channel *ch = open_fake(1, 7, "FAKE0001;500", flag_sets[f]);
        /* The adapter's status word agrees with its records: the channel may
         * ask for it (records right after OPEN are confirmed). */
        u2c_mutex_lock(&g_fake.lock);
        g_fake.status_word = 128 | 4 << 8 | 0x20000000u | 0x40000000u;
        u2c_mutex_unlock(&g_fake.lock);
        uint8_t pkt[63];
        encode_frame(pkt, U8D_FLAVOR_VENDOR, 0x100, 0, 0, 0, 2000);
        encode_status(pkt + 21, U8D_FLAVOR_VENDOR, CANAL_STATUSMSG_BUSLIGHT, 3, 96);
        encode_status(pkt + 42, U8D_FLAVOR_VENDOR, CANAL_STATUSMSG_BUSHEAVY, 0x80 | 4, 128);
        fake_link_inject(&g_fake, pkt, sizeof pkt);
        canalMsg m;
        assert_int_equal(u2c_channel_receive(ch, &m), CANAL_ERROR_SUCCESS);
        assert_int_equal(m.id, 0x100);
        unsigned long frame_time = m.timestamp;
        if (flag_sets[f] & 8) {
            assert_int_equal(u2c_channel_receive(ch, &m), CANAL_ERROR_SUCCESS);
            assert_int_equal(m.flags, CANAL_IDFLAG_STATUS);
            assert_int_equal(m.id, CANAL_STATUSMSG_BUSLIGHT);
            assert_int_equal(m.sizeData, 4);
            const uint8_t want[8] = {CANAL_STATUSMSG_BUSLIGHT, 3, 96, 0, 0, 0, 0, 0};
            assert_memory_equal(m.data, want, 8);
            assert_int_equal(m.timestamp, frame_time); /* not the garbage on the wire */
            assert_int_equal(u2c_channel_receive(ch, &m), CANAL_ERROR_SUCCESS);
            assert_int_equal(m.id, CANAL_STATUSMSG_BUSHEAVY);
            assert_int_equal(m.data[1], 0x84);
            assert_int_equal(m.data[2], 128);
        }
        assert_int_equal(u2c_channel_receive(ch, &m), CANAL_ERROR_FIFO_EMPTY);
        canalStatus st;
        assert_int_equal(u2c_channel_get_status(ch, &st), CANAL_ERROR_SUCCESS);
        assert_int_equal(st.channel_status, 128 | 4 << 8 | 0x20000000 | 0x40000000);
        assert_int_equal(st.lasterrorcode, CANAL_STATUSMSG_BUSHEAVY);
        assert_non_null(strstr(st.lasterrorstr, "error passive"));
        canalStatistics stats;
        assert_int_equal(u2c_channel_get_statistics(ch, &stats), CANAL_ERROR_SUCCESS);
        assert_int_equal(stats.cntBusWarnings, 1);
        assert_int_equal(stats.cntReceiveFrames, 1);
        close_fake(ch);
    }
}

static void test_rx_overrun_drops_newest(void **state)
{
    (void)state;
    u2c_channel *ch = open_fake(1, 7, "FAKE0001;500;rxqueue=64", 0);
    uint8_t rec[21];
    for (uint32_t i = 0; i < 70; i++) {
        encode_frame(rec, U8D_FLAVOR_VENDOR, i, 0, 1, 0, 100 + i);
        fake_link_inject(&g_fake, rec, sizeof rec);
    }
    assert_int_equal(u2c_channel_data_available(ch), 64);
    canalStatistics stats;
    assert_int_equal(u2c_channel_get_statistics(ch, &stats), CANAL_ERROR_SUCCESS);
    assert_int_equal(stats.cntOverruns, 6);
    assert_int_equal(stats.cntReceiveFrames, 70);
    assert_int_equal(stats.cntReceiveData, 70);
    u2c_channel_diag diag;
    u2c_channel_diagnostics(ch, &diag);
    assert_int_equal(diag.ring_overruns, 6);
    assert_int_equal(diag.rx_capacity, 64);
    canalMsg m;
    for (uint32_t i = 0; i < 64; i++) {
        assert_int_equal(u2c_channel_receive(ch, &m), CANAL_ERROR_SUCCESS);
        assert_int_equal(m.id, i);
    }
    close_fake(ch);
}

/* --- TX ------------------------------------------------------------------ */

static void test_tx_records_exact(void **state)
{
    (void)state;
    u2c_channel *ch = open_fake(1, 7, "FAKE0001;500", 0);
    canalMsg std = {.flags = CANAL_IDFLAG_SEND,
                    .id = 0x123,
                    .sizeData = 3,
                    .data = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88}};
    canalMsg ext = {.flags = CANAL_IDFLAG_EXTENDED | CANAL_IDFLAG_STATUS | CANAL_IDFLAG_SEND,
                    .id = 0x1ABCDEF5,
                    .sizeData = 8,
                    .data = {1, 2, 3, 4, 5, 6, 7, 8}};
    canalMsg rtr = {
        .flags = CANAL_IDFLAG_RTR, .id = 0x7FF, .sizeData = 4, .data = {9, 9, 9, 9, 9, 9, 9, 9}};
    assert_int_equal(u2c_channel_send(ch, &std), CANAL_ERROR_SUCCESS);
    assert_int_equal(u2c_channel_send(ch, &ext), CANAL_ERROR_SUCCESS);
    assert_int_equal(u2c_channel_blocking_send(ch, &rtr, 100), CANAL_ERROR_SUCCESS);
    assert_int_equal(g_fake.n_out, 3);
    const uint8_t want_std[16] = {0x55, 0x00, 0x00, 0x00, 0x01, 0x23, 0x03, 0x11,
                                  0x22, 0x33, 0x00, 0x00, 0x00, 0x00, 0x00, 0xAA};
    const uint8_t want_ext[16] = {0x55, 0x01, 0x1A, 0xBC, 0xDE, 0xF5, 0x08, 0x01,
                                  0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0xAA};
    const uint8_t want_rtr[16] = {0x55, 0x02, 0x00, 0x00, 0x07, 0xFF, 0x04, 0x00,
                                  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xAA};
    assert_memory_equal(g_fake.out[0], want_std, 16);
    assert_memory_equal(g_fake.out[1], want_ext, 16);
    assert_memory_equal(g_fake.out[2], want_rtr, 16);
    canalStatistics stats;
    assert_int_equal(u2c_channel_get_statistics(ch, &stats), CANAL_ERROR_SUCCESS);
    assert_int_equal(stats.cntTransmitFrames, 3);
    assert_int_equal(stats.cntTransmitData, 11);
    close_fake(ch);
}

static void test_tx_validation(void **state)
{
    (void)state;
    u2c_channel *ch = open_fake(1, 7, "FAKE0001;500", 0);
    canalMsg m = {.id = 0x800, .sizeData = 1};
    assert_int_equal(u2c_channel_send(ch, &m), CANAL_ERROR_CAN_ID);
    assert_non_null(strstr(u2c_error_get(), "11 bits"));
    m.flags = CANAL_IDFLAG_EXTENDED;
    assert_int_equal(u2c_channel_send(ch, &m), CANAL_ERROR_SUCCESS);
    m.id = 0x20000000;
    assert_int_equal(u2c_channel_send(ch, &m), CANAL_ERROR_CAN_ID);
    m.id = 0x1FFFFFFF;
    m.sizeData = 9;
    assert_int_equal(u2c_channel_send(ch, &m), CANAL_ERROR_PARAMETER);
    assert_int_equal(u2c_channel_blocking_send(ch, &m, 10), CANAL_ERROR_PARAMETER);
    m.sizeData = 8;
    assert_int_equal(u2c_channel_send(ch, &m), CANAL_ERROR_SUCCESS);
    assert_int_equal(g_fake.n_out, 2);
    close_fake(ch);
}

struct puller {
    fake_link *fake;
    unsigned delay_ms;
    uint64_t pulled_at;
};

static void pull_later(void *arg)
{
    struct puller *p = arg;
    u2c_sleep_ms(p->delay_ms);
    p->pulled_at = u2c_now_ns();
    fake_link_pull(p->fake, 1);
}

static void test_tx_queue_full_and_blocking_send(void **state)
{
    (void)state;
    u2c_channel *ch = open_fake(1, 7, "FAKE0001;500", 0);
    g_fake.auto_pull = false; /* the adapter takes nothing */
    canalMsg m = {.id = 0x10, .sizeData = 2};
    for (unsigned i = 0; i < 1024; i++)
        assert_int_equal(u2c_channel_send(ch, &m), CANAL_ERROR_SUCCESS);
    assert_int_equal(u2c_channel_send(ch, &m), CANAL_ERROR_FIFO_FULL);
    assert_non_null(strstr(u2c_error_get(), "TX queue full"));

    /* Never early, also across the sender's 20 ms re-checks. */
    const unsigned long timeouts[] = {1, 10, 20, 21, 45, 50};
    for (size_t i = 0; i < sizeof timeouts / sizeof timeouts[0]; i++) {
        uint64_t t0 = u2c_now_ns();
        assert_int_equal(u2c_channel_blocking_send(ch, &m, timeouts[i]), CANAL_ERROR_TIMEOUT);
        uint64_t elapsed = u2c_now_ns() - t0;
        if (elapsed < timeouts[i] * 1000000ull)
            fail_msg("timeout %lu ms returned after %llu ns", timeouts[i],
                     (unsigned long long)elapsed);
    }
    u2c_channel_diag diag;
    u2c_channel_diagnostics(ch, &diag);
    assert_int_equal(diag.tx_queued, 1024); /* nothing queued by a timed-out send */
    /* Forever: room appears when the adapter takes a record. */
    struct puller p = {.fake = &g_fake, .delay_ms = 50};
    u2c_thread th;
    assert_int_equal(u2c_thread_start(&th, pull_later, &p), 0);
    assert_int_equal(u2c_channel_blocking_send(ch, &m, 0), CANAL_ERROR_SUCCESS);
    uint64_t done = u2c_now_ns();
    u2c_thread_join(&th);
    assert_true(done >= p.pulled_at);
    close_fake(ch); /* 1024 frames still queued: close gives up on them */
}

/* --- blocked senders: wake-ups and re-checks ------------------------------ */

#define MS 1000000ull
/* Far above TX_RECHECK_MS (20 ms) and any wake-up, also on a loaded machine,
 * under Wine or ThreadSanitizer; far below the senders' own timeouts. */
#define PROMPT_NS (500 * MS)
#define SENDER_TIMEOUT_MS 10000ul

static u2c_channel *open_with_full_tx_queue(uint8_t fw_major, uint8_t fw_minor)
{
    u2c_channel *ch = open_fake(fw_major, fw_minor, "FAKE0001;500", 0);
    g_fake.auto_pull = false; /* the adapter takes only what the test pulls */
    for (uint32_t i = 0; i < 1024; i++) {
        canalMsg m = {.id = i, .sizeData = 1};
        assert_int_equal(u2c_channel_send(ch, &m), CANAL_ERROR_SUCCESS);
    }
    return ch;
}

static void wait_for_tx_waiters(u2c_channel *ch, uint32_t n)
{
    uint64_t deadline = u2c_now_ns() + 10000 * MS;
    u2c_channel_diag diag;
    do {
        u2c_sleep_ms(1);
        u2c_channel_diagnostics(ch, &diag);
    } while (diag.tx_waiters < n && u2c_now_ns() < deadline);
    assert_int_equal(diag.tx_waiters, n);
}

/* Sends `frames` frames with ids first_id, first_id + 1, ... by blocking
 * sends, stopping at the first failure. */
struct sender {
    u2c_channel *ch;
    uint32_t first_id;
    int frames;
    int sent;
    int code;
    uint64_t returned_at;
};

static void send_in_a_row(void *arg)
{
    struct sender *s = arg;
    s->code = CANAL_ERROR_SUCCESS;
    while (s->sent < s->frames && s->code == CANAL_ERROR_SUCCESS) {
        canalMsg m = {.id = s->first_id + (uint32_t)s->sent, .sizeData = 1};
        s->code = u2c_channel_blocking_send(s->ch, &m, SENDER_TIMEOUT_MS);
        if (s->code == CANAL_ERROR_SUCCESS)
            s->sent++;
    }
    s->returned_at = u2c_now_ns();
}

static uint32_t record_id(const uint8_t record[U8D_TX_RECORD_SIZE])
{
    return (uint32_t)record[2] << 24 | (uint32_t)record[3] << 16 | (uint32_t)record[4] << 8 |
           record[5];
}

/* Pulls everything left and checks that the link got ids 0, 1, 2, ... n - 1. */
static void expect_records_in_sequence(uint32_t n)
{
    fake_link_pull(&g_fake, FAKE_MAX_OUT);
    assert_int_equal(g_fake.n_out, n);
    for (uint32_t i = 0; i < n; i++)
        if (record_id(g_fake.out[i]) != i)
            fail_msg("record %u carries id 0x%X", i, record_id(g_fake.out[i]));
}

/* The link takes one record and then stalls (bus off, no ACK): no pop will
 * wake the sender, yet the free slot must not stay unused. */
static void test_blocked_sender_finds_room_after_one_pull_then_stall(void **state)
{
    (void)state;
    u2c_channel *ch = open_with_full_tx_queue(1, 7);
    struct sender s = {.ch = ch, .first_id = 1024, .frames = 1};
    u2c_thread th;
    assert_int_equal(u2c_thread_start(&th, send_in_a_row, &s), 0);
    wait_for_tx_waiters(ch, 1);
    uint64_t pulled_at = u2c_now_ns();
    assert_int_equal(fake_link_pull(&g_fake, 1), 1);
    u2c_thread_join(&th);
    assert_int_equal(s.code, CANAL_ERROR_SUCCESS);
    assert_true(s.returned_at >= pulled_at); /* it took the slot the pull freed */
    print_message("sender returned %.3f ms after the pull\n", (s.returned_at - pulled_at) / 1e6);
    assert_true(s.returned_at - pulled_at < PROMPT_NS);
    u2c_channel_diag diag;
    u2c_channel_diagnostics(ch, &diag);
    assert_int_equal(diag.tx_queued, 1024);
    assert_int_equal(diag.tx_waiters, 0);
    expect_records_in_sequence(1025);
    close_fake(ch);
}

/* The link takes TX_WAKE_ROOM records at once: the sender is woken and
 * refills all of them, long before its own timeout. */
static void test_blocked_sender_refills_wake_room(void **state)
{
    (void)state;
    u2c_channel *ch = open_with_full_tx_queue(1, 7);
    struct sender s = {.ch = ch, .first_id = 1024, .frames = TX_WAKE_ROOM};
    u2c_thread th;
    assert_int_equal(u2c_thread_start(&th, send_in_a_row, &s), 0);
    wait_for_tx_waiters(ch, 1);
    uint64_t pulled_at = u2c_now_ns();
    assert_int_equal(fake_link_pull(&g_fake, TX_WAKE_ROOM), TX_WAKE_ROOM);
    u2c_thread_join(&th);
    assert_int_equal(s.code, CANAL_ERROR_SUCCESS);
    assert_int_equal(s.sent, TX_WAKE_ROOM);
    assert_true(s.returned_at >= pulled_at);
    print_message("%u frames sent %.3f ms after the pull\n", TX_WAKE_ROOM,
                  (s.returned_at - pulled_at) / 1e6);
    assert_true(s.returned_at - pulled_at < PROMPT_NS);
    u2c_channel_diag diag;
    u2c_channel_diagnostics(ch, &diag);
    assert_int_equal(diag.tx_queued, 1024);
    expect_records_in_sequence(1024 + TX_WAKE_ROOM);
    close_fake(ch);
}

static bool close_sent(void)
{
    u2c_mutex_lock(&g_fake.lock);
    bool sent = false;
    for (int i = 0; i < g_fake.n_commands; i++)
        sent = sent || g_fake.commands[i][2] == U8D_CMD_CLOSE;
    u2c_mutex_unlock(&g_fake.lock);
    return sent;
}

/* Takes records one at a time, the first TX_WAKE_ROOM of them slowly, until
 * the queue is empty or the channel sends CLOSE (an adapter takes nothing
 * after that). */
static void pull_slowly_until_close(void *arg)
{
    (void)arg;
    for (unsigned i = 0; !close_sent(); i++) {
        if (i < TX_WAKE_ROOM)
            u2c_sleep_ms(3);
        if (fake_link_pull(&g_fake, 1) == 0)
            break;
    }
}

static void join_reader(void *arg)
{
    u2c_thread_join((u2c_thread *)arg);
}

/* Close drains the queue while it keeps shrinking, even when the frames
 * leaving a full queue wake nobody: the first TX_WAKE_ROOM leave over more
 * than the 100 ms close allows without progress. A CANalyze, so close does
 * not also wait for the adapter's own queue. */
static void test_close_drains_a_full_queue_without_wake_ups(void **state)
{
    (void)state;
    u2c_channel *ch = open_with_full_tx_queue(0, 1);
    u2c_thread reader;
    g_fake.on_stop = join_reader; /* as a real link joins its threads */
    g_fake.on_stop_arg = &reader;
    assert_int_equal(u2c_thread_start(&reader, pull_slowly_until_close, NULL), 0);
    uint64_t t0 = u2c_now_ns();
    u2c_channel_shutdown(ch);
    u2c_channel_close(ch);
    print_message("close took %.3f ms\n", (u2c_now_ns() - t0) / 1e6);
    assert_true(g_fake.stopped);
    assert_true(close_sent());
    assert_int_equal(g_fake.n_out, 1024); /* all of them before CLOSE */
    for (uint32_t i = 0; i < 1024; i++)
        assert_int_equal(record_id(g_fake.out[i]), i);
    fake_link_fini(&g_fake);
}

/* --- receive waits and unplug ---------------------------------------------- */

/* Waits until `n` threads are blocked in a receive, so a wake-up latency
 * measures the wake-up and not a slow thread start. */
static void wait_for_rx_waiters(u2c_channel *ch, uint32_t n)
{
    uint64_t deadline = u2c_now_ns() + 10000000000ull;
    u2c_channel_diag diag;
    do {
        u2c_sleep_ms(1);
        u2c_channel_diagnostics(ch, &diag);
    } while (diag.rx_waiters < n && u2c_now_ns() < deadline);
    assert_int_equal(diag.rx_waiters, n);
}

struct receiver {
    u2c_channel *ch;
    unsigned long timeout;
    int code;
    uint64_t returned_at;
};

static void receive_blocking(void *arg)
{
    struct receiver *r = arg;
    canalMsg m;
    r->code = u2c_channel_blocking_receive(r->ch, &m, r->timeout);
    r->returned_at = u2c_now_ns();
}

static void test_unplug_wakes_and_fails_everything(void **state)
{
    (void)state;
    u2c_channel *ch = open_fake(1, 7, "FAKE0001;500", 8);
    uint8_t rec[21];
    encode_frame(rec, U8D_FLAVOR_VENDOR, 0x55, 0, 1, 0, 1);
    struct receiver r = {.ch = ch, .timeout = 0};
    u2c_thread th;
    canalMsg m;
    assert_int_equal(u2c_thread_start(&th, receive_blocking, &r), 0);
    wait_for_rx_waiters(ch, 1);
    uint64_t unplugged = u2c_now_ns();
    fake_link_unplug(&g_fake, "device unplugged");
    u2c_thread_join(&th);
    assert_int_equal(r.code, CANAL_ERROR_COMMUNICATION);
    assert_true(r.returned_at - unplugged < 100000000ull);

    canalMsg out = {.id = 1};
    assert_int_equal(u2c_channel_send(ch, &out), CANAL_ERROR_COMMUNICATION);
    assert_non_null(strstr(u2c_error_get(), "device unplugged"));
    assert_int_equal(u2c_channel_blocking_send(ch, &out, 0), CANAL_ERROR_COMMUNICATION);
    assert_int_equal(u2c_channel_receive(ch, &m), CANAL_ERROR_COMMUNICATION);
    assert_int_equal(u2c_channel_blocking_receive(ch, &m, 0), CANAL_ERROR_COMMUNICATION);
    assert_int_equal(u2c_channel_set_bitrate(ch, 250), CANAL_ERROR_COMMUNICATION);
    canalStatus st;
    assert_int_equal(u2c_channel_get_status(ch, &st), CANAL_ERROR_COMMUNICATION);
    assert_non_null(strstr(st.lasterrorstr, "device unplugged"));
    assert_int_equal(st.lasterrorsubcode, CANAL_ERROR_COMMUNICATION);
    int before = g_fake.n_commands;
    close_fake(ch);
    assert_int_equal(g_fake.n_commands, before); /* no CLOSE to a vanished device */
}

static void test_frames_before_unplug_still_delivered(void **state)
{
    (void)state;
    u2c_channel *ch = open_fake(1, 7, "FAKE0001;500", 0);
    uint8_t rec[21];
    encode_frame(rec, U8D_FLAVOR_VENDOR, 0x55, 0, 1, 0, 1);
    fake_link_inject(&g_fake, rec, sizeof rec);
    fake_link_unplug(&g_fake, "device unplugged");
    canalMsg m;
    assert_int_equal(u2c_channel_blocking_receive(ch, &m, 0), CANAL_ERROR_SUCCESS);
    assert_int_equal(m.id, 0x55);
    assert_int_equal(u2c_channel_blocking_receive(ch, &m, 0), CANAL_ERROR_COMMUNICATION);
    close_fake(ch);
}

static void test_shutdown_wakes_receiver(void **state)
{
    (void)state;
    u2c_channel *ch = open_fake(1, 7, "FAKE0001;500", 0);
    struct receiver r = {.ch = ch, .timeout = 0};
    u2c_thread th;
    assert_int_equal(u2c_thread_start(&th, receive_blocking, &r), 0);
    wait_for_rx_waiters(ch, 1);
    uint64_t t0 = u2c_now_ns();
    u2c_channel_shutdown(ch);
    u2c_thread_join(&th);
    assert_int_equal(r.code, CANAL_ERROR_NOT_OPEN);
    assert_true(r.returned_at - t0 < 100000000ull);
    u2c_channel_close(ch);
    fake_link_fini(&g_fake);
}

/* --- set bitrate ---------------------------------------------------------- */

static void test_set_bitrate(void **state)
{
    (void)state;
    u2c_channel *ch = open_fake(1, 7, "FAKE0001;500", 8);
    assert_int_equal(u2c_channel_set_bitrate(ch, 250), CANAL_ERROR_SUCCESS);
    /* version, OPEN, two baselines; the overrun count before CLOSE, CLOSE,
     * OPEN (after its own CLOSE the adapter's counts restart at 0: no
     * baseline to read). */
    assert_int_equal(g_fake.n_commands, 7);
    assert_int_equal(fake_link_command_code(&g_fake, 4), U8D_CMD_GET_STATISTICS);
    assert_int_equal(fake_link_command_code(&g_fake, 5), U8D_CMD_CLOSE);
    const uint8_t open250[16] = {0x11, 0x00, 0x02, 0x09, 0x00, 0x0D, 0x02, 0x01,
                                 0x00, 0x08, 0x00, 0x00, 0x00, 0x08, 0x00, 0x22};
    assert_memory_equal(g_fake.commands[6], open250, 16);
    u2c_channel_diag diag;
    u2c_channel_diagnostics(ch, &diag);
    assert_int_equal(diag.bitrate, 250000);

    assert_int_equal(u2c_channel_set_bitrate(ch, 0), CANAL_ERROR_BAUDRATE);
    assert_int_equal(u2c_channel_set_bitrate(ch, 5000), CANAL_ERROR_BAUDRATE);
    assert_true(strlen(u2c_error_get()) > 0);
    assert_int_equal(g_fake.n_commands, 7); /* refused before any command */

    /* The adapter refuses the new OPEN: the old timing is restored. */
    g_fake.refuse_cmd = U8D_CMD_OPEN;
    assert_int_equal(u2c_channel_set_bitrate(ch, 125), CANAL_ERROR_HARDWARE);
    assert_non_null(strstr(u2c_error_get(), "OPEN"));
    /* the overrun count, CLOSE, the refused OPEN, the old OPEN again
     * (refused too here) */
    assert_int_equal(g_fake.n_commands, 11);
    assert_int_equal(fake_link_command_code(&g_fake, 10), U8D_CMD_OPEN);
    assert_int_equal(g_fake.commands[10][9], 0x08); /* brp of 250 kbit/s again */
    u2c_channel_diagnostics(ch, &diag);
    assert_int_equal(diag.bitrate, 250000);
    g_fake.refuse_cmd = -1;
    close_fake(ch);
}

/* The wire's OPEN always asks for status records (bit 0x08), as the Linux
 * driver's does; only the mode bits 0..2 come from the caller's flags. */
static void test_open_always_asks_for_status_records(void **state)
{
    (void)state;
    const struct {
        unsigned long flags;
        uint8_t wire;
    } cases[] = {{0, 0x08}, {8, 0x08}, {7, 0x0F}, {0x8000000Dul, 0x0D}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        u2c_channel *ch = open_fake(1, 7, "FAKE0001;500", cases[i].flags);
        assert_int_equal(fake_link_command_code(&g_fake, 1), U8D_CMD_OPEN);
        const uint8_t want[4] = {0, 0, 0, cases[i].wire};
        assert_memory_equal(g_fake.commands[1] + 10, want, 4);
        close_fake(ch);
    }
}

/* A CANalyze (fw 0.x) scales brp by 1.5: 800 kbit/s goes out with brp 2,
 * not the table's 5; a manual timing with an odd brp is refused before
 * OPEN. */
static void test_canalyze_gets_an_even_brp(void **state)
{
    (void)state;
    u2c_channel *ch = open_fake(0, 1, "FAKE0001;800", 0);
    const uint8_t open800[16] = {0x11, 0x00, 0x02, 0x09, 0x00, 0x10, 0x03, 0x01,
                                 0x00, 0x02, 0x00, 0x00, 0x00, 0x08, 0x00, 0x22};
    assert_memory_equal(g_fake.commands[1], open800, 16);
    assert_int_equal(g_fake.n_commands, 2); /* no statistics query to a CANalyze */
    u2c_channel_diag diag;
    u2c_channel_diagnostics(ch, &diag);
    assert_int_equal(diag.bitrate, 800000);
    close_fake(ch);

    fake_link_init(&g_fake, 0, 1);
    u2c_setup s = setup_of("FAKE0001;0;6;1;1;5");
    int code = 0;
    assert_null(u2c_channel_open(&g_fake.base, &s, 0, &code));
    assert_int_equal(code, CANAL_ERROR_BAUDRATE);
    assert_non_null(strstr(u2c_error_get(), "857143"));
    assert_int_equal(g_fake.n_commands, 1); /* the version query only */
    fake_link_fini(&g_fake);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_sends_version_query_then_open),
        cmocka_unit_test(test_open_fails_cleanly),
        cmocka_unit_test(test_open_always_asks_for_status_records),
        cmocka_unit_test(test_canalyze_gets_an_even_brp),
        cmocka_unit_test(test_rx_three_records_exact),
        cmocka_unit_test(test_rx_canalyze_flavour),
        cmocka_unit_test(test_rx_malformed_packets_counted_and_skipped),
        cmocka_unit_test(test_rx_status_records),
        cmocka_unit_test(test_rx_overrun_drops_newest),
        cmocka_unit_test(test_tx_records_exact),
        cmocka_unit_test(test_tx_validation),
        cmocka_unit_test(test_tx_queue_full_and_blocking_send),
        cmocka_unit_test(test_blocked_sender_finds_room_after_one_pull_then_stall),
        cmocka_unit_test(test_blocked_sender_refills_wake_room),
        cmocka_unit_test(test_close_drains_a_full_queue_without_wake_ups),
        cmocka_unit_test(test_unplug_wakes_and_fails_everything),
        cmocka_unit_test(test_frames_before_unplug_still_delivered),
        cmocka_unit_test(test_shutdown_wakes_receiver),
        cmocka_unit_test(test_set_bitrate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
