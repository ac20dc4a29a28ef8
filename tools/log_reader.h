/*
 * log_reader.h — reads a recorded log file frame by frame, whichever of the
 * two formats it is (log_candump.h, log_asc.h), for replay.
 *
 * Contract: u2c_log_reader_open detects the format from the first line that
 * is not blank: '(' starts a can-utils log, anything else is taken as ASC.
 * u2c_log_reader_next returns FRAME with the next frame, OTHER at the end of
 * the file, or BAD with "LINE: reason" in reason (lines count from 1; a
 * line longer than U2C_LOG_READER_LINE_MAX - 2 characters is BAD unless it
 * is an ASC comment). u2c_log_reader_rewind starts over (for --loop). The
 * reader owns the FILE from open to close. No allocation after open.
 */
#ifndef USB2CAN_LOG_READER_H
#define USB2CAN_LOG_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "log_asc.h"
#include "log_frame.h"

#define U2C_LOG_READER_LINE_MAX 512

typedef enum u2c_log_format {
    U2C_LOG_FORMAT_CANDUMP = 0,
    U2C_LOG_FORMAT_ASC,
} u2c_log_format;

typedef struct u2c_log_reader {
    FILE *file;
    u2c_log_format format;
    u2c_asc_reader asc;
    unsigned long line_number;
    char line[U2C_LOG_READER_LINE_MAX];
} u2c_log_reader;

/* False with the system's reason (strerror) in reason when it cannot be read. */
bool u2c_log_reader_open(u2c_log_reader *r, const char *path, char *reason, size_t reason_size);
u2c_log_line u2c_log_reader_next(u2c_log_reader *r, u2c_log_frame *frame, char *reason,
                                 size_t reason_size);
bool u2c_log_reader_rewind(u2c_log_reader *r);
void u2c_log_reader_close(u2c_log_reader *r);

#endif
