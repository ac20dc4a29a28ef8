/*
 * Win32 half of osal.h. Bounded condition waits and sleeps end on a
 * high-resolution waitable timer instead of the system tick (win_timers.h):
 * a timed waiter registers its thread's wake event with the condition,
 * arms its thread's timer for the deadline and waits for either; signal
 * and broadcast wake the condition variable and set the registered events.
 */
#include "osal.h"

#include <stdlib.h>
#include <string.h>

#include "thread_box.h"
#include "thread_state.h"
#include "win_timers.h"

uint64_t u2c_now_ns(void)
{
    static LARGE_INTEGER freq; /* set once; QueryPerformanceFrequency is constant */
    LARGE_INTEGER now;
    if (freq.QuadPart == 0)
        QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&now);
    uint64_t sec = (uint64_t)now.QuadPart / (uint64_t)freq.QuadPart;
    uint64_t rem = (uint64_t)now.QuadPart % (uint64_t)freq.QuadPart;
    return sec * 1000000000ULL + rem * 1000000000ULL / (uint64_t)freq.QuadPart;
}

/* The calls that are one Win32 call each; an SRW lock and a condition
 * variable need no destroying. */
#define FORWARD U2C_OSAL_FORWARD
FORWARD(mutex_init, u2c_mutex, InitializeSRWLock(&x->lock))
FORWARD(mutex_destroy, u2c_mutex, (void)x)
FORWARD(mutex_lock, u2c_mutex, AcquireSRWLockExclusive(&x->lock))
FORWARD(mutex_unlock, u2c_mutex, ReleaseSRWLockExclusive(&x->lock))

void u2c_cond_init(u2c_cond *c)
{
    InitializeConditionVariable(&c->cv);
    InitializeSRWLock(&c->timed_lock);
    c->timed = NULL;
}
FORWARD(cond_destroy, u2c_cond, (void)x)
/* --- condition variables --------------------------------------------------- */

struct u2c_timed_waiter {
    u2c_timed_waiter *next;
    HANDLE wake;
    bool linked; /* still in the condition's list (cleared by the waker) */
};

/* Removes w from c's list; timed_lock held. */
static void unlink_waiter(u2c_cond *c, u2c_timed_waiter *w)
{
    for (u2c_timed_waiter **p = &c->timed; *p != NULL; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            break;
        }
    }
    w->linked = false;
}

void u2c_cond_signal(u2c_cond *c)
{
    WakeConditionVariable(&c->cv);
    AcquireSRWLockExclusive(&c->timed_lock);
    u2c_timed_waiter *w = c->timed;
    if (w != NULL) {
        c->timed = w->next;
        w->linked = false;
        SetEvent(w->wake);
    }
    ReleaseSRWLockExclusive(&c->timed_lock);
}

void u2c_cond_broadcast(u2c_cond *c)
{
    WakeAllConditionVariable(&c->cv);
    AcquireSRWLockExclusive(&c->timed_lock);
    for (u2c_timed_waiter *w = c->timed; w != NULL; w = w->next) {
        w->linked = false;
        SetEvent(w->wake);
    }
    c->timed = NULL;
    ReleaseSRWLockExclusive(&c->timed_lock);
}

/* Waits for a signal or the deadline on the thread's precise timer. */
static void precise_wait(u2c_cond *c, u2c_mutex *m, HANDLE timer, HANDLE wake)
{
    u2c_timed_waiter self = {.next = NULL, .wake = wake, .linked = true};
    AcquireSRWLockExclusive(&c->timed_lock);
    u2c_timed_waiter **tail = &c->timed;
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = &self; /* first come, first signalled */
    ReleaseSRWLockExclusive(&c->timed_lock);

    ReleaseSRWLockExclusive(&m->lock);
    HANDLE objects[2] = {wake, timer};
    DWORD why = WaitForMultipleObjects(2, objects, FALSE, INFINITE);
    AcquireSRWLockExclusive(&m->lock);

    AcquireSRWLockExclusive(&c->timed_lock);
    if (self.linked)
        unlink_waiter(c, &self);
    else if (why != WAIT_OBJECT_0)
        WaitForSingleObject(wake, 0); /* a waker set it after the timer fired: consume */
    ReleaseSRWLockExclusive(&c->timed_lock);
}

