/* What Windows does to a libusb program that Linux's usbfs never does,
 * played through the real libusb over umockdev by wrapping libusb itself:
 * IN transfers the system cancels without being asked (WinUSB purging its
 * queue, a pipe reset), OUT submits that fail with LIBUSB_ERROR_IO after an
 * unplug; and what opening must leave alone: an adapter this process holds
 * is not opened again to read its serial; two adapters that report one
 * serial are told apart by their USB location. */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libusb.h>

#include "canal.h"
#include "link_libusb.h"
#include "model_rig.h"
#include "osal.h"
#include "u8d_codec.h"
#include "usb2can.h"

static const mock_identity adapter_200 = {"ED000200", "USB2CAN converter", "edevices", 0xFF};
static const mock_identity adapter_201 = {"ED000201", "USB2CAN converter", "edevices", 0xFF};

typedef rig_fixture fixture;

/* --- the wrap around libusb --------------------------------------------------- */

typedef int (*submit_fn)(struct libusb_transfer *);
typedef int (*open_fn)(libusb_device *, libusb_device_handle **);

static struct {
    submit_fn submit;
    open_fn open;
} real;

static atomic_int cancel_in_budget;  /* IN submits on 0x81 to cancel at once; -1: all */
static atomic_int fail_out_with;     /* a libusb error for every OUT submit on 0x02; 0: none */
static atomic_uint opens_on_port[8]; /* libusb_open calls per port on bus 1 */

static void *next_symbol(const char *name)
{
    void *p = dlsym(RTLD_NEXT, name);
    if (p == NULL) {
        fprintf(stderr, "cannot find libusb's %s\n", name);
        abort();
    }
    return p;
}

static bool take_cancel(void)
{
    int left = atomic_load(&cancel_in_budget);
    while (left != 0) {
        if (left < 0)
            return true;
        if (atomic_compare_exchange_weak(&cancel_in_budget, &left, left - 1))
            return true;
    }
    return false;
}

int libusb_submit_transfer(struct libusb_transfer *transfer)
{
    int fail = atomic_load(&fail_out_with);
    if (transfer->endpoint == U8D_EP_DATA_OUT && fail != 0)
        return fail;
    int r = real.submit(transfer);
    /* Cancelled by someone other than the link, as WinUSB's purge does. */
    if (r == 0 && transfer->endpoint == U8D_EP_DATA_IN && take_cancel())
        libusb_cancel_transfer(transfer);
    return r;
}

int libusb_open(libusb_device *dev, libusb_device_handle **handle)
{
    uint8_t ports[7];
    int depth = libusb_get_port_numbers(dev, ports, 7);
    if (depth == 1 && ports[0] < 8)
        atomic_fetch_add(&opens_on_port[ports[0]], 1);
    return real.open(dev, handle);
}

static void wrap_reset(void)
{
    atomic_store(&cancel_in_budget, 0);
    atomic_store(&fail_out_with, 0);
    for (int i = 0; i < 8; i++)
        atomic_store(&opens_on_port[i], 0);
}

/* --- a small sink --------------------------------------------------------------- */

typedef struct test_sink {
    u2c_mutex lock;
    u2c_cond changed;
    unsigned rx_records;
    unsigned gone_calls;
    char gone_reason[128];
} test_sink;

static void sink_in_packet(void *ctx, const uint8_t *bytes, size_t len)
{
    test_sink *s = ctx;
    u2c_mutex_lock(&s->lock);
    for (size_t off = 0; off + 21 <= len; off += 21)
        if (bytes[off + 1] != 3) /* not a status record */
            s->rx_records++;
    u2c_cond_broadcast(&s->changed);
    u2c_mutex_unlock(&s->lock);
}

static int sink_next_out(void *ctx, uint8_t record[16])
{
    (void)ctx;
    (void)record;
    return 0;
}

static void sink_gone(void *ctx, const char *reason)
{
    test_sink *s = ctx;
    u2c_mutex_lock(&s->lock);
    s->gone_calls++;
    snprintf(s->gone_reason, sizeof s->gone_reason, "%s", reason);
    u2c_cond_broadcast(&s->changed);
    u2c_mutex_unlock(&s->lock);
}

