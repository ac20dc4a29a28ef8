/*
 * usbfs_mock.h — USB devices emulated at the usbfs level, in user space,
 * for end-to-end tests through the real libusb (Linux, under umockdev).
 *
 * Contract: a mock_bus owns a umockdev testbed (the process must run under
 * umockdev-wrapper). mock_usb_plug() adds a full-speed device with the
 * USB2CAN descriptors (docs/protocol.md, USB) and answers the usbfs ioctls libusb
 * issues: control transfers for string descriptors, claim/release, and bulk
 * URBs on 0x81/0x02/0x83/0x04, which it hands to a device behind
 * mock_device_ops. Each endpoint completes its URBs in submission order; a
 * device NAKs by refusing (OUT) or having nothing (IN), and the URB waits.
 * mock_usb_unplug() behaves like the kernel on disconnect: flying URBs
 * complete with -ESHUTDOWN, every later ioctl fails with ENODEV, a "remove"
 * uevent goes out and the sysfs entry disappears; mock_usb_plug_again()
 * re-enumerates it at a new address. The device callbacks run on umockdev's
 * worker thread with the bus lock held; the test reaches device state only
 * inside mock_bus_lock()/mock_bus_unlock().
 */
#ifndef USB2CAN_TESTS_USBFS_MOCK_H
#define USB2CAN_TESTS_USBFS_MOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MOCK_IN_NAK (-1)

typedef struct mock_device_ops {
    /* The host sent len bytes on OUT endpoint ep; false = NAK, offered again later. */
    bool (*out)(void *device, uint8_t ep, const uint8_t *data, size_t len);
    /* The host polls IN endpoint ep: fill up to max bytes and return the
     * length, or MOCK_IN_NAK (nothing to send yet), or a negative errno
     * below it to fail the URB with that status (-EPROTO, -EPIPE ...). */
    int (*in)(void *device, uint8_t ep, uint8_t *data, size_t max);
} mock_device_ops;

typedef struct mock_identity {
    const char *serial;       /* iSerialNumber, e.g. "ED000200" */
    const char *product;      /* "USB2CAN converter" */
    const char *manufacturer; /* "edevices" */
    uint8_t device_class;     /* 0xFF vendor firmware, 0x00 CANalyze */
} mock_identity;

typedef struct mock_bus mock_bus;
typedef struct mock_usb mock_usb;

/* Traffic seen on the wire, for assertions. */
typedef struct mock_wire_stats {
    unsigned commands;      /* OUT transfers accepted on 0x04 */
    unsigned tx_transfers;  /* OUT transfers accepted on 0x02 */
    unsigned tx_bad_length; /* of those, not exactly 16 bytes */
    unsigned in_packets;    /* IN packets sent on 0x81 */
    unsigned in_bytes;
    unsigned in_by_records[4]; /* IN packets holding 0..3 records of 21 bytes */
    unsigned discarded;        /* URBs the host cancelled */
} mock_wire_stats;

#define MOCK_COMMAND_LOG 64

mock_bus *mock_bus_new(void);
void mock_bus_free(mock_bus *bus);
void mock_bus_lock(mock_bus *bus);
void mock_bus_unlock(mock_bus *bus);

mock_usb *mock_usb_plug(mock_bus *bus, const mock_identity *id, const mock_device_ops *ops,
                        void *device);
void mock_usb_unplug(mock_usb *usb);
/* Stops the device the way Windows reports many unplugs to libusb: flying
 * URBs complete with -EPROTO (a transfer error, not "no device") and every
 * later ioctl fails with EIO; no uevent, and the sysfs entry stays.
 * mock_usb_plugged() then returns false. */
void mock_usb_fail_io(mock_usb *usb);
void mock_usb_plug_again(mock_usb *usb);
bool mock_usb_plugged(mock_usb *usb);

/* With the bus lock held: the statistics, and the first MOCK_COMMAND_LOG
 * commands (16 bytes each) sent on 0x04 since the last reset. */
mock_wire_stats mock_usb_stats(mock_usb *usb);
size_t mock_usb_command_log(mock_usb *usb, uint8_t log[][16], size_t max);
void mock_usb_reset_log(mock_usb *usb);
/* Number of URBs the host has in flight on this device right now, in all
 * and on one endpoint. */
unsigned mock_usb_urbs_in_flight(mock_usb *usb);
unsigned mock_usb_urbs_in_flight_on(mock_usb *usb, uint8_t ep);

#endif
