/*
 * usb2can-cli monitor: prints every message CanalBlockingReceive delivers,
 * in short slices so that Ctrl+C, --count and --timeout end it promptly,
 * then the statistics.
 */
#include <stdint.h>

#include "cli_commands.h"
#include "cli_format.h"
#include "cli_parse.h"
#include "osal.h"
#include "usb2can.h"

const char cli_monitor_help[] =
    "Usage: usb2can-cli monitor SETUP [--flags N] [--count N] [--timeout MS]\n"
    "\n"
    "Prints each received message like candump, with the adapter's timestamp in\n"
    "seconds (microsecond resolution):\n"
    "  (0012.345678)  VIRTUAL1  123   [8]  11 22 33 44 55 66 77 88\n"
    "  (0012.345678)  VIRTUAL1  1F334455   [0]  remote request\n"
    "  (0012.345678)  VIRTUAL1  status  ACK error, rec 0, tec 8\n"
    "Options:\n"
    "  --flags N     CanalOpen flags (default 8 = status messages; add 1 for\n"
    "                listen-only, 2 for loopback, 4 for no automatic retransmission)\n"
    "  --count N     stop after N messages\n"
    "  --timeout MS  stop after MS milliseconds without a message; exit status 1\n"
    "                if --count was given and not reached\n"
    "Ctrl+C stops too. Statistics are printed on stopping.\n";

#define SLICE_MS 100u /* how long Ctrl+C may wait */
#define NS_PER_MS 1000000u

typedef struct tally {
    unsigned long frames;
    unsigned long status;
} tally;

static bool nothing_received(int rc)
{
    return rc == CANAL_ERROR_TIMEOUT || rc == CANAL_ERROR_FIFO_EMPTY || rc == CANAL_ERROR_RCV_EMPTY;
}

static void print_statistics(const cli_context *cx, long handle, const char *name, const tally *t,
                             uint64_t elapsed_ns)
{
    fprintf(cx->out, "--- %s: %lu messages (%lu frames, %lu status) in %.3f s\n", name,
            t->frames + t->status, t->frames, t->status, (double)elapsed_ns / 1e9);
    canalStatistics s;
    if (CanalGetStatistics(handle, &s) == CANAL_ERROR_SUCCESS)
        fprintf(cx->out,
                "--- driver: received %lu frames / %lu bytes, transmitted %lu frames / %lu "
                "bytes, overruns %lu, bus warnings %lu, bus off %lu\n",
                s.cntReceiveFrames, s.cntReceiveData, s.cntTransmitFrames, s.cntTransmitData,
                s.cntOverruns, s.cntBusWarnings, s.cntBusOff);
}

int cli_command_monitor(const cli_context *cx, int argc, char **argv)
{
    unsigned long flags = USB2CAN_FLAG_STATUS_FRAMES;
    unsigned long count = 0;
    unsigned long timeout_ms = 0;
    bool count_given = false;
    bool timeout_given = false;
    const cli_option options[] = {
        {"--flags", true, 0, 0xFFFFFFFFUL, &flags, NULL},
        {"--count", true, 1, 0xFFFFFFFFUL, &count, &count_given},
        {"--timeout", true, 1, 0x7FFFFFFFUL, &timeout_ms, &timeout_given},
    };
    static const char *const names[] = {"SETUP"};
    const char *setup = NULL;
    int status = cli_parse_args(cx, argc, argv, options, 3, names, &setup, 1);
    if (status != CLI_OK)
        return status;

    char name[40];
    cli_setup_name(setup, name, sizeof name);
    long handle = cli_open(cx, setup, flags);
    if (handle == 0)
        return CLI_RUNTIME;

    cli_stop_reset();
    tally t = {0, 0};
    uint64_t start = u2c_now_ns();
    uint64_t last_message = start;
    int result = CLI_OK;
    while (!cli_stop_requested() && !(count_given && t.frames + t.status >= count)) {
        unsigned slice = SLICE_MS;
        if (timeout_given) {
            uint64_t quiet_ms = (u2c_now_ns() - last_message) / NS_PER_MS;
            if (quiet_ms >= timeout_ms) {
                if (count_given) {
                    fprintf(cx->err,
                            "usb2can-cli monitor: timed out after %lu ms with %lu of "
                            "%lu messages\n",
                            timeout_ms, t.frames + t.status, count);
                    result = CLI_RUNTIME;
                }
                break;
            }
            if (timeout_ms - quiet_ms < slice)
                slice = (unsigned)(timeout_ms - quiet_ms);
        }
        canalMsg msg;
        int rc = CanalBlockingReceive(handle, &msg, slice);
        if (nothing_received(rc))
            continue;
        if (rc != CANAL_ERROR_SUCCESS) {
            result = cli_runtime_error(cx, "receive failed");
            break;
        }
        char line[160];
        cli_format_message(name, &msg, line, sizeof line);
        fprintf(cx->out, "%s\n", line);
        fflush(cx->out);
        if (msg.flags & CANAL_IDFLAG_STATUS)
            t.status++;
        else
            t.frames++;
        last_message = u2c_now_ns();
    }
    print_statistics(cx, handle, name, &t, u2c_now_ns() - start);
    CanalClose(handle);
    return result;
}
