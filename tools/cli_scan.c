/*
 * usb2can-cli scan: which bit rate (and sample point) does this bus use?
 * Built on Usb2canScanBitrate (usb2can.h): prints one line per candidate as
 * it is done, then the answer, a setup string that works and the python-can
 * line for it.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli_commands.h"
#include "cli_parse.h"
#include "cli_scan.h"
#include "usb2can.h"

const char cli_scan_help[] =
    "Usage: usb2can-cli scan SERIAL [--rates LIST] [--sample-points LIST] [--dwell MS] [--all]\n"
    "\n"
    "Finds the bus's bit rate: opens the adapter in silent mode (flag 0x01: it\n"
    "never acknowledges and never sends an error flag, so it cannot disturb the\n"
    "bus) at each candidate rate and listens, counting valid frames and error\n"
    "status records. The answer is the first rate that received valid frames and\n"
    "no errors; then it prints a setup string and a python-can line that work.\n"
    "SERIAL may carry options (\"ED000200;rxqueue=8192\"), not a rate.\n"
    "Options:\n"
    "  --rates LIST          kbit/s, comma-separated, e.g. 83.333,95.238,500\n"
    "                        (default: 500,250,125,1000,100,83.333,50,33.333,800,\n"
    "                        95.238,62.5,47.619,20,10)\n"
    "  --sample-points LIST  percent, e.g. 62.5,75,87.5 (default 87.5); each rate is\n"
    "                        tried at each\n"
    "  --dwell MS            listening time per candidate (default 500)\n"
    "  --all                 try every candidate, even after an answer\n"
    "Exit status 0 when a rate was found, 1 when not (no traffic, or errors at\n"
    "every rate) or on a driver error.\n";

#define MAX_LIST 32
#define MAX_RESULTS 1024

/* "83.333" (kbit/s, up to 3 decimals) -> 83333 bit/s; "62.5" (percent, 1
 * decimal) -> 625 per mille: digits, an optional '.', `decimals` more. */
static bool parse_fixed(const char *text, size_t len, unsigned decimals, unsigned long max,
                        unsigned long *out)
{
    unsigned long whole = 0, frac = 0;
    unsigned frac_digits = 0;
    size_t i = 0;
    if (len == 0 || !isdigit((unsigned char)text[0]))
        return false;
    for (; i < len && isdigit((unsigned char)text[i]); i++) {
        whole = whole * 10 + (unsigned long)(text[i] - '0');
        if (whole > max)
            return false;
    }
    if (i < len && text[i] == '.') {
        for (i++; i < len && isdigit((unsigned char)text[i]); i++) {
            if (++frac_digits > decimals)
                return false;
            frac = frac * 10 + (unsigned long)(text[i] - '0');
        }
        if (frac_digits == 0)
            return false;
    }
    if (i != len)
        return false;
    for (; frac_digits < decimals; frac_digits++)
        frac *= 10;
    unsigned long scale = 1;
    for (unsigned d = 0; d < decimals; d++)
        scale *= 10;
    *out = whole * scale + frac;
    return true;
}

static bool parse_list(const char *text, unsigned decimals, unsigned long max, unsigned long *out,
                       long *count)
{
    *count = 0;
    for (const char *p = text;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (*count == MAX_LIST || !parse_fixed(p, len, decimals, max, &out[*count]))
            return false;
        (*count)++;
        if (comma == NULL)
            return true;
        p = comma + 1;
    }
}

/* Takes "--name LIST" / "--name=LIST" out of argv (the rest goes to
 * cli_parse_args); false on a missing value. */
static bool take_text_option(int *argc, char **argv, const char *name, const char **value,
                             bool *missing)
{
    size_t n = strlen(name);
    for (int i = 0; i < *argc; i++) {
        const char *a = argv[i];
        int used = 0;
        if (strcmp(a, name) == 0) {
            if (i + 1 >= *argc) {
                *missing = true;
                return false;
            }
            *value = argv[i + 1];
            used = 2;
        } else if (strncmp(a, name, n) == 0 && a[n] == '=') {
            *value = a + n + 1;
            used = 1;
        } else {
            continue;
        }
        for (int k = i; k + used < *argc; k++)
            argv[k] = argv[k + used];
        *argc -= used;
        return true;
    }
    return false;
}

