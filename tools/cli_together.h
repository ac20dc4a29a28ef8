/*
 * cli_together.h — several usb2can-cli commands in one process.
 *
 * `usb2can-cli monitor VIRTUAL1 --count 3 + send VIRTUAL0 123#11 --count 3`
 * runs each '+'-separated command on its own thread, started in order
 * COMMAND_STAGGER_MS apart so that a monitor has opened its adapter before a
 * later sender transmits. That is what lets a shell use the virtual
 * adapters, whose bus lives inside one process.
 *
 * Contract: argv is a whole command line containing at least one "+";
 * every segment must be a non-empty command; the exit status is the highest
 * of the segments' (2 usage beats 1 runtime beats 0). Output lines of the
 * segments interleave; each line is written whole.
 */
#ifndef USB2CAN_CLI_TOGETHER_H
#define USB2CAN_CLI_TOGETHER_H

#include <stdbool.h>
#include <stdio.h>

#define COMMAND_STAGGER_MS 200
#define COMMANDS_TOGETHER_MAX 8

/* Runs one command line; u2c_cli_run. */
typedef int (*cli_runner)(int argc, char **argv, FILE *out, FILE *err);

bool cli_has_several_commands(int argc, char **argv);
int cli_run_together(int argc, char **argv, FILE *out, FILE *err, cli_runner run);

#endif
