/*
 * link_libusb.h — the product's link: a USB2CAN reached through libusb-1.0
 * (WinUSB, libusbK or libusb0 on Windows; usbfs on Linux).
 *
 * Contract: see link.h. One libusb session per process: a context and one
 * event thread (above normal priority on Windows), created by the first open
 * and kept while links use it. On Windows it is also kept for 5 s after the
 * last link is destroyed, so that opening again neither starts libusb nor
 * reads every USB device's descriptors afresh; the idle event thread then
 * ends the session itself. It holds a reference on the DLL while the session
 * lives and gives it back as it exits (FreeLibraryAndExitThread), so
 * FreeLibrary during the idle time is safe and nothing is done under the
 * loader lock. Elsewhere the session ends with the last link (idle time 0):
 * an idle one would have to be ended in a dlclose destructor, which runs
 * under the loader's lock.
 * u2c_libusb_version_text needs no context and may be called at any time.
 */
#ifndef USB2CAN_LINK_LIBUSB_H
#define USB2CAN_LINK_LIBUSB_H

#include <stdbool.h>

#include "link.h"

/* Bulk transfers kept in flight: IN on 0x81 (each resubmitted from its own
 * completion) and OUT on 0x02 (one 16-byte record each). */
#define U2C_LIBUSB_RX_TRANSFERS 16
#define U2C_LIBUSB_TX_TRANSFERS 8

u2c_link *u2c_link_open_libusb(const char *serial, u2c_link_result *result, char *reason,
                               size_t reason_size);

/*
 * The same, choosing among adapters by USB location too: location is the
 * port path "1-4.2" (bus, then the port on each hub; NULL or "": any), as
 * `usb2can-cli list` shows it. Only the device at that location is opened.
 * Without a location, a serial that two adapters report is refused
 * (U2C_LINK_AMBIGUOUS) with both locations in the reason. An adapter this
 * process holds already is never opened again to read its serial; asking
 * for it gives U2C_LINK_BUSY, "USB2CAN ED000200 (at 1-1) is already open in
 * this program (CANAL handle 3)" (open_here.h).
 */
u2c_link *u2c_link_open_libusb_at(const char *serial, const char *location, u2c_link_result *result,
                                  char *reason, size_t reason_size);

/* What the link counted (tests and diagnostics): IN transfers the system
 * cancelled without being asked, IN transfers retired, OUT submits that
 * failed. */
typedef struct u2c_link_libusb_counters {
    unsigned rx_foreign_cancels;
    unsigned rx_retired;
    unsigned tx_submit_failures;
} u2c_link_libusb_counters;
void u2c_link_libusb_counts(u2c_link *link, u2c_link_libusb_counters *out);

/* How long a session idles after its last link (0: it ends with it; the
 * default is 5000 on Windows, 0 elsewhere), how many sessions started since
 * the library was loaded, and whether one exists now (tests). */
void u2c_link_libusb_set_idle_ms(unsigned ms);
unsigned u2c_link_libusb_sessions_started(void);
bool u2c_link_libusb_session_alive(void);

/*
 * Whether the operating system still lists the adapter with this serial.
 * On Windows an unplug reaches libusb mostly as LIBUSB_ERROR_IO and failed
 * transfers, not as LIBUSB_ERROR_NO_DEVICE; when a transfer cannot be
 * resubmitted, an OUT submit fails, a pipe keeps failing or a command
 * fails, the link asks this probe, and an adapter the system no longer
 * lists is reported the way an unplug is ("USB2CAN ED000200 was
 * unplugged"). Called on the USB event thread, a command's thread or a
 * sender's (CanalSend), possibly with the link's lock held: it must not
 * take the enumeration lock or wait for USB. NULL (the default): only
 * LIBUSB_ERROR_NO_DEVICE counts as an unplug. A link opened by location
 * alone (no serial) never asks it.
 *
 * IN transfers that come back CANCELLED without the link having cancelled
 * them (on Windows: WinUSB purged its queue or a pipe was reset) are
 * resubmitted and counted; one that comes back so 8 times in a row is
 * retired like a failed one, so the adapter is reported gone once all are.
 */
typedef bool (*u2c_link_presence_probe)(const char *serial);
void u2c_link_libusb_set_presence_probe(u2c_link_presence_probe probe);

/* The libusb the library runs with, e.g. "1.0.26.11724"; one line, never
 * longer than size - 1. */
void u2c_libusb_version_text(char *out, size_t size);

#endif