static bool wait_sink(test_sink *s, unsigned records, bool gone, unsigned ms)
{
    uint64_t deadline = u2c_deadline_after_ms(ms);
    u2c_mutex_lock(&s->lock);
    bool ok;
    while (!(ok = gone ? s->gone_calls > 0 : s->rx_records >= records) &&
           u2c_cond_wait_until(&s->changed, &s->lock, deadline))
        ;
    ok = gone ? s->gone_calls > 0 : s->rx_records >= records;
    u2c_mutex_unlock(&s->lock);
    return ok;
}

static u2c_link *open_link(const char *serial)
{
    u2c_link_result result = U2C_LINK_IO;
    char reason[256] = "";
    u2c_link *link = u2c_link_open_libusb(serial, &result, reason, sizeof reason);
    if (!link)
        fail_msg("open %s failed: %d %s", serial, result, reason);
    u8d_bittiming bt;
    assert_true(u8d_bittiming_standard(500, &bt));
    uint8_t req[16], reply[16];
    u8d_encode_open(req, &bt, 0);
    assert_int_equal(link->ops->command(link, req, reply, 1000), U2C_LINK_OK);
    return link;
}

static void far_send(model_rig *r, unsigned count)
{
    for (unsigned n = 0; n < count; n++) {
        u8d_frame fr = {.id = 0x100, .flags = 0, .dlc = 1, .data = {(uint8_t)n}};
        assert_true(rig_far_send(r, &fr));
    }
}

/* --- item 5: cancellations nobody here asked for ----------------------------------- */

static void test_foreign_cancels_are_resubmitted_and_counted(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &adapter_200, U8D_FLAVOR_VENDOR, 500);
    u2c_link *link = f->link = open_link("ED000200");
    test_sink s = {0};
    u2c_mutex_init(&s.lock);
    u2c_cond_init(&s.changed);
    u2c_link_sink k = {&s, sink_in_packet, sink_next_out, sink_gone};
    /* Every one of the IN transfers the link starts with is cancelled by
     * "the system" right after it was submitted. */
    atomic_store(&cancel_in_budget, U2C_LIBUSB_RX_TRANSFERS);
    assert_int_equal(link->ops->start(link, &k), U2C_LINK_OK);
    far_send(f->rig[0], 40);
    bool received = wait_sink(&s, 40, false, 3000);
    u2c_link_libusb_counters c;
    u2c_link_libusb_counts(link, &c);
    print_message("foreign cancels %u, retired %u, records %u\n", c.rx_foreign_cancels,
                  c.rx_retired, s.rx_records);
    assert_true(received);
    assert_int_equal(s.rx_records, 40);
    assert_int_equal(s.gone_calls, 0);
    assert_int_equal(c.rx_foreign_cancels, U2C_LIBUSB_RX_TRANSFERS);
    assert_int_equal(c.rx_retired, 0);
    link->ops->stop(link);
    /* The link's own cancels (stop) are not counted as foreign. */
    u2c_link_libusb_counts(link, &c);
    assert_int_equal(c.rx_foreign_cancels, U2C_LIBUSB_RX_TRANSFERS);
    u2c_cond_destroy(&s.changed);
    u2c_mutex_destroy(&s.lock);
}

