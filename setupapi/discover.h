/*
 * discover.h — which USB2CAN adapters are present, found without opening
 * them, and sentences that say why one cannot be opened.
 *
 * Contract: a scan lists the hardware adapters the operating system reports
 * now (hw_scan.h: SetupAPI on Windows, libusb and sysfs elsewhere), sorted
 * by serial with serial-less ones last, followed by the virtual adapters
 * VIRTUAL0..VIRTUAL7. No scan opens a device; the one request a scan may
 * cause is a device's serial string descriptor, when the system has no
 * serial for it (through its hub on Windows). Nothing here keeps state
 * between calls, so every function may run on any thread at any time.
 * Reasons are one line without a final period, NUL-terminated when their
 * size is non-zero, truncated (never overflowing) when the buffer is short.
 *
 * The u2c_decide_* functions are the pure halves of u2c_discover_*: they
 * take a scan instead of making one, which is how tests feed them.
 * canal/adapter_pick.c turns these into Usb2canListAdapters, CanalOpen's
 * serial-less choice and its open-failure reasons (as the last error).
 */
#ifndef USB2CAN_DISCOVER_H
#define USB2CAN_DISCOVER_H

#include <stdbool.h>
#include <stddef.h>

#include "usb2can.h"

/* Hardware adapters a scan keeps; more are counted but not described. */
#define U2C_SCAN_MAX_HARDWARE 32
#define U2C_SCAN_MAX (U2C_SCAN_MAX_HARDWARE + USB2CAN_VIRTUAL_ADAPTERS)

/* Room for a serial as usb2canAdapterInfo holds it. */
#define U2C_SERIAL_TEXT sizeof(((usb2canAdapterInfo *)0)->serial)

#define U2C_NO_ADAPTER_TEXT "no USB2CAN adapter connected (virtual adapters: VIRTUAL0..VIRTUAL7)"

typedef struct u2c_found_adapter {
    usb2canAdapterInfo info;
    char location[160]; /* serial-less adapters: Windows instance ID, or "USB port 1-1.4" */
    char port_path[64]; /* USB location "1-1.4" where known (Linux), else "" */
    bool open_here;     /* this process has it open (open_here.h) */
    long open_handle;   /* then its CANAL handle, 0 while CanalOpen runs */
    char problem[224];  /* when not USABLE: the clause after its name, e.g. "has no driver ..." */
    char filters[128];  /* Windows: "has filter drivers (upper: 'x')", or "" */
} u2c_found_adapter;

typedef struct u2c_scan {
    size_t hardware_total; /* hardware adapters present, including those beyond the array */
    size_t hardware;       /* of them, described in adapter[0 .. hardware-1] */
    size_t count;          /* entries in adapter[]: hardware, then the virtual ones */
    u2c_found_adapter adapter[U2C_SCAN_MAX];
} u2c_scan;

/* What u2c_discover_only_serial and u2c_discover_explain found. */
typedef enum u2c_discover_verdict {
    U2C_DISCOVER_OK = 0,        /* only_serial: exactly one candidate; explain: present and free */
    U2C_DISCOVER_NOT_FOUND = 1, /* no adapter (with that serial) is connected */
    U2C_DISCOVER_SEVERAL = 2,   /* only_serial: more than one candidate */
    U2C_DISCOVER_IN_USE = 3,    /* another program holds it */
    U2C_DISCOVER_DRIVER = 4,    /* no driver, a driver libusb cannot use, or no permission */
    U2C_DISCOVER_NO_SERIAL = 5, /* the only candidate has no serial to open it by */
    U2C_DISCOVER_FAILED = 6,    /* the operating system's device list could not be read */
} u2c_discover_verdict;

/* Fills scan (hardware, then virtual). False with a reason when the OS query failed. */
bool u2c_discover_scan(u2c_scan *scan, char *reason, size_t reason_size);

/*
 * The serial of the one hardware adapter a serial-less setup string means:
 * exactly one adapter that is usable and not in use. Returns a verdict;
 * U2C_DISCOVER_OK puts the serial in out, anything else a reason, e.g.
 * U2C_NO_ADAPTER_TEXT, or "several USB2CAN adapters connected (ED000200,
 * ED000301); name one in the setup string".
 */
int u2c_discover_only_serial(char *out, size_t out_size, char *reason, size_t reason_size);

/*
 * Why the adapter with this serial (case-insensitive) cannot be opened, as
 * far as the OS tells: "ED000215 is bound to driver 'usb2can', not WinUSB;
 * bind it to WinUSB with Zadig", "ED000215 is in use by another program",
 * "no adapter with serial ED000215; connected: ED000200 (WinUSB),
 * ED000301 (in use)". Returns a verdict; U2C_DISCOVER_OK means the adapter
 * is present and looks free ("ED000200 is connected (WinUSB) and not in use").
 */
int u2c_discover_explain(const char *serial, char *reason, size_t reason_size);

#if defined(_WIN32)
/* Whether Windows lists a USB2CAN with this serial (case-insensitive) as
 * present right now: one SetupAPI query, nothing opened, no lock of this
 * library taken, so the USB link may ask from its event thread
 * (link_libusb.h, u2c_link_libusb_set_presence_probe). An adapter whose
 * instance ID Windows made from its port (no serial, a serial Windows
 * rejects, or one another device repeats) is recognised by the serial its
 * descriptor gave when a scan or u2c_discover_learn_serials last read it:
 * the way the open identified it. */
bool u2c_discover_attached(const char *serial);
/* Reads, through the parent hubs, the descriptor serial of every present
 * adapter whose instance ID carries none, and remembers it for
 * u2c_discover_attached (a process-wide table behind a lock). Run before an
 * open, on the opening thread; it opens no adapter. */
void u2c_discover_learn_serials(void);
#endif

int u2c_decide_only_serial(const u2c_scan *scan, char *out, size_t out_size, char *reason,
                           size_t reason_size);
int u2c_decide_explain(const u2c_scan *scan, const char *serial, char *reason, size_t reason_size);

/* Copies up to max entries of a fresh scan into list; returns how many exist,
 * or -1 with a reason (bad arguments, failed scan). list may be NULL when max is 0. */
long u2c_discover_list(usb2canAdapterInfo *list, long max, char *reason, size_t reason_size);
/* The same with each adapter's USB location (port_path). */
long u2c_discover_list_ex(usb2canAdapterInfoEx *list, long max, char *reason, size_t reason_size);

#endif
