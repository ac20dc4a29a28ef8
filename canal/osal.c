#include "osal.h"

uint64_t u2c_deadline_after_ms(uint64_t ms)
{
    uint64_t now = u2c_now_ns();
    if (ms > (U2C_DEADLINE_NEVER - now) / 1000000ULL)
        return U2C_DEADLINE_NEVER;
    return now + ms * 1000000ULL;
}
