#include "win_timers.h"

#include <string.h>

#include "thread_state.h"

#ifndef CREATE_WAITABLE_TIMER_HIGH_RESOLUTION
#define CREATE_WAITABLE_TIMER_HIGH_RESOLUTION 0x00000002
#endif

static HANDLE real_create_precise_timer(void)
{
    return CreateWaitableTimerExW(
        NULL, NULL, CREATE_WAITABLE_TIMER_MANUAL_RESET | CREATE_WAITABLE_TIMER_HIGH_RESOLUTION,
        TIMER_ALL_ACCESS);
}

static BOOL real_sleep_cv(CONDITION_VARIABLE *cv, SRWLOCK *lock, DWORD ms)
{
    return SleepConditionVariableSRW(cv, lock, ms, 0);
}

static void real_sleep(DWORD ms)
{
    Sleep(ms);
}

/* timeBeginPeriod/timeEndPeriod live in winmm.dll, which is loaded only
 * where the fallback is used (no high-resolution timers): importing it
 * would load it with every load of this library, and unloading winmm does
 * not give back all it made. Called with timing.lock held; the module
 * stays loaded once loaded. */
typedef UINT(WINAPI *period_fn)(UINT);
static struct {
    bool tried;
    period_fn begin, end;
} winmm;

static void load_winmm(void)
{
    if (winmm.tried)
        return;
    winmm.tried = true;
    HMODULE module = LoadLibraryExW(L"winmm.dll", NULL, LOAD_LIBRARY_SEARCH_SYSTEM32);
    if (module == NULL) /* Windows 7 without KB2533623 lacks that flag */
        module = LoadLibraryW(L"winmm.dll");
    if (module == NULL)
        return;
    FARPROC begin = GetProcAddress(module, "timeBeginPeriod");
    FARPROC end = GetProcAddress(module, "timeEndPeriod");
    memcpy(&winmm.begin, &begin, sizeof begin);
    memcpy(&winmm.end, &end, sizeof end);
}

static void real_fine_period_begin(void)
{
    load_winmm();
    if (winmm.begin != NULL && winmm.end != NULL)
        winmm.begin(1);
}

static void real_fine_period_end(void)
{
    if (winmm.begin != NULL && winmm.end != NULL)
        winmm.end(1);
}

static const u2c_win_timers real_timers = {
    .create_precise_timer = real_create_precise_timer,
    .sleep_cv = real_sleep_cv,
    .sleep = real_sleep,
    .fine_period_begin = real_fine_period_begin,
    .fine_period_end = real_fine_period_end,
};

static struct {
    SRWLOCK lock; /* guards both fields */
    const u2c_win_timers *timers;
    unsigned fine_holders; /* fallback waits in progress; timeBeginPeriod(1) while > 0 */
} timing = {SRWLOCK_INIT, &real_timers, 0};

void u2c_win_timers_use(const u2c_win_timers *timers)
{
    AcquireSRWLockExclusive(&timing.lock);
    timing.timers = timers != NULL ? timers : &real_timers;
    ReleaseSRWLockExclusive(&timing.lock);
}

const u2c_win_timers *u2c_win_timers_current(void)
{
    AcquireSRWLockShared(&timing.lock);
    const u2c_win_timers *timers = timing.timers;
    ReleaseSRWLockShared(&timing.lock);
    return timers;
}

unsigned u2c_win_fine_period_holders(void)
{
    AcquireSRWLockShared(&timing.lock);
    unsigned n = timing.fine_holders;
    ReleaseSRWLockShared(&timing.lock);
    return n;
}

void u2c_win_fine_period_hold(const u2c_win_timers *timers)
{
    AcquireSRWLockExclusive(&timing.lock);
    if (timing.fine_holders++ == 0)
        timers->fine_period_begin();
    ReleaseSRWLockExclusive(&timing.lock);
}

void u2c_win_fine_period_release(const u2c_win_timers *timers)
{
    AcquireSRWLockExclusive(&timing.lock);
    if (--timing.fine_holders == 0)
        timers->fine_period_end();
    ReleaseSRWLockExclusive(&timing.lock);
}

/* The calling thread's precise timer and wake event, or false. */
bool u2c_win_wait_objects(const u2c_win_timers *timers, HANDLE *timer, HANDLE *wake)
{
    void *t = NULL, *w = NULL;
    if (!u2c_thread_wait_objects(timers->create_precise_timer, &t, &w))
        return false;
    *timer = t;
    *wake = w;
    return true;
}

/* Arms timer to fire at deadline_ns (relative, in 100 ns units, rounded up). */
bool u2c_win_timer_arm(HANDLE timer, uint64_t now, uint64_t deadline_ns)
{
    LARGE_INTEGER due;
    due.QuadPart = -(LONGLONG)((deadline_ns - now + 99u) / 100u);
    return SetWaitableTimer(timer, &due, 0, NULL, NULL, FALSE) != 0;
}

/* Milliseconds from now to deadline_ns, rounded up, below INFINITE. */
DWORD u2c_win_ms_until(uint64_t now, uint64_t deadline_ns)
{
    uint64_t wait = (deadline_ns - now + 999999ULL) / 1000000ULL;
    return wait >= INFINITE ? INFINITE - 1 : (DWORD)wait;
}
