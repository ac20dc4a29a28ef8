/*
 * usb2can-cli list: Usb2canListAdapters as a table. Versions come from
 * opening each free adapter listen-only (it never drives the bus) and
 * reading CanalGetVendorString; when an open fails, the driver's reason is
 * printed as a note under the table.
 */
#include <stdlib.h>
#include <string.h>

#include "cli_commands.h"
#include "cli_format.h"
#include "usb2can.h"

const char cli_list_help[] =
    "Usage: usb2can-cli list [--no-open]\n"
    "\n"
    "Lists the adapters present now, hardware first (sorted by serial), then the\n"
    "virtual ones, without WMI:\n"
    "  SERIAL       as the adapter reports it; (none) when Windows sees no serial\n"
    "  LOCATION     its USB port path (bus-port.port); a setup string picks it with\n"
    "               location=1-4.2 when several adapters report one serial, or none\n"
    "  DRIVER       WinUSB, libusbK, libusb0, another driver's service, '-' for none\n"
    "               (Linux: the kernel driver of the interface, usbfs while in use)\n"
    "  STATE        free, in use (another program has it), unusable (see the note)\n"
    "  FIRMWARE, HARDWARE  versions the adapter reports\n"
    "  DESCRIPTION  the device's description\n"
    "Each adapter is opened listen-only for a moment to read its versions;\n"
    "--no-open skips that. When an adapter cannot be opened, a note under the\n"
    "table says why.\n";

#define COLUMNS 7
#define CELL 96
#define OPEN_BITRATE_KBPS "125"

typedef struct row {
    char cell[COLUMNS][CELL];
} row;

static const char *state_of(unsigned long flags)
{
    if (flags & USB2CAN_ADAPTER_IN_USE)
        return "in use";
    if (!(flags & USB2CAN_ADAPTER_USABLE))
        return "unusable";
    return "free";
}

/* Opens listen-only to read the versions; on failure keeps the reason as a note. */
static void read_versions(const usb2canAdapterInfoEx *a, row *r, char *note, size_t note_size)
{
    char setup[128];
    if (a->location[0] != '\0') /* it may share its serial with another */
        snprintf(setup, sizeof setup, "%s;" OPEN_BITRATE_KBPS ";location=%s", a->info.serial,
                 a->location);
    else
        snprintf(setup, sizeof setup, "%s;" OPEN_BITRATE_KBPS, a->info.serial);
    long handle = CanalOpen(setup, USB2CAN_FLAG_SILENT);
    if (handle <= 0) {
        snprintf(note, note_size, "%s", Usb2canGetLastError());
        return;
    }
    if (!cli_vendor_versions(CanalGetVendorString(), r->cell[4], CELL, r->cell[5], CELL)) {
        snprintf(r->cell[4], CELL, "?");
        snprintf(r->cell[5], CELL, "?");
    }
    CanalClose(handle);
}

static void fill_row(const usb2canAdapterInfoEx *x, bool open_it, row *r, char *note,
                     size_t note_size)
{
    const usb2canAdapterInfo *a = &x->info;
    note[0] = '\0';
    snprintf(r->cell[0], CELL, "%s", a->serial[0] ? a->serial : "(none)");
    snprintf(r->cell[1], CELL, "%s", x->location[0] ? x->location : "-");
    snprintf(r->cell[2], CELL, "%s", a->driver[0] ? a->driver : "-");
    snprintf(r->cell[3], CELL, "%s", state_of(a->flags));
    snprintf(r->cell[4], CELL, "-");
    snprintf(r->cell[5], CELL, "-");
    snprintf(r->cell[6], CELL, "%s", a->description);
    if (open_it && (a->serial[0] != '\0' || x->location[0] != '\0'))
        read_versions(x, r, note, note_size);
}

static void print_row(FILE *out, const row *r, const size_t *width)
{
    for (int c = 0; c < COLUMNS; c++) {
        if (c == COLUMNS - 1)
            fprintf(out, "%s\n", r->cell[c]);
        else
            fprintf(out, "%-*s  ", (int)width[c], r->cell[c]);
    }
}

