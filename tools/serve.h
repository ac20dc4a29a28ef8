/*
 * serve.h — the socketcand server behind `usb2can-cli serve`: open CANAL
 * channels shared with any number of TCP clients speaking the socketcand
 * protocol (platform/socketcand_codec.h, docs/socketcand.md).
 *
 * Contract:
 * - u2c_serve_run serves until cli_stop_requested(), then closes every
 *   client; it does not open or close the CANAL handles it is given and
 *   never changes their configuration (no CanalSetBaudrate, no filter
 *   changes: the server owns the bus setup, peers only send and receive).
 * - Fan-out: every client in raw mode sees every frame received on its bus
 *   and every frame another client sent to it, never its own (as SocketCAN
 *   sockets do). Frames a client sends go to CanalSend; only those the
 *   channel accepted are passed on.
 * - Bounds: at most U2C_SERVE_CLIENTS_MAX clients (more are told so and
 *   closed), elements of U2C_SCAND_ELEMENT_MAX bytes, a queue of
 *   U2C_SERVE_QUEUE_BYTES per client. A client that does not read loses
 *   frames from its own queue only; the number is counted and reported to
 *   it with "< error queue full: N frames dropped >" once it has room.
 * - A peer outside every allowed network is closed at once, before it can
 *   send anything. Every element a peer sends that is not a valid command in
 *   its mode gets "< error REASON >" and the connection stays usable.
 * - No allocation per frame.
 */
#ifndef USB2CAN_SERVE_H
#define USB2CAN_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "net_socket.h"
#include "socketcand_codec.h"

#define U2C_SERVE_PORT 29536
#define U2C_SERVE_BEACON_PORT 42000
#define U2C_SERVE_BUSES_MAX 8
#define U2C_SERVE_CLIENTS_MAX 32
#define U2C_SERVE_ALLOW_MAX 8
#define U2C_SERVE_QUEUE_BYTES 65536
#define U2C_SERVE_JOBS_MAX 16 /* cyclic BCM jobs per client */
#define U2C_SERVE_SUBS_MAX 32 /* BCM subscriptions and filters per client */

typedef struct u2c_serve_bus {
    char name[U2C_SCAND_BUS_NAME_MAX + 1];
    long handle; /* an open CANAL handle */
} u2c_serve_bus;

typedef struct u2c_serve_config {
    u2c_serve_bus buses[U2C_SERVE_BUSES_MAX];
    size_t bus_count;
    u2c_net_addr listen;
    uint32_t allow_network[U2C_SERVE_ALLOW_MAX];
    uint32_t allow_mask[U2C_SERVE_ALLOW_MAX];
    size_t allow_count; /* 0: every peer */
    bool beacon;
    uint32_t error_mask; /* SocketCAN error classes sent as error frames (0: none) */
    FILE *log;           /* one line per connection and refusal; may be NULL */
} u2c_serve_config;

/* 0 after a stop request; -1 when it could not start (reason written). */
int u2c_serve_run(const u2c_serve_config *config, char *reason, size_t reason_size);

#endif
