/* usbfs_mock.c — see usbfs_mock.h. Mechanism: a UMockdevIoctlBase per
 * device node receives the usbfs ioctls of every fd opened on it; URB
 * structs and buffers are resolved into local copies that umockdev syncs
 * back when an ioctl completes (REAPURBNDELAY hands back a submitted URB
 * through umockdev_ioctl_data_set_ptr). */
#include "usbfs_mock.h"

#include <errno.h>
#include <linux/ioctl.h>
#include <linux/usbdevice_fs.h>
#include <stdio.h>
#include <string.h>

#include <umockdev.h>

#include "osal.h"

#define BUS_NUMBER 1u
#define FIRST_DEVNUM 2u
#define CONTROL_SETUP_SIZE 8
#define RX_RECORD 21

typedef struct mock_urb {
    UMockdevIoctlData *data; /* the client's struct usbdevfs_urb, buffer resolved */
    UMockdevIoctlClient *client;
    uint8_t endpoint;
    bool done; /* completed, waiting to be reaped */
} mock_urb;

struct mock_bus {
    UMockdevTestbed *testbed;
    u2c_mutex lock; /* osal (pthreads), which ThreadSanitizer understands */
    GList *devices;
    unsigned next_devnum;
};

struct mock_usb {
    mock_bus *bus;
    mock_identity id;
    const mock_device_ops *ops;
    void *device;
    UMockdevIoctlBase *handler; /* of the current device node */
    GList *old_handlers;        /* of earlier plugs, kept until the bus goes */
    char syspath[64];
    char devnode[64];
    unsigned devnum;
    bool plugged;
    int fail_errno; /* unplugged by mock_usb_fail_io: what ioctls fail with (else ENODEV) */
    GList *urbs;    /* mock_urb*, in submission order */
    UMockdevIoctlClient *claimed_by;
    unsigned rotate; /* which endpoint gets the first chance on the next reap */
    mock_wire_stats stats;
    uint8_t command_log[MOCK_COMMAND_LOG][16];
    size_t command_count;
};

/* --- descriptors --------------------------------------------------------- */

static size_t device_descriptors(const mock_identity *id, uint8_t *out)
{
    static const uint8_t device[18] = {18,   1,    0x00, 0x02, 0xFF, 0xFF, 0x00, 64, 0x83,
                                       0x04, 0x34, 0x12, 0x00, 0x01, 1,    2,    3,  1};
    static const uint8_t config[46] = {
        9, 2, 46,   0, 1,  1,    0,    0x80, 0x32,                    /* configuration */
        9, 4, 0,    0, 4,  0xFF, 0xFF, 0xFF, 0,                       /* interface 0 */
        7, 5, 0x81, 2, 64, 0,    0,    7,    5,    0x02, 2, 64, 0, 0, /* data in/out */
        7, 5, 0x83, 2, 64, 0,    0,    7,    5,    0x04, 2, 64, 0, 0, /* command in/out */
    };
    memcpy(out, device, sizeof device);
    out[4] = id->device_class;
    out[5] = id->device_class ? 0xFF : 0x00;
    memcpy(out + sizeof device, config, sizeof config);
    return sizeof device + sizeof config;
}

static const char *string_for(const mock_identity *id, unsigned index)
{
    switch (index) {
    case 1:
        return id->manufacturer;
    case 2:
        return id->product;
    case 3:
        return id->serial;
    default:
        return NULL;
    }
}

/* A GET_DESCRIPTOR(STRING) answer: UTF-16LE from ASCII. */
static int string_descriptor(const mock_identity *id, unsigned index, uint8_t *out, size_t max)
{
    uint8_t d[2 + 2 * 126];
    size_t len;
    if (index == 0) {
        d[2] = 0x09;
        d[3] = 0x04;
        len = 4;
    } else {
        const char *s = string_for(id, index);
        if (!s)
            return -EPIPE;
        size_t n = strlen(s);
        for (size_t i = 0; i < n; i++) {
            d[2 + 2 * i] = (uint8_t)s[i];
            d[3 + 2 * i] = 0;
        }
        len = 2 + 2 * n;
    }
    d[0] = (uint8_t)len;
    d[1] = 3;
    if (len > max)
        len = max;
    memcpy(out, d, len);
    return (int)len;
}

