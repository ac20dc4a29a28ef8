/*
 * open_survey.h — what opening USB2CAN candidates by serial ran into, and
 * the sentence that says so when none had the serial asked for.
 *
 * libusb can tell a device's serial only once it has opened the device, so
 * an adapter that cannot be opened is counted by why: each libusb error has
 * its own reason (ACCESS, BUSY, IO, NO_DEVICE and NOT_SUPPORTED mean
 * different things and get different advice), and the result code follows
 * the most telling one. On Windows ACCESS means another program has the
 * adapter open, or its driver is libusb-win32 (libusb0) or libusbK and
 * libusbK.dll, through which libusb reaches them, is not installed; on Linux
 * it means no permission on the device node.
 *
 * Contract: pure functions of their arguments (no I/O, no global state);
 * texts are NUL-terminated and truncated, never overflowing.
 */
#ifndef USB2CAN_OPEN_SURVEY_H
#define USB2CAN_OPEN_SURVEY_H

#include <stdbool.h>
#include <stddef.h>

#include "link.h"

typedef struct u2c_open_survey {
    char serials[160]; /* serials read: "ED000200, ED000201" */
    unsigned seen;
    unsigned busy;         /* LIBUSB_ERROR_BUSY */
    unsigned access;       /* LIBUSB_ERROR_ACCESS */
    unsigned io;           /* LIBUSB_ERROR_IO */
    unsigned gone;         /* LIBUSB_ERROR_NO_DEVICE: unplugged while being opened */
    unsigned wrong_driver; /* LIBUSB_ERROR_NOT_SUPPORTED */
    unsigned other;        /* anything else; other_error is the last of them */
    int other_error;
} u2c_open_survey;

void u2c_survey_add_serial(u2c_open_survey *s, const char *serial);
/* libusb_error: what libusb_open returned for a candidate. */
void u2c_survey_add_open_error(u2c_open_survey *s, int libusb_error);

/* Result and reason when no candidate had the serial; `windows` chooses
 * the advice (the product passes whether it was built for Windows). */
u2c_link_result u2c_survey_verdict(const u2c_open_survey *s, const char *serial, bool windows,
                                   char *reason, size_t size);

#endif
