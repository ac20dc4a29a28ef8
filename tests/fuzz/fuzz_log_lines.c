/* libFuzzer target for the log readers of replay (log_candump.h, log_asc.h):
 * any bytes, split into lines, must give for each line a frame that is a
 * classic CAN frame, "not a frame", or a non-empty reason; never a crash, a
 * read past the line or a write to it. A can-utils frame must also survive
 * being written and read again unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_target.h"
#include "log_asc.h"
#include "log_candump.h"

static void check(bool condition)
{
    if (!condition)
        abort();
}

static void check_frame(const u2c_log_frame *f)
{
    check(f->dlc <= 8);
    check(f->kind == U2C_LOG_DATA || f->kind == U2C_LOG_REMOTE || f->kind == U2C_LOG_ERROR);
    check(f->id <= (f->extended ? 0x1FFFFFFFu : 0x7FFu));
    check(f->time_us >= 0 || f->iface[0] != '\0');
    check(memchr(f->iface, '\0', sizeof f->iface) != NULL);
}

static void one_line(u2c_asc_reader *asc, const char *line)
{
    u2c_log_frame f;
    char reason[160];
    memset(reason, 0x5A, sizeof reason);
    u2c_log_line got = u2c_candump_parse(line, &f, reason, sizeof reason);
    check(got == U2C_LOG_LINE_FRAME || got == U2C_LOG_LINE_OTHER || got == U2C_LOG_LINE_BAD);
    if (got == U2C_LOG_LINE_BAD)
        check(memchr(reason, '\0', sizeof reason) != NULL && reason[0] != '\0');
    if (got == U2C_LOG_LINE_FRAME) {
        check_frame(&f);
        char text[U2C_LOG_LINE_MAX];
        u2c_candump_format(&f, text, sizeof text);
        u2c_log_frame again;
        check(u2c_candump_parse(text, &again, reason, sizeof reason) == U2C_LOG_LINE_FRAME);
        check(again.time_us == f.time_us && again.kind == f.kind && again.id == f.id &&
              again.extended == f.extended && again.dlc == f.dlc &&
              strcmp(again.iface, f.iface) == 0 &&
              (f.kind == U2C_LOG_REMOTE || memcmp(again.data, f.data, f.dlc) == 0));
    }
    memset(reason, 0x5A, sizeof reason);
    got = u2c_asc_parse(asc, line, &f, reason, sizeof reason);
    check(got == U2C_LOG_LINE_FRAME || got == U2C_LOG_LINE_OTHER || got == U2C_LOG_LINE_BAD);
    if (got == U2C_LOG_LINE_BAD)
        check(memchr(reason, '\0', sizeof reason) != NULL && reason[0] != '\0');
    if (got == U2C_LOG_LINE_FRAME)
        check_frame(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u2c_asc_reader asc;
    u2c_asc_reader_init(&asc);
    size_t start = 0;
    while (start < size) {
        size_t end = start;
        while (end < size && data[end] != '\n' && data[end] != '\0')
            end++;
        /* Exactly sized heap copies: ASan sees any read past the NUL. */
        size_t n = end - start;
        char *line = malloc(n + 1);
        char *before = malloc(n + 1);
        check(line != NULL && before != NULL);
        memcpy(line, data + start, n);
        line[n] = '\0';
        memcpy(before, line, n + 1);
        one_line(&asc, line);
        check(memcmp(line, before, n + 1) == 0);
        free(before);
        free(line);
        start = end + 1;
    }
    return 0;
}
