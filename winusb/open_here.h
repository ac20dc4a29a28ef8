/*
 * open_here.h — the USB2CAN adapters this process has open, so that an
 * adapter held here is reported as "open in this program (handle 3)" and
 * never as another program's, and is never opened again just to read its
 * serial.
 *
 * Contract: a process-wide table behind its own lock; every function may
 * run on any thread. The libusb link adds an entry when it claims an
 * adapter and removes it before it closes the handle; the CANAL layer tells
 * which handle the link serves once CanalOpen has one (0 until then: "open
 * in this program"). Keys are the links themselves, compared as pointers.
 * Lookups copy out; nothing returned points into the table. The table
 * holds U2C_OPEN_HERE_MAX entries; an adapter beyond that is simply not
 * known (it is then reported as before: in use).
 */
#ifndef USB2CAN_OPEN_HERE_H
#define USB2CAN_OPEN_HERE_H

#include <stdbool.h>
#include <stddef.h>

#define U2C_OPEN_HERE_MAX 64
#define U2C_LOCATION_TEXT 32 /* "1-4.2.3.1.2.3.4" and its NUL, with room */

void u2c_open_here_add(const void *key, const char *serial, const char *location);
void u2c_open_here_remove(const void *key);
void u2c_open_here_set_handle(const void *key, long handle);

/* Whether an adapter with this serial (case-insensitive; NULL or "": any)
 * at this location (NULL or "": any) is open here; *handle (may be NULL)
 * receives its CANAL handle, 0 when not yet known. */
bool u2c_open_here_find(const char *serial, const char *location, long *handle);

#endif
