#include "open_survey.h"

#include <libusb.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void u2c_survey_add_serial(u2c_open_survey *s, const char *serial)
{
    size_t used = strnlen(s->serials, sizeof s->serials - 1);
    snprintf(s->serials + used, sizeof s->serials - used, "%s%s", s->seen ? ", " : "", serial);
    s->seen++;
}

/* The counter of each libusb error the survey tells apart. */
static unsigned *counter_of(u2c_open_survey *s, int libusb_error)
{
    unsigned *counters[] = {&s->busy, &s->access, &s->io, &s->gone, &s->wrong_driver};
    static const int errors[] = {LIBUSB_ERROR_BUSY, LIBUSB_ERROR_ACCESS, LIBUSB_ERROR_IO,
                                 LIBUSB_ERROR_NO_DEVICE, LIBUSB_ERROR_NOT_SUPPORTED};
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
        if (errors[i] == libusb_error)
            return counters[i];
    s->other_error = libusb_error;
    return &s->other;
}

void u2c_survey_add_open_error(u2c_open_survey *s, int libusb_error)
{
    (*counter_of(s, libusb_error))++;
}

#if defined(__GNUC__)
static void appendf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#endif
static void appendf(char *buf, size_t size, const char *fmt, ...)
{
    size_t used = strnlen(buf, size);
    if (used + 1 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, size - used, fmt, ap);
    va_end(ap);
}

u2c_link_result u2c_survey_verdict(const u2c_open_survey *s, const char *serial, bool windows,
                                   char *reason, size_t size)
{
    if (size == 0)
        return U2C_LINK_NOT_FOUND;
    snprintf(reason, size, "no USB2CAN with serial %s; ", serial);
    unsigned refused = s->busy + s->access + s->io + s->gone + s->wrong_driver + s->other;
    if (s->seen)
        appendf(reason, size, "connected: %s", s->serials);
    else if (refused == 0)
        appendf(reason, size, "none connected");
    else
        appendf(reason, size, "none could be opened");
    /* From the least to the most telling: the last one sets the result.
     * Each text takes the count (and "other" the name of the last other
     * error; printf ignores an argument a text does not use). */
    const struct {
        unsigned count;
        const char *text;
        u2c_link_result result;
    } rows[] = {
        {s->gone, "; %u more unplugged while being opened (LIBUSB_ERROR_NO_DEVICE)",
         U2C_LINK_NOT_FOUND},
        {s->other, "; %u more could not be opened (%s)", U2C_LINK_IO},
        {s->io,
         "; %u more failed with an I/O error while being opened (LIBUSB_ERROR_IO): unplug and "
         "plug it in again",
         U2C_LINK_IO},
        {s->busy, "; %u more in use by another program (LIBUSB_ERROR_BUSY)", U2C_LINK_BUSY},
        {s->access,
         windows ? "; %u more refused access (LIBUSB_ERROR_ACCESS): another program has it open, "
                   "or its driver is libusb-win32 or libusbK and libusbK.dll is not installed "
                   "(pick WinUSB in Zadig)"
                 : "; %u more not accessible (LIBUSB_ERROR_ACCESS: no permission; install a udev "
                   "rule for " U8D_USB_ID_TEXT ")",
         U2C_LINK_ACCESS},
        {s->wrong_driver,
         "; %u more bound to a driver libusb cannot use (LIBUSB_ERROR_NOT_SUPPORTED: bind it to "
         "WinUSB with Zadig)",
         U2C_LINK_ACCESS},
    };
    u2c_link_result result = U2C_LINK_NOT_FOUND;
    const char *other_name = libusb_error_name(s->other_error);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (rows[i].count == 0)
            continue;
        appendf(reason, size, rows[i].text, rows[i].count, other_name);
        result = rows[i].result;
    }
    return result;
}
