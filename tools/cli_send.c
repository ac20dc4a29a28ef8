/*
 * usb2can-cli send: one frame (cansend syntax), --count times, then waits
 * until the driver has handed them all to the adapter (its transmit
 * statistics), so that closing does not cut off frames still queued.
 */
#include <stdint.h>

#include "cli_commands.h"
#include "cli_parse.h"
#include "osal.h"
#include "usb2can.h"

const char cli_send_help[] =
    "Usage: usb2can-cli send SETUP ID#DATA [--count N] [--interval MS] [--flags N]\n"
    "\n"
    "ID#DATA as cansend writes it:\n"
    "  123#1122334455667788   standard ID (3 hex digits), up to 8 data bytes\n"
    "  1F334455#11.22.33      extended ID (8 hex digits); '.' between bytes is allowed\n"
    "  123#R  123#R4          remote request, DLC 0 or the digit given\n"
    "  123#                   no data\n"
    "Options:\n"
    "  --count N      send the frame N times (default 1)\n"
    "  --interval MS  wait MS milliseconds between frames (default 0)\n"
    "  --flags N      CanalOpen flags (default 0)\n"
    "Returns once every frame is handed to the adapter (which then sends it as\n"
    "soon as the bus lets it); exit status 1 if that takes more than a second\n"
    "after the last one, e.g. when no other node acknowledges and the adapter's\n"
    "queue stays full. Like cansend, it cannot see whether a frame was acknowledged.\n";

#define SEND_TIMEOUT_MS 1000u
#define TRANSMIT_WAIT_MS 1000u
#define POLL_MS 5u

/* Waits until the statistics count `wanted` more frames handed to the adapter
 * than at `base`. */
static bool wait_transmitted(long handle, unsigned long base, unsigned long wanted,
                             unsigned long *done)
{
    uint64_t deadline = u2c_deadline_after_ms(TRANSMIT_WAIT_MS);
    for (;;) {
        canalStatistics s;
        if (CanalGetStatistics(handle, &s) != CANAL_ERROR_SUCCESS)
            return false;
        *done = s.cntTransmitFrames - base;
        if (*done >= wanted)
            return true;
        if (u2c_now_ns() >= deadline)
            return false;
        u2c_sleep_ms(POLL_MS);
    }
}

int cli_command_send(const cli_context *cx, int argc, char **argv)
{
    unsigned long count = 1;
    unsigned long interval_ms = 0;
    unsigned long flags = 0;
    const cli_option options[] = {
        {"--count", true, 1, 0xFFFFFFFFUL, &count, NULL},
        {"--interval", true, 0, 3600000UL, &interval_ms, NULL},
        {"--flags", true, 0, 0xFFFFFFFFUL, &flags, NULL},
    };
    static const char *const names[] = {"SETUP", "ID#DATA"};
    const char *positional[2] = {NULL, NULL};
    int status = cli_parse_args(cx, argc, argv, options, 3, names, positional, 2);
    if (status != CLI_OK)
        return status;
    canalMsg msg;
    char reason[160];
    if (!cli_parse_frame(positional[1], &msg, reason, sizeof reason))
        return cli_usage_error(cx, "bad frame '%s': %s", positional[1], reason);

    long handle = cli_open(cx, positional[0], flags);
    if (handle == 0)
        return CLI_RUNTIME;
    canalStatistics before;
    int result = CLI_OK;
    if (CanalGetStatistics(handle, &before) != CANAL_ERROR_SUCCESS)
        result = cli_runtime_error(cx, "cannot read statistics");
    for (unsigned long i = 0; result == CLI_OK && i < count; i++) {
        if (i > 0 && interval_ms > 0)
            u2c_sleep_ms((unsigned)interval_ms);
        if (CanalBlockingSend(handle, &msg, SEND_TIMEOUT_MS) != CANAL_ERROR_SUCCESS)
            result = cli_runtime_error(cx, "send failed");
    }
    unsigned long done = 0;
    if (result == CLI_OK && !wait_transmitted(handle, before.cntTransmitFrames, count, &done)) {
        fprintf(cx->err,
                "usb2can-cli send: %lu of %lu frames handed to the adapter within %u ms "
                "(is another node there to acknowledge them?)\n",
                done, count, TRANSMIT_WAIT_MS);
        result = CLI_RUNTIME;
    }
    CanalClose(handle);
    return result;
}
