/* The CanalOpen setup string: what real clients send, the exact bit timing
 * each rate gets, and malformed strings that must fail with a reason naming
 * the problem, all without touching the caller's buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cfg_parse.h"
#include "rx_filter.h"

/* Parses a heap copy sized exactly to the string, so ASan catches a read past
 * the NUL, and checks that the copy is unchanged afterwards. */
static bool parse_copy(const char *text, u2c_setup *out, char *reason, size_t reason_size)
{
    size_t len = strlen(text);
    char *copy = malloc(len + 1);
    assert_non_null(copy);
    memcpy(copy, text, len + 1);
    bool ok = u2c_setup_parse(copy, out, reason, reason_size);
    assert_memory_equal(copy, text, len + 1);
    free(copy);
    return ok;
}

static u2c_setup parse_ok(const char *text)
{
    u2c_setup s;
    char reason[512] = "untouched";
    bool ok = parse_copy(text, &s, reason, sizeof reason);
    if (!ok)
        print_error("'%s' was refused: %s\n", text, reason);
    assert_true(ok);
    assert_string_equal(reason, "");
    return s;
}

static void expect_refused(const char *text, const char *needle1, const char *needle2)
{
    u2c_setup s;
    char reason[512] = "";
    bool ok = text == NULL ? u2c_setup_parse(NULL, &s, reason, sizeof reason)
                           : parse_copy(text, &s, reason, sizeof reason);
    if (ok)
        print_error("'%s' was accepted\n", text);
    assert_false(ok);
    bool found = strstr(reason, needle1) != NULL && (needle2 == NULL || strstr(reason, needle2));
    if (!found)
        print_error("'%s': reason \"%s\" lacks \"%s\"%s%s\n", text ? text : "(NULL)", reason,
                    needle1, needle2 ? " / " : "", needle2 ? needle2 : "");
    assert_true(found);
}

static void assert_timing(const u2c_setup *s, unsigned tseg1, unsigned tseg2, unsigned sjw,
                          unsigned brp)
{
    assert_int_equal(s->timing.tseg1, tseg1);
    assert_int_equal(s->timing.tseg2, tseg2);
    assert_int_equal(s->timing.sjw, sjw);
    assert_int_equal(s->timing.brp, brp);
}

/* --- remote buses (socketcand) -------------------------------------------- */

static void test_remote_bus_tokens(void **state)
{
    (void)state;
    u2c_setup s = parse_ok("VIRTUAL0@127.0.0.1;500");
    assert_string_equal(s.remote, "VIRTUAL0@127.0.0.1");
    assert_string_equal(s.serial, "");
    s = parse_ok(" can0@raspberrypi:29536 "); /* case kept, no bit rate needed */
    assert_string_equal(s.remote, "can0@raspberrypi:29536");
    assert_int_equal(s.bitrate, 500000);
    s = parse_ok("ED000200@192.168.1.20; rxqueue=100");
    assert_int_equal(s.rx_capacity, 100);
    s = parse_ok("VIRTUAL0;500");
    assert_string_equal(s.remote, "");
    expect_refused("@127.0.0.1;500", "remote bus", "1 to 16");
    expect_refused("bus@;500", "remote bus", "host");
    expect_refused("abcdefghijklmnopq@host;500", "remote bus", "1 to 16");
    expect_refused("bus@ho/st;500", "remote bus", "host may hold");
    expect_refused("b<s@host;500", "remote bus", "before '@'");
}

/* --- strings real clients send ------------------------------------------- */

static void test_python_can_41_string(void **state)
{
    (void)state;
    u2c_setup s = parse_ok("ED000200; 250");
    assert_string_equal(s.serial, "ED000200");
    assert_int_equal(s.bitrate, 250000);
    assert_timing(&s, 13, 2, 1, 8);
    assert_false(s.manual_timing);
    assert_false(s.has_filter);
    assert_int_equal(s.rx_capacity, U2C_RX_CAPACITY_DEFAULT);
    assert_int_equal(s.bitrate_error_ppm, 0);
}

