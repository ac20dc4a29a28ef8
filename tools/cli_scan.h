/*
 * cli_scan.h — what usb2can-cli scan shares with doctor --bus: rates as
 * text, and the setup string and python-can line that reproduce a scan
 * result.
 *
 * Contract: pure formatting into caller buffers (always NUL-terminated).
 * cli_working_setup writes "SERIAL;kbps" when the setup string's kbps gives
 * exactly that rate at a sample point near the firmware's 87.5 %, else the
 * manual timing "SERIAL;0;tseg1;tseg2;sjw;brp"; options after the serial in
 * setup are kept.
 */
#ifndef USB2CAN_CLI_SCAN_H
#define USB2CAN_CLI_SCAN_H

#include <stddef.h>

#include "usb2can.h"

/* "500 kbit/s", "83.333 kbit/s". */
void cli_format_rate(unsigned long bitrate, char *out, size_t size);
void cli_working_setup(const char *setup, const usb2canScanResult *r, char *setup_out,
                       size_t setup_size, char *python_out, size_t python_size);

#endif
