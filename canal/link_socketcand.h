/*
 * link_socketcand.h — a remote bus as a link (protocol/link.h): a
 * socketcand server's bus (usb2can-cli serve, or linux-can/socketcand on a
 * Linux machine) in raw mode over TCP, dressed as an adapter so the channel
 * above needs no change.
 *
 * Contract:
 * - u2c_link_open_socketcand takes "BUS@HOST[:PORT]" (port 29536 by
 *   default), connects within U2C_SOCKETCAND_CONNECT_MS, and completes the
 *   greeting, `open` and `rawmode`, or fails with a reason naming the server
 *   and what it said.
 * - Commands are answered here, as a vendor 1.7 adapter would: OPEN and
 *   CLOSE succeed (the server owns the bus configuration; callers refuse
 *   what the protocol cannot do before asking, see canal_api.c), statistics
 *   count what went through this connection, the status word is 0.
 * - Received frames become RX records timestamped on arrival at this
 *   machine; "< error queue full: N frames dropped >" from the server counts
 *   N overruns. Each TX record becomes "< send ... >"; kick_out never waits
 *   (what the socket does not take now is written by the link's thread once
 *   it can).
 * - A lost connection is an unplug: sink->gone once, with the reason;
 *   every later command returns U2C_LINK_GONE at once; the link's thread
 *   notices within U2C_SOCKETCAND_POLL_MS.
 */
#ifndef USB2CAN_LINK_SOCKETCAND_H
#define USB2CAN_LINK_SOCKETCAND_H

#include <stdbool.h>
#include <stddef.h>

#include "link.h"

#define U2C_SOCKETCAND_PORT 29536
#define U2C_SOCKETCAND_CONNECT_MS 3000
#define U2C_SOCKETCAND_POLL_MS 20

/* True when the setup string's first token names a remote bus ('@'). */
bool u2c_socketcand_is_remote(const char *spec);

u2c_link *u2c_link_open_socketcand(const char *spec, u2c_link_result *result, char *reason,
                                   size_t reason_size);

/* True for links this module made. */
bool u2c_link_is_socketcand(const u2c_link *link);

#endif
