/* What the firmwares do that a CANAL caller must not trip over, end to end
 * over real libusb and the device model (docs/protocol.md): the adapter's
 * own overruns, frames and records that survive CLOSE, receive errors the
 * kernel driver tolerates, CANalyze warning counts, and CanalGetStatus never
 * waiting for the adapter. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "canal.h"
#include "canal_api.h"
#include "link_libusb.h"
#include "model_rig.h"
#include "osal.h"
#include "u8d_codec.h"
#include "u8d_model.h"
#include "usb2can.h"
#include "usbfs_mock.h"

#define MS 1000000ull
#define LATENCY_CALLS 300
/* "Well under" the 200 ms a blocking GET_STATUS could take. */
#define LATENCY_LIMIT_MS 50u

static const mock_identity adapter_200 = {"ED000200", "USB2CAN converter", "edevices", 0xFF};
static const mock_identity canalyze_200 = {"ED000200", "USB2CAN converter", "STMicroelectronics",
                                           0x00};

typedef rig_fixture fixture;

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static long open_ok(const char *setup_string, unsigned long flags)
{
    long h = CanalOpen(setup_string, flags);
    if (h <= 0)
        fail_msg("CanalOpen(\"%s\") failed: %s", setup_string, Usb2canGetLastError());
    return h;
}

static canalMsg numbered(uint32_t id, uint32_t n)
{
    canalMsg m;
    memset(&m, 0, sizeof m);
    m.id = id;
    m.sizeData = 8;
    put_be32(m.data, n);
    return m;
}

static void inject_bit0_errors(u8d_model *m, uint64_t now, void *ctx)
{
    (void)now;
    u8d_model_inject_tx_errors(m, U8D_LEC_BIT0, *(unsigned *)ctx);
}

static void read_view(u8d_model *m, uint64_t now, void *ctx)
{
    (void)now;
    u8d_model_can_state(m, ctx);
}

static bool device_bus_off(fixture *f)
{
    u8d_model_can_view v;
    memset(&v, 0, sizeof v);
    rig_with_device(f->rig[0], read_view, &v);
    return v.bus_off;
}

static void read_tx_pending(u8d_model *m, uint64_t now, void *ctx)
{
    (void)now;
    *(size_t *)ctx = u8d_model_tx_pending(m);
}

static size_t device_tx_pending(fixture *f)
{
    size_t n = 0;
    rig_with_device(f->rig[0], read_tx_pending, &n);
    return n;
}

static void read_lost(u8d_model *m, uint64_t now, void *ctx)
{
    (void)now;
    *(uint32_t *)ctx = u8d_model_frames_lost(m);
}

static uint32_t device_frames_lost(fixture *f)
{
    uint32_t n = 0;
    rig_with_device(f->rig[0], read_lost, &n);
    return n;
}

static bool wait_bus_off(fixture *f, unsigned ms)
{
    uint64_t deadline = u2c_deadline_after_ms(ms);
    while (!device_bus_off(f) && u2c_now_ns() < deadline)
        u2c_sleep_ms(2);
    return device_bus_off(f);
}

static bool wait_tx_pending(fixture *f, size_t want, unsigned ms)
{
    uint64_t deadline = u2c_deadline_after_ms(ms);
    while (device_tx_pending(f) != want && u2c_now_ns() < deadline)
        u2c_sleep_ms(2);
    return device_tx_pending(f) == want;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* issue 20 item 10 / issue 21 item 1: the refresh is the refresher's. */
static void test_get_status_never_waits_while_the_adapter_withholds_replies(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &adapter_200, U8D_FLAVOR_VENDOR, 500);
    long h = open_ok("ED000200;500", 0);
    u2c_sleep_ms(600); /* past the refresh interval: a refresh is due */
    rig_withhold_replies(f->rig[0], 1000);
    static uint64_t took[LATENCY_CALLS];
    for (int i = 0; i < LATENCY_CALLS; i++) {
        canalStatus st;
        canalStatistics stats;
        uint64_t t0 = u2c_now_ns();
        int code = (i & 1) ? CanalGetStatistics(h, &stats) : CanalGetStatus(h, &st);
        took[i] = u2c_now_ns() - t0;
        assert_int_equal(code, CANAL_ERROR_SUCCESS);
        u2c_sleep_ms(5);
    }
    rig_withhold_replies(f->rig[0], 0);
    qsort(took, LATENCY_CALLS, sizeof took[0], compare_u64);
    uint64_t p99 = took[LATENCY_CALLS * 99 / 100], max = took[LATENCY_CALLS - 1];
    print_message("CanalGetStatus/Statistics while replies are withheld: p99 %.3f ms, max %.3f "
                  "ms\n",
                  (double)p99 / 1e6, (double)max / 1e6);
    assert_true(max < LATENCY_LIMIT_MS * MS);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
}

