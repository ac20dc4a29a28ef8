/*
 * log_text.h — small text helpers the log readers and writers share.
 *
 * Contract: pure functions on NUL-terminated text. u2c_log_hex appends the
 * upper-case hex of `value` with exactly `digits` digits. u2c_log_seconds
 * parses "<seconds>.<fraction>" (1..12 digits, then 1..9 digits, extra
 * precision beyond microseconds truncated) at *p, advances *p past it and
 * returns false (p unchanged) when the text has another shape.
 */
#ifndef USB2CAN_LOG_TEXT_H
#define USB2CAN_LOG_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

char *u2c_log_hex(char *out, uint32_t value, unsigned digits);

bool u2c_log_seconds(const char **p, int64_t *time_us);

#endif
