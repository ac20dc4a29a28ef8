#include "keep_loaded.h"

#include "osal.h"

static struct {
    u2c_mutex lock; /* guards everything below */
    unsigned holds;
#if defined(_WIN32)
    HMODULE module; /* the DLL itself; NULL when linked into a program */
    HMODULE held;   /* the extra reference, while one is held */
#endif
} g = {.lock = U2C_MUTEX_INITIALIZER};

#if defined(_WIN32)

/* Runs in the DLL, which its reference keeps mapped until the call below
 * has left the DLL's code for good. */
static DWORD WINAPI drop_reference(LPVOID module)
{
    FreeLibraryAndExitThread((HMODULE)module, 0);
}

void u2c_keep_loaded_set_module(void *module)
{
    u2c_mutex_lock(&g.lock);
    g.module = (HMODULE)module;
    u2c_mutex_unlock(&g.lock);
}

/* Lock held. */
static void take_reference(void)
{
    HMODULE self = NULL;
    if (g.module == NULL || g.held != NULL)
        return;
    if (GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, (LPCWSTR)(void *)g.module,
                           &self))
        g.held = self;
}

/* Lock held. */
static void give_reference_back(void)
{
    if (g.held == NULL)
        return;
    HANDLE thread = CreateThread(NULL, 0, drop_reference, g.held, 0, NULL);
    if (thread == NULL)
        return; /* stay loaded: never unmap code a thread may still run */
    CloseHandle(thread);
    g.held = NULL;
}

#else

void u2c_keep_loaded_set_module(void *module)
{
    (void)module;
}

static void take_reference(void) {}

static void give_reference_back(void) {}

#endif

void u2c_keep_loaded_hold(void)
{
    u2c_mutex_lock(&g.lock);
    if (g.holds++ == 0)
        take_reference();
    u2c_mutex_unlock(&g.lock);
}

void u2c_keep_loaded_drop(void)
{
    u2c_mutex_lock(&g.lock);
    if (g.holds > 0 && --g.holds == 0)
        give_reference_back();
    u2c_mutex_unlock(&g.lock);
}

unsigned u2c_keep_loaded_count(void)
{
    u2c_mutex_lock(&g.lock);
    unsigned n = g.holds;
    u2c_mutex_unlock(&g.lock);
    return n;
}
