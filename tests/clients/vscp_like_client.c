/*
 * vscp_like_client.c — a CANAL host written the way VSCP's loaders are
 * (vscpd's device thread, VSCP Works' CANAL device interface), knowing
 * nothing of this project: no canal.h, its own canalMsg with unsigned long
 * fields, its own __stdcall (WINAPI) function-pointer types.
 *
 * Contract: loads the library by name (LoadLibrary("usb2can.dll") from the
 * program's folder on Windows; dlopen(argv[1], default "libusb2can.so")
 * elsewhere), resolves the 13 mandatory CANAL names and the 3
 * "generation 2" ones, requires generation 2, checks that
 * CanalGetDriverInfo() is well-formed XML with one root <config>, then
 * opens VIRTUAL0 and VIRTUAL1 and moves 10,000 frames: a sender thread
 * calls CanalBlockingSend(h, &m, 300) as vscpd does, the main thread polls
 * CanalBlockingReceive(h, &m, 50) until every frame has arrived. Exits 0
 * only when count, order and every byte match; prints why otherwise.
 *
 * Being an outside program, it uses LoadLibrary/CreateThread and
 * dlopen/pthreads directly rather than the library's osal.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xml_check.h"

#if defined(_WIN32)
#include <windows.h>
#else
#include <dlfcn.h>
#include <pthread.h>
#define WINAPI
#endif

/* The message as VSCP's canal.h declares it. */
typedef struct {
    unsigned long flags;
    unsigned long obid;
    unsigned long id;
    unsigned char sizeData;
    unsigned char data[8];
    unsigned long timestamp;
} client_msg;

typedef struct {
    unsigned long cntReceiveFrames;
    unsigned long cntTransmitFrames;
    unsigned long cntReceiveData;
    unsigned long cntTransmitData;
    unsigned long cntOverruns;
    unsigned long cntBusWarnings;
    unsigned long cntBusOff;
} client_statistics;

#define CLIENT_IDFLAG_EXTENDED 0x00000001UL
#define CLIENT_IDFLAG_RTR 0x00000002UL
#define CLIENT_IDFLAG_STATUS 0x00000004UL
#define CLIENT_ERROR_SUCCESS 0
#define CLIENT_ERROR_FIFO_EMPTY 8
#define CLIENT_ERROR_TIMEOUT 32
#define CLIENT_LEVEL_STANDARD 1

/* Loader typedefs as in VSCP's canaldlldef.h: __stdcall on Windows. */
typedef long(WINAPI *fn_open)(const char *config, unsigned long flags);
typedef int(WINAPI *fn_close)(long handle);
typedef unsigned long(WINAPI *fn_get_level)(long handle);
typedef int(WINAPI *fn_send)(long handle, client_msg *msg);
typedef int(WINAPI *fn_receive)(long handle, client_msg *msg);
typedef int(WINAPI *fn_data_available)(long handle);
typedef int(WINAPI *fn_get_status)(long handle, void *status);
typedef int(WINAPI *fn_get_statistics)(long handle, client_statistics *statistics);
typedef int(WINAPI *fn_set_filter)(long handle, unsigned long filter);
typedef int(WINAPI *fn_set_mask)(long handle, unsigned long mask);
typedef unsigned long(WINAPI *fn_get_version)(void);
typedef unsigned long(WINAPI *fn_get_dll_version)(void);
typedef const char *(WINAPI *fn_get_vendor_string)(void);
typedef int(WINAPI *fn_blocking_send)(long handle, client_msg *msg, unsigned long timeout);
typedef int(WINAPI *fn_blocking_receive)(long handle, client_msg *msg, unsigned long timeout);
typedef const char *(WINAPI *fn_get_driver_info)(void);

