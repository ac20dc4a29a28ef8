/*
 * usb2can-cli replay: sends a recorded log (can-utils or Vector ASC) with
 * its original timing, scaled by --speed, --loop times, each recorded
 * interface to its adapter (--map), and reports how late frames went out.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli_commands.h"
#include "cli_parse.h"
#include "log_reader.h"
#include "osal.h"
#include "precise_sleep.h"
#include "usb2can.h"

const char cli_replay_help[] =
    "Usage: usb2can-cli replay FILE SETUP [--speed X] [--loop N] [--map IFACE=SETUP]...\n"
    "                          [--flags N]\n"
    "\n"
    "Sends the frames of FILE, a can-utils log (candump -l, monitor --log) or a\n"
    "Vector ASC file (the format is recognised from the content), at the times\n"
    "they were recorded, relative to the first frame.\n"
    "Options:\n"
    "  --speed X           play X times faster (0.001 .. 1000, default 1)\n"
    "  --loop N            play the file N times, each run right after the last\n"
    "  --map IFACE=SETUP   frames recorded on IFACE (candump interface, or ASC\n"
    "                      channel number) go to the adapter SETUP; every other\n"
    "                      frame goes to SETUP; may be given up to 8 times\n"
    "  --flags N           CanalOpen flags for every adapter (default 0)\n"
    "Error frames in the file are counted and skipped (nobody can send them).\n"
    "At the end: frames sent, how many left more than 1 ms after their time,\n"
    "the 99th percentile and the worst lateness (frame and line).\n";

#define MAX_MAPS 8
#define MAX_IFACES 16
#define SEND_TIMEOUT_MS 1000u
#define TRANSMIT_WAIT_MS 2000u
#define LATE_NS 1000000u
#define BIN_NS 10000u /* lateness histogram: 10 us bins up to 100 ms */
#define BINS 10000u

typedef struct target {
    char iface_text[U2C_LOG_IFACE_MAX];
    const char *iface; /* NULL: the default adapter */
    const char *setup;
    long handle;
    unsigned long base_transmitted;
    unsigned long sent;
} target;

typedef struct lateness {
    uint32_t bins[BINS + 1]; /* the last one: 100 ms and more */
    unsigned long late;
    uint64_t worst_ns;
    unsigned long worst_frame;
    unsigned long worst_line;
    unsigned long worst_loop;
} lateness;

static bool parse_speed(const char *text, double *speed)
{
    char *end = NULL;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || !(v >= 0.001 && v <= 1000.0))
        return false;
    *speed = v;
    return true;
}

/* Checks every line before anything is sent; lists the interfaces. */
static int scan_file(const cli_context *cx, const char *path, unsigned long *frames,
                     unsigned long *error_frames, char ifaces[MAX_IFACES][U2C_LOG_IFACE_MAX],
                     size_t *iface_count)
{
    u2c_log_reader reader;
    char reason[256];
    if (!u2c_log_reader_open(&reader, path, reason, sizeof reason)) {
        fprintf(cx->err, "usb2can-cli replay: cannot open '%s': %s\n", path, reason);
        return CLI_RUNTIME;
    }
    u2c_log_frame f;
    u2c_log_line got;
    *frames = *error_frames = 0;
    *iface_count = 0;
    int64_t previous = 0;
    while ((got = u2c_log_reader_next(&reader, &f, reason, sizeof reason)) == U2C_LOG_LINE_FRAME) {
        if (*frames + *error_frames > 0 && f.time_us < previous) {
            fprintf(cx->err, "usb2can-cli replay: %s:%lu: the time goes backwards\n", path,
                    reader.line_number);
            u2c_log_reader_close(&reader);
            return CLI_RUNTIME;
        }
        previous = f.time_us;
        if (f.kind == U2C_LOG_ERROR) {
            (*error_frames)++;
            continue;
        }
        (*frames)++;
        size_t i = 0;
        while (i < *iface_count && strcmp(ifaces[i], f.iface) != 0)
            i++;
        if (i == *iface_count && *iface_count < MAX_IFACES)
            memcpy(ifaces[(*iface_count)++], f.iface, U2C_LOG_IFACE_MAX);
    }
    u2c_log_reader_close(&reader);
    if (got == U2C_LOG_LINE_BAD) {
        fprintf(cx->err, "usb2can-cli replay: %s:%s\n", path, reason);
        return CLI_RUNTIME;
    }
    if (*frames == 0) {
        fprintf(cx->err, "usb2can-cli replay: %s holds no CAN frame to send\n", path);
        return CLI_RUNTIME;
    }
    return CLI_OK;
}

static target *target_for(target *targets, size_t count, const char *iface)
{
    for (size_t i = 1; i < count; i++)
        if (strcmp(targets[i].iface, iface) == 0)
            return &targets[i];
    return &targets[0];
}

static void to_canal(const u2c_log_frame *f, canalMsg *msg)
{
    memset(msg, 0, sizeof *msg);
    msg->flags = (f->extended ? CANAL_IDFLAG_EXTENDED : 0u) |
                 (f->kind == U2C_LOG_REMOTE ? CANAL_IDFLAG_RTR : 0u);
    msg->id = f->id;
    msg->sizeData = f->dlc;
    if (f->kind == U2C_LOG_DATA)
        memcpy(msg->data, f->data, f->dlc);
}

