/* Runs a fuzz target once over each file named on the command line, so the
 * committed corpus is exercised by every build (also under Wine) without
 * libFuzzer. Fails when a file cannot be read or no file was given. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_target.h"

#define MAX_INPUT (1u << 20)

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    uint8_t *buf = malloc(MAX_INPUT);
    size_t size = buf != NULL ? fread(buf, 1, MAX_INPUT, f) : 0;
    int failed = buf == NULL || ferror(f);
    fclose(f);
    if (failed) {
        fprintf(stderr, "cannot read %s\n", path);
        free(buf);
        return -1;
    }
    /* An exact-size copy lets the sanitizer see reads past the end. */
    uint8_t *exact = malloc(size > 0 ? size : 1);
    if (exact == NULL) {
        free(buf);
        return -1;
    }
    for (size_t i = 0; i < size; i++) {
        exact[i] = buf[i];
    }
    free(buf);
    LLVMFuzzerTestOneInput(exact, size);
    free(exact);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s corpus-file...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (replay_file(argv[i]) != 0) {
            return 1;
        }
    }
    printf("replayed %d inputs\n", argc - 1);
    return 0;
}