typedef struct canal_driver {
    fn_open open;
    fn_close close;
    fn_get_level get_level;
    fn_send send;
    fn_data_available data_available;
    fn_receive receive;
    fn_get_status get_status;
    fn_get_statistics get_statistics;
    fn_set_filter set_filter;
    fn_set_mask set_mask;
    fn_get_version get_version;
    fn_get_dll_version get_dll_version;
    fn_get_vendor_string get_vendor_string;
    fn_blocking_send blocking_send;       /* generation 2 */
    fn_blocking_receive blocking_receive; /* generation 2 */
    fn_get_driver_info get_driver_info;   /* generation 2 */
    int generation;
} canal_driver;

#define FRAME_COUNT 10000
#define SEND_TIMEOUT_MS 300
#define POLL_TIMEOUT_MS 50
#define TRANSFER_DEADLINE_S 60.0

static int failures;

static void fail(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fputs("FAIL: ", stdout);
    vprintf(format, args);
    fputc('\n', stdout);
    va_end(args);
    failures++;
}

static double now_s(void)
{
#if defined(_WIN32)
    LARGE_INTEGER frequency, counter;
    QueryPerformanceFrequency(&frequency);
    QueryPerformanceCounter(&counter);
    return (double)counter.QuadPart / (double)frequency.QuadPart;
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
#endif
}

/* ---- loading, as vscpd does it ---------------------------------------- */

#if defined(_WIN32)
typedef HMODULE library;
static library library_open(const char *name)
{
    return LoadLibraryA(name);
}
static void *library_symbol(library lib, const char *name)
{
    return (void *)GetProcAddress(lib, name);
}
static void library_close(library lib)
{
    FreeLibrary(lib);
}
#else
typedef void *library;
static library library_open(const char *name)
{
    library lib = dlopen(name, RTLD_LAZY);
    if (!lib)
        printf("dlopen: %s\n", dlerror());
    return lib;
}
static void *library_symbol(library lib, const char *name)
{
    return dlsym(lib, name);
}
static void library_close(library lib)
{
    dlclose(lib);
}
#endif

/* Resolves one name into *slot (a function pointer of any type). */
static int resolve(library lib, const char *name, void *slot)
{
    void *symbol = library_symbol(lib, name);
    memcpy(slot, &symbol, sizeof symbol);
    return symbol != NULL;
}

static int load_driver(library lib, canal_driver *d)
{
    static const char *const mandatory_names[] = {
        "CanalOpen",           "CanalClose",   "CanalGetLevel",   "CanalSend",
        "CanalDataAvailable",  "CanalReceive", "CanalGetStatus",  "CanalGetStatistics",
        "CanalSetFilter",      "CanalSetMask", "CanalGetVersion", "CanalGetDllVersion",
        "CanalGetVendorString"};
    void *const mandatory_slots[] = {&d->open,
                                     &d->close,
                                     &d->get_level,
                                     &d->send,
                                     &d->data_available,
                                     &d->receive,
                                     &d->get_status,
                                     &d->get_statistics,
                                     &d->set_filter,
                                     &d->set_mask,
                                     &d->get_version,
                                     &d->get_dll_version,
                                     &d->get_vendor_string};
    int ok = 1;
    for (size_t i = 0; i < sizeof mandatory_names / sizeof mandatory_names[0]; i++) {
        if (!resolve(lib, mandatory_names[i], mandatory_slots[i])) {
            fail("mandatory export %s is missing: a VSCP host unloads the driver",
                 mandatory_names[i]);
            ok = 0;
        }
    }
    d->generation = 2;
    if (!resolve(lib, "CanalBlockingSend", &d->blocking_send) ||
        !resolve(lib, "CanalBlockingReceive", &d->blocking_receive) ||
        !resolve(lib, "CanalGetDriverInfo", &d->get_driver_info)) {
        printf("Probably Generation 1 driver\n");
        d->generation = 1;
    }
    return ok;
}

/* ---- the driver info: the same strict reader as the driver-info test ---- */

/* NULL when text is a well-formed document whose one root is <config>. */
static const char *xml_check(const char *text)
{
    static xml_doc doc;
    if (!xml_read(&doc, text))
        return doc.error;
    if (strcmp(doc.el[0].name, "config") != 0)
        return "the root element is not <config>";
    return NULL;
}

/* ---- the 10,000-frame exchange ----------------------------------------- */

