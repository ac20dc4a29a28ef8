/*
 * thread_state.h — what the library keeps per calling thread: the reason
 * behind its last failed call (last_error.h), a few opaque slots that upper
 * layers give their own meaning (which slot holds what is decided above
 * this layer), and on Windows the timer and event its bounded waits sleep
 * on (win_timers.h).
 *
 * Contract: u2c_thread_state_get never returns NULL, never fails and keeps
 * the caller's GetLastError value. A thread's block starts zeroed and is
 * the same block on every later call from that thread, so nothing is
 * allocated after a thread's first call.
 * - Windows: the block is allocated from the process heap at the thread's
 *   first call and freed when the thread exits (an FLS callback), which
 *   also closes its timer and event. Unloading the DLL
 *   (u2c_thread_state_unload, from DllMain) frees the blocks of the threads
 *   still alive. MinGW's _Thread_local is not used: its emutls
 *   blocks are freed by a thread-exit hook inside the DLL, which never runs
 *   for threads that outlive a FreeLibrary, so each such thread leaked its
 *   blocks on every unload.
 *   Under memory exhaustion (or with no FLS index left) a thread without a
 *   block uses one static block shared by every such thread, and tries to
 *   allocate its own again at its next call: calls keep working, but such
 *   threads may read each other's reasons.
 * - POSIX: the block is _Thread_local storage, freed by the C library at
 *   thread exit.
 */
#ifndef USB2CAN_THREAD_STATE_H
#define USB2CAN_THREAD_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include <stddef.h>

/* The longest reason a thread keeps, NUL included (last_error.h). */
#define U2C_ERROR_TEXT_MAX 512
/* Opaque per-thread storage for the layers above: this many slots of this
 * many bytes each, zeroed at the thread's first call, aligned for any type. */
#define U2C_THREAD_SLOTS 2
#define U2C_THREAD_SLOT_BYTES 128

typedef union u2c_thread_slot {
    max_align_t align;
    unsigned char bytes[U2C_THREAD_SLOT_BYTES];
} u2c_thread_slot;

typedef struct u2c_thread_state {
    char error_text[U2C_ERROR_TEXT_MAX];
    u2c_thread_slot slots[U2C_THREAD_SLOTS];
#if defined(_WIN32)
    void *wait_timer; /* u2c_thread_wait_objects */
    void *wait_wake;
    bool wait_timer_tried;
#endif
} u2c_thread_state;

u2c_thread_state *u2c_thread_state_get(void);

/* The calling thread's slot `index` (< U2C_THREAD_SLOTS): U2C_THREAD_SLOT_BYTES
 * bytes, zero until its owner writes them. */
void *u2c_thread_slot_get(unsigned index);

#if defined(_WIN32)
/* DLL_PROCESS_DETACH by FreeLibrary: frees every thread's block and the FLS
 * index, so no thread exiting later calls into the unloaded DLL. */
void u2c_thread_state_unload(void);

/* The calling thread's high-resolution timer and wake event for bounded
 * waits and sleeps (osal_win32.c, win_timers.h): made at the thread's first
 * bounded wait (the timer by make_timer, tried once per thread) and closed
 * with its block. False for a thread on the shared fallback block or when
 * either cannot be made: the caller then waits the tick-based way. */
bool u2c_thread_wait_objects(void *(*make_timer)(void), void **timer, void **wake);
#endif

#endif
