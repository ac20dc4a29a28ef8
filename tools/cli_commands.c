/* What the subcommands of usb2can-cli share (cli_commands.h). */
#include "cli_commands.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cli_parse.h"
#include "usb2can.h"

/* Set by the Ctrl+C handler and by other threads (tests, `+` commands):
 * a lock-free atomic is safe for both. */
static atomic_int stop_requested;

void cli_request_stop(void)
{
    atomic_store(&stop_requested, 1);
}

bool cli_stop_requested(void)
{
    return atomic_load(&stop_requested) != 0;
}

void cli_stop_reset(void)
{
    atomic_store(&stop_requested, 0);
}

int cli_usage_error(const cli_context *cx, const char *fmt, ...)
{
    fprintf(cx->err, "usb2can-cli%s%s: ", cx->command ? " " : "", cx->command ? cx->command : "");
    va_list args;
    va_start(args, fmt);
    vfprintf(cx->err, fmt, args);
    va_end(args);
    fprintf(cx->err, "\nTry 'usb2can-cli%s%s --help'.\n", cx->command ? " " : "",
            cx->command ? cx->command : "");
    return CLI_USAGE;
}

int cli_runtime_error(const cli_context *cx, const char *what)
{
    const char *reason = Usb2canGetLastError();
    fprintf(cx->err, "usb2can-cli %s: %s: %s\n", cx->command, what,
            reason && reason[0] ? reason : "no reason given");
    return CLI_RUNTIME;
}

long cli_open(const cli_context *cx, const char *setup, unsigned long flags)
{
    char text[1024];
    cli_setup_with_bitrate(setup, text, sizeof text);
    long handle = CanalOpen(text, flags);
    if (handle <= 0) {
        char what[1100];
        snprintf(what, sizeof what, "cannot open '%s'", text);
        cli_runtime_error(cx, what);
        return 0;
    }
    return handle;
}

static const cli_option *find_option(const char *arg, const cli_option *options, size_t count,
                                     const char **inline_value)
{
    *inline_value = NULL;
    for (size_t i = 0; i < count; i++) {
        size_t n = strlen(options[i].name);
        if (strncmp(arg, options[i].name, n) != 0)
            continue;
        if (arg[n] == '\0')
            return &options[i];
        if (arg[n] == '=' && options[i].takes_value) {
            *inline_value = arg + n + 1;
            return &options[i];
        }
    }
    return NULL;
}

int cli_parse_args(const cli_context *cx, int argc, char **argv, const cli_option *options,
                   size_t option_count, const char *const *names, const char **positional,
                   size_t wanted)
{
    size_t got = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
            return CLI_HELP;
        if (arg[0] == '-' && arg[1] == '-') {
            const char *value = NULL;
            const cli_option *option = find_option(arg, options, option_count, &value);
            if (option == NULL)
                return cli_usage_error(cx, "unknown option '%s'", arg);
            if (option->takes_value) {
                if (value == NULL && i + 1 < argc)
                    value = argv[++i];
                if (value == NULL)
                    return cli_usage_error(cx, "%s needs a value", option->name);
                if (!cli_parse_number(value, option->min, option->max, option->value))
                    return cli_usage_error(cx, "%s takes a number from %lu to %lu, not '%s'",
                                           option->name, option->min, option->max, value);
            }
            if (option->given)
                *option->given = true;
            continue;
        }
        if (got == wanted)
            return cli_usage_error(cx, "unexpected argument '%s'", arg);
        positional[got++] = arg;
    }
    if (got < wanted)
        return cli_usage_error(cx, "missing %s", names[got]);
    return CLI_OK;
}

void cli_print_environment(const cli_context *cx)
{
    unsigned long len = Usb2canGetEnvironment(NULL, 0);
    char *text = malloc(len + 1);
    if (text == NULL) {
        fprintf(cx->out, "  (out of memory)\n");
        return;
    }
    Usb2canGetEnvironment(text, len + 1);
    for (char *line = text; *line != '\0';) {
        char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        fprintf(cx->out, "  %.*s\n", (int)n, line);
        line += n + (end != NULL);
    }
    free(text);
}