static void test_endless_foreign_cancels_report_the_adapter_gone(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &adapter_200, U8D_FLAVOR_VENDOR, 500);
    u2c_link *link = f->link = open_link("ED000200");
    test_sink s = {0};
    u2c_mutex_init(&s.lock);
    u2c_cond_init(&s.changed);
    u2c_link_sink k = {&s, sink_in_packet, sink_next_out, sink_gone};
    atomic_store(&cancel_in_budget, -1);
    uint64_t t0 = u2c_now_ns();
    assert_int_equal(link->ops->start(link, &k), U2C_LINK_OK);
    bool gone = wait_sink(&s, 0, true, 3000);
    uint64_t took_ms = (u2c_now_ns() - t0) / 1000000u;
    atomic_store(&cancel_in_budget, 0);
    u2c_link_libusb_counters c;
    u2c_link_libusb_counts(link, &c);
    print_message("gone after %llu ms: %s (foreign cancels %u, retired %u)\n",
                  (unsigned long long)took_ms, s.gone_reason, c.rx_foreign_cancels, c.rx_retired);
    assert_true(gone);
    assert_non_null(strstr(s.gone_reason, "ED000200"));
    assert_non_null(strstr(s.gone_reason, "cancelled by the system"));
    assert_int_equal(c.rx_retired, U2C_LIBUSB_RX_TRANSFERS);
    link->ops->stop(link);
    u2c_cond_destroy(&s.changed);
    u2c_mutex_destroy(&s.lock);
}

/* --- item 4: OUT submits that fail after an unplug ---------------------------------- */

static bool says_unplugged(const char *serial)
{
    (void)serial;
    return false; /* the system no longer lists it */
}

static canalMsg one_frame(uint32_t n)
{
    canalMsg m;
    memset(&m, 0, sizeof m);
    m.id = 0x123;
    m.sizeData = 1;
    m.data[0] = (uint8_t)n;
    return m;
}

/* Sends until CanalSend fails; returns its code, *sends how many succeeded. */
static int send_until_failure(long h, unsigned max, unsigned *sends)
{
    int code = CANAL_ERROR_SUCCESS;
    for (*sends = 0; *sends < max; (*sends)++) {
        canalMsg m = one_frame(*sends);
        code = CanalSend(h, &m);
        if (code != CANAL_ERROR_SUCCESS)
            break;
    }
    return code;
}

static void test_failed_submits_after_unplug_read_as_unplug(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &adapter_200, U8D_FLAVOR_VENDOR, 500);
    long h = CanalOpen("ED000200;500", 0);
    assert_true(h > 0);
    u2c_link_libusb_set_presence_probe(says_unplugged);
    atomic_store(&fail_out_with, LIBUSB_ERROR_IO); /* libusb 1.0.26 on Windows after an unplug */
    unsigned sends = 0;
    int code = send_until_failure(h, 2000, &sends);
    char reason[256];
    snprintf(reason, sizeof reason, "%s", Usb2canGetLastError());
    atomic_store(&fail_out_with, 0);
    u2c_link_libusb_set_presence_probe(NULL);
    print_message("CanalSend: %d after %u sends: %s\n", code, sends, reason);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
    assert_int_equal(code, CANAL_ERROR_COMMUNICATION);
    assert_true(sends <= 1);
    assert_non_null(strstr(reason, "ED000200 was unplugged"));
}

static void test_submits_failing_while_listed_end_in_a_reason(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &adapter_200, U8D_FLAVOR_VENDOR, 500);
    long h = CanalOpen("ED000200;500", 0);
    assert_true(h > 0);
    atomic_store(&fail_out_with, LIBUSB_ERROR_IO); /* and no probe: nobody says it is gone */
    unsigned sends = 0;
    int code = send_until_failure(h, 2000, &sends);
    char reason[256];
    snprintf(reason, sizeof reason, "%s", Usb2canGetLastError());
    atomic_store(&fail_out_with, 0);
    print_message("CanalSend: %d after %u sends: %s\n", code, sends, reason);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
    assert_int_equal(code, CANAL_ERROR_COMMUNICATION);
    assert_true(sends <= 40); /* the error streak (32), not the TX queue (1024) */
    assert_non_null(strstr(reason, "transmit pipe keeps failing"));
}

/* --- item 6: an adapter this process holds ------------------------------------------- */