static void test_python_can_45_string(void **state)
{
    (void)state;
    u2c_setup s = parse_ok("ED000200;250");
    assert_string_equal(s.serial, "ED000200");
    assert_int_equal(s.bitrate, 250000);
    assert_timing(&s, 13, 2, 1, 8);
}

static void test_python_can_bit_timing_string(void **state)
{
    (void)state;
    u2c_setup s = parse_ok("ED000200;0;13;2;1;4");
    assert_true(s.manual_timing);
    assert_timing(&s, 13, 2, 1, 4);
    assert_int_equal(s.bitrate, 500000);
    assert_false(s.has_filter);
}

static void test_empty_serial_means_only_adapter(void **state)
{
    (void)state;
    u2c_setup s = parse_ok("; 500");
    assert_string_equal(s.serial, "");
    assert_int_equal(s.bitrate, 500000);
    assert_timing(&s, 13, 2, 1, 4);
}

static void test_blanks_lower_case_and_hex(void **state)
{
    (void)state;
    u2c_setup s = parse_ok(" ed000200 ; 0x1F4 ");
    assert_string_equal(s.serial, "ED000200");
    assert_int_equal(s.bitrate, 500000);
    s = parse_ok("\tEd000200\t;\t125\t");
    assert_string_equal(s.serial, "ED000200");
    assert_int_equal(s.bitrate, 125000);
    assert_timing(&s, 13, 2, 1, 16);
}

static void test_canalyze_serial(void **state)
{
    (void)state;
    u2c_setup s = parse_ok("0033004a3235510d20373738;1000");
    assert_string_equal(s.serial, "0033004A3235510D20373738");
    s = parse_ok("3a7f0c12b4e9;1000");
    assert_string_equal(s.serial, "3A7F0C12B4E9");
    assert_int_equal(s.bitrate, 1000000);
    assert_timing(&s, 13, 2, 1, 2);
}

static void test_serial_charset_and_length(void **state)
{
    (void)state;
    u2c_setup s = parse_ok("my_can-1;500");
    assert_string_equal(s.serial, "MY_CAN-1");
    s = parse_ok("A;500");
    assert_string_equal(s.serial, "A");
    s = parse_ok("0123456789abcdefABCDEF_-xyz01234;500"); /* exactly 32 */
    assert_string_equal(s.serial, "0123456789ABCDEFABCDEF_-XYZ01234");
}

static void test_virtual_with_mask_and_filter(void **state)
{
    (void)state;
    u2c_setup s = parse_ok("VIRTUAL3;1000;0x7FF;0x123");
    assert_string_equal(s.serial, "VIRTUAL3");
    assert_int_equal(s.bitrate, 1000000);
    assert_true(s.has_filter);
    assert_int_equal(s.mask, 0x7FF);
    assert_int_equal(s.filter, 0x123);
    s = parse_ok("virtual0;125;0xFFFFFFFF;0");
    assert_string_equal(s.serial, "VIRTUAL0");
    assert_true(s.has_filter);
    assert_true(s.mask == 0xFFFFFFFFu);
    assert_int_equal(s.filter, 0);
}

static void test_manual_timing_with_filter_and_options(void **state)
{
    (void)state;
    u2c_setup s = parse_ok("ED000200;0;6;1;1;5;0x80000000;0x80000000;rxqueue=100000");
    assert_true(s.manual_timing);
    assert_timing(&s, 6, 1, 1, 5);
    assert_int_equal(s.bitrate, 800000);
    assert_true(s.has_filter);
    assert_true(s.mask == 0x80000000u && s.filter == 0x80000000u);
    assert_int_equal(s.rx_capacity, 100000);
}

static void test_rxqueue_option(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("ED000200;500;rxqueue=64").rx_capacity, U2C_RX_CAPACITY_MIN);
    assert_int_equal(parse_ok("ED000200;500; RxQueue = 1048576 ").rx_capacity, U2C_RX_CAPACITY_MAX);
    assert_int_equal(parse_ok("ED000200;500;RXQUEUE=0x2000").rx_capacity, 8192);
    u2c_setup s = parse_ok("ED000200;500;0x7FF;0x100;rxqueue=256");
    assert_true(s.has_filter);
    assert_int_equal(s.rx_capacity, 256);
}

