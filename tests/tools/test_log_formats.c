/*
 * The log formats of monitor --log and replay (log_candump.h, log_asc.h),
 * the status-to-error-frame mapping (recorder.h) and the drift-correcting
 * clock map (clock_map.h), pure: golden lines as can-utils (candump -l,
 * log2asc 2020.11) and python-can 4.1 write and read them, and ten simulated
 * minutes of a device model whose crystal is 100 ppm off.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "clock_map.h"
#include "log_asc.h"
#include "log_candump.h"
#include "recorder.h"
#include "u8d_codec.h"
#include "u8d_model.h"

/* 2025-12-07 23:54:55.123456 UTC */
#define T0 1765151695123456LL

static u2c_log_frame frame(u2c_log_kind kind, bool extended, uint32_t id, uint8_t dlc,
                           const char *hex)
{
    u2c_log_frame f;
    memset(&f, 0, sizeof f);
    f.time_us = T0;
    snprintf(f.iface, sizeof f.iface, "can0");
    f.kind = kind;
    f.extended = extended;
    f.id = id;
    f.dlc = dlc;
    for (size_t i = 0; hex != NULL && hex[2 * i] != '\0' && i < 8; i++) {
        unsigned v = 0;
        sscanf(hex + 2 * i, "%2x", &v);
        f.data[i] = (uint8_t)v;
    }
    return f;
}

static void assert_candump(const u2c_log_frame *f, const char *expected)
{
    char line[U2C_LOG_LINE_MAX];
    size_t n = u2c_candump_format(f, line, sizeof line);
    assert_string_equal(line, expected);
    assert_int_equal(n, strlen(expected));
    /* ... and it reads back as the same frame */
    u2c_log_frame back;
    char reason[128] = "";
    assert_int_equal(u2c_candump_parse(line, &back, reason, sizeof reason), U2C_LOG_LINE_FRAME);
    assert_memory_equal(&back, f, sizeof back);
}

/* What candump -l writes for the same frames (can-utils lib.c, sprint_canframe). */
static void test_candump_lines(void **state)
{
    (void)state;
    u2c_log_frame f = frame(U2C_LOG_DATA, false, 0x123, 8, "1122334455667788");
    assert_candump(&f, "(1765151695.123456) can0 123#1122334455667788");
    f = frame(U2C_LOG_DATA, true, 0x1F334455, 1, "11");
    assert_candump(&f, "(1765151695.123456) can0 1F334455#11");
    f = frame(U2C_LOG_DATA, false, 0x7FF, 0, NULL);
    assert_candump(&f, "(1765151695.123456) can0 7FF#");
    f = frame(U2C_LOG_DATA, false, 0x001, 2, "0A0B");
    assert_candump(&f, "(1765151695.123456) can0 001#0A0B");
    f = frame(U2C_LOG_REMOTE, false, 0x123, 0, NULL);
    assert_candump(&f, "(1765151695.123456) can0 123#R");
    f = frame(U2C_LOG_REMOTE, true, 0xABCD, 8, NULL);
    assert_candump(&f, "(1765151695.123456) can0 0000ABCD#R8");
    f = frame(U2C_LOG_ERROR, true, 0x28C, 8, "0000140000000809");
    assert_candump(&f, "(1765151695.123456) can0 2000028C#0000140000000809");
    f.time_us = 5; /* the fraction keeps its leading zeros */
    assert_candump(&f, "(0.000005) can0 2000028C#0000140000000809");
}

static void assert_candump_bad(const char *line, const char *reason_part)
{
    u2c_log_frame f;
    memset(&f, 0x5A, sizeof f);
    u2c_log_frame before = f;
    char reason[128] = "";
    assert_int_equal(u2c_candump_parse(line, &f, reason, sizeof reason), U2C_LOG_LINE_BAD);
    if (strstr(reason, reason_part) == NULL)
        fail_msg("'%s': reason '%s' lacks '%s'", line, reason, reason_part);
    assert_memory_equal(&f, &before, sizeof f); /* untouched */
}

