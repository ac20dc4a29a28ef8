#if defined(_WIN32)
#include "osal.h"

#include <process.h>
#include <stdlib.h>

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

void u2c_mutex_init(u2c_mutex *m)
{
    InitializeSRWLock(&m->lock);
}
void u2c_mutex_destroy(u2c_mutex *m)
{
    (void)m;
}
void u2c_mutex_lock(u2c_mutex *m)
{
    AcquireSRWLockExclusive(&m->lock);
}
void u2c_mutex_unlock(u2c_mutex *m)
{
    ReleaseSRWLockExclusive(&m->lock);
}

void u2c_cond_init(u2c_cond *c)
{
    InitializeConditionVariable(&c->cv);
}
void u2c_cond_destroy(u2c_cond *c)
{
    (void)c;
}
void u2c_cond_signal(u2c_cond *c)
{
    WakeConditionVariable(&c->cv);
}
void u2c_cond_broadcast(u2c_cond *c)
{
    WakeAllConditionVariable(&c->cv);
}

bool u2c_cond_wait_until(u2c_cond *c, u2c_mutex *m, uint64_t deadline_ns)
{
    DWORD ms = INFINITE;
    if (deadline_ns != U2C_DEADLINE_NEVER) {
        uint64_t now = u2c_now_ns();
        if (now >= deadline_ns)
            return false;
        /* Round up: Windows may wake a little early, the caller re-checks. */
        uint64_t wait = (deadline_ns - now + 999999ULL) / 1000000ULL;
        ms = wait >= INFINITE ? INFINITE - 1 : (DWORD)wait;
    }
    SleepConditionVariableSRW(&c->cv, &m->lock, ms, 0);
    return deadline_ns == U2C_DEADLINE_NEVER || u2c_now_ns() < deadline_ns;
}

struct thread_start {
    u2c_thread_fn fn;
    void *arg;
};

static unsigned __stdcall thread_trampoline(void *p)
{
    struct thread_start start = *(struct thread_start *)p;
    free(p);
    start.fn(start.arg);
    return 0;
}

int u2c_thread_start(u2c_thread *t, u2c_thread_fn fn, void *arg)
{
    struct thread_start *start = malloc(sizeof *start);
    if (!start)
        return -1;
    start->fn = fn;
    start->arg = arg;
    uintptr_t h = _beginthreadex(NULL, 0, thread_trampoline, start, 0, NULL);
    if (h == 0) {
        free(start);
        return -1;
    }
    t->handle = (HANDLE)h;
    return 0;
}

void u2c_thread_join(u2c_thread *t)
{
    WaitForSingleObject(t->handle, INFINITE);
    CloseHandle(t->handle);
    t->handle = NULL;
}

void u2c_sleep_ms(unsigned ms)
{
    Sleep(ms);
}
#else
typedef int osal_win32_unused; /* ISO C forbids an empty translation unit */
#endif
