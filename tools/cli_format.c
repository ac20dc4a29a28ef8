#include "cli_format.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "usb2can.h"

#define MICROSECONDS_PER_SECOND 1000000UL

#if defined(__GNUC__)
static size_t put(char *line, size_t size, size_t used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#endif

static size_t put(char *line, size_t size, size_t used, const char *fmt, ...)
{
    if (used >= size)
        return used;
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(line + used, size - used, fmt, args);
    va_end(args);
    if (n < 0)
        return used;
    return used + (size_t)n < size ? used + (size_t)n : size;
}

void cli_format_message(const char *name, const canalMsg *msg, char *line, size_t size)
{
    if (size == 0)
        return;
    line[0] = '\0';
    size_t used =
        put(line, size, 0, "(%04lu.%06lu)  %s  ", msg->timestamp / MICROSECONDS_PER_SECOND,
            msg->timestamp % MICROSECONDS_PER_SECOND, name);
    if (msg->flags & CANAL_IDFLAG_STATUS) {
        const char *status = Usb2canStatusName(msg->id);
        if (status)
            used = put(line, size, used, "status  %s", status);
        else
            used = put(line, size, used, "status  status 0x%02lX", msg->id);
        if (msg->sizeData >= 3)
            used = put(line, size, used, ", rec %u, tec %u", msg->data[1], msg->data[2]);
        /* busoff=auto: the driver re-opened the controller (restart count). */
        if (msg->id == CANAL_STATUSMSG_OK && msg->sizeData >= 4 && msg->data[3] != 0)
            put(line, size, used, ", restarted after bus off (%u)", msg->data[3]);
        return;
    }
    if (msg->flags & CANAL_IDFLAG_EXTENDED)
        used = put(line, size, used, "%08lX", msg->id);
    else
        used = put(line, size, used, "%03lX", msg->id);
    unsigned dlc = msg->sizeData;
    used = put(line, size, used, "   [%u]  ", dlc);
    if (msg->flags & CANAL_IDFLAG_RTR) {
        put(line, size, used, "remote request");
        return;
    }
    for (unsigned i = 0; i < dlc && i < sizeof msg->data; i++)
        used = put(line, size, used, i == 0 ? "%02X" : " %02X", msg->data[i]);
    /* Two spaces end the prefix; a frame without data should not keep them. */
    if (dlc == 0 && used >= 2 && used < size)
        line[used - 2] = '\0';
}

bool cli_vendor_versions(const char *vendor, char *firmware, size_t firmware_size, char *hardware,
                         size_t hardware_size)
{
    if (vendor == NULL)
        return false;
    const char *first = strchr(vendor, ';');
    const char *second = first ? strchr(first + 1, ';') : NULL;
    if (first == NULL || second == NULL || first == vendor || second == first + 1)
        return false;
    snprintf(firmware, firmware_size, "%.*s", (int)(first - vendor), vendor);
    snprintf(hardware, hardware_size, "%.*s", (int)(second - first - 1), first + 1);
    return true;
}