static void test_candump_reading(void **state)
{
    (void)state;
    u2c_log_frame f;
    char reason[128];
    /* asc2log and candump -L add the direction; CR LF endings; '.' between bytes */
    assert_int_equal(
        u2c_candump_parse("(1796687796.809788) can0 123#1122 R\r\n", &f, reason, sizeof reason),
        U2C_LOG_LINE_FRAME);
    assert_int_equal(f.time_us, 1796687796809788LL);
    assert_int_equal(f.dlc, 2);
    assert_int_equal(u2c_candump_parse("(1.5) vcan0 1F334455#11.22", &f, reason, sizeof reason),
                     U2C_LOG_LINE_FRAME);
    assert_int_equal(f.time_us, 1500000);
    assert_true(f.extended);
    assert_int_equal(f.data[1], 0x22);
    /* asc2log's ErrorFrame */
    assert_int_equal(u2c_candump_parse("(1796687797.309788) can0 20000080#0000000000000000", &f,
                                       reason, sizeof reason),
                     U2C_LOG_LINE_FRAME);
    assert_int_equal(f.kind, U2C_LOG_ERROR);
    assert_int_equal(f.id, 0x80);
    assert_int_equal(u2c_candump_parse("   \n", &f, reason, sizeof reason), U2C_LOG_LINE_OTHER);
    assert_candump_bad("123#11", "expected '(seconds.microseconds) IFACE ID#DATA'");
    assert_candump_bad("(12) can0 123#11", "expected '(seconds");
    assert_candump_bad("(1.000001) can0 12#11", "3 hex digits or 8");
    assert_candump_bad("(1.000001) can0 800#11", "above 7FF");
    assert_candump_bad("(1.000001) can0 40000000#11", "above 1FFFFFFF");
    assert_candump_bad("(1.000001) can0 123#112", "pairs of hex digits");
    assert_candump_bad("(1.000001) can0 123#112233445566778899", "0..8 pairs");
    assert_candump_bad("(1.000001) can0 123##1112233", "CAN FD");
    assert_candump_bad("(1.000001) can0 123#R9", "DLC digit 0..8");
    assert_candump_bad("(1.000001) can0 1231122", "no '#'");
    assert_candump_bad("(1.000001) can0 123#11 X", "unexpected text");
    assert_candump_bad("(1.000001) can0", "no '#'");
}

static void set_utc(void)
{
#if defined(_WIN32)
    _putenv("TZ=UTC0");
    _tzset();
#else
    setenv("TZ", "UTC0", 1);
    tzset();
#endif
}

