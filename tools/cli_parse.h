/*
 * cli_parse.h — the textual arguments of usb2can-cli: numbers, cansend-style
 * frames and the setup string.
 *
 * Contract: pure functions; on failure they return false and write a reason
 * naming what is wrong (never a partial result). Frames follow cansend:
 *   <id>#<data>   id = 3 hex digits (standard, <= 7FF) or 8 (extended,
 *                 <= 1FFFFFFF); data = 0..8 bytes as hex pairs, '.' allowed
 *                 between bytes; "<id>#" sends no data
 *   <id>#R[n]     remote request with DLC n (0..8, default 0)
 */
#ifndef USB2CAN_CLI_PARSE_H
#define USB2CAN_CLI_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "canal.h"

/* Decimal or 0x-hex, min <= value <= max, nothing after it. */
bool cli_parse_number(const char *text, unsigned long min, unsigned long max, unsigned long *value);

/* Fills msg (flags, id, sizeData, data; the rest zero). */
bool cli_parse_frame(const char *text, canalMsg *msg, char *reason, size_t reason_size);

/* The name a setup string's adapter goes by in output: its serial part,
 * trimmed and upper-cased, or "USB2CAN" when empty (the only adapter). */
void cli_setup_name(const char *setup, char *name, size_t name_size);

/* The setup string to open: as given, or "<serial>;500" when it names no
 * bitrate (no ';'). */
void cli_setup_with_bitrate(const char *setup, char *out, size_t out_size);

/* Takes the first "--name VALUE" or "--name=VALUE" out of argv (shifting the
 * rest down, *argc updated): 1 with *value set, 0 when absent, -1 when the
 * value is missing (the option is then left in place). Options with text
 * values (file names, setup strings) go through this before cli_parse_args,
 * which knows numbers only. */
int cli_take_text_option(int *argc, char **argv, const char *name, const char **value);

#endif
