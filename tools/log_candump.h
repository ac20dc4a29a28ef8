/*
 * log_candump.h — can-utils' log file format, as `candump -l` writes and
 * canplayer, log2asc and python-can's can.LogReader read it:
 *   (1733616895.123456) can0 123#1122334455667788
 *   (1733616895.123789) can0 1F334455#R3
 *   (1733616895.124000) can0 20000088#0000040000000000
 * Seconds since the epoch with six decimals, the interface, then the frame
 * as can-utils prints it: 3 hex digits for a standard id, 8 for an extended
 * one or an error frame (CAN_ERR_FLAG | class bits), upper-case data pairs,
 * 'R' and a non-zero DLC digit for a remote request.
 *
 * Contract: u2c_candump_format writes one line without a newline (always
 * NUL-terminated; it needs at most U2C_LOG_LINE_MAX bytes) and returns its
 * length. u2c_candump_parse reads one line (a trailing newline, CR, and
 * candump -L's " R"/" T" direction are allowed) and leaves *frame untouched
 * unless it returns U2C_LOG_LINE_FRAME; a blank line is OTHER; anything
 * else that is not a classic CAN frame is BAD with a reason (CAN FD frames
 * included: this adapter cannot send them).
 */
#ifndef USB2CAN_LOG_CANDUMP_H
#define USB2CAN_LOG_CANDUMP_H

#include <stddef.h>

#include "log_frame.h"

size_t u2c_candump_format(const u2c_log_frame *frame, char *line, size_t size);

u2c_log_line u2c_candump_parse(const char *line, u2c_log_frame *frame, char *reason,
                               size_t reason_size);

#endif
