/*
 * e2e_rig_for_python.c — the umockdev end-to-end rig of tests/support
 * (usbfs_mock + model_rig: a modelled USB2CAN behind real libusb, with a
 * second model as the far end of its CAN bus) as a small C API that the
 * python-can client tests load with ctypes (Linux only).
 *
 * Contract: the process runs with umockdev's preload library. e2e_rig_plug()
 * creates a testbed and plugs one vendor-firmware USB2CAN with the given
 * serial whose far end runs at far_kbps; libusb2can.so, loaded separately by
 * python-can, then finds and drives it through libusb as it would real
 * hardware. The far end is reached only through the calls below (plain C
 * types for ctypes). e2e_rig_unplug_all() frees everything. No global
 * state: the caller holds the returned rig.
 */
#include <stdlib.h>
#include <string.h>

#include "model_rig.h"
#include "usbfs_mock.h"

#define E2E_API __attribute__((visibility("default")))

typedef struct e2e_rig {
    mock_bus *bus;
    model_rig *rig;
    char serial[9];
} e2e_rig;

E2E_API e2e_rig *e2e_rig_plug(const char *serial, unsigned far_kbps);
E2E_API void e2e_rig_unplug_all(e2e_rig *e);
E2E_API int e2e_far_send(e2e_rig *e, unsigned long id, int extended, int rtr, int dlc,
                         const unsigned char *data);
E2E_API unsigned long e2e_far_received_total(e2e_rig *e);
E2E_API int e2e_far_received(e2e_rig *e, unsigned long index, unsigned long *id, int *flags,
                             int *dlc, unsigned char data[8]);

e2e_rig *e2e_rig_plug(const char *serial, unsigned far_kbps)
{
    if (!serial || strlen(serial) != 8)
        return NULL;
    e2e_rig *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    memcpy(e->serial, serial, 8);
    const mock_identity id = {e->serial, "USB2CAN converter", "edevices", 0xFF};
    e->bus = mock_bus_new();
    e->rig = e->bus ? rig_create(e->bus, &id, U8D_FLAVOR_VENDOR, far_kbps) : NULL;
    if (!e->rig) {
        e2e_rig_unplug_all(e);
        return NULL;
    }
    return e;
}

void e2e_rig_unplug_all(e2e_rig *e)
{
    if (!e)
        return;
    if (e->bus)
        mock_bus_free(e->bus); /* stops the device callbacks first */
    if (e->rig)
        rig_destroy(e->rig);
    free(e);
}

/* 1 when queued at the far end, 0 when its queue is full, -1 on bad input. */
int e2e_far_send(e2e_rig *e, unsigned long id, int extended, int rtr, int dlc,
                 const unsigned char *data)
{
    if (!e || dlc < 0 || dlc > 8 || (dlc > 0 && !data && !rtr))
        return -1;
    u8d_frame f;
    memset(&f, 0, sizeof f);
    f.id = (uint32_t)id;
    f.flags = (uint8_t)((extended ? U8D_FLAG_EXT : 0) | (rtr ? U8D_FLAG_RTR : 0));
    f.dlc = (uint8_t)dlc;
    if (!rtr && dlc > 0)
        memcpy(f.data, data, (size_t)dlc);
    return rig_far_send(e->rig, &f) ? 1 : 0;
}

unsigned long e2e_far_received_total(e2e_rig *e)
{
    return e ? (unsigned long)rig_far_received_total(e->rig) : 0;
}

/* Frame number index received by the far end: 1 when copied, 0 when absent. */
int e2e_far_received(e2e_rig *e, unsigned long index, unsigned long *id, int *flags, int *dlc,
                     unsigned char data[8])
{
    u8d_frame f;
    if (!e || !id || !flags || !dlc || !data || rig_far_received(e->rig, index, &f, 1) != 1)
        return 0;
    *id = f.id;
    *flags = f.flags;
    *dlc = f.dlc;
    memcpy(data, f.data, 8);
    return 1;
}
