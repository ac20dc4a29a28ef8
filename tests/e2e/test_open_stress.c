/* Concurrent CanalOpen/CanalClose over real libusb: 16 threads open and
 * close two emulated adapters (umockdev) for 10 seconds. libusb's Windows
 * back end crashes when two threads enumerate at once, or when one frees a
 * device list or closes a handle while another enumerates (libusb issue
 * 1793); Linux's back end survives that, so this test watches the calls
 * themselves: it wraps libusb_get_device_list, libusb_free_device_list,
 * libusb_open and libusb_close, lingers a little inside each to widen any
 * overlap, and fails if two threads are ever inside them at once. The lock
 * that prevents it is the same code on Windows. Run under ThreadSanitizer
 * too (linux-tsan). */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <libusb.h>

#include "canal.h"
#include "model_rig.h"
#include "osal.h"
#include "usb2can.h"

#define THREADS 16
#define DEFAULT_RUN_MS 10000u
#define LINGER_NS 200000L /* inside each wrapped call: 0.2 ms */

static const mock_identity adapter_200 = {"ED000200", "USB2CAN converter", "edevices", 0xFF};
static const mock_identity adapter_201 = {"ED000201", "USB2CAN converter", "edevices", 0xFF};

/* --- the watch on libusb ------------------------------------------------------ */

typedef ssize_t (*get_list_fn)(libusb_context *, libusb_device ***);
typedef void (*free_list_fn)(libusb_device **, int);
typedef int (*open_fn)(libusb_device *, libusb_device_handle **);
typedef void (*close_fn)(libusb_device_handle *);

static struct {
    get_list_fn get_list;
    free_list_fn free_list;
    open_fn open;
    close_fn close;
} real; /* resolved in main before any thread starts */

static atomic_int inside;      /* threads inside a watched call now */
static atomic_int most_inside; /* the most ever seen at once */
static atomic_uint watched_calls;

static void *next_symbol(const char *name)
{
    void *p = dlsym(RTLD_NEXT, name);
    if (p == NULL) {
        fprintf(stderr, "cannot find libusb's %s\n", name);
        abort();
    }
    return p;
}

static void resolve_real(void)
{
    void *p;
    p = next_symbol("libusb_get_device_list");
    memcpy(&real.get_list, &p, sizeof p);
    p = next_symbol("libusb_free_device_list");
    memcpy(&real.free_list, &p, sizeof p);
    p = next_symbol("libusb_open");
    memcpy(&real.open, &p, sizeof p);
    p = next_symbol("libusb_close");
    memcpy(&real.close, &p, sizeof p);
}

static void enter(void)
{
    int now = atomic_fetch_add(&inside, 1) + 1;
    int seen = atomic_load(&most_inside);
    while (now > seen && !atomic_compare_exchange_weak(&most_inside, &seen, now)) {
    }
    atomic_fetch_add(&watched_calls, 1);
    struct timespec linger = {0, LINGER_NS};
    nanosleep(&linger, NULL);
}

static void leave(void)
{
    atomic_fetch_sub(&inside, 1);
}

ssize_t LIBUSB_CALL libusb_get_device_list(libusb_context *ctx, libusb_device ***list)
{
    enter();
    ssize_t n = real.get_list(ctx, list);
    leave();
    return n;
}

void LIBUSB_CALL libusb_free_device_list(libusb_device **list, int unref_devices)
{
    enter();
    real.free_list(list, unref_devices);
    leave();
}

int LIBUSB_CALL libusb_open(libusb_device *dev, libusb_device_handle **handle)
{
    enter();
    int r = real.open(dev, handle);
    leave();
    return r;
}

void LIBUSB_CALL libusb_close(libusb_device_handle *handle)
{
    enter();
    real.close(handle);
    leave();
}

/* --- the workers ---------------------------------------------------------------- */