/* location=1-4.2 picks one of adapters that share a serial (or have none). */
static void test_location_option(void **state)
{
    (void)state;
    assert_string_equal(parse_ok("ED000200;500;location=1-4.2").location, "1-4.2");
    assert_string_equal(parse_ok("ED000200;500; Location = 3-1 ").location, "3-1");
    assert_string_equal(parse_ok(";500;location=1-1.2.3.4.5.6.7").location, "1-1.2.3.4.5.6.7");
    u2c_setup s = parse_ok("ED000200;500;rxqueue=256;location=2-3");
    assert_string_equal(s.location, "2-3");
    assert_int_equal(s.rx_capacity, 256);
    assert_string_equal(parse_ok("ED000200;500").location, "");
    expect_refused("ED000200;500;location=1", "token 3", "location must be a USB port path");
    expect_refused("ED000200;500;location=1-", "token 3", "location must be a USB port path");
    expect_refused("ED000200;500;location=1.4-2", "token 3", "location must be a USB port path");
    expect_refused("ED000200;500;location=1-4.", "token 3", "location must be a USB port path");
    expect_refused("ED000200;500;location=", "token 3", "location must be a USB port path");
    expect_refused("ED000200;500;location=1-1.2.3.4.5.6.7.8", "token 3",
                   "location must be a USB port path");
    expect_refused("ED000200;500;location=1-2;location=1-3", "token 4",
                   "location is already given in token 3");
}

static void test_single_trailing_semicolon(void **state)
{
    (void)state;
    u2c_setup s = parse_ok("ED000200;500;");
    assert_int_equal(s.bitrate, 500000);
    s = parse_ok("ED000200;500;0x7FF;0x123; ");
    assert_true(s.has_filter);
}

static void test_leading_zero_is_decimal(void **state)
{
    (void)state;
    /* The vendor's strtoul(.., 0) read "010" as octal 8 and then fell back to
     * 125 kbit/s; here it is ten. */
    u2c_setup s = parse_ok("ED000200;010");
    assert_int_equal(s.bitrate, 10000);
    assert_timing(&s, 13, 2, 1, 200);
    s = parse_ok("ED000200;0500;0X7ff;0x0");
    assert_int_equal(s.bitrate, 500000);
    assert_int_equal(s.mask, 0x7FF);
}

/* --- bit timing per rate ------------------------------------------------- */

static void test_standard_rates_use_firmware_table(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        uint32_t bitrate;
        unsigned tseg1, tseg2, sjw, brp;
    } rates[] = {
        {"X;10", 10000, 13, 2, 1, 200},   {"X;20", 20000, 13, 2, 1, 100},
        {"X;50", 50000, 13, 2, 1, 40},    {"X;100", 100000, 13, 2, 1, 20},
        {"X;125", 125000, 13, 2, 1, 16},  {"X;250", 250000, 13, 2, 1, 8},
        {"X;500", 500000, 13, 2, 1, 4},   {"X;800", 800000, 6, 1, 1, 5},
        {"X;1000", 1000000, 13, 2, 1, 2},
    };
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        u2c_setup s = parse_ok(rates[i].text);
        assert_int_equal(s.bitrate, rates[i].bitrate);
        assert_timing(&s, rates[i].tseg1, rates[i].tseg2, rates[i].sjw, rates[i].brp);
        assert_int_equal(s.bitrate_error_ppm, 0);
        assert_false(s.manual_timing);
    }
}

static void test_python_can_truncated_rates(void **state)
{
    (void)state;
    /* python-can sends bitrate // 1000: 33333 -> 33, 62500 -> 62, 83333 -> 83. */
    u2c_setup s = parse_ok("X;33");
    assert_int_equal(s.bitrate, 33333);
    assert_timing(&s, 13, 2, 1, 60);
    assert_true(s.bitrate_error_ppm <= 10);
    s = parse_ok("X;62");
    assert_int_equal(s.bitrate, 62500);
    assert_timing(&s, 13, 2, 1, 32);
    assert_int_equal(s.bitrate_error_ppm, 0);
    s = parse_ok("X;83");
    assert_int_equal(s.bitrate, 83333);
    assert_timing(&s, 13, 2, 1, 24);
    assert_true(s.bitrate_error_ppm <= 10);
}

