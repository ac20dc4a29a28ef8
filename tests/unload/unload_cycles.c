/*
 * unload_cycles.c — a host that unloads the library with channels still
 * open, as plugin hosts (LabVIEW and the like) do when they unload a driver.
 *
 * Contract: CYCLES times: load the library by name, open channels on
 * virtual adapters (odd cycles: one idle handle; even cycles: two handles
 * with frames in flight both ways), unload it without closing them. Then:
 * - POSIX (dlopen/dlclose of argv[1]): dlclose closes what was left open
 *   (the library's destructor), so the library is really unmapped
 *   (RTLD_NOLOAD finds nothing) and nothing of it keeps running.
 * - Windows (LoadLibrary/FreeLibrary of usb2can.dll next to the program):
 *   FreeLibrary leaves the DLL loaded while its channels are open; they keep
 *   running for a while, the handles stay valid for the next LoadLibrary,
 *   which closes them (CanalClose == SUCCESS), and after the last
 *   FreeLibrary the DLL is unmapped.
 * Every cycle checks the process's thread and handle/descriptor counts
 * against the first cycle's and its resident memory, and the last lines
 * print them. Exits 0 only when no cycle crashed or failed a check; prints
 * FAIL lines with the reason otherwise.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canal.h"

#if defined(_WIN32)
#include <windows.h>
#include <psapi.h>
#include <tlhelp32.h>
#else
#include <dirent.h>
#include <dlfcn.h>
#include <time.h>
#include <unistd.h>
#endif

#define CYCLES 200
#define FRAMES_IN_FLIGHT 40
/* Cycles before the counts are taken as the baseline (allocator warm-up). */
#define WARMUP_CYCLES 10
/* Resident memory may grow this much over the cycles after the warm-up.
 * Sanitizer builds keep freed memory and every loaded module's shadow, so
 * there RSS is only printed (LeakSanitizer checks for leaks at exit). */
#define RSS_SLACK_BYTES (1024u * 1024u)
#if defined(U2C_UNLOAD_SANITIZED)
#define CHECK_RSS 0
#else
#define CHECK_RSS 1
#endif

typedef long(CANAL_CALL *open_fn)(const char *setup, unsigned long flags);
typedef int(CANAL_CALL *close_fn)(long handle);
typedef int(CANAL_CALL *send_fn)(long handle, const canalMsg *msg);

typedef struct api {
    open_fn open;
    close_fn close;
    send_fn send;
} api;

typedef struct counts {
    long threads;
    long handles; /* Windows handles; POSIX open descriptors */
    double rss_bytes;
} counts;

static int failures;

static void fail(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fputs("FAIL: ", stdout);
    vprintf(format, args);
    fputc('\n', stdout);
    va_end(args);
    fflush(stdout);
    failures++;
}

/* --- the platform's loader and process counters ------------------------------ */

#if defined(_WIN32)
typedef HMODULE library;
#define LIBRARY_NAME L"usb2can.dll"

static library load(const char *path)
{
    (void)path;
    return LoadLibraryW(LIBRARY_NAME);
}

static void *symbol(library lib, const char *name)
{
    return (void *)GetProcAddress(lib, name);
}

static void pause_ms(unsigned ms)
{
    Sleep(ms);
}

/* SystemHandleInformation (16): one entry per handle of every process. */
typedef struct handle_entry {
    ULONG pid;
    UCHAR type;
    UCHAR flags;
    USHORT value;
    PVOID object;
    ACCESS_MASK access;
} handle_entry;

typedef struct handle_table {
    ULONG count;
    handle_entry entries[1];
} handle_table;

typedef LONG(NTAPI *query_system_fn)(ULONG what, PVOID buffer, ULONG size, PULONG needed);

/* The process's handles: GetProcessHandleCount, or where that reports none
 * (Wine), the system's handle table. */
static long handle_count(void)
{
    DWORD n = 0;
    if (GetProcessHandleCount(GetCurrentProcess(), &n) && n > 0)
        return (long)n;
    query_system_fn query = (query_system_fn)(void *)GetProcAddress(GetModuleHandleW(L"ntdll.dll"),
                                                                    "NtQuerySystemInformation");
    if (query == NULL)
        return -1;
    long mine = -1;
    for (ULONG size = 1u << 20; size <= 1u << 26 && mine < 0; size *= 4) {
        handle_table *table = malloc(size);
        if (table == NULL)
            break;
        if (query(16, table, size, NULL) == 0) {
            mine = 0;
            for (ULONG i = 0; i < table->count; i++)
                mine += table->entries[i].pid == GetCurrentProcessId();
        }
        free(table);
    }
    return mine;
}