void cli_format_rate(unsigned long bitrate, char *out, size_t size)
{
    unsigned long frac = bitrate % 1000;
    if (frac == 0)
        snprintf(out, size, "%lu kbit/s", bitrate / 1000);
    else if (frac % 100 == 0)
        snprintf(out, size, "%lu.%lu kbit/s", bitrate / 1000, frac / 100);
    else if (frac % 10 == 0)
        snprintf(out, size, "%lu.%02lu kbit/s", bitrate / 1000, frac / 10);
    else
        snprintf(out, size, "%lu.%03lu kbit/s", bitrate / 1000, frac);
}

/* The kbps a setup string gives for this rate exactly, or 0. */
static unsigned long setup_kbps_for(unsigned long bitrate)
{
    static const unsigned long table[] = {10, 20, 50, 100, 125, 250, 500, 800, 1000};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (bitrate == table[i] * 1000)
            return table[i];
    /* python-can's bitrate // 1000 for these; the library maps them back. */
    if (bitrate == 33333)
        return 33;
    if (bitrate == 62500)
        return 62;
    if (bitrate == 83333)
        return 83;
    return 0;
}

void cli_working_setup(const char *setup, const usb2canScanResult *r, char *setup_out,
                       size_t setup_size, char *python_out, size_t python_size)
{
    char serial[64];
    const char *semi = strchr(setup, ';');
    size_t n = semi ? (size_t)(semi - setup) : strlen(setup);
    snprintf(serial, sizeof serial, "%.*s", (int)n, setup);
    const char *options = semi ? semi : "";
    unsigned long kbps = setup_kbps_for(r->bitrate);
    bool near_default_sp = r->sample_point >= 850 && r->sample_point <= 900;
    if (kbps != 0 && near_default_sp) {
        snprintf(setup_out, setup_size, "%s;%lu%s", serial, kbps, options);
        snprintf(python_out, python_size,
                 "can.Bus(interface=\"usb2can\", channel=\"%s\", bitrate=%lu)", serial,
                 kbps == 33   ? 33333ul
                 : kbps == 62 ? 62500ul
                 : kbps == 83 ? 83333ul
                              : kbps * 1000);
        return;
    }
    snprintf(setup_out, setup_size, "%s;0;%lu;%lu;%lu;%lu%s", serial, r->tseg1, r->tseg2, r->sjw,
             r->brp, options);
    snprintf(python_out, python_size,
             "can.Bus(interface=\"usb2can\", channel=\"%s\", timing=can.BitTiming("
             "f_clock=32000000, brp=%lu, tseg1=%lu, tseg2=%lu, sjw=%lu))  # python-can 4.3+",
             serial, r->brp, r->tseg1, r->tseg2, r->sjw);
}

typedef struct progress_ctx {
    const cli_context *cx;
    const char *setup;
    unsigned long dwell;
    bool header_done;
} progress_ctx;

/* The header comes with the first result: a scan refused at once prints
 * only its reason. */
static int CANAL_CALL on_candidate(const usb2canScanResult *r, void *context)
{
    progress_ctx *p = context;
    if (!p->header_done) {
        fprintf(p->cx->out,
                "scanning %s in silent mode (never acknowledges, never disturbs the bus), %lu ms "
                "per candidate\n",
                p->setup, p->dwell);
        fprintf(p->cx->out, "  rate             sample  frames  stuff  form  crc  other  rec\n");
        p->header_done = true;
    }
    char rate[32];
    cli_format_rate(r->bitrate, rate, sizeof rate);
    if (r->open_code != 0) {
        fprintf(p->cx->out, "  %-16s %3lu.%lu %%   cannot open: %s\n", rate, r->sample_point / 10,
                r->sample_point % 10, Usb2canGetLastError());
    } else {
        fprintf(p->cx->out, "  %-16s %3lu.%lu %%  %7lu %6lu %5lu %4lu %6lu %4lu\n", rate,
                r->sample_point / 10, r->sample_point % 10, r->frames, r->stuff_errors,
                r->form_errors, r->crc_errors, r->other_errors, r->rec);
    }
    fflush(p->cx->out);
    return cli_stop_requested() ? 1 : 0;
}

