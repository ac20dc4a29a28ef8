#if defined(_WIN32)
#include "seed_devices.h"

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <winternl.h>
#include <stdio.h>
#include <string.h>

#define ENUM_ROOT "System\\CurrentControlSet\\Enum\\"
#define USB_DEVICE_INTERFACE "{a5dcbf10-6530-11d2-901f-00c04fb951ed}"
#define DEVICE_CLASSES_ROOT                                                                        \
    "System\\CurrentControlSet\\Control\\DeviceClasses\\" USB_DEVICE_INTERFACE "\\"
/* The setup class Zadig's WinUSB INF installs into ("USBDevice"). */
#define USB_DEVICE_CLASS "{88BAE032-5A81-49F0-BC3D-A4FF138216D6}"
#define MAX_SEEDED 16

/* Objects that stand for devices: they live as long as these handles. */
static HANDLE object_handles[3 * MAX_SEEDED];
static size_t object_count;

typedef LONG(NTAPI *create_symlink_fn)(HANDLE *, ACCESS_MASK, OBJECT_ATTRIBUTES *,
                                       UNICODE_STRING *);

static void keep_handle(HANDLE handle)
{
    if (object_count < sizeof object_handles / sizeof object_handles[0])
        object_handles[object_count++] = handle;
}

/* "\\?\usb#vid_0483&pid_1234#ed000200#{a5dcbf10-...}", lower-case as Windows writes it. */
static void symbolic_link(const char *instance_id, char *out, size_t size)
{
    int n = snprintf(out, size, "\\\\?\\%s#" USB_DEVICE_INTERFACE, instance_id);
    for (int i = 4; i < n && (size_t)i < size; i++) {
        if (out[i] == '\\')
            out[i] = '#';
        else if (out[i] >= 'A' && out[i] <= 'Z')
            out[i] = (char)(out[i] - 'A' + 'a');
    }
}

/* The DeviceClasses key of a link: its "\\?\" becomes "##?#". */
static void interface_key(const char *instance_id, char *out, size_t size)
{
    char link[512];
    symbolic_link(instance_id, link, sizeof link);
    snprintf(out, size, DEVICE_CLASSES_ROOT "##?#%s", link + 4);
}

static bool set_string(HKEY key, const char *name, const char *value, DWORD type)
{
    /* REG_MULTI_SZ needs a second terminator. */
    char data[512] = {0};
    snprintf(data, sizeof data - 1, "%s", value);
    DWORD size = (DWORD)strlen(value) + (type == REG_MULTI_SZ ? 2 : 1);
    return RegSetValueExA(key, name, 0, type, (const BYTE *)data, size) == ERROR_SUCCESS;
}

static HKEY create_key(const char *path)
{
    HKEY key = NULL;
    LONG rc =
        RegCreateKeyExA(HKEY_LOCAL_MACHINE, path, 0, NULL, 0, KEY_ALL_ACCESS, NULL, &key, NULL);
    if (rc != ERROR_SUCCESS) {
        printf("seed: cannot create HKLM\\%s (error %ld)\n", path, (long)rc);
        return NULL;
    }
    return key;
}

static bool seed_enum_key(const seed_device *d)
{
    char path[512];
    snprintf(path, sizeof path, ENUM_ROOT "%s", d->instance_id);
    HKEY key = create_key(path);
    if (key == NULL)
        return false;
    bool ok = set_string(key, "ClassGUID", USB_DEVICE_CLASS, REG_SZ);
    if (d->service)
        ok = ok && set_string(key, "Service", d->service, REG_SZ);
    if (d->device_desc)
        ok = ok && set_string(key, "DeviceDesc", d->device_desc, REG_SZ);
    if (d->friendly_name)
        ok = ok && set_string(key, "FriendlyName", d->friendly_name, REG_SZ);
    if (d->interface_guids) {
        HKEY parameters = NULL;
        ok = ok && RegCreateKeyExA(key, "Device Parameters", 0, NULL, 0, KEY_ALL_ACCESS, NULL,
                                   &parameters, NULL) == ERROR_SUCCESS;
        ok = ok && set_string(parameters, "DeviceInterfaceGUIDs",
                              "{3C6D21E6-8C5B-4C7E-9F2A-0D1E2F3A4B5C}", REG_MULTI_SZ);
        if (parameters)
            RegCloseKey(parameters);
    }
    RegCloseKey(key);
    return ok;
}

