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
    "  DRIVER       WinUSB, libusbK, libusb0, another driver's service, '-' for none\n"
    "               (Linux: the kernel driver of the interface, usbfs while in use)\n"
    "  STATE        free, in use (another program has it), unusable (see the note)\n"
    "  FIRMWARE, HARDWARE  versions the adapter reports\n"
    "  DESCRIPTION  the device's description\n"
    "Each adapter is opened listen-only for a moment to read its versions;\n"
    "--no-open skips that. When an adapter cannot be opened, a note under the\n"
    "table says why.\n";

#define COLUMNS 6
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
static void read_versions(const usb2canAdapterInfo *a, row *r, char *note, size_t note_size)
{
    char setup[64];
    snprintf(setup, sizeof setup, "%s;" OPEN_BITRATE_KBPS, a->serial);
    long handle = CanalOpen(setup, USB2CAN_FLAG_SILENT);
    if (handle <= 0) {
        snprintf(note, note_size, "note: %s", Usb2canGetLastError());
        return;
    }
    if (!cli_vendor_versions(CanalGetVendorString(), r->cell[3], CELL, r->cell[4], CELL)) {
        snprintf(r->cell[3], CELL, "?");
        snprintf(r->cell[4], CELL, "?");
    }
    CanalClose(handle);
}

static void fill_row(const usb2canAdapterInfo *a, bool open_it, row *r, char *note,
                     size_t note_size)
{
    note[0] = '\0';
    snprintf(r->cell[0], CELL, "%s", a->serial[0] ? a->serial : "(none)");
    snprintf(r->cell[1], CELL, "%s", a->driver[0] ? a->driver : "-");
    snprintf(r->cell[2], CELL, "%s", state_of(a->flags));
    snprintf(r->cell[3], CELL, "-");
    snprintf(r->cell[4], CELL, "-");
    snprintf(r->cell[5], CELL, "%s", a->description);
    if (open_it && a->serial[0] != '\0')
        read_versions(a, r, note, note_size);
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

int cli_command_list(const cli_context *cx, int argc, char **argv)
{
    bool no_open = false;
    const cli_option options[] = {{"--no-open", false, 0, 0, NULL, &no_open}};
    int status = cli_parse_args(cx, argc, argv, options, 1, NULL, NULL, 0);
    if (status != CLI_OK)
        return status;

    long total = Usb2canListAdapters(NULL, 0);
    if (total < 0)
        return cli_runtime_error(cx, "cannot list adapters");
    usb2canAdapterInfo *adapters = calloc((size_t)total + 1, sizeof *adapters);
    row *rows = calloc((size_t)total + 2, sizeof *rows);
    char(*notes)[600] = calloc((size_t)total + 1, sizeof *notes);
    if (adapters == NULL || rows == NULL || notes == NULL) {
        free(adapters);
        free(rows);
        free(notes);
        fprintf(cx->err, "usb2can-cli list: out of memory\n");
        return CLI_RUNTIME;
    }
    long listed = Usb2canListAdapters(adapters, total);
    if (listed < 0) {
        free(adapters);
        free(rows);
        free(notes);
        return cli_runtime_error(cx, "cannot list adapters");
    }
    long shown = listed < total ? listed : total; /* adapters may come and go between calls */

    static const char *const headers[COLUMNS] = {"SERIAL",   "DRIVER",   "STATE",
                                                 "FIRMWARE", "HARDWARE", "DESCRIPTION"};
    size_t width[COLUMNS];
    for (int c = 0; c < COLUMNS; c++) {
        snprintf(rows[0].cell[c], CELL, "%s", headers[c]);
        width[c] = strlen(headers[c]);
    }
    for (long i = 0; i < shown; i++) {
        fill_row(&adapters[i], !no_open, &rows[i + 1], notes[i], sizeof notes[i]);
        for (int c = 0; c < COLUMNS; c++) {
            size_t n = strlen(rows[i + 1].cell[c]);
            width[c] = n > width[c] ? n : width[c];
        }
    }
    for (long i = 0; i <= shown; i++)
        print_row(cx->out, &rows[i], width);
    for (long i = 0; i < shown; i++) {
        if (notes[i][0] != '\0')
            fprintf(cx->out, "%s\n", notes[i]);
    }
    free(adapters);
    free(rows);
    free(notes);
    return CLI_OK;
}
