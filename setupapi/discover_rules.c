#include "discover_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "usb2can.h"

static bool starts_with_nocase(const char *text, const char *prefix)
{
    for (; *prefix != '\0'; text++, prefix++) {
        if (u2c_ascii_upper(*text) != u2c_ascii_upper(*prefix))
            return false;
    }
    return true;
}

static void set_empty(char *text, size_t size)
{
    if (size > 0)
        text[0] = '\0';
}

bool u2c_parse_instance_id(const char *id, char *serial, size_t serial_size, char *location,
                           size_t location_size)
{
    set_empty(serial, serial_size);
    set_empty(location, location_size);
    if (id == NULL || !starts_with_nocase(id, U2C_INSTANCE_ID_PREFIX))
        return false;
    const char *tail = id + strlen(U2C_INSTANCE_ID_PREFIX);
    size_t tail_length = strlen(tail);
    if (tail_length == 0 || strchr(tail, '\\') != NULL)
        return false;
    bool generated_by_windows = strchr(tail, '&') != NULL;
    if (generated_by_windows || tail_length > USB2CAN_SERIAL_MAX)
        u2c_copy_upper(location, location_size, id);
    else
        u2c_copy_upper(serial, serial_size, tail);
    return true;
}

void u2c_clean_description(char *dst, size_t dst_size, const char *raw)
{
    const char *text = raw ? raw : "";
    const char *last_semicolon = strrchr(text, ';');
    if (text[0] == '@' && last_semicolon != NULL)
        text = last_semicolon + 1;
    if (dst_size > 0)
        snprintf(dst, dst_size, "%s", text[0] != '\0' ? text : "USB2CAN");
}

static bool is_service(const char *service, const char *name)
{
    return u2c_compare_nocase(service, name) == 0;
}

bool u2c_windows_driver_usable(const char *service, bool has_interface_guid, bool libusbk_dll,
                               char *problem, size_t problem_size)
{
    set_empty(problem, problem_size);
    if (service == NULL || service[0] == '\0') {
        snprintf(problem, problem_size, "has no driver installed; bind it to WinUSB with Zadig");
        return false;
    }
    /* The drivers libusb can use, what each needs besides, and what to say
     * when that is missing. */
    static const struct {
        const char *service;
        bool needs_interface_guid; /* otherwise: needs libusbK.dll */
        const char *problem;
    } usable[] = {
        {"WinUSB", true,
         "is bound to WinUSB without a DeviceInterfaceGUIDs entry; reinstall WinUSB with Zadig"},
        {"libusb0", false,
         "is bound to libusb-win32 (libusb0), which libusb reaches only through libusbK.dll, "
         "and libusbK.dll is not installed; pick WinUSB in Zadig (or install libusbK.dll)"},
        {"libusbK", false,
         "is bound to libusbK, but libusbK.dll is not installed; reinstall libusbK with Zadig, "
         "or pick WinUSB there"},
    };
    for (size_t i = 0; i < sizeof usable / sizeof usable[0]; i++) {
        if (!is_service(service, usable[i].service))
            continue;
        if (usable[i].needs_interface_guid ? has_interface_guid : libusbk_dll)
            return true;
        snprintf(problem, problem_size, "%s", usable[i].problem);
        return false;
    }
    snprintf(problem, problem_size,
             "is bound to driver '%s', not WinUSB; bind it to WinUSB with Zadig", service);
    return false;
}

bool u2c_windows_problem(unsigned long code, char *problem, size_t problem_size)
{
    set_empty(problem, problem_size);
    switch (code) {
    case 0:
        return false;
    case 22: /* CM_PROB_DISABLED */
        snprintf(problem, problem_size, "is disabled in Device Manager (code 22); enable it there");
        break;
    case 10: /* CM_PROB_FAILED_START */
        snprintf(problem, problem_size,
                 "could not be started by Windows (Device Manager code 10); unplug it and plug "
                 "it in again, or reinstall WinUSB with Zadig");
        break;
    case 14: /* CM_PROB_NEED_RESTART */
        snprintf(problem, problem_size,
                 "waits for Windows to restart (Device Manager code 14); restart Windows");
        break;
    case 28: /* CM_PROB_FAILED_INSTALL */
        snprintf(problem, problem_size,
                 "has no driver installed (Device Manager code 28); bind it to WinUSB with Zadig");
        break;
    case 43: /* CM_PROB_FAILED_POST_START */
        snprintf(problem, problem_size,
                 "was stopped by Windows after it reported a problem (Device Manager code 43); "
                 "unplug it and plug it in again");
        break;
    default:
        snprintf(problem, problem_size, "has a problem Device Manager reports as code %lu", code);
        break;
    }
    return true;
}

