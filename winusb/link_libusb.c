/* Placeholder until the libusb link lands: hardware cannot be opened yet. */
#include "link_libusb.h"

#include <stdio.h>

u2c_link *u2c_link_open_libusb(const char *serial, u2c_link_result *result, char *reason,
                               size_t reason_size)
{
    *result = U2C_LINK_NOT_FOUND;
    snprintf(reason, reason_size, "no adapter with serial %s (USB support not built)", serial);
    return NULL;
}
