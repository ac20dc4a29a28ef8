#include "wall_clock.h"

int64_t u2c_wall_clock_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

bool u2c_local_time(int64_t seconds, struct tm *out)
{
    time_t t = (time_t)seconds;
    return (int64_t)t == seconds && localtime_r(&t, out) != NULL;
}

bool u2c_local_mktime(const struct tm *in, int64_t *seconds)
{
    struct tm copy = *in;
    time_t t = mktime(&copy);
    if (t == (time_t)-1)
        return false;
    *seconds = (int64_t)t;
    return true;
}
