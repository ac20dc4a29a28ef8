/* The socketcand text codec: golden elements from linux-can/socketcand's
 * doc/protocol.md and its state_raw.c/state_bcm.c formats, python-can's
 * socketcand client formats, every framing error of the reader under every
 * chunking, and each rejection reason of the parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "socketcand_codec.h"

static void parse(const char *element, u2c_scand_command *cmd)
{
    u2c_scand_parse(element, cmd);
}

static void test_format_frame_raw_and_bcm(void **state)
{
    (void)state;
    char out[U2C_SCAND_FORMAT_MAX];
    /* protocol.md: "< frame 123 23.424242 1A220344 >" */
    u2c_scand_frame f = {0x123, false, false, 4, {0x1A, 0x22, 0x03, 0x44}};
    size_t n = u2c_scand_format_frame(out, sizeof out, &f, 23, 424242, false);
    assert_string_equal(out, "< frame 123 23.424242 1A220344 >");
    assert_int_equal(n, strlen(out));
    /* state_bcm.c: "%02X " per byte, then " >" */
    u2c_scand_format_frame(out, sizeof out, &f, 23, 424242, true);
    assert_string_equal(out, "< frame 123 23.424242 1A 22 03 44  >");
    /* state_raw.c: %03X standard, %08X extended; no data leaves two spaces */
    u2c_scand_frame e = {0x1AAAAAAA, true, false, 0, {0}};
    u2c_scand_format_frame(out, sizeof out, &e, 1700000000, 5, false);
    assert_string_equal(out, "< frame 1AAAAAAA 1700000000.000005  >");
    u2c_scand_frame s = {0x7, false, false, 1, {0xF1}};
    u2c_scand_format_frame(out, sizeof out, &s, 0, 0, false);
    assert_string_equal(out, "< frame 007 0.000000 F1 >");
    /* the longest fits the documented bound */
    u2c_scand_frame big = {
        0x1FFFFFFF, true, false, 8, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}};
    n = u2c_scand_format_frame(out, sizeof out, &big, UINT64_MAX, 999999, true);
    assert_true(n > 0 && n < U2C_SCAND_FORMAT_MAX);
    /* too small: 0 and an empty string, never a cut element */
    char tiny[10];
    assert_int_equal(u2c_scand_format_frame(tiny, sizeof tiny, &f, 23, 424242, false), 0);
    assert_string_equal(tiny, "");
}

static void test_format_send_error_stat(void **state)
{
    (void)state;
    char out[U2C_SCAND_FORMAT_MAX];
    u2c_scand_frame f = {0x1AAAAAAA, true, false, 2, {0x01, 0xF1}};
    u2c_scand_format_send(out, sizeof out, &f);
    assert_string_equal(out, "< send 1AAAAAAA 2 01 F1 >");
    u2c_scand_frame z = {0x123, false, false, 0, {0}};
    u2c_scand_format_send(out, sizeof out, &z);
    assert_string_equal(out, "< send 123 0 >");
    u2c_scand_frame r = {0x123, false, true, 0, {0}};
    u2c_scand_format_send(out, sizeof out, &r);
    assert_string_equal(out, "< send 40000123 0 >");
    u2c_scand_format_error_frame(out, sizeof out, 0x40, 12, 34);
    assert_string_equal(out, "< error 040 12.000034 >");
    uint64_t stat[4] = {800, 100, 16, 2};
    u2c_scand_format_stat(out, sizeof out, stat);
    assert_string_equal(out, "< stat 800 100 16 2 >");
    u2c_scand_format_error(out, sizeof out, "bad <thing>\n");
    assert_string_equal(out, "< error bad .thing.. >");
}

