/*
 * text.h — small text helpers the library and its tools share: hex digits
 * as the setup string and the CLI read them.
 *
 * Contract: pure functions, no state, safe from any thread.
 */
#ifndef USB2CAN_TEXT_H
#define USB2CAN_TEXT_H

/* 0..15 for 0-9, a-f, A-F; -1 for any other character. */
int u2c_hex_digit_value(char c);

#endif
