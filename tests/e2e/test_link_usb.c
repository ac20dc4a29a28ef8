/* The libusb link end to end: real libusb, usbfs emulated by umockdev,
 * a USB2CAN answering behind it. Asserts the link.h contract: open by
 * serial with readable failures, the command exchange, streaming without
 * loss or reordering, back-pressure, stop, and unplug/replug. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>

#include "link_libusb.h"
#include "osal.h"
#include "model_rig.h"
#include "u8d_codec.h"
#include "u8d_model.h"
#include "usbfs_mock.h"

#define FRAMES_EACH_WAY 10000u
#define UNPLUG_ROUNDS 20
#define UNPLUG_LIMIT_MS 500u

static const mock_identity vendor_200 = {"ED000200", "USB2CAN converter", "edevices", 0xFF};
static const mock_identity vendor_201 = {"ED000201", "USB2CAN converter", "edevices", 0xFF};

typedef rig_fixture fixture;

/* --- a sink that checks ordering -------------------------------------------- */

typedef struct test_sink {
    u2c_mutex lock;
    u2c_cond changed;
    /* RX: records carry a sequence number in data[0..3] (BE) */
    uint32_t rx_next;
    unsigned rx_records;
    unsigned rx_status_records;
    unsigned rx_out_of_order;
    unsigned rx_bad_packets;
    /* TX: next_out hands out records numbered tx_next .. tx_limit-1 */
    uint32_t tx_next;
    uint32_t tx_limit;
    /* gone */
    unsigned gone_calls;
    uint64_t gone_ns;
    char gone_reason[128];
    /* a tag so two sinks can tell their frames apart */
    uint8_t tag;
    unsigned foreign_records;
} test_sink;

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

static void sink_in_packet(void *ctx, const uint8_t *bytes, size_t len)
{
    test_sink *s = ctx;
    u2c_mutex_lock(&s->lock);
    if (len == 0 || len % 21 != 0)
        s->rx_bad_packets++;
    for (size_t off = 0; off + 21 <= len; off += 21) {
        const uint8_t *r = bytes + off;
        if (r[1] == 3) {
            s->rx_status_records++;
            continue;
        }
        if (r[8 + 4] != s->tag)
            s->foreign_records++;
        uint32_t seq = be32(r + 8);
        if (seq != s->rx_next)
            s->rx_out_of_order++;
        s->rx_next = seq + 1;
        s->rx_records++;
    }
    u2c_cond_broadcast(&s->changed);
    u2c_mutex_unlock(&s->lock);
}

static int sink_next_out(void *ctx, uint8_t record[16])
{
    test_sink *s = ctx;
    u2c_mutex_lock(&s->lock);
    int have = s->tx_next < s->tx_limit;
    if (have) {
        memset(record, 0, 16);
        record[0] = 0x55;
        record[1] = 0;
        put_be32(record + 2, 0x123);
        record[6] = 8;
        put_be32(record + 7, s->tx_next);
        record[11] = s->tag;
        record[15] = 0xAA;
        s->tx_next++;
    }
    u2c_mutex_unlock(&s->lock);
    return have;
}

static void sink_gone(void *ctx, const char *reason)
{
    test_sink *s = ctx;
    u2c_mutex_lock(&s->lock);
    s->gone_calls++;
    s->gone_ns = u2c_now_ns();
    snprintf(s->gone_reason, sizeof s->gone_reason, "%s", reason);
    u2c_cond_broadcast(&s->changed);
    u2c_mutex_unlock(&s->lock);
}

static void sink_init(test_sink *s, uint8_t tag)
{
    memset(s, 0, sizeof *s);
    u2c_mutex_init(&s->lock);
    u2c_cond_init(&s->changed);
    s->tag = tag;
}

static void sink_destroy(test_sink *s)
{
    u2c_cond_destroy(&s->changed);
    u2c_mutex_destroy(&s->lock);
}

static u2c_link_sink sink_of(test_sink *s)
{
    u2c_link_sink k = {s, sink_in_packet, sink_next_out, sink_gone};
    return k;
}

/* --- helpers ------------------------------------------------------------------ */

static model_rig *plug(fixture *f, int i, const mock_identity *id, u8d_flavor flavor)
{
    f->rig[i] = rig_create(f->bus, id, flavor, 500);
    return f->rig[i];
}

static u2c_link *open_ok(const char *serial)
{
    u2c_link_result result = U2C_LINK_IO;
    char reason[256] = "";
    u2c_link *link = u2c_link_open_libusb(serial, &result, reason, sizeof reason);
    if (!link)
        fail_msg("open %s failed: %d %s", serial, result, reason);
    assert_int_equal(result, U2C_LINK_OK);
    return link;
}

static void command(u2c_link *link, uint8_t cmd, uint8_t reply[16], int expect)
{
    uint8_t req[16] = {0x11, 0, cmd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x22};
    assert_int_equal(link->ops->command(link, req, reply, 1000), expect);
}