static void test_other_rates_within_tolerance(void **state)
{
    (void)state;
    /* 32 MHz / 7 kbit/s = 4571.4 cycles; brp 254 x 18 tq = 4572 -> 6999 bit/s. */
    u2c_setup seven = parse_ok("X;7");
    assert_int_equal(seven.bitrate, 6999);
    assert_timing(&seven, 15, 2, 1, 254);
    assert_int_equal(seven.bitrate_error_ppm, 125);
    static const char *const texts[] = {"X;7",   "X;40",  "X;95",  "X;200",
                                        "X;400", "X;666", "X;999", "X;2"};
    static const uint32_t wanted[] = {7000, 40000, 95000, 200000, 400000, 666000, 999000, 2000};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        u2c_setup s = parse_ok(texts[i]);
        char why[128] = "";
        assert_int_equal(u8d_bittiming_check(&s.timing, why, sizeof why), U8D_OK);
        assert_int_equal(s.bitrate, u8d_bittiming_bitrate(&s.timing));
        uint32_t diff = s.bitrate > wanted[i] ? s.bitrate - wanted[i] : wanted[i] - s.bitrate;
        assert_true((uint64_t)diff * 1000000u <= (uint64_t)wanted[i] * U8D_BITRATE_TOLERANCE_PPM);
        assert_true(s.bitrate_error_ppm <= U8D_BITRATE_TOLERANCE_PPM);
    }
}

/* Acceptance depends only on whether some brp x tq (8..25 tq) lands within
 * 0.5 %, so the set is fixed: all of 2..100 kbit/s, 490 of 1..1000 in all. */
static void test_accepted_integer_rates(void **state)
{
    (void)state;
    unsigned accepted = 0;
    for (unsigned kbps = 1; kbps <= 1000; kbps++) {
        char text[32];
        snprintf(text, sizeof text, "X;%u", kbps);
        u2c_setup s;
        char reason[256] = "";
        bool ok = u2c_setup_parse(text, &s, reason, sizeof reason);
        if (ok) {
            accepted++;
            assert_true(s.bitrate_error_ppm <= U8D_BITRATE_TOLERANCE_PPM);
        } else {
            assert_non_null(strstr(reason, "cannot be made"));
        }
        if (kbps >= 2 && kbps <= 100 && !ok)
            print_error("%u kbit/s refused: %s\n", kbps, reason);
        assert_true(ok || kbps < 2 || kbps > 100);
    }
    assert_int_equal(accepted, 490);
}

/* --- malformed strings --------------------------------------------------- */

static void test_refused_missing_parts(void **state)
{
    (void)state;
    expect_refused(NULL, "NULL", NULL);
    expect_refused("", "empty", "serial;kbps");
    expect_refused("  \t ", "empty", NULL);
    expect_refused("ED000200", "token 2", "kbps is missing");
    expect_refused("ED000200;", "token 2", "kbps is missing");
    expect_refused("ED000200;;500", "token 2", "kbps is empty");
    expect_refused("ED000200;rxqueue=100", "token 2", "kbps is missing");
}

static void test_refused_bad_kbps(void **state)
{
    (void)state;
    expect_refused("ED000200;abc", "token 2 'abc'", "kbps is not a number");
    expect_refused("ED000200;2000", "token 2 '2000'", "above CAN's maximum of 1000 kbit/s");
    expect_refused("ED000200;1001", "token 2", "above CAN's maximum of 1000 kbit/s");
    expect_refused("ED000200;-500", "token 2 '-500'", "kbps must not be negative");
    expect_refused("ED000200;+500", "token 2", "without a sign");
    expect_refused("ED000200;5 00", "token 2 '5 00'", "kbps is not a number");
    expect_refused("ED000200;1.5", "token 2", "kbps is not a number");
    expect_refused("ED000200;500k", "token 2 '500k'", "kbps is not a number");
    expect_refused("ED000200;0x", "token 2 '0x'", "'0x' but no hex digits");
    expect_refused("ED000200;0x1g", "token 2", "not a hex number");
    expect_refused("ED000200;99999999999", "token 2 '99999999999'", "does not fit in 32 bits");
    expect_refused("ED000200;0x100000000", "token 2", "does not fit in 32 bits");
}

