#include "log_asc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log_text.h"
#include "wall_clock.h"

#define US_PER_MS 1000
#define US_PER_S 1000000
#define STANDARD_MAX 0x7FFUL
#define EXTENDED_MAX 0x1FFFFFFFUL
#define CAN_ERR_BUSERROR 0x80u /* linux/can/error.h */
#define MAX_YEAR 9999
#define MAX_TIME_US 253402300800000000LL /* 10000-01-01 */

static const char *const weekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static size_t clamp_length(int n, size_t size)
{
    if (n < 0 || size == 0)
        return 0;
    return (size_t)n < size ? (size_t)n : size - 1;
}

int64_t u2c_asc_start_of(int64_t first_frame_us)
{
    return first_frame_us - first_frame_us % US_PER_MS;
}

/* "Mon Dec 07 11:54:55.123 pm 2026", the form CANoe and python-can write
 * (and the only one asc2log reads with milliseconds). */
static bool format_date(int64_t start_us, char *out, size_t size)
{
    struct tm tm;
    if (!u2c_local_time(start_us / US_PER_S, &tm) || tm.tm_wday < 0 || tm.tm_wday > 6 ||
        tm.tm_mon < 0 || tm.tm_mon > 11)
        return false;
    int hour12 = tm.tm_hour % 12 == 0 ? 12 : tm.tm_hour % 12;
    snprintf(out, size, "%s %s %02d %02d:%02d:%02d.%03d %s %d", weekdays[tm.tm_wday],
             months[tm.tm_mon], tm.tm_mday, hour12, tm.tm_min, tm.tm_sec,
             (int)(start_us % US_PER_S / US_PER_MS), tm.tm_hour < 12 ? "am" : "pm",
             tm.tm_year + 1900);
    return true;
}

size_t u2c_asc_header(int64_t start_us, char *text, size_t size)
{
    char date[64];
    if (!format_date(start_us, date, sizeof date)) {
        if (size > 0)
            text[0] = '\0';
        return 0;
    }
    int n = snprintf(text, size,
                     "date %s\n"
                     "base hex  timestamps absolute\n"
                     "internal events logged\n"
                     "// version 9.0.0\n"
                     "Begin Triggerblock %s\n"
                     "   0.000000 Start of measurement\n",
                     date, date);
    return clamp_length(n, size);
}

size_t u2c_asc_format(const u2c_log_frame *f, int64_t start_us, unsigned channel, char *line,
                      size_t size)
{
    int64_t t = f->time_us > start_us ? f->time_us - start_us : 0;
    char time_text[32];
    snprintf(time_text, sizeof time_text, "%4lld.%06ld", (long long)(t / US_PER_S),
             (long)(t % US_PER_S));
    if (f->kind == U2C_LOG_ERROR)
        return clamp_length(snprintf(line, size, "%s %-2u ErrorFrame", time_text, channel), size);
    /* Without leading zeros, as CANoe, log2asc and python-can write them. */
    char id[16];
    snprintf(id, sizeof id, f->extended ? "%lXx" : "%lX",
             (unsigned long)(f->id & (f->extended ? EXTENDED_MAX : STANDARD_MAX)));
    uint8_t dlc = f->dlc > 8 ? 8 : f->dlc;
    char body[40];
    char *p = body;
    if (f->kind == U2C_LOG_REMOTE) {
        memcpy(p, "r ", 2);
        p = u2c_log_hex(p + 2, dlc, 1);
    } else {
        memcpy(p, "d ", 2);
        p = u2c_log_hex(p + 2, dlc, 1);
        for (uint8_t i = 0; i < dlc; i++) {
            *p++ = ' ';
            p = u2c_log_hex(p, f->data[i], 2);
        }
    }
    *p = '\0';
    return clamp_length(snprintf(line, size, "%s %-2u %-15s Rx   %s", time_text, channel, id, body),
                        size);
}

size_t u2c_asc_footer(char *text, size_t size)
{
    return clamp_length(snprintf(text, size, "End TriggerBlock\n"), size);
}

/* --- reader ------------------------------------------------------------------ */

void u2c_asc_reader_init(u2c_asc_reader *r)
{
    r->base = 16;
    r->relative = false;
    r->start_us = 0;
    r->last_us = 0;
}

static u2c_log_line bad(char *reason, size_t size, const char *text)
{
    snprintf(reason, size, "%s", text);
    return U2C_LOG_LINE_BAD;
}

