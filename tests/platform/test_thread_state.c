/* The library's per-thread state (last error, vendor string, last bounded
 * wait), driven through the built library loaded by name the way CANAL hosts
 * load it: each thread sees only its own reason and vendor string, also in
 * its first call, and unloading the library while threads that used it are
 * alive lets them exit later. On Windows the heap is measured too:
 * thousands of short-lived threads leave nothing behind, and neither do
 * threads that outlive a FreeLibrary (with _Thread_local, MinGW's emutls
 * leaked 0.65 to 0.8 KB for each of them on every unload: its blocks are
 * freed by a thread-exit hook inside the DLL, which is gone by then). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "canal.h"
#include "osal.h"

#if defined(_WIN32)
#include <psapi.h>
#include <windows.h>
typedef HMODULE lib_handle;
static lib_handle lib_open(const char *path)
{
    return LoadLibraryA(path);
}
static void *lib_sym(lib_handle h, const char *name)
{
    return (void *)GetProcAddress(h, name);
}
static void lib_close(lib_handle h)
{
    assert_true(FreeLibrary(h));
}
static const char *library_path = "usb2can.dll"; /* by name, as clients do */
#else
#include <dlfcn.h>
typedef void *lib_handle;
static lib_handle lib_open(const char *path)
{
    return dlopen(path, RTLD_NOW | RTLD_LOCAL);
}
static void *lib_sym(lib_handle h, const char *name)
{
    return dlsym(h, name);
}
static void lib_close(lib_handle h)
{
    assert_int_equal(dlclose(h), 0);
}
static const char *library_path = "libusb2can.so"; /* replaced by argv[1] */
#endif

/* Far above any handle CanalOpen hands out, so never open. */
#define UNUSED_HANDLE_BASE 900000L

typedef struct api {
    lib_handle lib;
    long(CANAL_CALL *open)(const char *, unsigned long);
    int(CANAL_CALL *close)(long);
    int(CANAL_CALL *get_status)(long, canalStatus *);
    int(CANAL_CALL *blocking_receive)(long, canalMsg *, unsigned long);
    const char *(CANAL_CALL *vendor_string)(void);
    const char *(CANAL_CALL *last_error)(void);
    unsigned long(CANAL_CALL *last_error_text)(char *, unsigned long);
} api;

static api lib;

static void *resolve(const char *name)
{
    void *fn = lib_sym(lib.lib, name);
    if (fn == NULL)
        fail_msg("%s does not export %s", library_path, name);
    return fn;
}

static void load_library(void)
{
    memset(&lib, 0, sizeof lib);
    lib.lib = lib_open(library_path);
    if (lib.lib == NULL)
        fail_msg("cannot load %s", library_path);
    /* Function pointers travel through void * as dlsym/GetProcAddress return them. */
    *(void **)&lib.open = resolve("CanalOpen");
    *(void **)&lib.close = resolve("CanalClose");
    *(void **)&lib.get_status = resolve("CanalGetStatus");
    *(void **)&lib.blocking_receive = resolve("CanalBlockingReceive");
    *(void **)&lib.vendor_string = resolve("CanalGetVendorString");
    *(void **)&lib.last_error = resolve("Usb2canGetLastError");
    *(void **)&lib.last_error_text = resolve("Usb2canGetLastErrorText");
}

static void unload_library(void)
{
    lib_close(lib.lib);
    memset(&lib, 0, sizeof lib);
}

/* The calling thread's reason is the one a failed CanalGetStatus(handle)
 * left, read through both accessors. */
static bool holds_reason_for(long handle)
{
    char expected[96];
    snprintf(expected, sizeof expected, "CanalGetStatus: handle %ld is not open ", handle);
    char copy[512];
    unsigned long len = lib.last_error_text(copy, sizeof copy);
    return strncmp(lib.last_error(), expected, strlen(expected)) == 0 &&
           len == strlen(lib.last_error()) && strcmp(copy, lib.last_error()) == 0;
}

/* Fails CanalGetStatus on a handle nobody opened; the thread reads back
 * exactly that reason. */
static bool fails_with_own_reason(long handle)
{
    canalStatus status;
    return lib.get_status(handle, &status) == CANAL_ERROR_NOT_OPEN && holds_reason_for(handle);
}