static void test_open_leaves_an_adapter_held_here_alone(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &adapter_200, U8D_FLAVOR_VENDOR, 500); /* port 1 */
    f->rig[1] = rig_create(f->bus, &adapter_201, U8D_FLAVOR_VENDOR, 500); /* port 2 */
    long a = CanalOpen("ED000200;500", 0);
    assert_true(a > 0);
    wrap_reset();
    long b = CanalOpen("ED000201;500", 0);
    unsigned opened_a = atomic_load(&opens_on_port[1]);
    unsigned opened_b = atomic_load(&opens_on_port[2]);
    /* Asking for the held one again names this program and the handle. */
    long again = CanalOpen("ED000200;500", 0);
    char said[256];
    snprintf(said, sizeof said, "%s", Usb2canGetLastError());
    unsigned opened_a_again = atomic_load(&opens_on_port[1]);
    usb2canAdapterInfo list[16];
    long n = Usb2canListAdapters(list, 16);
    if (again > 0)
        CanalClose(again);
    if (b > 0)
        CanalClose(b);
    CanalClose(a);
    print_message("opening ED000201 opened the held ED000200 %u times; second open: %s\n", opened_a,
                  said);
    assert_true(b > 0);
    assert_int_equal(opened_a, 0);
    assert_true(opened_b >= 1);
    assert_int_equal(again, 0);
    char expected[128];
    snprintf(expected, sizeof expected, "ED000200 is already open in this program (handle %ld)", a);
    assert_non_null(strstr(said, expected));
    assert_int_equal(opened_a_again, 0);
    assert_true(n >= 2);
    assert_string_equal(list[0].serial, "ED000200");
    assert_true(list[0].flags & USB2CAN_ADAPTER_IN_USE);
}

/* The same with the adapter held by another thread of this process: its
 * open is the process's, whichever thread made it. */
typedef struct holder {
    u2c_mutex lock;
    u2c_cond changed;
    long handle;  /* what its CanalOpen returned; -1 until then */
    bool release; /* the test is done with it */
} holder;

static void run_holder(void *arg)
{
    holder *h = arg;
    long handle = CanalOpen("ED000200;500", 0);
    u2c_mutex_lock(&h->lock);
    h->handle = handle;
    u2c_cond_broadcast(&h->changed);
    uint64_t until = u2c_deadline_after_ms(10000); /* bounded, should the test fail */
    while (!h->release && u2c_cond_wait_until(&h->changed, &h->lock, until))
        ;
    u2c_mutex_unlock(&h->lock);
    if (handle > 0)
        CanalClose(handle);
}

static void test_adapter_held_by_another_thread_is_left_alone(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &adapter_200, U8D_FLAVOR_VENDOR, 500); /* port 1 */
    f->rig[1] = rig_create(f->bus, &adapter_201, U8D_FLAVOR_VENDOR, 500); /* port 2 */
    holder h = {.handle = -1};
    u2c_mutex_init(&h.lock);
    u2c_cond_init(&h.changed);
    u2c_thread t;
    assert_int_equal(u2c_thread_start(&t, run_holder, &h), 0);
    u2c_mutex_lock(&h.lock);
    uint64_t until = u2c_deadline_after_ms(5000);
    while (h.handle < 0 && u2c_cond_wait_until(&h.changed, &h.lock, until))
        ;
    long held = h.handle;
    u2c_mutex_unlock(&h.lock);
    wrap_reset();
    long b = CanalOpen("ED000201;500", 0);
    unsigned opened_a = atomic_load(&opens_on_port[1]);
    long again = CanalOpen("ed000200;250", 0);
    char said[256];
    snprintf(said, sizeof said, "%s", Usb2canGetLastError());
    if (b > 0)
        CanalClose(b);
    if (again > 0)
        CanalClose(again);
    u2c_mutex_lock(&h.lock);
    h.release = true;
    u2c_cond_broadcast(&h.changed);
    u2c_mutex_unlock(&h.lock);
    u2c_thread_join(&t);
    u2c_cond_destroy(&h.changed);
    u2c_mutex_destroy(&h.lock);
    print_message("held by a thread as handle %ld; second open: %s\n", held, said);
    assert_true(held > 0);
    assert_true(b > 0);
    assert_int_equal(opened_a, 0);
    assert_int_equal(again, 0);
    char expected[128];
    snprintf(expected, sizeof expected, "ED000200 is already open in this program (handle %ld)",
             held);
    assert_non_null(strstr(said, expected));
}