bool seed_device_value(const char *instance_id, const char *subkey, const char *name,
                       unsigned long type, const void *data, size_t size)
{
    char path[512];
    snprintf(path, sizeof path, ENUM_ROOT "%s%s%s", instance_id, subkey ? "\\" : "",
             subkey ? subkey : "");
    HKEY key = create_key(path);
    if (key == NULL)
        return false;
    LONG rc = RegSetValueExA(key, name, 0, (DWORD)type, (const BYTE *)data, (DWORD)size);
    RegCloseKey(key);
    if (rc != ERROR_SUCCESS)
        printf("seed: cannot set %s under HKLM\\%s (error %ld)\n", name, path, (long)rc);
    return rc == ERROR_SUCCESS;
}

static bool seed_interface_keys(const seed_device *d)
{
    char path[512];
    char link[512];
    interface_key(d->instance_id, path, sizeof path);
    symbolic_link(d->instance_id, link, sizeof link);
    HKEY key = create_key(path);
    if (key == NULL)
        return false;
    bool ok = set_string(key, "DeviceInstance", d->instance_id, REG_SZ);
    RegCloseKey(key);
    strncat(path, "\\#", sizeof path - strlen(path) - 1);
    key = create_key(path);
    if (key == NULL)
        return false;
    ok = ok && set_string(key, "SymbolicLink", link, REG_SZ);
    RegCloseKey(key);
    strncat(path, "\\Control", sizeof path - strlen(path) - 1);
    key = create_key(path);
    if (key == NULL)
        return false;
    DWORD linked = 1;
    ok = ok && RegSetValueExA(key, "Linked", 0, REG_DWORD, (const BYTE *)&linked, sizeof linked) ==
                   ERROR_SUCCESS;
    RegCloseKey(key);
    return ok;
}

static void init_unicode(UNICODE_STRING *string, wchar_t *text)
{
    string->Buffer = text;
    string->Length = (USHORT)(wcslen(text) * sizeof(wchar_t));
    string->MaximumLength = (USHORT)(string->Length + sizeof(wchar_t));
}

/* Makes \??\<link name> point at target, the way a driver's interface does. */
static bool make_symlink(const char *instance_id, const char *narrow_target)
{
    char link[512];
    char narrow_name[600];
    wchar_t name[600];
    symbolic_link(instance_id, link, sizeof link);
    snprintf(narrow_name, sizeof narrow_name, "\\??\\%s", link + 4);
    if (MultiByteToWideChar(CP_ACP, 0, narrow_name, -1, name, sizeof name / sizeof name[0]) == 0)
        return false;
    create_symlink_fn create_symlink = (create_symlink_fn)(void (*)(void))GetProcAddress(
        GetModuleHandleA("ntdll.dll"), "NtCreateSymbolicLinkObject");
    if (create_symlink == NULL)
        return false;
    wchar_t target[128];
    if (MultiByteToWideChar(CP_ACP, 0, narrow_target, -1, target,
                            sizeof target / sizeof target[0]) == 0)
        return false;
    UNICODE_STRING name_string;
    UNICODE_STRING target_string;
    init_unicode(&name_string, name);
    init_unicode(&target_string, target);
    OBJECT_ATTRIBUTES attributes;
    InitializeObjectAttributes(&attributes, &name_string, OBJ_CASE_INSENSITIVE, NULL, NULL);
    HANDLE handle = NULL;
    LONG status = create_symlink(&handle, 0xF0001 /* SYMBOLIC_LINK_ALL_ACCESS */, &attributes,
                                 &target_string);
    if (status != 0) {
        printf("seed: NtCreateSymbolicLinkObject(%s) failed (0x%08lx)\n", narrow_name,
               (unsigned long)status);
        return false;
    }
    keep_handle(handle);
    return true;
}

