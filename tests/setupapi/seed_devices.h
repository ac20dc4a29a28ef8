/*
 * seed_devices.h — fake USB devices for SetupAPI discovery tests (Windows
 * programs, run under Wine in a private prefix).
 *
 * Contract: seed_devices writes each device the way Windows (and Wine's
 * registry-backed SetupAPI) keeps it — HKLM\System\CurrentControlSet\Enum\
 * <instance ID> with ClassGUID, Service, DeviceDesc / FriendlyName,
 * "Device Parameters"\DeviceInterfaceGUIDs, and, for devices with an
 * interface, Control\DeviceClasses\{GUID_DEVINTERFACE_USB_DEVICE}\<link>
 * with DeviceInstance, #\SymbolicLink and #\Control\Linked = 1. What the
 * interface path opens is chosen per device: nothing (as under Wine for any
 * device), a free object, or an object another handle holds (a mailslot
 * this process keeps open shared, so a share-nothing open is refused).
 * seed_clear removes every key and object seed_devices made, and also the
 * keys of the given list left behind by an earlier, interrupted run.
 */
#ifndef USB2CAN_TESTS_SEED_DEVICES_H
#define USB2CAN_TESTS_SEED_DEVICES_H

#include <stdbool.h>
#include <stddef.h>

typedef enum seed_interface {
    SEED_NO_INTERFACE,        /* no driver started: no device interface */
    SEED_INTERFACE_NO_OBJECT, /* interface registered; its path opens nothing */
    SEED_INTERFACE_FREE,      /* its path opens */
    SEED_INTERFACE_HELD,      /* its path is held by another handle */
} seed_interface;

typedef struct seed_device {
    const char *instance_id;   /* e.g. "USB\\VID_0483&PID_1234\\ED000200" */
    const char *service;       /* NULL: no Service value */
    const char *device_desc;   /* NULL: none */
    const char *friendly_name; /* NULL: none */
    bool interface_guids;      /* writes Device Parameters\DeviceInterfaceGUIDs */
    seed_interface iface;
} seed_device;

/* Returns false (after printing why) when the registry or an object cannot be made. */
bool seed_devices(const seed_device *devices, size_t count);

/* Writes one more value into a seeded device's Enum key (subkey NULL) or a
 * subkey of it (e.g. "Device Parameters"): size bytes of data of registry
 * type `type` (REG_MULTI_SZ data includes its NULs and final terminator).
 * seed_clear removes it with the device. */
bool seed_device_value(const char *instance_id, const char *subkey, const char *name,
                       unsigned long type, const void *data, size_t size);
void seed_clear(const seed_device *devices, size_t count);

#endif