/* --- item 2: two adapters, one serial ----------------------------------------------- */

static void test_one_serial_on_two_adapters_is_told_apart_by_location(void **state)
{
    fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &adapter_200, U8D_FLAVOR_VENDOR, 500); /* 1-1 */
    f->rig[1] = rig_create(f->bus, &adapter_200, U8D_FLAVOR_VENDOR, 500); /* 1-2 */
    /* The list shows where each sits. */
    usb2canAdapterInfoEx list[16];
    assert_int_equal(Usb2canListAdaptersEx(list, 16), 2 + USB2CAN_VIRTUAL_ADAPTERS);
    assert_string_equal(list[0].info.serial, "ED000200");
    assert_string_equal(list[1].info.serial, "ED000200");
    assert_true((strcmp(list[0].location, "1-1") == 0 && strcmp(list[1].location, "1-2") == 0) ||
                (strcmp(list[0].location, "1-2") == 0 && strcmp(list[1].location, "1-1") == 0));
    assert_string_equal(list[2].location, ""); /* VIRTUAL0 */

    assert_int_equal(CanalOpen("ED000200;500", 0), 0);
    const char *why = Usb2canGetLastError();
    print_message("without a location: %s\n", why);
    /* Enumeration order is the system's: either order is right. */
    if (strstr(why, "2 USB2CAN adapters have serial ED000200 (at 1-1, 1-2)") == NULL)
        assert_non_null(strstr(why, "2 USB2CAN adapters have serial ED000200 (at 1-2, 1-1)"));
    assert_non_null(strstr(why, "name one by its location, e.g. \"ED000200;500;location=1-"));

    long h = CanalOpen("ED000200;500;location=1-2", 0);
    if (h <= 0)
        fail_msg("open by location: %s", Usb2canGetLastError());
    canalMsg m = one_frame(7);
    assert_int_equal(CanalSend(h, &m), CANAL_ERROR_SUCCESS);
    u8d_frame got;
    uint64_t deadline = u2c_deadline_after_ms(3000);
    while (rig_far_received(f->rig[1], 0, &got, 1) == 0 && u2c_now_ns() < deadline)
        u2c_sleep_ms(1);
    assert_int_equal(rig_far_received(f->rig[1], 0, &got, 1), 1);
    assert_int_equal(got.id, 0x123);
    assert_int_equal(rig_far_received_total(f->rig[0]), 0); /* the other one saw nothing */

    /* The other one opens by its own location; a third location has nothing. */
    long g = CanalOpen("ED000200;500;location=1-1", 0);
    if (g <= 0)
        fail_msg("open by location: %s", Usb2canGetLastError());
    assert_int_equal(CanalOpen("ED000200;500;location=1-3", 0), 0);
    print_message("empty location: %s\n", Usb2canGetLastError());
    assert_non_null(strstr(Usb2canGetLastError(), "at location 1-3"));
    assert_int_equal(CanalClose(g), CANAL_ERROR_SUCCESS);
    assert_int_equal(CanalClose(h), CANAL_ERROR_SUCCESS);
}

static int setup(void **state)
{
    wrap_reset();
    return rig_fixture_setup(state);
}

static int teardown(void **state)
{
    wrap_reset();
    return rig_fixture_teardown(state);
}

int main(void)
{
    void *p = next_symbol("libusb_submit_transfer");
    memcpy(&real.submit, &p, sizeof p);
    p = next_symbol("libusb_open");
    memcpy(&real.open, &p, sizeof p);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_foreign_cancels_are_resubmitted_and_counted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_endless_foreign_cancels_report_the_adapter_gone, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failed_submits_after_unplug_read_as_unplug, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_submits_failing_while_listed_end_in_a_reason, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_open_leaves_an_adapter_held_here_alone, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_adapter_held_by_another_thread_is_left_alone, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_one_serial_on_two_adapters_is_told_apart_by_location,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