/* The candidate with the most frames (for an unsure verdict), or -1. */
static long most_frames(const usb2canScanResult *results, long count)
{
    long best = -1;
    for (long i = 0; i < count; i++)
        if (results[i].frames > 0 && (best < 0 || results[i].frames > results[best].frames))
            best = i;
    return best;
}

int cli_command_scan(const cli_context *cx, int argc, char **argv)
{
    const char *rates_text = NULL, *sps_text = NULL;
    bool missing = false;
    take_text_option(&argc, argv, "--rates", &rates_text, &missing);
    if (missing)
        return cli_usage_error(cx, "--rates needs a value");
    take_text_option(&argc, argv, "--sample-points", &sps_text, &missing);
    if (missing)
        return cli_usage_error(cx, "--sample-points needs a value");
    unsigned long dwell = 500;
    bool all = false;
    const cli_option options[] = {
        {"--dwell", true, 10, 60000, &dwell, NULL},
        {"--all", false, 0, 0, NULL, &all},
    };
    static const char *const names[] = {"SERIAL"};
    const char *setup = NULL;
    int status = cli_parse_args(cx, argc, argv, options, 2, names, &setup, 1);
    if (status != CLI_OK)
        return status;

    unsigned long rates[MAX_LIST], sps[MAX_LIST];
    long rate_count = 0, sp_count = 0;
    if (rates_text && !parse_list(rates_text, 3, 1000, rates, &rate_count))
        return cli_usage_error(cx,
                               "--rates takes up to %d rates in kbit/s separated by commas, "
                               "e.g. 83.333,500, not '%s'",
                               MAX_LIST, rates_text);
    if (sps_text && !parse_list(sps_text, 1, 100, sps, &sp_count))
        return cli_usage_error(cx,
                               "--sample-points takes up to %d percentages separated by commas, "
                               "e.g. 62.5,87.5, not '%s'",
                               MAX_LIST, sps_text);

    progress_ctx pc = {cx, setup, dwell, false};
    usb2canScanOptions o = {
        .bitrates = rate_count ? rates : NULL,
        .bitrate_count = rate_count,
        .sample_points = sp_count ? sps : NULL,
        .sample_point_count = sp_count,
        .dwell_ms = dwell,
        .flags = all ? USB2CAN_SCAN_ALL : 0,
        .progress = on_candidate,
        .context = &pc,
    };
    static usb2canScanResult results[MAX_RESULTS];
    long count = 0;
    cli_stop_reset();
    long answer = Usb2canScanBitrate(setup, &o, results, MAX_RESULTS, &count);
    if (answer == -1)
        return cli_runtime_error(cx, "scan failed");
    if (answer >= 0) {
        const usb2canScanResult *r = &results[answer];
        char rate[32], working[256], python[256];
        cli_format_rate(r->bitrate, rate, sizeof rate);
        cli_working_setup(setup, r, working, sizeof working, python, sizeof python);
        fprintf(cx->out, "answer: %s, sample point %lu.%lu %%: %lu valid frame%s, no errors\n",
                rate, r->sample_point / 10, r->sample_point % 10, r->frames,
                r->frames == 1 ? "" : "s");
        fprintf(cx->out, "setup string: %s\n", working);
        fprintf(cx->out, "python-can:   %s\n", python);
        return CLI_OK;
    }
    if (answer == USB2CAN_SCAN_NO_TRAFFIC) {
        fprintf(cx->out,
                "answer: no traffic at any rate (%ld candidates, no frame, no error): is "
                "another node sending? are CANH, CANL and GND connected?\n",
                count);
        return CLI_RUNTIME;
    }
    long best = most_frames(results, count);
    if (best >= 0) {
        const usb2canScanResult *r = &results[best];
        char rate[32];
        cli_format_rate(r->bitrate, rate, sizeof rate);
        fprintf(cx->out,
                "answer: none certain; most frames at %s (%lu), but with %lu error records%s\n",
                rate, r->frames, r->stuff_errors + r->form_errors + r->crc_errors + r->other_errors,
                r->form_errors ? ": form errors with valid frames mean the sender gets no "
                                 "acknowledge (is it the only node? try 'doctor --bus')"
                               : "");
    } else {
        fprintf(cx->out, "answer: errors at every rate and no valid frame: a rate not in the "
                         "list (try --rates), another sample point (--sample-points), or "
                         "CANH/CANL swapped\n");
    }
    return CLI_RUNTIME;
}
