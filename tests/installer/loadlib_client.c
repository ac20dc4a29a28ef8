/*
 * A CANAL client as installed programs are: it finds usb2can.dll by name only,
 * the way python-can, VSCP and C# [DllImport] do, so it works only when the
 * installer put the DLL of the process's bitness in the system folder.
 *
 *   loadlib_client exchange [VERSION]  load the DLL, check it came from the
 *                                      system folder (and is VERSION), then
 *                                      send frames VIRTUAL0 -> VIRTUAL1 and back
 *   loadlib_client hold MS             load the DLL and keep it loaded MS ms
 *
 * Built by default with LoadLibrary("usb2can.dll") + GetProcAddress; built
 * with -DU2C_BIND_IMPORT_LIBRARY it calls the functions through an import
 * library instead (how C users link against the installed lib\ folder).
 * Exit status 0 only when every step worked; each failure prints its reason.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>

#include "canal.h"
#include "usb2can.h"

typedef long(CANAL_CALL *canal_open_fn)(const char *, unsigned long);
typedef int(CANAL_CALL *canal_close_fn)(long);
typedef int(CANAL_CALL *canal_send_fn)(long, const canalMsg *);
typedef int(CANAL_CALL *canal_blocking_receive_fn)(long, canalMsg *, unsigned long);
typedef unsigned long(CANAL_CALL *canal_dll_version_fn)(void);
typedef const char *(CANAL_CALL *last_error_fn)(void);

struct canal_api {
    canal_open_fn open;
    canal_close_fn close;
    canal_send_fn send;
    canal_blocking_receive_fn blocking_receive;
    canal_dll_version_fn dll_version;
    last_error_fn last_error;
};

#define RECEIVE_TIMEOUT_MS 2000UL

static int failf(const char *format, const char *detail)
{
    fprintf(stderr, "FAIL: ");
    fprintf(stderr, format, detail);
    fprintf(stderr, "\n");
    return 1;
}

#if defined(U2C_BIND_IMPORT_LIBRARY)
static const char *binding = "import library";

static HMODULE bind_api(struct canal_api *api)
{
    api->open = CanalOpen;
    api->close = CanalClose;
    api->send = CanalSend;
    api->blocking_receive = CanalBlockingReceive;
    api->dll_version = CanalGetDllVersion;
    api->last_error = Usb2canGetLastError;
    return GetModuleHandleA("usb2can.dll");
}
#else
static const char *binding = "LoadLibrary";

static FARPROC resolve(HMODULE dll, const char *name)
{
    FARPROC f = GetProcAddress(dll, name);
    if (!f)
        failf("GetProcAddress(usb2can.dll, %s) found nothing", name);
    return f;
}

static HMODULE bind_api(struct canal_api *api)
{
    HMODULE dll = LoadLibraryA("usb2can.dll");
    if (!dll) {
        char code[32];
        snprintf(code, sizeof code, "%lu", (unsigned long)GetLastError());
        failf("LoadLibrary(\"usb2can.dll\") failed with Windows error %s", code);
        return NULL;
    }
    /* Through void * : ISO C has no direct conversion between function types. */
    void *f[6] = {
        (void *)resolve(dll, "CanalOpen"),          (void *)resolve(dll, "CanalClose"),
        (void *)resolve(dll, "CanalSend"),          (void *)resolve(dll, "CanalBlockingReceive"),
        (void *)resolve(dll, "CanalGetDllVersion"), (void *)resolve(dll, "Usb2canGetLastError"),
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (!f[i])
            return NULL;
    memcpy(&api->open, &f[0], sizeof api->open);
    memcpy(&api->close, &f[1], sizeof api->close);
    memcpy(&api->send, &f[2], sizeof api->send);
    memcpy(&api->blocking_receive, &f[3], sizeof api->blocking_receive);
    memcpy(&api->dll_version, &f[4], sizeof api->dll_version);
    memcpy(&api->last_error, &f[5], sizeof api->last_error);
    return dll;
}
#endif