/* OPEN at 500 kbit/s, as the far end. */
static void open_device(u2c_link *link)
{
    u8d_bittiming bt;
    assert_true(u8d_bittiming_standard(500, &bt));
    uint8_t req[16], reply[16];
    u8d_encode_open(req, &bt, 0);
    assert_int_equal(link->ops->command(link, req, reply, 1000), U2C_LINK_OK);
    assert_int_equal(reply[2], U8D_CMD_OPEN);
    assert_int_equal(reply[3], 0);
}

/* Queues numbered frames at the far end; the bus carries them to the device. */
static void far_send(fixture *f, int i, uint32_t count, uint8_t tag)
{
    for (uint32_t n = 0; n < count; n++) {
        u8d_frame fr = {.id = 0x100, .flags = 0, .dlc = 8};
        put_be32(fr.data, n);
        fr.data[4] = tag;
        assert_true(rig_far_send(f->rig[i], &fr));
    }
}

/* Checks the frames the far end received since *seen: numbered, tagged, in order. */
static void far_check(fixture *f, int i, uint64_t *seen, unsigned *bad, uint8_t tag)
{
    u8d_frame got[256];
    size_t n;
    while ((n = rig_far_received(f->rig[i], (size_t)*seen, got, 256)) > 0) {
        for (size_t k = 0; k < n; k++) {
            if (got[k].id != 0x123 || got[k].dlc != 8 || be32(got[k].data) != *seen ||
                got[k].data[4] != tag)
                (*bad)++;
            (*seen)++;
        }
    }
}

static bool wait_for(test_sink *s, bool (*done)(test_sink *), unsigned ms)
{
    uint64_t deadline = u2c_deadline_after_ms(ms);
    u2c_mutex_lock(&s->lock);
    bool ok = done(s);
    while (!ok && u2c_cond_wait_until(&s->changed, &s->lock, deadline))
        ok = done(s);
    ok = done(s);
    u2c_mutex_unlock(&s->lock);
    return ok;
}

static bool is_gone(test_sink *s)
{
    return s->gone_calls > 0;
}

/* --- tests ------------------------------------------------------------------- */

static void test_open_without_devices_says_none_connected(void **state)
{
    (void)state;
    u2c_link_result result = U2C_LINK_OK;
    char reason[256] = "";
    assert_null(u2c_link_open_libusb("ED000200", &result, reason, sizeof reason));
    assert_int_equal(result, U2C_LINK_NOT_FOUND);
    assert_string_equal(reason, "no USB2CAN with serial ED000200; none connected");
}

static void test_open_unknown_serial_lists_the_connected_ones(void **state)
{
    fixture *f = *state;
    plug(f, 0, &vendor_200, U8D_FLAVOR_VENDOR);
    plug(f, 1, &vendor_201, U8D_FLAVOR_VENDOR);
    u2c_link_result result = U2C_LINK_OK;
    char reason[256] = "";
    assert_null(u2c_link_open_libusb("ED000215", &result, reason, sizeof reason));
    assert_int_equal(result, U2C_LINK_NOT_FOUND);
    /* Enumeration order is the system's: either order is right. */
    if (strcmp(reason, "no USB2CAN with serial ED000215; connected: ED000200, ED000201") != 0)
        assert_string_equal(reason,
                            "no USB2CAN with serial ED000215; connected: ED000201, ED000200");
}

static void test_open_rejects_a_device_with_another_product_string(void **state)
{
    fixture *f = *state;
    const mock_identity other = {"ED000300", "Some other gadget", "edevices", 0xFF};
    plug(f, 0, &other, U8D_FLAVOR_VENDOR);
    u2c_link_result result = U2C_LINK_OK;
    char reason[256] = "";
    assert_null(u2c_link_open_libusb("ED000300", &result, reason, sizeof reason));
    assert_int_equal(result, U2C_LINK_NOT_FOUND);
    assert_non_null(strstr(reason, "is not a USB2CAN"));
    assert_non_null(strstr(reason, "Some other gadget"));
}

/* GET_SOFTW_HARDW_VER reply of a vendor adapter, fw 1.7 hw 1.0. */
static const uint8_t version_reply_vendor[16] = {0x11, 0, 12, 0, 0, 1, 7, 1,
                                                 0,    0, 0,  0, 0, 0, 0, 0x22};

static void test_product_string_that_begins_with_usb2can_converter_is_one(void **state)
{
    fixture *f = *state;
    /* The Linux driver reads the product string into 18 bytes and compares
     * "USB2CAN converter": any longer string with that start is accepted. */
    const mock_identity longer = {"ED000310", "USB2CAN converter v2", "edevices", 0xFF};
    plug(f, 0, &longer, U8D_FLAVOR_VENDOR);
    u2c_link *link = f->link = open_ok("ED000310");
    uint8_t reply[16];
    command(link, U8D_CMD_GET_SOFTW_HARDW_VER, reply, U2C_LINK_OK);
    assert_memory_equal(reply, version_reply_vendor, 16);
}

static unsigned in_flight_on(fixture *f, uint8_t ep)
{
    mock_bus_lock(f->bus);
    unsigned n = mock_usb_urbs_in_flight_on(rig_usb(f->rig[0]), ep);
    mock_bus_unlock(f->bus);
    return n;
}