static void test_parse_client_commands_from_protocol_md(void **state)
{
    (void)state;
    u2c_scand_command c;
    parse("< open can0 >", &c);
    assert_int_equal(c.kind, U2C_SCAND_OPEN);
    assert_string_equal(c.bus, "can0");
    parse("<open can0>", &c); /* protocol.md writes it without spaces too */
    assert_int_equal(c.kind, U2C_SCAND_OPEN);
    parse("< rawmode >", &c);
    assert_int_equal(c.kind, U2C_SCAND_RAWMODE);
    parse("< bcmmode >", &c);
    assert_int_equal(c.kind, U2C_SCAND_BCMMODE);
    parse("< controlmode >", &c);
    assert_int_equal(c.kind, U2C_SCAND_CONTROLMODE);
    parse("< echo >", &c);
    assert_int_equal(c.kind, U2C_SCAND_ECHO);

    parse("< send 1AAAAAAA 2 1 f1 >", &c);
    assert_int_equal(c.kind, U2C_SCAND_SEND);
    assert_int_equal(c.frame.id, 0x1AAAAAAA);
    assert_true(c.frame.extended);
    assert_int_equal(c.frame.dlc, 2);
    assert_int_equal(c.frame.data[0], 0x01);
    assert_int_equal(c.frame.data[1], 0xF1);
    parse("< send 123 0 >", &c);
    assert_int_equal(c.kind, U2C_SCAND_SEND);
    assert_false(c.frame.extended);
    assert_int_equal(c.frame.dlc, 0);
    /* python-can: "< send {id:X} {len:X} {bytes as {:x}} >": 4-digit id above 7FF is extended */
    parse("< send 1234 3 a b c >", &c);
    assert_int_equal(c.kind, U2C_SCAND_SEND);
    assert_true(c.frame.extended);
    assert_int_equal(c.frame.id, 0x1234);
    /* flags as socketcand passes them: RTR with standard id, EFF flag */
    parse("< send 40000123 0 >", &c);
    assert_int_equal(c.kind, U2C_SCAND_SEND);
    assert_true(c.frame.rtr);
    assert_false(c.frame.extended);
    assert_int_equal(c.frame.id, 0x123);
    parse("< send 80000001 0 >", &c);
    assert_true(c.frame.extended);
    assert_int_equal(c.frame.id, 1);

    parse("< add 1 0 123 8 11 22 33 44 55 66 77 88 >", &c);
    assert_int_equal(c.kind, U2C_SCAND_ADD);
    assert_int_equal(c.secs, 1);
    assert_int_equal(c.usecs, 0);
    assert_int_equal(c.frame.dlc, 8);
    assert_int_equal(c.frame.data[7], 0x88);
    parse("< add 0 20000 123 4 42 42 42 42 >", &c);
    assert_int_equal(c.kind, U2C_SCAND_ADD);
    assert_int_equal(c.usecs, 20000);
    parse("< update 123 3 11 22 33 >", &c);
    assert_int_equal(c.kind, U2C_SCAND_UPDATE);
    assert_int_equal(c.frame.dlc, 3);
    parse("< delete 123 >", &c);
    assert_int_equal(c.kind, U2C_SCAND_DELETE);
    assert_int_equal(c.frame.id, 0x123);
    parse("< filter 1 500000 123 8 FF 00 F8 00 00 00 00 00 >", &c);
    assert_int_equal(c.kind, U2C_SCAND_FILTER);
    assert_int_equal(c.secs, 1);
    assert_int_equal(c.usecs, 500000);
    assert_int_equal(c.frame.data[2], 0xF8);
    parse("< subscribe 0 0 123 >", &c);
    assert_int_equal(c.kind, U2C_SCAND_SUBSCRIBE);
    parse("< unsubscribe 123 >", &c);
    assert_int_equal(c.kind, U2C_SCAND_UNSUBSCRIBE);
    parse("< statistics 1000 >", &c);
    assert_int_equal(c.kind, U2C_SCAND_STATISTICS);
    assert_int_equal(c.secs, 1000);
    parse("< can0 B 500000 875 0 0 0 0 0 0 >", &c);
    assert_int_equal(c.kind, U2C_SCAND_CONFIGURE);
    assert_string_equal(c.bus, "can0");
    assert_int_equal(c.op, 'B');
    parse("< can0 C 1 0 0 >", &c);
    assert_int_equal(c.kind, U2C_SCAND_CONFIGURE);
    assert_int_equal(c.op, 'C');
    parse("< muxfilter 0 0 123 2 FF 00 00 00 00 00 00 00 33 FF FF FF FF FF FF FF >", &c);
    assert_int_equal(c.kind, U2C_SCAND_UNSUPPORTED);
    assert_string_equal(c.word, "muxfilter");
}