static void lowercase(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

/* The DLL must come from the folder Windows maps System32 to for this
 * process: System32 itself, or SysWOW64 for a 32-bit process. */
static int check_loaded_from_system_folder(HMODULE dll)
{
    char path[MAX_PATH], system_dir[MAX_PATH], wow64_dir[MAX_PATH] = "";
    DWORD n = GetModuleFileNameA(dll, path, sizeof path);
    if (n == 0 || n >= sizeof path)
        return failf("%s", "GetModuleFileName(usb2can.dll) failed");
    printf("loaded %s (%s, %d-bit process)\n", path, binding, (int)(sizeof(void *) * 8));
    if (!GetSystemDirectoryA(system_dir, sizeof system_dir))
        return failf("%s", "GetSystemDirectory failed");
    GetSystemWow64DirectoryA(wow64_dir, sizeof wow64_dir); /* "" on 32-bit Windows */
    char *slash = strrchr(path, '\\');
    if (!slash)
        return failf("module path without a folder: %s", path);
    *slash = '\0';
    lowercase(path);
    lowercase(system_dir);
    lowercase(wow64_dir);
    if (strcmp(path, system_dir) != 0 && strcmp(path, wow64_dir) != 0)
        return failf("usb2can.dll was not loaded from the system folder but from %s", path);
    return 0;
}

static int check_version(const struct canal_api *api, const char *expected)
{
    unsigned long v = api->dll_version();
    char actual[48];
    snprintf(actual, sizeof actual, "%lu.%lu.%lu", v & 0xffUL, (v >> 8) & 0xffUL,
             (v >> 16) & 0xffUL);
    printf("CanalGetDllVersion: %s\n", actual);
    if (expected && strcmp(actual, expected) != 0)
        return failf("CanalGetDllVersion is %s, the installer's version differs", actual);
    return 0;
}

static long open_channel(const struct canal_api *api, const char *setup)
{
    long h = api->open(setup, 0);
    if (h <= 0) {
        fprintf(stderr, "FAIL: CanalOpen(\"%s\", 0) returned %ld: %s\n", setup, h,
                api->last_error());
        return 0;
    }
    return h;
}

static int frames_equal(const canalMsg *a, const canalMsg *b)
{
    const unsigned long kind = CANAL_IDFLAG_EXTENDED | CANAL_IDFLAG_RTR;
    return (a->flags & kind) == (b->flags & kind) && a->id == b->id && a->sizeData == b->sizeData &&
           memcmp(a->data, b->data, a->sizeData) == 0;
}

/* Receives the next CAN frame, skipping status messages. */
static int receive_frame(const struct canal_api *api, long h, canalMsg *out)
{
    for (;;) {
        int rc = api->blocking_receive(h, out, RECEIVE_TIMEOUT_MS);
        if (rc != CANAL_ERROR_SUCCESS)
            return rc;
        if (!(out->flags & CANAL_IDFLAG_STATUS))
            return rc;
    }
}

static int transfer(const struct canal_api *api, long from, long to, const canalMsg *frame,
                    const char *direction)
{
    canalMsg got;
    int rc = api->send(from, frame);
    if (rc != CANAL_ERROR_SUCCESS) {
        fprintf(stderr, "FAIL: CanalSend %s returned %d: %s\n", direction, rc, api->last_error());
        return 1;
    }
    memset(&got, 0, sizeof got);
    rc = receive_frame(api, to, &got);
    if (rc != CANAL_ERROR_SUCCESS) {
        fprintf(stderr, "FAIL: CanalBlockingReceive %s returned %d: %s\n", direction, rc,
                api->last_error());
        return 1;
    }
    if (!frames_equal(frame, &got)) {
        fprintf(stderr,
                "FAIL: %s sent id 0x%lx flags 0x%lx dlc %u, received id 0x%lx flags 0x%lx dlc %u\n",
                direction, frame->id, frame->flags, frame->sizeData, got.id, got.flags,
                got.sizeData);
        return 1;
    }
    printf("%s: id 0x%lx, %u bytes: ok\n", direction, got.id, got.sizeData);
    return 0;
}

static int exchange(const struct canal_api *api)
{
    static const canalMsg forward = {CANAL_IDFLAG_STANDARD,    0, 0x123, 4,
                                     {0xDE, 0xAD, 0xBE, 0xEF}, 0};
    static const canalMsg backward = {CANAL_IDFLAG_EXTENDED,    0, 0x18FF50E5UL, 8,
                                      {1, 2, 3, 4, 5, 6, 7, 8}, 0};
    int failed = 0;
    long h0 = open_channel(api, "VIRTUAL0;500");
    long h1 = h0 ? open_channel(api, "VIRTUAL1;500") : 0;
    if (h0 && h1) {
        failed |= transfer(api, h0, h1, &forward, "VIRTUAL0 -> VIRTUAL1");
        failed |= transfer(api, h1, h0, &backward, "VIRTUAL1 -> VIRTUAL0");
    } else {
        failed = 1;
    }
    if (h1 && api->close(h1) != CANAL_ERROR_SUCCESS)
        failed = failf("CanalClose(%s) failed", "VIRTUAL1");
    if (h0 && api->close(h0) != CANAL_ERROR_SUCCESS)
        failed = failf("CanalClose(%s) failed", "VIRTUAL0");
    return failed;
}

int main(int argc, char **argv)
{
    struct canal_api api;
    if (argc < 2 || (strcmp(argv[1], "exchange") != 0 && strcmp(argv[1], "hold") != 0) ||
        (strcmp(argv[1], "hold") == 0 && argc != 3)) {
        fprintf(stderr, "usage: loadlib_client exchange [VERSION] | hold MS\n");
        return 2;
    }
    HMODULE dll = bind_api(&api);
    if (!dll)
        return 1;
    if (check_loaded_from_system_folder(dll))
        return 1;
    if (strcmp(argv[1], "hold") == 0) {
        printf("holding usb2can.dll\n");
        fflush(stdout);
        Sleep((DWORD)strtoul(argv[2], NULL, 10));
        return 0;
    }
    if (check_version(&api, argc > 2 ? argv[2] : NULL))
        return 1;
    return exchange(&api);
}
