/* The per-thread last error: isolation between threads, truncation, and the
 * USB2CAN_LOG file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "last_error.h"
#include "osal.h"

#define LOG_NAME "u2c_test_last_error.log"

static void set_log_env(const char *value)
{
#if defined(_WIN32)
    assert_int_equal(_putenv_s("USB2CAN_LOG", value ? value : ""), 0);
#else
    if (value)
        assert_int_equal(setenv("USB2CAN_LOG", value, 1), 0);
    else
        assert_int_equal(unsetenv("USB2CAN_LOG"), 0);
#endif
}

static void test_initially_empty_never_null(void **state)
{
    (void)state;
    assert_non_null(u2c_error_get());
    assert_string_equal(u2c_error_get(), "");
}

static void test_set_clear_fail(void **state)
{
    (void)state;
    u2c_error_set("no adapter with serial %s; connected: %s", "ED000215", "ED000200 (WinUSB)");
    assert_string_equal(u2c_error_get(),
                        "no adapter with serial ED000215; connected: ED000200 (WinUSB)");
    u2c_error_clear();
    assert_string_equal(u2c_error_get(), "");
    assert_int_equal(u2c_fail(33, "handle %ld is not open", 1681L), 33);
    assert_string_equal(u2c_error_get(), "handle 1681 is not open");
    u2c_error_clear();
}

static void test_long_text_truncated_and_one_line(void **state)
{
    (void)state;
    char big[U2C_ERROR_TEXT_MAX * 2];
    memset(big, 'a', sizeof big);
    big[sizeof big - 1] = '\0';
    u2c_error_set("%s", big);
    assert_int_equal(strlen(u2c_error_get()), U2C_ERROR_TEXT_MAX - 1);
    u2c_error_set("first line\nsecond\r\nthird");
    assert_string_equal(u2c_error_get(), "first line second  third");
    u2c_error_clear();
}

/* Two threads each set a reason, wait until both have, then check their own. */
typedef struct rendezvous {
    u2c_mutex lock;
    u2c_cond cond;
    int arrived;
} rendezvous;

typedef struct worker {
    rendezvous *rv;
    const char *mine;
    char seen_before[64];
    char seen_after[U2C_ERROR_TEXT_MAX];
    int failed_code;
} worker;

static void worker_main(void *arg)
{
    worker *w = arg;
    snprintf(w->seen_before, sizeof w->seen_before, "%s", u2c_error_get());
    w->failed_code = u2c_fail(34, "%s", w->mine);
    u2c_mutex_lock(&w->rv->lock);
    w->rv->arrived++;
    u2c_cond_broadcast(&w->rv->cond);
    uint64_t deadline = u2c_deadline_after_ms(10000);
    while (w->rv->arrived < 2 && u2c_cond_wait_until(&w->rv->cond, &w->rv->lock, deadline)) {
    }
    u2c_mutex_unlock(&w->rv->lock);
    snprintf(w->seen_after, sizeof w->seen_after, "%s", u2c_error_get());
}

static void test_threads_are_isolated(void **state)
{
    (void)state;
    u2c_error_set("main thread's reason");
    rendezvous rv = {.arrived = 0};
    u2c_mutex_init(&rv.lock);
    u2c_cond_init(&rv.cond);
    worker a = {.rv = &rv, .mine = "reason of thread A"};
    worker b = {.rv = &rv, .mine = "reason of thread B"};
    u2c_thread ta, tb;
    assert_int_equal(u2c_thread_start(&ta, worker_main, &a), 0);
    assert_int_equal(u2c_thread_start(&tb, worker_main, &b), 0);
    u2c_thread_join(&ta);
    u2c_thread_join(&tb);
    assert_int_equal(rv.arrived, 2);
    assert_string_equal(a.seen_before, "");
    assert_string_equal(b.seen_before, "");
    assert_int_equal(a.failed_code, 34);
    assert_string_equal(a.seen_after, "reason of thread A");
    assert_string_equal(b.seen_after, "reason of thread B");
    assert_string_equal(u2c_error_get(), "main thread's reason");
    u2c_cond_destroy(&rv.cond);
    u2c_mutex_destroy(&rv.lock);
    u2c_error_clear();
}

static int count_lines_with(const char *path, const char *needle, char *last, size_t last_size)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strstr(line, needle) != NULL) {
            n++;
            snprintf(last, last_size, "%s", line);
        }
    }
    fclose(f);
    return n;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static void test_log_file(void **state)
{
    (void)state;
    remove(LOG_NAME);
    set_log_env(NULL);
    u2c_error_set("not logged: no USB2CAN_LOG");
    char last[1024] = "";
    assert_int_equal(count_lines_with(LOG_NAME, "usb2can:", last, sizeof last), -1);

    set_log_env(LOG_NAME);
    u2c_error_set("first logged reason %d", 1);
    assert_int_equal(u2c_fail(13, "second logged reason\nwith a newline"), 13);
    assert_int_equal(count_lines_with(LOG_NAME, "usb2can:", last, sizeof last), 2);
    assert_int_equal(
        count_lines_with(LOG_NAME, "usb2can: first logged reason 1\n", last, sizeof last), 1);
    assert_int_equal(count_lines_with(LOG_NAME, "usb2can: second logged reason with a newline\n",
                                      last, sizeof last),
                     1);
    /* "YYYY-MM-DDThh:mm:ssZ mono=S.UUUUUU usb2can: ..." */
    assert_true(strlen(last) > 30);
    assert_true(is_digit(last[0]) && is_digit(last[3]) && last[4] == '-' && last[7] == '-');
    assert_true(last[10] == 'T' && last[13] == ':' && last[16] == ':' && last[19] == 'Z');
    assert_int_equal(strncmp(last + 20, " mono=", 6), 0);
    assert_true(atoi(last) >= 2024);

    set_log_env(NULL);
    u2c_error_set("not logged either");
    assert_int_equal(count_lines_with(LOG_NAME, "usb2can:", last, sizeof last), 2);
    assert_int_equal(remove(LOG_NAME), 0);
    u2c_error_clear();
}

/* Appends from several threads at once stay whole lines. */
static void log_many(void *arg)
{
    const char *tag = arg;
    for (int i = 0; i < 50; i++)
        u2c_error_set("%s line %d end", tag, i);
}

static void test_log_file_concurrent_lines_whole(void **state)
{
    (void)state;
    remove(LOG_NAME);
    set_log_env(LOG_NAME);
    u2c_thread t[3];
    static const char *const tags[3] = {"alpha", "beta", "gamma"};
    for (int i = 0; i < 3; i++)
        assert_int_equal(u2c_thread_start(&t[i], log_many, (void *)tags[i]), 0);
    for (int i = 0; i < 3; i++)
        u2c_thread_join(&t[i]);
    set_log_env(NULL);
    char last[1024] = "";
    assert_int_equal(count_lines_with(LOG_NAME, "usb2can:", last, sizeof last), 150);
    assert_int_equal(count_lines_with(LOG_NAME, " end\n", last, sizeof last), 150);
    assert_int_equal(count_lines_with(LOG_NAME, "usb2can: beta line ", last, sizeof last), 50);
    assert_int_equal(remove(LOG_NAME), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initially_empty_never_null),
        cmocka_unit_test(test_set_clear_fail),
        cmocka_unit_test(test_long_text_truncated_and_one_line),
        cmocka_unit_test(test_threads_are_isolated),
        cmocka_unit_test(test_log_file),
        cmocka_unit_test(test_log_file_concurrent_lines_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
