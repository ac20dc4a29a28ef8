/* u2c_link_open: virtual adapters by name, everything else through libusb (link.h). */
#include "link.h"

#include <stdio.h>

#include "link_libusb.h"
#include "link_virtual.h"

u2c_link *u2c_link_open(const char *serial, u2c_link_result *result, char *reason,
                        size_t reason_size)
{
    u2c_link_result dummy;
    char scratch[1];
    if (result == NULL)
        result = &dummy;
    if (reason == NULL || reason_size == 0) {
        reason = scratch;
        reason_size = sizeof scratch;
    }
    reason[0] = '\0';
    if (serial == NULL || serial[0] == '\0') {
        *result = U2C_LINK_NOT_FOUND;
        snprintf(reason, reason_size, "no serial number given; name the adapter, e.g. ED000200");
        return NULL;
    }
    if (u2c_virtual_serial_slot(serial, NULL))
        return u2c_link_open_virtual(serial, result, reason, reason_size);
    return u2c_link_open_libusb(serial, result, reason, reason_size);
}
