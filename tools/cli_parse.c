#include "cli_parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "usb2can.h"

#define STANDARD_ID_DIGITS 3
#define EXTENDED_ID_DIGITS 8

bool cli_parse_number(const char *text, unsigned long min, unsigned long max, unsigned long *value)
{
    if (text == NULL || !isdigit((unsigned char)text[0]))
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long parsed = strtoull(text, &end, 0);
    if (errno != 0 || end == text || *end != '\0' || parsed < min || parsed > max)
        return false;
    *value = (unsigned long)parsed;
    return true;
}

static bool parse_id(const char *text, size_t digits, canalMsg *msg, char *reason,
                     size_t reason_size)
{
    if (digits != STANDARD_ID_DIGITS && digits != EXTENDED_ID_DIGITS) {
        snprintf(reason, reason_size,
                 "the CAN ID must be 3 hex digits (standard) or 8 (extended), not %u",
                 (unsigned)digits);
        return false;
    }
    unsigned long id = 0;
    for (size_t i = 0; i < digits; i++) {
        int v = u2c_hex_digit_value(text[i]);
        if (v < 0) {
            snprintf(reason, reason_size, "'%c' in the CAN ID is not a hex digit", text[i]);
            return false;
        }
        id = id * 16 + (unsigned long)v;
    }
    bool extended = digits == EXTENDED_ID_DIGITS;
    unsigned long max = extended ? USB2CAN_EXT_ID_MAX : USB2CAN_STD_ID_MAX;
    if (id > max) {
        snprintf(reason, reason_size, "%s ID %lX is above %lX",
                 extended ? "an extended" : "a standard", id, max);
        return false;
    }
    msg->id = id;
    msg->flags = extended ? CANAL_IDFLAG_EXTENDED : CANAL_IDFLAG_STANDARD;
    return true;
}

static bool parse_remote(const char *text, canalMsg *msg, char *reason, size_t reason_size)
{
    msg->flags |= CANAL_IDFLAG_RTR;
    if (text[0] == '\0')
        return true;
    if (text[0] < '0' || text[0] > '8' || text[1] != '\0') {
        snprintf(reason, reason_size, "a remote request takes one DLC digit 0..8 after 'R'");
        return false;
    }
    msg->sizeData = (unsigned char)(text[0] - '0');
    return true;
}

static bool parse_data(const char *text, canalMsg *msg, char *reason, size_t reason_size)
{
    size_t count = 0;
    for (const char *p = text; *p != '\0';) {
        if (*p == '.' && count > 0 && p[1] != '\0') {
            p++;
            continue;
        }
        int high = u2c_hex_digit_value(p[0]);
        int low = high < 0 ? -1 : u2c_hex_digit_value(p[1]);
        if (high < 0 || low < 0) {
            snprintf(reason, reason_size,
                     "data must be pairs of hex digits (optionally separated by '.')");
            return false;
        }
        if (count == sizeof msg->data) {
            snprintf(reason, reason_size, "more than 8 data bytes");
            return false;
        }
        msg->data[count++] = (unsigned char)(high * 16 + low);
        p += 2;
    }
    msg->sizeData = (unsigned char)count;
    return true;
}

bool cli_parse_frame(const char *text, canalMsg *msg, char *reason, size_t reason_size)
{
    canalMsg parsed;
    memset(&parsed, 0, sizeof parsed);
    const char *hash = text ? strchr(text, '#') : NULL;
    if (hash == NULL) {
        snprintf(reason, reason_size, "expected <id>#<data>, e.g. 123#1122 or 1F334455#R");
        return false;
    }
    if (!parse_id(text, (size_t)(hash - text), &parsed, reason, reason_size))
        return false;
    const char *payload = hash + 1;
    bool ok = (payload[0] == 'R' || payload[0] == 'r')
                  ? parse_remote(payload + 1, &parsed, reason, reason_size)
                  : parse_data(payload, &parsed, reason, reason_size);
    if (ok)
        *msg = parsed;
    return ok;
}

static void trimmed_serial(const char *setup, const char **start, size_t *length)
{
    const char *end = strchr(setup, ';');
    if (end == NULL)
        end = setup + strlen(setup);
    while (setup < end && isspace((unsigned char)*setup))
        setup++;
    while (end > setup && isspace((unsigned char)end[-1]))
        end--;
    *start = setup;
    *length = (size_t)(end - setup);
}

void cli_setup_name(const char *setup, char *name, size_t name_size)
{
    const char *start;
    size_t length;
    trimmed_serial(setup, &start, &length);
    if (length == 0) {
        snprintf(name, name_size, "USB2CAN");
        return;
    }
    size_t i = 0;
    for (; i < length && i + 1 < name_size; i++)
        name[i] = (char)toupper((unsigned char)start[i]);
    if (name_size > 0)
        name[i] = '\0';
}

void cli_setup_with_bitrate(const char *setup, char *out, size_t out_size)
{
    if (strchr(setup, ';') != NULL)
        snprintf(out, out_size, "%s", setup);
    else
        snprintf(out, out_size, "%s;500", setup);
}