static counts measure(void)
{
    counts c = {0, 0, 0};
    DWORD pid = GetCurrentProcessId();
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
    if (snap != INVALID_HANDLE_VALUE) {
        THREADENTRY32 te;
        te.dwSize = sizeof te;
        for (BOOL ok = Thread32First(snap, &te); ok; ok = Thread32Next(snap, &te))
            c.threads += te.th32OwnerProcessID == pid;
        CloseHandle(snap);
    }
    c.handles = handle_count();
    PROCESS_MEMORY_COUNTERS pmc;
    if (K32GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof pmc))
        c.rss_bytes = (double)pmc.WorkingSetSize;
    return c;
}
#else
typedef void *library;

static library load(const char *path)
{
    library lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL)
        fail("dlopen(%s): %s", path, dlerror());
    return lib;
}

static void *symbol(library lib, const char *name)
{
    return dlsym(lib, name);
}

static void pause_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static long entries(const char *dir_path)
{
    long n = 0;
    DIR *dir = opendir(dir_path);
    if (dir == NULL)
        return -1;
    for (struct dirent *e = readdir(dir); e != NULL; e = readdir(dir))
        n += e->d_name[0] != '.';
    closedir(dir);
    return n - (strcmp(dir_path, "/proc/self/fd") == 0); /* the directory's own descriptor */
}

