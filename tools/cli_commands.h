/*
 * cli_commands.h — what the subcommands of usb2can-cli share: argument
 * parsing, the two ways to fail, the adapter table (cli_list.c, also used
 * by doctor) and the environment block (selftest, doctor).
 *
 * Contract: a command receives the arguments after its name; it returns an
 * exit status (CLI_OK, CLI_RUNTIME, CLI_USAGE) and has printed the matching
 * message. cli_parse_args accepts options anywhere, as "--name value" or
 * "--name=value", and "--help"; it prints usage errors itself.
 */
#ifndef USB2CAN_CLI_COMMANDS_H
#define USB2CAN_CLI_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "canal.h"

#define CLI_OK 0
#define CLI_RUNTIME 1
#define CLI_USAGE 2
#define CLI_HELP (-1) /* from cli_parse_args: --help was given */

typedef struct cli_context {
    FILE *out;
    FILE *err;
    const char *command; /* e.g. "monitor", for messages */
    const char *help;    /* the command's --help text */
} cli_context;

typedef struct cli_option {
    const char *name;  /* "--count" */
    bool takes_value;  /* false: a switch */
    unsigned long min; /* bounds of the value */
    unsigned long max;
    unsigned long *value; /* set when given (takes_value) */
    bool *given;          /* set when given; may be NULL */
} cli_option;

/* Fills positional[0 .. wanted-1], whose names (for "missing SETUP") are
 * names[]; returns CLI_OK, CLI_USAGE or CLI_HELP. */
int cli_parse_args(const cli_context *cx, int argc, char **argv, const cli_option *options,
                   size_t option_count, const char *const *names, const char **positional,
                   size_t wanted);

/* Prints "usb2can-cli <command>: <message>" and the --help hint; returns CLI_USAGE. */
int cli_usage_error(const cli_context *cx, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Prints "usb2can-cli <command>: <what>: <the driver's last error>"; returns CLI_RUNTIME. */
int cli_runtime_error(const cli_context *cx, const char *what);

/* Opens a setup string (a bare serial gets ";500"); on failure reports it. */
long cli_open(const cli_context *cx, const char *setup, unsigned long flags);

/* Prints the adapter table (Usb2canListAdapters), opening each adapter
 * listen-only to read its versions when open_them, then one line per
 * problem found, each starting with prefix: an adapter that would not open
 * (with the driver's reason); with strict also an adapter without a serial
 * number and "no USB2CAN adapter found" when only virtual ones exist.
 * Returns the number of problem lines, or -1 when the list could not be
 * read (the reason is on err). */
int cli_adapter_table(const cli_context *cx, bool open_them, const char *prefix, bool strict);

/* Prints Usb2canGetEnvironment's lines, each indented by two spaces. */
void cli_print_environment(const cli_context *cx);

/* The stop request (Ctrl+C, u2c_cli_request_stop): async-signal-safe to set. */
void cli_request_stop(void);
bool cli_stop_requested(void);
void cli_stop_reset(void);

int cli_command_list(const cli_context *cx, int argc, char **argv);
int cli_command_monitor(const cli_context *cx, int argc, char **argv);
int cli_command_send(const cli_context *cx, int argc, char **argv);
int cli_command_bench(const cli_context *cx, int argc, char **argv);
int cli_command_selftest(const cli_context *cx, int argc, char **argv);
int cli_command_doctor(const cli_context *cx, int argc, char **argv);
int cli_command_replay(const cli_context *cx, int argc, char **argv);
int cli_command_scan(const cli_context *cx, int argc, char **argv);
/* doctor --bus (cli_doctor_bus.c); argv without --bus. */
int cli_doctor_bus(const cli_context *cx, int argc, char **argv);
int cli_command_serve(const cli_context *cx, int argc, char **argv);

extern const char cli_list_help[];
extern const char cli_monitor_help[];
extern const char cli_send_help[];
extern const char cli_bench_help[];
extern const char cli_selftest_help[];
extern const char cli_doctor_help[];
extern const char cli_replay_help[];
extern const char cli_scan_help[];
extern const char cli_serve_help[];

#endif
