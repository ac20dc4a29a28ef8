/*
 * rx_event.h — the waitable object CanalGetReceiveHandle hands out.
 *
 * Contract: on Windows a manual-reset Win32 event, created unsignalled,
 * that its owner sets and resets (the channel sets it while its RX ring
 * holds a record, or once it is closed or its device gone, so a waiter
 * wakes). On other systems there is no such object: create succeeds, the
 * handle is NULL and set/reset do nothing, so its users need no #if.
 */
#ifndef USB2CAN_RX_EVENT_H
#define USB2CAN_RX_EVENT_H

#include <stdbool.h>

typedef struct u2c_rx_event {
    void *handle; /* HANDLE on Windows, NULL elsewhere */
} u2c_rx_event;

/* False only when Windows cannot create the event. */
bool u2c_rx_event_create(u2c_rx_event *e);
void u2c_rx_event_destroy(u2c_rx_event *e);
void u2c_rx_event_set(u2c_rx_event *e);
void u2c_rx_event_reset(u2c_rx_event *e);
void *u2c_rx_event_handle(const u2c_rx_event *e);

#endif