static counts measure(void)
{
    counts c = {entries("/proc/self/task"), entries("/proc/self/fd"), 0};
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f != NULL) {
        if (fscanf(f, "%lu %lu", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    c.rss_bytes = (double)resident * (double)sysconf(_SC_PAGESIZE);
    return c;
}
#endif

/* Copies a symbol into a function pointer of any type. */
static int resolve(library lib, const char *name, void *slot)
{
    void *s = symbol(lib, name);
    memcpy(slot, &s, sizeof s);
    if (s == NULL)
        fail("the library has no %s", name);
    return s != NULL;
}

static int resolve_api(library lib, api *a)
{
    return resolve(lib, "CanalOpen", &a->open) && resolve(lib, "CanalClose", &a->close) &&
           resolve(lib, "CanalSend", &a->send);
}

static long open_or_fail(const api *a, const char *setup, int cycle)
{
    long h = a->open(setup, 0);
    if (h <= 0)
        fail("cycle %d: CanalOpen(\"%s\") returned %ld", cycle, setup, h);
    return h;
}

/* Queues frames both ways: with 500 kbit/s on the virtual bus they take
 * about 10 ms to cross, so most are still in flight at the unload. */
static void send_burst(const api *a, long from, long to, int cycle)
{
    canalMsg m;
    memset(&m, 0, sizeof m);
    m.sizeData = 8;
    for (int i = 0; i < FRAMES_IN_FLIGHT; i++) {
        m.id = 0x100u + (unsigned)i;
        m.data[0] = (unsigned char)i;
        int rc1 = a->send(from, &m);
        int rc2 = a->send(to, &m);
        if (rc1 != CANAL_ERROR_SUCCESS || rc2 != CANAL_ERROR_SUCCESS) {
            fail("cycle %d: CanalSend returned %d / %d", cycle, rc1, rc2);
            return;
        }
    }
}

static counts measure(void);

/* Threads before the first load: the library's own must show up while a
 * channel is open, or the counter could not see a thread leak either. */
static long threads_before_loading;

/* Opens this cycle's channels; returns how many (0 on failure). */
static int open_channels(const api *a, int cycle, long h[2])
{
    h[0] = open_or_fail(a, "VIRTUAL0;500", cycle);
    h[1] = 0;
    if (h[0] <= 0)
        return 0;
    if (cycle == 1 && measure().threads <= threads_before_loading)
        fail("no thread of the library is counted while a channel is open");
    if (cycle % 2 == 1)
        return 1; /* one idle handle */
    h[1] = open_or_fail(a, "VIRTUAL1;500", cycle);
    if (h[1] <= 0)
        return 1;
    send_burst(a, h[0], h[1], cycle);
    return 2;
}

#if defined(_WIN32)
static int run_cycle(const char *path, int cycle)
{
    library lib = load(path);
    api a;
    if (lib == NULL) {
        fail("cycle %d: LoadLibrary(usb2can.dll) failed: error %lu", cycle, GetLastError());
        return 0;
    }
    if (!resolve_api(lib, &a))
        return 0;
    long h[2];
    int n = open_channels(&a, cycle, h);
    FreeLibrary(lib); /* with the channels open */
    if (GetModuleHandleW(LIBRARY_NAME) == NULL) {
        fail("cycle %d: FreeLibrary unloaded the DLL with %d channel(s) open", cycle, n);
        return 0;
    }
    pause_ms(20); /* its threads keep running: frames cross the bus */

    /* The handles survived the unload: a new LoadLibrary closes them. */
    library again = load(path);
    if (again != lib) {
        fail("cycle %d: LoadLibrary after FreeLibrary gave another module", cycle);
        return 0;
    }
    /* The channels survived the host's unload: the frames queued before it
     * arrive (most of them crossed meanwhile; a loaded machine may delay
     * them, so allow 2 s). */
    typedef int(CANAL_CALL * available_fn)(long handle);
    available_fn available;
    if (n == 2 && resolve(again, "CanalDataAvailable", &available)) {
        for (int waited = 0; available(h[1]) < FRAMES_IN_FLIGHT && waited < 2000; waited++)
            pause_ms(1);
        if (available(h[1]) < FRAMES_IN_FLIGHT)
            fail("cycle %d: %d of the %d frames queued before FreeLibrary arrived", cycle,
                 available(h[1]), FRAMES_IN_FLIGHT);
    }
    for (int i = 0; i < n; i++) {
        int rc = a.close(h[i]);
        if (rc != CANAL_ERROR_SUCCESS)
            fail("cycle %d: CanalClose(%ld) after the reload returned %d", cycle, h[i], rc);
    }
    FreeLibrary(again);
    /* The last close gave the DLL's own reference back on a thread of its
     * own: the DLL goes once that thread has run. */
    for (int waited = 0; GetModuleHandleW(LIBRARY_NAME) != NULL; waited++) {
        if (waited == 2000) {
            fail("cycle %d: usb2can.dll still loaded 2 s after the last close and "
                 "FreeLibrary",
                 cycle);
            return 0;
        }
        pause_ms(1);
    }
    return 1;
}
#else
static int run_cycle(const char *path, int cycle)
{
    library lib = load(path);
    api a;
    if (lib == NULL || !resolve_api(lib, &a))
        return 0;
    long h[2];
    (void)open_channels(&a, cycle, h);
    dlclose(lib); /* with the channels open */
    library still = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
    if (still != NULL) {
        fail("cycle %d: the library is still mapped after dlclose", cycle);
        dlclose(still);
        return 0;
    }
    return 1;
}
#endif

/* Waits briefly for threads on their way out (a thread's exit is not
 * synchronous with the unload on every system), then measures. */
static counts settle(long threads_expected)
{
    counts c = measure();
    for (int i = 0; i < 500 && c.threads > threads_expected; i++) {
        pause_ms(2);
        c = measure();
    }
    return c;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "libusb2can.so";
    counts before = measure();
    threads_before_loading = before.threads;
    counts first = before, baseline = before, last = before;
    double rss_max = 0;
    printf("before loading: %ld threads, %ld handles, RSS %.1f MiB\n", before.threads,
           before.handles, before.rss_bytes / 1048576.0);
    for (int cycle = 1; cycle <= CYCLES && failures == 0; cycle++) {
        if (!run_cycle(path, cycle))
            break;
        /* Windows may start threads of its own at the first load (thread
         * pools of system DLLs), and so does ThreadSanitizer's runtime at the
         * first thread: there the first cycle's count is the reference. */
        last = settle(cycle == 1 ? before.threads : first.threads);
        if (cycle == 1) {
            first = last;
#if !defined(_WIN32) && !defined(U2C_UNLOAD_SANITIZED)
            if (first.threads != before.threads)
                fail("%ld threads after the first unload, %ld before the first load", first.threads,
                     before.threads);
#endif
        } else if (last.threads != first.threads) {
            fail("cycle %d: %ld threads after the unload, %ld after the first one", cycle,
                 last.threads, first.threads);
        }
        if (cycle == WARMUP_CYCLES)
            baseline = last;
        if (cycle > WARMUP_CYCLES) {
            if (last.handles > baseline.handles || last.handles < 0)
                fail("cycle %d: %ld handles, %ld after cycle %d: handles leak", cycle, last.handles,
                     baseline.handles, WARMUP_CYCLES);
            if (last.rss_bytes > rss_max)
                rss_max = last.rss_bytes;
        }
        if (cycle % 50 == 0 || cycle == 1 || cycle == WARMUP_CYCLES)
            printf("after cycle %3d: %ld threads, %ld handles, RSS %.1f MiB\n", cycle, last.threads,
                   last.handles, last.rss_bytes / 1048576.0);
        fflush(stdout);
    }
    if (CHECK_RSS && failures == 0 && rss_max > baseline.rss_bytes + RSS_SLACK_BYTES)
        fail("RSS grew from %.1f MiB after cycle %d to %.1f MiB", baseline.rss_bytes / 1048576.0,
             WARMUP_CYCLES, rss_max / 1048576.0);
    if (failures == 0)
        printf("%d load/open/unload cycles: threads %ld -> %ld, handles %ld -> %ld, "
               "RSS %.1f -> %.1f MiB (max %.1f) from cycle %d to %d\n",
               CYCLES, baseline.threads, last.threads, baseline.handles, last.handles,
               baseline.rss_bytes / 1048576.0, last.rss_bytes / 1048576.0, rss_max / 1048576.0,
               WARMUP_CYCLES, CYCLES);
    return failures == 0 ? 0 : 1;
}
