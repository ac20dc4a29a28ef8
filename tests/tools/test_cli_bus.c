/*
 * usb2can-cli scan and doctor --bus against traffic on the virtual bus,
 * in this process through the public library: a node sends at a known rate
 * (and sample point) while another acknowledges; scan on a third adapter
 * must name the rate, print a setup string and python-can line that work,
 * and never disturb the sender (its TEC stays 0, no error status reaches
 * it, every frame it sent reaches the acknowledging node). doctor --bus
 * must give the right verdict for a healthy bus, a lone node, a wrong bit
 * rate, bus-off cycles and error-passive.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"
#include "osal.h"
#include "usb2can.h"

#if defined(_WIN32)
#include <windows.h>
#endif

#define TEXT_MAX 16384
#define MAX_ARGS 24

static char out_text[TEXT_MAX];
static char err_text[TEXT_MAX];

/* --- running the CLI ---------------------------------------------------------- */

typedef struct cli_run {
    int argc;
    char *argv[MAX_ARGS];
    char out_path[64], err_path[64];
    int status;
} cli_run;

static void run_cli(void *arg)
{
    cli_run *run = arg;
    FILE *out = fopen(run->out_path, "wb");
    FILE *err = fopen(run->err_path, "wb");
    assert_non_null(out);
    assert_non_null(err);
    run->status = u2c_cli_run(run->argc, run->argv, out, err);
    fclose(out);
    fclose(err);
}

