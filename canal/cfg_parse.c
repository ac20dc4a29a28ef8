#include "cfg_parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "link_virtual.h"
#include "text.h"

#if defined(__GNUC__)
#define CFG_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define CFG_PRINTF(fmt, args)
#endif

/* serial, kbps, four timing values, mask, filter, and room for options. */
#define MAX_TOKENS 24u
#define MAX_BITRATE 1000000u
#define TOKEN_QUOTE_MAX 24u

typedef struct token {
    const char *text; /* first non-blank character */
    size_t len;       /* without the surrounding blanks */
    unsigned pos;     /* 1-based, as people count */
} token;

typedef struct parser {
    token tok[MAX_TOKENS];
    unsigned count;
    char *reason;
    size_t reason_size;
} parser;

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_serial_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static bool token_is_option(const token *t)
{
    return memchr(t->text, '=', t->len) != NULL;
}

/* --- reasons ------------------------------------------------------------- */

static size_t reason_append_v(parser *p, size_t used, const char *fmt, va_list ap)
{
    if (p->reason == NULL || p->reason_size == 0 || used >= p->reason_size - 1)
        return used;
    int n = vsnprintf(p->reason + used, p->reason_size - used, fmt, ap);
    p->reason[p->reason_size - 1] = '\0';
    if (n < 0)
        return used;
    size_t end = used + (size_t)n;
    return end < p->reason_size ? end : p->reason_size - 1;
}

static size_t reason_append(parser *p, size_t used, const char *fmt, ...) CFG_PRINTF(3, 4);
static size_t reason_append(parser *p, size_t used, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    used = reason_append_v(p, used, fmt, ap);
    va_end(ap);
    return used;
}

static bool fail(parser *p, const char *fmt, ...) CFG_PRINTF(2, 3);
static bool fail(parser *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    reason_append_v(p, 0, fmt, ap);
    va_end(ap);
    return false;
}

/* The token as the user typed it, shortened, with unprintable bytes as \xNN. */
static void quote_token(const token *t, char *out, size_t out_size)
{
    size_t o = 0;
    for (size_t i = 0; i < t->len && i < TOKEN_QUOTE_MAX; i++) {
        unsigned char c = (unsigned char)t->text[i];
        if (c >= 0x20 && c < 0x7F && c != '\'')
            o += (size_t)snprintf(out + o, out_size - o, "%c", c);
        else
            o += (size_t)snprintf(out + o, out_size - o, "\\x%02X", c);
    }
    if (t->len > TOKEN_QUOTE_MAX)
        snprintf(out + o, out_size - o, "...");
}

static bool fail_token(parser *p, const token *t, const char *fmt, ...) CFG_PRINTF(3, 4);
static bool fail_token(parser *p, const token *t, const char *fmt, ...)
{
    char quoted[TOKEN_QUOTE_MAX * 4 + 4] = "";
    quote_token(t, quoted, sizeof quoted);
    size_t used = reason_append(p, 0, "token %u '%s': ", t->pos, quoted);
    va_list ap;
    va_start(ap, fmt);
    reason_append_v(p, used, fmt, ap);
    va_end(ap);
    return false;
}

/* --- tokens and numbers -------------------------------------------------- */

static bool split_tokens(parser *p, const char *text, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && text[i] != ';')
            continue;
        if (p->count == MAX_TOKENS)
            return fail(p, "more than %u ';'-separated tokens", MAX_TOKENS);
        size_t b = start, e = i;
        while (b < e && is_blank(text[b]))
            b++;
        while (e > b && is_blank(text[e - 1]))
            e--;
        p->tok[p->count] = (token){.text = text + b, .len = e - b, .pos = p->count + 1};
        p->count++;
        start = i + 1;
    }
    /* "ED000200;500;" is common in hand-written configs: one trailing ';' is harmless. */
    if (p->count > 1 && p->tok[p->count - 1].len == 0)
        p->count--;
    return true;
}

