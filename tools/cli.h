/*
 * cli.h — usb2can-cli as a function. The program's main() calls it, and so
 * do tests that run several commands in one process (the virtual adapters
 * share one in-process bus, so a monitor and a sender must share a process).
 *
 * Contract: u2c_cli_run reads argv as the command line (argv[0] is the
 * program's name), writes results to out and diagnostics to err, and returns
 * the exit status: 0 success, 1 runtime failure (with the driver's last
 * error on err), 2 bad usage (with a message on err). It uses only the
 * public CANAL API and usb2can.h. Commands may run concurrently on several
 * threads; u2c_cli_request_stop (what Ctrl+C does) ends every running
 * monitor, which then prints its statistics and returns 0.
 */
#ifndef USB2CAN_CLI_H
#define USB2CAN_CLI_H

#include <stdio.h>

int u2c_cli_run(int argc, char **argv, FILE *out, FILE *err);

/* Async-signal-safe. */
void u2c_cli_request_stop(void);

#endif
