/*
 * usb2can-cli monitor: prints every message CanalBlockingReceive delivers,
 * in short slices so that Ctrl+C, --count and --timeout end it promptly,
 * then the statistics.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "cli_commands.h"
#include "cli_format.h"
#include "cli_parse.h"
#include "osal.h"
#include "recorder.h"
#include "usb2can.h"
#include "wall_clock.h"

#if defined(_WIN32)
#include <io.h>
#define u2c_isatty(f) _isatty(_fileno(f))
#else
#include <unistd.h>
#define u2c_isatty(f) isatty(fileno(f))
#endif

const char cli_monitor_help[] =
    "Usage: usb2can-cli monitor SETUP [--flags N] [--count N] [--timeout MS]\n"
    "                           [--log FILE [--format log|asc]]\n"
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
    "  --log FILE    write the messages to FILE instead of printing them, at host\n"
    "                wall-clock time (the adapter's clock is corrected for drift),\n"
    "                with a status line on stderr every second\n"
    "  --format F    log: can-utils' candump -l format (the default; asc when FILE\n"
    "                ends in .asc); asc: Vector ASC. Status messages are written\n"
    "                as error frames, as Linux's usb_8dev driver reports them\n"
    "Ctrl+C stops too. Statistics are printed on stopping.\n";

#define SLICE_MS 100u /* how long Ctrl+C may wait */
#define NS_PER_MS 1000000u
#define NS_PER_US 1000u
#define STATUS_EVERY_NS 1000000000ull
#define DEVICE_TICK_US 992 /* vendor firmware: 992.1875 us (docs/protocol.md) */

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

/* What --log adds: the file, the recorder and the status line. */
typedef struct recording {
    const char *path;
    FILE *file;
    u2c_recorder recorder;
    int64_t wall_start_us;  /* the wall clock, read once: */
    uint64_t mono_start_ns; /* then followed on the monotonic clock */
    uint64_t next_status_ns;
    unsigned long frames_at_last_status;
    uint64_t last_status_ns;
    bool terminal;
} recording;

static int64_t host_now_us(const recording *rec)
{
    return rec->wall_start_us + (int64_t)((u2c_now_ns() - rec->mono_start_ns) / NS_PER_US);
}

static bool parse_format(const char *text, const char *path, u2c_record_format *format)
{
    if (text == NULL) {
        size_t n = strlen(path);
        *format = n >= 4 && (strcmp(path + n - 4, ".asc") == 0 || strcmp(path + n - 4, ".ASC") == 0)
                      ? U2C_RECORD_ASC
                      : U2C_RECORD_CANDUMP;
        return true;
    }
    if (strcmp(text, "log") == 0)
        *format = U2C_RECORD_CANDUMP;
    else if (strcmp(text, "asc") == 0)
        *format = U2C_RECORD_ASC;
    else
        return false;
    return true;
}

static void print_recording_status(const cli_context *cx, recording *rec, long handle, bool last)
{
    uint64_t now = u2c_now_ns();
    canalStatistics s;
    unsigned long drops = CanalGetStatistics(handle, &s) == CANAL_ERROR_SUCCESS ? s.cntOverruns : 0;
    const u2c_recorder *r = &rec->recorder;
    double ppm = u2c_clock_map_drift_ppm(&r->clock);
    if (ppm > -0.05 && ppm < 0.05)
        ppm = 0.0;     /* no "-0.0" */
    fflush(rec->file); /* a second's worth at most is lost in a crash; tail -f sees it */
    double seconds = (double)(now - rec->last_status_ns) / 1e9;
    double rate = seconds > 0 ? (double)(r->frames - rec->frames_at_last_status) / seconds : 0.0;
    fprintf(cx->err,
            "recording %s: %lu frames, %lu error frames, %.0f frames/s, %lu dropped, "
            "clock %+.1f ppm%s",
            rec->path, r->frames, r->error_frames, rate, drops, ppm,
            rec->terminal && !last ? "   \r" : "\n");
    fflush(cx->err);
    rec->frames_at_last_status = r->frames;
    rec->last_status_ns = now;
    rec->next_status_ns = now + STATUS_EVERY_NS;
}