static void test_parse_server_messages(void **state)
{
    (void)state;
    u2c_scand_command c;
    parse("< hi >", &c);
    assert_int_equal(c.kind, U2C_SCAND_HI);
    parse("< ok >", &c);
    assert_int_equal(c.kind, U2C_SCAND_OK);
    parse("< frame 123 23.424242 1A220344 >", &c);
    assert_int_equal(c.kind, U2C_SCAND_FRAME);
    assert_int_equal(c.frame.id, 0x123);
    assert_int_equal(c.secs, 23);
    assert_int_equal(c.usecs, 424242);
    assert_int_equal(c.frame.dlc, 4);
    assert_int_equal(c.frame.data[3], 0x44);
    parse("< frame 00000123 23.5 1A 22 >", &c); /* BCM style, short fraction */
    assert_int_equal(c.kind, U2C_SCAND_FRAME);
    assert_true(c.frame.extended);
    assert_int_equal(c.usecs, 500000);
    assert_int_equal(c.frame.dlc, 2);
    parse("< frame 123 1.000000  >", &c);
    assert_int_equal(c.kind, U2C_SCAND_FRAME);
    assert_int_equal(c.frame.dlc, 0);
    parse("< error could not open bus >", &c);
    assert_int_equal(c.kind, U2C_SCAND_ERROR);
    assert_string_equal(c.text, "could not open bus");
    parse("< stat 1 2 3 18446744073709551615 >", &c);
    assert_int_equal(c.kind, U2C_SCAND_STAT);
    assert_true(c.stat[3] == UINT64_MAX);
}

static void expect_bad(const char *element, const char *reason_part)
{
    u2c_scand_command c;
    parse(element, &c);
    if (c.kind != U2C_SCAND_BAD || strstr(c.reason, reason_part) == NULL)
        fail_msg("'%s': kind %d reason '%s', wanted '%s'", element, c.kind, c.reason, reason_part);
}

static void test_parse_rejections_have_reasons(void **state)
{
    (void)state;
    expect_bad("", "element");
    expect_bad("< >", "empty");
    expect_bad("open can0", "element");
    expect_bad("< frobnicate >", "unknown command 'frobnicate'");
    expect_bad("< open >", "open BUS");
    expect_bad("< open abcdefghijklmnopq >", "open BUS"); /* 17 characters */
    expect_bad("< rawmode now >", "takes no arguments");
    expect_bad("< send >", "syntax");
    expect_bad("< send 12G 0 >", "hex");
    expect_bad("< send 123456789 0 >", "hex");
    expect_bad("< send 20000123 0 >", "error frames");
}

static void test_parse_more_rejections(void **state)
{
    (void)state;
    expect_bad("< send 123 9 1 2 3 4 5 6 7 8 9 >", "0 to 8");
    expect_bad("< send 123 2 11 >", "data length 2 but 1");
    expect_bad("< send 123 1 11 22 >", "data length 1 but 2");
    expect_bad("< send 123 1 123 >", "data byte 0");
    expect_bad("< send 40000800 0 >", "above 7FF");
    expect_bad("< add 1 0 123 >", "syntax");
    expect_bad("< add x 0 123 0 >", "interval");
    expect_bad("< add 99999999999 0 123 0 >", "interval");
    expect_bad("< subscribe 0 0 >", "subscribe SECS USECS ID");
    expect_bad("< delete >", "delete ID");
    expect_bad("< statistics -1 >", "milliseconds");
    expect_bad("< frame 123 >", "frame ID");
    expect_bad("< frame 123 1 11 >", "SECS.USECS");
    expect_bad("< frame 123 1.1234567 11 >", "SECS.USECS");
    expect_bad("< frame 123 1.0 112 >", "odd");
    expect_bad("< frame 123 1.0 112233445566778899 >", "longer than 8");
    expect_bad("< frame 123 1.0 zz >", "not hex");
    expect_bad("< stat 1 2 3 >", "stat RBYTES");
    expect_bad("< a b c d e f g h i j k l m n o p q r s t u v w x y >", "too many");
    expect_bad("< \x01\x02 >", "unknown command '..'");
}