static void test_refused_rate_the_clock_cannot_make(void **state)
{
    (void)state;
    /* The slowest rate: 32 MHz / (1024 * 25 tq) = 1250 bit/s. */
    expect_refused("ED000200;1", "token 2 '1'", "1000 bit/s cannot be made");
    expect_refused("ED000200;1", "nearest timing is 1250 bit/s", "off by 25.00 %");
    /* 32 MHz / 101 kbit/s = 316.8 clock cycles per bit; the nearest brp x tq
     * product is 315 = 15 x 21, 0.58 % fast. */
    expect_refused("ED000200;101", "token 2 '101': 101000 bit/s cannot be made",
                   "nearest timing is 101587 bit/s, off by 0.58 %");
}

static void test_refused_manual_timing(void **state)
{
    (void)state;
    expect_refused("ED000200;0", "tseg1 (token 3) is missing", "kbps 0");
    expect_refused("ED000200;0;13;2;1", "brp (token 6) is missing", NULL);
    expect_refused("ED000200;0;13;2;1;rxqueue=100", "brp (token 6) is missing", NULL);
    /* What either firmware takes: a CANalyze's tseg1 from 1 (the vendor's
     * C_CAN refuses 1 once the adapter is known: e2e_canal_usb). */
    expect_refused("ED000200;0;17;2;1;4", "token 3 '17'", "tseg1 must be 1..16");
    expect_refused("ED000200;0;0;2;1;4", "token 3 '0'", "tseg1 must be 1..16");
    expect_refused("ED000200;0;13;9;1;4", "token 4 '9'", "tseg2 must be 1..8");
    expect_refused("ED000200;0;13;0;1;4", "token 4", "tseg2 must be 1..8");
    expect_refused("ED000200;0;13;2;5;4", "token 5 '5'", "sjw must be 1..4");
    expect_refused("ED000200;0;13;2;0;4", "token 5", "sjw must be 1..4");
    expect_refused("ED000200;0;13;2;1;0", "token 6 '0'", "brp must be 1..1024");
    expect_refused("ED000200;0;13;2;1;1025", "token 6 '1025'", "brp must be 1..1024");
    expect_refused("ED000200;0;13;2;3;4", "token 5 '3'", "sjw (3) must not exceed tseg2 (2)");
    expect_refused("ED000200;0;13;x;1;4", "token 4 'x'", "tseg2 is not a number");
    expect_refused("ED000200;0;13;2;1;-4", "token 6", "brp must not be negative");
    expect_refused("ED000200;0;2;1;1;1", "give 8000000 bit/s",
                   "above CAN's maximum of 1000 kbit/s");
    expect_refused("ED000200;500;13;2;1;4", "token 3", "read only when kbps is 0");
}

static void test_refused_mask_filter_and_extra_tokens(void **state)
{
    (void)state;
    expect_refused("ED000200;500;0x7FF", "token 3 '0x7FF'", "mask needs a filter");
    expect_refused("ED000200;0;13;2;1;4;0x7FF", "token 7", "mask needs a filter");
    expect_refused("ED000200;500;xyz;0x123", "token 3 'xyz'", "mask is not a number");
    expect_refused("ED000200;500;0x7FF;0xGG", "token 4 '0xGG'", "filter is not a hex number");
    expect_refused("ED000200;500;0x1FFFFFFFF;0", "token 3", "mask does not fit in 32 bits");
    expect_refused("ED000200;500;0x7FF;0x123;junk", "token 5 'junk'", "unexpected value");
    expect_refused("ED000200;0;13;2;1;4;5;6;7", "token 9 '7'", "unexpected value");
    expect_refused("ED000200;500;;0x123", "token 3 ''", "two ';' in a row");
    expect_refused("ED000200;500;0x7FF;;", "token 4 ''", "expected a filter");
}