static bool wait_in_flight(fixture *f, uint8_t ep, unsigned want, unsigned ms)
{
    uint64_t deadline = u2c_deadline_after_ms(ms);
    while (in_flight_on(f, ep) != want && u2c_now_ns() < deadline)
        u2c_sleep_ms(2);
    return in_flight_on(f, ep) == want;
}

static bool got_fifty(test_sink *s)
{
    return s->rx_records >= 50;
}

static void test_failing_in_transfers_are_retired_and_the_others_carry_on(void **state)
{
    fixture *f = *state;
    plug(f, 0, &vendor_200, U8D_FLAVOR_VENDOR);
    u2c_link *link = f->link = open_ok("ED000200");
    open_device(link);
    test_sink s;
    sink_init(&s, 0x3C);
    u2c_link_sink k = sink_of(&s);
    assert_int_equal(link->ops->start(link, &k), U2C_LINK_OK);
    uint64_t deadline = u2c_deadline_after_ms(2000);
    unsigned all = 0;
    while ((all = in_flight_on(f, U8D_EP_DATA_IN)) == 0 && u2c_now_ns() < deadline)
        u2c_sleep_ms(2);
    assert_true(all > 3);

    /* Three IN transfers fail (-EPROTO): as the Linux driver, the link does
     * not resubmit them; the others keep receiving, in order. */
    rig_fail_in(f->rig[0], 3, EPROTO);
    assert_true(wait_in_flight(f, U8D_EP_DATA_IN, all - 3, 2000));
    far_send(f, 0, 50, 0x3C);
    assert_true(wait_for(&s, got_fifty, 5000));
    u2c_mutex_lock(&s.lock);
    assert_int_equal(s.rx_records, 50);
    assert_int_equal(s.rx_out_of_order, 0);
    assert_int_equal(s.gone_calls, 0);
    u2c_mutex_unlock(&s.lock);
    assert_true(wait_in_flight(f, U8D_EP_DATA_IN, all - 3, 2000)); /* resubmitted, not more */

    /* Once every one has failed the adapter is gone, with the reason. */
    rig_fail_in(f->rig[0], all - 3, EPIPE);
    assert_true(wait_for(&s, is_gone, 2000));
    u2c_mutex_lock(&s.lock);
    print_message("gone: %s\n", s.gone_reason);
    assert_non_null(strstr(s.gone_reason, "every receive transfer failed"));
    assert_non_null(strstr(s.gone_reason, "ED000200"));
    u2c_mutex_unlock(&s.lock);
    link->ops->stop(link);
    sink_destroy(&s);
}

static void test_open_matches_serial_case_insensitively(void **state)
{
    fixture *f = *state;
    plug(f, 0, &vendor_200, U8D_FLAVOR_VENDOR);
    plug(f, 1, &vendor_201, U8D_FLAVOR_VENDOR);
    u2c_link *link = open_ok("ed000201");
    assert_string_equal(link->serial, "ED000201");
    link->ops->destroy(link);
}

static void test_second_open_of_same_adapter_is_busy(void **state)
{
    fixture *f = *state;
    plug(f, 0, &vendor_200, U8D_FLAVOR_VENDOR);
    u2c_link *link = open_ok("ED000200");
    u2c_link_result result = U2C_LINK_OK;
    char reason[256] = "";
    assert_null(u2c_link_open_libusb("ED000200", &result, reason, sizeof reason));
    assert_int_equal(result, U2C_LINK_BUSY);
    /* This process holds it: said so, and the adapter is not opened again. */
    assert_string_equal(reason, "USB2CAN ED000200 (at 1-1) is already open in this program");
    link->ops->destroy(link);
    /* Released: it opens again. */
    link = open_ok("ED000200");
    link->ops->destroy(link);
}

static void test_command_exchange_on_the_wire(void **state)
{
    fixture *f = *state;
    plug(f, 0, &vendor_200, U8D_FLAVOR_VENDOR);
    u2c_link *link = open_ok("ED000200");
    uint8_t reply[16];
    command(link, U8D_CMD_GET_SOFTW_HARDW_VER, reply, U2C_LINK_OK);
    const uint8_t want[16] = {0x11, 0, 12, 0, 0, 1, 7, 1, 0, 0, 0, 0, 0, 0, 0, 0x22};
    assert_memory_equal(reply, want, 16);
    mock_bus_lock(f->bus);
    uint8_t log[4][16];
    assert_int_equal(mock_usb_command_log(rig_usb(f->rig[0]), log, 4), 1);
    mock_bus_unlock(f->bus);
    const uint8_t sent[16] = {0x11, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x22};
    assert_memory_equal(log[0], sent, 16);
    link->ops->destroy(link);
}

