/*
 * usb2can-cli doctor: what to attach to a bug report. The environment
 * (Usb2canGetEnvironment), then the adapter table with each adapter opened
 * listen-only for a moment, then every problem found, or "none found".
 */
#include <string.h>

#include "cli_commands.h"
#include "usb2can.h"

const char cli_doctor_help[] =
    "Usage: usb2can-cli doctor\n"
    "       usb2can-cli doctor --bus SETUP [--seconds S] [--active] [--send ID#DATA]\n"
    "                                      [--count N] [--interval MS]\n"
    "\n"
    "Prints what a bug report needs, without sending anything on a bus:\n"
    "  environment  the library's version and bitness, the operating system,\n"
    "               libusb's version and the timer resolution in effect\n"
    "  adapters     every adapter present (as 'list' shows it), each opened\n"
    "               listen-only for a moment to read its firmware version\n"
    "  problems     every problem found: no adapter, an adapter without a\n"
    "               usable driver, in use by another program, or without a\n"
    "               serial number, each with the driver's reason\n"
    "\n"
    "With --bus it listens to the bus on SETUP for S seconds (default 5), silent\n"
    "(it never acknowledges or disturbs), and says what is wrong: no traffic, a\n"
    "wrong bit rate, a lone node nobody acknowledges, error frames; with the\n"
    "evidence: frames/s, bus load, error records, TEC/REC over time.\n"
    "  --active         acknowledge frames (normal mode)\n"
    "  --send ID#DATA   with --active: send this frame every --interval ms\n"
    "                   (default 10), --count times (default: until the end), so\n"
    "                   that errors on transmission show (ACK errors, error\n"
    "                   passive, bus off)\n"
    "Exit status 0 when no problem was found, 1 otherwise.\n";

int cli_command_doctor(const cli_context *cx, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--bus") != 0)
            continue;
        for (int k = i; k + 1 < argc; k++)
            argv[k] = argv[k + 1];
        return cli_doctor_bus(cx, argc - 1, argv);
    }
    int status = cli_parse_args(cx, argc, argv, NULL, 0, NULL, NULL, 0);
    if (status != CLI_OK)
        return status;
    fprintf(cx->out, "environment:\n");
    cli_print_environment(cx);
    fprintf(cx->out, "adapters:\n");
    int problems = cli_adapter_table(cx, true, "problem: ", true);
    if (problems < 0)
        return CLI_RUNTIME;
    if (problems == 0)
        fprintf(cx->out, "problems: none found\n");
    else
        fprintf(cx->out, "problems: %d found (listed above)\n", problems);
    return problems == 0 ? CLI_OK : CLI_RUNTIME;
}
