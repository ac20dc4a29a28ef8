/* The public CANAL API end to end over real libusb: CanalOpen("ED000200;500")
 * finds an emulated USB2CAN (usbfs through umockdev, the device model behind
 * it, a far node on its virtual bus) and everything in between is the
 * product: channel, link, libusb, usbfs. Asserts the bytes on the wire,
 * lossless ordered streaming both ways, status frames, unplug while threads
 * are blocked, and two adapters at once. */
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
#include "canal_api.h"
#include "link_libusb.h"
#include "model_rig.h"
#include "osal.h"
#include "u8d_codec.h"
#include "u8d_model.h"
#include "usb2can.h"
#include "usbfs_mock.h"

#define FRAMES_EACH_WAY 10000u
#define UNPLUG_ROUNDS 20
#define UNPLUG_LIMIT_MS 500u

static const mock_identity adapter_200 = {"ED000200", "USB2CAN converter", "edevices", 0xFF};
static const mock_identity adapter_201 = {"ED000201", "USB2CAN converter", "edevices", 0xFF};
static const mock_identity canalyze_200 = {"ED000200", "USB2CAN converter", "STMicroelectronics",
                                           0x00};

typedef rig_fixture fixture;

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static long open_ok(const char *setup_string, unsigned long flags)
{
    long h = CanalOpen(setup_string, flags);
    if (h <= 0)
        fail_msg("CanalOpen(\"%s\") failed: %s", setup_string, Usb2canGetLastError());
    return h;
}

static canalMsg numbered(uint32_t id, uint32_t n, uint8_t tag)
{
    canalMsg m;
    memset(&m, 0, sizeof m);
    m.id = id;
    m.sizeData = 8;
    put_be32(m.data, n);
    m.data[4] = tag;
    return m;
}

/* Commands the device saw on EP 0x04, as command codes. */
static size_t command_codes(fixture *f, int i, uint8_t *codes, size_t max)
{
    uint8_t log[MOCK_COMMAND_LOG][16];
    mock_bus_lock(f->bus);
    size_t n = mock_usb_command_log(rig_usb(f->rig[i]), log, MOCK_COMMAND_LOG);
    mock_bus_unlock(f->bus);
    if (n > max)
        n = max;
    for (size_t k = 0; k < n; k++)
        codes[k] = log[k][2];
    return n;
}

/* --- bytes on the wire -------------------------------------------------------- */

static void test_open_sends_the_golden_open_command(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &adapter_200, U8D_FLAVOR_VENDOR, 500);
    long h = open_ok("ED000200;500", USB2CAN_FLAG_STATUS_FRAMES);

    uint8_t log[MOCK_COMMAND_LOG][16];
    mock_bus_lock(f->bus);
    size_t n = mock_usb_command_log(rig_usb(f->rig[0]), log, MOCK_COMMAND_LOG);
    mock_bus_unlock(f->bus);
    assert_int_equal(n, 4);
    const uint8_t version[16] = {0x11, 0, 0x0C, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x22};
    /* Seed 002: OPEN at 500 kbit/s with status frames. */
    const uint8_t open[16] = {0x11, 0x00, 0x02, 0x09, 0x00, 0x0D, 0x02, 0x01,
                              0x00, 0x04, 0x00, 0x00, 0x00, 0x08, 0x00, 0x22};
    const uint8_t tx_count[16] = {0x11, 0, 0x07, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x22};
    assert_memory_equal(log[0], version, 16);
    assert_memory_equal(log[1], open, 16);
    /* The vendor firmware's TX count does not restart at every OPEN: it is
     * read right after OPEN as the baseline for closing. */
    assert_memory_equal(log[2], tx_count, 16);
    /* So does its own overrun count (index 4), which cntOverruns reports. */
    const uint8_t overruns[16] = {0x11, 0, 0x07, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x22};
    assert_memory_equal(log[3], overruns, 16);

    /* A frame goes out as one 16-byte record in one transfer. */
    canalMsg m = numbered(0x123, 7, 0xEE);
    assert_int_equal(CanalSend(h, &m), CANAL_ERROR_SUCCESS);
    u8d_frame got;
    uint64_t deadline = u2c_deadline_after_ms(5000);
    while (rig_far_received(f->rig[0], 0, &got, 1) == 0 && u2c_now_ns() < deadline)
        u2c_sleep_ms(1);
    assert_int_equal(got.id, 0x123);
    assert_int_equal(be32(got.data), 7);
    mock_bus_lock(f->bus);
    mock_wire_stats st = mock_usb_stats(rig_usb(f->rig[0]));
    mock_bus_unlock(f->bus);
    assert_int_equal(st.tx_transfers, 1);
    assert_int_equal(st.tx_bad_length, 0);

    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
    mock_bus_lock(f->bus);
    n = mock_usb_command_log(rig_usb(f->rig[0]), log, MOCK_COMMAND_LOG);
    assert_int_equal(mock_usb_urbs_in_flight(rig_usb(f->rig[0])), 0);
    mock_bus_unlock(f->bus);
    /* A frame was sent: before CLOSE the driver asks the adapter how many it
     * has transmitted (GET_STATISTICS 2) until the frame has left it. */
    assert_true(n >= 6);
    for (size_t i = 4; i + 1 < n; i++)
        assert_memory_equal(log[i], tx_count, 16);
    const uint8_t close[16] = {0x11, 0, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x22};
    assert_memory_equal(log[n - 1], close, 16);
}