/* "fw;hw;canal;dll;usb2can", e.g. "0.0;0.0;1.0.14;<dll version>;usb2can". */
static bool vendor_string_well_formed(const char *text)
{
    size_t n = text ? strlen(text) : 0;
    int fields = 1;
    for (size_t i = 0; i < n; i++)
        fields += text[i] == ';';
    return n > 16 && fields == 5 && strcmp(text + n - 8, ";usb2can") == 0;
}

/* --- two threads, each with its own reason and vendor string ------------- */

typedef struct rendezvous {
    u2c_mutex lock;
    u2c_cond cond;
    int arrived;
    int expected;
} rendezvous;

static void rendezvous_init(rendezvous *rv, int expected)
{
    memset(rv, 0, sizeof *rv);
    u2c_mutex_init(&rv->lock);
    u2c_cond_init(&rv->cond);
    rv->expected = expected;
}

static void rendezvous_destroy(rendezvous *rv)
{
    u2c_cond_destroy(&rv->cond);
    u2c_mutex_destroy(&rv->lock);
}

/* Returns once `expected` threads have arrived (false after 10 s). */
static bool rendezvous_arrive_and_wait(rendezvous *rv)
{
    u2c_mutex_lock(&rv->lock);
    rv->arrived++;
    u2c_cond_broadcast(&rv->cond);
    uint64_t deadline = u2c_deadline_after_ms(10000);
    while (rv->arrived < rv->expected && u2c_cond_wait_until(&rv->cond, &rv->lock, deadline)) {
    }
    bool all = rv->arrived >= rv->expected;
    u2c_mutex_unlock(&rv->lock);
    return all;
}

typedef struct pair_worker {
    rendezvous *rv;
    long handle;
    uintptr_t vendor_address;
    bool vendor_ok_before, vendor_ok_after, reason_ok, met;
} pair_worker;

static void pair_worker_main(void *arg)
{
    pair_worker *w = arg;
    const char *vendor = lib.vendor_string();
    w->vendor_address = (uintptr_t)vendor;
    w->vendor_ok_before = vendor_string_well_formed(vendor);
    bool failed_right = fails_with_own_reason(w->handle);
    /* Both threads have now set their reason before either reads it back. */
    w->met = rendezvous_arrive_and_wait(w->rv);
    w->reason_ok = failed_right && holds_reason_for(w->handle);
    w->vendor_ok_after = vendor_string_well_formed(vendor);
}

static void test_each_thread_sees_its_own_state(void **state)
{
    (void)state;
    load_library();
    assert_true(fails_with_own_reason(UNUSED_HANDLE_BASE));
    rendezvous rv;
    rendezvous_init(&rv, 2);
    pair_worker a = {.rv = &rv, .handle = UNUSED_HANDLE_BASE + 1};
    pair_worker b = {.rv = &rv, .handle = UNUSED_HANDLE_BASE + 2};
    u2c_thread ta, tb;
    assert_int_equal(u2c_thread_start(&ta, pair_worker_main, &a), 0);
    assert_int_equal(u2c_thread_start(&tb, pair_worker_main, &b), 0);
    u2c_thread_join(&ta);
    u2c_thread_join(&tb);
    rendezvous_destroy(&rv);
    assert_true(a.met && b.met);
    assert_true(a.reason_ok);
    assert_true(b.reason_ok);
    assert_true(a.vendor_ok_before && a.vendor_ok_after);
    assert_true(b.vendor_ok_before && b.vendor_ok_after);
    /* Alive at the same time, so two distinct buffers. */
    assert_true(a.vendor_address != b.vendor_address);
    /* The main thread's reason is untouched by theirs. */
    assert_true(holds_reason_for(UNUSED_HANDLE_BASE));
    unload_library();
}

/* --- thousands of short-lived threads ----------------------------------------- */

typedef struct short_job {
    long bad_handle;
    long open_handle; /* a live channel, or 0: also exercise the wait policy */
    bool ok;
} short_job;

static void short_lived_main(void *arg)
{
    short_job *job = arg;
    bool ok = fails_with_own_reason(job->bad_handle);
    ok = ok && vendor_string_well_formed(lib.vendor_string());
    if (job->open_handle != 0) {
        canalMsg m;
        ok = ok && lib.blocking_receive(job->open_handle, &m, 1) == CANAL_ERROR_TIMEOUT;
        ok = ok && fails_with_own_reason(job->bad_handle);
    }
    job->ok = ok;
}