/* NULL on success, otherwise what is wrong, to follow the field's name. */
static const char *parse_u32(const char *s, size_t n, uint32_t *value)
{
    if (n == 0)
        return "is empty";
    if (s[0] == '-')
        return "must not be negative";
    if (s[0] == '+')
        return "must be written without a sign";
    unsigned base = 10;
    size_t i = 0;
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
        if (n == 2)
            return "has '0x' but no hex digits after it";
    }
    uint64_t v = 0;
    for (; i < n; i++) {
        int d = u2c_hex_digit_value(s[i]);
        if (d < 0 || (unsigned)d >= base)
            return base == 16 ? "is not a hex number (0x then 0-9, a-f)"
                              : "is not a number (decimal, or hex with 0x)";
        v = v * base + (unsigned)d;
        if (v > UINT32_MAX)
            return "does not fit in 32 bits";
    }
    *value = (uint32_t)v;
    return NULL;
}

static bool parse_token_u32(parser *p, const token *t, const char *field, uint32_t *value)
{
    const char *problem = parse_u32(t->text, t->len, value);
    if (problem != NULL)
        return fail_token(p, t, "%s %s", field, problem);
    return true;
}

/* --- fields -------------------------------------------------------------- */

static bool is_host_char(char c)
{
    return is_serial_char(c) || c == '.' || c == ':';
}

/* "BUS@HOST[:PORT]": the bus as the server names it (case kept), a host
 * name or IPv4 address, a port; canal/link_socketcand.c checks the port. */
static bool parse_remote(parser *p, const token *t, u2c_setup *out)
{
    const char *at = memchr(t->text, '@', t->len);
    size_t bus_len = (size_t)(at - t->text);
    if (t->len > U2C_REMOTE_MAX)
        return fail_token(p, t, "remote bus has %u characters, at most %u are allowed",
                          (unsigned)t->len, U2C_REMOTE_MAX);
    if (bus_len == 0 || bus_len > 16)
        return fail_token(p, t, "remote bus: the name before '@' must have 1 to 16 characters");
    for (size_t i = 0; i < bus_len; i++)
        if (!is_serial_char(t->text[i]) && t->text[i] != '.')
            return fail_token(p, t,
                              "remote bus: the name before '@' may hold only letters, digits, "
                              "'.', '_' and '-'");
    if (bus_len + 1 == t->len)
        return fail_token(p, t, "remote bus: the host after '@' is missing");
    for (size_t i = bus_len + 1; i < t->len; i++)
        if (!is_host_char(t->text[i]))
            return fail_token(p, t,
                              "remote bus: the host may hold only letters, digits, '.', '-' and "
                              "':PORT'");
    memcpy(out->remote, t->text, t->len);
    out->remote[t->len] = '\0';
    return true;
}

static bool parse_serial(parser *p, const token *t, u2c_setup *out)
{
    if (memchr(t->text, '@', t->len) != NULL)
        return parse_remote(p, t, out);
    if (t->len > USB2CAN_SERIAL_MAX)
        return fail_token(p, t, "serial has %u characters, at most %u are allowed",
                          (unsigned)t->len, USB2CAN_SERIAL_MAX);
    for (size_t i = 0; i < t->len; i++) {
        unsigned char c = (unsigned char)t->text[i];
        if (is_serial_char((char)c))
            continue;
        if (c >= 0x20 && c < 0x7F)
            return fail_token(p, t,
                              "serial may hold only letters, digits, '_' and '-', but character "
                              "%u is '%c'",
                              (unsigned)i + 1, c);
        return fail_token(p, t,
                          "serial may hold only letters, digits, '_' and '-', but character %u "
                          "is byte 0x%02X",
                          (unsigned)i + 1, c);
    }
    for (size_t i = 0; i < t->len; i++)
        out->serial[i] = u2c_ascii_upper(t->text[i]);
    out->serial[t->len] = '\0';
    return true;
}

static bool parse_kbps(parser *p, const token *t, u2c_setup *out)
{
    uint32_t kbps;
    if (!parse_token_u32(p, t, "kbps", &kbps))
        return false;
    if (kbps == 0) {
        out->manual_timing = true;
        return true;
    }
    char why[256];
    if (u8d_bittiming_for_kbps(kbps, &out->timing, &out->bitrate, &out->bitrate_error_ppm, why,
                               sizeof why) != U8D_OK)
        return fail_token(p, t, "%s", why);
    out->kbps = kbps;
    return true;
}

