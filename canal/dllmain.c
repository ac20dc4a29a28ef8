/*
 * The shared library's entry point. libusb, threads and devices are set up by
 * the first CanalOpen and torn down by the last CanalClose, never under the
 * loader lock; done here: freeing the per-thread blocks of threads that
 * outlive a FreeLibrary (thread_state.h), and elsewhere than Windows ending
 * an idle USB session when the library is unloaded (link_libusb.h; on
 * Windows that session's thread keeps the DLL loaded and ends it itself).
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
#include "link_libusb.h"

/* dlclose or process exit: an idle USB session (link_libusb.h) must not
 * keep running code that is about to be unmapped. */
static void end_usb_session_at_unload(void) __attribute__((destructor));
static void end_usb_session_at_unload(void)
{
    u2c_link_libusb_shutdown();
}
#endif
