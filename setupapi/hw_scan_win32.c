/*
 * SetupAPI half of discovery (contract in hw_scan.h). "In use" is a
 * query-only CreateFile (no access rights, no sharing) of the device's
 * GUID_DEVINTERFACE_USB_DEVICE path: WinUSB admits one program at a time
 * (and libusb opens libusb0 devices unshared), so another program's handle
 * makes it fail with ACCESS_DENIED, SHARING_VIOLATION or BUSY. No request
 * reaches the device. Limits: a driver that allows several opens is never
 * reported in use; a device whose driver is not started has no active
 * interface and is never probed.
 */
#include "hw_scan.h"

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <setupapi.h>
#include <cfgmgr32.h>
#include <winioctl.h>
#include <usbioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "discover_rules.h"
#include "open_here.h"
#include "osal.h"
#include "usb_enum_lock.h"

/* GUID_DEVINTERFACE_USB_DEVICE, under our own name: libusb's static
 * library already defines that symbol. */
static const GUID usb_device_interface = {
    0xA5DCBF10, 0x6530, 0x11D2, {0x90, 0x1F, 0x00, 0xC0, 0x4F, 0xB9, 0x51, 0xED}};

/* Longest instance ID Windows allows (MAX_DEVICE_ID_LEN) plus its NUL. */
#define INSTANCE_ID_SIZE 201

/* A registry property of the expected type, NUL-terminated (a REG_MULTI_SZ
 * list ends in two NULs); "" when absent or of another type. */
static void read_property(HDEVINFO set, SP_DEVINFO_DATA *device, DWORD property, DWORD expected,
                          char *out, size_t size)
{
    DWORD type = 0;
    DWORD terminators = expected == REG_MULTI_SZ ? 2 : 1;
    memset(out, 0, size);
    if (!SetupDiGetDeviceRegistryPropertyA(set, device, property, &type, (BYTE *)out,
                                           (DWORD)size - terminators, NULL) ||
        type != expected)
        memset(out, 0, size);
}

static void read_text_property(HDEVINFO set, SP_DEVINFO_DATA *device, DWORD property, char *out,
                               size_t size)
{
    read_property(set, device, property, REG_SZ, out, size);
}

static void read_list_property(HDEVINFO set, SP_DEVINFO_DATA *device, DWORD property, char *out,
                               size_t size)
{
    read_property(set, device, property, REG_MULTI_SZ, out, size);
}

/* Whether the device's DeviceInterfaceGUIDs (or DeviceInterfaceGUID) names
 * an interface GUID, as libusb needs to open a WinUSB device. The value may
 * hold any number of GUIDs, so it is read whole: libusb 1.0.27 and later
 * (the Windows builds link 1.0.28, link_libusb.c checks) read the list and
 * take the first; 1.0.26 failed on a second one. */
static bool has_interface_guid(HDEVINFO set, SP_DEVINFO_DATA *device)
{
    HKEY key = SetupDiOpenDevRegKey(set, device, DICS_FLAG_GLOBAL, 0, DIREG_DEV, KEY_READ);
    if (key == INVALID_HANDLE_VALUE)
        return false;
    static const char *const names[] = {"DeviceInterfaceGUIDs", "DeviceInterfaceGUID"};
    bool found = false;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !found; i++) {
        DWORD type = 0, size = 0;
        if (RegQueryValueExA(key, names[i], NULL, &type, NULL, &size) != ERROR_SUCCESS ||
            (type != REG_SZ && type != REG_MULTI_SZ) || size == 0)
            continue;
        char *value = calloc(1, (size_t)size + 2); /* + terminators the data may lack */
        if (value == NULL)
            break;
        if (RegQueryValueExA(key, names[i], NULL, &type, (BYTE *)value, &size) == ERROR_SUCCESS)
            found = value[0] == '{';
        free(value);
    }
    RegCloseKey(key);
    return found;
}