static const char *skip_space(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* The next whitespace-separated word of s into word (truncated); returns what follows. */
static const char *next_word(const char *s, char *word, size_t size)
{
    s = skip_space(s);
    size_t n = strcspn(s, " \t\r\n");
    size_t copy = n < size - 1 ? n : size - 1;
    memcpy(word, s, copy);
    word[copy] = '\0';
    return s + n;
}

static bool starts_with_word(const char *s, const char *word)
{
    size_t n = strlen(word);
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)s[i]) != tolower((unsigned char)word[i]))
            return false;
    return s[n] == ' ' || s[n] == '\t' || s[n] == '\0' || s[n] == '\r' || s[n] == '\n';
}

static int month_number(const char *name)
{
    for (int i = 0; i < 12; i++)
        if (strncmp(name, months[i], 3) == 0)
            return i;
    return -1;
}

/* "Mon Dec 07 11:54:55.123 pm 2026" or "Mon Dec  7 23:54:55 2026" (12- or 24-hour clock). */
static bool parse_date(const char *s, int64_t *start_us)
{
    char weekday[16], month[16], day[8], clock[24], fourth[8], fifth[8];
    s = next_word(s, weekday, sizeof weekday);
    s = next_word(s, month, sizeof month);
    s = next_word(s, day, sizeof day);
    s = next_word(s, clock, sizeof clock);
    s = next_word(s, fourth, sizeof fourth);
    s = next_word(s, fifth, sizeof fifth);
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_isdst = -1;
    tm.tm_mon = month_number(month);
    int hour = 0, minute = 0, second = 0, consumed = 0;
    unsigned ms = 0;
    if (tm.tm_mon < 0 || sscanf(clock, "%d:%d:%d%n", &hour, &minute, &second, &consumed) != 3)
        return false;
    if (clock[consumed] == '.') {
        int digits = 0;
        for (const char *p = clock + consumed + 1; isdigit((unsigned char)*p) && digits < 3;
             p++, digits++)
            ms = ms * 10 + (unsigned)(*p - '0');
        for (; digits < 3; digits++)
            ms *= 10;
    }
    const char *year = fourth;
    bool pm = tolower((unsigned char)fourth[0]) == 'p';
    bool am = tolower((unsigned char)fourth[0]) == 'a';
    if (pm || am) {
        year = fifth;
        if (hour < 1 || hour > 12)
            return false;
        hour = hour % 12 + (pm ? 12 : 0);
    }
    char *end = NULL;
    long y = strtol(year, &end, 10);
    long d = strtol(day, NULL, 10);
    if (end == year || *end != '\0' || y < 1970 || y > MAX_YEAR || d < 1 || d > 31 || hour > 23 ||
        minute > 59 || second > 60)
        return false;
    tm.tm_year = (int)(y - 1900);
    tm.tm_mday = (int)d;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    int64_t seconds = 0;
    if (!u2c_local_mktime(&tm, &seconds))
        return false;
    *start_us = seconds * US_PER_S + (int64_t)ms * US_PER_MS;
    (void)weekday;
    return true;
}

static bool parse_number(const char *word, unsigned base, uint32_t max, uint32_t *value)
{
    char *end = NULL;
    if (!isxdigit((unsigned char)word[0]))
        return false;
    unsigned long v = strtoul(word, &end, (int)base);
    if (end == word || *end != '\0' || v > max)
        return false;
    *value = (uint32_t)v;
    return true;
}