static void receive_burst(u8d_model *m, uint64_t now, void *ctx)
{
    unsigned n = *(unsigned *)ctx;
    for (unsigned i = 0; i < n; i++) {
        u8d_frame fr = {.id = 0x200, .dlc = 8};
        put_be32(fr.data, i);
        u8d_model_can_rx(m, now, &fr);
    }
}

static void read_overruns(u8d_model *m, uint64_t now, void *ctx)
{
    (void)now;
    *(uint32_t *)ctx = u8d_model_statistic(m, U8D_STAT_OVERRUNS);
}

/* Item 1: 64 records fit in the adapter (63 in its list, 1 loaded in the IN
 * endpoint when the first came); the next 36 frames are dropped there and
 * only counted. */
static void test_adapter_overruns_read_back_in_cnt_overruns(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &adapter_200, U8D_FLAVOR_VENDOR, 500);
    long h = open_ok("ED000200;500", 0);
    unsigned burst = 64 + 36;
    rig_with_device(f->rig[0], receive_burst, &burst);
    uint32_t in_adapter = 0;
    rig_with_device(f->rig[0], read_overruns, &in_adapter);
    assert_int_equal(in_adapter, 36);
    for (uint32_t n = 0; n < 64; n++) {
        canalMsg m;
        assert_int_equal(CanalBlockingReceive(h, &m, 2000), CANAL_ERROR_SUCCESS);
        assert_int_equal(be32(m.data), n);
    }
    canalStatistics stats;
    uint64_t deadline = u2c_deadline_after_ms(2000);
    do {
        assert_int_equal(CanalGetStatistics(h, &stats), CANAL_ERROR_SUCCESS);
        u2c_sleep_ms(10);
    } while (stats.cntOverruns < 36 && u2c_now_ns() < deadline);
    print_message("cntOverruns %lu (adapter: %u)\n", stats.cntOverruns, in_adapter);
    assert_int_equal(stats.cntOverruns, 36);
    assert_int_equal(stats.cntReceiveFrames, 64);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
}

/* Item 2: a bus-off adapter holds frame 0 in its message object, frame 1
 * behind it, 63 in its list and 1 in its OUT endpoint; 14 wait on the host
 * (in OUT transfers and the queue). CLOSE loses 0 and 1; the 64 it keeps
 * and the 14 leave after the new OPEN. */
static void test_frames_held_at_set_baudrate_are_counted_as_the_firmware_does(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &adapter_200, U8D_FLAVOR_VENDOR, 500);
    long h = open_ok("ED000200;500", 0);
    unsigned errors = 32; /* TEC 256: bus off */
    rig_with_device(f->rig[0], inject_bit0_errors, &errors);
    canalMsg m = numbered(0x300, 0);
    assert_int_equal(CanalSend(h, &m), CANAL_ERROR_SUCCESS);
    assert_true(wait_bus_off(f, 3000));
    for (uint32_t n = 1; n < 80; n++) {
        m = numbered(0x300, n);
        assert_int_equal(CanalSend(h, &m), CANAL_ERROR_SUCCESS);
    }
    assert_true(wait_tx_pending(f, U8D_MODEL_TX_CAPACITY, 3000));
    /* The link keeps filling its OUT transfers (which NAK) for a moment. */
    u2c_channel_diag diag;
    uint32_t on_host = UINT32_MAX;
    for (;;) {
        assert_int_equal(u2c_api_diagnostics(h, &diag), CANAL_ERROR_SUCCESS);
        if (diag.tx_queued == on_host)
            break;
        on_host = diag.tx_queued;
        u2c_sleep_ms(100);
    }
    assert_int_equal(CanalSetBaudrate(h, 500), CANAL_ERROR_SUCCESS);

    uint64_t deadline = u2c_deadline_after_ms(5000);
    while (rig_far_received_total(f->rig[0]) < 78 && u2c_now_ns() < deadline)
        u2c_sleep_ms(2);
    u2c_sleep_ms(100); /* nothing more may come */
    u8d_frame got[96];
    size_t left = rig_far_received(f->rig[0], 0, got, 96);
    uint32_t lost = device_frames_lost(f);
    assert_int_equal(u2c_api_diagnostics(h, &diag), CANAL_ERROR_SUCCESS);
    canalStatistics stats;
    assert_int_equal(CanalGetStatistics(h, &stats), CANAL_ERROR_SUCCESS);
    print_message("left %zu, lost in the adapter %u (host: %llu), held across CLOSE %llu "
                  "(queued on the host then: %u), cntTransmitFrames %lu\n",
                  left, lost, (unsigned long long)diag.tx_lost_at_close,
                  (unsigned long long)diag.tx_left_at_close, on_host, stats.cntTransmitFrames);
    assert_int_equal(left, 78);
    for (size_t k = 0; k < left; k++)
        assert_int_equal(be32(got[k].data), k + 2);
    assert_int_equal(lost, 2);
    assert_int_equal(diag.tx_lost_at_close, 2);
    assert_int_equal(diag.tx_left_at_close, 80 - on_host - 2);
    assert_int_equal(stats.cntTransmitFrames, 78);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
}

