/*
 * The shared library's entry point. libusb, threads and devices are set up by
 * the first CanalOpen and torn down by the last CanalClose, never under the
 * loader lock; the one thing done here is freeing the per-thread blocks of
 * threads that outlive a FreeLibrary (thread_state.h).
 */
#if defined(_WIN32)
#include <windows.h>

#include "thread_state.h"

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved);

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    if (reason == DLL_PROCESS_ATTACH)
        DisableThreadLibraryCalls(instance);
    /* Only on FreeLibrary: at process exit the other threads are already
     * gone, possibly holding the heap lock, and the memory goes anyway. */
    if (reason == DLL_PROCESS_DETACH && reserved == NULL)
        u2c_thread_state_unload();
    return TRUE;
}
#else
typedef int dllmain_unused; /* ISO C forbids an empty translation unit */
#endif