static int open_recording(const cli_context *cx, recording *rec, const char *format_text,
                          const char *name)
{
    u2c_record_format format;
    if (!parse_format(format_text, rec->path, &format))
        return cli_usage_error(cx, "--format takes log or asc, not '%s'", format_text);
    rec->file = fopen(rec->path, "wb");
    if (rec->file == NULL) {
        fprintf(cx->err, "usb2can-cli monitor: cannot create '%s': %s\n", rec->path,
                strerror(errno));
        return CLI_RUNTIME;
    }
    if (!u2c_recorder_init(&rec->recorder, rec->file, format, name, DEVICE_TICK_US)) {
        fclose(rec->file);
        fprintf(cx->err, "usb2can-cli monitor: out of memory\n");
        return CLI_RUNTIME;
    }
    rec->wall_start_us = u2c_wall_clock_us();
    rec->mono_start_ns = u2c_now_ns();
    rec->last_status_ns = rec->mono_start_ns;
    rec->next_status_ns = rec->mono_start_ns + STATUS_EVERY_NS;
    rec->terminal = u2c_isatty(cx->err) != 0;
    return CLI_OK;
}

static int record_failed(const cli_context *cx, const recording *rec)
{
    fprintf(cx->err, "usb2can-cli monitor: cannot write '%s': %s\n", rec->path,
            strerror(rec->recorder.errno_value));
    return CLI_RUNTIME;
}

static int close_recording(const cli_context *cx, recording *rec, long handle, int result)
{
    bool ok = u2c_recorder_finish(&rec->recorder, host_now_us(rec));
    print_recording_status(cx, rec, handle, true);
    if (fclose(rec->file) != 0 && ok) {
        rec->recorder.errno_value = errno;
        ok = false;
    }
    if (!ok && result == CLI_OK)
        return record_failed(cx, rec);
    return result;
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
    recording rec;
    memset(&rec, 0, sizeof rec);
    const char *format_text = NULL;
    if (cli_take_text_option(&argc, argv, "--log", &rec.path) < 0)
        return cli_usage_error(cx, "--log needs a file name");
    if (cli_take_text_option(&argc, argv, "--format", &format_text) < 0)
        return cli_usage_error(cx, "--format needs a value (log or asc)");
    int status = cli_parse_args(cx, argc, argv, options, 3, names, &setup, 1);
    if (status != CLI_OK)
        return status;
    if (format_text != NULL && rec.path == NULL)
        return cli_usage_error(cx, "--format applies to --log FILE only");

    char name[40];
    cli_setup_name(setup, name, sizeof name);
    if (rec.path != NULL && (status = open_recording(cx, &rec, format_text, name)) != CLI_OK)
        return status;
    long handle = cli_open(cx, setup, flags);
    if (handle == 0) {
        if (rec.file != NULL)
            fclose(rec.file);
        return CLI_RUNTIME;
    }

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
        if (rec.file != NULL && u2c_now_ns() >= rec.next_status_ns)
            print_recording_status(cx, &rec, handle, false);
        canalMsg msg;
        int rc = CanalBlockingReceive(handle, &msg, slice);
        if (nothing_received(rc))
            continue;
        if (rc != CANAL_ERROR_SUCCESS) {
            result = cli_runtime_error(cx, "receive failed");
            break;
        }
        if (rec.file != NULL) {
            if (!u2c_recorder_take(&rec.recorder, &msg, host_now_us(&rec))) {
                result = record_failed(cx, &rec);
                break;
            }
        } else {
            char line[160];
            cli_format_message(name, &msg, line, sizeof line);
            fprintf(cx->out, "%s\n", line);
            fflush(cx->out);
        }
        if (msg.flags & CANAL_IDFLAG_STATUS)
            t.status++;
        else
            t.frames++;
        last_message = u2c_now_ns();
    }
    if (rec.file != NULL)
        result = close_recording(cx, &rec, handle, result);
    print_statistics(cx, handle, name, &t, u2c_now_ns() - start);
    CanalClose(handle);
    return result;
}
