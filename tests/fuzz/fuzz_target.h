/* The libFuzzer entry point every fuzz target here defines. Contract: returns
 * 0 for any input; a broken codec invariant aborts the process (a finding),
 * so the same function serves libFuzzer and the plain replay executable. */
#ifndef USB2CAN_FUZZ_TARGET_H
#define USB2CAN_FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
