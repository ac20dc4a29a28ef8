/* Threads of the library are made with CreateThread, so one may end in
 * FreeLibraryAndExitThread (the idle libusb session does): under UCRT a
 * thread from _beginthreadex holds a reference on the module that started
 * it, which that call never drops, and the DLL would never unload. Here a
 * thread from u2c_thread_start asks Windows where it started: in the module
 * that holds u2c_thread_start (CreateThread was handed our routine), not in
 * the C runtime's DLL (whose start routine _beginthreadex hands over). It
 * then ends through u2c_thread_exit_unpin with a reference it holds on a
 * DLL, and the DLL is unloaded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <windows.h>

#include "osal.h"

/* NtQueryInformationThread's ThreadQuerySetWin32StartAddress. */
#define THREAD_WIN32_START_ADDRESS 9
typedef LONG(NTAPI *query_thread_fn)(HANDLE, int, PVOID, ULONG, PULONG);

typedef struct probe {
    HMODULE start_module; /* the module holding the thread's start address */
    char start_name[MAX_PATH];
    void *pin; /* a reference on the test DLL the thread gives back */
} probe;

static HMODULE module_of(const void *address)
{
    HMODULE m = NULL;
    GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                           GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                       (LPCWSTR)address, &m);
    return m;
}

static void ask_where_it_started(void *arg)
{
    probe *p = arg;
    query_thread_fn query = (query_thread_fn)(void (*)(void))GetProcAddress(
        GetModuleHandleA("ntdll.dll"), "NtQueryInformationThread");
    void *start = NULL;
    if (query != NULL &&
        query(GetCurrentThread(), THREAD_WIN32_START_ADDRESS, &start, sizeof start, NULL) == 0) {
        p->start_module = module_of(start);
        if (p->start_module != NULL)
            GetModuleFileNameA(p->start_module, p->start_name, sizeof p->start_name);
    }
    u2c_thread_exit_unpin(p->pin);
}

static void test_threads_start_in_our_module_and_unpin(void **state)
{
    (void)state;
    /* A DLL nothing else in the process uses, loaded once: the thread's
     * reference is the only one after our FreeLibrary. */
    HMODULE dll = LoadLibraryA("version.dll");
    assert_non_null(dll);
    probe p = {.pin = dll};
    u2c_thread t;
    assert_int_equal(u2c_thread_start(&t, ask_where_it_started, &p), 0);
    u2c_thread_join(&t);
    HMODULE ours = module_of((const void *)(uintptr_t)&u2c_thread_start);
    assert_non_null(ours);
    if (p.start_module != ours)
        fail_msg("the thread started in %s, not in the module of u2c_thread_start "
                 "(made with _beginthreadex rather than CreateThread?)",
                 p.start_module != NULL ? p.start_name : "no module");
    /* The thread gave its reference back as it ended. */
    assert_null(GetModuleHandleA("version.dll"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_start_in_our_module_and_unpin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
