/*
 * text.h — small text helpers the library and its tools share: hex digits
 * as the setup string and the CLI read them, and ASCII case folding for
 * serials and option names (never the C locale's).
 *
 * Contract: pure functions, no state, safe from any thread.
 */
#ifndef USB2CAN_TEXT_H
#define USB2CAN_TEXT_H

/* 0..15 for 0-9, a-f, A-F; -1 for any other character. */
int u2c_hex_digit_value(char c);

#include <stddef.h>

/* c in upper case when it is an ASCII letter, else c. */
char u2c_ascii_upper(char c);
/* Copies src into dst (dst_size bytes, always NUL-terminated when
 * dst_size > 0), in upper case, truncating. */
void u2c_copy_upper(char *dst, size_t dst_size, const char *src);
/* strcmp of the two texts in upper case. */
int u2c_compare_nocase(const char *a, const char *b);

#endif