/* Frame lines as log2asc writes them (its output for the same frames). */
static void test_asc_lines(void **state)
{
    (void)state;
    set_utc();
    char text[U2C_ASC_HEADER_MAX];
    int64_t start = u2c_asc_start_of(T0);
    assert_int_equal(start, 1765151695123000LL);
    u2c_asc_header(start, text, sizeof text);
    assert_string_equal(text, "date Sun Dec 07 11:54:55.123 pm 2025\n"
                              "base hex  timestamps absolute\n"
                              "internal events logged\n"
                              "// version 9.0.0\n"
                              "Begin Triggerblock Sun Dec 07 11:54:55.123 pm 2025\n"
                              "   0.000000 Start of measurement\n");
    u2c_asc_header(1765065600000000LL, text, sizeof text); /* midnight is 12 am */
    assert_true(strncmp(text, "date Sun Dec 07 12:00:00.000 am 2025\n", 37) == 0);
    static const struct {
        u2c_log_kind kind;
        bool extended;
        uint32_t id;
        uint8_t dlc;
        const char *data;
        const char *line;
    } golden[] = {
        {U2C_LOG_DATA, false, 0x123, 8, "1122334455667788",
         "   0.000456 1  123             Rx   d 8 11 22 33 44 55 66 77 88"},
        {U2C_LOG_DATA, true, 0x1F334455, 1, "11", "   0.000456 1  1F334455x       Rx   d 1 11"},
        {U2C_LOG_REMOTE, false, 0x123, 0, NULL, "   0.000456 1  123             Rx   r 0"},
        {U2C_LOG_REMOTE, true, 0xABCD, 8, NULL, "   0.000456 1  ABCDx           Rx   r 8"},
        {U2C_LOG_DATA, false, 0x7FF, 0, NULL, "   0.000456 1  7FF             Rx   d 0"},
        {U2C_LOG_ERROR, true, 0x28C, 8, "0000140000000809", "   0.000456 1  ErrorFrame"},
    };
    for (size_t i = 0; i < sizeof golden / sizeof golden[0]; i++) {
        u2c_log_frame f =
            frame(golden[i].kind, golden[i].extended, golden[i].id, golden[i].dlc, golden[i].data);
        char line[U2C_LOG_LINE_MAX];
        size_t n = u2c_asc_format(&f, start, 1, line, sizeof line);
        assert_string_equal(line, golden[i].line);
        assert_int_equal(n, strlen(line));
    }
    u2c_log_frame late = frame(U2C_LOG_DATA, false, 0x12, 0, NULL);
    late.time_us = start + 12345678901LL;
    char line[U2C_LOG_LINE_MAX];
    u2c_asc_format(&late, start, 2, line, sizeof line);
    assert_string_equal(line, "12345.678901 2  12              Rx   d 0");
    u2c_asc_footer(text, sizeof text);
    assert_string_equal(text, "End TriggerBlock\n");
}

static u2c_log_line asc(u2c_asc_reader *r, const char *line, u2c_log_frame *f)
{
    char reason[128] = "";
    u2c_log_line got = u2c_asc_parse(r, line, f, reason, sizeof reason);
    if (got == U2C_LOG_LINE_BAD)
        print_message("'%s': %s\n", line, reason);
    return got;
}

