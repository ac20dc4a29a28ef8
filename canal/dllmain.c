/*
 * The shared library's entry and exit. libusb, threads and devices are set
 * up by the first CanalOpen and torn down by the last CanalClose, never
 * under the loader lock. What happens here:
 * - Windows: DllMain names the module to keep_loaded.h (an open channel
 *   keeps the DLL loaded through FreeLibrary) and, on FreeLibrary, frees the
 *   per-thread blocks of threads that outlive the DLL (thread_state.h). It
 *   does not call DisableThreadLibraryCalls: the DLL has static TLS (MinGW's
 *   TLS support is always linked in), and for such a DLL Windows refuses
 *   that call, so thread attach and detach notifications arrive anyway; they
 *   return at once.
 * - POSIX: a destructor closes every channel the program left open and no
 *   call is inside when libusb2can.so is unloaded (dlclose) or the process
 *   exits, which joins the library's threads before its code is unmapped.
 *   A channel a thread is blocked in (say CanalBlockingReceive with no
 *   timeout) is left alone, never woken: the destructor cannot tell exit
 *   from dlclose, and at exit waking that thread would run the program's
 *   code again while it ends (a worker's exit(7) could end with another
 *   status). At dlclose such a thread is inside code being unmapped, which
 *   only the host can avoid (close first).
 */
#include "canal_api.h"
#include "keep_loaded.h"

/* Bounds the closes at unload (they take only channels no call is inside). */
#define UNLOAD_WAIT_MS 5000ul

#if defined(_WIN32)
#include <windows.h>

#include "thread_state.h"

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved);

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    if (reason == DLL_PROCESS_ATTACH)
        u2c_keep_loaded_set_module(instance);
    /* Only on FreeLibrary, which cannot happen while a channel is open (see
     * keep_loaded.h): at process exit the other threads are already gone,
     * possibly holding the heap lock, and the memory goes anyway. */
    if (reason == DLL_PROCESS_DETACH && reserved == NULL)
        u2c_thread_state_unload();
    return TRUE;
}
#else
static void close_channels_at_unload(void) __attribute__((destructor));
static void close_channels_at_unload(void)
{
    (void)u2c_api_close_all(UNLOAD_WAIT_MS);
}
#endif