static void test_unanswered_command_times_out(void **state)
{
    fixture *f = *state;
    /* CANalyze: GET_STATUS gets no reply and kills its command pipe. */
    plug(f, 0, &vendor_200, U8D_FLAVOR_CANALYZE);
    u2c_link *link = open_ok("ED000200");
    uint8_t req[16] = {0x11, 0, U8D_CMD_GET_STATUS, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x22};
    uint8_t reply[16];
    uint64_t t0 = u2c_now_ns();
    assert_int_equal(link->ops->command(link, req, reply, 200), U2C_LINK_TIMEOUT);
    uint64_t waited_ms = (u2c_now_ns() - t0) / 1000000u;
    assert_true(waited_ms >= 200);
    assert_true(waited_ms < 1500);
    /* The OUT endpoint now NAKs for good: the next command times out on its OUT stage. */
    t0 = u2c_now_ns();
    assert_int_equal(link->ops->command(link, req, reply, 100), U2C_LINK_TIMEOUT);
    assert_true(u2c_now_ns() - t0 >= 100000000u);
    link->ops->destroy(link);
}

/* --- late and stray command replies ------------------------------------------- */

/* The link's timeout for a command whose reply comes late, the delay of
 * that reply, and the slack a loaded machine gets past a timeout. */
#define SHORT_TIMEOUT_MS 100u
#define LATE_REPLY_MS 300u
#define TIMEOUT_SLACK_MS 120u

/* A command tagged in opt2 and in its last data byte, both of which the
 * vendor firmware echoes: the reply shows which request it answers. */
static void tagged_request(uint8_t req[16], uint8_t cmd, uint8_t opt1, uint8_t tag)
{
    uint8_t data[10] = {0};
    data[9] = tag;
    u8d_encode_command(req, cmd, opt1, tag, data);
}

static void assert_answers(const uint8_t reply[16], uint8_t cmd, uint8_t tag)
{
    assert_int_equal(reply[0], 0x11);
    assert_int_equal(reply[2], cmd);
    assert_int_equal(reply[3], U8D_RESULT_OK);
    assert_int_equal(reply[4], tag);
    assert_int_equal(reply[14], tag);
    assert_int_equal(reply[15], 0x22);
}

/* Runs one exchange; returns the link's result and how long it took. */
static int timed_command(u2c_link *link, const uint8_t req[16], uint8_t reply[16],
                         unsigned timeout_ms, uint64_t *elapsed_ms)
{
    uint64_t t0 = u2c_now_ns();
    int r = link->ops->command(link, req, reply, timeout_ms);
    *elapsed_ms = (u2c_now_ns() - t0) / 1000000u;
    return r;
}

/* The link gives up on time although the reply is on its way. */
static void expect_timeout_on_time(u2c_link *link, const uint8_t req[16], unsigned timeout_ms)
{
    uint8_t reply[16];
    uint64_t ms = 0;
    assert_int_equal(timed_command(link, req, reply, timeout_ms, &ms), U2C_LINK_TIMEOUT);
    print_message("timed out after %llu ms (timeout %u ms)\n", (unsigned long long)ms, timeout_ms);
    assert_true(ms >= timeout_ms);
    assert_true(ms < timeout_ms + TIMEOUT_SLACK_MS);
}

static void read_status_word(u8d_model *m, uint64_t now, void *ctx)
{
    (void)now;
    *(uint32_t *)ctx = u8d_model_status_word(m);
}

static size_t commands_sent(fixture *f, int i)
{
    uint8_t log[1][16];
    mock_bus_lock(f->bus);
    size_t n = mock_usb_command_log(rig_usb(f->rig[i]), log, 0);
    mock_bus_unlock(f->bus);
    return n;
}

static void test_late_reply_is_not_taken_for_the_next_command(void **state)
{
    fixture *f = *state;
    plug(f, 0, &vendor_200, U8D_FLAVOR_VENDOR);
    u2c_link *link = f->link = open_ok("ED000200");
    uint8_t req[16], reply[16];
    uint64_t ms = 0;

    rig_delay_next_reply(f->rig[0], LATE_REPLY_MS);
    tagged_request(req, U8D_CMD_GET_STATISTICS, U8D_STAT_TX_FRAMES, 0x71);
    expect_timeout_on_time(link, req, SHORT_TIMEOUT_MS);

    /* Sent at once: the late GET_STATISTICS reply comes out ahead of this one's. */
    tagged_request(req, U8D_CMD_GET_STATUS, 0, 0x72);
    assert_int_equal(timed_command(link, req, reply, 1000, &ms), U2C_LINK_OK);
    print_message("the next command was answered after %llu ms\n", (unsigned long long)ms);
    assert_answers(reply, U8D_CMD_GET_STATUS, 0x72);
    uint32_t status = 0xDEADBEEFu;
    rig_with_device(f->rig[0], read_status_word, &status);
    assert_int_equal(be32(reply + 5), status);
    assert_true(ms < 1000);

    tagged_request(req, U8D_CMD_GET_SERIAL, 0, 0x73);
    assert_int_equal(timed_command(link, req, reply, 1000, &ms), U2C_LINK_OK);
    assert_answers(reply, U8D_CMD_GET_SERIAL, 0x73);
    assert_memory_equal(reply + 5, "ED000200", 8);

    command(link, U8D_CMD_GET_SOFTW_HARDW_VER, reply, U2C_LINK_OK);
    assert_memory_equal(reply, version_reply_vendor, 16);

    /* Nothing left behind, and the link sent nothing but the four commands. */
    assert_int_equal(rig_replies_waiting(f->rig[0]), 0);
    assert_int_equal(commands_sent(f, 0), 4);
}

