/*
 * log_asc.h — Vector's ASCII log format (.asc) for classic CAN, as CANoe,
 * python-can (can.ASCReader/ASCWriter) and can-utils (log2asc, asc2log)
 * read and write it:
 *   date Mon Dec 07 11:54:55.123 pm 2026
 *   base hex  timestamps absolute
 *   internal events logged
 *   // version 9.0.0
 *   Begin Triggerblock Mon Dec 07 11:54:55.123 pm 2026
 *      0.000000 Start of measurement
 *      0.000456 1  123             Rx   d 8 11 22 33 44 55 66 77 88
 *      0.001000 1  1F334455x       Rx   r 3
 *      0.002000 1  ErrorFrame
 *   End TriggerBlock
 * Each time is seconds since the measurement start, the date line (local
 * time, millisecond resolution); channels count from 1.
 *
 * Contract (writer): u2c_asc_header writes the lines before the first
 * frame for a measurement starting at start_us (whole milliseconds: use
 * u2c_asc_start_of, so that every frame time stays exact to the
 * microsecond), u2c_asc_format one frame line without a newline,
 * u2c_asc_footer the closing line. All write NUL-terminated text, at most
 * U2C_ASC_HEADER_MAX / U2C_LOG_LINE_MAX bytes, and return its length;
 * the header returns 0 when the local time cannot be had.
 * Contract (reader): one u2c_asc_reader per file, lines in order. It
 * follows "date", "Begin Triggerblock" (absolute start), "base hex|dec" and
 * "timestamps absolute|relative" (relative: each time counts from the
 * previous event). Frame and ErrorFrame lines give FRAME (iface = the
 * channel number; an ErrorFrame becomes a bus error, SocketCAN class 0x80,
 * as asc2log makes it); comments, statistics and other events give OTHER;
 * a damaged frame line, a CAN FD frame or an unreadable date give BAD with
 * a reason. Without a date line times count from 0.
 */
#ifndef USB2CAN_LOG_ASC_H
#define USB2CAN_LOG_ASC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log_frame.h"

#define U2C_ASC_HEADER_MAX 320

int64_t u2c_asc_start_of(int64_t first_frame_us);

size_t u2c_asc_header(int64_t start_us, char *text, size_t size);
size_t u2c_asc_format(const u2c_log_frame *frame, int64_t start_us, unsigned channel, char *line,
                      size_t size);
size_t u2c_asc_footer(char *text, size_t size);

typedef struct u2c_asc_reader {
    unsigned base; /* 16 or 10 */
    bool relative;
    int64_t start_us;
    int64_t last_us;
} u2c_asc_reader;

void u2c_asc_reader_init(u2c_asc_reader *r);
u2c_log_line u2c_asc_parse(u2c_asc_reader *r, const char *line, u2c_log_frame *frame, char *reason,
                           size_t reason_size);

#endif