/* Answers a control transfer; returns data length or a negative errno (stall). */
static int control_request(mock_usb *usb, uint8_t *buffer, size_t length)
{
    if (length < CONTROL_SETUP_SIZE)
        return -EINVAL;
    uint8_t request_type = buffer[0], request = buffer[1];
    unsigned value = (unsigned)(buffer[2] | buffer[3] << 8);
    size_t wanted = (size_t)(buffer[6] | buffer[7] << 8);
    uint8_t *data = buffer + CONTROL_SETUP_SIZE;
    size_t room = length - CONTROL_SETUP_SIZE;
    if (wanted > room)
        wanted = room;
    if (request_type == 0x80 && request == 6 && (value >> 8) == 3)
        return string_descriptor(&usb->id, value & 0xFF, data, wanted);
    if (request_type == 0x80 && request == 6 && (value >> 8) == 1) {
        uint8_t all[64];
        device_descriptors(&usb->id, all);
        size_t n = wanted < 18 ? wanted : 18;
        memcpy(data, all, n);
        return (int)n;
    }
    return -EPIPE;
}

/* --- URB bookkeeping ------------------------------------------------------ */

static struct usbdevfs_urb *urb_of(mock_urb *m)
{
    return (struct usbdevfs_urb *)m->data->data;
}

static void urb_finish(mock_usb *usb, mock_urb *m, int status, int actual)
{
    (void)usb;
    struct usbdevfs_urb *urb = urb_of(m);
    urb->status = status;
    urb->actual_length = actual;
    m->done = true;
}

static void urb_free(mock_urb *m)
{
    g_object_unref(m->data);
    g_free(m);
}

static unsigned records_in(size_t bytes)
{
    unsigned n = (unsigned)(bytes / RX_RECORD);
    return n > 3 ? 3 : n;
}

/* Gives the device one chance to complete the oldest URB on endpoint ep. */
static void endpoint_advance(mock_usb *usb, uint8_t ep)
{
    for (GList *l = usb->urbs; l; l = l->next) {
        mock_urb *m = l->data;
        if (m->done || m->endpoint != ep)
            continue;
        struct usbdevfs_urb *urb = urb_of(m);
        if (ep & 0x80) {
            int n = usb->ops->in(usb->device, ep, urb->buffer, (size_t)urb->buffer_length);
            if (n == MOCK_IN_NAK)
                return;
            if (n < 0) {
                urb_finish(usb, m, n, 0); /* a transfer error, as the host controller reports it */
                return;
            }
            urb_finish(usb, m, 0, n);
            if (ep == 0x81) {
                usb->stats.in_packets++;
                usb->stats.in_bytes += (unsigned)n;
                usb->stats.in_by_records[records_in((size_t)n)]++;
            }
        } else {
            if (!usb->ops->out(usb->device, ep, urb->buffer, (size_t)urb->buffer_length))
                return;
            urb_finish(usb, m, 0, urb->buffer_length);
            if (ep == 0x04) {
                if (usb->command_count < MOCK_COMMAND_LOG)
                    memcpy(usb->command_log[usb->command_count], urb->buffer,
                           urb->buffer_length < 16 ? (size_t)urb->buffer_length : 16);
                usb->command_count++;
                usb->stats.commands++;
            } else if (ep == 0x02) {
                usb->stats.tx_transfers++;
                if (urb->buffer_length != 16)
                    usb->stats.tx_bad_length++;
            }
        }
        return;
    }
}

static void device_advance(mock_usb *usb)
{
    static const uint8_t endpoints[] = {0x04, 0x83, 0x02, 0x81};
    for (size_t i = 0; i < sizeof endpoints; i++)
        endpoint_advance(usb, endpoints[(usb->rotate + i) % sizeof endpoints]);
    usb->rotate++;
}

static void complete(UMockdevIoctlClient *client, long result, int error)
{
    umockdev_ioctl_client_complete(client, result, error);
}