static void test_canalyze_gets_only_open_close_and_version(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &canalyze_200, U8D_FLAVOR_CANALYZE, 500);
    long h = open_ok("ED000200;500", USB2CAN_FLAG_STATUS_FRAMES);
    /* Everything a client might call; none of it may reach the device as a
     * command it does not know (that would kill its command pipe); the
     * status refresh of vendor firmware included, once it would be due. */
    canalStatus status;
    canalStatistics stats;
    u2c_sleep_ms(600);
    assert_int_equal(CanalGetStatus(h, &status), CANAL_ERROR_SUCCESS);
    assert_int_equal(CanalGetStatistics(h, &stats), CANAL_ERROR_SUCCESS);
    assert_non_null(CanalGetVendorString());
    assert_int_equal(CanalSetFilter(h, 0), CANAL_ERROR_SUCCESS);
    assert_int_equal(CanalSetMask(h, 0), CANAL_ERROR_SUCCESS);
    assert_int_equal(CanalSetBaudrate(h, 250), CANAL_ERROR_SUCCESS);
    assert_int_equal(CanalSetBaudrate(h, 500), CANAL_ERROR_SUCCESS);
    canalMsg m = numbered(0x42, 1, 0xCC);
    assert_int_equal(CanalSend(h, &m), CANAL_ERROR_SUCCESS);
    u8d_frame far = {.id = 0x77, .dlc = 8};
    put_be32(far.data, 9);
    assert_true(rig_far_send(f->rig[0], &far));
    canalMsg in;
    assert_int_equal(CanalBlockingReceive(h, &in, 2000), CANAL_ERROR_SUCCESS);
    assert_int_equal(in.id, 0x77);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);

    uint8_t codes[MOCK_COMMAND_LOG];
    size_t n = command_codes(f, 0, codes, sizeof codes);
    assert_true(n >= 4);
    for (size_t k = 0; k < n; k++)
        if (codes[k] != U8D_CMD_OPEN && codes[k] != U8D_CMD_CLOSE &&
            codes[k] != U8D_CMD_GET_SOFTW_HARDW_VER)
            fail_msg("command %zu to a CANalyze was 0x%02X", k, codes[k]);
    assert_int_equal(codes[0], U8D_CMD_GET_SOFTW_HARDW_VER);
    assert_int_equal(codes[n - 1], U8D_CMD_CLOSE);
}

/* --- streaming ------------------------------------------------------------------ */

typedef struct sender {
    long handle;
    uint32_t count;
    uint8_t tag;
    int failures;
    int last_error;
} sender;

static void run_sender(void *arg)
{
    sender *s = arg;
    for (uint32_t n = 0; n < s->count; n++) {
        canalMsg m = numbered(0x123, n, s->tag);
        int r = CanalBlockingSend(s->handle, &m, 5000);
        if (r != CANAL_ERROR_SUCCESS) {
            s->failures++;
            s->last_error = r;
            return;
        }
    }
}

static void test_ten_thousand_frames_each_way(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &adapter_200, U8D_FLAVOR_VENDOR, 500);
    long h = open_ok("ED000200;500", USB2CAN_FLAG_STATUS_FRAMES);
    for (uint32_t n = 0; n < FRAMES_EACH_WAY; n++) {
        u8d_frame fr = {.id = 0x100, .dlc = 8};
        put_be32(fr.data, n);
        fr.data[4] = 0x5A;
        assert_true(rig_far_send(f->rig[0], &fr));
    }
    uint64_t t0 = u2c_now_ns();
    sender tx = {h, FRAMES_EACH_WAY, 0x5A, 0, 0};
    u2c_thread t;
    assert_int_equal(u2c_thread_start(&t, run_sender, &tx), 0);

    unsigned received = 0, out_of_order = 0, status_msgs = 0;
    while (received < FRAMES_EACH_WAY) {
        canalMsg m;
        int r = CanalBlockingReceive(h, &m, 10000);
        if (r != CANAL_ERROR_SUCCESS)
            fail_msg("CanalBlockingReceive after %u frames: %d (%s)", received, r,
                     Usb2canGetLastError());
        if (m.flags & CANAL_IDFLAG_STATUS) {
            status_msgs++;
            continue;
        }
        if (m.id != 0x100 || m.sizeData != 8 || be32(m.data) != received || m.data[4] != 0x5A)
            out_of_order++;
        received++;
    }
    u2c_thread_join(&t);
    uint64_t seen_total = 0;
    uint64_t deadline = u2c_deadline_after_ms(30000);
    while ((seen_total = rig_far_received_total(f->rig[0])) < FRAMES_EACH_WAY &&
           u2c_now_ns() < deadline)
        u2c_sleep_ms(2);
    uint64_t elapsed_ms = (u2c_now_ns() - t0) / 1000000u;

    static u8d_frame far[FRAMES_EACH_WAY];
    size_t got = rig_far_received(f->rig[0], 0, far, FRAMES_EACH_WAY);
    unsigned far_bad = 0;
    for (size_t k = 0; k < got; k++)
        if (far[k].id != 0x123 || be32(far[k].data) != k || far[k].data[4] != 0x5A)
            far_bad++;

    canalStatistics stats;
    assert_int_equal(CanalGetStatistics(h, &stats), CANAL_ERROR_SUCCESS);
    mock_bus_lock(f->bus);
    mock_wire_stats st = mock_usb_stats(rig_usb(f->rig[0]));
    mock_bus_unlock(f->bus);
    print_message("CANAL: %u frames each way in %llu ms (%.0f frames/s each way); "
                  "%u IN packets, %u of them with 3 records\n",
                  FRAMES_EACH_WAY, (unsigned long long)elapsed_ms,
                  FRAMES_EACH_WAY * 1000.0 / (double)(elapsed_ms ? elapsed_ms : 1), st.in_packets,
                  st.in_by_records[3]);
    assert_int_equal(tx.failures, 0);
    assert_int_equal(received, FRAMES_EACH_WAY);
    assert_int_equal(out_of_order, 0);
    assert_int_equal(got, FRAMES_EACH_WAY);
    assert_int_equal(far_bad, 0);
    assert_int_equal(st.tx_transfers, FRAMES_EACH_WAY);
    assert_int_equal(st.tx_bad_length, 0);
    assert_true(st.in_by_records[3] > 0);
    assert_int_equal(stats.cntReceiveFrames, FRAMES_EACH_WAY);
    assert_int_equal(stats.cntTransmitFrames, FRAMES_EACH_WAY);
    assert_int_equal(stats.cntOverruns, 0);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
}