static void test_refused_options(void **state)
{
    (void)state;
    expect_refused("ED000200;500;foo=1", "token 3 'foo=1'", "unknown option");
    expect_refused("ED000200;500;rxqueue=10", "token 3", "rxqueue must be 64..1048576");
    expect_refused("ED000200;500;rxqueue=1048577", "token 3", "rxqueue must be 64..1048576");
    expect_refused("ED000200;500;rxqueue=", "token 3", "rxqueue is empty");
    expect_refused("ED000200;500;rxqueue=lots", "token 3", "rxqueue is not a number");
    expect_refused("ED000200;500;=5", "token 3 '=5'", "option has no name");
    expect_refused("ED000200;500;rxqueue=4096;rxqueue=8192", "token 4", "already given in token 3");
    expect_refused("ED000200;500;rxqueue=100;0x7FF;0x123", "token 4 '0x7FF'",
                   "options (key=value) must come last");
}

static void test_refused_bad_serial(void **state)
{
    (void)state;
    expect_refused("0123456789abcdefABCDEF_-xyz012345;500", "token 1",
                   "serial has 33 characters, at most 32");
    expect_refused("ED00 0200;500", "token 1 'ED00 0200'", "character 5 is ' '");
    expect_refused("ED0002!0;500", "token 1", "character 7 is '!'");
    expect_refused("ED\xC3\xA9;500", "token 1 'ED\\xC3\\xA9'", "byte 0xC3");
    expect_refused("serial=ED000200;500", "token 1", "character 7 is '='");
}

static void test_refused_too_long_string(void **state)
{
    (void)state;
    char text[U2C_SETUP_MAX + 100];
    memset(text, ' ', sizeof text);
    memcpy(text, "ED000200;500", 12);
    text[sizeof text - 1] = '\0';
    expect_refused(text, "longer than 1023 characters", NULL);

    /* Exactly U2C_SETUP_MAX bytes and no NUL: must stop there, never read on. */
    char *unterminated = malloc(U2C_SETUP_MAX);
    assert_non_null(unterminated);
    memset(unterminated, 'A', U2C_SETUP_MAX);
    u2c_setup s;
    char reason[256] = "";
    assert_false(u2c_setup_parse(unterminated, &s, reason, sizeof reason));
    assert_non_null(strstr(reason, "longer than 1023"));
    free(unterminated);

    /* 1023 characters fit (blanks after the last token are trimmed). */
    text[U2C_SETUP_MAX - 1] = '\0';
    u2c_setup ok = parse_ok(text);
    assert_int_equal(ok.bitrate, 500000);
}

static void test_refused_too_many_tokens(void **state)
{
    (void)state;
    expect_refused("X;500;rxqueue=64;rxqueue=64;rxqueue=64;rxqueue=64;rxqueue=64;rxqueue=64;"
                   "rxqueue=64;rxqueue=64;rxqueue=64;rxqueue=64;rxqueue=64;rxqueue=64;"
                   "rxqueue=64;rxqueue=64;rxqueue=64;rxqueue=64;rxqueue=64;rxqueue=64;"
                   "rxqueue=64;rxqueue=64;rxqueue=64;rxqueue=64;rxqueue=64",
                   "more than 24", "tokens");
}

static void test_reason_buffer_edge_cases(void **state)
{
    (void)state;
    u2c_setup s;
    /* No reason buffer at all: still refused, no crash. */
    assert_false(u2c_setup_parse("ED000200;abc", &s, NULL, 0));
    assert_true(u2c_setup_parse("ED000200;500", &s, NULL, 0));
    /* A tiny buffer is truncated but terminated. */
    char tiny[8];
    memset(tiny, 'Z', sizeof tiny);
    assert_false(u2c_setup_parse("ED000200;abc", &s, tiny, sizeof tiny));
    assert_int_equal(strlen(tiny), sizeof tiny - 1);
    assert_memory_equal(tiny, "token 2", 7);
    /* NULL result. */
    char reason[128] = "";
    assert_false(u2c_setup_parse("ED000200;500", NULL, reason, sizeof reason));
    assert_non_null(strstr(reason, "out is NULL"));
    /* A long unprintable token is quoted shortened and escaped. */
    assert_false(u2c_setup_parse("ED000200;\x01\x02xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", &s,
                                 reason, sizeof reason));
    assert_non_null(strstr(reason, "'\\x01\\x02xxxxxxxxxxxxxxxxxxxxxx...'"));
}