static void note_lateness(lateness *l, uint64_t late_ns, unsigned long frame, unsigned long line,
                          unsigned long loop)
{
    uint64_t bin = late_ns / BIN_NS;
    l->bins[bin > BINS ? BINS : bin]++;
    if (late_ns > LATE_NS)
        l->late++;
    if (late_ns >= l->worst_ns) {
        l->worst_ns = late_ns;
        l->worst_frame = frame;
        l->worst_line = line;
        l->worst_loop = loop;
    }
}

static double percentile_ms(const lateness *l, unsigned long total, double fraction)
{
    unsigned long wanted = (unsigned long)((double)total * fraction + 0.999999);
    unsigned long seen = 0;
    for (unsigned i = 0; i <= BINS; i++) {
        seen += l->bins[i];
        if (seen >= wanted && wanted > 0)
            return (double)(i + 1) * BIN_NS / 1e6;
    }
    return (double)BINS * BIN_NS / 1e6;
}

/* One pass over the file from start_ns; returns CLI_OK and the time the
 * last frame was due in *end_ns. */
static int play_once(const cli_context *cx, u2c_log_reader *reader, target *targets, size_t count,
                     double speed, uint64_t start_ns, unsigned long loop, lateness *l,
                     unsigned long *sent, uint64_t *end_ns)
{
    u2c_log_frame f;
    char reason[256];
    bool first = true;
    int64_t first_us = 0;
    u2c_log_line got;
    while (!cli_stop_requested() &&
           (got = u2c_log_reader_next(reader, &f, reason, sizeof reason)) == U2C_LOG_LINE_FRAME) {
        if (f.kind == U2C_LOG_ERROR)
            continue;
        if (first) {
            first_us = f.time_us;
            first = false;
        }
        uint64_t due = start_ns + (uint64_t)((double)(f.time_us - first_us) * 1000.0 / speed);
        u2c_sleep_until_ns(due);
        canalMsg msg;
        to_canal(&f, &msg);
        target *t = target_for(targets, count, f.iface);
        if (CanalBlockingSend(t->handle, &msg, SEND_TIMEOUT_MS) != CANAL_ERROR_SUCCESS) {
            char what[96];
            snprintf(what, sizeof what, "sending line %lu to %s failed", reader->line_number,
                     t->setup);
            return cli_runtime_error(cx, what);
        }
        uint64_t now = u2c_now_ns();
        t->sent++;
        (*sent)++;
        note_lateness(l, now > due ? now - due : 0, *sent, reader->line_number, loop);
        *end_ns = due;
    }
    return CLI_OK;
}

static bool wait_transmitted(target *targets, size_t count)
{
    uint64_t deadline = u2c_deadline_after_ms(TRANSMIT_WAIT_MS);
    for (;;) {
        bool all = true;
        for (size_t i = 0; i < count; i++) {
            canalStatistics s;
            if (CanalGetStatistics(targets[i].handle, &s) != CANAL_ERROR_SUCCESS)
                return false;
            if (s.cntTransmitFrames - targets[i].base_transmitted < targets[i].sent)
                all = false;
        }
        if (all)
            return true;
        if (u2c_now_ns() >= deadline)
            return false;
        u2c_sleep_ms(5);
    }
}

static int parse_maps(const cli_context *cx, int *argc, char **argv, target *targets, size_t *count)
{
    const char *value = NULL;
    int taken;
    *count = 1;
    while ((taken = cli_take_text_option(argc, argv, "--map", &value)) == 1) {
        const char *eq = strchr(value, '=');
        if (eq == NULL || eq == value || eq[1] == '\0')
            return cli_usage_error(cx, "--map takes IFACE=SETUP, not '%s'", value);
        if (*count == MAX_MAPS + 1)
            return cli_usage_error(cx, "at most %u --map options", MAX_MAPS);
        size_t n = (size_t)(eq - value);
        if (n >= U2C_LOG_IFACE_MAX)
            return cli_usage_error(cx, "--map: interface name '%.*s' is too long", (int)n, value);
        memcpy(targets[*count].iface_text, value, n);
        targets[*count].iface_text[n] = '\0';
        targets[*count].iface = targets[*count].iface_text;
        targets[*count].setup = eq + 1;
        (*count)++;
    }
    if (taken < 0)
        return cli_usage_error(cx, "--map needs IFACE=SETUP");
    return CLI_OK;
}