bool u2c_cond_wait_until(u2c_cond *c, u2c_mutex *m, uint64_t deadline_ns)
{
    if (deadline_ns == U2C_DEADLINE_NEVER) {
        SleepConditionVariableSRW(&c->cv, &m->lock, INFINITE, 0);
        return true;
    }
    uint64_t now = u2c_now_ns();
    if (now >= deadline_ns)
        return false;
    const u2c_win_timers *timers = u2c_win_timers_current();
    HANDLE timer, wake;
    if (u2c_win_wait_objects(timers, &timer, &wake) && u2c_win_timer_arm(timer, now, deadline_ns)) {
        precise_wait(c, m, timer, wake);
    } else {
        u2c_win_fine_period_hold(timers);
        timers->sleep_cv(&c->cv, &m->lock, u2c_win_ms_until(now, deadline_ns));
        u2c_win_fine_period_release(timers);
    }
    return u2c_now_ns() < deadline_ns;
}

static DWORD WINAPI thread_trampoline(LPVOID box)
{
    u2c_thread_box_run(box);
    return 0;
}

int u2c_thread_start(u2c_thread *t, u2c_thread_fn fn, void *arg)
{
    u2c_thread_box *box = u2c_thread_box_new(fn, arg);
    if (box == NULL)
        return -1;
    /* CreateThread, not _beginthreadex: a thread of the library may end in
     * FreeLibraryAndExitThread (u2c_thread_exit_unpin), and under UCRT
     * _beginthreadex takes a reference on the module that started it that
     * only its own thread end drops, so the DLL would never unload. The CRT
     * the library uses (msvcrt.dll or UCRT) sets up per-thread data on
     * first use in any thread and frees it when the thread ends. */
    HANDLE h = CreateThread(NULL, 0, thread_trampoline, box, 0, NULL);
    if (h == NULL) {
        free(box);
        return -1;
    }
    t->handle = h;
    return 0;
}

void u2c_thread_join(u2c_thread *t)
{
    WaitForSingleObject(t->handle, INFINITE);
    CloseHandle(t->handle);
    t->handle = NULL;
}

void u2c_thread_raise_priority(void)
{
    SetThreadPriority(GetCurrentThread(), THREAD_PRIORITY_ABOVE_NORMAL);
}

void *u2c_module_pin(void)
{
    HMODULE module = NULL;
    if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS,
                            (LPCWSTR)(uintptr_t)&u2c_module_pin, &module))
        return NULL;
    return module;
}

void u2c_module_unpin(void *pin)
{
    if (pin != NULL)
        FreeLibrary(pin);
}

typedef BOOLEAN(NTAPI *shutdown_query_fn)(void);

bool u2c_process_exiting(void)
{
    /* ntdll is always loaded; the lookup takes no lock another thread
     * could have left held. */
    shutdown_query_fn query = (shutdown_query_fn)(void (*)(void))GetProcAddress(
        GetModuleHandleW(L"ntdll.dll"), "RtlDllShutdownInProgress");
    return query != NULL && query();
}

void u2c_thread_detach(u2c_thread *t)
{
    CloseHandle(t->handle);
    t->handle = NULL;
}

void u2c_thread_exit_unpin(void *pin)
{
    if (pin != NULL)
        FreeLibraryAndExitThread(pin, 0);
    ExitThread(0);
}

void u2c_sleep_ms(unsigned ms)
{
    if (ms == 0) {
        Sleep(0);
        return;
    }
    uint64_t now = u2c_now_ns();
    uint64_t deadline = now + (uint64_t)ms * 1000000ULL;
    const u2c_win_timers *timers = u2c_win_timers_current();
    HANDLE timer, wake;
    if (u2c_win_wait_objects(timers, &timer, &wake) && u2c_win_timer_arm(timer, now, deadline)) {
        WaitForSingleObject(timer, INFINITE);
        return;
    }
    u2c_win_fine_period_hold(timers);
    timers->sleep(ms);
    u2c_win_fine_period_release(timers);
}