static bool make_device_object(const seed_device *d, size_t index)
{
    char target[64];
    char local[64];
    if (d->iface == SEED_INTERFACE_FREE) {
        /* Enough listening instances for every probe a test makes. */
        snprintf(local, sizeof local, "\\\\.\\pipe\\u2c_seed_%u", (unsigned)index);
        for (int i = 0; i < 16; i++) {
            HANDLE pipe = CreateNamedPipeA(local, PIPE_ACCESS_DUPLEX, 0, PIPE_UNLIMITED_INSTANCES,
                                           64, 64, 0, NULL);
            if (pipe == INVALID_HANDLE_VALUE)
                return false;
            keep_handle(pipe);
        }
        snprintf(target, sizeof target, "\\Device\\NamedPipe\\u2c_seed_%u", (unsigned)index);
        return make_symlink(d->instance_id, target);
    }
    snprintf(local, sizeof local, "\\\\.\\mailslot\\u2c_seed_%u", (unsigned)index);
    HANDLE slot = CreateMailslotA(local, 0, 0, NULL);
    if (slot == INVALID_HANDLE_VALUE)
        return false;
    keep_handle(slot);
    /* The "other program": a handle that shares, so only a share-nothing open fails. */
    HANDLE holder = CreateFileA(local, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                                OPEN_EXISTING, 0, NULL);
    if (holder == INVALID_HANDLE_VALUE)
        return false;
    keep_handle(holder);
    snprintf(target, sizeof target, "\\Device\\MailSlot\\u2c_seed_%u", (unsigned)index);
    return make_symlink(d->instance_id, target);
}

bool seed_devices(const seed_device *devices, size_t count)
{
    seed_clear(devices, count);
    if (count > MAX_SEEDED)
        return false;
    for (size_t i = 0; i < count; i++) {
        const seed_device *d = &devices[i];
        if (!seed_enum_key(d))
            return false;
        if (d->iface != SEED_NO_INTERFACE && !seed_interface_keys(d))
            return false;
        bool has_object = d->iface == SEED_INTERFACE_FREE || d->iface == SEED_INTERFACE_HELD;
        if (has_object && !make_device_object(d, i)) {
            printf("seed: cannot make the device object of %s (error %lu)\n", d->instance_id,
                   (unsigned long)GetLastError());
            return false;
        }
    }
    return true;
}

/* Deletes a key and its subkeys, then its parent if that became empty. */
static void delete_tree_and_empty_parent(const char *path)
{
    RegDeleteTreeA(HKEY_LOCAL_MACHINE, path);
    RegDeleteKeyA(HKEY_LOCAL_MACHINE, path);
    char parent[512];
    snprintf(parent, sizeof parent, "%s", path);
    char *slash = strrchr(parent, '\\');
    if (slash) {
        *slash = '\0';
        RegDeleteKeyA(HKEY_LOCAL_MACHINE, parent); /* fails while other devices remain */
    }
}

void seed_clear(const seed_device *devices, size_t count)
{
    for (size_t i = 0; i < object_count; i++)
        CloseHandle(object_handles[i]);
    object_count = 0;
    for (size_t i = 0; i < count; i++) {
        char path[512];
        snprintf(path, sizeof path, ENUM_ROOT "%s", devices[i].instance_id);
        delete_tree_and_empty_parent(path);
        interface_key(devices[i].instance_id, path, sizeof path);
        RegDeleteTreeA(HKEY_LOCAL_MACHINE, path);
        RegDeleteKeyA(HKEY_LOCAL_MACHINE, path);
    }
}
#else
typedef int seed_devices_unused; /* ISO C forbids an empty translation unit */
#endif
