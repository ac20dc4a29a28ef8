/* FUZZ_CHECK: abort with the failed condition, which both libFuzzer and ctest
 * report as a finding. Contract: evaluates its condition exactly once. */
#ifndef USB2CAN_FUZZ_CHECK_H
#define USB2CAN_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