static void test_asc_reading(void **state)
{
    (void)state;
    set_utc();
    u2c_asc_reader r;
    u2c_log_frame f;
    u2c_asc_reader_init(&r);
    /* log2asc's header (24-hour clock, no milliseconds) */
    assert_int_equal(asc(&r, "date Sun Dec  7 23:54:55 2025", &f), U2C_LOG_LINE_OTHER);
    assert_int_equal(r.start_us, 1765151695000000LL);
    assert_int_equal(asc(&r, "base hex  timestamps absolute", &f), U2C_LOG_LINE_OTHER);
    assert_int_equal(asc(&r, "no internal events logged", &f), U2C_LOG_LINE_OTHER);
    assert_int_equal(asc(&r, "   0.100000 1  1F334455x       Rx   d 1 11", &f), U2C_LOG_LINE_FRAME);
    assert_int_equal(f.time_us, 1765151695100000LL);
    assert_string_equal(f.iface, "1");
    assert_true(f.extended);
    assert_int_equal(f.id, 0x1F334455);
    assert_int_equal(f.dlc, 1);
    assert_int_equal(f.data[0], 0x11);
    assert_int_equal(asc(&r, "   0.300000 1  12345678x       Rx   r 3", &f), U2C_LOG_LINE_FRAME);
    assert_int_equal(f.kind, U2C_LOG_REMOTE);
    assert_int_equal(f.dlc, 3);
    assert_int_equal(asc(&r, "   0.500000 2  ErrorFrame", &f), U2C_LOG_LINE_FRAME);
    assert_int_equal(f.kind, U2C_LOG_ERROR);
    assert_string_equal(f.iface, "2");
    /* CANoe: the 12-hour date, Tx, trailing attributes, statistics, events */
    assert_int_equal(asc(&r, "Begin Triggerblock Sun Dec 07 11:54:55.123 pm 2025", &f),
                     U2C_LOG_LINE_OTHER);
    assert_int_equal(r.start_us, 1765151695123000LL);
    assert_int_equal(asc(&r,
                         "   1.000001 1  7FF             Tx   d 2 AA BB  Length = 111000 BitCount "
                         "= 57 ID = 2047",
                         &f),
                     U2C_LOG_LINE_FRAME);
    assert_int_equal(f.time_us, 1765151696123001LL);
    assert_int_equal(f.data[1], 0xBB);
    assert_int_equal(asc(&r, "   0.000000 Start of measurement", &f), U2C_LOG_LINE_OTHER);
    assert_int_equal(asc(&r, "   2.000000 1  Statistic: D 0 R 0 XD 0 XR 0 E 0 O 0 B 0.00%", &f),
                     U2C_LOG_LINE_OTHER);
    assert_int_equal(asc(&r, "// version 9.0.0", &f), U2C_LOG_LINE_OTHER);
    assert_int_equal(asc(&r, "End TriggerBlock", &f), U2C_LOG_LINE_OTHER);
    /* decimal base and relative timestamps */
    assert_int_equal(asc(&r, "base dec  timestamps relative", &f), U2C_LOG_LINE_OTHER);
    assert_int_equal(asc(&r, "   0.500000 1  291             Rx   d 2 17 255", &f),
                     U2C_LOG_LINE_FRAME);
    assert_int_equal(f.id, 0x123);
    assert_int_equal(f.data[1], 0xFF);
    assert_int_equal(f.time_us, 1765151696623001LL);
    /* what cannot be a classic CAN frame, or is damaged */
    assert_int_equal(asc(&r, "base hex  timestamps absolute", &f), U2C_LOG_LINE_OTHER);
    static const char *const bad[] = {
        "   0.1 CANFD   1 Rx        123     1 0 8  8 11 22 33 44 55 66 77 88",
        "   0.1 1  123             Rx   d 9 11 22 33 44 55 66 77 88 99",
        "   0.1 1  123             Rx   d 3 11 22",
        "   0.1 1  800             Rx   d 0",
        "   0.1 1  123             Xx   d 0",
        "date Sun Foo 07 11:54:55.123 pm 2025",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char reason[128] = "";
        assert_int_equal(u2c_asc_parse(&r, bad[i], &f, reason, sizeof reason), U2C_LOG_LINE_BAD);
        assert_true(reason[0] != '\0');
    }
}

/* Linux's usb_8dev turns each status record into one error frame. */
static void test_status_messages_become_usb_8dev_error_frames(void **state)
{
    (void)state;
    static const struct {
        unsigned code, rec, tec;
        uint32_t id;
        const char *data;
    } golden[] = {
        {0x00, 0, 0, 0x208, "0000400000000000"},    {0x02, 96, 0, 0x204, "0004000000000060"},
        {0x02, 0, 100, 0x204, "0008000000006400"},  {0x03, 0, 128, 0x204, "0020000000008000"},
        {0x04, 0, 255, 0x040, "0000000000000000"},  {0x20, 5, 0, 0x288, "0000040000000005"},
        {0x21, 5, 0, 0x288, "0000020000000005"},    {0x23, 0, 8, 0x2A8, "0000800000000800"},
        {0x24, 0, 8, 0x288, "0000880000000800"},    {0x25, 0, 8, 0x288, "0000900000000800"},
        {0x27, 0x81, 0, 0x288, "0000000800000001"}, {0x01, 0, 0, 0x204, "0001000000000000"},
    };
    for (size_t i = 0; i < sizeof golden / sizeof golden[0]; i++) {
        canalMsg msg;
        memset(&msg, 0, sizeof msg);
        msg.flags = CANAL_IDFLAG_STATUS;
        msg.id = golden[i].code;
        msg.sizeData = 4;
        msg.data[0] = (unsigned char)golden[i].code;
        msg.data[1] = (unsigned char)golden[i].rec;
        msg.data[2] = (unsigned char)golden[i].tec;
        u2c_log_frame f;
        u2c_status_error_frame(&msg, &f);
        char hex[17];
        for (int b = 0; b < 8; b++)
            snprintf(hex + 2 * b, 3, "%02X", f.data[b]);
        if (f.id != golden[i].id || strcmp(hex, golden[i].data) != 0)
            fail_msg("status 0x%02X: id %03X data %s, expected %03X %s", golden[i].code,
                     (unsigned)f.id, hex, (unsigned)golden[i].id, golden[i].data);
        assert_int_equal(f.kind, U2C_LOG_ERROR);
        assert_int_equal(f.dlc, 8);
    }
}

