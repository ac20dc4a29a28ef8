/*
 * canal_text.h — the words the library and its tools share: readable names
 * of the CANAL status codes (the id of a CANAL_IDFLAG_STATUS message, and
 * the last bus event CanalGetStatus describes), and hex digits as the setup
 * string and the CLI read them.
 *
 * Contract: pure functions, no state, safe from any thread.
 */
#ifndef USB2CAN_CANAL_TEXT_H
#define USB2CAN_CANAL_TEXT_H

/* "ok", "ACK error", "error passive", ...; NULL for a code CANAL does not name. */
const char *u2c_status_code_name(unsigned long code);

/* 0..15 for 0-9, a-f, A-F; -1 for any other character. */
int u2c_hex_digit_value(char c);

#endif