static void inject_bit0_errors(u8d_model *m, uint64_t now, void *ctx)
{
    (void)now;
    u8d_model_inject_tx_errors(m, U8D_LEC_BIT0, *(unsigned *)ctx);
}

static void test_status_frames_are_delivered(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &adapter_200, U8D_FLAVOR_VENDOR, 500);
    long h = open_ok("ED000200;500", USB2CAN_FLAG_STATUS_FRAMES);
    /* 12 failed attempts take TEC to 96: a bit-0 error, then bus-light. */
    unsigned errors = 12;
    rig_with_device(f->rig[0], inject_bit0_errors, &errors);
    canalMsg m = numbered(0x321, 1, 0x11);
    assert_int_equal(CanalSend(h, &m), CANAL_ERROR_SUCCESS);
    bool bit0 = false, buslight = false;
    uint64_t deadline = u2c_deadline_after_ms(5000);
    while ((!bit0 || !buslight) && u2c_now_ns() < deadline) {
        canalMsg in;
        if (CanalBlockingReceive(h, &in, 200) != CANAL_ERROR_SUCCESS)
            continue;
        assert_true(in.flags & CANAL_IDFLAG_STATUS);
        assert_int_equal(in.sizeData, 4);
        assert_int_equal(in.data[0], in.id);
        if (in.id == U8D_SC_BIT0)
            bit0 = true;
        if (in.id == U8D_SC_BUSLIGHT) {
            buslight = true;
            assert_true(in.data[2] >= 96); /* TEC */
        }
    }
    assert_true(bit0);
    assert_true(buslight);
    /* The frame still went out, after the errors. */
    u8d_frame got;
    deadline = u2c_deadline_after_ms(5000);
    while (rig_far_received(f->rig[0], 0, &got, 1) == 0 && u2c_now_ns() < deadline)
        u2c_sleep_ms(1);
    assert_int_equal(got.id, 0x321);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
}

/* --- unplug ----------------------------------------------------------------------- */

typedef struct blocked {
    long handle;
    int result;
    uint64_t returned_ns;
    char reason[256];
    atomic_uint sent;
} blocked;

static void run_blocked_receive(void *arg)
{
    blocked *b = arg;
    canalMsg m;
    do {
        b->result = CanalBlockingReceive(b->handle, &m, 0); /* 0 = forever */
    } while (b->result == CANAL_ERROR_SUCCESS);
    b->returned_ns = u2c_now_ns();
    snprintf(b->reason, sizeof b->reason, "%s", Usb2canGetLastError());
}

static void run_sending(void *arg)
{
    blocked *b = arg;
    for (;;) {
        canalMsg m = numbered(0x555, atomic_load(&b->sent), 0x77);
        b->result = CanalBlockingSend(b->handle, &m, 0);
        if (b->result != CANAL_ERROR_SUCCESS)
            break;
        atomic_fetch_add(&b->sent, 1);
    }
    b->returned_ns = u2c_now_ns();
    snprintf(b->reason, sizeof b->reason, "%s", Usb2canGetLastError());
}

static void test_unplug_wakes_blocked_threads_and_replug_opens_again(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &adapter_200, U8D_FLAVOR_VENDOR, 500);
    uint64_t worst_ms = 0, total_ms = 0;
    for (int round = 0; round < UNPLUG_ROUNDS; round++) {
        long h = open_ok("ED000200;500", USB2CAN_FLAG_STATUS_FRAMES);
        blocked rx = {h, -1, 0, "", 0}, tx = {h, -1, 0, "", 0};
        u2c_thread rt, st;
        assert_int_equal(u2c_thread_start(&rt, run_blocked_receive, &rx), 0);
        assert_int_equal(u2c_thread_start(&st, run_sending, &tx), 0);
        /* Traffic is flowing and the receiver had time to block. */
        uint64_t busy_deadline = u2c_deadline_after_ms(5000);
        while (atomic_load(&tx.sent) < 3 && u2c_now_ns() < busy_deadline)
            u2c_sleep_ms(1);
        u2c_sleep_ms(20);

        uint64_t t0 = u2c_now_ns();
        rig_unplug(f->rig[0]);
        u2c_thread_join(&rt);
        u2c_thread_join(&st);
        uint64_t rx_ms = (rx.returned_ns - t0) / 1000000u;
        uint64_t tx_ms = (tx.returned_ns - t0) / 1000000u;
        uint64_t slower = rx_ms > tx_ms ? rx_ms : tx_ms;
        if (slower > worst_ms)
            worst_ms = slower;
        total_ms += slower;
        if (getenv("E2E_VERBOSE"))
            print_message("round %d: receive returned %d after %llu ms, send %d after %llu ms "
                          "(%u sent); %s\n",
                          round, rx.result, (unsigned long long)rx_ms, tx.result,
                          (unsigned long long)tx_ms, atomic_load(&tx.sent), rx.reason);
        assert_int_equal(rx.result, CANAL_ERROR_COMMUNICATION);
        assert_int_equal(tx.result, CANAL_ERROR_COMMUNICATION);
        assert_true(rx_ms < UNPLUG_LIMIT_MS);
        assert_true(tx_ms < UNPLUG_LIMIT_MS);
        assert_non_null(strstr(rx.reason, "unplugged"));
        assert_true(atomic_load(&tx.sent) >= 3);

        /* Later calls fail at once; close still frees everything. */
        canalMsg m = numbered(1, 1, 1);
        assert_int_equal(CanalSend(h, &m), CANAL_ERROR_COMMUNICATION);
        assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
        assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS); /* closed: idempotent */
        /* Away: opening says so. */
        assert_int_equal(CanalOpen("ED000200;500", 0), 0);
        assert_non_null(strstr(Usb2canGetLastError(), "ED000200"));

        rig_replug(f->rig[0]);
    }
    print_message("unplug: blocked receive and send returned within %llu ms (worst), "
                  "%llu ms on average, over %d rounds\n",
                  (unsigned long long)worst_ms, (unsigned long long)(total_ms / UNPLUG_ROUNDS),
                  UNPLUG_ROUNDS);
    long h = open_ok("ED000200;500", 0);
    canalMsg m = numbered(0x10, 3, 3);
    assert_int_equal(CanalSend(h, &m), CANAL_ERROR_SUCCESS);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
}