/* Item 2: nobody ACKs; CanalClose says what stayed behind. */
static void test_close_reports_frames_left_in_the_adapter(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &adapter_200, U8D_FLAVOR_VENDOR, 500);
    rig_far_set_open(f->rig[0], false);
    long h = open_ok("ED000200;500", 0);
    for (uint32_t n = 0; n < 10; n++) {
        canalMsg m = numbered(0x310, n);
        assert_int_equal(CanalSend(h, &m), CANAL_ERROR_SUCCESS);
    }
    assert_true(wait_tx_pending(f, 10, 3000));
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
    const char *note = Usb2canGetLastError();
    print_message("after CanalClose: %s\n", note);
    assert_non_null(strstr(note, "10 frame(s) not sent"));
    assert_non_null(strstr(note, "2 lost at CLOSE"));
    assert_non_null(strstr(note, "8 stay in the adapter"));
    assert_non_null(strstr(note, "0 dropped on the host"));
    assert_int_equal(device_tx_pending(f), 8);
    assert_int_equal(device_frames_lost(f), 2);
    /* The next open of that adapter here says they go out now. */
    h = open_ok("ED000200;250", 0);
    note = Usb2canGetLastError();
    print_message("after CanalOpen: %s\n", note);
    assert_non_null(strstr(note, "8 frame(s) that this program's last CanalClose left"));
    assert_non_null(strstr(note, "go out now, at 250000 bit/s"));
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
    h = open_ok("ED000200;250", 0); /* told once */
    assert_string_equal(Usb2canGetLastError(), "");
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
}

/* Item 3: frame A, the records of a bus-off, held in the adapter across
 * CLOSE; after the new OPEN they arrive first, then frame B. */
static void test_records_held_across_close_never_show_bus_off_after_reopen(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &adapter_200, U8D_FLAVOR_VENDOR, 500);
    long h = open_ok("ED000200;500", USB2CAN_FLAG_STATUS_FRAMES);
    rig_hold_in(f->rig[0], 400); /* the host reads nothing for a while */
    u8d_frame a = {.id = 0x0A, .dlc = 1, .data = {0xA}};
    assert_true(rig_far_send(f->rig[0], &a));
    unsigned errors = 32;
    rig_with_device(f->rig[0], inject_bit0_errors, &errors);
    canalMsg m = numbered(0x300, 0);
    assert_int_equal(CanalSend(h, &m), CANAL_ERROR_SUCCESS);
    assert_true(wait_bus_off(f, 300));
    assert_int_equal(CanalSetBaudrate(h, 500), CANAL_ERROR_SUCCESS);
    u8d_frame b = {.id = 0x0B, .dlc = 1, .data = {0xB}};
    assert_true(rig_far_send(f->rig[0], &b));

    unsigned polls = 0, bus_off_seen = 0, bus_off_messages = 0;
    bool got_a = false, got_b = false;
    uint64_t end = u2c_deadline_after_ms(1000);
    while (u2c_now_ns() < end) {
        canalStatus st;
        assert_int_equal(CanalGetStatus(h, &st), CANAL_ERROR_SUCCESS);
        polls++;
        bus_off_seen += (st.channel_status & CANAL_STATUS_BUS_OFF) != 0;
        canalMsg got;
        while (CanalReceive(h, &got) == CANAL_ERROR_SUCCESS) {
            if (got.flags & CANAL_IDFLAG_STATUS)
                bus_off_messages += got.id == CANAL_STATUSMSG_BUSOFF;
            else if (got.id == 0x0A)
                got_a = true;
            else if (got.id == 0x0B)
                got_b = true;
        }
        u2c_sleep_ms(1);
    }
    print_message("%u status polls after the reopen: %u bus-off, %u bus-off messages; A %d, B "
                  "%d\n",
                  polls, bus_off_seen, bus_off_messages, got_a, got_b);
    assert_int_equal(bus_off_seen, 0);
    assert_int_equal(bus_off_messages, 0);
    assert_true(got_a); /* a stale frame cannot be told apart (docs/protocol.md) */
    assert_true(got_b);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
}

