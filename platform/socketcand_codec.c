/* The socketcand text protocol as pure functions (socketcand_codec.h). */
#include "socketcand_codec.h"

#include "text.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { READER_OUTSIDE, READER_INSIDE, READER_SKIPPING };

#define TOKENS_MAX 24
#define USECS_PER_SEC 1000000u

void u2c_scand_reader_init(u2c_scand_reader *reader)
{
    memset(reader, 0, sizeof *reader);
    reader->state = READER_OUTSIDE;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_printable(unsigned char c)
{
    return c >= 0x20 && c < 0x7F;
}

u2c_scand_event u2c_scand_reader_push(u2c_scand_reader *reader, const char *bytes, size_t len,
                                      size_t *used)
{
    size_t i = 0;
    while (i < len) {
        char c = bytes[i++];
        switch (reader->state) {
        case READER_OUTSIDE:
            if (c == '<') {
                reader->state = READER_INSIDE;
                reader->element[0] = '<';
                reader->length = 1;
                reader->tainted = false;
                reader->stray = false;
            } else if (!is_space(c) && !reader->stray) {
                reader->stray = true;
                *used = i;
                return U2C_SCAND_MALFORMED;
            }
            break;
        case READER_INSIDE:
            if (c == '<') {
                /* A new element begins: the unfinished one is reported, this '<' kept. */
                reader->element[0] = '<';
                reader->length = 1;
                reader->tainted = false;
                *used = i;
                return U2C_SCAND_MALFORMED;
            }
            if (!is_printable((unsigned char)c) && !is_space(c))
                reader->tainted = true;
            if (reader->length >= U2C_SCAND_ELEMENT_MAX) {
                reader->state = c == '>' ? READER_OUTSIDE : READER_SKIPPING;
                *used = i;
                return U2C_SCAND_TOO_LONG;
            }
            reader->element[reader->length++] = c;
            if (c == '>') {
                reader->element[reader->length] = '\0';
                reader->state = READER_OUTSIDE;
                *used = i;
                return reader->tainted ? U2C_SCAND_MALFORMED : U2C_SCAND_ELEMENT;
            }
            break;
        default: /* READER_SKIPPING */
            if (c == '>')
                reader->state = READER_OUTSIDE;
            break;
        }
    }
    *used = i;
    return U2C_SCAND_NONE;
}

/* ---- parsing ---- */

typedef struct tokens {
    const char *at[TOKENS_MAX];
    size_t len[TOKENS_MAX];
    size_t count;
    bool overflow;
} tokens;

static void split(const char *begin, const char *end, tokens *t)
{
    t->count = 0;
    t->overflow = false;
    const char *p = begin;
    while (p < end) {
        while (p < end && is_space(*p))
            p++;
        if (p >= end)
            break;
        const char *start = p;
        while (p < end && !is_space(*p))
            p++;
        if (t->count == TOKENS_MAX) {
            t->overflow = true;
            return;
        }
        t->at[t->count] = start;
        t->len[t->count] = (size_t)(p - start);
        t->count++;
    }
}

static bool token_is(const tokens *t, size_t i, const char *word)
{
    return i < t->count && t->len[i] == strlen(word) && memcmp(t->at[i], word, t->len[i]) == 0;
}

#if defined(__GNUC__)
static void bad(u2c_scand_command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#endif

static void bad(u2c_scand_command *cmd, const char *fmt, ...)
{
    char reason[sizeof cmd->reason];
    va_list args;
    va_start(args, fmt);
    vsnprintf(reason, sizeof reason, fmt, args);
    va_end(args);
    memset(cmd, 0, sizeof *cmd);
    cmd->kind = U2C_SCAND_BAD;
    memcpy(cmd->reason, reason, sizeof reason);
}

static bool parse_hex(const char *s, size_t len, size_t max_digits, uint32_t *value)
{
    if (len == 0 || len > max_digits)
        return false;
    uint32_t v = 0;
    for (size_t i = 0; i < len; i++) {
        int d = u2c_hex_digit_value(s[i]);
        if (d < 0)
            return false;
        v = (v << 4) | (uint32_t)d;
    }
    *value = v;
    return true;
}

static bool parse_decimal(const char *s, size_t len, uint64_t max, uint64_t *value)
{
    if (len == 0 || len > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        uint64_t digit = (uint64_t)(s[i] - '0');
        if (digit > max || v > (max - digit) / 10)
            return false;
        v = v * 10 + digit;
    }
    *value = v;
    return true;
}

static bool parse_id(const tokens *t, size_t i, u2c_scand_frame *frame, u2c_scand_command *cmd)
{
    uint32_t v;
    if (i >= t->count || !parse_hex(t->at[i], t->len[i], 8, &v)) {
        bad(cmd, "CAN identifier must be 1 to 8 hex digits");
        return false;
    }
    if (v & U2C_SCAND_FLAG_ERROR) {
        bad(cmd, "error frames cannot be sent");
        return false;
    }
    uint32_t id = v & U2C_SCAND_EFF_MASK;
    /* With flag bits the flag decides; without, the width or the value. */
    if (v & (U2C_SCAND_FLAG_EXTENDED | U2C_SCAND_FLAG_RTR))
        frame->extended = (v & U2C_SCAND_FLAG_EXTENDED) != 0;
    else
        frame->extended = t->len[i] == 8 || id > U2C_SCAND_SFF_MASK;
    if (!frame->extended && id > U2C_SCAND_SFF_MASK) {
        bad(cmd, "standard CAN identifier above 7FF");
        return false;
    }
    frame->rtr = (v & U2C_SCAND_FLAG_RTR) != 0;
    frame->id = id;
    return true;
}

/* "DLC B0 B1 ..." from token i on, exactly DLC one- or two-digit bytes, up to the end. */
static bool parse_dlc_data(const tokens *t, size_t i, u2c_scand_frame *frame,
                           u2c_scand_command *cmd)
{
    uint64_t dlc;
    if (i >= t->count || !parse_decimal(t->at[i], t->len[i], 8, &dlc)) {
        bad(cmd, "data length must be 0 to 8");
        return false;
    }
    if (t->count - i - 1 != dlc) {
        bad(cmd, "data length %u but %u data bytes", (unsigned)dlc, (unsigned)(t->count - i - 1));
        return false;
    }
    frame->dlc = (uint8_t)dlc;
    for (size_t b = 0; b < dlc; b++) {
        uint32_t byte;
        if (!parse_hex(t->at[i + 1 + b], t->len[i + 1 + b], 2, &byte)) {
            bad(cmd, "data byte %u is not 1 or 2 hex digits", (unsigned)b);
            return false;
        }
        frame->data[b] = (uint8_t)byte;
    }
    return true;
}

static bool parse_interval(const tokens *t, size_t i, u2c_scand_command *cmd)
{
    if (i + 1 >= t->count || !parse_decimal(t->at[i], t->len[i], UINT32_MAX, &cmd->secs) ||
        !parse_decimal(t->at[i + 1], t->len[i + 1], UINT32_MAX, &cmd->usecs)) {
        bad(cmd, "interval must be two decimal numbers: seconds and microseconds");
        return false;
    }
    return true;
}

static bool expect_count(const tokens *t, size_t n, u2c_scand_command *cmd, const char *usage)
{
    if (t->count == n)
        return true;
    bad(cmd, "syntax: %s", usage);
    return false;
}

/* "SECS.USECS" with 1..6 fraction digits. */
static bool parse_timestamp(const char *s, size_t len, u2c_scand_command *cmd)
{
    const char *dot = memchr(s, '.', len);
    if (dot == NULL || dot == s)
        return false;
    size_t int_len = (size_t)(dot - s);
    size_t frac_len = len - int_len - 1;
    uint64_t frac;
    if (frac_len == 0 || frac_len > 6 || !parse_decimal(s, int_len, UINT64_MAX, &cmd->secs) ||
        !parse_decimal(dot + 1, frac_len, 999999, &frac))
        return false;
    for (size_t i = frac_len; i < 6; i++)
        frac *= 10;
    cmd->usecs = frac;
    return true;
}

static void parse_frame(const tokens *t, u2c_scand_command *cmd)
{
    if (t->count < 3) {
        bad(cmd, "syntax: frame ID SECS.USECS [DATA]");
        return;
    }
    if (!parse_id(t, 1, &cmd->frame, cmd))
        return;
    if (!parse_timestamp(t->at[2], t->len[2], cmd)) {
        bad(cmd, "frame timestamp must be SECS.USECS");
        return;
    }
    size_t nibbles = 0;
    for (size_t i = 3; i < t->count; i++) {
        for (size_t k = 0; k < t->len[i]; k++) {
            int d = u2c_hex_digit_value(t->at[i][k]);
            if (d < 0 || nibbles >= 16) {
                bad(cmd, d < 0 ? "frame data is not hex" : "frame data longer than 8 bytes");
                return;
            }
            if (nibbles % 2 == 0)
                cmd->frame.data[nibbles / 2] = (uint8_t)(d << 4);
            else
                cmd->frame.data[nibbles / 2] |= (uint8_t)d;
            nibbles++;
        }
    }
    if (nibbles % 2 != 0) {
        bad(cmd, "frame data has an odd number of hex digits");
        return;
    }
    cmd->frame.dlc = (uint8_t)(nibbles / 2);
    cmd->kind = U2C_SCAND_FRAME;
}

static bool valid_bus_name(const char *s, size_t len)
{
    if (len == 0 || len > U2C_SCAND_BUS_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_printable((unsigned char)s[i]) || s[i] == '<' || s[i] == '>')
            return false;
    return true;
}

static const char *const unsupported_words[] = {"muxfilter", "isotpconf", "sendpdu"};

void u2c_scand_parse(const char *element, u2c_scand_command *cmd)
{
    memset(cmd, 0, sizeof *cmd);
    size_t len = element ? strlen(element) : 0;
    if (len < 2 || element[0] != '<' || element[len - 1] != '>') {
        bad(cmd, "an element is '<' words '>'");
        return;
    }
    tokens t;
    split(element + 1, element + len - 1, &t);
    if (t.overflow) {
        bad(cmd, "too many words");
        return;
    }
    if (t.count == 0) {
        bad(cmd, "empty element");
        return;
    }
    static const struct {
        const char *word;
        u2c_scand_kind kind;
    } bare[] = {
        {"rawmode", U2C_SCAND_RAWMODE},
        {"bcmmode", U2C_SCAND_BCMMODE},
        {"controlmode", U2C_SCAND_CONTROLMODE},
        {"isotpmode", U2C_SCAND_ISOTPMODE},
        {"echo", U2C_SCAND_ECHO},
        {"hi", U2C_SCAND_HI},
        {"ok", U2C_SCAND_OK},
    };
    for (size_t i = 0; i < sizeof bare / sizeof bare[0]; i++) {
        if (!token_is(&t, 0, bare[i].word))
            continue;
        if (t.count != 1) {
            bad(cmd, "'%s' takes no arguments", bare[i].word);
            return;
        }
        cmd->kind = bare[i].kind;
        return;
    }
    if (token_is(&t, 0, "open")) {
        if (t.count != 2 || !valid_bus_name(t.at[1], t.len[1])) {
            bad(cmd, "syntax: open BUS (a name of 1 to %d characters)", U2C_SCAND_BUS_NAME_MAX);
            return;
        }
        memcpy(cmd->bus, t.at[1], t.len[1]);
        cmd->bus[t.len[1]] = '\0';
        cmd->kind = U2C_SCAND_OPEN;
        return;
    }
    if (token_is(&t, 0, "send") || token_is(&t, 0, "update")) {
        bool send = token_is(&t, 0, "send");
        if (t.count < 3) {
            bad(cmd, "syntax: %s ID DLC [DATA...]", send ? "send" : "update");
            return;
        }
        if (!parse_id(&t, 1, &cmd->frame, cmd) || !parse_dlc_data(&t, 2, &cmd->frame, cmd))
            return;
        cmd->kind = send ? U2C_SCAND_SEND : U2C_SCAND_UPDATE;
        return;
    }
    if (token_is(&t, 0, "add") || token_is(&t, 0, "filter")) {
        bool add = token_is(&t, 0, "add");
        cmd->kind = add ? U2C_SCAND_ADD : U2C_SCAND_FILTER; /* bad() overrides it */
        if (t.count < 5) {
            bad(cmd, "syntax: %s SECS USECS ID DLC [DATA...]", add ? "add" : "filter");
            return;
        }
        if (parse_interval(&t, 1, cmd) && parse_id(&t, 3, &cmd->frame, cmd))
            (void)parse_dlc_data(&t, 4, &cmd->frame, cmd);
        return;
    }
    if (token_is(&t, 0, "delete") || token_is(&t, 0, "unsubscribe")) {
        bool del = token_is(&t, 0, "delete");
        if (!expect_count(&t, 2, cmd, del ? "delete ID" : "unsubscribe ID") ||
            !parse_id(&t, 1, &cmd->frame, cmd))
            return;
        cmd->kind = del ? U2C_SCAND_DELETE : U2C_SCAND_UNSUBSCRIBE;
        return;
    }
    if (token_is(&t, 0, "subscribe")) {
        if (!expect_count(&t, 4, cmd, "subscribe SECS USECS ID") || !parse_interval(&t, 1, cmd) ||
            !parse_id(&t, 3, &cmd->frame, cmd))
            return;
        cmd->kind = U2C_SCAND_SUBSCRIBE;
        return;
    }
    if (token_is(&t, 0, "statistics")) {
        if (!expect_count(&t, 2, cmd, "statistics MILLISECONDS"))
            return;
        if (!parse_decimal(t.at[1], t.len[1], UINT32_MAX, &cmd->secs)) {
            bad(cmd, "statistics interval must be a decimal number of milliseconds");
            return;
        }
        cmd->kind = U2C_SCAND_STATISTICS;
        return;
    }
    if (token_is(&t, 0, "frame")) {
        parse_frame(&t, cmd);
        return;
    }
    if (token_is(&t, 0, "stat")) {
        if (!expect_count(&t, 5, cmd, "stat RBYTES RPACKETS TBYTES TPACKETS"))
            return;
        for (size_t i = 0; i < 4; i++) {
            if (!parse_decimal(t.at[i + 1], t.len[i + 1], UINT64_MAX, &cmd->stat[i])) {
                bad(cmd, "stat values must be decimal");
                return;
            }
        }
        cmd->kind = U2C_SCAND_STAT;
        return;
    }
    if (token_is(&t, 0, "error")) {
        const char *rest = t.count > 1 ? t.at[1] : element + len - 1;
        size_t n = (size_t)(element + len - 1 - rest);
        while (n > 0 && is_space(rest[n - 1]))
            n--;
        memcpy(cmd->text, rest, n);
        cmd->text[n] = '\0';
        cmd->kind = U2C_SCAND_ERROR;
        return;
    }
    for (size_t i = 0; i < sizeof unsupported_words / sizeof unsupported_words[0]; i++) {
        if (token_is(&t, 0, unsupported_words[i])) {
            snprintf(cmd->word, sizeof cmd->word, "%s", unsupported_words[i]);
            cmd->kind = U2C_SCAND_UNSUPPORTED;
            return;
        }
    }
    if (t.count >= 2 && t.len[1] == 1 && (t.at[1][0] == 'B' || t.at[1][0] == 'C') &&
        valid_bus_name(t.at[0], t.len[0])) {
        memcpy(cmd->bus, t.at[0], t.len[0]);
        cmd->bus[t.len[0]] = '\0';
        cmd->op = t.at[1][0];
        cmd->kind = U2C_SCAND_CONFIGURE;
        return;
    }
    size_t shown = t.len[0] < 16 ? t.len[0] : 16;
    char word[17];
    memcpy(word, t.at[0], shown);
    word[shown] = '\0';
    for (size_t i = 0; i < shown; i++)
        if (!is_printable((unsigned char)word[i]))
            word[i] = '.';
    bad(cmd, "unknown command '%s'", word);
}

/* ---- formatting ---- */

static size_t finish(char *out, size_t size, int n)
{
    if (n < 0 || (size_t)n >= size) {
        if (size > 0)
            out[0] = '\0';
        return 0;
    }
    return (size_t)n;
}

static int format_id(char *out, size_t size, const u2c_scand_frame *frame)
{
    if (frame->extended)
        return snprintf(out, size, "%08X", (unsigned)(frame->id & U2C_SCAND_EFF_MASK));
    return snprintf(out, size, "%03X", (unsigned)(frame->id & U2C_SCAND_SFF_MASK));
}

size_t u2c_scand_format_frame(char *out, size_t size, const u2c_scand_frame *frame, uint64_t secs,
                              uint32_t usecs, bool bcm_style)
{
    char id[12];
    format_id(id, sizeof id, frame);
    char data[8 * 3 + 1];
    size_t used = 0;
    unsigned dlc = frame->dlc <= 8 ? frame->dlc : 8;
    for (unsigned i = 0; i < dlc; i++)
        used += (size_t)snprintf(data + used, sizeof data - used, bcm_style ? "%02X " : "%02X",
                                 frame->data[i]);
    data[used] = '\0';
    int n = snprintf(out, size, "< frame %s %llu.%06lu %s >", id, (unsigned long long)secs,
                     (unsigned long)(usecs % USECS_PER_SEC), data);
    return finish(out, size, n);
}

size_t u2c_scand_format_error_frame(char *out, size_t size, uint32_t error_class, uint64_t secs,
                                    uint32_t usecs)
{
    int n = snprintf(out, size, "< error %03X %llu.%06lu >", (unsigned)error_class,
                     (unsigned long long)secs, (unsigned long)(usecs % USECS_PER_SEC));
    return finish(out, size, n);
}

size_t u2c_scand_format_send(char *out, size_t size, const u2c_scand_frame *frame)
{
    uint32_t id = frame->id & (frame->extended ? U2C_SCAND_EFF_MASK : U2C_SCAND_SFF_MASK);
    if (frame->rtr)
        id |= U2C_SCAND_FLAG_RTR | (frame->extended ? U2C_SCAND_FLAG_EXTENDED : 0);
    char data[8 * 3 + 1];
    size_t used = 0;
    unsigned dlc = frame->dlc <= 8 ? frame->dlc : 8;
    for (unsigned i = 0; i < dlc; i++)
        used += (size_t)snprintf(data + used, sizeof data - used, " %02X", frame->data[i]);
    data[used] = '\0';
    int n = snprintf(out, size, frame->extended ? "< send %08X %u%s >" : "< send %03X %u%s >",
                     (unsigned)id, dlc, data);
    return finish(out, size, n);
}

size_t u2c_scand_format_stat(char *out, size_t size, const uint64_t stat[4])
{
    int n = snprintf(out, size, "< stat %llu %llu %llu %llu >", (unsigned long long)stat[0],
                     (unsigned long long)stat[1], (unsigned long long)stat[2],
                     (unsigned long long)stat[3]);
    return finish(out, size, n);
}

size_t u2c_scand_format_error(char *out, size_t size, const char *text)
{
    char clean[U2C_SCAND_ELEMENT_MAX - 10];
    size_t n = 0;
    for (; text[n] != '\0' && n + 1 < sizeof clean; n++) {
        unsigned char c = (unsigned char)text[n];
        clean[n] = (c == '<' || c == '>' || !is_printable(c)) ? '.' : (char)c;
    }
    clean[n] = '\0';
    return finish(out, size, snprintf(out, size, "< error %s >", clean));
}
