/*
 * win_timers.h — the Win32 timer services behind bounded waits and sleeps,
 * as a table that tests can replace (Windows only).
 *
 * Windows ends a timed wait on the system timer tick: 15.625 ms, unless the
 * process asked for finer timers (since Windows 10 2004 such a request
 * counts only for the process that made it). A CanalBlockingReceive(h, m,
 * 10) would then return up to 16 ms late and a 1 ms sleep would take 16 ms.
 * So osal_win32.c ends every bounded condition wait and every sleep with a
 * high-resolution waitable timer (CREATE_WAITABLE_TIMER_HIGH_RESOLUTION,
 * Windows 10 1803 and later), one per thread, made at the thread's first
 * bounded wait and closed with its per-thread block (thread_state.h). Only
 * where that timer cannot be made does it fall back to the tick-based wait
 * (SleepConditionVariableSRW, Sleep) with timeBeginPeriod(1) held while at
 * least one such bounded wait or sleep is in progress, and released as soon
 * as none is (winmm.dll, which has them, is loaded only then: importing it
 * would load it with every load of the library, and unloading it does not
 * give back every handle it made). Waits without a deadline never touch either.
 *
 * Contract: u2c_win_timers_use(NULL) restores the real services; a test
 * installs its table (e.g. one that rounds tick-based waits up to 15.625 ms
 * and has no high-resolution timer) before the threads that wait start,
 * and restores the real one after they are done. The table pointer and the
 * count of fallback waits in progress are behind one lock.
 */
#ifndef USB2CAN_WIN_TIMERS_H
#define USB2CAN_WIN_TIMERS_H

#if defined(_WIN32)
#include <stdbool.h>
#include <stdint.h>

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

typedef struct u2c_win_timers {
    /* A manual-reset high-resolution waitable timer, or NULL where the
     * system has none (before Windows 10 1803). */
    HANDLE (*create_precise_timer)(void);
    /* The tick-based waits: SleepConditionVariableSRW (exclusive) and Sleep. */
    BOOL (*sleep_cv)(CONDITION_VARIABLE *cv, SRWLOCK *lock, DWORD ms);
    void (*sleep)(DWORD ms);
    /* timeBeginPeriod(1) and timeEndPeriod(1). */
    void (*fine_period_begin)(void);
    void (*fine_period_end)(void);
} u2c_win_timers;

/* Installs a table (NULL: the real services). */
void u2c_win_timers_use(const u2c_win_timers *timers);

/* Fallback waits and sleeps holding timeBeginPeriod(1) right now. */
unsigned u2c_win_fine_period_holders(void);

/* For osal_win32.c: the table in use; holding and releasing
 * timeBeginPeriod(1) around one fallback wait; the calling thread's precise
 * timer and wake event (false: none, wait the tick-based way); arming that
 * timer for deadline_ns; and the milliseconds to deadline_ns, rounded up and
 * below INFINITE, for the tick-based wait. */
const u2c_win_timers *u2c_win_timers_current(void);
void u2c_win_fine_period_hold(const u2c_win_timers *timers);
void u2c_win_fine_period_release(const u2c_win_timers *timers);
bool u2c_win_wait_objects(const u2c_win_timers *timers, HANDLE *timer, HANDLE *wake);
bool u2c_win_timer_arm(HANDLE timer, uint64_t now, uint64_t deadline_ns);
DWORD u2c_win_ms_until(uint64_t now, uint64_t deadline_ns);

#endif
#endif