/* Windows reports many unplugs to libusb as transfer errors and
 * LIBUSB_ERROR_IO, not as "no device"; the system's device list (SetupAPI
 * there, a probe on the rig here) tells the two apart, and the reason must
 * read as an unplug all the same. */
static fixture *probed;

static bool rig_attached(const char *serial)
{
    (void)serial;
    mock_bus_lock(probed->bus);
    bool attached = mock_usb_plugged(rig_usb(probed->rig[0]));
    mock_bus_unlock(probed->bus);
    return attached;
}

static void test_unplug_seen_as_io_errors_reads_as_unplug(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &adapter_200, U8D_FLAVOR_VENDOR, 500);
    probed = f;
    u2c_link_libusb_set_presence_probe(rig_attached);
    long h = open_ok("ED000200;500", 0);
    blocked rx = {h, -1, 0, "", 0};
    u2c_thread rt;
    assert_int_equal(u2c_thread_start(&rt, run_blocked_receive, &rx), 0);
    u2c_sleep_ms(20);
    uint64_t t0 = u2c_now_ns();
    mock_usb_fail_io(rig_usb(f->rig[0]));
    u2c_thread_join(&rt);
    uint64_t took_ms = (rx.returned_ns - t0) / 1000000u;
    u2c_link_libusb_set_presence_probe(NULL);
    assert_int_equal(rx.result, CANAL_ERROR_COMMUNICATION);
    if (strstr(rx.reason, "ED000200 was unplugged") == NULL)
        fail_msg("the reason reads \"%s\"", rx.reason);
    assert_true(took_ms < UNPLUG_LIMIT_MS);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
}

/* --- two adapters ------------------------------------------------------------------ */

static void test_two_adapters_at_once_stay_independent(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &adapter_200, U8D_FLAVOR_VENDOR, 500);
    f->rig[1] = rig_create(f->bus, &adapter_201, U8D_FLAVOR_VENDOR, 250);
    long a = open_ok("ED000200;500", 0);
    long b = open_ok("ed000201;250", 0);
    assert_true(a != b);
    const unsigned n = 500;
    for (uint32_t k = 0; k < n; k++) {
        u8d_frame fa = {.id = 0xA0, .dlc = 8}, fb = {.id = 0xB0, .dlc = 8};
        put_be32(fa.data, k);
        put_be32(fb.data, k);
        assert_true(rig_far_send(f->rig[0], &fa));
        assert_true(rig_far_send(f->rig[1], &fb));
    }
    sender sa = {a, n, 0xAA, 0, 0}, sb = {b, n, 0xBB, 0, 0};
    u2c_thread ta, tb;
    assert_int_equal(u2c_thread_start(&ta, run_sender, &sa), 0);
    assert_int_equal(u2c_thread_start(&tb, run_sender, &sb), 0);
    for (uint32_t k = 0; k < n; k++) {
        canalMsg ma, mb;
        assert_int_equal(CanalBlockingReceive(a, &ma, 10000), CANAL_ERROR_SUCCESS);
        assert_int_equal(CanalBlockingReceive(b, &mb, 10000), CANAL_ERROR_SUCCESS);
        assert_int_equal(ma.id, 0xA0);
        assert_int_equal(mb.id, 0xB0);
        assert_int_equal(be32(ma.data), k);
        assert_int_equal(be32(mb.data), k);
    }
    u2c_thread_join(&ta);
    u2c_thread_join(&tb);
    assert_int_equal(sa.failures + sb.failures, 0);
    uint64_t deadline = u2c_deadline_after_ms(20000);
    while ((rig_far_received_total(f->rig[0]) < n || rig_far_received_total(f->rig[1]) < n) &&
           u2c_now_ns() < deadline)
        u2c_sleep_ms(2);
    static u8d_frame far[2][500];
    assert_int_equal(rig_far_received(f->rig[0], 0, far[0], n), n);
    assert_int_equal(rig_far_received(f->rig[1], 0, far[1], n), n);
    for (uint32_t k = 0; k < n; k++) {
        assert_int_equal(far[0][k].data[4], 0xAA);
        assert_int_equal(far[1][k].data[4], 0xBB);
        assert_int_equal(be32(far[0][k].data), k);
        assert_int_equal(be32(far[1][k].data), k);
    }
    /* One goes away; the other carries on. */
    rig_unplug(f->rig[0]);
    canalMsg m;
    assert_int_equal(CanalBlockingReceive(a, &m, 2000), CANAL_ERROR_COMMUNICATION);
    canalMsg ping = numbered(0x99, 1, 0xBB);
    assert_int_equal(CanalSend(b, &ping), CANAL_ERROR_SUCCESS);
    u8d_frame fr = {.id = 0xB1, .dlc = 1};
    assert_true(rig_far_send(f->rig[1], &fr));
    assert_int_equal(CanalBlockingReceive(b, &m, 2000), CANAL_ERROR_SUCCESS);
    assert_int_equal(m.id, 0xB1);
    assert_int_equal(CanalClose(a), CANAL_ERROR_SUCCESS);
    assert_int_equal(CanalClose(b), CANAL_ERROR_SUCCESS);
}

/* --- behaving as the real firmwares (records, rates, status, close) ---------- */

static void read_view(u8d_model *m, uint64_t now, void *ctx)
{
    (void)now;
    u8d_model_can_state(m, ctx);
}

static u8d_model_can_view device_view(fixture *f, int i)
{
    u8d_model_can_view v;
    memset(&v, 0, sizeof v);
    rig_with_device(f->rig[i], read_view, &v);
    return v;
}

