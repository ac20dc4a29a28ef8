/*
 * cli_format.h — how usb2can-cli prints frames and adapters.
 *
 * Contract: pure functions writing one NUL-terminated line (no newline)
 * into a caller's buffer, truncated when short. A received message looks
 * like candump's output with an absolute timestamp, the CANAL timestamp in
 * microseconds shown as seconds:
 *   (0012.345678)  VIRTUAL1  123   [8]  11 22 33 44 55 66 77 88
 *   (0012.345678)  VIRTUAL1  1F334455   [0]  remote request
 *   (0012.345678)  VIRTUAL1  status  ACK error, rec 0, tec 8
 * Standard IDs take 3 hex digits, extended ones 8. A status message is
 * recognised by CANAL_IDFLAG_STATUS: id = status code, data = code, REC, TEC.
 */
#ifndef USB2CAN_CLI_FORMAT_H
#define USB2CAN_CLI_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

#include "canal.h"

void cli_format_message(const char *name, const canalMsg *msg, char *line, size_t size);

/* "2.4" and "2.0" from a vendor string "fw;hw;canal;dll;vendor"; false when
 * it does not have that shape. */
bool cli_vendor_versions(const char *vendor, char *firmware, size_t firmware_size, char *hardware,
                         size_t hardware_size);

#endif
