/*
 * libusb half of discovery (contract in hw_scan.h), for Linux and other
 * POSIX systems. libusb's device list gives VID/PID, bus and ports without
 * opening anything; sysfs (world-readable) gives the serial, product and
 * the driver bound to interface 0. "In use" means usbfs owns the interface,
 * i.e. a libusb program claimed it; a program that merely opened the device
 * node is not seen. Only when sysfs lacks the serial is the device opened
 * to read its string descriptor (opening does not claim it on Linux).
 * Its own libusb context lives for one scan only; the list, its free and
 * any open hold the process-wide enumeration lock (usb_enum_lock.h).
 */
#include "hw_scan.h"

#include <errno.h>
#include <libusb.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "discover_rules.h"
#include "open_here.h"
#include "usb_enum_lock.h"

#define SYSFS_DEVICES "/sys/bus/usb/devices/"
#define MAX_PORT_DEPTH 7 /* USB 3 allows at most 7 tiers below the root */

/* First line of a small sysfs file, without its newline; "" when absent. */
static void read_sysfs_line(const char *name, const char *attribute, char *out, size_t size)
{
    char path[PATH_MAX];
    out[0] = '\0';
    snprintf(path, sizeof path, SYSFS_DEVICES "%s/%s", name, attribute);
    FILE *file = fopen(path, "r");
    if (file == NULL)
        return;
    if (fgets(out, (int)size, file) == NULL)
        out[0] = '\0';
    fclose(file);
    out[strcspn(out, "\r\n")] = '\0';
}

/* The kernel driver bound to a sysfs node: the last part of its driver link. */
static void read_sysfs_driver(const char *name, char *out, size_t size)
{
    char path[PATH_MAX];
    char target[PATH_MAX];
    out[0] = '\0';
    snprintf(path, sizeof path, SYSFS_DEVICES "%s/driver", name);
    ssize_t length = readlink(path, target, sizeof target - 1);
    if (length <= 0)
        return;
    target[length] = '\0';
    const char *slash = strrchr(target, '/');
    const char *driver = slash ? slash + 1 : target;
    size_t length_to_copy = strnlen(driver, size - 1); /* driver names are short; cut if not */
    memcpy(out, driver, length_to_copy);
    out[length_to_copy] = '\0';
}

/* sysfs name of the device, e.g. "1-1.4" (bus 1, port 1, then port 4). */
static void sysfs_device_name(libusb_device *device, char *out, size_t size)
{
    uint8_t ports[MAX_PORT_DEPTH];
    int depth = libusb_get_port_numbers(device, ports, MAX_PORT_DEPTH);
    int used = snprintf(out, size, "%u", (unsigned)libusb_get_bus_number(device));
    for (int i = 0; i < depth && used > 0 && (size_t)used < size; i++)
        used += snprintf(out + used, size - (size_t)used, "%c%u", i == 0 ? '-' : '.',
                         (unsigned)ports[i]);
}

static unsigned active_configuration(libusb_device *device)
{
    struct libusb_config_descriptor *config = NULL;
    if (libusb_get_active_config_descriptor(device, &config) != 0 || config == NULL)
        return 1;
    unsigned value = config->bConfigurationValue;
    libusb_free_config_descriptor(config);
    return value;
}

static void read_serial_descriptor(libusb_device *device, uint8_t index, char *out, size_t size)
{
    libusb_device_handle *handle = NULL;
    out[0] = '\0';
    if (index == 0 || libusb_open(device, &handle) != 0)
        return;
    unsigned char text[128];
    int length = libusb_get_string_descriptor_ascii(handle, index, text, sizeof text);
    if (length > 0)
        snprintf(out, size, "%.*s", length, (const char *)text);
    libusb_close(handle);
}

/* A missing node (no usbfs in this sandbox) says nothing about permissions. */
static bool node_accessible(const char *node)
{
    return access(node, R_OK | W_OK) == 0 || errno == ENOENT;
}

static void describe(libusb_device *device, const struct libusb_device_descriptor *descriptor,
                     u2c_found_adapter *a)
{
    memset(a, 0, sizeof *a);
    char name[64];
    char interface_name[80];
    char node[64];
    sysfs_device_name(device, name, sizeof name);
    snprintf(interface_name, sizeof interface_name, "%s:%u.0", name, active_configuration(device));
    snprintf(node, sizeof node, "/dev/bus/usb/%03u/%03u", (unsigned)libusb_get_bus_number(device),
             (unsigned)libusb_get_device_address(device));

    char serial[128];
    read_sysfs_line(name, "serial", serial, sizeof serial);
    if (serial[0] == '\0')
        read_serial_descriptor(device, descriptor->iSerialNumber, serial, sizeof serial);
    if (serial[0] != '\0' && strlen(serial) < sizeof a->info.serial)
        u2c_copy_upper(a->info.serial, sizeof a->info.serial, serial);
    else
        snprintf(a->location, sizeof a->location, "USB port %s", name);
    snprintf(a->port_path, sizeof a->port_path, "%s", name);
    a->open_here = u2c_open_here_find(NULL, name, &a->open_handle);

    char product[128];
    read_sysfs_line(name, "product", product, sizeof product);
    u2c_clean_description(a->info.description, sizeof a->info.description, product);
    read_sysfs_driver(interface_name, a->info.driver, sizeof a->info.driver);

    if (u2c_linux_driver_usable(a->info.driver, interface_name, node_accessible(node), node,
                                a->problem, sizeof a->problem))
        a->info.flags |= USB2CAN_ADAPTER_USABLE;
    if (u2c_linux_driver_in_use(a->info.driver) || a->open_here)
        a->info.flags |= USB2CAN_ADAPTER_IN_USE;
    if (a->info.serial[0] == '\0')
        a->info.flags |= USB2CAN_ADAPTER_NO_SERIAL;
}

bool u2c_hw_scan(u2c_scan *scan, char *reason, size_t reason_size)
{
    libusb_context *context = NULL;
    int rc = libusb_init(&context);
    if (rc != 0) {
        snprintf(reason, reason_size, "cannot list USB devices: libusb_init failed (%s)",
                 libusb_error_name(rc));
        return false;
    }
    libusb_device **devices = NULL;
    u2c_usb_enum_lock();
    ssize_t n = libusb_get_device_list(context, &devices);
    if (n < 0) {
        u2c_usb_enum_unlock();
        snprintf(reason, reason_size, "cannot list USB devices: %s", libusb_error_name((int)n));
        libusb_exit(context);
        return false;
    }
    for (ssize_t i = 0; i < n; i++) {
        struct libusb_device_descriptor descriptor;
        if (libusb_get_device_descriptor(devices[i], &descriptor) != 0 ||
            descriptor.idVendor != U8D_USB_VID || descriptor.idProduct != U8D_USB_PID)
            continue;
        scan->hardware_total++;
        if (scan->hardware < U2C_SCAN_MAX_HARDWARE)
            describe(devices[i], &descriptor, &scan->adapter[scan->hardware++]);
    }
    libusb_free_device_list(devices, 1);
    u2c_usb_enum_unlock();
    libusb_exit(context);
    scan->count = scan->hardware;
    return true;
}
