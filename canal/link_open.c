/* u2c_link_open: remote buses (BUS@HOST) over socketcand, virtual adapters by name,
 * everything else through libusb (link_open.h). */
#include "link_open.h"

#include <stdio.h>

#include "discover.h"
#include "link_libusb.h"
#include "link_socketcand.h"
#include "link_virtual.h"
#include "osal.h"

static u2c_mutex g_factory_lock = U2C_MUTEX_INITIALIZER;
static u2c_link_factory g_factory;

void u2c_link_set_factory(u2c_link_factory factory)
{
    u2c_mutex_lock(&g_factory_lock);
    g_factory = factory;
    u2c_mutex_unlock(&g_factory_lock);
}

static u2c_link *open_by_factory(const char *serial, u2c_link_result *result, char *reason,
                                 size_t reason_size)
{
    u2c_mutex_lock(&g_factory_lock);
    u2c_link_factory factory = g_factory;
    u2c_mutex_unlock(&g_factory_lock);
    *result = U2C_LINK_NOT_FOUND;
    if (factory == NULL)
        return NULL;
    u2c_link *link = factory(serial, result, reason, reason_size);
    if (link == NULL && *result == U2C_LINK_NOT_FOUND)
        reason[0] = '\0';
    return link;
}

u2c_link *u2c_link_open(const char *serial, u2c_link_result *result, char *reason,
                        size_t reason_size)
{
    return u2c_link_open_at(serial, NULL, result, reason, reason_size);
}

u2c_link *u2c_link_open_at(const char *serial, const char *location, u2c_link_result *result,
                           char *reason, size_t reason_size)
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
    if (location != NULL && location[0] == '\0')
        location = NULL;
    if (location != NULL && (serial == NULL || serial[0] == '\0'))
        return u2c_link_open_libusb_at("", location, result, reason, reason_size);
    if (serial == NULL || serial[0] == '\0') {
        *result = U2C_LINK_NOT_FOUND;
        snprintf(reason, reason_size, "no serial number given; name the adapter, e.g. ED000200");
        return NULL;
    }
    if (u2c_socketcand_is_remote(serial))
        return u2c_link_open_socketcand(serial, result, reason, reason_size);
    u2c_link *link = open_by_factory(serial, result, reason, reason_size);
    if (link != NULL || *result != U2C_LINK_NOT_FOUND)
        return link;
    if (u2c_virtual_serial_slot(serial, NULL)) {
        if (location == NULL)
            return u2c_link_open_virtual(serial, result, reason, reason_size);
        *result = U2C_LINK_NOT_FOUND;
        snprintf(reason, reason_size, "%s is a virtual adapter: it has no USB location", serial);
        return NULL;
    }
#if defined(_WIN32)
    /* An unplug often reaches libusb as an I/O error there; SetupAPI tells.
     * It learns first how Windows names this adapter when its instance ID
     * carries no serial, so that the check identifies it as the open did. */
    u2c_discover_learn_serials();
    u2c_link_libusb_set_presence_probe(u2c_discover_attached);
#endif
    return u2c_link_open_libusb_at(serial, location, result, reason, reason_size);
}