/* Runs `count` threads one after another; returns how many misbehaved. */
static int run_short_lived_threads(int count, long first_bad_handle, long open_handle)
{
    int failures = 0;
    for (int i = 0; i < count; i++) {
        /* Every 16th thread also waits 1 ms on a live channel. */
        short_job job = {.bad_handle = first_bad_handle + i,
                         .open_handle = i % 16 == 0 ? open_handle : 0};
        u2c_thread t;
        if (u2c_thread_start(&t, short_lived_main, &job) != 0)
            fail_msg("could not start thread %d", i);
        u2c_thread_join(&t);
        if (!job.ok)
            failures++;
    }
    return failures;
}

#if defined(_WIN32)
/* Bytes in use across every heap of the process: the CRT's (where emutls put
 * each thread's _Thread_local block) and the process heap. */
static size_t heap_bytes_in_use(void)
{
    HANDLE heaps[256];
    DWORD n = GetProcessHeaps(256, heaps);
    assert_true(n > 0 && n <= 256);
    size_t total = 0;
    for (DWORD i = 0; i < n; i++) {
        if (!HeapLock(heaps[i]))
            continue;
        PROCESS_HEAP_ENTRY e;
        memset(&e, 0, sizeof e);
        while (HeapWalk(heaps[i], &e))
            if (e.wFlags & PROCESS_HEAP_ENTRY_BUSY)
                total += e.cbData;
        HeapUnlock(heaps[i]);
    }
    return total;
}

static long long grown(size_t before, size_t after)
{
    return (long long)after - (long long)before;
}

#define SHORT_LIVED_THREADS 3000
/* A leak of one block per thread (~0.6 KB) grows the heap by ~1.8 MB over
 * 3,000 threads; without one, growth is noise from the runtimes. */
#define HEAP_GROWTH_LIMIT (256 * 1024)

static void test_short_lived_threads_leave_no_memory(void **state)
{
    (void)state;
    load_library();
    long h = lib.open("VIRTUAL0; 500", 0);
    if (h <= 0)
        fail_msg("CanalOpen(VIRTUAL0) failed: %s", lib.last_error());
    /* Warm-up: the first threads grow runtime tables that then stay. */
    assert_int_equal(run_short_lived_threads(100, UNUSED_HANDLE_BASE, h), 0);
    size_t heap_before = heap_bytes_in_use();
    int failures = run_short_lived_threads(SHORT_LIVED_THREADS, UNUSED_HANDLE_BASE + 100, h);
    size_t heap_after = heap_bytes_in_use();
    print_message("%d short-lived threads: heap in use grew by %lld bytes\n", SHORT_LIVED_THREADS,
                  grown(heap_before, heap_after));
    assert_int_equal(failures, 0);
    assert_int_equal(lib.close(h), CANAL_ERROR_SUCCESS);
    unload_library();
    if (grown(heap_before, heap_after) > HEAP_GROWTH_LIMIT)
        fail_msg("heap grew by %lld bytes over %d threads (limit %d)",
                 grown(heap_before, heap_after), SHORT_LIVED_THREADS, HEAP_GROWTH_LIMIT);
}
#else
/* Linux frees _Thread_local storage at thread exit; here only the behaviour
 * of a thread's first call is checked, in a few hundred fresh threads. */
static void test_short_lived_threads_behave(void **state)
{
    (void)state;
    load_library();
    long h = lib.open("VIRTUAL0; 500", 0);
    if (h <= 0)
        fail_msg("CanalOpen(VIRTUAL0) failed: %s", lib.last_error());
    assert_int_equal(run_short_lived_threads(300, UNUSED_HANDLE_BASE, h), 0);
    assert_int_equal(lib.close(h), CANAL_ERROR_SUCCESS);
    unload_library();
}
#endif

/* --- unloading the library while threads that used it live on ------------ */

#define PARKED_THREADS 128
/* A thread that outlives an unload with its block still allocated leaks it
 * (measured with _Thread_local, 128 threads and two unloads: 167 KB on x86,
 * 204 KB on x64); freed blocks leave only the loader's few hundred bytes. */
#define UNLOAD_GROWTH_LIMIT (16 * 1024)

/* Steps the main thread moves its parked workers through. */
typedef struct stage {
    u2c_mutex lock;
    u2c_cond cond;
    int step;
    int arrived; /* workers done with the current step */
} stage;