static void test_stale_reply_to_the_same_command_is_swallowed(void **state)
{
    fixture *f = *state;
    plug(f, 0, &vendor_200, U8D_FLAVOR_VENDOR);
    u2c_link *link = f->link = open_ok("ED000200");
    uint8_t req[16], reply[16];
    uint64_t ms = 0;

    rig_delay_next_reply(f->rig[0], LATE_REPLY_MS);
    tagged_request(req, U8D_CMD_GET_STATUS, 0, 0x01);
    expect_timeout_on_time(link, req, SHORT_TIMEOUT_MS);
    /* The late reply is in the pipe before the next command goes out; it
     * echoes the same command, so only its tag tells it apart. */
    u2c_sleep_ms(LATE_REPLY_MS);
    assert_int_equal(rig_replies_waiting(f->rig[0]), 1);

    tagged_request(req, U8D_CMD_GET_STATUS, 0, 0x02);
    assert_int_equal(timed_command(link, req, reply, 1000, &ms), U2C_LINK_OK);
    print_message("after swallowing the stale reply the command took %llu ms\n",
                  (unsigned long long)ms);
    assert_answers(reply, U8D_CMD_GET_STATUS, 0x02);

    tagged_request(req, U8D_CMD_GET_STATUS, 0, 0x03);
    assert_int_equal(timed_command(link, req, reply, 1000, &ms), U2C_LINK_OK);
    assert_answers(reply, U8D_CMD_GET_STATUS, 0x03);
    assert_int_equal(rig_replies_waiting(f->rig[0]), 0);
    assert_int_equal(commands_sent(f, 0), 3);
}

static void test_stray_replies_ahead_of_the_answer_are_discarded(void **state)
{
    fixture *f = *state;
    plug(f, 0, &vendor_200, U8D_FLAVOR_VENDOR);
    u2c_link *link = f->link = open_ok("ED000200");
    const uint8_t close_echo[16] = {0x11, 0, U8D_CMD_CLOSE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                    0,    0, 0x22};
    uint8_t garbage[16];
    memset(garbage, 0xEE, sizeof garbage);
    uint8_t req[16], reply[16];

    /* A well-formed reply to another command, then noise, then the answer. */
    assert_true(rig_inject_reply(f->rig[0], close_echo, sizeof close_echo));
    assert_true(rig_inject_reply(f->rig[0], garbage, sizeof garbage));
    command(link, U8D_CMD_GET_SOFTW_HARDW_VER, reply, U2C_LINK_OK);
    assert_memory_equal(reply, version_reply_vendor, 16);
    assert_int_equal(rig_replies_waiting(f->rig[0]), 0);

    /* A stray and no answer in time: a timeout, never the stray. */
    assert_true(rig_inject_reply(f->rig[0], close_echo, sizeof close_echo));
    rig_delay_next_reply(f->rig[0], LATE_REPLY_MS);
    tagged_request(req, U8D_CMD_GET_SERIAL, 0, 0x31);
    expect_timeout_on_time(link, req, SHORT_TIMEOUT_MS);
    tagged_request(req, U8D_CMD_GET_STATUS, 0, 0x32);
    assert_int_equal(link->ops->command(link, req, reply, 1000), U2C_LINK_OK);
    assert_answers(reply, U8D_CMD_GET_STATUS, 0x32);
    assert_int_equal(rig_replies_waiting(f->rig[0]), 0);
}

static void test_reply_of_wrong_length_is_a_protocol_error_and_the_link_recovers(void **state)
{
    fixture *f = *state;
    plug(f, 0, &vendor_200, U8D_FLAVOR_VENDOR);
    u2c_link *link = f->link = open_ok("ED000200");
    const uint8_t short_packet[5] = {0x11, 0, U8D_CMD_GET_SERIAL, 0, 0x22};
    uint8_t req[16], reply[16];

    /* (The first command reads the pipe empty before it goes out: a stray
     * has to come after it to reach an exchange.) */
    command(link, U8D_CMD_GET_SOFTW_HARDW_VER, reply, U2C_LINK_OK);
    assert_true(rig_inject_reply(f->rig[0], short_packet, sizeof short_packet));
    tagged_request(req, U8D_CMD_GET_SERIAL, 0, 0x41);
    assert_int_equal(link->ops->command(link, req, reply, 1000), U2C_LINK_PROTOCOL);
    /* The real reply to that command followed the short packet; the next
     * command of the same kind must not take it. */
    tagged_request(req, U8D_CMD_GET_SERIAL, 0, 0x42);
    assert_int_equal(link->ops->command(link, req, reply, 1000), U2C_LINK_OK);
    assert_answers(reply, U8D_CMD_GET_SERIAL, 0x42);
    assert_memory_equal(reply + 5, "ED000200", 8);
    assert_int_equal(rig_replies_waiting(f->rig[0]), 0);
}

