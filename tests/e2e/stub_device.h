/*
 * stub_device.h — a minimal USB2CAN responder for the end-to-end tests,
 * standing in for the device model until it can be plugged in.
 *
 * Contract: implements mock_device_ops with the documented wire behaviour
 * (protocol.md §2, §4, §5): 16-byte commands answered on 0x83 (vendor
 * flavour: every valid command; CANalyze flavour: only OPEN, CLOSE and the
 * version query — anything else kills its command pipe), TX records taken
 * one per OUT transfer into a 63-deep queue (NAK when full), and RX records
 * packed up to 3 per IN packet (1 for CANalyze). Callers hold the bus lock
 * around every stub_* call, as the mock calls the ops with it held.
 */
#ifndef USB2CAN_TESTS_STUB_DEVICE_H
#define USB2CAN_TESTS_STUB_DEVICE_H

#include "usbfs_mock.h"

#include <stdbool.h>
#include <stdint.h>

#define STUB_TX_DEPTH 63
#define STUB_RX_DEPTH 4096

typedef struct stub_frame {
    uint32_t id;
    uint8_t flags; /* 0x01 ext, 0x02 rtr */
    uint8_t dlc;
    uint8_t data[8];
} stub_frame;

typedef struct stub_device {
    bool canalyze;
    bool open; /* between OPEN and CLOSE */
    bool command_pipe_dead;
    bool reply_pending;
    uint8_t reply[16];
    /* host -> bus: records taken from 0x02, oldest first */
    uint8_t tx[STUB_TX_DEPTH][16];
    unsigned tx_head, tx_count;
    /* bus -> host: records waiting for 0x81 */
    uint8_t rx[STUB_RX_DEPTH][21];
    unsigned rx_head, rx_count;
    uint32_t ticks;
} stub_device;

extern const mock_device_ops stub_device_ops;

void stub_init(stub_device *d, bool canalyze);
/* Queues a CAN frame (type 0) or status frame (type 3) for the host; false when full. */
bool stub_push_frame(stub_device *d, const stub_frame *f);
bool stub_push_status(stub_device *d, uint8_t code, uint8_t rec, uint8_t tec);
/* Takes the oldest TX record the host sent; false when none. */
bool stub_pop_tx(stub_device *d, uint8_t record[16]);

#endif