/* Frame number i: a mix of standard, extended and RTR frames of every dlc. */
static void make_frame(unsigned i, client_msg *m)
{
    memset(m, 0, sizeof *m);
    m->sizeData = (unsigned char)(i % 9);
    if (i % 3 == 1) {
        m->flags = CLIENT_IDFLAG_EXTENDED;
        m->id = (0x12340000UL + i) & 0x1FFFFFFFUL;
    } else {
        m->id = i & 0x7FFUL;
    }
    if (i % 10 == 9) {
        m->flags |= CLIENT_IDFLAG_RTR;
        return;
    }
    for (unsigned k = 0; k < m->sizeData; k++)
        m->data[k] = (unsigned char)(i * 7 + k * 31 + (i >> 8));
}

static int same_frame(const client_msg *got, const client_msg *want)
{
    if ((got->flags & (CLIENT_IDFLAG_EXTENDED | CLIENT_IDFLAG_RTR | CLIENT_IDFLAG_STATUS)) !=
            want->flags ||
        got->id != want->id || got->sizeData != want->sizeData)
        return 0;
    if (want->flags & CLIENT_IDFLAG_RTR)
        return 1;
    return memcmp(got->data, want->data, want->sizeData) == 0;
}

typedef struct sender_job {
    const canal_driver *driver;
    long handle;
    int sent;
    int first_error;
    unsigned first_error_frame;
} sender_job;

static void run_sender(sender_job *job)
{
    for (unsigned i = 0; i < FRAME_COUNT; i++) {
        client_msg m;
        make_frame(i, &m);
        int rc = job->driver->blocking_send(job->handle, &m, SEND_TIMEOUT_MS);
        if (rc != CLIENT_ERROR_SUCCESS) {
            /* vscpd drops a frame it cannot send; the test counts it. */
            if (!job->first_error) {
                job->first_error = rc;
                job->first_error_frame = i;
            }
            continue;
        }
        job->sent++;
    }
}

#if defined(_WIN32)
static DWORD WINAPI sender_thread(LPVOID arg)
{
    run_sender(arg);
    return 0;
}
#else
static void *sender_thread(void *arg)
{
    run_sender(arg);
    return NULL;
}
#endif

static void print_frame(const char *label, const client_msg *m)
{
    printf("  %s flags=0x%lx id=0x%lx dlc=%u data=", label, m->flags, m->id, m->sizeData);
    for (int k = 0; k < 8; k++)
        printf("%02x", m->data[k]);
    printf("\n");
}

/* Polls like vscpd's receive loop until every frame is in or time runs out. */
static unsigned receive_all(const canal_driver *d, long handle, unsigned *timeouts)
{
    unsigned received = 0;
    double deadline = now_s() + TRANSFER_DEADLINE_S;
    while (received < FRAME_COUNT && now_s() < deadline) {
        client_msg got;
        memset(&got, 0xA5, sizeof got);
        int rc = d->blocking_receive(handle, &got, POLL_TIMEOUT_MS);
        if (rc == CLIENT_ERROR_TIMEOUT || rc == CLIENT_ERROR_FIFO_EMPTY) {
            (*timeouts)++;
            continue;
        }
        if (rc != CLIENT_ERROR_SUCCESS) {
            fail("CanalBlockingReceive returned %d after %u frames", rc, received);
            break;
        }
        if (got.flags & CLIENT_IDFLAG_STATUS) {
            fail("status message 0x%lx delivered although the open flags were 0", got.id);
            continue;
        }
        client_msg want;
        make_frame(received, &want);
        if (!same_frame(&got, &want)) {
            fail("frame %u differs (lost, reordered or corrupted)", received);
            print_frame("want", &want);
            print_frame("got ", &got);
            break;
        }
        received++;
    }
    return received;
}