/* Appends the names of a REG_MULTI_SZ list as 'a', 'b'. */
static void append_names(char *text, size_t size, const char *list)
{
    bool first = true;
    for (const char *name = list; name != NULL && *name != '\0'; name += strlen(name) + 1) {
        size_t used = strnlen(text, size);
        if (used + 1 >= size)
            return;
        snprintf(text + used, size - used, "%s'%s'", first ? "" : ", ", name);
        first = false;
    }
}

void u2c_windows_filters(const char *upper, const char *lower, char *text, size_t text_size)
{
    set_empty(text, text_size);
    bool has_upper = upper != NULL && upper[0] != '\0';
    bool has_lower = lower != NULL && lower[0] != '\0';
    if (text_size == 0 || (!has_upper && !has_lower))
        return;
    snprintf(text, text_size, "has filter drivers (");
    if (has_upper) {
        strncat(text, "upper: ", text_size - strlen(text) - 1);
        append_names(text, text_size, upper);
    }
    if (has_lower) {
        strncat(text, has_upper ? "; lower: " : "lower: ", text_size - strlen(text) - 1);
        append_names(text, text_size, lower);
    }
    strncat(text, ")", text_size - strlen(text) - 1);
}

bool u2c_linux_driver_in_use(const char *driver)
{
    return driver != NULL && strcmp(driver, "usbfs") == 0;
}

bool u2c_linux_driver_usable(const char *driver, const char *interface_name, bool node_accessible,
                             const char *node_path, char *problem, size_t problem_size)
{
    set_empty(problem, problem_size);
    bool kernel_owns_it = driver != NULL && driver[0] != '\0' && !u2c_linux_driver_in_use(driver);
    if (kernel_owns_it) {
        snprintf(problem, problem_size,
                 "is bound to the kernel driver '%s'%s; unbind it first: "
                 "echo %s > /sys/bus/usb/drivers/%s/unbind",
                 driver, strcmp(driver, "usb_8dev") == 0 ? " (SocketCAN)" : "", interface_name,
                 driver);
        return false;
    }
    if (!node_accessible) {
        snprintf(problem, problem_size,
                 "cannot be opened: no permission on %s; "
                 "add a udev rule giving your user access to USB device " U8D_USB_ID_TEXT,
                 node_path);
        return false;
    }
    return true;
}

bool u2c_windows_port_number(const char *location_information, const char *location_paths,
                             long address, unsigned *port)
{
    static const char prefix[] = "Port_#";
    if (location_information != NULL &&
        strncmp(location_information, prefix, sizeof prefix - 1) == 0) {
        *port = (unsigned)strtoul(location_information + sizeof prefix - 1, NULL, 10);
        return true;
    }
    if (location_paths != NULL && location_paths[0] != '\0') {
        const char *last = NULL;
        for (const char *p = strstr(location_paths, "#USB("); p != NULL; p = strstr(p + 1, "#USB("))
            last = p;
        if (last != NULL) {
            *port = (unsigned)strtoul(last + 5, NULL, 10);
            return true;
        }
    }
    if (address >= 0) {
        *port = (unsigned)address;
        return true;
    }
    return false;
}

bool u2c_windows_is_root_hub(const char *instance_id)
{
    const char *tail = instance_id != NULL ? strchr(instance_id, '\\') : NULL;
    if (tail == NULL)
        return false;
    char upper[16];
    u2c_copy_upper(upper, sizeof upper, tail + 1);
    return strncmp(upper, "ROOT_HUB", 8) == 0;
}

void u2c_format_port_path(char *out, size_t size, unsigned bus, const unsigned *ports,
                          unsigned depth)
{
    if (size == 0)
        return;
    out[0] = '\0';
    if (depth == 0 || depth > 7)
        return;
    int used = snprintf(out, size, "%u", bus);
    for (unsigned i = 0; i < depth && used > 0 && (size_t)used < size; i++)
        used += snprintf(out + used, size - (size_t)used, "%c%u", i == 0 ? '-' : '.', ports[i]);
}
