#include "keep_loaded.h"

#include "osal.h"

static struct {
    u2c_mutex lock; /* guards everything below */
    unsigned holds;
#if defined(_WIN32)
    HMODULE module; /* the DLL itself; NULL when linked into a program */
    HMODULE held;   /* the extra reference, while one is held */
#endif
} keep_loaded = {.lock = U2C_MUTEX_INITIALIZER};

#if defined(_WIN32)

/* Runs in the DLL, which its reference keeps mapped until the call below
 * has left the DLL's code for good. */
static DWORD WINAPI drop_reference(LPVOID module)
{
    FreeLibraryAndExitThread((HMODULE)module, 0);
}

void u2c_keep_loaded_set_module(void *module)
{
    u2c_mutex_lock(&keep_loaded.lock);
    keep_loaded.module = (HMODULE)module;
    u2c_mutex_unlock(&keep_loaded.lock);
}

/* Lock held. */
static void take_reference(void)
{
    HMODULE self = NULL;
    if (keep_loaded.module == NULL || keep_loaded.held != NULL)
        return;
    if (GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS,
                           (LPCWSTR)(void *)keep_loaded.module, &self))
        keep_loaded.held = self;
}

/* Lock held. */
static void give_reference_back(void)
{
    if (keep_loaded.held == NULL)
        return;
    HANDLE thread = CreateThread(NULL, 0, drop_reference, keep_loaded.held, 0, NULL);
    if (thread == NULL)
        return; /* stay loaded: never unmap code a thread may still run */
    CloseHandle(thread);
    keep_loaded.held = NULL;
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
    u2c_mutex_lock(&keep_loaded.lock);
    if (keep_loaded.holds++ == 0)
        take_reference();
    u2c_mutex_unlock(&keep_loaded.lock);
}

void u2c_keep_loaded_drop(void)
{
    u2c_mutex_lock(&keep_loaded.lock);
    if (keep_loaded.holds > 0 && --keep_loaded.holds == 0)
        give_reference_back();
    u2c_mutex_unlock(&keep_loaded.lock);
}

unsigned u2c_keep_loaded_count(void)
{
    return u2c_locked_read(&keep_loaded.lock, &keep_loaded.holds);
}
