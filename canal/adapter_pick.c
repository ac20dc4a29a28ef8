#include "adapter_pick.h"

#include "discover.h"
#include "last_error.h"
#include "link_virtual.h"

bool u2c_pick_only_adapter(char *serial, size_t serial_size)
{
    char reason[U2C_ERROR_TEXT_MAX] = "";
    if (u2c_discover_only_serial(serial, serial_size, reason, sizeof reason) == U2C_DISCOVER_OK)
        return true;
    u2c_error_set("no serial given: %s", reason[0] ? reason : "no adapter to pick");
    return false;
}

/* A listing's count, with its reason set as the last error when it failed. */
static long listed(const char *function, long n, const char *reason)
{
    if (n < 0)
        u2c_error_set("%s: %s", function, reason[0] ? reason : "adapter scan failed");
    return n;
}

long u2c_list_adapters(usb2canAdapterInfo *list, long max)
{
    char reason[U2C_ERROR_TEXT_MAX] = "";
    return listed("Usb2canListAdapters", u2c_discover_list(list, max, reason, sizeof reason),
                  reason);
}

long u2c_list_adapters_ex(usb2canAdapterInfoEx *list, long max)
{
    char reason[U2C_ERROR_TEXT_MAX] = "";
    return listed("Usb2canListAdaptersEx", u2c_discover_list_ex(list, max, reason, sizeof reason),
                  reason);
}

void u2c_explain_link_failure(const char *serial, u2c_link_result result, const char *link_reason)
{
    const char *said = link_reason && link_reason[0] ? link_reason : "cannot open the adapter";
    bool about_presence =
        (result == U2C_LINK_NOT_FOUND || result == U2C_LINK_BUSY || result == U2C_LINK_ACCESS) &&
        !u2c_virtual_serial_slot(serial, NULL);
    char reason[U2C_ERROR_TEXT_MAX] = "";
    int verdict =
        about_presence ? u2c_discover_explain(serial, reason, sizeof reason) : U2C_DISCOVER_FAILED;
    if (verdict == U2C_DISCOVER_FAILED)
        u2c_error_set("%s", said);
    else if (verdict == U2C_DISCOVER_OK) /* the OS lists it and sees nothing wrong */
        u2c_error_set("%s, but libusb cannot open it (libusb: %s)", reason, said);
    else
        u2c_error_set("%s", reason);
}