static void exchange_frames(const canal_driver *d)
{
    long tx = d->open("VIRTUAL0;500", 0);
    long rx = d->open("VIRTUAL1;500", 0);
    if (tx <= 0 || rx <= 0) {
        fail("CanalOpen of VIRTUAL0/VIRTUAL1 returned %ld/%ld", tx, rx);
        if (tx > 0)
            d->close(tx);
        if (rx > 0)
            d->close(rx);
        return;
    }
    unsigned long level = d->get_level(rx);
    if ((unsigned char)level != CLIENT_LEVEL_STANDARD)
        fail("CanalGetLevel returned %lu, a level-1 host needs 1", level);

    sender_job job = {.driver = d, .handle = tx};
    double start = now_s();
    unsigned timeouts = 0, received = 0;
#if defined(_WIN32)
    HANDLE thread = CreateThread(NULL, 0, sender_thread, &job, 0, NULL);
    if (!thread) {
        fail("CreateThread failed");
    } else {
        received = receive_all(d, rx, &timeouts);
        WaitForSingleObject(thread, INFINITE);
        CloseHandle(thread);
    }
#else
    pthread_t thread;
    if (pthread_create(&thread, NULL, sender_thread, &job) != 0) {
        fail("pthread_create failed");
    } else {
        received = receive_all(d, rx, &timeouts);
        pthread_join(thread, NULL);
    }
#endif
    double elapsed = now_s() - start;
    printf("sent %d, received %u of %d in order in %.3f s (%.0f frames/s), %u empty polls\n",
           job.sent, received, FRAME_COUNT, elapsed, received / (elapsed > 0 ? elapsed : 1),
           timeouts);
    if (job.sent != FRAME_COUNT)
        fail("CanalBlockingSend(h, &m, %d) failed %d times, first with %d at frame %u",
             SEND_TIMEOUT_MS, FRAME_COUNT - job.sent, job.first_error, job.first_error_frame);
    if (received != FRAME_COUNT)
        fail("received %u of %d frames", received, FRAME_COUNT);

    client_statistics stats;
    memset(&stats, 0, sizeof stats);
    if (d->get_statistics(rx, &stats) == CLIENT_ERROR_SUCCESS)
        printf("receiver statistics: %lu frames, %lu overruns\n", stats.cntReceiveFrames,
               stats.cntOverruns);

    client_msg extra;
    int rc = d->receive(rx, &extra);
    if (rc == CLIENT_ERROR_SUCCESS)
        fail("a frame arrived beyond the %d sent", FRAME_COUNT);
    if (d->close(tx) != CLIENT_ERROR_SUCCESS || d->close(rx) != CLIENT_ERROR_SUCCESS)
        fail("CanalClose did not return success");
}

int main(int argc, char **argv)
{
#if defined(_WIN32)
    const char *name = "usb2can.dll"; /* by name: found next to the program */
    (void)argc;
    (void)argv;
#else
    const char *name = argc > 1 ? argv[1] : "libusb2can.so";
#endif
    setvbuf(stdout, NULL, _IONBF, 0);

    library lib = library_open(name);
    if (!lib) {
        fail("cannot load %s", name);
        return 1;
    }
    canal_driver driver;
    memset(&driver, 0, sizeof driver);
    if (!load_driver(lib, &driver)) {
        library_close(lib);
        return 1;
    }
    if (driver.generation != 2)
        fail("the driver lacks a generation-2 export; VSCP would poll it");

    if (driver.get_driver_info) {
        const char *info = driver.get_driver_info();
        const char *why = info ? xml_check(info) : "CanalGetDriverInfo returned NULL";
        if (why)
            fail("driver info is not usable XML: %s", why);
        else
            printf("CanalGetDriverInfo: %u bytes of well-formed XML, root <config>\n",
                   (unsigned)strlen(info));
    }
    const char *vendor = driver.get_vendor_string();
    printf("CanalGetVendorString: %s\n", vendor ? vendor : "(NULL)");
    if (!vendor)
        fail("CanalGetVendorString returned NULL");

    if (driver.blocking_send && driver.blocking_receive)
        exchange_frames(&driver);

    library_close(lib);
    printf("%s\n", failures ? "vscp_like_client: FAILED" : "vscp_like_client: ok");
    return failures ? 1 : 0;
}
