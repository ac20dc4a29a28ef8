/*
 * cli_latency.h — the latency figures bench and selftest print: wake-up
 * times measured in nanoseconds, reported as percentiles in microseconds.
 *
 * Contract: cli_latency_sort sorts samples in place (ascending);
 * cli_latency_percentile_us reads the q-quantile (0..1, nearest rank) of a
 * sorted, non-empty array. No allocation.
 */
#ifndef USB2CAN_CLI_LATENCY_H
#define USB2CAN_CLI_LATENCY_H

#include <stddef.h>
#include <stdint.h>

void cli_latency_sort(uint64_t *samples, size_t n);
double cli_latency_percentile_us(const uint64_t *sorted, size_t n, double q);

#endif