typedef struct timing_field {
    const char *name;
    uint32_t min, max;
} timing_field;

/* The fields in setup-string order, with the limits either firmware takes
 * (u8d_bittiming_const); the adapter's own limits are checked once it is
 * known (the vendor's tseg1 from 2, a CANalyze's even brp). */
static const timing_field timing_fields[4] = {
    {"tseg1", U8D_CANALYZE_TSEG1_MIN, U8D_TSEG1_MAX},
    {"tseg2", U8D_TSEG2_MIN, U8D_TSEG2_MAX},
    {"sjw", U8D_SJW_MIN, U8D_SJW_MAX},
    {"brp", U8D_BRP_MIN, U8D_BRP_MAX},
};

static bool parse_manual_timing(parser *p, unsigned first, u2c_setup *out)
{
    uint32_t v[4];
    for (unsigned k = 0; k < 4; k++) {
        unsigned i = first + k;
        if (i >= p->count || token_is_option(&p->tok[i]))
            return fail(p,
                        "kbps 0 (manual timing) needs tseg1;tseg2;sjw;brp in tokens %u-%u, "
                        "but %s (token %u) is missing",
                        first + 1, first + 4, timing_fields[k].name, i + 1);
        const token *t = &p->tok[i];
        if (!parse_token_u32(p, t, timing_fields[k].name, &v[k]))
            return false;
        if (v[k] < timing_fields[k].min || v[k] > timing_fields[k].max)
            return fail_token(p, t, "%s must be %u..%u", timing_fields[k].name,
                              (unsigned)timing_fields[k].min, (unsigned)timing_fields[k].max);
    }
    if (v[2] > v[1])
        return fail_token(p, &p->tok[first + 2], "sjw (%u) must not exceed tseg2 (%u)",
                          (unsigned)v[2], (unsigned)v[1]);
    out->timing = (u8d_bittiming){.tseg1 = (uint8_t)v[0],
                                  .tseg2 = (uint8_t)v[1],
                                  .sjw = (uint8_t)v[2],
                                  .brp = (uint16_t)v[3]};
    char why[160] = "";
    if (u8d_bittiming_check_any(&out->timing, why, sizeof why) != U8D_OK)
        return fail(p, "tokens %u-%u (tseg1;tseg2;sjw;brp): %s", first + 1, first + 4, why);
    out->bitrate = u8d_bittiming_bitrate(&out->timing);
    out->bitrate_error_ppm = 0;
    if (out->bitrate > MAX_BITRATE)
        return fail(p,
                    "tokens %u-%u (tseg1;tseg2;sjw;brp = %u;%u;%u;%u) give %u bit/s, above CAN's "
                    "maximum of 1000 kbit/s",
                    first + 1, first + 4, (unsigned)v[0], (unsigned)v[1], (unsigned)v[2],
                    (unsigned)v[3], (unsigned)out->bitrate);
    return true;
}

static bool parse_mask_filter(parser *p, unsigned first, unsigned n, u2c_setup *out)
{
    if (n == 0)
        return true;
    for (unsigned k = 0; k < n; k++)
        if (p->tok[first + k].len == 0)
            return fail_token(p, &p->tok[first + k], "empty value (two ';' in a row?): expected %s",
                              k == 0   ? "a mask"
                              : k == 1 ? "a filter"
                                       : "nothing more");
    if (n == 1)
        return fail_token(p, &p->tok[first],
                          "a mask needs a filter after it (mask;filter), or give neither");
    if (n > 2) {
        if (!out->manual_timing && n == 4)
            return fail_token(p, &p->tok[first],
                              "four values follow kbps %u: tseg1;tseg2;sjw;brp are read only "
                              "when kbps is 0; after a rate only mask;filter may follow",
                              (unsigned)(out->bitrate / 1000u));
        return fail_token(p, &p->tok[first + 2],
                          "unexpected value after mask;filter (only key=value options may "
                          "follow)");
    }
    if (!parse_token_u32(p, &p->tok[first], "mask", &out->mask) ||
        !parse_token_u32(p, &p->tok[first + 1], "filter", &out->filter))
        return false;
    out->has_filter = true;
    return true;
}