static void ioctl_submit(mock_usb *usb, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
    if (!usb->plugged) {
        complete(client, -1, usb->fail_errno ? usb->fail_errno : ENODEV);
        return;
    }
    UMockdevIoctlData *data =
        umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_urb), NULL);
    struct usbdevfs_urb *urb = (struct usbdevfs_urb *)data->data;
    UMockdevIoctlData *buffer = umockdev_ioctl_data_resolve(
        data, G_STRUCT_OFFSET(struct usbdevfs_urb, buffer), (gsize)urb->buffer_length, NULL);
    g_object_unref(buffer); /* the URB data keeps it alive */
    mock_urb *m = g_new0(mock_urb, 1);
    m->data = g_object_ref(data);
    m->client = client;
    m->endpoint = urb->endpoint;
    usb->urbs = g_list_append(usb->urbs, m);
    if (urb->type == USBDEVFS_URB_TYPE_CONTROL) {
        int n = control_request(usb, urb->buffer, (size_t)urb->buffer_length);
        urb_finish(usb, m, n < 0 ? n : 0, n < 0 ? 0 : n);
    } else if (urb->type != USBDEVFS_URB_TYPE_BULK) {
        urb_finish(usb, m, -EINVAL, 0);
    }
    g_object_unref(data);
    complete(client, 0, 0);
}

static void ioctl_reap(mock_usb *usb, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
    if (usb->plugged)
        device_advance(usb);
    for (GList *l = usb->urbs; l; l = l->next) {
        mock_urb *m = l->data;
        if (!m->done || m->client != client)
            continue;
        usb->urbs = g_list_delete_link(usb->urbs, l);
        UMockdevIoctlData *ptr = umockdev_ioctl_data_resolve(arg, 0, sizeof(gpointer), NULL);
        umockdev_ioctl_data_set_ptr(ptr, 0, m->data);
        complete(client, 0, 0);
        g_object_unref(ptr);
        urb_free(m);
        return;
    }
    complete(client, -1, usb->plugged || usb->fail_errno ? EAGAIN : ENODEV);
}

static void ioctl_discard(mock_usb *usb, UMockdevIoctlClient *client, UMockdevIoctlData *arg)
{
    gulong address = (gulong) * (void **)arg->data;
    for (GList *l = usb->urbs; l; l = l->next) {
        mock_urb *m = l->data;
        if (m->client == client && m->data->client_addr == address && !m->done) {
            urb_finish(usb, m, -ENOENT, 0);
            usb->stats.discarded++;
            complete(client, 0, 0);
            return;
        }
    }
    complete(client, -1, EINVAL);
}

static void ioctl_claim(mock_usb *usb, UMockdevIoctlClient *client)
{
    if (usb->claimed_by && usb->claimed_by != client) {
        complete(client, -1, EBUSY);
        return;
    }
    usb->claimed_by = client;
    complete(client, 0, 0);
}

static gboolean on_ioctl(UMockdevIoctlBase *handler, UMockdevIoctlClient *client, gpointer user)
{
    (void)handler;
    mock_usb *usb = user;
    gulong request = umockdev_ioctl_client_get_request(client);
    UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);

    u2c_mutex_lock(&usb->bus->lock);
    if (!usb->plugged && request != USBDEVFS_REAPURBNDELAY && request != USBDEVFS_REAPURB) {
        complete(client, -1, usb->fail_errno ? usb->fail_errno : ENODEV);
    } else {
        switch (request) {
        case USBDEVFS_GET_CAPABILITIES: {
            UMockdevIoctlData *caps = umockdev_ioctl_data_resolve(arg, 0, sizeof(guint32), NULL);
            *(guint32 *)caps->data = USBDEVFS_CAP_BULK_CONTINUATION |
                                     USBDEVFS_CAP_NO_PACKET_SIZE_LIM |
                                     USBDEVFS_CAP_REAP_AFTER_DISCONNECT;
            complete(client, 0, 0);
            g_object_unref(caps);
            break;
        }
        case USBDEVFS_SUBMITURB:
            ioctl_submit(usb, client, arg);
            break;
        case USBDEVFS_REAPURB:
        case USBDEVFS_REAPURBNDELAY:
            ioctl_reap(usb, client, arg);
            break;
        case USBDEVFS_DISCARDURB:
            ioctl_discard(usb, client, arg);
            break;
        case USBDEVFS_CLAIMINTERFACE:
        case USBDEVFS_DISCONNECT_CLAIM:
            ioctl_claim(usb, client);
            break;
        case USBDEVFS_RELEASEINTERFACE:
            if (usb->claimed_by == client)
                usb->claimed_by = NULL;
            complete(client, 0, 0);
            break;
        case USBDEVFS_IOCTL: /* (re)attach a kernel driver: there is none */
            complete(client, -1, ENODATA);
            break;
        case USBDEVFS_CLEAR_HALT:
        case USBDEVFS_RESETEP:
            complete(client, 0, 0);
            break;
        default:
            complete(client, -1, ENOTTY);
            break;
        }
    }
    u2c_mutex_unlock(&usb->bus->lock);
    return TRUE;
}