static canalMsg receive_ok(long h)
{
    canalMsg m;
    memset(&m, 0, sizeof m);
    int r = CanalBlockingReceive(h, &m, 2000);
    if (r != CANAL_ERROR_SUCCESS)
        fail_msg("CanalBlockingReceive: %d (%s)", r, Usb2canGetLastError());
    return m;
}

static void vendor_record(uint8_t *out, uint32_t id, uint8_t dlc, uint8_t fill)
{
    u8d_rx_record r;
    memset(&r, 0, sizeof r);
    r.type = U8D_TYPE_CAN;
    r.frame.id = id;
    r.frame.dlc = dlc;
    for (int k = 0; k < 8; k++)
        r.frame.data[k] = (uint8_t)(fill + k);
    r.timestamp = 100;
    u8d_encode_rx(out, &r, U8D_FLAVOR_VENDOR);
}

typedef struct rx_frame_ctx {
    u8d_frame frame;
} rx_frame_ctx;

static void device_receives(u8d_model *m, uint64_t now, void *ctx)
{
    u8d_model_can_rx(m, now, &((rx_frame_ctx *)ctx)->frame);
}

static void test_each_record_is_judged_on_its_own(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &adapter_200, U8D_FLAVOR_VENDOR, 500);
    long h = open_ok("ED000200;500", 0);

    /* [std dlc 2 | std dlc 12 | std dlc 2]: DLC 9..15 is legal classic CAN
     * and means 8 data bytes; all three arrive. */
    uint8_t pkt[63];
    vendor_record(pkt, 0x101, 2, 0x10);
    vendor_record(pkt + 21, 0x102, 12, 0x20);
    vendor_record(pkt + 42, 0x103, 2, 0x30);
    assert_true(rig_inject_in_packet(f->rig[0], pkt, sizeof pkt));
    canalMsg m = receive_ok(h);
    assert_int_equal(m.id, 0x101);
    assert_int_equal(m.sizeData, 2);
    m = receive_ok(h);
    assert_int_equal(m.id, 0x102);
    assert_int_equal(m.sizeData, 8);
    const uint8_t eight[8] = {0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27};
    assert_memory_equal(m.data, eight, 8);
    m = receive_ok(h);
    assert_int_equal(m.id, 0x103);
    assert_int_equal(m.sizeData, 2);
    assert_int_equal(m.data[1], 0x31);

    /* A bad middle record (end marker) is counted and skipped; the records
     * before and after it arrive. */
    vendor_record(pkt, 0x201, 1, 0x40);
    vendor_record(pkt + 21, 0x202, 1, 0x50);
    vendor_record(pkt + 42, 0x203, 1, 0x60);
    pkt[21 + 20] = 0x00;
    assert_true(rig_inject_in_packet(f->rig[0], pkt, sizeof pkt));
    assert_int_equal(receive_ok(h).id, 0x201);
    assert_int_equal(receive_ok(h).id, 0x203);
    u2c_channel_diag diag;
    assert_int_equal(u2c_api_diagnostics(h, &diag), CANAL_ERROR_SUCCESS);
    assert_int_equal(diag.bad_records, 1);
    assert_int_equal(diag.malformed_packets, 1);
    print_message("diagnostics: %s\n", diag.last_malformed);
    assert_non_null(strstr(diag.last_malformed, "record 2"));
    assert_non_null(strstr(diag.last_malformed, "marker"));

    /* The modelled firmware forwards a received DLC 12 as it is. */
    rx_frame_ctx rx = {.frame = {.id = 0x301, .dlc = 12, .data = {1, 2, 3, 4, 5, 6, 7, 8}}};
    rig_with_device(f->rig[0], device_receives, &rx);
    m = receive_ok(h);
    assert_int_equal(m.id, 0x301);
    assert_int_equal(m.sizeData, 8);
    assert_memory_equal(m.data, rx.frame.data, 8);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
}

static void test_canalyze_runs_at_exactly_each_standard_rate(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &canalyze_200, U8D_FLAVOR_CANALYZE, 500);
    static const unsigned rates[] = {10, 20, 50, 100, 125, 250, 500, 800, 1000};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        char setup[32];
        snprintf(setup, sizeof setup, "ED000200;%u", rates[i]);
        long h = open_ok(setup, 0);
        u8d_model_can_view v = device_view(f, 0);
        print_message("CANalyze %4u kbit/s: tseg1 %u tseg2 %u sjw %u brp %u -> %u bit/s\n",
                      rates[i], v.bt.tseg1, v.bt.tseg2, v.bt.sjw, v.bt.brp, v.bitrate);
        assert_true(v.running);
        assert_int_equal(v.bitrate, rates[i] * 1000u);
        assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
    }
    /* CanalSetBaudrate picks the same way. */
    long h = open_ok("ED000200;500", 0);
    assert_int_equal(CanalSetBaudrate(h, 800), CANAL_ERROR_SUCCESS);
    assert_int_equal(device_view(f, 0).bitrate, 800000);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
}

static void test_canalyze_at_800k_carries_frames_both_ways(void **state)
{
    fixture *f = *state;
    /* The far end is a vendor adapter at exactly 800 kbit/s: a CANalyze at
     * 857 kbit/s would only destroy its frames. */
    f->rig[0] = rig_create(f->bus, &canalyze_200, U8D_FLAVOR_CANALYZE, 800);
    long h = open_ok("ED000200;800", 0);
    for (uint32_t n = 0; n < 20; n++) {
        u8d_frame fr = {.id = 0x80, .dlc = 8};
        put_be32(fr.data, n);
        assert_true(rig_far_send(f->rig[0], &fr));
        canalMsg m = receive_ok(h);
        assert_int_equal(m.id, 0x80);
        assert_int_equal(be32(m.data), n);
        canalMsg out = numbered(0x81, n, 0x88);
        assert_int_equal(CanalSend(h, &out), CANAL_ERROR_SUCCESS);
    }
    uint64_t deadline = u2c_deadline_after_ms(5000);
    while (rig_far_received_total(f->rig[0]) < 20 && u2c_now_ns() < deadline)
        u2c_sleep_ms(2);
    assert_int_equal(rig_far_received_total(f->rig[0]), 20);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
}