/* libusb loads libusbK.dll from the system directory to reach libusbK and
 * libusb0 (libusb-win32) devices; it opens nothing without it. */
static bool libusbk_dll_installed(void)
{
    char path[MAX_PATH + 16];
    UINT n = GetSystemDirectoryA(path, MAX_PATH);
    if (n == 0 || n >= MAX_PATH)
        return false;
    snprintf(path + n, sizeof path - n, "\\libusbK.dll");
    DWORD attributes = GetFileAttributesA(path);
    return attributes != INVALID_FILE_ATTRIBUTES && !(attributes & FILE_ATTRIBUTE_DIRECTORY);
}

/* GUID_DEVINTERFACE_USB_HUB, under our own name too. */
static const GUID usb_hub_interface = {
    0xF18A0E88, 0xC30C, 0x11D0, {0x88, 0x15, 0x00, 0xA0, 0xC9, 0x06, 0xBE, 0xD8}};

/* The path of the device's first interface of class guid. */
static bool interface_path_of(const GUID *guid, const char *instance_id, char *path, size_t size)
{
    HDEVINFO set =
        SetupDiGetClassDevsA(guid, instance_id, NULL, DIGCF_DEVICEINTERFACE | DIGCF_PRESENT);
    if (set == INVALID_HANDLE_VALUE)
        return false;
    bool found = false;
    SP_DEVICE_INTERFACE_DATA iface = {.cbSize = sizeof iface};
    if (SetupDiEnumDeviceInterfaces(set, NULL, guid, 0, &iface)) {
        union {
            SP_DEVICE_INTERFACE_DETAIL_DATA_A detail;
            char bytes[sizeof(SP_DEVICE_INTERFACE_DETAIL_DATA_A) + 2 * MAX_PATH];
        } buffer;
        buffer.detail.cbSize = sizeof buffer.detail;
        if (SetupDiGetDeviceInterfaceDetailA(set, &iface, &buffer.detail, sizeof buffer, NULL,
                                             NULL)) {
            snprintf(path, size, "%s", buffer.detail.DevicePath);
            found = true;
        }
    }
    SetupDiDestroyDeviceInfoList(set);
    return found;
}

/* The probe holds the device unshared for a moment: inside the enumeration
 * lock, so that it never overlaps an open by another thread of this
 * process (which WinUSB would then refuse as "in use"). */
static bool held_by_another_program(const char *instance_id)
{
    char path[2 * MAX_PATH];
    if (!interface_path_of(&usb_device_interface, instance_id, path, sizeof path))
        return false;
    u2c_usb_enum_lock();
    HANDLE handle = CreateFileA(path, 0, 0, NULL, OPEN_EXISTING, 0, NULL);
    DWORD error = handle == INVALID_HANDLE_VALUE ? GetLastError() : ERROR_SUCCESS;
    if (handle != INVALID_HANDLE_VALUE)
        CloseHandle(handle);
    u2c_usb_enum_unlock();
    if (error == ERROR_SUCCESS)
        return false;
    return error == ERROR_ACCESS_DENIED || error == ERROR_SHARING_VIOLATION || error == ERROR_BUSY;
}

/* The serial string descriptor of a device, asked of its parent hub
 * (IOCTL_USB_GET_DESCRIPTOR_FROM_NODE_CONNECTION on the port the device's
 * address names): the device itself is not opened, so one that another
 * program holds is read as well. ASCII only, as serials are. */
