#include "adapter_pick.h"

#include "discover.h"
#include "last_error.h"

bool u2c_pick_only_adapter(char *serial, size_t serial_size)
{
    char reason[U2C_ERROR_TEXT_MAX] = "";
    if (u2c_discover_only_serial(serial, serial_size, reason, sizeof reason) == U2C_DISCOVER_OK)
        return true;
    u2c_error_set("no serial given: %s", reason[0] ? reason : "no adapter to pick");
    return false;
}

long u2c_list_adapters(usb2canAdapterInfo *list, long max)
{
    char reason[U2C_ERROR_TEXT_MAX] = "";
    long n = u2c_discover_list(list, max, reason, sizeof reason);
    if (n < 0)
        u2c_error_set("Usb2canListAdapters: %s", reason[0] ? reason : "adapter scan failed");
    return n;
}
