/* The libusb session of usb2can.dll on Windows: its event thread runs above
 * normal priority, and while the session idles after the last channel (or
 * failed open) the DLL stays loaded through FreeLibrary, then the idle
 * thread ends the session and lets the DLL go. Under Wine no adapter is
 * found, but CanalOpen of a serial starts a session all the same. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <windows.h>
#include <tlhelp32.h>

#include "canal.h"

typedef long(CANAL_CALL *open_fn)(const char *, unsigned long);

/* How many threads of this process run at THREAD_PRIORITY_ABOVE_NORMAL. */
static int threads_above_normal(void)
{
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
    if (snap == INVALID_HANDLE_VALUE)
        return -1;
    int n = 0;
    THREADENTRY32 te = {.dwSize = sizeof te};
    for (BOOL more = Thread32First(snap, &te); more; more = Thread32Next(snap, &te)) {
        if (te.th32OwnerProcessID != GetCurrentProcessId())
            continue;
        HANDLE t = OpenThread(THREAD_QUERY_INFORMATION, FALSE, te.th32ThreadID);
        if (t == NULL)
            continue;
        if (GetThreadPriority(t) == THREAD_PRIORITY_ABOVE_NORMAL)
            n++;
        CloseHandle(t);
    }
    CloseHandle(snap);
    return n;
}

static void test_idle_session_keeps_the_dll_then_lets_it_go(void **state)
{
    (void)state;
    assert_int_equal(threads_above_normal(), 0);
    HMODULE dll = LoadLibraryA("usb2can.dll");
    assert_non_null(dll);
    open_fn canal_open = (open_fn)(void (*)(void))GetProcAddress(dll, "CanalOpen");
    assert_non_null(canal_open);
    assert_int_equal(canal_open("ED000200;500", 0), 0); /* no adapter under Wine */
    /* The session's event thread idles, above normal priority. */
    assert_int_equal(threads_above_normal(), 1);
    FreeLibrary(dll);
    /* Still loaded: the idle session holds it. */
    assert_non_null(GetModuleHandleA("usb2can.dll"));
    /* Then the session ends (5 s idle) and the DLL goes with its thread. */
    DWORD start = GetTickCount();
    while (GetModuleHandleA("usb2can.dll") != NULL && GetTickCount() - start < 10000)
        Sleep(50);
    assert_null(GetModuleHandleA("usb2can.dll"));
    assert_int_equal(threads_above_normal(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_session_keeps_the_dll_then_lets_it_go),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