static void test_canalyze_late_open_reply_does_not_answer_the_version_query(void **state)
{
    fixture *f = *state;
    /* CANalyze answers OPEN, CLOSE and the version query only: recovering
     * must not send it anything else. */
    plug(f, 0, &vendor_200, U8D_FLAVOR_CANALYZE);
    u2c_link *link = f->link = open_ok("ED000200");
    u8d_bittiming bt;
    assert_true(u8d_bittiming_standard(500, &bt));
    uint8_t req[16], reply[16];
    assert_int_equal(u8d_encode_open(req, &bt, 0), U8D_OK);
    rig_delay_next_reply(f->rig[0], LATE_REPLY_MS);
    expect_timeout_on_time(link, req, SHORT_TIMEOUT_MS);
    /* A CANalyze has one reply buffer: while the late OPEN reply sits unread
     * it drops every other reply (kkuchera/canalyze-fw usbd_8dev.c). Once it
     * is in the pipe, the next command reads it away first. */
    u2c_sleep_ms(LATE_REPLY_MS);

    command(link, U8D_CMD_GET_SOFTW_HARDW_VER, reply, U2C_LINK_OK);
    assert_int_equal(reply[2], U8D_CMD_GET_SOFTW_HARDW_VER);
    assert_int_equal(reply[3], U8D_RESULT_OK);
    const uint8_t version_0_1[4] = {0, 1, 0, 1};
    assert_memory_equal(reply + 5, version_0_1, 4);
    command(link, U8D_CMD_CLOSE, reply, U2C_LINK_OK);
    assert_int_equal(reply[2], U8D_CMD_CLOSE);
    assert_int_equal(rig_replies_waiting(f->rig[0]), 0);
    assert_int_equal(commands_sent(f, 0), 3);
}

static bool all_received(test_sink *s, uint32_t n)
{
    u2c_mutex_lock(&s->lock);
    bool done = s->rx_records >= n;
    u2c_mutex_unlock(&s->lock);
    return done;
}

static void test_ten_thousand_frames_each_way(void **state)
{
    fixture *f = *state;
    plug(f, 0, &vendor_200, U8D_FLAVOR_VENDOR);
    u2c_link *link = open_ok("ED000200");
    open_device(link);
    test_sink s;
    sink_init(&s, 0x5A);
    s.tx_limit = FRAMES_EACH_WAY;
    u2c_link_sink k = sink_of(&s);
    uint64_t t0 = u2c_now_ns();
    assert_int_equal(link->ops->start(link, &k), U2C_LINK_OK);
    far_send(f, 0, FRAMES_EACH_WAY, 0x5A);
    link->ops->kick_out(link);

    uint64_t seen = 0;
    unsigned bad = 0;
    uint64_t deadline = u2c_deadline_after_ms(120000);
    while ((seen < FRAMES_EACH_WAY || !all_received(&s, FRAMES_EACH_WAY)) &&
           u2c_now_ns() < deadline) {
        far_check(f, 0, &seen, &bad, 0x5A);
        u2c_sleep_ms(2);
    }
    uint64_t elapsed_ms = (u2c_now_ns() - t0) / 1000000u;
    link->ops->stop(link);

    mock_bus_lock(f->bus);
    mock_wire_stats st = mock_usb_stats(rig_usb(f->rig[0]));
    mock_bus_unlock(f->bus);
    print_message("10000 frames each way in %llu ms; %u IN packets (%u with 3 records)\n",
                  (unsigned long long)elapsed_ms, st.in_packets, st.in_by_records[3]);
    assert_int_equal(s.rx_records, FRAMES_EACH_WAY);
    assert_int_equal(s.rx_out_of_order, 0);
    assert_int_equal(s.rx_bad_packets, 0);
    assert_int_equal(seen, FRAMES_EACH_WAY);
    assert_int_equal(bad, 0);
    assert_int_equal(st.tx_transfers, FRAMES_EACH_WAY);
    assert_int_equal(st.tx_bad_length, 0);
    assert_true(st.in_by_records[3] > 0); /* the device packs when records wait */
    assert_int_equal(s.gone_calls, 0);
    /* After stop() nothing is in flight and no callback comes any more. */
    mock_bus_lock(f->bus);
    assert_int_equal(mock_usb_urbs_in_flight(rig_usb(f->rig[0])), 0);
    mock_bus_unlock(f->bus);
    link->ops->destroy(link);
    sink_destroy(&s);
}

static void read_tx_pending(u8d_model *m, uint64_t now, void *ctx)
{
    (void)now;
    *(size_t *)ctx = u8d_model_tx_pending(m);
}