static bool serial_from_hub(const char *instance_id, char *serial, size_t size)
{
    DEVINST device, hub;
    ULONG port = 0, length = sizeof port;
    char hub_id[INSTANCE_ID_SIZE];
    char path[2 * MAX_PATH];
    if (CM_Locate_DevNodeA(&device, (DEVINSTID_A)instance_id, CM_LOCATE_DEVNODE_NORMAL) !=
            CR_SUCCESS ||
        CM_Get_DevNode_Registry_PropertyA(device, CM_DRP_ADDRESS, NULL, &port, &length, 0) !=
            CR_SUCCESS ||
        port == 0 || CM_Get_Parent(&hub, device, 0) != CR_SUCCESS ||
        CM_Get_Device_IDA(hub, hub_id, sizeof hub_id, 0) != CR_SUCCESS ||
        !interface_path_of(&usb_hub_interface, hub_id, path, sizeof path))
        return false;
    HANDLE handle =
        CreateFileA(path, GENERIC_WRITE, FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
    if (handle == INVALID_HANDLE_VALUE)
        return false;
    bool ok = false;
    USB_NODE_CONNECTION_INFORMATION_EX info;
    memset(&info, 0, sizeof info);
    info.ConnectionIndex = port;
    DWORD got = 0;
    if (DeviceIoControl(handle, IOCTL_USB_GET_NODE_CONNECTION_INFORMATION_EX, &info, sizeof info,
                        &info, sizeof info, &got, NULL) &&
        info.DeviceDescriptor.iSerialNumber != 0) {
        union {
            USB_DESCRIPTOR_REQUEST request;
            UCHAR bytes[sizeof(USB_DESCRIPTOR_REQUEST) + 255];
        } buffer;
        memset(&buffer, 0, sizeof buffer);
        buffer.request.ConnectionIndex = port;
        buffer.request.SetupPacket.bmRequest = 0x80; /* device to host, standard, device */
        buffer.request.SetupPacket.bRequest = USB_REQUEST_GET_DESCRIPTOR;
        buffer.request.SetupPacket.wValue =
            (USHORT)(USB_STRING_DESCRIPTOR_TYPE << 8 | info.DeviceDescriptor.iSerialNumber);
        buffer.request.SetupPacket.wIndex = 0x0409; /* US English */
        buffer.request.SetupPacket.wLength = 255;
        if (DeviceIoControl(handle, IOCTL_USB_GET_DESCRIPTOR_FROM_NODE_CONNECTION, &buffer,
                            sizeof buffer, &buffer, sizeof buffer, &got, NULL) &&
            got > sizeof(USB_DESCRIPTOR_REQUEST) + 2) {
            const UCHAR *d = buffer.bytes + sizeof(USB_DESCRIPTOR_REQUEST);
            size_t n = 0;
            for (size_t i = 2;
                 i + 1 < d[0] && i + 1 < got - sizeof(USB_DESCRIPTOR_REQUEST) && n + 1 < size;
                 i += 2)
                serial[n++] = d[i + 1] == 0 && d[i] >= 0x20 && d[i] < 0x7F ? (char)d[i] : '?';
            serial[n] = '\0';
            ok = n > 0 && d[1] == USB_STRING_DESCRIPTOR_TYPE;
        }
    }
    CloseHandle(handle);
    return ok;
}

/* Port-made instance IDs and the serial their descriptor gave, as the last
 * scan or u2c_discover_learn_serials read it. */
#define LEARNED_MAX 32

static struct {
    u2c_mutex lock; /* guards everything below */
    u2c_serial_reader reader;
    struct {
        char instance_id[INSTANCE_ID_SIZE];
        char serial[U2C_SERIAL_TEXT];
    } learned[LEARNED_MAX];
    unsigned next_learned; /* the slot a new instance ID takes when all are used */
} serial_source = {.lock = U2C_MUTEX_INITIALIZER, .reader = serial_from_hub};

static void learn_locked(const char *instance_id, const char *serial)
{
    size_t slot = LEARNED_MAX;
    for (size_t i = 0; i < LEARNED_MAX && slot == LEARNED_MAX; i++)
        if (u2c_compare_nocase(serial_source.learned[i].instance_id, instance_id) == 0 ||
            serial_source.learned[i].instance_id[0] == '\0')
            slot = i;
    if (slot == LEARNED_MAX)
        slot = serial_source.next_learned++ % LEARNED_MAX;
    snprintf(serial_source.learned[slot].instance_id, INSTANCE_ID_SIZE, "%s", instance_id);
    u2c_copy_upper(serial_source.learned[slot].serial, U2C_SERIAL_TEXT, serial);
}

/* The serial learned for a port-made instance ID; false when none is. */
static bool learned_serial(const char *instance_id, char *serial, size_t size)
{
    bool found = false;
    u2c_mutex_lock(&serial_source.lock);
    for (size_t i = 0; i < LEARNED_MAX && !found; i++) {
        if (serial_source.learned[i].instance_id[0] != '\0' &&
            u2c_compare_nocase(serial_source.learned[i].instance_id, instance_id) == 0) {
            snprintf(serial, size, "%s", serial_source.learned[i].serial);
            found = true;
        }
    }
    u2c_mutex_unlock(&serial_source.lock);
    return found;
}

void u2c_hw_set_serial_reader(u2c_serial_reader reader)
{
    u2c_mutex_lock(&serial_source.lock);
    serial_source.reader = reader != NULL ? reader : serial_from_hub;
    u2c_mutex_unlock(&serial_source.lock);
}

/* A serial for an adapter whose instance ID has none, from its descriptor;
 * kept only if a setup string can name it. */
static void read_missing_serial(const char *instance_id, u2c_found_adapter *a)
{
    u2c_mutex_lock(&serial_source.lock);
    u2c_serial_reader reader = serial_source.reader;
    u2c_mutex_unlock(&serial_source.lock);
    char serial[64];
    if (!reader(instance_id, serial, sizeof serial) || serial[0] == '\0' ||
        strlen(serial) >= sizeof a->info.serial || strlen(serial) > USB2CAN_SERIAL_MAX ||
        strpbrk(serial, "; ") != NULL)
        return;
    u2c_copy_upper(a->info.serial, sizeof a->info.serial, serial);
    u2c_mutex_lock(&serial_source.lock);
    learn_locked(instance_id, a->info.serial);
    u2c_mutex_unlock(&serial_source.lock);
}

/* GUID_DEVINTERFACE_USB_HOST_CONTROLLER, under our own name too. */
static const GUID usb_host_controller_interface = {
    0x3ABF6F2D, 0x71C4, 0x462A, {0x8A, 0x92, 0x1E, 0x68, 0x61, 0xE6, 0xAF, 0x27}};

static bool port_of(DEVINST devinst, unsigned *port)
{
    char information[128] = "", paths[512] = "";
    ULONG length = sizeof information - 1;
    CM_Get_DevNode_Registry_PropertyA(devinst, CM_DRP_LOCATION_INFORMATION, NULL, information,
                                      &length, 0);
    length = sizeof paths - 2;
    CM_Get_DevNode_Registry_PropertyA(devinst, CM_DRP_LOCATION_PATHS, NULL, paths, &length, 0);
    ULONG address = 0;
    length = sizeof address;
    long known_address = CM_Get_DevNode_Registry_PropertyA(devinst, CM_DRP_ADDRESS, NULL, &address,
                                                           &length, 0) == CR_SUCCESS
                             ? (long)address
                             : -1;
    return u2c_windows_port_number(information, paths, known_address, port);
}

/* libusb 1.0.26 numbers buses by the order in which SetupAPI lists the
 * host controllers' device interfaces, from 1. */
static unsigned bus_of_host_controller(DEVINST controller)
{
    HDEVINFO set = SetupDiGetClassDevsA(&usb_host_controller_interface, NULL, NULL,
                                        DIGCF_PRESENT | DIGCF_DEVICEINTERFACE);
    if (set == INVALID_HANDLE_VALUE)
        return 0;
    unsigned bus = 0;
    SP_DEVICE_INTERFACE_DATA iface = {.cbSize = sizeof iface};
    for (DWORD i = 0; bus == 0 && SetupDiEnumDeviceInterfaces(
                                      set, NULL, &usb_host_controller_interface, i, &iface);
         i++) {
        SP_DEVINFO_DATA data = {.cbSize = sizeof data};
        if (SetupDiGetDeviceInterfaceDetailA(set, &iface, NULL, 0, NULL, &data) ||
            GetLastError() == ERROR_INSUFFICIENT_BUFFER)
            if (data.DevInst == controller)
                bus = (unsigned)i + 1;
    }
    SetupDiDestroyDeviceInfoList(set);
    return bus;
}

/* "1-4.2" as libusb reports the device's place (libusb_get_bus_number and
 * libusb_get_port_numbers): the ports from the root hub down, each read as
 * libusb reads it; "" when the chain cannot be followed to a root hub. */
static void port_path_of(DEVINST devinst, char *out, size_t size)
{
    unsigned up[7];
    unsigned depth = 0;
    out[0] = '\0';
    for (DEVINST d = devinst;;) {
        DEVINST parent;
        char parent_id[INSTANCE_ID_SIZE];
        if (depth == 7 || !port_of(d, &up[depth]) || CM_Get_Parent(&parent, d, 0) != CR_SUCCESS ||
            CM_Get_Device_IDA(parent, parent_id, sizeof parent_id, 0) != CR_SUCCESS)
            return;
        depth++;
        if (u2c_windows_is_root_hub(parent_id)) {
            DEVINST controller;
            if (CM_Get_Parent(&controller, parent, 0) != CR_SUCCESS)
                return;
            unsigned bus = bus_of_host_controller(controller);
            if (bus == 0)
                return;
            unsigned ports[7];
            for (unsigned i = 0; i < depth; i++)
                ports[i] = up[depth - 1 - i];
            u2c_format_port_path(out, size, bus, ports, depth);
            return;
        }
        d = parent;
    }
}

static void describe(HDEVINFO set, SP_DEVINFO_DATA *device, const char *instance_id,
                     u2c_found_adapter *a)
{
    memset(a, 0, sizeof *a);
    u2c_parse_instance_id(instance_id, a->info.serial, sizeof a->info.serial, a->location,
                          sizeof a->location);
    if (a->info.serial[0] == '\0')
        read_missing_serial(instance_id, a);
    port_path_of(device->DevInst, a->port_path, sizeof a->port_path);
    read_text_property(set, device, SPDRP_SERVICE, a->info.driver, sizeof a->info.driver);

    char description[256];
    read_text_property(set, device, SPDRP_FRIENDLYNAME, description, sizeof description);
    if (description[0] == '\0')
        read_text_property(set, device, SPDRP_DEVICEDESC, description, sizeof description);
    u2c_clean_description(a->info.description, sizeof a->info.description, description);

    /* What Device Manager shows as a problem (disabled, failed to start,
     * restart pending) comes first: no driver choice helps before it is gone. */
    ULONG status = 0, code = 0;
    bool has_problem = CM_Get_DevNode_Status(&status, &code, device->DevInst, 0) == CR_SUCCESS &&
                       (status & DN_HAS_PROBLEM) != 0 &&
                       u2c_windows_problem(code, a->problem, sizeof a->problem);
    if (!has_problem &&
        u2c_windows_driver_usable(a->info.driver, has_interface_guid(set, device),
                                  libusbk_dll_installed(), a->problem, sizeof a->problem))
        a->info.flags |= USB2CAN_ADAPTER_USABLE;
    char upper[128], lower[128];
    read_list_property(set, device, SPDRP_UPPERFILTERS, upper, sizeof upper);
    read_list_property(set, device, SPDRP_LOWERFILTERS, lower, sizeof lower);
    u2c_windows_filters(upper, lower, a->filters, sizeof a->filters);
    /* One this process holds is not probed: it is ours, not another program's. */
    a->open_here =
        a->info.serial[0] != '\0' && u2c_open_here_find(a->info.serial, NULL, &a->open_handle);
    if (a->open_here || held_by_another_program(instance_id))
        a->info.flags |= USB2CAN_ADAPTER_IN_USE;
    if (a->info.serial[0] == '\0')
        a->info.flags |= USB2CAN_ADAPTER_NO_SERIAL;
}

bool u2c_discover_attached(const char *serial)
{
    if (serial == NULL || serial[0] == '\0')
        return false;
    HDEVINFO set = SetupDiGetClassDevsA(NULL, "USB", NULL, DIGCF_ALLCLASSES | DIGCF_PRESENT);
    if (set == INVALID_HANDLE_VALUE)
        return true; /* cannot tell: do not claim an unplug */
    bool found = false;
    SP_DEVINFO_DATA device = {.cbSize = sizeof device};
    for (DWORD i = 0; !found && SetupDiEnumDeviceInfo(set, i, &device); i++) {
        char instance_id[INSTANCE_ID_SIZE];
        char listed[U2C_SERIAL_TEXT];
        if (!SetupDiGetDeviceInstanceIdA(set, &device, instance_id, sizeof instance_id, NULL) ||
            !u2c_parse_instance_id(instance_id, listed, sizeof listed, NULL, 0))
            continue;
        /* A port-made ID names no serial: the one its descriptor gave counts. */
        if (listed[0] == '\0' && !learned_serial(instance_id, listed, sizeof listed))
            continue;
        found = u2c_compare_nocase(listed, serial) == 0;
    }
    SetupDiDestroyDeviceInfoList(set);
    return found;
}

void u2c_discover_learn_serials(void)
{
    HDEVINFO set = SetupDiGetClassDevsA(NULL, "USB", NULL, DIGCF_ALLCLASSES | DIGCF_PRESENT);
    if (set == INVALID_HANDLE_VALUE)
        return;
    SP_DEVINFO_DATA device = {.cbSize = sizeof device};
    for (DWORD i = 0; SetupDiEnumDeviceInfo(set, i, &device); i++) {
        char instance_id[INSTANCE_ID_SIZE];
        char listed[U2C_SERIAL_TEXT];
        if (!SetupDiGetDeviceInstanceIdA(set, &device, instance_id, sizeof instance_id, NULL) ||
            !u2c_parse_instance_id(instance_id, listed, sizeof listed, NULL, 0) ||
            listed[0] != '\0')
            continue;
        u2c_found_adapter scratch;
        memset(&scratch, 0, sizeof scratch);
        read_missing_serial(instance_id, &scratch); /* learns what it reads */
    }
    SetupDiDestroyDeviceInfoList(set);
}

bool u2c_hw_scan(u2c_scan *scan, char *reason, size_t reason_size)
{
    HDEVINFO set = SetupDiGetClassDevsA(NULL, "USB", NULL, DIGCF_ALLCLASSES | DIGCF_PRESENT);
    if (set == INVALID_HANDLE_VALUE) {
        snprintf(reason, reason_size,
                 "cannot list USB devices: SetupDiGetClassDevs failed (Windows error %lu)",
                 (unsigned long)GetLastError());
        return false;
    }
    SP_DEVINFO_DATA device = {.cbSize = sizeof device};
    for (DWORD i = 0; SetupDiEnumDeviceInfo(set, i, &device); i++) {
        char instance_id[INSTANCE_ID_SIZE];
        if (!SetupDiGetDeviceInstanceIdA(set, &device, instance_id, sizeof instance_id, NULL))
            continue;
        if (!u2c_parse_instance_id(instance_id, NULL, 0, NULL, 0))
            continue;
        scan->hardware_total++;
        if (scan->hardware < U2C_SCAN_MAX_HARDWARE)
            describe(set, &device, instance_id, &scan->adapter[scan->hardware++]);
    }
    SetupDiDestroyDeviceInfoList(set);
    scan->count = scan->hardware;
    return true;
}