/* Feeds text in chunks of `chunk` bytes and writes what the reader yields. */
static void feed(const char *text, size_t chunk, char *log, size_t log_size)
{
    u2c_scand_reader r;
    u2c_scand_reader_init(&r);
    size_t len = strlen(text);
    size_t at = 0;
    log[0] = '\0';
    while (at < len) {
        size_t n = len - at < chunk ? len - at : chunk;
        size_t off = 0;
        while (off < n) {
            size_t used = 0;
            u2c_scand_event ev = u2c_scand_reader_push(&r, text + at + off, n - off, &used);
            assert_true(used >= 1 && used <= n - off);
            off += used;
            size_t l = strlen(log);
            if (ev == U2C_SCAND_ELEMENT)
                snprintf(log + l, log_size - l, "[%s]", r.element);
            else if (ev == U2C_SCAND_TOO_LONG)
                snprintf(log + l, log_size - l, "[LONG]");
            else if (ev == U2C_SCAND_MALFORMED)
                snprintf(log + l, log_size - l, "[BAD]");
        }
        at += n;
    }
}

static void test_reader_under_every_chunking(void **state)
{
    (void)state;
    char stream[700];
    char long_element[U2C_SCAND_ELEMENT_MAX + 8];
    memset(long_element, 'x', sizeof long_element);
    long_element[0] = '<';
    long_element[sizeof long_element - 2] = '>';
    long_element[sizeof long_element - 1] = '\0';
    snprintf(stream, sizeof stream,
             "< open VIRTUAL0 >< rawmode >\n  < send 123 0 >junk junk< half < echo >"
             "< bin\x01 >%s< ok >",
             long_element);
    const char *wanted = "[< open VIRTUAL0 >][< rawmode >][< send 123 0 >][BAD][BAD][< echo >]"
                         "[BAD][LONG][< ok >]";
    for (size_t chunk = 1; chunk <= strlen(stream); chunk++) {
        char log[400];
        feed(stream, chunk, log, sizeof log);
        if (strcmp(log, wanted) != 0)
            fail_msg("chunk %zu: %s", chunk, log);
    }
}

static void test_reader_element_length_limit(void **state)
{
    (void)state;
    char element[U2C_SCAND_ELEMENT_MAX + 2];
    /* exactly U2C_SCAND_ELEMENT_MAX characters is taken, one more is not */
    for (int extra = 0; extra <= 1; extra++) {
        size_t n = U2C_SCAND_ELEMENT_MAX + (size_t)extra;
        memset(element, ' ', n);
        element[0] = '<';
        element[1] = 'e';
        element[n - 1] = '>';
        element[n] = '\0';
        char log[U2C_SCAND_ELEMENT_MAX + 40];
        feed(element, 7, log, sizeof log);
        if (extra == 0)
            assert_true(log[0] == '[' && log[1] == '<' && strlen(log) == n + 2);
        else
            assert_string_equal(log, "[LONG]");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_frame_raw_and_bcm),
        cmocka_unit_test(test_format_send_error_stat),
        cmocka_unit_test(test_parse_client_commands_from_protocol_md),
        cmocka_unit_test(test_parse_server_messages),
        cmocka_unit_test(test_parse_rejections_have_reasons),
        cmocka_unit_test(test_parse_more_rejections),
        cmocka_unit_test(test_reader_under_every_chunking),
        cmocka_unit_test(test_reader_element_length_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