static bool stage_wait_for_step(stage *s, int step)
{
    u2c_mutex_lock(&s->lock);
    uint64_t deadline = u2c_deadline_after_ms(20000);
    while (s->step < step && u2c_cond_wait_until(&s->cond, &s->lock, deadline)) {
    }
    bool reached = s->step >= step;
    u2c_mutex_unlock(&s->lock);
    return reached;
}

static void stage_arrive(stage *s)
{
    u2c_mutex_lock(&s->lock);
    s->arrived++;
    u2c_cond_broadcast(&s->cond);
    u2c_mutex_unlock(&s->lock);
}

static bool stage_wait_for_all(stage *s, int count)
{
    u2c_mutex_lock(&s->lock);
    uint64_t deadline = u2c_deadline_after_ms(20000);
    while (s->arrived < count && u2c_cond_wait_until(&s->cond, &s->lock, deadline)) {
    }
    bool all = s->arrived >= count;
    u2c_mutex_unlock(&s->lock);
    return all;
}

static void stage_advance(stage *s)
{
    u2c_mutex_lock(&s->lock);
    s->step++;
    s->arrived = 0;
    u2c_cond_broadcast(&s->cond);
    u2c_mutex_unlock(&s->lock);
}

typedef struct parked_worker {
    stage *stage;
    long handle;
    bool ok_first_load, ok_second_load;
} parked_worker;

/* Calls the library once per load, idles while it is unloaded, and exits
 * after the last unload without touching it again. */
static void parked_main(void *arg)
{
    parked_worker *w = arg;
    w->ok_first_load = fails_with_own_reason(w->handle);
    stage_arrive(w->stage);
    if (stage_wait_for_step(w->stage, 2)) {
        w->ok_second_load = fails_with_own_reason(w->handle + PARKED_THREADS);
        stage_arrive(w->stage);
    }
    stage_wait_for_step(w->stage, 3);
}

static void expect_unloaded(void)
{
#if defined(_WIN32)
    /* Really gone, so the threads' blocks must have been freed by now. */
    assert_null(GetModuleHandleA(library_path));
#endif
}

static void test_unload_with_threads_alive(void **state)
{
    (void)state;
#if defined(_WIN32)
    size_t heap_before = heap_bytes_in_use();
#endif
    stage st = {.step = 1};
    u2c_mutex_init(&st.lock);
    u2c_cond_init(&st.cond);
    parked_worker workers[PARKED_THREADS];
    u2c_thread threads[PARKED_THREADS];

    load_library();
    for (int i = 0; i < PARKED_THREADS; i++) {
        workers[i] = (parked_worker){.stage = &st, .handle = UNUSED_HANDLE_BASE + 10000 + i};
        assert_int_equal(u2c_thread_start(&threads[i], parked_main, &workers[i]), 0);
    }
    assert_true(stage_wait_for_all(&st, PARKED_THREADS));
    unload_library();
    expect_unloaded();

    /* Loaded again: the same threads, the main thread and fresh threads get
     * their own state again. */
    load_library();
    stage_advance(&st);
    assert_true(stage_wait_for_all(&st, PARKED_THREADS));
    assert_true(fails_with_own_reason(UNUSED_HANDLE_BASE + 20000));
    assert_int_equal(run_short_lived_threads(4, UNUSED_HANDLE_BASE + 20001, 0), 0);
    unload_library();
    expect_unloaded();

    stage_advance(&st);
    for (int i = 0; i < PARKED_THREADS; i++) {
        u2c_thread_join(&threads[i]);
        assert_true(workers[i].ok_first_load);
        assert_true(workers[i].ok_second_load);
    }
    u2c_cond_destroy(&st.cond);
    u2c_mutex_destroy(&st.lock);
#if defined(_WIN32)
    long long growth = grown(heap_before, heap_bytes_in_use());
    print_message("%d threads alive across two unloads: heap in use grew by %lld bytes\n",
                  PARKED_THREADS, growth);
    if (growth > UNLOAD_GROWTH_LIMIT)
        fail_msg("heap grew by %lld bytes (limit %d)", growth, UNLOAD_GROWTH_LIMIT);
#endif
}

int main(int argc, char **argv)
{
    if (argc > 1)
        library_path = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_thread_sees_its_own_state),
#if defined(_WIN32)
        cmocka_unit_test(test_short_lived_threads_leave_no_memory),
#else
        cmocka_unit_test(test_short_lived_threads_behave),
#endif
        cmocka_unit_test(test_unload_with_threads_alive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
