#include "cli.h"

#include <signal.h>
#include <string.h>

#include "cli_commands.h"
#include "cli_together.h"
#include "usb2can.h"

void u2c_cli_request_stop(void)
{
    cli_request_stop();
}

static const char general_help[] =
    "Usage: usb2can-cli COMMAND [ARGUMENTS] [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  list                 the adapters present now: serial, driver, state, versions\n"
    "  monitor SETUP        print received frames until Ctrl+C, --count or --timeout;\n"
    "                       --log FILE records them (can-utils log or Vector ASC)\n"
    "  send SETUP ID#DATA   send a frame (cansend syntax)\n"
    "  bench                throughput and latency between two virtual adapters\n"
    "  selftest SERIAL      an adapter tests itself in silent loopback (no bus needed)\n"
    "  doctor               environment, adapters and every problem found\n"
    "  doctor --bus SETUP   listen to a bus and say what is wrong with it\n"
    "  scan SERIAL          find the bus's bit rate without disturbing it\n"
    "  replay FILE SETUP    send a recorded log with its original timing\n"
    "  serve SETUP...       share adapters over the network (socketcand protocol)\n"
    "\n"
    "SETUP is a CanalOpen setup string such as \"ED000200;500\" (serial; kbit/s);\n"
    "a bare serial means 500 kbit/s. VIRTUAL0..VIRTUAL7 are virtual adapters on a\n"
    "bus inside this program: they need no hardware.\n"
    "\n"
    "Several commands joined by ' + ' run together in this program, e.g.\n"
    "  usb2can-cli monitor VIRTUAL1 --count 2 + send VIRTUAL0 123#1122 --count 2\n"
    "(each on its own thread, started 200 ms apart, in order).\n"
    "\n"
    "  usb2can-cli COMMAND --help   options of a command\n"
    "  usb2can-cli --version        versions of this program and of the library\n"
    "\n"
    "For a bug report, attach the output of 'usb2can-cli doctor' and, with the\n"
    "adapter connected, 'usb2can-cli selftest SERIAL'.\n"
    "\n"
    "Exit status: 0 success, 1 the driver reported an error (its reason on\n"
    "stderr), 2 bad usage.\n";

static int print_version(FILE *out)
{
    unsigned long v = CanalGetDllVersion();
    fprintf(out, "usb2can-cli %s (usb2can library %lu.%lu.%lu)\n", USB2CAN_VERSION_STRING, v & 0xFF,
            (v >> 8) & 0xFF, (v >> 16) & 0xFF);
    return CLI_OK;
}

typedef struct command {
    const char *name;
    int (*run)(const cli_context *cx, int argc, char **argv);
    const char *help;
} command;

static const command commands[] = {
    {"list", cli_command_list, cli_list_help},
    {"monitor", cli_command_monitor, cli_monitor_help},
    {"send", cli_command_send, cli_send_help},
    {"bench", cli_command_bench, cli_bench_help},
    {"selftest", cli_command_selftest, cli_selftest_help},
    {"doctor", cli_command_doctor, cli_doctor_help},
    {"scan", cli_command_scan, cli_scan_help},
    {"replay", cli_command_replay, cli_replay_help},
    {"serve", cli_command_serve, cli_serve_help},
};

int u2c_cli_run(int argc, char **argv, FILE *out, FILE *err)
{
    cli_context cx = {out, err, NULL, general_help};
    if (argc < 2)
        return cli_usage_error(&cx, "no command given");
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        fputs(general_help, out);
        return CLI_OK;
    }
    if (strcmp(name, "--version") == 0)
        return print_version(out);
    if (cli_has_several_commands(argc, argv))
        return cli_run_together(argc, argv, out, err, u2c_cli_run);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(name, commands[i].name) != 0)
            continue;
        cx.command = commands[i].name;
        cx.help = commands[i].help;
        int status = commands[i].run(&cx, argc - 2, argv + 2);
        if (status == CLI_HELP) {
            fputs(cx.help, out);
            status = CLI_OK;
        }
        fflush(out);
        return status;
    }
    return cli_usage_error(&cx, name[0] == '-' ? "unknown option '%s'" : "unknown command '%s'",
                           name);
}