/* An fd was closed: the kernel drops its URBs and its claim. */
static void on_client_vanished(UMockdevIoctlBase *handler, UMockdevIoctlClient *client,
                               gpointer user)
{
    (void)handler;
    mock_usb *usb = user;
    u2c_mutex_lock(&usb->bus->lock);
    for (GList *l = usb->urbs; l;) {
        GList *next = l->next;
        mock_urb *m = l->data;
        if (m->client == client) {
            usb->urbs = g_list_delete_link(usb->urbs, l);
            urb_free(m);
        }
        l = next;
    }
    if (usb->claimed_by == client)
        usb->claimed_by = NULL;
    u2c_mutex_unlock(&usb->bus->lock);
}

/* --- bus and plugging ------------------------------------------------------- */

mock_bus *mock_bus_new(void)
{
    mock_bus *bus = g_new0(mock_bus, 1);
    u2c_mutex_init(&bus->lock);
    bus->testbed = umockdev_testbed_new();
    bus->next_devnum = FIRST_DEVNUM;
    return bus;
}

static void usb_free(mock_usb *usb)
{
    g_list_free_full(usb->urbs, (GDestroyNotify)urb_free);
    if (usb->handler)
        g_object_unref(usb->handler);
    g_list_free_full(usb->old_handlers, g_object_unref);
    g_free(usb);
}

void mock_bus_free(mock_bus *bus)
{
    if (!bus)
        return;
    g_object_unref(bus->testbed); /* stops the ioctl worker first */
    g_list_free_full(bus->devices, (GDestroyNotify)usb_free);
    u2c_mutex_destroy(&bus->lock);
    g_free(bus);
}

void mock_bus_lock(mock_bus *bus)
{
    u2c_mutex_lock(&bus->lock);
}

void mock_bus_unlock(mock_bus *bus)
{
    u2c_mutex_unlock(&bus->lock);
}

static void hex_append(GString *s, const uint8_t *bytes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        g_string_append_printf(s, "%02x", bytes[i]);
}

/* Attaches a fresh ioctl handler at a new address and adds the sysfs entry. */
static void plug(mock_usb *usb)
{
    mock_bus *bus = usb->bus;
    u2c_mutex_lock(&bus->lock);
    usb->devnum = bus->next_devnum++;
    snprintf(usb->devnode, sizeof usb->devnode, "/dev/bus/usb/%03u/%03u", BUS_NUMBER, usb->devnum);
    if (usb->handler)
        usb->old_handlers = g_list_prepend(usb->old_handlers, usb->handler);
    usb->handler = umockdev_ioctl_base_new();
    usb->claimed_by = NULL;
    usb->plugged = true;
    usb->fail_errno = 0;
    u2c_mutex_unlock(&bus->lock);

    g_signal_connect(usb->handler, "handle-ioctl", G_CALLBACK(on_ioctl), usb);
    g_signal_connect(usb->handler, "client-vanished", G_CALLBACK(on_client_vanished), usb);
    /* The node must answer before the "add" uevent announces it. */
    umockdev_testbed_attach_ioctl(bus->testbed, usb->devnode, usb->handler, NULL);

    uint8_t descriptors[64];
    size_t n = device_descriptors(&usb->id, descriptors);
    GString *s = g_string_new(NULL);
    g_string_append_printf(s,
                           "P: /devices/pci0000:00/0000:00:14.0/usb1/%s\n"
                           "N: bus/usb/%03u/%03u\n"
                           "E: SUBSYSTEM=usb\n"
                           "E: DEVTYPE=usb_device\n"
                           "E: DRIVER=usb\n"
                           "E: BUSNUM=%03u\n"
                           "E: DEVNUM=%03u\n"
                           "E: DEVNAME=%s\n"
                           "A: busnum=%u\\n\n"
                           "A: devnum=%u\\n\n"
                           "A: speed=12\\n\n"
                           "A: bConfigurationValue=1\\n\n"
                           "A: serial=%s\\n\n"
                           "H: descriptors=",
                           usb->syspath + strlen("/sys/devices/pci0000:00/0000:00:14.0/usb1/"),
                           BUS_NUMBER, usb->devnum, BUS_NUMBER, usb->devnum, usb->devnode,
                           BUS_NUMBER, usb->devnum, usb->id.serial);
    hex_append(s, descriptors, n);
    g_string_append(s, "\n");
    GError *error = NULL;
    if (!umockdev_testbed_add_from_string(bus->testbed, s->str, &error))
        g_error("umockdev cannot add %s: %s", usb->syspath, error->message);
    g_string_free(s, TRUE);
}