/* --- drift: ten simulated minutes ------------------------------------------ */

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;
static uint32_t rnd(uint32_t below)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % below);
}

typedef struct drift_result {
    int64_t worst_after_warmup_us; /* |mapped - true| after the first 10 s */
    int64_t last_error_us;
    double drift_ppm;
    unsigned long frames;
} drift_result;

/* Frames end on the bus at host time t; the device stamps them with its
 * (drifting) tick, the host reads them 30 us .. 3 ms later, one in ten after
 * up to 20 ms more (a busy host). The map must give back t. */
static drift_result simulate(int32_t drift_ppb, u8d_flavor flavor, int64_t tick_us)
{
    u8d_model_config cfg;
    if (flavor == U8D_FLAVOR_CANALYZE)
        u8d_model_config_canalyze(&cfg);
    else
        u8d_model_config_vendor(&cfg);
    cfg.crystal_drift_ppb = drift_ppb;
    const uint64_t power_on_ns = 5000000000ull;
    u8d_model *m = u8d_model_create(&cfg, power_on_ns);
    assert_non_null(m);
    u8d_clock device;
    u8d_clock_init(&device, flavor);
    u2c_clock_map map;
    u2c_clock_map_init(&map, tick_us);
    const int64_t wall_at_zero_us = 1765151695000000LL;
    drift_result r = {0, 0, 0.0, 0};
    uint64_t t_ns = power_on_ns + 123456789ull;
    const uint64_t end_ns = t_ns + 600ull * 1000000000ull;
    while (t_ns < end_ns) {
        t_ns += 100000ull + rnd(4000000); /* 0.1 .. 4.1 ms apart */
        unsigned long canal_ts =
            (unsigned long)u8d_clock_to_us(&device, u8d_model_timestamp(m, t_ns));
        int64_t true_us = wall_at_zero_us + (int64_t)(t_ns / 1000u);
        int64_t latency_us = 30 + rnd(3000) + (rnd(10) == 0 ? rnd(20000) : 0);
        int64_t mapped = u2c_clock_map_frame(&map, canal_ts, true_us + latency_us);
        int64_t error = mapped > true_us ? mapped - true_us : true_us - mapped;
        if (t_ns > power_on_ns + 10000000000ull && error > r.worst_after_warmup_us)
            r.worst_after_warmup_us = error;
        r.last_error_us = error;
        r.frames++;
    }
    r.drift_ppm = u2c_clock_map_drift_ppm(&map);
    u8d_model_destroy(m);
    return r;
}

