#include "precise_sleep.h"

#include <errno.h>
#include <time.h>

#include "osal.h"

void u2c_sleep_until_ns(uint64_t deadline_ns)
{
    struct timespec at = {.tv_sec = (time_t)(deadline_ns / 1000000000u),
                          .tv_nsec = (long)(deadline_ns % 1000000000u)};
    /* the same clock as u2c_now_ns */
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR) {
    }
}
