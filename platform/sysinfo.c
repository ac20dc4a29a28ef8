#include "sysinfo.h"

#include <stdio.h>

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

typedef LONG(NTAPI *get_version_fn)(OSVERSIONINFOW *info);
typedef const char *(CDECL *wine_version_fn)(void);
typedef void(CDECL *wine_host_fn)(const char **sysname, const char **release);
typedef LONG(NTAPI *timer_resolution_fn)(ULONG *coarsest, ULONG *finest, ULONG *current);

/* An ntdll export as a function pointer of the caller's type. */
static void *ntdll_function(const char *name)
{
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    return ntdll ? (void *)GetProcAddress(ntdll, name) : NULL;
}

static const char *machine_name(void)
{
    SYSTEM_INFO si;
    GetNativeSystemInfo(&si);
    switch (si.wProcessorArchitecture) {
    case PROCESSOR_ARCHITECTURE_AMD64:
        return "x64";
    case PROCESSOR_ARCHITECTURE_INTEL:
        return "x86";
    case PROCESSOR_ARCHITECTURE_ARM64:
        return "ARM64";
    default:
        return "unknown architecture";
    }
}

void u2c_sysinfo_os(char *out, size_t size)
{
    /* RtlGetVersion tells the truth; GetVersionEx answers what the
     * program's manifest asks for. */
    get_version_fn get_version = (get_version_fn)ntdll_function("RtlGetVersion");
    OSVERSIONINFOW v = {.dwOSVersionInfoSize = sizeof v};
    char wine[96] = "";
    wine_version_fn wine_version = (wine_version_fn)ntdll_function("wine_get_version");
    wine_host_fn wine_host = (wine_host_fn)ntdll_function("wine_get_host_version");
    if (wine_version != NULL) {
        const char *sysname = "?", *release = "?";
        if (wine_host != NULL)
            wine_host(&sysname, &release);
        snprintf(wine, sizeof wine, "; Wine %s on %s %s", wine_version(), sysname, release);
    }
    if (get_version == NULL || get_version(&v) != 0) {
        snprintf(out, size, "Windows, version unknown (RtlGetVersion failed) (%s)%s",
                 machine_name(), wine);
        return;
    }
    snprintf(out, size, "Windows %lu.%lu.%lu (%s, %d-bit process)%s",
             (unsigned long)v.dwMajorVersion, (unsigned long)v.dwMinorVersion,
             (unsigned long)v.dwBuildNumber, machine_name(), (int)(sizeof(void *) * 8), wine);
}

void u2c_sysinfo_timer(char *out, size_t size)
{
    LARGE_INTEGER freq;
    QueryPerformanceFrequency(&freq);
    double counter_mhz = (double)freq.QuadPart / 1e6;
    timer_resolution_fn query = (timer_resolution_fn)ntdll_function("NtQueryTimerResolution");
    ULONG coarsest = 0, finest = 0, current = 0; /* 100 ns units */
    if (query == NULL || query(&coarsest, &finest, &current) != 0 || current == 0) {
        snprintf(out, size,
                 "timer resolution unknown (NtQueryTimerResolution failed); "
                 "performance counter %.3f MHz",
                 counter_mhz);
        return;
    }
    snprintf(out, size,
             "timer resolution in effect %.3f ms (finest %.3f ms, coarsest %.3f ms); "
             "performance counter %.3f MHz",
             current / 1e4, finest / 1e4, coarsest / 1e4, counter_mhz);
}

#else
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <time.h>

void u2c_sysinfo_os(char *out, size_t size)
{
    struct utsname u;
    if (uname(&u) != 0) {
        snprintf(out, size, "unknown (uname failed)");
        return;
    }
    snprintf(out, size, "%s %s (%s, %d-bit process)", u.sysname, u.release, u.machine,
             (int)(sizeof(void *) * 8));
}

void u2c_sysinfo_timer(char *out, size_t size)
{
    struct timespec res;
    char clock[64] = "monotonic clock resolution unknown";
    if (clock_getres(CLOCK_MONOTONIC, &res) == 0)
        snprintf(clock, sizeof clock, "monotonic clock resolution %ld ns",
                 (long)res.tv_sec * 1000000000L + res.tv_nsec);
#if defined(PR_GET_TIMERSLACK)
    int slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    if (slack >= 0) {
        snprintf(out, size, "%s; timer slack %d us", clock, slack / 1000);
        return;
    }
#endif
    snprintf(out, size, "%s; timer slack unknown", clock);
}

#endif
