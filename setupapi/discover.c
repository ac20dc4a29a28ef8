#include "discover.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "discover_rules.h"
#include "hw_scan.h"

static void set_text(char *text, size_t size, const char *value)
{
    if (size > 0)
        snprintf(text, size, "%s", value);
}

/* Appends to a NUL-terminated buffer, truncating instead of overflowing. */
#if defined(__GNUC__)
static void append(char *text, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#endif
static void append(char *text, size_t size, const char *fmt, ...)
{
    if (size == 0)
        return;
    size_t used = strnlen(text, size - 1);
    va_list args;
    va_start(args, fmt);
    vsnprintf(text + used, size - used, fmt, args);
    va_end(args);
}

static bool has_flag(const u2c_found_adapter *a, unsigned long flag)
{
    return (a->info.flags & flag) != 0;
}

static bool is_candidate(const u2c_found_adapter *a)
{
    return has_flag(a, USB2CAN_ADAPTER_USABLE) && !has_flag(a, USB2CAN_ADAPTER_IN_USE);
}

/* "ED000200", or "adapter without serial (USB\VID_0483&PID_1234\5&2C8A&0&3)" */
static void append_label(char *text, size_t size, const u2c_found_adapter *a)
{
    if (a->info.serial[0] != '\0')
        append(text, size, "%s", a->info.serial);
    else
        append(text, size, "adapter without serial (%s)", a->location);
}

/* What a "connected:" list says about an adapter in one word or two. */
static const char *short_state(const u2c_found_adapter *a)
{
    if (a->open_here)
        return "open in this program";
    if (has_flag(a, USB2CAN_ADAPTER_IN_USE))
        return "in use";
    if (a->info.driver[0] != '\0')
        return a->info.driver;
    return has_flag(a, USB2CAN_ADAPTER_USABLE) ? "free" : "no driver";
}

static int hardware_order(const void *left, const void *right)
{
    const u2c_found_adapter *a = left;
    const u2c_found_adapter *b = right;
    bool a_named = a->info.serial[0] != '\0';
    bool b_named = b->info.serial[0] != '\0';
    if (a_named != b_named)
        return a_named ? -1 : 1;
    return a_named ? u2c_compare_nocase(a->info.serial, b->info.serial)
                   : u2c_compare_nocase(a->location, b->location);
}

static void add_virtual_adapters(u2c_scan *scan)
{
    for (unsigned i = 0; i < USB2CAN_VIRTUAL_ADAPTERS; i++) {
        u2c_found_adapter *a = &scan->adapter[scan->count++];
        memset(a, 0, sizeof *a);
        snprintf(a->info.serial, sizeof a->info.serial, "VIRTUAL%u", i);
        set_text(a->info.driver, sizeof a->info.driver, "virtual");
        set_text(a->info.description, sizeof a->info.description,
                 "virtual adapter on the in-process bus");
        a->info.flags = USB2CAN_ADAPTER_VIRTUAL | USB2CAN_ADAPTER_USABLE;
    }
}

bool u2c_discover_scan(u2c_scan *scan, char *reason, size_t reason_size)
{
    set_text(reason, reason_size, "");
    memset(scan, 0, sizeof *scan);
    if (!u2c_hw_scan(scan, reason, reason_size))
        return false;
    qsort(scan->adapter, scan->hardware, sizeof scan->adapter[0], hardware_order);
    scan->count = scan->hardware;
    add_virtual_adapters(scan);
    return true;
}

static void append_connected_list(char *reason, size_t reason_size, const u2c_scan *scan)
{
    if (scan->hardware == 0) {
        append(reason, reason_size, "%s", U2C_NO_ADAPTER_TEXT);
        return;
    }
    append(reason, reason_size, "connected: ");
    for (size_t i = 0; i < scan->hardware; i++) {
        if (i > 0)
            append(reason, reason_size, ", ");
        append_label(reason, reason_size, &scan->adapter[i]);
        append(reason, reason_size, " (%s)", short_state(&scan->adapter[i]));
    }
    if (scan->hardware_total > scan->hardware)
        append(reason, reason_size, " and %lu more",
               (unsigned long)(scan->hardware_total - scan->hardware));
}

/* "<name> <why it cannot be opened now>"; the verdict that goes with it. */
static int append_unavailable(char *reason, size_t reason_size, const u2c_found_adapter *a)
{
    append_label(reason, reason_size, a);
    int verdict = U2C_DISCOVER_IN_USE;
    if (!has_flag(a, USB2CAN_ADAPTER_USABLE)) {
        append(reason, reason_size, " %s", a->problem);
        verdict = U2C_DISCOVER_DRIVER;
    } else if (a->open_here && a->open_handle > 0) {
        append(reason, reason_size, " is already open in this program (handle %ld)",
               a->open_handle);
    } else if (a->open_here) {
        append(reason, reason_size, " is already open in this program");
    } else {
        append(reason, reason_size, " is in use by another program");
    }
    if (a->filters[0] != '\0')
        append(reason, reason_size, "; it %s", a->filters);
    return verdict;
}

int u2c_decide_only_serial(const u2c_scan *scan, char *out, size_t out_size, char *reason,
                           size_t reason_size)
{
    set_text(out, out_size, "");
    set_text(reason, reason_size, "");
    size_t candidates = 0;
    const u2c_found_adapter *chosen = NULL;
    for (size_t i = 0; i < scan->hardware; i++) {
        if (is_candidate(&scan->adapter[i])) {
            candidates++;
            chosen = chosen ? chosen : &scan->adapter[i];
        }
    }
    if (candidates == 1) {
        if (chosen->info.serial[0] == '\0') {
            append(reason, reason_size,
                   "the only usable USB2CAN adapter (%s) reports no serial number, "
                   "so it cannot be named in a setup string",
                   chosen->location);
            return U2C_DISCOVER_NO_SERIAL;
        }
        set_text(out, out_size, chosen->info.serial);
        return U2C_DISCOVER_OK;
    }
    if (candidates > 1) {
        append(reason, reason_size, "several USB2CAN adapters connected (");
        bool first = true;
        for (size_t i = 0; i < scan->hardware; i++) {
            if (!is_candidate(&scan->adapter[i]))
                continue;
            append(reason, reason_size, first ? "" : ", ");
            append_label(reason, reason_size, &scan->adapter[i]);
            first = false;
        }
        append(reason, reason_size, "); name one in the setup string");
        return U2C_DISCOVER_SEVERAL;
    }
    if (scan->hardware == 0) {
        append(reason, reason_size, "%s", U2C_NO_ADAPTER_TEXT);
        return U2C_DISCOVER_NOT_FOUND;
    }
    append(reason, reason_size, "no USB2CAN adapter available: ");
    int verdict = U2C_DISCOVER_IN_USE;
    for (size_t i = 0; i < scan->hardware; i++) {
        if (i > 0)
            append(reason, reason_size, "; ");
        if (append_unavailable(reason, reason_size, &scan->adapter[i]) == U2C_DISCOVER_DRIVER)
            verdict = U2C_DISCOVER_DRIVER;
    }
    return verdict;
}

int u2c_decide_explain(const u2c_scan *scan, const char *serial, char *reason, size_t reason_size)
{
    if (serial == NULL || serial[0] == '\0') {
        char unused[U2C_SERIAL_TEXT];
        return u2c_decide_only_serial(scan, unused, sizeof unused, reason, reason_size);
    }
    set_text(reason, reason_size, "");
    for (size_t i = 0; i < scan->count; i++) {
        const u2c_found_adapter *a = &scan->adapter[i];
        if (u2c_compare_nocase(a->info.serial, serial) != 0)
            continue;
        if (has_flag(a, USB2CAN_ADAPTER_VIRTUAL)) {
            append(reason, reason_size, "%s is a virtual adapter", a->info.serial);
            return U2C_DISCOVER_OK;
        }
        if (!is_candidate(a))
            return append_unavailable(reason, reason_size, a);
        append(reason, reason_size, "%s is connected (%s) and not in use", a->info.serial,
               short_state(a));
        if (a->filters[0] != '\0')
            append(reason, reason_size, "; it %s", a->filters);
        return U2C_DISCOVER_OK;
    }
    char wanted[U2C_SERIAL_TEXT];
    u2c_copy_upper(wanted, sizeof wanted, serial);
    append(reason, reason_size, "no adapter with serial %s; ", wanted);
    append_connected_list(reason, reason_size, scan);
    return U2C_DISCOVER_NOT_FOUND;
}

static u2c_scan *new_scan(char *reason, size_t reason_size)
{
    u2c_scan *scan = malloc(sizeof *scan);
    if (scan == NULL) {
        set_text(reason, reason_size, "out of memory listing adapters");
        return NULL;
    }
    if (!u2c_discover_scan(scan, reason, reason_size)) {
        free(scan);
        return NULL;
    }
    return scan;
}

int u2c_discover_only_serial(char *out, size_t out_size, char *reason, size_t reason_size)
{
    set_text(out, out_size, "");
    u2c_scan *scan = new_scan(reason, reason_size);
    if (scan == NULL)
        return U2C_DISCOVER_FAILED;
    int verdict = u2c_decide_only_serial(scan, out, out_size, reason, reason_size);
    free(scan);
    return verdict;
}

int u2c_discover_explain(const char *serial, char *reason, size_t reason_size)
{
    u2c_scan *scan = new_scan(reason, reason_size);
    if (scan == NULL)
        return U2C_DISCOVER_FAILED;
    int verdict = u2c_decide_explain(scan, serial, reason, reason_size);
    free(scan);
    return verdict;
}

/* Copies a fresh scan into whichever list the caller gave (info, ex or none). */
static long list_into(usb2canAdapterInfo *info, usb2canAdapterInfoEx *ex, long max, char *reason,
                      size_t reason_size)
{
    set_text(reason, reason_size, "");
    if (max < 0) {
        append(reason, reason_size, "max is negative (%ld)", max);
        return -1;
    }
    if (max > 0 && info == NULL && ex == NULL) {
        append(reason, reason_size, "list is NULL but max is %ld", max);
        return -1;
    }
    u2c_scan *scan = new_scan(reason, reason_size);
    if (scan == NULL)
        return -1;
    for (size_t i = 0; i < scan->count && (long)i < max; i++) {
        if (info != NULL)
            info[i] = scan->adapter[i].info;
        if (ex != NULL) {
            memset(&ex[i], 0, sizeof ex[i]);
            ex[i].info = scan->adapter[i].info;
            snprintf(ex[i].location, sizeof ex[i].location, "%.31s", scan->adapter[i].port_path);
        }
    }
    long total = (long)(scan->hardware_total + USB2CAN_VIRTUAL_ADAPTERS);
    free(scan);
    return total;
}

long u2c_discover_list(usb2canAdapterInfo *list, long max, char *reason, size_t reason_size)
{
    return list_into(list, NULL, max, reason, reason_size);
}

long u2c_discover_list_ex(usb2canAdapterInfoEx *list, long max, char *reason, size_t reason_size)
{
    return list_into(NULL, list, max, reason, reason_size);
}
