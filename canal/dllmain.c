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
 * - POSIX: a destructor closes every channel the program left open when
 *   libusb2can.so is unloaded (dlclose) or the process exits, so no thread
 *   of the library runs once its code is unmapped.
 */
#include "canal_api.h"
#include "keep_loaded.h"

/* How long unloading waits for callers still inside a call on a channel
 * (a blocked call is woken at once; this only bounds a stuck caller). */
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
