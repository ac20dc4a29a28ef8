/* Prints the code's own lists for check_docs.py: each export's return codes
 * (canal_results.h) and each firmware's bit-timing limits (u8d_codec.h). */
#include <stdio.h>

#include "canal_results.h"
#include "u8d_codec.h"

static void print_results(const char *function, uint64_t mask)
{
    printf("returns %s", function);
#define PRINT_IF_SET(name)                                                                         \
    if (mask >> CANAL_ERROR_##name & 1u)                                                           \
        printf(" %s", #name);
    U2C_CANAL_ERROR_NAMES(PRINT_IF_SET)
#undef PRINT_IF_SET
    printf("\n");
}

static void print_limits(const char *which, u8d_flavor flavor)
{
    const u8d_bittiming_const *l = u8d_bittiming_limits(flavor);
    printf("limits %s tseg1 %u %u tseg2 %u %u sjw %u %u brp %u %u %u\n", which, l->tseg1_min,
           l->tseg1_max, l->tseg2_min, l->tseg2_max, l->sjw_min, l->sjw_max, l->brp_min, l->brp_max,
           l->brp_inc);
}

int main(void)
{
#define PRINT_RESULTS(function, mask) print_results(#function, mask);
    U2C_CANAL_RESULTS(PRINT_RESULTS)
#undef PRINT_RESULTS
    print_limits("vendor", U8D_FLAVOR_VENDOR);
    print_limits("canalyze", U8D_FLAVOR_CANALYZE);
    return 0;
}