static bool key_equals(const char *key, size_t len, const char *name)
{
    if (strlen(name) != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (u2c_ascii_upper(key[i]) != u2c_ascii_upper(name[i]))
            return false;
    return true;
}

/* Where each option was given (0 = not yet), for "already given" reasons. */
typedef struct option_seen {
    unsigned rxqueue, busoff, errorframes, location;
} option_seen;

static bool once(parser *p, const token *t, unsigned *seen, const char *key)
{
    if (*seen != 0)
        return fail_token(p, t, "%s is already given in token %u", key, *seen);
    *seen = t->pos;
    return true;
}

static bool parse_rxqueue(parser *p, const token *t, const char *value, size_t value_len,
                          u2c_setup *out)
{
    uint32_t capacity;
    const char *problem = parse_u32(value, value_len, &capacity);
    if (problem != NULL)
        return fail_token(p, t, "rxqueue %s", problem);
    if (capacity < U2C_RX_CAPACITY_MIN || capacity > U2C_RX_CAPACITY_MAX)
        return fail_token(p, t, "rxqueue must be %u..%u frames", (unsigned)U2C_RX_CAPACITY_MIN,
                          (unsigned)U2C_RX_CAPACITY_MAX);
    out->rx_capacity = capacity;
    return true;
}

/* busoff=off (the default) or busoff=auto:N (ms). */
static bool parse_busoff(parser *p, const token *t, const char *value, size_t value_len,
                         u2c_setup *out)
{
    if (key_equals(value, value_len, "off")) {
        out->busoff_restart_ms = 0;
        return true;
    }
    if (value_len < 5 || !key_equals(value, 5, "auto:"))
        return fail_token(p, t,
                          "busoff takes 'off' or 'auto:N' (restart N ms after bus-off, "
                          "1..%u), e.g. busoff=auto:100",
                          (unsigned)U2C_BUSOFF_RESTART_MAX_MS);
    uint32_t ms;
    const char *problem = parse_u32(value + 5, value_len - 5, &ms);
    if (problem != NULL)
        return fail_token(p, t, "busoff=auto:N: N %s", problem);
    if (ms < 1 || ms > (uint32_t)U2C_BUSOFF_RESTART_MAX_MS)
        return fail_token(p, t, "busoff=auto:N: N must be 1..%u ms",
                          (unsigned)U2C_BUSOFF_RESTART_MAX_MS);
    out->busoff_restart_ms = ms;
    return true;
}

static bool parse_errorframes(parser *p, const token *t, const char *value, size_t value_len,
                              u2c_setup *out)
{
    unsigned slot;
    if (!u2c_virtual_serial_slot(out->serial, &slot))
        return fail_token(p, t,
                          "errorframes=N makes a virtual adapter a faulty node; %s is not a "
                          "virtual adapter",
                          out->serial[0] ? out->serial : "the only connected adapter");
    uint32_t every;
    const char *problem = parse_u32(value, value_len, &every);
    if (problem != NULL)
        return fail_token(p, t, "errorframes %s", problem);
    if (every > (uint32_t)U2C_ERROR_FLAGS_MAX)
        return fail_token(p, t, "errorframes must be 0 (off) .. %u", (unsigned)U2C_ERROR_FLAGS_MAX);
    out->virtual_error_flags = every;
    return true;
}

/* "1-4.2": a bus number, '-', then one to seven port numbers joined by '.'. */
static bool location_well_formed(const char *text, size_t len)
{
    unsigned parts = 0;
    size_t i = 0;
    while (i < len) {
        size_t digits = 0;
        while (i < len && text[i] >= '0' && text[i] <= '9') {
            i++;
            digits++;
        }
        if (digits == 0 || digits > 3)
            return false;
        parts++;
        if (i == len)
            break;
        if (text[i] != (parts == 1 ? '-' : '.'))
            return false;
        i++;
        if (i == len)
            return false;
    }
    return parts >= 2 && parts <= 8;
}

static bool parse_location(parser *p, const token *t, const char *value, size_t value_len,
                           u2c_setup *out)
{
    if (!location_well_formed(value, value_len) || value_len >= sizeof out->location)
        return fail_token(p, t,
                          "location must be a USB port path as usb2can-cli list shows "
                          "it: the bus, '-', then ports joined by '.' (e.g. 1-4.2)");
    memcpy(out->location, value, value_len);
    out->location[value_len] = '\0';
    return true;
}

static bool parse_options(parser *p, unsigned first, u2c_setup *out)
{
    option_seen seen = {0, 0, 0, 0};
    for (unsigned i = first; i < p->count; i++) {
        const token *t = &p->tok[i];
        if (!token_is_option(t))
            return fail_token(p, t,
                              "options (key=value) must come last; nothing else may follow "
                              "them");
        const char *eq = memchr(t->text, '=', t->len);
        size_t key_len = (size_t)(eq - t->text);
        while (key_len > 0 && is_blank(t->text[key_len - 1]))
            key_len--;
        const char *value = eq + 1;
        size_t value_len = t->len - (size_t)(value - t->text);
        while (value_len > 0 && is_blank(*value)) {
            value++;
            value_len--;
        }
        if (key_len == 0)
            return fail_token(p, t, "option has no name before '='");
        bool ok;
        if (key_equals(t->text, key_len, "rxqueue"))
            ok = once(p, t, &seen.rxqueue, "rxqueue") && parse_rxqueue(p, t, value, value_len, out);
        else if (key_equals(t->text, key_len, "busoff"))
            ok = once(p, t, &seen.busoff, "busoff") && parse_busoff(p, t, value, value_len, out);
        else if (key_equals(t->text, key_len, "errorframes"))
            ok = once(p, t, &seen.errorframes, "errorframes") &&
                 parse_errorframes(p, t, value, value_len, out);
        else if (key_equals(t->text, key_len, "location"))
            ok = once(p, t, &seen.location, "location") &&
                 parse_location(p, t, value, value_len, out);
        else
            return fail_token(p, t,
                              "unknown option (known: rxqueue=N, busoff=auto:N, "
                              "errorframes=N, location=1-4.2)");
        if (!ok)
            return false;
    }
    return true;
}

/* --- entry points -------------------------------------------------------- */

bool u2c_setup_parse(const char *text, u2c_setup *out, char *reason, size_t reason_size)
{
    parser p = {.count = 0, .reason = reason, .reason_size = reason_size};
    if (reason != NULL && reason_size > 0)
        reason[0] = '\0';
    if (text == NULL)
        return fail(&p, "setup string is NULL; expected 'serial;kbps', e.g. 'ED000200;500'");
    if (out == NULL)
        return fail(&p, "no place for the parsed setup (out is NULL)");
    memset(out, 0, sizeof *out);
    out->rx_capacity = U2C_RX_CAPACITY_DEFAULT;

    size_t len = 0;
    while (len < U2C_SETUP_MAX && text[len] != '\0')
        len++;
    if (len == U2C_SETUP_MAX)
        return fail(&p, "setup string is longer than %u characters", U2C_SETUP_MAX - 1);
    size_t first = 0;
    while (first < len && is_blank(text[first]))
        first++;
    if (first == len)
        return fail(&p, "setup string is empty; expected 'serial;kbps', e.g. 'ED000200;500'");

    if (!split_tokens(&p, text, len))
        return false;
    if (!parse_serial(&p, &p.tok[0], out))
        return false;
    if (out->remote[0] && (p.count < 2 || token_is_option(&p.tok[1]))) {
        /* The server owns the bit rate: a remote bus needs none. */
        static const token default_kbps = {"500", 3, 2};
        if (!parse_kbps(&p, &default_kbps, out))
            return false;
        return parse_options(&p, 1, out);
    }
    if (p.count < 2 || token_is_option(&p.tok[1]))
        return fail(&p, "token 2: kbps is missing; expected 'serial;kbps', e.g. 'ED000200;500'");
    if (!parse_kbps(&p, &p.tok[1], out))
        return false;

    unsigned next = 2;
    if (out->manual_timing) {
        if (!parse_manual_timing(&p, next, out))
            return false;
        next += 4;
    }
    unsigned positional = 0;
    while (next + positional < p.count && !token_is_option(&p.tok[next + positional]))
        positional++;
    if (!parse_mask_filter(&p, next, positional, out))
        return false;
    return parse_options(&p, next + positional, out);
}
