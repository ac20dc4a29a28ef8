/*
 * rx_event.h — the waitable object CanalGetReceiveHandle hands out.
 *
 * Contract: on Windows a manual-reset Win32 event, created unsignalled; the
 * channel sets it while its RX ring holds at least one record (and when the
 * channel is closed or its device is gone, so a waiter wakes and learns it
 * from the next call) and resets it when the ring becomes empty. On other
 * systems there is no such object: create succeeds, the handle is NULL and
 * set/reset do nothing. The only file of the channel that calls Win32.
 */
#ifndef USB2CAN_RX_EVENT_H
#define USB2CAN_RX_EVENT_H

#include <stdbool.h>

typedef struct rx_event {
    void *handle; /* HANDLE on Windows, NULL elsewhere */
} rx_event;

/* False only when Windows cannot create the event. */
bool rx_event_create(rx_event *e);
void rx_event_destroy(rx_event *e);
void rx_event_set(rx_event *e);
void rx_event_reset(rx_event *e);
void *rx_event_handle(const rx_event *e);

#endif