static void test_canalyze_refuses_a_manual_timing_with_an_odd_brp(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &canalyze_200, U8D_FLAVOR_CANALYZE, 800);
    /* The vendor table's 800k timing: brp 5 becomes 7 at 48 MHz. */
    assert_int_equal(CanalOpen("ED000200;0;6;1;1;5", 0), 0);
    const char *why = Usb2canGetLastError();
    print_message("refused: %s\n", why);
    assert_non_null(strstr(why, "brp 5"));
    assert_non_null(strstr(why, "857143"));
    assert_non_null(strstr(why, "even brp"));
    assert_false(device_view(f, 0).running);
    /* The Linux driver's 800k timing (brp 2) is exact. */
    long h = open_ok("ED000200;0;15;4;2;2", 0);
    assert_int_equal(device_view(f, 0).bitrate, 800000);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
}

/* tseg1 1: the CANalyze's bxCAN runs it, the vendor's C_CAN cannot. */
static void test_tseg1_of_one_only_on_a_canalyze(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &canalyze_200, U8D_FLAVOR_CANALYZE, 500);
    long h = open_ok("ED000200;0;1;2;1;16", 0); /* 32 MHz / (16 x 4) = 500 kbit/s */
    assert_int_equal(device_view(f, 0).bitrate, 500000);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
    f->rig[1] = rig_create(f->bus, &adapter_201, U8D_FLAVOR_VENDOR, 500);
    assert_int_equal(CanalOpen("ED000201;0;1;2;1;16", 0), 0);
    const char *why = Usb2canGetLastError();
    print_message("refused: %s\n", why);
    assert_non_null(strstr(why, "tseg1 1 out of range 2..16"));
    assert_false(device_view(f, 1).running);
}

static void test_canalyze_refuses_to_send_a_remote_request(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &canalyze_200, U8D_FLAVOR_CANALYZE, 500);
    long h = open_ok("ED000200;500", 0);
    canalMsg m = numbered(0x7DF, 0, 0);
    m.flags = CANAL_IDFLAG_RTR;
    m.sizeData = 0;
    assert_int_equal(CanalSend(h, &m), CANAL_ERROR_NOT_SUPPORTED);
    print_message("refused: %s\n", Usb2canGetLastError());
    assert_non_null(strstr(Usb2canGetLastError(), "remote"));
    assert_int_equal(CanalBlockingSend(h, &m, 100), CANAL_ERROR_NOT_SUPPORTED);
    u2c_sleep_ms(50);
    mock_bus_lock(f->bus);
    mock_wire_stats st = mock_usb_stats(rig_usb(f->rig[0]));
    mock_bus_unlock(f->bus);
    assert_int_equal(st.tx_transfers, 0);
    assert_int_equal(rig_far_received_total(f->rig[0]), 0);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
}

static void test_status_records_are_always_asked_for_on_the_wire(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &adapter_200, U8D_FLAVOR_VENDOR, 500);
    long h = open_ok("ED000200;500", 0); /* flag 0x08 not set */
    uint8_t log[MOCK_COMMAND_LOG][16];
    mock_bus_lock(f->bus);
    size_t n = mock_usb_command_log(rig_usb(f->rig[0]), log, MOCK_COMMAND_LOG);
    mock_bus_unlock(f->bus);
    assert_true(n >= 2);
    assert_int_equal(log[1][2], U8D_CMD_OPEN);
    assert_int_equal(be32(log[1] + 10), U8D_OPEN_STATUS_FRAMES); /* as the Linux driver */

    /* The bus state follows the records; none reaches the caller. 13 bit
     * errors: TEC 104 (bus warning), 103 after the frame finally went. */
    unsigned errors = 13;
    rig_with_device(f->rig[0], inject_bit0_errors, &errors);
    canalMsg m = numbered(0x321, 1, 0x11);
    assert_int_equal(CanalSend(h, &m), CANAL_ERROR_SUCCESS);
    canalStatus st;
    uint64_t deadline = u2c_deadline_after_ms(3000);
    do {
        assert_int_equal(CanalGetStatus(h, &st), CANAL_ERROR_SUCCESS);
    } while (!(st.channel_status & 0x20000000u) && u2c_now_ns() < deadline);
    assert_true(st.channel_status & 0x20000000u);
    assert_int_equal(CanalBlockingReceive(h, &m, 100), CANAL_ERROR_TIMEOUT);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
}

static bool status_has(long h, uint32_t bits, unsigned ms)
{
    canalStatus st;
    uint64_t deadline = u2c_deadline_after_ms(ms);
    for (;;) {
        assert_int_equal(CanalGetStatus(h, &st), CANAL_ERROR_SUCCESS);
        if ((st.channel_status & bits) == bits)
            return true;
        if (u2c_now_ns() >= deadline)
            return false;
        u2c_sleep_ms(5);
    }
}

static void test_set_baudrate_starts_from_error_active(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &adapter_200, U8D_FLAVOR_VENDOR, 500);
    long h = open_ok("ED000200;500", USB2CAN_FLAG_STATUS_FRAMES);
    unsigned errors = 32; /* TEC 256: bus off */
    rig_with_device(f->rig[0], inject_bit0_errors, &errors);
    canalMsg m = numbered(0x321, 1, 0x11);
    assert_int_equal(CanalSend(h, &m), CANAL_ERROR_SUCCESS);
    assert_true(status_has(h, 0x80000000u, 3000));
    assert_true(device_view(f, 0).bus_off);

    /* CLOSE + OPEN re-initialises the controller; the firmware reports
     * nothing after it, so the host starts from error-active itself. */
    assert_int_equal(CanalSetBaudrate(h, 250), CANAL_ERROR_SUCCESS);
    canalStatus st;
    assert_int_equal(CanalGetStatus(h, &st), CANAL_ERROR_SUCCESS);
    print_message("after CanalSetBaudrate: 0x%08lX %s\n", st.channel_status, st.lasterrorstr);
    assert_int_equal(st.channel_status, 0);
    assert_false(device_view(f, 0).bus_off);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
}

