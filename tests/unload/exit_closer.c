#include "exit_closer.h"

#include <stdio.h>
#include <windows.h>

#include "canal.h"

static long adopted;

void exit_closer_adopt(long handle)
{
    adopted = handle;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved);

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    (void)instance;
    if (reason == DLL_PROCESS_DETACH && reserved != NULL && adopted != 0) {
        DWORD t0 = GetTickCount();
        int rc = CanalClose(adopted);
        fprintf(stderr, "CanalClose from DllMain at exit: %d after %lu ms\n", rc,
                (unsigned long)(GetTickCount() - t0));
        fflush(stderr);
    }
    return TRUE;
}
