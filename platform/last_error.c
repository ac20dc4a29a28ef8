#include "last_error.h"

#include "osal.h"
#include "thread_state.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Serialises appends to the USB2CAN_LOG file so lines never interleave. */
static u2c_mutex log_lock = U2C_MUTEX_INITIALIZER;

#define LOG_ENV "USB2CAN_LOG"

/* Broken-down UTC from a time_t without gmtime, which is not thread-safe. */
static void utc_from_epoch(int64_t t, int *year, unsigned *mon, unsigned *day, unsigned *hour,
                           unsigned *min, unsigned *sec)
{
    int64_t days = t / 86400, rem = t % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    *hour = (unsigned)(rem / 3600);
    *min = (unsigned)(rem % 3600 / 60);
    *sec = (unsigned)(rem % 60);
    /* Civil date from a day count (proleptic Gregorian, 400-year eras). */
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *mon = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *year = (int)(yoe + era * 400 + (*mon <= 2 ? 1 : 0));
}

/* The log file's name, or false when USB2CAN_LOG is unset or empty. */
static bool log_path(char *path, size_t size)
{
#if defined(_WIN32)
    /* The process environment, not msvcrt's copy of it: a host that links
     * another C runtime (python.exe) sets variables there. */
    DWORD n = GetEnvironmentVariableA(LOG_ENV, path, (DWORD)size);
    return n > 0 && n < size;
#else
    const char *value = getenv(LOG_ENV);
    if (value == NULL || value[0] == '\0')
        return false;
    int n = snprintf(path, size, "%s", value);
    return n > 0 && (size_t)n < size;
#endif
}

static void append_to_log_file(const char *text)
{
    char path[1024];
    if (!log_path(path, sizeof path))
        return;
    int year;
    unsigned mon, day, hour, min, sec;
    utc_from_epoch((int64_t)time(NULL), &year, &mon, &day, &hour, &min, &sec);
    uint64_t mono_us = u2c_now_ns() / 1000u;

    u2c_mutex_lock(&log_lock);
    FILE *f = fopen(path, "a");
    if (f != NULL) {
        fprintf(f, "%04d-%02u-%02uT%02u:%02u:%02uZ mono=%lu.%06lu usb2can: %s\n", year, mon, day,
                hour, min, sec, (unsigned long)(mono_us / 1000000u),
                (unsigned long)(mono_us % 1000000u), text);
        fclose(f);
    }
    u2c_mutex_unlock(&log_lock);
}

static void emit(const char *text)
{
#if defined(_WIN32)
    char line[U2C_ERROR_TEXT_MAX + 16];
    snprintf(line, sizeof line, "usb2can: %s\n", text);
    OutputDebugStringA(line);
#endif
    append_to_log_file(text);
}

static void set_v(bool report, const char *fmt, va_list ap)
{
    char *error_text = u2c_thread_state_get()->error_text;
    const size_t size = U2C_ERROR_TEXT_MAX;
    if (fmt == NULL) {
        snprintf(error_text, size, "%s", "(no reason given)");
    } else {
        int n = vsnprintf(error_text, size, fmt, ap);
        if (n < 0)
            snprintf(error_text, size, "%s", "(unprintable reason)");
    }
    error_text[size - 1] = '\0';
    /* One reason is one line, in the log and in a message box alike. */
    for (char *c = error_text; *c != '\0'; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    if (report)
        emit(error_text);
}

void u2c_error_clear(void)
{
    u2c_thread_state_get()->error_text[0] = '\0';
}

const char *u2c_error_get(void)
{
    return u2c_thread_state_get()->error_text;
}

int u2c_error_code(bool report, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_v(report, fmt, ap);
    va_end(ap);
    return code;
}