/* Item 4: as the kernel driver, EOVERFLOW, EILSEQ (CRC) and ETIME do not end
 * an IN transfer. */
static void test_overflow_crc_and_timeout_completions_do_not_retire_transfers(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &adapter_200, U8D_FLAVOR_VENDOR, 500);
    long h = open_ok("ED000200;500", 0);
    uint64_t deadline = u2c_deadline_after_ms(2000);
    unsigned all = 0;
    for (;;) {
        mock_bus_lock(f->bus);
        all = mock_usb_urbs_in_flight_on(rig_usb(f->rig[0]), U8D_EP_DATA_IN);
        mock_bus_unlock(f->bus);
        if (all == U2C_LIBUSB_RX_TRANSFERS || u2c_now_ns() >= deadline)
            break;
        u2c_sleep_ms(2);
    }
    assert_int_equal(all, U2C_LIBUSB_RX_TRANSFERS);
    const int errors[] = {EOVERFLOW, EILSEQ, ETIME};
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
        rig_fail_in(f->rig[0], 3 * U2C_LIBUSB_RX_TRANSFERS, errors[i]);
        deadline = u2c_deadline_after_ms(2000);
        while (rig_in_failures_left(f->rig[0]) > 0 && u2c_now_ns() < deadline)
            u2c_sleep_ms(2);
        if (rig_in_failures_left(f->rig[0]) != 0)
            fail_msg("errno %d: %u failures not consumed", errors[i],
                     rig_in_failures_left(f->rig[0]));
    }
    for (uint32_t n = 0; n < 50; n++) {
        u8d_frame fr = {.id = 0x3C, .dlc = 8};
        put_be32(fr.data, n);
        assert_true(rig_far_send(f->rig[0], &fr));
    }
    for (uint32_t n = 0; n < 50; n++) {
        canalMsg m;
        int code = CanalBlockingReceive(h, &m, 2000);
        if (code != CANAL_ERROR_SUCCESS)
            fail_msg("frame %u: code %d: %s", n, code, Usb2canGetLastError());
        assert_int_equal(be32(m.data), n);
    }
    canalStatus st;
    assert_int_equal(CanalGetStatus(h, &st), CANAL_ERROR_SUCCESS);
    unsigned now_in_flight = 0;
    deadline = u2c_deadline_after_ms(1000); /* one may be between completion and resubmit */
    for (;;) {
        mock_bus_lock(f->bus);
        now_in_flight = mock_usb_urbs_in_flight_on(rig_usb(f->rig[0]), U8D_EP_DATA_IN);
        mock_bus_unlock(f->bus);
        if (now_in_flight == all || u2c_now_ns() >= deadline)
            break;
        u2c_sleep_ms(2);
    }
    print_message("IN transfers in flight after %u failed completions: %u of %u\n",
                  (unsigned)(3 * 3 * U2C_LIBUSB_RX_TRANSFERS), now_in_flight, all);
    assert_int_equal(now_in_flight, all);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
}