static void test_backpressure_loses_nothing_and_stop_cancels_naked_transfers(void **state)
{
    fixture *f = *state;
    plug(f, 0, &vendor_200, U8D_FLAVOR_VENDOR);
    rig_far_set_open(f->rig[0], false); /* nobody on the bus ACKs */
    u2c_link *link = open_ok("ED000200");
    open_device(link);
    test_sink s;
    sink_init(&s, 0x33);
    s.tx_limit = 500;
    u2c_link_sink k = sink_of(&s);
    assert_int_equal(link->ops->start(link, &k), U2C_LINK_OK);
    link->ops->kick_out(link);
    /* The device fills its queue and NAKs; the link holds only what its
     * transfers carry and leaves the rest with the sink. */
    u2c_sleep_ms(200);
    size_t queued = 0;
    rig_with_device(f->rig[0], read_tx_pending, &queued);
    assert_int_equal(queued, U8D_MODEL_TX_CAPACITY);
    u2c_mutex_lock(&s.lock);
    uint32_t pulled = s.tx_next;
    u2c_mutex_unlock(&s.lock);
    assert_true(pulled > U8D_MODEL_TX_CAPACITY);
    assert_true(pulled <= U8D_MODEL_TX_CAPACITY + 8);
    /* Someone ACKs again: every record arrives once, in order. */
    rig_far_set_open(f->rig[0], true);
    uint64_t seen = 0;
    unsigned bad = 0;
    uint64_t deadline = u2c_deadline_after_ms(30000);
    while (seen < 500 && u2c_now_ns() < deadline) {
        far_check(f, 0, &seen, &bad, 0x33);
        u2c_sleep_ms(2);
    }
    assert_int_equal(seen, 500);
    assert_int_equal(bad, 0);
    /* Stuck again, then stop with OUT transfers NAKed: stop must not hang. */
    rig_far_set_open(f->rig[0], false);
    u2c_mutex_lock(&s.lock);
    s.tx_limit = 1000;
    u2c_mutex_unlock(&s.lock);
    link->ops->kick_out(link);
    u2c_sleep_ms(100);
    uint64_t t0 = u2c_now_ns();
    link->ops->stop(link);
    uint64_t stop_ms = (u2c_now_ns() - t0) / 1000000u;
    print_message("stop() with NAKed OUT transfers took %llu ms\n", (unsigned long long)stop_ms);
    assert_true(stop_ms < 500);
    mock_bus_lock(f->bus);
    assert_int_equal(mock_usb_urbs_in_flight(rig_usb(f->rig[0])), 0);
    mock_bus_unlock(f->bus);
    link->ops->destroy(link);
    sink_destroy(&s);
}

typedef struct blocked_command {
    u2c_link *link;
    int result;
    uint64_t returned_ns;
} blocked_command;

static void run_blocked_command(void *arg)
{
    blocked_command *b = arg;
    /* CANalyze never answers GET_STATUS: this blocks until unplug or timeout. */
    uint8_t req[16] = {0x11, 0, U8D_CMD_GET_STATUS, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x22};
    uint8_t reply[16];
    b->result = b->link->ops->command(b->link, req, reply, 5000);
    b->returned_ns = u2c_now_ns();
}

static void test_unplug_replug_twenty_times(void **state)
{
    fixture *f = *state;
    plug(f, 0, &vendor_200, U8D_FLAVOR_CANALYZE);
    uint64_t worst_gone_ms = 0, worst_command_ms = 0;
    for (int round = 0; round < UNPLUG_ROUNDS; round++) {
        u2c_link *link = open_ok("ED000200");
        open_device(link);
        test_sink s;
        sink_init(&s, 0x44);
        s.tx_limit = 1000000; /* endless: OUT transfers always in flight */
        u2c_link_sink k = sink_of(&s);
        assert_int_equal(link->ops->start(link, &k), U2C_LINK_OK);
        link->ops->kick_out(link);

        blocked_command b = {link, 99, 0};
        u2c_thread t;
        assert_int_equal(u2c_thread_start(&t, run_blocked_command, &b), 0);
        u2c_sleep_ms(20);

        uint64_t t0 = u2c_now_ns();
        rig_unplug(f->rig[0]);
        assert_true(wait_for(&s, is_gone, UNPLUG_LIMIT_MS));
        u2c_thread_join(&t);
        uint64_t gone_ms = (s.gone_ns - t0) / 1000000u;
        uint64_t command_ms = (b.returned_ns - t0) / 1000000u;
        if (getenv("E2E_VERBOSE"))
            print_message("round %d: gone %llu ms, command %llu ms\n", round,
                          (unsigned long long)gone_ms, (unsigned long long)command_ms);
        if (gone_ms > worst_gone_ms)
            worst_gone_ms = gone_ms;
        if (command_ms > worst_command_ms)
            worst_command_ms = command_ms;
        assert_int_equal(b.result, U2C_LINK_GONE);
        assert_true(command_ms < UNPLUG_LIMIT_MS);
        assert_string_equal(s.gone_reason, "USB2CAN ED000200 was unplugged");

        /* Later calls fail fast; gone is never reported twice. */
        uint8_t reply[16];
        uint64_t t1 = u2c_now_ns();
        command(link, U8D_CMD_GET_SOFTW_HARDW_VER, reply, U2C_LINK_GONE);
        assert_true(u2c_now_ns() - t1 < 50000000u);
        link->ops->kick_out(link);
        assert_int_equal(link->ops->start(link, &k), U2C_LINK_GONE);
        link->ops->stop(link);
        link->ops->destroy(link);
        assert_int_equal(s.gone_calls, 1);
        sink_destroy(&s);

        /* While it is away, opening it says so. */
        u2c_link_result result = U2C_LINK_OK;
        char why[256];
        assert_null(u2c_link_open_libusb("ED000200", &result, why, sizeof why));
        assert_int_equal(result, U2C_LINK_NOT_FOUND);

        rig_replug(f->rig[0]);
    }
    print_message("unplug: sink told within %llu ms, blocked command returned within %llu ms "
                  "(worst of %d)\n",
                  (unsigned long long)worst_gone_ms, (unsigned long long)worst_command_ms,
                  UNPLUG_ROUNDS);
    /* The last replug opens like new. */
    u2c_link *link = open_ok("ED000200");
    open_device(link);
    link->ops->destroy(link);
}

