/*
 * canal_recorder.c — a pass-through CANAL library for the client tests
 * (Linux only): python-can is pointed at it with dll=, it appends one line
 * per CANAL call to the file named by U2C_RECORDER_LOG and forwards the call
 * unchanged to the library named by U2C_RECORDER_TARGET.
 *
 * Contract: the line format is "<Function>\t<argument>\t<argument>...\n",
 * the setup string verbatim (between the first two tabs) for CanalOpen, every
 * number in decimal; each line is one O_APPEND write, so lines from several
 * threads never interleave. When the target cannot be loaded every call
 * fails (CanalOpen returns 0, the others CANAL_ERROR_LIBRARY) and the reason
 * goes to stderr. It lets a test see exactly what python-can passes without
 * patching python-can or preloading anything.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "canal.h"

/* The target, resolved once when the recorder is loaded and read-only after. */
static void *target;

__attribute__((constructor)) static void recorder_load(void)
{
    const char *path = getenv("U2C_RECORDER_TARGET");
    if (!path) {
        fprintf(stderr, "canal_recorder: U2C_RECORDER_TARGET is not set\n");
        return;
    }
    target = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!target)
        fprintf(stderr, "canal_recorder: %s\n", dlerror());
}

static void *forward_to(const char *name)
{
    void *fn = target ? dlsym(target, name) : NULL;
    if (target && !fn)
        fprintf(stderr, "canal_recorder: the target lacks %s\n", name);
    return fn;
}

static void record(const char *format, ...)
{
    const char *path = getenv("U2C_RECORDER_LOG");
    if (!path)
        return;
    char line[1200];
    va_list args;
    va_start(args, format);
    int len = vsnprintf(line, sizeof line - 1, format, args);
    va_end(args);
    if (len < 0)
        return;
    if ((size_t)len > sizeof line - 2)
        len = (int)sizeof line - 2;
    line[len++] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0)
        return;
    ssize_t written = write(fd, line, (size_t)len);
    (void)written;
    close(fd);
}

/* Copies the target's function `name` into *slot; false if it is missing. */
static int resolve(const char *name, void *slot)
{
    void *fn = forward_to(name);
    memcpy(slot, &fn, sizeof fn);
    return fn != NULL;
}

typedef long (*open_fn)(const char *, unsigned long);
typedef int (*handle_fn)(long);
typedef int (*send_fn)(long, const canalMsg *);
typedef int (*blocking_send_fn)(long, const canalMsg *, unsigned long);
typedef int (*receive_fn)(long, canalMsg *);
typedef int (*blocking_receive_fn)(long, canalMsg *, unsigned long);
typedef int (*status_fn)(long, canalStatus *);
typedef int (*statistics_fn)(long, canalStatistics *);
typedef unsigned long (*version_fn)(void);
typedef const char *(*string_fn)(void);

CANAL_API long CanalOpen(const char *pDevice, unsigned long flags)
{
    record("CanalOpen\t%s\t%lu", pDevice ? pDevice : "(null)", flags);
    open_fn fn;
    return resolve("CanalOpen", &fn) ? fn(pDevice, flags) : 0;
}

CANAL_API int CanalClose(long handle)
{
    record("CanalClose\t%ld", handle);
    handle_fn fn;
    return resolve("CanalClose", &fn) ? fn(handle) : CANAL_ERROR_LIBRARY;
}

CANAL_API int CanalSend(long handle, const canalMsg *pCanalMsg)
{
    record("CanalSend\t%ld", handle);
    send_fn fn;
    return resolve("CanalSend", &fn) ? fn(handle, pCanalMsg) : CANAL_ERROR_LIBRARY;
}

CANAL_API int CanalBlockingSend(long handle, const canalMsg *pCanalMsg, unsigned long timeout)
{
    record("CanalBlockingSend\t%ld\t%lu", handle, timeout);
    blocking_send_fn fn;
    return resolve("CanalBlockingSend", &fn) ? fn(handle, pCanalMsg, timeout) : CANAL_ERROR_LIBRARY;
}

CANAL_API int CanalReceive(long handle, canalMsg *pCanalMsg)
{
    record("CanalReceive\t%ld", handle);
    receive_fn fn;
    return resolve("CanalReceive", &fn) ? fn(handle, pCanalMsg) : CANAL_ERROR_LIBRARY;
}

CANAL_API int CanalBlockingReceive(long handle, canalMsg *pCanalMsg, unsigned long timeout)
{
    record("CanalBlockingReceive\t%ld\t%lu", handle, timeout);
    blocking_receive_fn fn;
    return resolve("CanalBlockingReceive", &fn) ? fn(handle, pCanalMsg, timeout)
                                                : CANAL_ERROR_LIBRARY;
}

CANAL_API int CanalGetStatus(long handle, canalStatus *pCanalStatus)
{
    record("CanalGetStatus\t%ld", handle);
    status_fn fn;
    return resolve("CanalGetStatus", &fn) ? fn(handle, pCanalStatus) : CANAL_ERROR_LIBRARY;
}

CANAL_API int CanalGetStatistics(long handle, canalStatistics *pCanalStatistics)
{
    record("CanalGetStatistics\t%ld", handle);
    statistics_fn fn;
    return resolve("CanalGetStatistics", &fn) ? fn(handle, pCanalStatistics) : CANAL_ERROR_LIBRARY;
}

CANAL_API unsigned long CanalGetVersion(void)
{
    record("CanalGetVersion");
    version_fn fn;
    return resolve("CanalGetVersion", &fn) ? fn() : 0;
}

CANAL_API unsigned long CanalGetDllVersion(void)
{
    record("CanalGetDllVersion");
    version_fn fn;
    return resolve("CanalGetDllVersion", &fn) ? fn() : 0;
}

CANAL_API const char *CanalGetVendorString(void)
{
    record("CanalGetVendorString");
    string_fn fn;
    return resolve("CanalGetVendorString", &fn) ? fn() : NULL;
}
