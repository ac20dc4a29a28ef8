#include "log_reader.h"

#include <errno.h>
#include <string.h>

#include "log_candump.h"

static bool blank(const char *s)
{
    return s[strspn(s, " \t\r\n")] == '\0';
}

bool u2c_log_reader_open(u2c_log_reader *r, const char *path, char *reason, size_t reason_size)
{
    memset(r, 0, sizeof *r);
    r->file = fopen(path, "rb");
    if (r->file == NULL) {
        snprintf(reason, reason_size, "%s", strerror(errno));
        return false;
    }
    r->format = U2C_LOG_FORMAT_ASC;
    while (fgets(r->line, sizeof r->line, r->file) != NULL) {
        if (blank(r->line))
            continue;
        const char *s = r->line + strspn(r->line, " \t");
        r->format = *s == '(' ? U2C_LOG_FORMAT_CANDUMP : U2C_LOG_FORMAT_ASC;
        break;
    }
    if (ferror(r->file) || !u2c_log_reader_rewind(r)) {
        snprintf(reason, reason_size, "cannot read it: %s", strerror(errno));
        fclose(r->file);
        r->file = NULL;
        return false;
    }
    return true;
}

bool u2c_log_reader_rewind(u2c_log_reader *r)
{
    u2c_asc_reader_init(&r->asc);
    r->line_number = 0;
    return fseek(r->file, 0, SEEK_SET) == 0;
}

/* The rest of an over-long line. */
static void skip_rest(FILE *f)
{
    int c;
    while ((c = fgetc(f)) != EOF && c != '\n') {
    }
}

u2c_log_line u2c_log_reader_next(u2c_log_reader *r, u2c_log_frame *frame, char *reason,
                                 size_t reason_size)
{
    char why[160];
    while (fgets(r->line, sizeof r->line, r->file) != NULL) {
        r->line_number++;
        size_t n = strlen(r->line);
        if (n == sizeof r->line - 1 && r->line[n - 1] != '\n' && !feof(r->file)) {
            skip_rest(r->file);
            const char *s = r->line + strspn(r->line, " \t");
            if (r->format == U2C_LOG_FORMAT_ASC && strncmp(s, "//", 2) == 0)
                continue;
            snprintf(reason, reason_size, "%lu: a line longer than %u characters", r->line_number,
                     (unsigned)(sizeof r->line - 2));
            return U2C_LOG_LINE_BAD;
        }
        u2c_log_line got = r->format == U2C_LOG_FORMAT_CANDUMP
                               ? u2c_candump_parse(r->line, frame, why, sizeof why)
                               : u2c_asc_parse(&r->asc, r->line, frame, why, sizeof why);
        if (got == U2C_LOG_LINE_OTHER)
            continue;
        if (got == U2C_LOG_LINE_BAD)
            snprintf(reason, reason_size, "%lu: %s", r->line_number, why);
        return got;
    }
    if (ferror(r->file)) {
        snprintf(reason, reason_size, "%lu: cannot read on: %s", r->line_number, strerror(errno));
        return U2C_LOG_LINE_BAD;
    }
    return U2C_LOG_LINE_OTHER;
}

void u2c_log_reader_close(u2c_log_reader *r)
{
    if (r->file != NULL)
        fclose(r->file);
    r->file = NULL;
}
