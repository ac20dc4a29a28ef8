/*
 * The shared library's entry point. Deliberately does nothing: libusb, threads
 * and devices are set up by the first CanalOpen and torn down by the last
 * CanalClose, never under the loader lock.
 */
#if defined(_WIN32)
#include <windows.h>

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved);

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    (void)reserved;
    if (reason == DLL_PROCESS_ATTACH)
        DisableThreadLibraryCalls(instance);
    return TRUE;
}
#else
typedef int dllmain_unused; /* ISO C forbids an empty translation unit */
#endif