int cli_command_replay(const cli_context *cx, int argc, char **argv)
{
    unsigned long loops = 1;
    unsigned long flags = 0;
    const cli_option options[] = {
        {"--loop", true, 1, 1000000UL, &loops, NULL},
        {"--flags", true, 0, 0xFFFFFFFFUL, &flags, NULL},
    };
    static const char *const names[] = {"FILE", "SETUP"};
    const char *positional[2] = {NULL, NULL};
    const char *speed_text = NULL;
    double speed = 1.0;
    target targets[MAX_MAPS + 1];
    memset(targets, 0, sizeof targets);
    size_t count = 1;
    if (cli_take_text_option(&argc, argv, "--speed", &speed_text) < 0)
        return cli_usage_error(cx, "--speed needs a value");
    /* The maps are checked against the file once it has been read. */
    int status = parse_maps(cx, &argc, argv, targets, &count);
    if (status != CLI_OK)
        return status;
    status = cli_parse_args(cx, argc, argv, options, 2, names, positional, 2);
    if (status != CLI_OK)
        return status;
    if (speed_text != NULL && !parse_speed(speed_text, &speed))
        return cli_usage_error(cx, "--speed takes a number from 0.001 to 1000, not '%s'",
                               speed_text);

    const char *path = positional[0];
    unsigned long frames = 0, error_frames = 0;
    char ifaces[MAX_IFACES][U2C_LOG_IFACE_MAX];
    size_t iface_count = 0;
    status = scan_file(cx, path, &frames, &error_frames, ifaces, &iface_count);
    if (status != CLI_OK)
        return status;
    for (size_t i = 1; i < count; i++) {
        bool found = false;
        for (size_t k = 0; k < iface_count; k++)
            found = found || strcmp(ifaces[k], targets[i].iface) == 0;
        if (!found && iface_count < MAX_IFACES) { /* a full list may lack it */
            char list[MAX_IFACES * (U2C_LOG_IFACE_MAX + 2)];
            size_t used = 0;
            for (size_t k = 0; k < iface_count; k++) {
                size_t n = strlen(ifaces[k]);
                if (k > 0) {
                    memcpy(list + used, ", ", 2);
                    used += 2;
                }
                memcpy(list + used, ifaces[k], n);
                used += n;
            }
            list[used] = '\0';
            return cli_usage_error(cx, "--map %s=...: %s has no frames on %s (it has: %s)",
                                   targets[i].iface, path, targets[i].iface, list);
        }
    }

    lateness *l = calloc(1, sizeof *l);
    if (l == NULL) {
        fprintf(cx->err, "usb2can-cli replay: out of memory\n");
        return CLI_RUNTIME;
    }
    targets[0].setup = positional[1];
    int result = CLI_OK;
    size_t opened = 0;
    for (; opened < count; opened++) {
        targets[opened].handle = cli_open(cx, targets[opened].setup, flags);
        canalStatistics s;
        if (targets[opened].handle == 0) {
            result = CLI_RUNTIME;
            break;
        }
        if (CanalGetStatistics(targets[opened].handle, &s) == CANAL_ERROR_SUCCESS)
            targets[opened].base_transmitted = s.cntTransmitFrames;
    }
    u2c_log_reader reader;
    char reason[256];
    if (result == CLI_OK && !u2c_log_reader_open(&reader, path, reason, sizeof reason)) {
        fprintf(cx->err, "usb2can-cli replay: cannot open '%s': %s\n", path, reason);
        result = CLI_RUNTIME;
    }
    unsigned long sent = 0;
    uint64_t started = u2c_now_ns();
    if (result == CLI_OK) {
        cli_stop_reset();
        uint64_t start = started;
        for (unsigned long loop = 1; loop <= loops && result == CLI_OK && !cli_stop_requested();
             loop++) {
            if (loop > 1 && !u2c_log_reader_rewind(&reader)) {
                result = cli_usage_error(cx, "cannot rewind '%s'", path);
                break;
            }
            uint64_t end = start;
            result = play_once(cx, &reader, targets, count, speed, start, loop, l, &sent, &end);
            start = end;
        }
        u2c_log_reader_close(&reader);
    }
    double seconds = (double)(u2c_now_ns() - started) / 1e9;
    if (result == CLI_OK && !wait_transmitted(targets, count)) {
        fprintf(cx->err, "usb2can-cli replay: not every frame was handed to the adapter within "
                         "2 s (is another node there to acknowledge them?)\n");
        result = CLI_RUNTIME;
    }
    if (sent > 0) {
        fprintf(cx->out, "replay %s: %lu frames sent in %.3f s (%lu per loop, %lu loops, speed %g)",
                path, sent, seconds, frames, loops, speed);
        if (error_frames > 0)
            fprintf(cx->out, ", %lu error frames skipped per loop", error_frames);
        if (cli_stop_requested())
            fprintf(cx->out, ", stopped by Ctrl+C");
        fprintf(cx->out, "\n");
        for (size_t i = 0; i < count; i++)
            fprintf(cx->out, "  %s -> %s: %lu frames\n", targets[i].iface ? targets[i].iface : "*",
                    targets[i].setup, targets[i].sent);
        fprintf(cx->out,
                "lateness: %lu frames more than 1 ms late, p99 %.2f ms, worst %.3f ms "
                "(frame %lu, line %lu, loop %lu)\n",
                l->late, percentile_ms(l, sent, 0.99), (double)l->worst_ns / 1e6, l->worst_frame,
                l->worst_line, l->worst_loop);
    }
    for (size_t i = 0; i < opened; i++)
        CanalClose(targets[i].handle);
    free(l);
    return result;
}