/* --- filter semantics ---------------------------------------------------- */

static void test_filter_semantics(void **state)
{
    (void)state;
    /* Mask 0 passes everything. */
    assert_true(rx_filter_mask_accepts(0, 0x123, 0x456, false, false));
    assert_true(rx_filter_mask_accepts(0, 0xFFFFFFFF, 0x1FFFFFFF, true, true));
    /* Standard id 0x123 exactly. */
    assert_true(rx_filter_mask_accepts(0x7FF, 0x123, 0x123, false, false));
    assert_false(rx_filter_mask_accepts(0x7FF, 0x123, 0x124, false, false));
    /* Without bit 31 in the mask, an extended frame with the same low bits passes too. */
    assert_true(rx_filter_mask_accepts(0x7FF, 0x123, 0x123, true, false));
    /* With bit 31 in the mask, the format must match. */
    assert_false(rx_filter_mask_accepts(0x800007FF, 0x123, 0x123, true, false));
    assert_true(rx_filter_mask_accepts(0x800007FF, 0x80000123, 0x123, true, false));
    assert_false(rx_filter_mask_accepts(0x800007FF, 0x80000123, 0x123, false, false));
    /* Bit 30 selects remote frames. */
    assert_true(rx_filter_mask_accepts(0x40000000, 0x40000000, 0x55, false, true));
    assert_false(rx_filter_mask_accepts(0x40000000, 0x40000000, 0x55, false, false));
    /* A range: ids 0x100..0x1FF. */
    assert_true(rx_filter_mask_accepts(0x700, 0x100, 0x1AB, false, false));
    assert_false(rx_filter_mask_accepts(0x700, 0x100, 0x2AB, false, false));
    /* Bits above the id's width are not part of the key. */
    assert_true(rx_filter_mask_accepts(0x3FFFFFFF, 0x123, 0xFFFFF123, false, false));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_remote_bus_tokens),
        cmocka_unit_test(test_python_can_41_string),
        cmocka_unit_test(test_python_can_45_string),
        cmocka_unit_test(test_python_can_bit_timing_string),
        cmocka_unit_test(test_empty_serial_means_only_adapter),
        cmocka_unit_test(test_blanks_lower_case_and_hex),
        cmocka_unit_test(test_canalyze_serial),
        cmocka_unit_test(test_serial_charset_and_length),
        cmocka_unit_test(test_virtual_with_mask_and_filter),
        cmocka_unit_test(test_manual_timing_with_filter_and_options),
        cmocka_unit_test(test_rxqueue_option),
        cmocka_unit_test(test_location_option),
        cmocka_unit_test(test_single_trailing_semicolon),
        cmocka_unit_test(test_leading_zero_is_decimal),
        cmocka_unit_test(test_standard_rates_use_firmware_table),
        cmocka_unit_test(test_python_can_truncated_rates),
        cmocka_unit_test(test_other_rates_within_tolerance),
        cmocka_unit_test(test_accepted_integer_rates),
        cmocka_unit_test(test_refused_missing_parts),
        cmocka_unit_test(test_refused_bad_kbps),
        cmocka_unit_test(test_refused_rate_the_clock_cannot_make),
        cmocka_unit_test(test_refused_manual_timing),
        cmocka_unit_test(test_refused_mask_filter_and_extra_tokens),
        cmocka_unit_test(test_refused_options),
        cmocka_unit_test(test_refused_bad_serial),
        cmocka_unit_test(test_refused_too_long_string),
        cmocka_unit_test(test_refused_too_many_tokens),
        cmocka_unit_test(test_reason_buffer_edge_cases),
        cmocka_unit_test(test_filter_semantics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