static void slurp(const char *path, char *buffer)
{
    buffer[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return;
    size_t n = fread(buffer, 1, TEXT_MAX - 1, f);
    buffer[n] = '\0';
    fclose(f);
}

static void prepare(cli_run *run, const char *name, va_list args)
{
    memset(run, 0, sizeof *run);
    snprintf(run->out_path, sizeof run->out_path, "clibus_%s_out.txt", name);
    snprintf(run->err_path, sizeof run->err_path, "clibus_%s_err.txt", name);
    run->argv[run->argc++] = "usb2can-cli";
    for (const char *a = va_arg(args, const char *); a && run->argc < MAX_ARGS;
         a = va_arg(args, const char *))
        run->argv[run->argc++] = (char *)a;
}

static void start(cli_run *run, u2c_thread *thread, const char *name, ...)
{
    va_list args;
    va_start(args, name);
    prepare(run, name, args);
    va_end(args);
    assert_int_equal(u2c_thread_start(thread, run_cli, run), 0);
}

static int finish(cli_run *run, u2c_thread *thread)
{
    u2c_thread_join(thread);
    slurp(run->out_path, out_text);
    slurp(run->err_path, err_text);
    printf("%s", out_text);
    return run->status;
}

static int cli(const char *name, ...)
{
    cli_run run;
    va_list args;
    va_start(args, name);
    prepare(&run, name, args);
    va_end(args);
    run_cli(&run);
    slurp(run.out_path, out_text);
    slurp(run.err_path, err_text);
    printf("%s", out_text);
    return run.status;
}

static void expect_text(const char *part)
{
    if (strstr(out_text, part) == NULL)
        fail_msg("output lacks '%s':\n%s\nstderr:\n%s", part, out_text, err_text);
}

/* --- a node that sends, and one that acknowledges ----------------------------- */

typedef struct sender {
    long handle;
    u2c_thread thread;
    atomic_int stop;
    unsigned long sent;
    unsigned long error_status; /* status messages other than OK seen by the sender */
    unsigned interval_ms;
} sender;

static void sender_main(void *arg)
{
    sender *s = arg;
    canalMsg m;
    memset(&m, 0, sizeof m);
    m.id = 0x123;
    m.sizeData = 2;
    m.data[0] = 0x11;
    m.data[1] = 0x22;
    while (!atomic_load(&s->stop)) {
        if (CanalSend(s->handle, &m) == CANAL_ERROR_SUCCESS)
            s->sent++;
        m.data[1]++;
        canalMsg got;
        while (CanalReceive(s->handle, &got) == CANAL_ERROR_SUCCESS)
            if ((got.flags & CANAL_IDFLAG_STATUS) && got.id != CANAL_STATUSMSG_OK)
                s->error_status++;
        u2c_sleep_ms(s->interval_ms);
    }
}

static long open_ok(const char *setup, unsigned long flags)
{
    long h = CanalOpen(setup, flags);
    if (h <= 0)
        fail_msg("CanalOpen(\"%s\") failed: %s", setup, Usb2canGetLastError());
    return h;
}

static void sender_start(sender *s, const char *setup, unsigned interval_ms)
{
    memset(s, 0, sizeof *s);
    s->interval_ms = interval_ms;
    s->handle = open_ok(setup, USB2CAN_FLAG_STATUS_FRAMES);
    assert_int_equal(u2c_thread_start(&s->thread, sender_main, s), 0);
}

static void sender_stop(sender *s)
{
    atomic_store(&s->stop, 1);
    u2c_thread_join(&s->thread);
}

/* The sender was never disturbed: TEC 0, no error status, and every frame it
 * sent reached the acknowledging node. */
static void assert_undisturbed(sender *s, long acker)
{
    u2c_sleep_ms(100); /* the last frames on the bus */
    canalStatus st;
    assert_int_equal(CanalGetStatus(s->handle, &st), CANAL_ERROR_SUCCESS);
    assert_int_equal(st.channel_status & 0xFF, 0);
    assert_int_equal(s->error_status, 0);
    canalStatistics stats;
    assert_int_equal(CanalGetStatistics(acker, &stats), CANAL_ERROR_SUCCESS);
    assert_int_equal(stats.cntReceiveFrames, s->sent);
    assert_true(s->sent > 10);
    assert_int_equal(CanalClose(s->handle), CANAL_ERROR_SUCCESS);
    assert_int_equal(CanalClose(acker), CANAL_ERROR_SUCCESS);
}

/* --- scan ---------------------------------------------------------------------- */

typedef struct scan_case {
    const char *timing; /* after "VIRTUALn;" */
    const char *answer; /* "answer: ..." */
    const char *setup;  /* the working setup string printed */
    const char *python; /* the python-can line printed */
} scan_case;

static void scan_finds(const scan_case *c)
{
    char tx[64], ack[64];
    snprintf(tx, sizeof tx, "VIRTUAL0;%s", c->timing);
    snprintf(ack, sizeof ack, "VIRTUAL2;%s", c->timing);
    long acker = open_ok(ack, 0);
    sender s;
    sender_start(&s, tx, 5);
    int status = cli("scan", "scan", "VIRTUAL1", "--dwell", "100", NULL);
    sender_stop(&s);
    assert_int_equal(status, 0);
    expect_text(c->answer);
    char line[200];
    snprintf(line, sizeof line, "setup string: %s\n", c->setup);
    expect_text(line);
    snprintf(line, sizeof line, "python-can:   %s", c->python);
    expect_text(line);
    assert_undisturbed(&s, acker);
    /* The printed setup string works: it receives the sender's frames. */
    long check = open_ok(c->setup, 0);
    sender_start(&s, tx, 5);
    canalMsg got;
    assert_int_equal(CanalBlockingReceive(check, &got, 2000), CANAL_ERROR_SUCCESS);
    sender_stop(&s);
    assert_int_equal(got.id, 0x123);
    assert_int_equal(CanalClose(check), CANAL_ERROR_SUCCESS);
    assert_int_equal(CanalClose(s.handle), CANAL_ERROR_SUCCESS);
}

static void test_scan_finds_each_rate(void **state)
{
    (void)state;
    static const scan_case cases[] = {
        {"33", "answer: 33.333 kbit/s, sample point 87.5 %: ", "VIRTUAL1;33",
         "can.Bus(interface=\"usb2can\", channel=\"VIRTUAL1\", bitrate=33333)"},
        {"83", "answer: 83.333 kbit/s, sample point 87.5 %: ", "VIRTUAL1;83",
         "can.Bus(interface=\"usb2can\", channel=\"VIRTUAL1\", bitrate=83333)"},
        {"95", "answer: 95.238 kbit/s, sample point 87.5 %: ", "VIRTUAL1;0;6;1;1;42",
         "can.Bus(interface=\"usb2can\", channel=\"VIRTUAL1\", timing=can.BitTiming("
         "f_clock=32000000, brp=42, tseg1=6, tseg2=1, sjw=1))"},
        {"125", "answer: 125 kbit/s, sample point 87.5 %: ", "VIRTUAL1;125",
         "can.Bus(interface=\"usb2can\", channel=\"VIRTUAL1\", bitrate=125000)"},
        {"500", "answer: 500 kbit/s, sample point 87.5 %: ", "VIRTUAL1;500",
         "can.Bus(interface=\"usb2can\", channel=\"VIRTUAL1\", bitrate=500000)"},
        {"800", "answer: 800 kbit/s, sample point 85.0 %: ", "VIRTUAL1;800",
         "can.Bus(interface=\"usb2can\", channel=\"VIRTUAL1\", bitrate=800000)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        scan_finds(&cases[i]);
}

static void set_tolerance(const char *value)
{
#if defined(_WIN32)
    SetEnvironmentVariableA("USB2CAN_VIRTUAL_SAMPLE_POINT_TOLERANCE", value);
#else
    if (value)
        setenv("USB2CAN_VIRTUAL_SAMPLE_POINT_TOLERANCE", value, 1);
    else
        unsetenv("USB2CAN_VIRTUAL_SAMPLE_POINT_TOLERANCE");
#endif
}

/* 500 kbit/s at a 62.5 % sample point, on a bus whose receivers misread a
 * sender more than 5 points away: 87.5 and 75 % see errors, 62.5 % frames. */
static void test_scan_finds_the_sample_point(void **state)
{
    (void)state;
    set_tolerance("50"); /* read when the bus is created: nothing is open now */
    long acker = open_ok("VIRTUAL2;0;9;6;1;4", 0);
    sender s;
    sender_start(&s, "VIRTUAL0;0;9;6;1;4", 5);
    int status = cli("scan_sp", "scan", "VIRTUAL1", "--rates", "250,500", "--sample-points",
                     "87.5,75,62.5", "--dwell", "100", "--all", NULL);
    sender_stop(&s);
    set_tolerance(NULL);
    assert_int_equal(status, 0);
    expect_text("  500 kbit/s        87.5 %        0      1");
    expect_text("  500 kbit/s        75.0 %        0      1");
    expect_text("answer: 500 kbit/s, sample point 62.5 %: ");
    expect_text("setup string: VIRTUAL1;0;9;6;1;4\n");
    assert_undisturbed(&s, acker);
}

static void test_scan_silent_bus_says_no_traffic(void **state)
{
    (void)state;
    int status = cli("scan_quiet", "scan", "VIRTUAL1", "--dwell", "20", NULL);
    assert_int_equal(status, 1);
    expect_text("answer: no traffic at any rate (14 candidates, no frame, no error)");
    assert_null(strstr(out_text, "setup string:"));
}

static void test_scan_bad_usage(void **state)
{
    (void)state;
    assert_int_equal(cli("scan_bad1", "scan", "VIRTUAL1", "--rates", "83.3333", NULL), 2);
    assert_non_null(strstr(err_text, "--rates takes up to 32 rates in kbit/s"));
    assert_int_equal(cli("scan_bad2", "scan", "VIRTUAL1", "--sample-points", "62.55", NULL), 2);
    assert_int_equal(cli("scan_bad3", "scan", "VIRTUAL1;500", "--dwell", "10", NULL), 1);
    assert_non_null(strstr(err_text, "the scan chooses the bit rate"));
    assert_string_equal(out_text, "");
    assert_int_equal(cli("scan_bad4", "scan", "VIRTUAL1", "--rates", "2000", NULL), 2);
    assert_int_equal(
        cli("scan_bad5", "scan", "VIRTUAL1", "--sample-points", "40", "--dwell", "10", NULL), 1);
    assert_non_null(strstr(err_text, "sample point 400 per mille is outside 500..950"));
}

/* --- doctor --bus ------------------------------------------------------------- */

static void test_doctor_healthy_bus(void **state)
{
    (void)state;
    long acker = open_ok("VIRTUAL2;500", 0);
    sender s;
    sender_start(&s, "VIRTUAL0;500", 5);
    int status = cli("dr_healthy", "doctor", "--bus", "VIRTUAL1", "--seconds", "1", NULL);
    sender_stop(&s);
    assert_int_equal(status, 0);
    expect_text("listening on VIRTUAL1 at 500 kbit/s, silent");
    expect_text("verdict: healthy: ");
    assert_null(strstr(out_text, "problem:"));
    assert_undisturbed(&s, acker);
}

static void test_doctor_lone_node(void **state)
{
    (void)state;
    /* Seen from a silent listener: nobody acknowledges the only sender. */
    cli_run run;
    u2c_thread thread;
    start(&run, &thread, "dr_lone", "doctor", "--bus", "VIRTUAL1", "--seconds", "1", NULL);
    u2c_sleep_ms(200);
    long lone = open_ok("VIRTUAL0;500", 0);
    canalMsg m;
    memset(&m, 0, sizeof m);
    m.id = 0x321;
    m.sizeData = 1;
    assert_int_equal(CanalSend(lone, &m), CANAL_ERROR_SUCCESS);
    assert_int_equal(finish(&run, &thread), 1);
    expect_text("problem: a lone node: its frames go unacknowledged");
    assert_null(strstr(out_text, "wrong bit rate"));
    /* Seen by the lone node itself (--active --send). */
    assert_int_equal(CanalClose(lone), CANAL_ERROR_SUCCESS);
    assert_int_equal(cli("dr_lone_active", "doctor", "--bus", "VIRTUAL1", "--seconds", "1",
                         "--active", "--send", "123#11", "--count", "3", NULL),
                     1);
    expect_text("problem: only ACK errors on your own frames (TEC 128): you are the only node");
    assert_null(strstr(out_text, "problem: bus off"));
}

static void test_doctor_wrong_bit_rate(void **state)
{
    (void)state;
    long acker = open_ok("VIRTUAL2;250", 0);
    sender s;
    sender_start(&s, "VIRTUAL0;250", 5);
    int status = cli("dr_rate", "doctor", "--bus", "VIRTUAL1;500", "--seconds", "1", NULL);
    sender_stop(&s);
    assert_int_equal(status, 1);
    expect_text("problem: stuff/form errors on reception (");
    expect_text("wrong bit rate (find it with 'usb2can-cli scan') or CANH/CANL swapped");
    assert_undisturbed(&s, acker);
}

static void test_doctor_bus_off_cycles(void **state)
{
    (void)state;
    /* An active node at 250 kbit/s destroys every frame sent at 500. */
    long breaker = open_ok("VIRTUAL2;250", 0);
    int status = cli("dr_busoff", "doctor", "--bus", "VIRTUAL1;500;busoff=auto:50", "--seconds",
                     "1", "--active", "--send", "123#11", NULL);
    assert_int_equal(status, 1);
    expect_text("problem: bus off ");
    expect_text("; busoff=auto restarted it each time");
    const char *p = strstr(out_text, "problem: bus off ");
    unsigned long times = p ? strtoul(p + strlen("problem: bus off "), NULL, 10) : 0;
    assert_true(times >= 2);
    assert_int_equal(CanalClose(breaker), CANAL_ERROR_SUCCESS);
}

static void test_doctor_error_passive(void **state)
{
    (void)state;
    /* A faulty node destroys every 5th frame: TEC +8 per 5 attempts, -4. */
    long faulty = open_ok("VIRTUAL2;500;errorframes=5", 0);
    int status = cli("dr_passive", "doctor", "--bus", "VIRTUAL1", "--seconds", "1", "--active",
                     "--send", "123#11", "--count", "200", "--interval", "2", NULL);
    assert_int_equal(status, 1);
    expect_text("problem: error passive, TEC rising to ");
    assert_null(strstr(out_text, "problem: bus off"));
    assert_null(strstr(out_text, "only ACK errors"));
    assert_int_equal(CanalClose(faulty), CANAL_ERROR_SUCCESS);
}

int main(void)
{
    set_tolerance(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_finds_each_rate),
        cmocka_unit_test(test_scan_finds_the_sample_point),
        cmocka_unit_test(test_scan_silent_bus_says_no_traffic),
        cmocka_unit_test(test_scan_bad_usage),
        cmocka_unit_test(test_doctor_healthy_bus),
        cmocka_unit_test(test_doctor_lone_node),
        cmocka_unit_test(test_doctor_wrong_bit_rate),
        cmocka_unit_test(test_doctor_bus_off_cycles),
        cmocka_unit_test(test_doctor_error_passive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
