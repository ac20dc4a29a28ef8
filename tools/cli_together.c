#include "cli_together.h"

#include <string.h>

#include "cli_commands.h"
#include "osal.h"

#define SEPARATOR "+"

typedef struct segment {
    int argc;
    char **argv; /* argv[0] is the program name, borrowed from the caller */
    FILE *out;
    FILE *err;
    cli_runner run;
    int status;
    u2c_thread thread;
    bool started;
} segment;

bool cli_has_several_commands(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], SEPARATOR) == 0)
            return true;
    }
    return false;
}

static void run_segment(void *arg)
{
    segment *s = arg;
    s->status = s->run(s->argc, s->argv, s->out, s->err);
}

/* Splits argv in place: each segment gets argv[0] in front of its words. */
static int split(int argc, char **argv, char **words, segment *segments, FILE *err)
{
    int count = 0;
    int used = 0;
    int start = 1;
    for (int i = 1; i <= argc; i++) {
        if (i < argc && strcmp(argv[i], SEPARATOR) != 0)
            continue;
        if (i == start) {
            fprintf(err, "usb2can-cli: an empty command around '+'\n");
            return -1;
        }
        if (count == COMMANDS_TOGETHER_MAX) {
            fprintf(err, "usb2can-cli: at most %d commands can run together\n",
                    COMMANDS_TOGETHER_MAX);
            return -1;
        }
        segment *s = &segments[count++];
        s->argv = &words[used];
        words[used++] = argv[0];
        for (int j = start; j < i; j++)
            words[used++] = argv[j];
        s->argc = i - start + 1;
        words[used++] = NULL;
        start = i + 1;
    }
    return count;
}

int cli_run_together(int argc, char **argv, FILE *out, FILE *err, cli_runner run)
{
    /* Every word once, plus argv[0] and a NULL per segment. */
    char *words[2 * COMMANDS_TOGETHER_MAX + 64];
    if ((size_t)argc + 2 * COMMANDS_TOGETHER_MAX > sizeof words / sizeof words[0]) {
        fprintf(err, "usb2can-cli: command line too long\n");
        return CLI_USAGE;
    }
    segment segments[COMMANDS_TOGETHER_MAX];
    memset(segments, 0, sizeof segments);
    int count = split(argc, argv, words, segments, err);
    if (count < 0)
        return CLI_USAGE;
    int worst = CLI_OK;
    for (int i = 0; i < count; i++) {
        segments[i].out = out;
        segments[i].err = err;
        segments[i].run = run;
        if (i > 0)
            u2c_sleep_ms(COMMAND_STAGGER_MS);
        if (u2c_thread_start(&segments[i].thread, run_segment, &segments[i]) != 0) {
            fprintf(err, "usb2can-cli: cannot start a thread for command %d\n", i + 1);
            worst = CLI_RUNTIME;
            break;
        }
        segments[i].started = true;
    }
    for (int i = 0; i < count; i++) {
        if (!segments[i].started)
            continue;
        u2c_thread_join(&segments[i].thread);
        if (segments[i].status > worst)
            worst = segments[i].status;
    }
    return worst;
}
