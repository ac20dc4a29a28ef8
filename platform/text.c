#include "text.h"

int u2c_hex_digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char u2c_ascii_upper(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

void u2c_copy_upper(char *dst, size_t dst_size, const char *src)
{
    if (dst_size == 0)
        return;
    size_t i = 0;
    for (; src[i] != '\0' && i + 1 < dst_size; i++)
        dst[i] = u2c_ascii_upper(src[i]);
    dst[i] = '\0';
}

int u2c_compare_nocase(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned char ca = (unsigned char)u2c_ascii_upper(*a);
        unsigned char cb = (unsigned char)u2c_ascii_upper(*b);
        if (ca != cb || ca == '\0')
            return (int)ca - (int)cb;
    }
}