static void test_drift_is_corrected_over_ten_minutes(void **state)
{
    (void)state;
    static const struct {
        int32_t ppb;
        u8d_flavor flavor;
        int64_t tick;
    } cases[] = {
        {100000, U8D_FLAVOR_VENDOR, 992},
        {-100000, U8D_FLAVOR_VENDOR, 992},
        {0, U8D_FLAVOR_VENDOR, 992},
        {100000, U8D_FLAVOR_CANALYZE, 1000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        drift_result r = simulate(cases[i].ppb, cases[i].flavor, cases[i].tick);
        print_message("drift %+.0f ppm (%s): %lu frames, worst error after 10 s %lld us, "
                      "at 10 min %lld us, measured %+.2f ppm\n",
                      cases[i].ppb / 1000.0,
                      cases[i].flavor == U8D_FLAVOR_VENDOR ? "vendor" : "CANalyze", r.frames,
                      (long long)r.worst_after_warmup_us, (long long)r.last_error_us, r.drift_ppm);
        assert_true(r.worst_after_warmup_us < 1000);
        assert_true(r.last_error_us < 1000);
        assert_true(r.drift_ppm > cases[i].ppb / 1000.0 - 2.0);
        assert_true(r.drift_ppm < cases[i].ppb / 1000.0 + 2.0);
    }
}

/* Where unsigned long has 32 bits (Windows), CANAL timestamps wrap after
 * 71.6 minutes; the map carries on across the wrap. */
static void test_timestamp_wrap(void **state)
{
    (void)state;
    u2c_clock_map map;
    u2c_clock_map_init(&map, 992);
    unsigned long ts = (unsigned long)0xFFFFFFFFUL - 1500000UL; /* 1.5 s before the wrap */
    int64_t host = 1765151695000000LL;
    int64_t previous = 0;
    for (int i = 0; i < 3000; i++) {
        int64_t mapped = u2c_clock_map_frame(&map, ts, host + 100);
        assert_true(mapped >= previous);
        assert_true(mapped - host >= 0 && mapped - host < 1000);
        previous = mapped;
        ts += 1000;
        host += 1000;
    }
    assert_int_equal(map.restarts, 0);
    /* A jump of more than a second restarts the estimate instead of bending it. */
    u2c_clock_map_frame(&map, ts + 5000000UL, host);
    assert_int_equal(map.restarts, 1);
}

/* A slow first delivery (the host was busy as the recording started) must
 * not make the start of the recording late: the first second is held until
 * the estimate has seen the prompt deliveries that follow. */
static void test_recorder_slow_start(void **state)
{
    (void)state;
    FILE *file = tmpfile();
    assert_non_null(file);
    u2c_recorder rec;
    assert_true(u2c_recorder_init(&rec, file, U2C_RECORD_CANDUMP, "can0", 992));
    const int64_t wall = 1765151695000000LL;
    enum { N = 400 };
    for (int i = 0; i < N; i++) {
        canalMsg m;
        memset(&m, 0, sizeof m);
        m.id = (unsigned long)i;
        m.sizeData = 1;
        m.data[0] = (unsigned char)i;
        m.timestamp = (unsigned long)(i * 5000 / 992 * 992); /* tick at or before */
        int64_t late = i < 5 ? 8000 - i * 1000 : 40;         /* the first ones 4..8 ms late */
        assert_true(u2c_recorder_take(&rec, &m, wall + i * 5000 + late));
    }
    assert_true(u2c_recorder_finish(&rec, wall + N * 5000));
    rewind(file);
    char line[U2C_LOG_LINE_MAX];
    int64_t worst = 0;
    for (int i = 0; i < N; i++) {
        assert_non_null(fgets(line, sizeof line, file));
        u2c_log_frame f;
        char reason[64];
        assert_int_equal(u2c_candump_parse(line, &f, reason, sizeof reason), U2C_LOG_LINE_FRAME);
        assert_int_equal(f.id, (uint32_t)i);
        int64_t error = f.time_us - (wall + i * 5000);
        if (error < 0)
            error = -error;
        if (error > worst)
            worst = error;
    }
    fclose(file);
    print_message("slow start: worst error %lld us\n", (long long)worst);
    assert_true(worst < 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_candump_lines),
        cmocka_unit_test(test_candump_reading),
        cmocka_unit_test(test_asc_lines),
        cmocka_unit_test(test_asc_reading),
        cmocka_unit_test(test_status_messages_become_usb_8dev_error_frames),
        cmocka_unit_test(test_drift_is_corrected_over_ten_minutes),
        cmocka_unit_test(test_timestamp_wrap),
        cmocka_unit_test(test_recorder_slow_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
