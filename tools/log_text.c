#include "log_text.h"

#include <ctype.h>

#define MAX_SECOND_DIGITS 12
#define MAX_FRACTION_DIGITS 9
#define MICRO_DIGITS 6

char *u2c_log_hex(char *out, uint32_t value, unsigned digits)
{
    static const char hex[] = "0123456789ABCDEF";
    for (unsigned i = 0; i < digits; i++)
        out[i] = hex[(value >> (4 * (digits - 1 - i))) & 0xFu];
    return out + digits;
}

int u2c_log_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool u2c_log_seconds(const char **p, int64_t *time_us)
{
    const char *s = *p;
    int64_t seconds = 0;
    unsigned n = 0;
    for (; isdigit((unsigned char)*s); s++, n++) {
        if (n == MAX_SECOND_DIGITS)
            return false;
        seconds = seconds * 10 + (*s - '0');
    }
    if (n == 0 || *s != '.')
        return false;
    s++;
    int64_t micros = 0;
    unsigned f = 0;
    for (; isdigit((unsigned char)*s); s++, f++) {
        if (f == MAX_FRACTION_DIGITS)
            return false;
        if (f < MICRO_DIGITS)
            micros = micros * 10 + (*s - '0');
    }
    if (f == 0)
        return false;
    for (; f < MICRO_DIGITS; f++)
        micros *= 10;
    *time_us = seconds * 1000000 + micros;
    *p = s;
    return true;
}
