#include "log_candump.h"

#include <stdio.h>
#include <string.h>

#include "log_text.h"

#define STANDARD_DIGITS 3
#define EXTENDED_DIGITS 8
#define STANDARD_MAX 0x7FFUL
#define EXTENDED_MAX 0x1FFFFFFFUL

size_t u2c_candump_format(const u2c_log_frame *f, char *line, size_t size)
{
    char frame[40];
    char *p = frame;
    uint8_t dlc = f->dlc > 8 ? 8 : f->dlc;
    if (f->kind == U2C_LOG_ERROR)
        p = u2c_log_hex(p, (uint32_t)(U2C_CAN_ERR_FLAG | (f->id & EXTENDED_MAX)), EXTENDED_DIGITS);
    else if (f->extended)
        p = u2c_log_hex(p, f->id & EXTENDED_MAX, EXTENDED_DIGITS);
    else
        p = u2c_log_hex(p, f->id & STANDARD_MAX, STANDARD_DIGITS);
    *p++ = '#';
    if (f->kind == U2C_LOG_REMOTE) {
        *p++ = 'R';
        if (dlc > 0) /* can-utils prints the DLC of a remote request only when not 0 */
            p = u2c_log_hex(p, dlc, 1);
    } else {
        for (uint8_t i = 0; i < dlc; i++)
            p = u2c_log_hex(p, f->data[i], 2);
    }
    *p = '\0';
    int64_t t = f->time_us < 0 ? 0 : f->time_us;
    int n = snprintf(line, size, "(%lld.%06ld) %s %s", (long long)(t / 1000000),
                     (long)(t % 1000000), f->iface, frame);
    if (n < 0)
        n = 0;
    return (size_t)n < size ? (size_t)n : (size > 0 ? size - 1 : 0);
}

static u2c_log_line bad(char *reason, size_t size, const char *text)
{
    snprintf(reason, size, "%s", text);
    return U2C_LOG_LINE_BAD;
}

static bool parse_data(const char *s, const char *end, u2c_log_frame *f)
{
    uint8_t n = 0;
    while (s < end) {
        if (*s == '.' && n > 0) {
            s++;
            continue;
        }
        int high = u2c_log_hex_value(s[0]);
        int low = s + 1 < end ? u2c_log_hex_value(s[1]) : -1;
        if (high < 0 || low < 0 || n == 8)
            return false;
        f->data[n++] = (uint8_t)(high * 16 + low);
        s += 2;
    }
    f->dlc = n;
    return true;
}

u2c_log_line u2c_candump_parse(const char *line, u2c_log_frame *frame, char *reason,
                               size_t reason_size)
{
    const char *s = line;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '\0' || *s == '\n' || *s == '\r')
        return U2C_LOG_LINE_OTHER;
    u2c_log_frame f;
    memset(&f, 0, sizeof f);
    if (*s++ != '(' || !u2c_log_seconds(&s, &f.time_us) || *s++ != ')' || *s != ' ')
        return bad(reason, reason_size, "expected '(seconds.microseconds) IFACE ID#DATA'");
    while (*s == ' ')
        s++;
    size_t iface_len = strcspn(s, " \t\r\n");
    if (iface_len == 0 || iface_len >= sizeof f.iface)
        return bad(reason, reason_size, "the interface name is missing or longer than 23");
    memcpy(f.iface, s, iface_len);
    s += iface_len;
    while (*s == ' ' || *s == '\t')
        s++;
    const char *token = s;
    size_t token_len = strcspn(s, " \t\r\n");
    s += token_len;
    while (*s == ' ' || *s == '\t')
        s++;
    /* candump -L appends the direction; anything else is not this format. */
    if ((*s == 'R' || *s == 'T') && (s[1] == '\0' || s[1] == '\r' || s[1] == '\n'))
        s++;
    if (*s != '\0' && *s != '\r' && *s != '\n')
        return bad(reason, reason_size, "unexpected text after the frame");
    const char *hash = memchr(token, '#', token_len);
    if (hash == NULL)
        return bad(reason, reason_size, "the frame has no '#' (expected ID#DATA)");
    size_t digits = (size_t)(hash - token);
    if (digits != STANDARD_DIGITS && digits != EXTENDED_DIGITS)
        return bad(reason, reason_size, "the CAN ID must have 3 hex digits or 8");
    uint32_t id = 0;
    for (size_t i = 0; i < digits; i++) {
        int v = u2c_log_hex_value(token[i]);
        if (v < 0)
            return bad(reason, reason_size, "the CAN ID is not hexadecimal");
        id = id * 16 + (uint32_t)v;
    }
    const char *payload = hash + 1;
    const char *end = token + token_len;
    if (payload < end && *payload == '#')
        return bad(reason, reason_size,
                   "a CAN FD frame ('##'): the adapter sends classic CAN only");
    if (digits == STANDARD_DIGITS && id > STANDARD_MAX)
        return bad(reason, reason_size, "a 3-digit (standard) CAN ID above 7FF");
    if (digits == EXTENDED_DIGITS && (id & U2C_CAN_ERR_FLAG)) {
        f.kind = U2C_LOG_ERROR;
        f.extended = true;
        f.id = id & EXTENDED_MAX;
    } else if (digits == EXTENDED_DIGITS && id > EXTENDED_MAX) {
        return bad(reason, reason_size, "an extended CAN ID above 1FFFFFFF");
    } else {
        f.extended = digits == EXTENDED_DIGITS;
        f.id = id;
    }
    if (payload < end && (*payload == 'R' || *payload == 'r')) {
        if (f.kind == U2C_LOG_ERROR)
            return bad(reason, reason_size, "an error frame cannot be a remote request");
        f.kind = U2C_LOG_REMOTE;
        if (end - payload == 2 && payload[1] >= '0' && payload[1] <= '8')
            f.dlc = (uint8_t)(payload[1] - '0');
        else if (end - payload != 1)
            return bad(reason, reason_size, "a remote request takes one DLC digit 0..8 after 'R'");
    } else if (!parse_data(payload, end, &f)) {
        return bad(reason, reason_size, "data must be 0..8 pairs of hex digits");
    }
    *frame = f;
    return U2C_LOG_LINE_FRAME;
}
