#include "environment.h"

#include <stdio.h>
#include <string.h>

#include "link_libusb.h"
#include "sysinfo.h"
#include "usb2can.h"

#define LINE_MAX_TEXT 256

size_t u2c_environment_text(char *out, size_t size)
{
    char os[LINE_MAX_TEXT], libusb[64], timer[LINE_MAX_TEXT];
    u2c_sysinfo_os(os, sizeof os);
    u2c_libusb_version_text(libusb, sizeof libusb);
    u2c_sysinfo_timer(timer, sizeof timer);
    char scratch[1];
    if (out == NULL || size == 0) {
        out = scratch;
        size = sizeof scratch;
    }
    int n = snprintf(out, size,
                     "library: usb2can %s (%d-bit)\n"
                     "os: %s\n"
                     "libusb: %s\n"
                     "timer: %s\n",
                     USB2CAN_VERSION_STRING, (int)(sizeof(void *) * 8), os, libusb, timer);
    return n > 0 ? (size_t)n : 0;
}
