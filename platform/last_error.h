/*
 * last_error.h — the per-thread reason behind the last failed call.
 *
 * Contract: u2c_error_set formats a reason for the calling thread and also
 * sends it to OutputDebugString (Windows) and, when USB2CAN_LOG names a
 * file, appends it there with a timestamp. u2c_error_clear empties it at the
 * start of every API call. u2c_error_get never returns NULL. The text lives
 * in the calling thread's block (thread_state.h): one block per thread, on
 * Windows allocated at the thread's first call and freed when the thread
 * exits; nothing is allocated after that first call, and no lock is taken
 * except around the log file.
 * A reason is one line (newlines become spaces) of at most
 * U2C_ERROR_TEXT_MAX - 1 bytes. Log lines read
 * "2025-01-31T12:00:00Z mono=1234.567890 usb2can: <reason>" (UTC wall clock,
 * then the monotonic clock in seconds); the file is opened, appended and
 * closed per reason, so it may be deleted or rotated at any time.
 * u2c_note sets the reason like u2c_fail but sends it nowhere else: it is
 * for routine results that a polling caller gets thousands of times a
 * second (FIFO_EMPTY, TIMEOUT), which would otherwise flood a debugger's
 * output or DebugView and slow the caller to a crawl.
 */
#ifndef USB2CAN_LAST_ERROR_H
#define USB2CAN_LAST_ERROR_H

#include <stddef.h>

#include "thread_state.h" /* U2C_ERROR_TEXT_MAX */

#if defined(__GNUC__)
#define U2C_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define U2C_PRINTF(fmt, args)
#endif

#include <stdbool.h>

/* Sets the calling thread's reason (sent on, as above, when `report`) and
 * returns code. Called through the three macros below. */
int u2c_error_code(bool report, int code, const char *fmt, ...) U2C_PRINTF(3, 4);

/* Sets the reason. */
#define u2c_error_set(...) ((void)u2c_error_code(true, 0, __VA_ARGS__))
/* Sets the reason and returns code, for `return u2c_fail(CANAL_ERROR_X, ...)`. */
#define u2c_fail(code, ...) u2c_error_code(true, (code), __VA_ARGS__)
/* The same for a routine result: the reason is kept, not reported. */
#define u2c_note(code, ...) u2c_error_code(false, (code), __VA_ARGS__)

void u2c_error_clear(void);
const char *u2c_error_get(void);

#endif
