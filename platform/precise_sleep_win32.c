#include "precise_sleep.h"

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include "osal.h"

#define NS_PER_MS 1000000u
#define YIELD_BELOW_NS 1500000u

void u2c_sleep_until_ns(uint64_t deadline_ns)
{
    for (;;) {
        uint64_t now = u2c_now_ns();
        if (now >= deadline_ns)
            return;
        uint64_t left = deadline_ns - now;
        if (left > YIELD_BELOW_NS)
            u2c_sleep_ms((unsigned)((left - YIELD_BELOW_NS) / NS_PER_MS) + 1u);
        else
            Sleep(0);
    }
}
