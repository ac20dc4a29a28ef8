#include "adapter_pick.h"

#include <stdio.h>
#include <string.h>

#include "last_error.h"

/* Hardware adapters found by discovery; none until setupapi/discover.h lands. */
static long list_hardware(usb2canAdapterInfo *list, long max)
{
    (void)list;
    (void)max;
    return 0;
}

static void fill_virtual(usb2canAdapterInfo *info, int index)
{
    memset(info, 0, sizeof *info);
    snprintf(info->serial, sizeof info->serial, "VIRTUAL%d", index);
    snprintf(info->description, sizeof info->description, "virtual adapter (device model)");
    info->flags = USB2CAN_ADAPTER_VIRTUAL | USB2CAN_ADAPTER_USABLE;
}

long u2c_list_adapters(usb2canAdapterInfo *list, long max)
{
    long hardware = list_hardware(list, max);
    if (hardware < 0)
        return -1;
    for (int i = 0; i < U2C_VIRTUAL_ADAPTERS; i++)
        if (hardware + i < max)
            fill_virtual(&list[hardware + i], i);
    return hardware + U2C_VIRTUAL_ADAPTERS;
}

#define PICK_LIST_MAX 16
bool u2c_pick_only_adapter(char *serial, size_t serial_size)
{
    usb2canAdapterInfo list[PICK_LIST_MAX];
    long total = list_hardware(list, PICK_LIST_MAX);
    if (total < 0)
        return false; /* discovery left the reason */
    if (total == 0) {
        u2c_error_set("no serial given and no USB2CAN adapter is connected; plug one in, "
                      "or name one, e.g. \"ED000200; 500\" (\"VIRTUAL; 500\" for the virtual "
                      "adapter)");
        return false;
    }
    if (total > 1) {
        char names[256] = "";
        size_t used = 0;
        for (long i = 0; i < total && i < PICK_LIST_MAX && used < sizeof names; i++) {
            int n =
                snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "", list[i].serial);
            used += n > 0 ? (size_t)n : 0;
        }
        u2c_error_set("no serial given but %ld adapters are connected (%s); name one", total,
                      names);
        return false;
    }
    snprintf(serial, serial_size, "%s", list[0].serial);
    return true;
}