static void test_two_adapters_stay_independent(void **state)
{
    fixture *f = *state;
    plug(f, 0, &vendor_200, U8D_FLAVOR_VENDOR);
    plug(f, 1, &vendor_201, U8D_FLAVOR_VENDOR);
    u2c_link *a = open_ok("ED000200");
    u2c_link *b = open_ok("ED000201");
    assert_string_equal(a->serial, "ED000200");
    assert_string_equal(b->serial, "ED000201");
    open_device(a);
    open_device(b);
    test_sink sa, sb;
    sink_init(&sa, 0xA0);
    sink_init(&sb, 0xB0);
    sa.tx_limit = 1000;
    sb.tx_limit = 700;
    u2c_link_sink ka = sink_of(&sa), kb = sink_of(&sb);
    assert_int_equal(a->ops->start(a, &ka), U2C_LINK_OK);
    assert_int_equal(b->ops->start(b, &kb), U2C_LINK_OK);
    far_send(f, 0, 1500, 0xA0);
    far_send(f, 1, 900, 0xB0);
    a->ops->kick_out(a);
    b->ops->kick_out(b);
    uint64_t seen[2] = {0, 0};
    unsigned bad[2] = {0, 0};
    uint64_t deadline = u2c_deadline_after_ms(60000);
    while (
        (seen[0] < 1000 || seen[1] < 700 || !all_received(&sa, 1500) || !all_received(&sb, 900)) &&
        u2c_now_ns() < deadline) {
        far_check(f, 0, &seen[0], &bad[0], 0xA0);
        far_check(f, 1, &seen[1], &bad[1], 0xB0);
        u2c_sleep_ms(2);
    }
    /* One goes away; the other keeps working. */
    rig_unplug(f->rig[0]);
    assert_true(wait_for(&sa, is_gone, UNPLUG_LIMIT_MS));
    uint8_t reply[16];
    command(b, U8D_CMD_GET_SOFTW_HARDW_VER, reply, U2C_LINK_OK);
    a->ops->destroy(a);
    b->ops->stop(b);
    b->ops->destroy(b);
    assert_int_equal(sa.rx_records, 1500);
    assert_int_equal(sb.rx_records, 900);
    assert_int_equal(sa.rx_out_of_order + sb.rx_out_of_order, 0);
    assert_int_equal(sa.foreign_records + sb.foreign_records, 0);
    assert_int_equal(seen[0], 1000);
    assert_int_equal(seen[1], 700);
    assert_int_equal(bad[0] + bad[1], 0);
    assert_int_equal(sb.gone_calls, 0);
    sink_destroy(&sa);
    sink_destroy(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_without_devices_says_none_connected,
                                        rig_fixture_setup, rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_open_unknown_serial_lists_the_connected_ones,
                                        rig_fixture_setup, rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_open_rejects_a_device_with_another_product_string,
                                        rig_fixture_setup, rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(
            test_product_string_that_begins_with_usb2can_converter_is_one, rig_fixture_setup,
            rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(
            test_failing_in_transfers_are_retired_and_the_others_carry_on, rig_fixture_setup,
            rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_open_matches_serial_case_insensitively,
                                        rig_fixture_setup, rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_second_open_of_same_adapter_is_busy, rig_fixture_setup,
                                        rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_command_exchange_on_the_wire, rig_fixture_setup,
                                        rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_unanswered_command_times_out, rig_fixture_setup,
                                        rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_late_reply_is_not_taken_for_the_next_command,
                                        rig_fixture_setup, rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_stale_reply_to_the_same_command_is_swallowed,
                                        rig_fixture_setup, rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_stray_replies_ahead_of_the_answer_are_discarded,
                                        rig_fixture_setup, rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(
            test_reply_of_wrong_length_is_a_protocol_error_and_the_link_recovers, rig_fixture_setup,
            rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(
            test_canalyze_late_open_reply_does_not_answer_the_version_query, rig_fixture_setup,
            rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_ten_thousand_frames_each_way, rig_fixture_setup,
                                        rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(
            test_backpressure_loses_nothing_and_stop_cancels_naked_transfers, rig_fixture_setup,
            rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_unplug_replug_twenty_times, rig_fixture_setup,
                                        rig_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_two_adapters_stay_independent, rig_fixture_setup,
                                        rig_fixture_teardown),
    };
    if (getenv("E2E_FILTER"))
        cmocka_set_test_filter(getenv("E2E_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