static u2c_log_line parse_frame(u2c_asc_reader *r, const char *s, int64_t t, const char *channel,
                                u2c_log_frame *out, char *reason, size_t reason_size)
{
    u2c_log_frame f;
    memset(&f, 0, sizeof f);
    snprintf(f.iface, sizeof f.iface, "%s", channel);
    int64_t base = r->relative ? r->last_us : r->start_us;
    if (t > MAX_TIME_US - base)
        return bad(reason, reason_size, "the time is beyond the year 9999");
    f.time_us = base + t;
    char word[32];
    const char *rest = next_word(s, word, sizeof word);
    if (starts_with_word(s, "ErrorFrame")) {
        f.kind = U2C_LOG_ERROR;
        f.extended = true;
        f.id = CAN_ERR_BUSERROR;
        f.dlc = U2C_CAN_ERR_DLC;
    } else {
        size_t len = strlen(word);
        if (len == 0 || len >= 16)
            return bad(reason, reason_size, "expected a CAN ID after the channel");
        f.extended = word[len - 1] == 'x' || word[len - 1] == 'X';
        if (f.extended)
            word[len - 1] = '\0';
        if (!parse_number(word, r->base, f.extended ? EXTENDED_MAX : STANDARD_MAX, &f.id))
            return bad(reason, reason_size, "the CAN ID is not a number in range of its format");
        char dir[8], type[8];
        rest = next_word(rest, dir, sizeof dir);
        rest = next_word(rest, type, sizeof type);
        if (strcmp(dir, "Rx") != 0 && strcmp(dir, "Tx") != 0 && strcmp(dir, "TxRq") != 0)
            return bad(reason, reason_size, "expected Rx or Tx after the CAN ID");
        uint32_t dlc = 0;
        rest = next_word(rest, word, sizeof word);
        if (strcmp(type, "r") == 0 || strcmp(type, "R") == 0) {
            f.kind = U2C_LOG_REMOTE;
            if (word[0] != '\0' && !parse_number(word, r->base, 8, &dlc))
                dlc = 0; /* older tools write no DLC; what follows is not ours */
        } else if (strcmp(type, "d") == 0 || strcmp(type, "D") == 0) {
            if (!parse_number(word, r->base, 15, &dlc))
                return bad(reason, reason_size, "expected a DLC 0..8 after 'd'");
            if (dlc > 8)
                return bad(reason, reason_size,
                           "a DLC above 8 (CAN FD): the adapter sends classic CAN only");
            for (uint32_t i = 0; i < dlc; i++) {
                uint32_t byte = 0;
                rest = next_word(rest, word, sizeof word);
                if (!parse_number(word, r->base, 0xFF, &byte))
                    return bad(reason, reason_size, "fewer data bytes than the DLC says");
                f.data[i] = (uint8_t)byte;
            }
        } else {
            return bad(reason, reason_size, "expected 'd' (data) or 'r' (remote) after Rx/Tx");
        }
        f.dlc = (uint8_t)dlc;
    }
    r->last_us = f.time_us;
    *out = f;
    return U2C_LOG_LINE_FRAME;
}

u2c_log_line u2c_asc_parse(u2c_asc_reader *r, const char *line, u2c_log_frame *frame, char *reason,
                           size_t reason_size)
{
    const char *s = skip_space(line);
    if (starts_with_word(s, "date") || starts_with_word(s, "Begin")) {
        const char *date = s + 4;
        if (starts_with_word(s, "Begin")) {
            date = skip_space(s + 5);
            if (!starts_with_word(date, "Triggerblock"))
                return U2C_LOG_LINE_OTHER;
            date += strlen("Triggerblock");
        }
        if (!parse_date(date, &r->start_us))
            return bad(reason, reason_size,
                       "cannot read the date (expected e.g. 'Mon Dec 07 11:54:55.123 pm 2026')");
        r->last_us = r->start_us;
        return U2C_LOG_LINE_OTHER;
    }
    if (starts_with_word(s, "base")) {
        char word[16];
        const char *rest = next_word(s + 4, word, sizeof word);
        if (strcmp(word, "hex") == 0)
            r->base = 16;
        else if (strcmp(word, "dec") == 0)
            r->base = 10;
        else
            return bad(reason, reason_size, "'base' must be hex or dec");
        rest = next_word(rest, word, sizeof word);
        if (strcmp(word, "timestamps") == 0) {
            next_word(rest, word, sizeof word);
            r->relative = strcmp(word, "relative") == 0;
        }
        return U2C_LOG_LINE_OTHER;
    }
    int64_t t = 0;
    const char *p = s;
    if (!u2c_log_seconds(&p, &t) || (*p != ' ' && *p != '\t'))
        return U2C_LOG_LINE_OTHER; /* comments, headers, "End TriggerBlock" */
    char channel[U2C_LOG_IFACE_MAX];
    const char *rest = next_word(p, channel, sizeof channel);
    if (strcmp(channel, "CANFD") == 0)
        return bad(reason, reason_size, "a CAN FD frame: the adapter sends classic CAN only");
    for (const char *c = channel; *c; c++)
        if (!isdigit((unsigned char)*c))
            return U2C_LOG_LINE_OTHER; /* "Start of measurement", J1939, statistics */
    if (channel[0] == '\0')
        return U2C_LOG_LINE_OTHER;
    rest = skip_space(rest);
    /* Chip states and statistics share the channel column: "1 Statistic: ...". */
    char word[32];
    next_word(rest, word, sizeof word);
    if (strchr(word, ':') != NULL)
        return U2C_LOG_LINE_OTHER;
    return parse_frame(r, rest, t, channel, frame, reason, reason_size);
}