static void test_canalyze_warning_decays_once_quiet(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &canalyze_200, U8D_FLAVOR_CANALYZE, 500);
    long h = open_ok("ED000200;500", 0);
    /* 12 bit errors take TEC to 96 at once; the CANalyze's single IN buffer
     * loses most of that burst's records. One more error (TEC 103) is
     * reported on its own, as BUSLIGHT: the warning flag is still set. It
     * never reports OK afterwards. */
    unsigned errors = 12;
    rig_with_device(f->rig[0], inject_bit0_errors, &errors);
    canalMsg m = numbered(0x321, 1, 0x11);
    assert_int_equal(CanalSend(h, &m), CANAL_ERROR_SUCCESS);
    uint64_t deadline = u2c_deadline_after_ms(3000);
    while (rig_far_received_total(f->rig[0]) < 1 && u2c_now_ns() < deadline)
        u2c_sleep_ms(2);
    u2c_sleep_ms(50);
    errors = 1;
    rig_with_device(f->rig[0], inject_bit0_errors, &errors);
    m = numbered(0x321, 2, 0x11);
    assert_int_equal(CanalSend(h, &m), CANAL_ERROR_SUCCESS);
    assert_true(status_has(h, 0x20000000u, 3000));
    uint64_t t_warn = u2c_now_ns();
    /* Still warning well inside the quiet interval ... */
    u2c_sleep_ms(1000);
    assert_true(status_has(h, 0x20000000u, 0));
    /* ... and error-active once it has been quiet for 3 s. */
    u2c_sleep_ms(2300);
    canalStatus st;
    assert_int_equal(CanalGetStatus(h, &st), CANAL_ERROR_SUCCESS);
    print_message("after %llu ms quiet: 0x%08lX %s\n",
                  (unsigned long long)((u2c_now_ns() - t_warn) / 1000000u), st.channel_status,
                  st.lasterrorstr);
    assert_int_equal(st.channel_status & 0xE0000000u, 0);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
}

static void read_tec(u8d_model *m, uint64_t now, void *ctx)
{
    (void)now;
    u8d_model_can_view v;
    u8d_model_can_state(m, &v);
    *(unsigned *)ctx = v.tec;
}

static void test_vendor_error_counters_are_fresh_between_records(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &adapter_200, U8D_FLAVOR_VENDOR, 500);
    long h = open_ok("ED000200;500", 0);
    unsigned errors = 1;
    rig_with_device(f->rig[0], inject_bit0_errors, &errors);
    /* One bit error (TEC 8, a record), then 6 good frames: TEC 2, and the
     * firmware sends a record only for the first success (LEC back to 0). */
    for (uint32_t n = 0; n < 6; n++) {
        canalMsg m = numbered(0x100, n, 0x42);
        assert_int_equal(CanalSend(h, &m), CANAL_ERROR_SUCCESS);
    }
    uint64_t deadline = u2c_deadline_after_ms(3000);
    while (rig_far_received_total(f->rig[0]) < 6 && u2c_now_ns() < deadline)
        u2c_sleep_ms(2);
    unsigned tec = 99;
    rig_with_device(f->rig[0], read_tec, &tec);
    assert_int_equal(tec, 2);
    u2c_sleep_ms(600); /* past the refresh interval */
    /* CanalGetStatus never waits for USB: the refresh it finds due is sent
     * in the background and the next calls see its answer. */
    canalStatus st;
    uint8_t codes[MOCK_COMMAND_LOG];
    size_t before = command_codes(f, 0, codes, sizeof codes);
    uint64_t t0 = u2c_now_ns();
    do {
        assert_int_equal(CanalGetStatus(h, &st), CANAL_ERROR_SUCCESS);
        u2c_sleep_ms(2);
    } while ((st.channel_status & 0xFFu) != 2 && u2c_now_ns() - t0 < 400000000u);
    print_message("status 0x%08lX (%s), adapter TEC %u\n", st.channel_status, st.lasterrorstr, tec);
    assert_int_equal(st.channel_status & 0xFFu, 2);
    /* At most one GET_STATUS per interval, however often it is called
     * (checked when the calls really stayed inside the 500 ms). */
    size_t n = command_codes(f, 0, codes, sizeof codes);
    size_t asked = 0;
    for (size_t i = before; i < n; i++)
        asked += codes[i] == U8D_CMD_GET_STATUS;
    if (u2c_now_ns() - t0 < 450000000u)
        assert_int_equal(asked, 1);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
}

static void test_canalyze_close_waits_for_transfers_in_flight(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &canalyze_200, U8D_FLAVOR_CANALYZE, 500);
    long h = open_ok("ED000200;500", 0);
    /* The adapter is busy (its OUT endpoint NAKs) for 300 ms: five frames
     * wait in OUT transfers when CanalClose starts. */
    rig_hold_out(f->rig[0], 300);
    for (uint32_t n = 0; n < 5; n++) {
        canalMsg m = numbered(0x150, n, 0x51);
        assert_int_equal(CanalSend(h, &m), CANAL_ERROR_SUCCESS);
    }
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
    u8d_frame got[8];
    size_t n = rig_far_received(f->rig[0], 0, got, 8);
    assert_int_equal(n, 5);
    for (size_t k = 0; k < n; k++)
        assert_int_equal(be32(got[k].data), k);
}

typedef struct open_far_on_poll {
    unsigned polls;
    unsigned open_at;
} open_far_on_poll;

