/*
 * usb2can-cli's commands run in this process (u2c_cli_run), against the
 * usb2can library, so that a monitor and a sender share the in-process bus
 * of the virtual adapters. Asserts exact output lines and exit statuses,
 * bad arguments included. Output goes to files that the test reads back
 * while a monitor is still writing them.
 */
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"
#include "cli_format.h"
#include "cli_parse.h"
#include "osal.h"

#define MAX_ARGS 16
#define TEXT_MAX 8192
#define MS 1000000ULL

typedef struct cli_run {
    int argc;
    char *argv[MAX_ARGS];
    char out_path[64];
    char err_path[64];
    int status;
    atomic_int done;
} cli_run;

static void prepare(cli_run *run, const char *name, va_list args)
{
    memset(run, 0, sizeof *run);
    snprintf(run->out_path, sizeof run->out_path, "cli_%s_out.txt", name);
    snprintf(run->err_path, sizeof run->err_path, "cli_%s_err.txt", name);
    run->argv[run->argc++] = "usb2can-cli";
    for (const char *a = va_arg(args, const char *); a && run->argc < MAX_ARGS;
         a = va_arg(args, const char *))
        run->argv[run->argc++] = (char *)a;
}

static void execute(cli_run *run)
{
    FILE *out = fopen(run->out_path, "wb");
    FILE *err = fopen(run->err_path, "wb");
    assert_non_null(out);
    assert_non_null(err);
    run->status = u2c_cli_run(run->argc, run->argv, out, err);
    fclose(out);
    fclose(err);
    atomic_store(&run->done, 1);
}

static void execute_in_thread(void *arg)
{
    execute(arg);
}

