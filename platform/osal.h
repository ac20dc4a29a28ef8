/*
 * osal.h — the few operating-system services the driver needs, one API on
 * Windows (Win32 primitives, no winpthread) and POSIX (pthreads).
 *
 * Contract: mutexes are non-recursive; condition waits take an absolute
 * deadline on the monotonic clock (u2c_now_ns) and may wake spuriously, so
 * callers loop on their predicate; u2c_cond_wait_until returns false only
 * once the deadline has passed. Every function is safe to call from any
 * thread; none allocates after init, except that on Windows a thread's
 * first bounded wait or sleep makes the timer and event it waits on from
 * then on. Timed waits and sleeps end within a fraction of a millisecond of
 * their deadline, also on Windows, whose own timed waits run on a
 * 15.625 ms tick (win_timers.h says how).
 */
#ifndef USB2CAN_OSAL_H
#define USB2CAN_OSAL_H

#include <stdbool.h>
#include <stdint.h>

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
typedef struct {
    SRWLOCK lock;
} u2c_mutex;
/* A waiter with a deadline sleeps on its thread's high-resolution timer
 * and wake event (osal_win32.c), registered in `timed` so that signal and
 * broadcast reach it; waiters without one sleep on `cv`. All-zero is a
 * valid, empty condition. */
typedef struct u2c_timed_waiter u2c_timed_waiter;
typedef struct {
    CONDITION_VARIABLE cv;
    SRWLOCK timed_lock; /* guards timed */
    u2c_timed_waiter *timed;
} u2c_cond;
typedef struct {
    HANDLE handle;
} u2c_thread;
#define U2C_MUTEX_INITIALIZER                                                                      \
    {                                                                                              \
        SRWLOCK_INIT                                                                               \
    }
#else
#include <pthread.h>
typedef struct {
    pthread_mutex_t m;
} u2c_mutex;
typedef struct {
    pthread_cond_t cv;
} u2c_cond;
typedef struct {
    pthread_t t;
} u2c_thread;
#define U2C_MUTEX_INITIALIZER                                                                      \
    {                                                                                              \
        PTHREAD_MUTEX_INITIALIZER                                                                  \
    }
#endif
/* U2C_MUTEX_INITIALIZER: a static mutex ready without u2c_mutex_init (never destroyed). */

/* Deadline meaning "never". */
#define U2C_DEADLINE_NEVER UINT64_MAX

/* Monotonic clock in nanoseconds (arbitrary epoch, never goes back). */
uint64_t u2c_now_ns(void);
/* now + ms, saturating at U2C_DEADLINE_NEVER. */
static inline uint64_t u2c_deadline_after_ms(uint64_t ms)
{
    uint64_t now = u2c_now_ns();
    if (ms > (U2C_DEADLINE_NEVER - now) / 1000000ULL)
        return U2C_DEADLINE_NEVER;
    return now + ms * 1000000ULL;
}

void u2c_mutex_init(u2c_mutex *m);
void u2c_mutex_destroy(u2c_mutex *m);
void u2c_mutex_lock(u2c_mutex *m);
void u2c_mutex_unlock(u2c_mutex *m);

void u2c_cond_init(u2c_cond *c);
void u2c_cond_destroy(u2c_cond *c);
void u2c_cond_signal(u2c_cond *c);
void u2c_cond_broadcast(u2c_cond *c);
/* Waits with m held; false when the deadline has passed. */
bool u2c_cond_wait_until(u2c_cond *c, u2c_mutex *m, uint64_t deadline_ns);

typedef void (*u2c_thread_fn)(void *arg);
/* 0 on success. */
int u2c_thread_start(u2c_thread *t, u2c_thread_fn fn, void *arg);
void u2c_thread_join(u2c_thread *t);

/* Lets a thread end without being joined (its resources go when it ends). */
void u2c_thread_detach(u2c_thread *t);

/* Raises the calling thread above normal priority where that needs no
 * privilege (Windows: THREAD_PRIORITY_ABOVE_NORMAL); elsewhere nothing. For
 * threads that complete USB transfers. */
void u2c_thread_raise_priority(void);

#if defined(_WIN32)
/* Keeps the module that holds this code loaded through FreeLibrary until
 * the reference is given back: a thread of the library that may outlive the
 * program's last FreeLibrary takes one, and ends with u2c_thread_exit_unpin,
 * which gives it back and ends the thread in one step (FreeLibraryAndExitThread),
 * so no code of the module runs once it may be unmapped. NULL when it fails. */
void *u2c_module_pin(void);
void u2c_module_unpin(void *pin);
#if defined(__GNUC__)
__attribute__((noreturn))
#endif
void u2c_thread_exit_unpin(void *pin);
#endif

/* Whether the process is ending and its other threads may be gone: Windows,
 * after ExitProcess ended every other thread and DLLs are being detached
 * (RtlDllShutdownInProgress), when a lock such a thread held is never
 * released. Always false elsewhere (there exit runs with every thread alive). */
bool u2c_process_exiting(void);

/* Sleeps at least ms milliseconds (tests and tools only, never the data
 * path); 0 yields the processor. */
void u2c_sleep_ms(unsigned ms);

/* *value read under m, for a counter another thread updates under m. */
static inline unsigned u2c_locked_read(u2c_mutex *m, const unsigned *value)
{
    u2c_mutex_lock(m);
    unsigned n = *value;
    u2c_mutex_unlock(m);
    return n;
}

/* For the two halves: defines void u2c_<name>(type *x) as the one statement
 * `call`. */
#define U2C_OSAL_FORWARD(name, type, call)                                                         \
    void u2c_##name(type *x)                                                                       \
    {                                                                                              \
        call;                                                                                      \
    }

#endif
