#include "wall_clock.h"

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

/* 100 ns intervals from 1601-01-01 to 1970-01-01. */
#define FILETIME_UNIX_EPOCH 116444736000000000LL

int64_t u2c_wall_clock_us(void)
{
    FILETIME ft;
    GetSystemTimePreciseAsFileTime(&ft);
    int64_t ticks = (int64_t)(((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime);
    return (ticks - FILETIME_UNIX_EPOCH) / 10;
}

bool u2c_local_time(int64_t seconds, struct tm *out)
{
    __time64_t t = (__time64_t)seconds;
    return _localtime64_s(out, &t) == 0;
}

bool u2c_local_mktime(const struct tm *in, int64_t *seconds)
{
    struct tm copy = *in;
    __time64_t t = _mktime64(&copy);
    if (t == (__time64_t)-1)
        return false;
    *seconds = (int64_t)t;
    return true;
}
