/* Latency percentiles for bench and selftest (cli_latency.h). */
#include "cli_latency.h"

#include <stdlib.h>

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void cli_latency_sort(uint64_t *samples, size_t n)
{
    qsort(samples, n, sizeof *samples, compare_u64);
}

double cli_latency_percentile_us(const uint64_t *sorted, size_t n, double q)
{
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return (double)sorted[i < n ? i : n - 1] / 1000.0;
}