/* Opens the far end when the device gets its open_at-th GET_STATISTICS(2). */
static void count_tx_polls(model_rig *r, const uint8_t *cmd, size_t len, void *ctx)
{
    open_far_on_poll *p = ctx;
    if (len == 16 && cmd[2] == U8D_CMD_GET_STATISTICS && cmd[3] == U8D_STAT_TX_FRAMES &&
        ++p->polls == p->open_at)
        rig_far_set_open_locked(r, true);
}

typedef struct earlier_session {
    unsigned frames;
} earlier_session;

static void send_directly(u8d_model *m, uint64_t now, void *ctx)
{
    earlier_session *e = ctx;
    for (unsigned k = 0; k < e->frames; k++) {
        u8d_frame fr = {.id = 0x60, .dlc = 1, .data = {(uint8_t)k}};
        uint8_t rec[16];
        assert_int_equal(u8d_encode_tx(rec, &fr), U8D_OK);
        assert_int_equal(u8d_model_data_out(m, now, rec, sizeof rec), U8D_MODEL_OUT_ACCEPTED);
    }
}

static void read_tx_pending(u8d_model *m, uint64_t now, void *ctx)
{
    (void)now;
    *(size_t *)ctx = u8d_model_tx_pending(m);
}

static void test_vendor_close_counts_from_the_baseline_read_after_open(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &adapter_200, U8D_FLAVOR_VENDOR, 500);
    /* An earlier program opened the adapter, sent 5 frames and died without
     * CLOSE: the firmware's TX count stays at 5 through the next OPEN (its
     * main loop clears statistics on an open/close transition only). */
    u8d_bittiming bt;
    assert_true(u8d_bittiming_standard(500, &bt));
    uint8_t open_cmd[16];
    assert_int_equal(u8d_encode_open(open_cmd, &bt, 0), U8D_OK);
    rig_device_command(f->rig[0], open_cmd);
    earlier_session e = {5};
    rig_with_device(f->rig[0], send_directly, &e);
    assert_int_equal(rig_far_received_total(f->rig[0]), 5);

    long h = open_ok("ED000200;500", 0);
    rig_far_set_open(f->rig[0], false); /* nobody ACKs: the next frames wait in the adapter */
    for (uint32_t n = 0; n < 3; n++) {
        canalMsg m = numbered(0x170, n, 0x71);
        assert_int_equal(CanalSend(h, &m), CANAL_ERROR_SUCCESS);
    }
    size_t pending = 0;
    uint64_t deadline = u2c_deadline_after_ms(3000);
    while (pending < 3 && u2c_now_ns() < deadline) {
        rig_with_device(f->rig[0], read_tx_pending, &pending);
        u2c_sleep_ms(2);
    }
    assert_int_equal(pending, 3);
    /* The bus comes back while CanalClose asks for the count a second time:
     * closing must wait for these three, not count the earlier five. */
    open_far_on_poll p = {0, 2};
    rig_set_command_hook(f->rig[0], count_tx_polls, &p);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
    rig_set_command_hook(f->rig[0], NULL, NULL);
    u8d_frame got[16];
    size_t n = rig_far_received(f->rig[0], 5, got, 16);
    print_message("TX polls during close: %u; frames of this session on the bus: %zu\n", p.polls,
                  n);
    assert_int_equal(n, 3);
    for (size_t k = 0; k < n; k++)
        assert_int_equal(be32(got[k].data), k);
}

static void test_canalyze_reply_left_unread_does_not_block_open(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &canalyze_200, U8D_FLAVOR_CANALYZE, 500);
    /* An earlier program sent CLOSE and never read the reply: it sits in the
     * CANalyze's one reply buffer, which then drops every other reply. */
    const uint8_t close_cmd[16] = {0x11, 0, U8D_CMD_CLOSE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                   0,    0, 0x22};
    rig_device_command(f->rig[0], close_cmd);
    assert_int_equal(rig_replies_waiting(f->rig[0]), 1);
    uint64_t t0 = u2c_now_ns();
    long h = open_ok("ED000200;500", 0);
    print_message("opened in %llu ms\n", (unsigned long long)((u2c_now_ns() - t0) / 1000000u));
    assert_true(device_view(f, 0).running);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_sends_the_golden_open_command, rig_fixture_setup,
                                        rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_canalyze_gets_only_open_close_and_version,
                                        rig_fixture_setup, rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_ten_thousand_frames_each_way, rig_fixture_setup,
                                        rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_status_frames_are_delivered, rig_fixture_setup,
                                        rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_unplug_wakes_blocked_threads_and_replug_opens_again,
                                        rig_fixture_setup, rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_unplug_seen_as_io_errors_reads_as_unplug,
                                        rig_fixture_setup, rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_two_adapters_at_once_stay_independent,
                                        rig_fixture_setup, rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_each_record_is_judged_on_its_own, rig_fixture_setup,
                                        rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_canalyze_runs_at_exactly_each_standard_rate,
                                        rig_fixture_setup, rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_canalyze_at_800k_carries_frames_both_ways,
                                        rig_fixture_setup, rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_tseg1_of_one_only_on_a_canalyze, rig_fixture_setup,
                                        rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_canalyze_refuses_a_manual_timing_with_an_odd_brp,
                                        rig_fixture_setup, rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_canalyze_refuses_to_send_a_remote_request,
                                        rig_fixture_setup, rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_status_records_are_always_asked_for_on_the_wire,
                                        rig_fixture_setup, rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_set_baudrate_starts_from_error_active,
                                        rig_fixture_setup, rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_canalyze_warning_decays_once_quiet, rig_fixture_setup,
                                        rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_vendor_error_counters_are_fresh_between_records,
                                        rig_fixture_setup, rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_canalyze_close_waits_for_transfers_in_flight,
                                        rig_fixture_setup, rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_vendor_close_counts_from_the_baseline_read_after_open,
                                        rig_fixture_setup, rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_canalyze_reply_left_unread_does_not_block_open,
                                        rig_fixture_setup, rig_fixture_teardown),
    };
    if (getenv("E2E_FILTER"))
        cmocka_set_test_filter(getenv("E2E_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