typedef struct worker {
    unsigned index;
    uint64_t until_ns;
    unsigned opened[2];
    unsigned busy[2];
    unsigned other_failures;
    char first_failure[256];
} worker;

static void run_worker(void *arg)
{
    worker *w = arg;
    static const char *const setup[2] = {"ED000200;500", "ED000201;250"};
    for (unsigned round = w->index; u2c_now_ns() < w->until_ns; round++) {
        unsigned which = round % 2;
        long h = CanalOpen(setup[which], 0);
        if (h > 0) {
            w->opened[which]++;
            canalStatus status;
            if (CanalGetStatus(h, &status) != CANAL_ERROR_SUCCESS && !w->other_failures++)
                snprintf(w->first_failure, sizeof w->first_failure, "status: %s",
                         Usb2canGetLastError());
            if (CanalClose(h) != CANAL_ERROR_SUCCESS && !w->other_failures++)
                snprintf(w->first_failure, sizeof w->first_failure, "close: %s",
                         Usb2canGetLastError());
        } else if (strstr(Usb2canGetLastError(), "already open in this program") != NULL) {
            w->busy[which]++; /* another thread has it: the expected refusal */
        } else if (!w->other_failures++) {
            snprintf(w->first_failure, sizeof w->first_failure, "open %s: %s", setup[which],
                     Usb2canGetLastError());
        }
    }
}

static void test_sixteen_threads_open_and_close_two_adapters(void **state)
{
    rig_fixture *f = *state;
    f->rig[0] = rig_create(f->bus, &adapter_200, U8D_FLAVOR_VENDOR, 500);
    f->rig[1] = rig_create(f->bus, &adapter_201, U8D_FLAVOR_VENDOR, 250);
    unsigned run_ms = DEFAULT_RUN_MS;
    if (getenv("STRESS_MS"))
        run_ms = (unsigned)strtoul(getenv("STRESS_MS"), NULL, 10);

    static worker workers[THREADS];
    u2c_thread threads[THREADS];
    uint64_t until = u2c_deadline_after_ms(run_ms);
    for (unsigned i = 0; i < THREADS; i++) {
        workers[i] = (worker){.index = i, .until_ns = until};
        assert_int_equal(u2c_thread_start(&threads[i], run_worker, &workers[i]), 0);
    }
    unsigned opened[2] = {0, 0}, busy = 0, other = 0;
    const char *first_failure = NULL;
    for (unsigned i = 0; i < THREADS; i++) {
        u2c_thread_join(&threads[i]);
        opened[0] += workers[i].opened[0];
        opened[1] += workers[i].opened[1];
        busy += workers[i].busy[0] + workers[i].busy[1];
        other += workers[i].other_failures;
        if (workers[i].other_failures && !first_failure)
            first_failure = workers[i].first_failure;
    }
    printf("# %u ms: ED000200 opened %u times, ED000201 %u times, %u refusals (in use), "
           "%u libusb list/open/close calls, at most %d at once\n",
           run_ms, opened[0], opened[1], busy, atomic_load(&watched_calls),
           atomic_load(&most_inside));
    if (other)
        fail_msg("%u unexpected failures; the first: %s", other, first_failure);
    assert_true(opened[0] > 0);
    assert_true(opened[1] > 0);
    if (atomic_load(&most_inside) > 1)
        fail_msg("%d threads were inside libusb's device list/open/close at once",
                 atomic_load(&most_inside));
    /* Both adapters are free again and open at once. */
    long a = CanalOpen("ED000200;500", 0);
    long b = CanalOpen("ED000201;250", 0);
    assert_true(a > 0);
    assert_true(b > 0);
    assert_int_equal(CanalClose(a), CANAL_ERROR_SUCCESS);
    assert_int_equal(CanalClose(b), CANAL_ERROR_SUCCESS);
}

int main(void)
{
    resolve_real();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sixteen_threads_open_and_close_two_adapters,
                                        rig_fixture_setup, rig_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