static void add_problem(char (*problems)[600], size_t *count, size_t max, const char *fmt,
                        const char *a, const char *b)
{
    if (*count < max)
        snprintf(problems[(*count)++], sizeof problems[0], fmt, a, b);
}

int cli_adapter_table(const cli_context *cx, bool open_them, const char *prefix, bool strict)
{
    long total = Usb2canListAdaptersEx(NULL, 0);
    if (total < 0) {
        cli_runtime_error(cx, "cannot list adapters");
        return -1;
    }
    usb2canAdapterInfoEx *adapters = calloc((size_t)total + 1, sizeof *adapters);
    row *rows = calloc((size_t)total + 2, sizeof *rows);
    size_t max_problems = 2 * (size_t)total + 2;
    char(*problems)[600] = calloc(max_problems, sizeof *problems);
    if (adapters == NULL || rows == NULL || problems == NULL) {
        free(adapters);
        free(rows);
        free(problems);
        fprintf(cx->err, "usb2can-cli %s: out of memory\n", cx->command);
        return -1;
    }
    long listed = Usb2canListAdaptersEx(adapters, total);
    if (listed < 0) {
        free(adapters);
        free(rows);
        free(problems);
        cli_runtime_error(cx, "cannot list adapters");
        return -1;
    }
    long shown = listed < total ? listed : total; /* adapters may come and go between calls */

    static const char *const headers[COLUMNS] = {"SERIAL",   "LOCATION", "DRIVER",     "STATE",
                                                 "FIRMWARE", "HARDWARE", "DESCRIPTION"};
    size_t width[COLUMNS];
    for (int c = 0; c < COLUMNS; c++) {
        snprintf(rows[0].cell[c], CELL, "%s", headers[c]);
        width[c] = strlen(headers[c]);
    }
    size_t problem_count = 0;
    long hardware = 0;
    for (long i = 0; i < shown; i++) {
        const usb2canAdapterInfo *a = &adapters[i].info;
        char note[600];
        fill_row(&adapters[i], open_them, &rows[i + 1], note, sizeof note);
        if (note[0] != '\0')
            add_problem(problems, &problem_count, max_problems, "%s%s", prefix, note);
        if (!(a->flags & USB2CAN_ADAPTER_VIRTUAL))
            hardware++;
        if (strict && (a->flags & USB2CAN_ADAPTER_NO_SERIAL))
            add_problem(problems, &problem_count, max_problems,
                        "%san adapter (%s) reports no serial number: CanalOpen cannot name it",
                        prefix, a->description);
        else if (strict && !open_them && (a->flags & USB2CAN_ADAPTER_IN_USE))
            add_problem(problems, &problem_count, max_problems, "%s%s is in use by another program",
                        prefix, a->serial);
        for (int c = 0; c < COLUMNS; c++) {
            size_t n = strlen(rows[i + 1].cell[c]);
            width[c] = n > width[c] ? n : width[c];
        }
    }
    if (strict && hardware == 0)
        add_problem(problems, &problem_count, max_problems,
                    "%sno USB2CAN adapter found%s (is it plugged in, and bound to WinUSB, "
                    "libusbK or libusb0 on Windows, readable by you on Linux?)",
                    prefix, total > 0 ? ", only the virtual ones" : "");
    for (long i = 0; i <= shown; i++)
        print_row(cx->out, &rows[i], width);
    for (size_t i = 0; i < problem_count; i++)
        fprintf(cx->out, "%s\n", problems[i]);
    free(adapters);
    free(rows);
    free(problems);
    return (int)problem_count;
}

int cli_command_list(const cli_context *cx, int argc, char **argv)
{
    bool no_open = false;
    const cli_option options[] = {{"--no-open", false, 0, 0, NULL, &no_open}};
    int status = cli_parse_args(cx, argc, argv, options, 1, NULL, NULL, 0);
    if (status != CLI_OK)
        return status;
    return cli_adapter_table(cx, !no_open, "note: ", false) < 0 ? CLI_RUNTIME : CLI_OK;
}