/* Reads a whole file (possibly still being written) into a static buffer. */
static const char *slurp(const char *path, char *buffer)
{
    buffer[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return buffer;
    size_t n = fread(buffer, 1, TEXT_MAX - 1, f);
    buffer[n] = '\0';
    fclose(f);
    return buffer;
}

static char out_text[TEXT_MAX];
static char err_text[TEXT_MAX];

/* Runs one command to completion; returns its exit status, output in out_text / err_text. */
static int cli(const char *name, ...)
{
    cli_run run;
    va_list args;
    va_start(args, name);
    prepare(&run, name, args);
    va_end(args);
    execute(&run);
    slurp(run.out_path, out_text);
    slurp(run.err_path, err_text);
    return run.status;
}

static void start_cli(cli_run *run, u2c_thread *thread, const char *name, ...)
{
    va_list args;
    va_start(args, name);
    prepare(run, name, args);
    va_end(args);
    remove(run->out_path);
    assert_int_equal(u2c_thread_start(thread, execute_in_thread, run), 0);
}

static bool starts_with(const char *text, const char *prefix)
{
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

/* ---- usage: exit status 2 and what was wrong ---- */

static void assert_usage_error(int status, const char *expected_err)
{
    assert_int_equal(status, 2);
    assert_string_equal(err_text, expected_err);
    assert_string_equal(out_text, "");
}

static void test_version_and_help(void **state)
{
    (void)state;
    assert_int_equal(cli("version", "--version", NULL), 0);
    assert_string_equal(out_text, "usb2can-cli " U2C_TEST_VERSION
                                  " (usb2can library " U2C_TEST_VERSION ")\n");
    assert_int_equal(cli("help", "--help", NULL), 0);
    assert_true(starts_with(out_text, "Usage: usb2can-cli COMMAND [ARGUMENTS] [OPTIONS]\n"));
    static const char *const commands[] = {"list", "monitor", "send", "selftest", "doctor"};
    for (size_t i = 0; i < 5; i++) {
        char usage[64];
        snprintf(usage, sizeof usage, "Usage: usb2can-cli %s", commands[i]);
        assert_int_equal(cli("help_cmd", commands[i], "--help", NULL), 0);
        if (!starts_with(out_text, usage))
            fail_msg("%s --help printed: %s", commands[i], out_text);
        assert_string_equal(err_text, "");
    }
}

/* Commands joined by '+' share one process, hence the virtual bus. */
static void test_commands_together(void **state)
{
    (void)state;
    int status = cli("together", "monitor", "VIRTUAL3", "--count", "3", "+", "send", "VIRTUAL2",
                     "123#1122", "--count", "2", "+", "send", "VIRTUAL2", "1F334455#R", NULL);
    assert_int_equal(status, 0);
    const char *first = strstr(out_text, "VIRTUAL3  123   [2]  11 22\n");
    assert_non_null(first);
    assert_non_null(strstr(first + 1, "VIRTUAL3  123   [2]  11 22\n"));
    assert_non_null(strstr(out_text, "VIRTUAL3  1F334455   [0]  remote request\n"));
    assert_non_null(strstr(out_text, "--- VIRTUAL3: 3 messages (3 frames, 0 status)"));
    assert_string_equal(err_text, "");
    /* The worst status wins; an empty command is a usage error. */
    assert_int_equal(
        cli("together_bad", "send", "VIRTUAL2", "123#11", "+", "send", "VIRTUAL2", "XYZ", NULL), 2);
    assert_int_equal(cli("together_empty", "list", "+", "+", "list", NULL), 2);
    assert_string_equal(err_text, "usb2can-cli: an empty command around '+'\n");
}

static void test_bad_usage(void **state)
{
    (void)state;
    assert_usage_error(cli("usage", NULL), "usb2can-cli: no command given\n"
                                           "Try 'usb2can-cli --help'.\n");
    assert_usage_error(cli("usage", "frobnicate", NULL),
                       "usb2can-cli: unknown command 'frobnicate'\nTry 'usb2can-cli --help'.\n");
    assert_usage_error(cli("usage", "--verbose", NULL),
                       "usb2can-cli: unknown option '--verbose'\nTry 'usb2can-cli --help'.\n");
    assert_usage_error(cli("usage", "list", "extra", NULL),
                       "usb2can-cli list: unexpected argument 'extra'\n"
                       "Try 'usb2can-cli list --help'.\n");
    assert_usage_error(cli("usage", "monitor", NULL),
                       "usb2can-cli monitor: missing SETUP\nTry 'usb2can-cli monitor --help'.\n");
    assert_usage_error(cli("usage", "monitor", "VIRTUAL1", "--count", "0", NULL),
                       "usb2can-cli monitor: --count takes a number from 1 to 4294967295, not "
                       "'0'\nTry 'usb2can-cli monitor --help'.\n");
    assert_usage_error(cli("usage", "monitor", "VIRTUAL1", "--timeout", NULL),
                       "usb2can-cli monitor: --timeout needs a value\n"
                       "Try 'usb2can-cli monitor --help'.\n");
    assert_usage_error(cli("usage", "monitor", "VIRTUAL1", "--bogus=1", NULL),
                       "usb2can-cli monitor: unknown option '--bogus=1'\n"
                       "Try 'usb2can-cli monitor --help'.\n");
    assert_usage_error(cli("usage", "send", "VIRTUAL1", NULL),
                       "usb2can-cli send: missing ID#DATA\nTry 'usb2can-cli send --help'.\n");
    assert_usage_error(cli("usage", "send", "VIRTUAL1", "123#11", "--interval=-5", NULL),
                       "usb2can-cli send: --interval takes a number from 0 to 3600000, not '-5'\n"
                       "Try 'usb2can-cli send --help'.\n");
}

static void test_bad_frames(void **state)
{
    (void)state;
    static const struct {
        const char *frame;
        const char *why;
    } cases[] = {
        {"12#11", "the CAN ID must be 3 hex digits (standard) or 8 (extended), not 2"},
        {"123", "expected <id>#<data>, e.g. 123#1122 or 1F334455#R"},
        {"800#11", "a standard ID 800 is above 7FF"},
        {"20000000#11", "an extended ID 20000000 is above 1FFFFFFF"},
        {"12G#11", "'G' in the CAN ID is not a hex digit"},
        {"123#112", "data must be pairs of hex digits (optionally separated by '.')"},
        {"123#11.", "data must be pairs of hex digits (optionally separated by '.')"},
        {"123#112233445566778899", "more than 8 data bytes"},
        {"123#R9", "a remote request takes one DLC digit 0..8 after 'R'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char expected[256];
        snprintf(expected, sizeof expected,
                 "usb2can-cli send: bad frame '%s': %s\nTry 'usb2can-cli send --help'.\n",
                 cases[i].frame, cases[i].why);
        assert_usage_error(cli("bad_frame", "send", "VIRTUAL1", cases[i].frame, NULL), expected);
    }
}

/* ---- runtime failures: exit status 1 and the driver's reason ---- */

static void test_runtime_failures_carry_the_driver_reason(void **state)
{
    (void)state;
    assert_int_equal(cli("runtime", "monitor", "VIRTUAL9", NULL), 1);
    assert_string_equal(err_text, "usb2can-cli monitor: cannot open 'VIRTUAL9;500': no virtual "
                                  "adapter named VIRTUAL9; virtual adapters are VIRTUAL and "
                                  "VIRTUAL0..VIRTUAL7\n");
    assert_string_equal(out_text, "");
    assert_int_equal(cli("runtime", "send", "ED000215", "123#11", NULL), 1);
    assert_string_equal(err_text, "usb2can-cli send: cannot open 'ED000215;500': no adapter with "
                                  "serial ED000215; no USB2CAN adapter connected (virtual "
                                  "adapters: VIRTUAL0..VIRTUAL7)\n");
    assert_int_equal(cli("runtime", "send", ";500", "123#11", NULL), 1);
    assert_string_equal(err_text, "usb2can-cli send: cannot open ';500': no serial given: no "
                                  "USB2CAN adapter connected (virtual adapters: "
                                  "VIRTUAL0..VIRTUAL7)\n");
    /* A setup string the driver refuses: its parser's reason, whatever its words. */
    assert_int_equal(cli("runtime", "monitor", "VIRTUAL1;2000", NULL), 1);
    assert_true(starts_with(err_text, "usb2can-cli monitor: cannot open 'VIRTUAL1;2000': "));
    assert_true(strlen(err_text) > strlen("usb2can-cli monitor: cannot open 'VIRTUAL1;2000': \n"));
}

static void test_send_alone_reports_frames_left_in_the_queue(void **state)
{
    (void)state;
    /* Nobody acknowledges: the adapter's queue fills and stays full. */
    assert_int_equal(cli("alone", "send", "VIRTUAL0", "123#11", "--count", "100", NULL), 1);
    assert_true(starts_with(err_text, "usb2can-cli send: "));
    assert_non_null(strstr(err_text, " of 100 frames handed to the adapter within 1000 ms (is "
                                     "another node there to acknowledge them?)\n"));
    assert_string_equal(out_text, "");
}

/* ---- list ---- */

static void test_list_of_virtual_adapters(void **state)
{
    (void)state;
    assert_int_equal(cli("list", "list", NULL), 0);
    char expected[TEXT_MAX];
    int used = snprintf(expected, sizeof expected,
                        "SERIAL    LOCATION  DRIVER   STATE  FIRMWARE  HARDWARE  DESCRIPTION\n");
    for (int i = 0; i < 8; i++)
        used += snprintf(expected + used, sizeof expected - (size_t)used,
                         "VIRTUAL%d  -         virtual  free   1.7       1.0       virtual adapter "
                         "on the "
                         "in-process bus\n",
                         i);
    assert_string_equal(out_text, expected);
    assert_string_equal(err_text, "");

    assert_int_equal(cli("list", "list", "--no-open", NULL), 0);
    assert_true(starts_with(out_text, "SERIAL    LOCATION  DRIVER   STATE  FIRMWARE  HARDWARE  "
                                      "DESCRIPTION\n"
                                      "VIRTUAL0  -         virtual  free   -         -         "
                                      "virtual adapter on the in-process bus\n"));
}

/* ---- selftest and doctor ---- */

/* The value after `label` in text (e.g. "throughput: "), as a number. */
static unsigned long number_after(const char *text, const char *label)
{
    const char *at = strstr(text, label);
    if (at == NULL)
        fail_msg("no '%s' in:\n%s", label, text);
    return strtoul(at + strlen(label), NULL, 10);
}

/* The environment block selftest and doctor print (Usb2canGetEnvironment). */
static void assert_environment_block(const char *text)
{
    const char *env = strstr(text, "environment:\n  library: usb2can " U2C_TEST_VERSION " (");
    if (env == NULL)
        fail_msg("no environment block in:\n%s", text);
    assert_non_null(strstr(env, "\n  os: "));
    assert_non_null(strstr(env, "\n  libusb: 1.0."));
    assert_non_null(strstr(env, "\n  timer: "));
}

/* A virtual adapter in silent loopback gets every frame back, in order,
 * and nothing reaches the bus: a monitor on another adapter sees none. */
static void test_selftest_on_a_virtual_adapter(void **state)
{
    (void)state;
    cli_run monitor;
    u2c_thread thread;
    start_cli(&monitor, &thread, "selftest_watch", "monitor", "VIRTUAL5", "--timeout", "3500",
              NULL);
    u2c_sleep_ms(300); /* the monitor has opened VIRTUAL5 */
    int status = cli("selftest", "selftest", "VIRTUAL4", "--seconds", "1", "--kbps", "250", NULL);
    if (status != 0)
        fail_msg("selftest exited %d:\n%s\n%s", status, out_text, err_text);
    assert_string_equal(err_text, "");
    assert_true(starts_with(out_text, "usb2can-cli selftest: VIRTUAL4 at 250 kbit/s in silent "
                                      "loopback (open flags 0x03: nothing is sent on the bus), "
                                      "1 s\n"));
    assert_environment_block(out_text);
    assert_non_null(strstr(out_text, "\nadapter: VIRTUAL4, driver virtual\n"));
    assert_non_null(strstr(out_text, "\nfirmware: 1.7, hardware 1.0\n"));
    unsigned long sent = number_after(out_text, "\nthroughput: ");
    unsigned long received = number_after(out_text, " frames sent, ");
    /* 250 kbit/s, 111-bit frames: at most 2252 frames/s, and the bus was not idle. */
    assert_true(sent > 1000 && sent < 2300 * 2);
    assert_int_equal(received, sent);
    assert_non_null(strstr(out_text, "of the bus limit, 2252 frames/s at 250 kbit/s"));
    assert_non_null(strstr(out_text, "\n            lost 0, reordered 0, damaged 0, overruns 0, "
                                     "failed calls 0\n"));
    assert_int_equal(number_after(out_text, "\nlatency:    "), 200);
    assert_non_null(strstr(out_text, " wakes, CanalSend -> blocked CanalBlockingReceive returns: "
                                     "p50 "));
    assert_non_null(strstr(out_text, "\nbus state:  error-active, TEC 0, REC 0\n"));
    assert_true(strstr(out_text, "\nresult: PASS\n") != NULL);

    u2c_thread_join(&thread);
    assert_int_equal(monitor.status, 0);
    char text[TEXT_MAX];
    slurp(monitor.out_path, text);
    if (!starts_with(text, "--- VIRTUAL5: 0 messages (0 frames, 0 status)"))
        fail_msg("the bus carried the self-test's frames:\n%s", text);
}

static void test_selftest_failures(void **state)
{
    (void)state;
    assert_usage_error(cli("selftest_usage", "selftest", NULL),
                       "usb2can-cli selftest: missing SERIAL\n"
                       "Try 'usb2can-cli selftest --help'.\n");
    assert_usage_error(cli("selftest_usage", "selftest", "VIRTUAL1;500", NULL),
                       "usb2can-cli selftest: SERIAL is an adapter's serial number, not a setup "
                       "string: 'VIRTUAL1;500' (use --kbps for the bit rate)\n"
                       "Try 'usb2can-cli selftest --help'.\n");
    assert_usage_error(cli("selftest_usage", "selftest", "VIRTUAL1", "--kbps", "5", NULL),
                       "usb2can-cli selftest: --kbps takes a number from 10 to 1000, not '5'\n"
                       "Try 'usb2can-cli selftest --help'.\n");
    /* An adapter that is not there: FAIL with the driver's reason. */
    assert_int_equal(cli("selftest_absent", "selftest", "ED000999", "--seconds", "1", NULL), 1);
    assert_non_null(strstr(out_text, "\nadapter: ED000999, driver unknown (not in the adapter "
                                     "list)\n"));
    assert_non_null(strstr(out_text, "\nresult: FAIL (the adapter did not open: "));
    assert_non_null(strstr(err_text, "usb2can-cli selftest: cannot open 'ED000999;500': "));
    assert_non_null(strstr(err_text, "ED000999"));
}

static void test_doctor_lists_environment_adapters_and_problems(void **state)
{
    (void)state;
    assert_int_equal(cli("doctor", "doctor", NULL), 1); /* no hardware here: a problem */
    assert_string_equal(err_text, "");
    assert_true(starts_with(out_text, "environment:\n"));
    assert_environment_block(out_text);
    const char *table = strstr(out_text, "\nadapters:\nSERIAL    LOCATION  DRIVER   STATE  "
                                         "FIRMWARE  HARDWARE  DESCRIPTION\n");
    assert_non_null(table);
    assert_non_null(strstr(table, "\nVIRTUAL7  -         virtual  free   1.7       1.0       "
                                  "virtual adapter on the in-process bus\n"));
    assert_non_null(strstr(out_text, "\nproblem: no USB2CAN adapter found, only the virtual "
                                     "ones ("));
    assert_true(strstr(out_text, "\nproblems: 1 found (listed above)\n") != NULL);
    /* An adapter in use by this program is a problem too, with the reason. */
    cli_run monitor;
    u2c_thread thread;
    start_cli(&monitor, &thread, "doctor_busy", "monitor", "VIRTUAL2", "--timeout", "1500", NULL);
    u2c_sleep_ms(300);
    assert_int_equal(cli("doctor", "doctor", NULL), 1);
    assert_non_null(strstr(out_text, "\nproblem: virtual adapter VIRTUAL2 is already open"));
    assert_true(strstr(out_text, "\nproblems: 2 found (listed above)\n") != NULL);
    u2c_thread_join(&thread);
    assert_usage_error(cli("doctor_usage", "doctor", "extra", NULL),
                       "usb2can-cli doctor: unexpected argument 'extra'\n"
                       "Try 'usb2can-cli doctor --help'.\n");
}

/* ---- monitor and send together ---- */

/* Lines of text after the "(seconds.micros)  " prefix, which is checked. */
static size_t split_lines(char *text, char **lines, size_t max)
{
    size_t n = 0;
    for (char *line = strtok(text, "\n"); line && n < max; line = strtok(NULL, "\n"))
        lines[n++] = line;
    return n;
}

static const char *after_timestamp(const char *line)
{
    /* "(0012.345678)  " */
    if (line[0] != '(' || strlen(line) < 15 || line[5] != '.' || line[12] != ')' ||
        line[13] != ' ' || line[14] != ' ')
        return NULL;
    for (int i = 1; i < 12; i++) {
        if (i != 5 && (line[i] < '0' || line[i] > '9'))
            return NULL;
    }
    return line + 15;
}

static bool output_has_line(const char *path)
{
    char text[TEXT_MAX];
    return strchr(slurp(path, text), '\n') != NULL;
}

static void test_monitor_prints_what_send_sends(void **state)
{
    (void)state;
    cli_run monitor;
    u2c_thread thread;
    start_cli(&monitor, &thread, "monitor", "monitor", "VIRTUAL1", "--timeout", "700", NULL);
    /* Until the monitor is listening, a sync frame may go nowhere; retry. */
    bool listening = false;
    for (int i = 0; i < 100 && !listening && !atomic_load(&monitor.done); i++) {
        assert_int_equal(cli("sync", "send", "VIRTUAL2;500", "7FF#", NULL), 0);
        u2c_sleep_ms(20);
        listening = output_has_line(monitor.out_path);
    }
    assert_true(listening);
    assert_int_equal(cli("send", "send", "VIRTUAL2", "123#11223344", NULL), 0);
    assert_int_equal(cli("send", "send", "VIRTUAL2", "1F334455#R3", NULL), 0);
    assert_int_equal(cli("send", "send", "VIRTUAL2", "123#", NULL), 0);
    assert_int_equal(cli("send", "send", "VIRTUAL2", "00000001#01.02.03.04.05.06.07.08", "--count",
                         "2", "--interval", "10", NULL),
                     0);
    assert_string_equal(err_text, "");
    u2c_thread_join(&thread);
    assert_int_equal(monitor.status, 0);

    char text[TEXT_MAX];
    slurp(monitor.out_path, text);
    char *lines[64];
    size_t n = split_lines(text, lines, 64);
    size_t first = 0;
    while (first < n && strstr(lines[first], "  7FF   [0]") != NULL) {
        assert_string_equal(after_timestamp(lines[first]), "VIRTUAL1  7FF   [0]");
        first++;
    }
    static const char *const expected[] = {
        "VIRTUAL1  123   [4]  11 22 33 44",
        "VIRTUAL1  1F334455   [3]  remote request",
        "VIRTUAL1  123   [0]",
        "VIRTUAL1  00000001   [8]  01 02 03 04 05 06 07 08",
        "VIRTUAL1  00000001   [8]  01 02 03 04 05 06 07 08",
    };
    assert_true(first >= 1);
    assert_int_equal(n, first + 5 + 2);
    for (size_t i = 0; i < 5; i++) {
        const char *body = after_timestamp(lines[first + i]);
        if (body == NULL || strcmp(body, expected[i]) != 0)
            fail_msg("line %lu: '%s', expected '(ssss.uuuuuu)  %s'", (unsigned long)(first + i),
                     lines[first + i], expected[i]);
    }
    unsigned long total = (unsigned long)(first + 5);
    char summary[128];
    snprintf(summary, sizeof summary, "--- VIRTUAL1: %lu messages (%lu frames, 0 status) in ",
             total, total);
    assert_true(starts_with(lines[first + 5], summary));
    char driver[256];
    snprintf(driver, sizeof driver,
             "--- driver: received %lu frames / %u bytes, transmitted 0 frames / 0 bytes, "
             "overruns 0, bus warnings 0, bus off 0",
             total, 4u + 0u + 0u + 16u);
    assert_string_equal(lines[first + 6], driver);
    slurp(monitor.err_path, text);
    assert_string_equal(text, "");
}

static void test_monitor_count_ends_it(void **state)
{
    (void)state;
    cli_run monitor;
    u2c_thread thread;
    start_cli(&monitor, &thread, "count", "monitor", "VIRTUAL3", "--count", "3", "--timeout",
              "5000", NULL);
    for (int i = 0; i < 200 && !atomic_load(&monitor.done); i++) {
        assert_int_equal(cli("send_count", "send", "VIRTUAL4", "321#AA", NULL), 0);
        u2c_sleep_ms(10);
    }
    u2c_thread_join(&thread);
    assert_int_equal(monitor.status, 0);
    char text[TEXT_MAX];
    slurp(monitor.out_path, text);
    char *lines[16];
    assert_int_equal(split_lines(text, lines, 16), 5);
    for (int i = 0; i < 3; i++)
        assert_string_equal(after_timestamp(lines[i]), "VIRTUAL3  321   [1]  AA");
    assert_true(starts_with(lines[3], "--- VIRTUAL3: 3 messages (3 frames, 0 status) in "));
}

static void test_monitor_timeout_without_count_is_success(void **state)
{
    (void)state;
    uint64_t t0 = u2c_now_ns();
    assert_int_equal(cli("quiet", "monitor", "VIRTUAL5", "--timeout", "200", NULL), 0);
    uint64_t elapsed = u2c_now_ns() - t0;
    assert_true(elapsed >= 200 * MS);
    assert_true(starts_with(out_text, "--- VIRTUAL5: 0 messages (0 frames, 0 status) in 0."));
    assert_string_equal(err_text, "");
}

static void test_monitor_timeout_before_count_fails(void **state)
{
    (void)state;
    uint64_t t0 = u2c_now_ns();
    assert_int_equal(cli("short", "monitor", "virtual5", "--count", "5", "--timeout=150", NULL), 1);
    assert_true(u2c_now_ns() - t0 >= 150 * MS);
    assert_string_equal(err_text,
                        "usb2can-cli monitor: timed out after 150 ms with 0 of 5 messages\n");
    assert_true(starts_with(out_text, "--- VIRTUAL5: 0 messages (0 frames, 0 status) in "));
}

static void test_stop_request_ends_monitor_with_statistics(void **state)
{
    (void)state;
    cli_run monitor;
    u2c_thread thread;
    start_cli(&monitor, &thread, "stop", "monitor", "VIRTUAL6", NULL);
    u2c_sleep_ms(300);
    assert_false(atomic_load(&monitor.done));
    uint64_t t0 = u2c_now_ns();
    u2c_cli_request_stop();
    u2c_thread_join(&thread);
    /* The monitor waits in slices of 100 ms. */
    assert_true(u2c_now_ns() - t0 < 1000 * MS);
    assert_int_equal(monitor.status, 0);
    char text[TEXT_MAX];
    assert_true(starts_with(slurp(monitor.out_path, text),
                            "--- VIRTUAL6: 0 messages (0 frames, 0 status) in 0."));
}

/* ---- formatting details not reachable through a clean virtual bus ---- */

static void test_status_messages_are_shown_as_such(void **state)
{
    (void)state;
    canalMsg m;
    memset(&m, 0, sizeof m);
    m.flags = CANAL_IDFLAG_STATUS;
    m.id = CANAL_STATUSMSG_ACK;
    m.sizeData = 4;
    m.data[0] = CANAL_STATUSMSG_ACK;
    m.data[1] = 0;
    m.data[2] = 8;
    m.timestamp = 12345678;
    char line[160];
    cli_format_message("ED000200", &m, line, sizeof line);
    assert_string_equal(line, "(0012.345678)  ED000200  status  ACK error, rec 0, tec 8");
    m.id = CANAL_STATUSMSG_BUSHEAVY;
    m.data[2] = 128;
    cli_format_message("ED000200", &m, line, sizeof line);
    assert_string_equal(line, "(0012.345678)  ED000200  status  error passive, rec 0, tec 128");
    m.id = 0x42;
    m.sizeData = 0;
    cli_format_message("ED000200", &m, line, sizeof line);
    assert_string_equal(line, "(0012.345678)  ED000200  status  status 0x42");
    /* Truncation keeps a terminated string. */
    cli_format_message("ED000200", &m, line, 10);
    assert_string_equal(line, "(0012.345");
}

static void test_vendor_versions(void **state)
{
    (void)state;
    char fw[16];
    char hw[16];
    assert_true(
        cli_vendor_versions("2.4;2.0;2.0.0;2.0.0;8devices.com", fw, sizeof fw, hw, sizeof hw));
    assert_string_equal(fw, "2.4");
    assert_string_equal(hw, "2.0");
    assert_false(cli_vendor_versions("usb2can 1.0.0", fw, sizeof fw, hw, sizeof hw));
    assert_false(cli_vendor_versions(";;", fw, sizeof fw, hw, sizeof hw));
    assert_false(cli_vendor_versions(NULL, fw, sizeof fw, hw, sizeof hw));
}

static void test_setup_names(void **state)
{
    (void)state;
    char name[40];
    char setup[64];
    cli_setup_name(" ed000200 ; 500", name, sizeof name);
    assert_string_equal(name, "ED000200");
    cli_setup_name("; 500", name, sizeof name);
    assert_string_equal(name, "USB2CAN");
    cli_setup_with_bitrate("VIRTUAL1", setup, sizeof setup);
    assert_string_equal(setup, "VIRTUAL1;500");
    cli_setup_with_bitrate("VIRTUAL1;125", setup, sizeof setup);
    assert_string_equal(setup, "VIRTUAL1;125");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_and_help),
        cmocka_unit_test(test_commands_together),
        cmocka_unit_test(test_bad_usage),
        cmocka_unit_test(test_bad_frames),
        cmocka_unit_test(test_runtime_failures_carry_the_driver_reason),
        cmocka_unit_test(test_send_alone_reports_frames_left_in_the_queue),
        cmocka_unit_test(test_list_of_virtual_adapters),
        cmocka_unit_test(test_selftest_on_a_virtual_adapter),
        cmocka_unit_test(test_selftest_failures),
        cmocka_unit_test(test_doctor_lists_environment_adapters_and_problems),
        cmocka_unit_test(test_monitor_prints_what_send_sends),
        cmocka_unit_test(test_monitor_count_ends_it),
        cmocka_unit_test(test_monitor_timeout_without_count_is_success),
        cmocka_unit_test(test_monitor_timeout_before_count_fails),
        cmocka_unit_test(test_stop_request_ends_monitor_with_statistics),
        cmocka_unit_test(test_status_messages_are_shown_as_such),
        cmocka_unit_test(test_vendor_versions),
        cmocka_unit_test(test_setup_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