mock_usb *mock_usb_plug(mock_bus *bus, const mock_identity *id, const mock_device_ops *ops,
                        void *device)
{
    mock_usb *usb = g_new0(mock_usb, 1);
    usb->bus = bus;
    usb->id = *id;
    usb->ops = ops;
    usb->device = device;
    u2c_mutex_lock(&bus->lock);
    unsigned port = g_list_length(bus->devices) + 1;
    bus->devices = g_list_append(bus->devices, usb);
    u2c_mutex_unlock(&bus->lock);
    snprintf(usb->syspath, sizeof usb->syspath, "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-%u",
             port);
    plug(usb);
    return usb;
}

void mock_usb_unplug(mock_usb *usb)
{
    u2c_mutex_lock(&usb->bus->lock);
    usb->plugged = false;
    for (GList *l = usb->urbs; l; l = l->next) {
        mock_urb *m = l->data;
        if (!m->done)
            urb_finish(usb, m, -ESHUTDOWN, 0);
    }
    u2c_mutex_unlock(&usb->bus->lock);
    umockdev_testbed_uevent(usb->bus->testbed, usb->syspath, "remove");
    umockdev_testbed_remove_device(usb->bus->testbed, usb->syspath);
}

void mock_usb_fail_io(mock_usb *usb)
{
    u2c_mutex_lock(&usb->bus->lock);
    usb->plugged = false;
    usb->fail_errno = EIO;
    for (GList *l = usb->urbs; l; l = l->next) {
        mock_urb *m = l->data;
        if (!m->done)
            urb_finish(usb, m, -EPROTO, 0);
    }
    u2c_mutex_unlock(&usb->bus->lock);
}

void mock_usb_plug_again(mock_usb *usb)
{
    plug(usb);
}

bool mock_usb_plugged(mock_usb *usb)
{
    return usb->plugged;
}

mock_wire_stats mock_usb_stats(mock_usb *usb)
{
    return usb->stats;
}

size_t mock_usb_command_log(mock_usb *usb, uint8_t log[][16], size_t max)
{
    size_t n = usb->command_count < MOCK_COMMAND_LOG ? usb->command_count : MOCK_COMMAND_LOG;
    if (n > max)
        n = max;
    memcpy(log, usb->command_log, n * 16);
    return usb->command_count;
}

void mock_usb_reset_log(mock_usb *usb)
{
    memset(&usb->stats, 0, sizeof usb->stats);
    usb->command_count = 0;
}

unsigned mock_usb_urbs_in_flight(mock_usb *usb)
{
    return g_list_length(usb->urbs);
}

unsigned mock_usb_urbs_in_flight_on(mock_usb *usb, uint8_t ep)
{
    unsigned n = 0;
    for (GList *l = usb->urbs; l; l = l->next)
        if (((mock_urb *)l->data)->endpoint == ep)
            n++;
    return n;
}