/* One frame through `errors` injected bit errors, until the far end has it. */
static void send_through_errors(fixture *f, long h, unsigned errors, uint32_t n)
{
    uint64_t before = rig_far_received_total(f->rig[0]);
    rig_with_device(f->rig[0], inject_bit0_errors, &errors);
    canalMsg m = numbered(0x120, n);
    assert_int_equal(CanalSend(h, &m), CANAL_ERROR_SUCCESS);
    uint64_t deadline = u2c_deadline_after_ms(3000);
    while (rig_far_received_total(f->rig[0]) == before && u2c_now_ns() < deadline)
        u2c_sleep_ms(2);
    assert_int_equal(rig_far_received_total(f->rig[0]), before + 1);
    u2c_sleep_ms(20);
}

/* Item 5: 13 bit errors take TEC to 104 (then 103 after the success); three
 * more lone errors (111, 118, 125) each arrive as BUSLIGHT while TEC never
 * left the warning range: one warning. */
static void test_canalyze_counts_warning_transitions_not_records(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &canalyze_200, U8D_FLAVOR_CANALYZE, 500);
    long h = open_ok("ED000200;500", USB2CAN_FLAG_STATUS_FRAMES);
    send_through_errors(f, h, 13, 0);
    for (uint32_t n = 1; n <= 3; n++)
        send_through_errors(f, h, 1, n);
    unsigned light = 0;
    canalMsg got;
    while (CanalReceive(h, &got) == CANAL_ERROR_SUCCESS)
        light += (got.flags & CANAL_IDFLAG_STATUS) && got.id == CANAL_STATUSMSG_BUSLIGHT;
    canalStatistics stats;
    assert_int_equal(CanalGetStatistics(h, &stats), CANAL_ERROR_SUCCESS);
    print_message("BUSLIGHT records %u, cntBusWarnings %lu\n", light, stats.cntBusWarnings);
    assert_true(light >= 3);
    assert_int_equal(stats.cntBusWarnings, 1);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
}

static void block_init(u8d_model *m, uint64_t now, void *ctx)
{
    (void)now;
    u8d_model_block_init(m, *(bool *)ctx);
}

/* Model 6e: a CANalyze whose controller cannot leave init refuses OPEN. */
static void test_canalyze_refusing_open_fails_canal_open(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &canalyze_200, U8D_FLAVOR_CANALYZE, 500);
    bool blocked = true;
    rig_with_device(f->rig[0], block_init, &blocked);
    long h = CanalOpen("ED000200;500", 0);
    print_message("CanalOpen: %ld: %s\n", h, Usb2canGetLastError());
    assert_true(h <= 0);
    assert_non_null(strstr(Usb2canGetLastError(), "OPEN"));
    blocked = false;
    rig_with_device(f->rig[0], block_init, &blocked);
    h = open_ok("ED000200;500", 0);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
}

/* Model 6d: the vendor firmware's one reply buffer. */
static void test_vendor_reply_overwrites_an_unread_one(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &adapter_200, U8D_FLAVOR_VENDOR, 500);
    uint8_t cmd[U8D_CMD_SIZE];
    u8d_encode_command(cmd, U8D_CMD_GET_SOFTW_HARDW_VER, 0, 0, NULL);
    rig_device_command(f->rig[0], cmd);
    u8d_encode_command(cmd, U8D_CMD_GET_SERIAL, 0, 0, NULL);
    rig_device_command(f->rig[0], cmd);
    assert_int_equal(rig_replies_waiting(f->rig[0]), 1);
    long h = open_ok("ED000200;500", 0);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_get_status_never_waits_while_the_adapter_withholds_replies, rig_fixture_setup,
            rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_adapter_overruns_read_back_in_cnt_overruns,
                                        rig_fixture_setup, rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(
            test_frames_held_at_set_baudrate_are_counted_as_the_firmware_does, rig_fixture_setup,
            rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_close_reports_frames_left_in_the_adapter,
                                        rig_fixture_setup, rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(
            test_records_held_across_close_never_show_bus_off_after_reopen, rig_fixture_setup,
            rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(
            test_overflow_crc_and_timeout_completions_do_not_retire_transfers, rig_fixture_setup,
            rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_canalyze_counts_warning_transitions_not_records,
                                        rig_fixture_setup, rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_canalyze_refusing_open_fails_canal_open,
                                        rig_fixture_setup, rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_vendor_reply_overwrites_an_unread_one,
                                        rig_fixture_setup, rig_fixture_teardown),
    };
    if (getenv("E2E_FILTER"))
        cmocka_set_test_filter(getenv("E2E_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
