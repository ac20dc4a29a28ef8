/* Bit timing at the adapter's 32 MHz CAN clock: the vendor firmware table,
 * range checks at every boundary, and the search for other rates. Expected
 * values were worked out by hand from 32 MHz / (brp * (1 + tseg1 + tseg2)). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "u8d_codec.h"

struct table_row {
    unsigned kbps;
    uint8_t tseg1, tseg2, sjw;
    uint16_t brp;
};

/* docs/protocol.md (bit timing): firmware 1.7 CanTimings at 32 MHz; all 87.5 % sample point. */
static const struct table_row vendor_table[] = {
    {10, 13, 2, 1, 200}, {20, 13, 2, 1, 100}, {50, 13, 2, 1, 40},
    {100, 13, 2, 1, 20}, {125, 13, 2, 1, 16}, {250, 13, 2, 1, 8},
    {500, 13, 2, 1, 4},  {800, 6, 1, 1, 5},   {1000, 13, 2, 1, 2},
};
#define TABLE_ROWS (sizeof vendor_table / sizeof vendor_table[0])

static void assert_timing(const u8d_bittiming *bt, uint8_t tseg1, uint8_t tseg2, uint8_t sjw,
                          uint16_t brp)
{
    assert_int_equal(bt->tseg1, tseg1);
    assert_int_equal(bt->tseg2, tseg2);
    assert_int_equal(bt->sjw, sjw);
    assert_int_equal(bt->brp, brp);
}

static void test_standard_table_values_and_rates(void **state)
{
    (void)state;
    for (size_t i = 0; i < TABLE_ROWS; i++) {
        const struct table_row *row = &vendor_table[i];
        u8d_bittiming bt = {0, 0, 0, 0};
        assert_true(u8d_bittiming_standard(row->kbps, &bt));
        assert_timing(&bt, row->tseg1, row->tseg2, row->sjw, row->brp);
        assert_int_equal(u8d_bittiming_bitrate(&bt), row->kbps * 1000u);
        assert_int_equal(u8d_bittiming_check(&bt, NULL, 0), U8D_OK);
        /* 87.5 % sample point: (1 + tseg1) / (1 + tseg1 + tseg2) = 7 / 8. */
        assert_int_equal(8u * (1u + bt.tseg1), 7u * (1u + bt.tseg1 + bt.tseg2));
    }
}

static void test_standard_refuses_other_rates(void **state)
{
    (void)state;
    const unsigned others[] = {0, 5, 33, 83, 200, 400, 666, 999, 1001, 2000};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        u8d_bittiming bt = {7, 7, 7, 7};
        assert_false(u8d_bittiming_standard(others[i], &bt));
        assert_timing(&bt, 7, 7, 7, 7);
    }
    assert_false(u8d_bittiming_standard(500, NULL));
}

static void expect_refused(u8d_bittiming bt, const char *want_reason)
{
    char reason[96];
    memset(reason, 0, sizeof reason);
    assert_int_equal(u8d_bittiming_check(&bt, reason, sizeof reason), U8D_ERR_RANGE);
    assert_string_equal(reason, want_reason);
}

static void test_check_boundaries(void **state)
{
    (void)state;
    const u8d_bittiming ok[] = {
        {2, 1, 1, 1}, {16, 8, 4, 1024}, {16, 1, 1, 1}, {2, 8, 4, 1}, {13, 2, 2, 4},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(u8d_bittiming_check(&ok[i], NULL, 0), U8D_OK);
    }
    expect_refused((u8d_bittiming){0, 2, 1, 4}, "tseg1 0 out of range 2..16");
    /* C_CAN needs tseg1 >= 2 (Linux c_can: tseg1_min 2). */
    expect_refused((u8d_bittiming){1, 2, 1, 4}, "tseg1 1 out of range 2..16");
    expect_refused((u8d_bittiming){17, 2, 1, 4}, "tseg1 17 out of range 2..16");
    expect_refused((u8d_bittiming){13, 0, 1, 4}, "tseg2 0 out of range 1..8");
    expect_refused((u8d_bittiming){13, 9, 1, 4}, "tseg2 9 out of range 1..8");
    expect_refused((u8d_bittiming){13, 8, 0, 4}, "sjw 0 out of range 1..4");
    expect_refused((u8d_bittiming){13, 8, 5, 4}, "sjw 5 out of range 1..4");
    expect_refused((u8d_bittiming){13, 2, 3, 4}, "sjw 3 out of range 1..2");
    expect_refused((u8d_bittiming){13, 2, 1, 0}, "brp 0 out of range 1..1024");
    expect_refused((u8d_bittiming){13, 2, 1, 1025}, "brp 1025 out of range 1..1024");
}

/* tseg1 1: the CANalyze's bxCAN takes it, the vendor's C_CAN does not; the
 * setup string (any firmware) takes it. */
static void test_tseg1_of_one_per_firmware(void **state)
{
    (void)state;
    u8d_bittiming one = {1, 2, 1, 16};
    char reason[96] = "";
    assert_int_equal(u8d_bittiming_check_on(U8D_FLAVOR_CANALYZE, &one, NULL, 0), U8D_OK);
    assert_int_equal(u8d_bittiming_check_any(&one, NULL, 0), U8D_OK);
    assert_int_equal(u8d_bittiming_check_on(U8D_FLAVOR_VENDOR, &one, reason, sizeof reason),
                     U8D_ERR_RANGE);
    assert_string_equal(reason, "tseg1 1 out of range 2..16");
    u8d_bittiming zero = {0, 2, 1, 16};
    assert_int_equal(u8d_bittiming_check_any(&zero, reason, sizeof reason), U8D_ERR_RANGE);
    assert_string_equal(reason, "tseg1 0 out of range 1..16");
    assert_int_equal(u8d_bittiming_limits(U8D_FLAVOR_CANALYZE)->tseg1_min, 1);
    assert_int_equal(u8d_bittiming_limits(U8D_FLAVOR_VENDOR)->tseg1_min, 2);
}

static void test_check_reason_is_optional_and_truncated(void **state)
{
    (void)state;
    u8d_bittiming bad = {0, 2, 1, 4};
    assert_int_equal(u8d_bittiming_check(&bad, NULL, 0), U8D_ERR_RANGE);
    char tiny[6];
    memset(tiny, 'x', sizeof tiny);
    assert_int_equal(u8d_bittiming_check(&bad, tiny, sizeof tiny), U8D_ERR_RANGE);
    assert_string_equal(tiny, "tseg1");
    char reason[64];
    assert_int_equal(u8d_bittiming_check(NULL, reason, sizeof reason), U8D_ERR_ARG);
    assert_true(strlen(reason) > 0);
}

struct computed {
    uint32_t bitrate;
    uint8_t tseg1, tseg2;
    uint16_t brp;
    uint32_t ppm;
    uint32_t actual;
};

static void test_compute_other_rates(void **state)
{
    (void)state;
    const struct computed cases[] = {
        /* 32 MHz / 33333 = 960.01 = brp 60 * 16 tq: 33333.33 bit/s, +10 ppm. Also
         * 40 * 24 tq would give the same rate, but 24 tq cannot place the sample
         * point at 87.5 % with tseg1 <= 16. */
        {33333, 13, 2, 60, 10, 33333},     {62500, 13, 2, 32, 0, 62500}, /* 512 = 32 * 16 */
        {83333, 13, 2, 24, 4, 83333},      /* 384 = 24 * 16: 83333.33 */
        {47619, 13, 2, 42, 1, 47619},      /* 672 = 42 * 16: 47619.05 */
        {95238, 13, 2, 21, 1, 95238},      /* 336 = 21 * 16 */
        {4020000, 6, 1, 1, 4975, 4000000}, /* fastest possible, just within 0.5 % */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        u8d_bittiming bt = {0, 0, 0, 0};
        uint32_t ppm = 12345;
        assert_int_equal(u8d_bittiming_compute(cases[i].bitrate, &bt, &ppm), U8D_OK);
        assert_timing(&bt, cases[i].tseg1, cases[i].tseg2, 1, cases[i].brp);
        assert_int_equal(ppm, cases[i].ppm);
        assert_int_equal(u8d_bittiming_bitrate(&bt), cases[i].actual);
        assert_int_equal(u8d_bittiming_check(&bt, NULL, 0), U8D_OK);
    }
}

/* Every standard rate computes to the firmware table byte for byte. 800k is
 * the interesting one: 40 = brp 2 * 20 tq (85 % at best, tseg1 <= 16) and
 * brp 5 * 8 tq (87.5 %) are both exact; the sample point decides. 500k:
 * brp 4 * 16 tq and brp 8 * 8 tq are both exact at 87.5 %; more tq wins. */
static void test_compute_reproduces_the_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < TABLE_ROWS; i++) {
        const struct table_row *row = &vendor_table[i];
        u8d_bittiming bt;
        uint32_t ppm = 1;
        assert_int_equal(u8d_bittiming_compute(row->kbps * 1000u, &bt, &ppm), U8D_OK);
        assert_int_equal(ppm, 0);
        assert_timing(&bt, row->tseg1, row->tseg2, row->sjw, row->brp);
    }
}

static void test_compute_refuses_unreachable_rates(void **state)
{
    (void)state;
    u8d_bittiming bt;
    uint32_t ppm = 0;
    /* Best is brp 1 * 9 tq = 3555556 bit/s, 1.587 % off. */
    assert_int_equal(u8d_bittiming_compute(3500000, &bt, &ppm), U8D_ERR_RANGE);
    assert_int_equal(ppm, 15873);
    assert_timing(&bt, 7, 1, 1, 1);
    /* The lowest unreachable rate: the nearest is brp 22 * 18 tq = 80808 bit/s,
     * 5010 ppm below; one bit/s less (81214) is 4998 ppm and accepted. */
    assert_int_equal(u8d_bittiming_compute(81215, &bt, &ppm), U8D_ERR_RANGE);
    assert_int_equal(ppm, 5010);
    assert_timing(&bt, 15, 2, 1, 22);
    assert_int_equal(u8d_bittiming_compute(81214, &bt, &ppm), U8D_OK);
    assert_int_equal(ppm, 4998);
    /* Just outside 0.5 %: 4 Mbit/s is 5222.6 ppm below 4.021 Mbit/s. */
    assert_int_equal(u8d_bittiming_compute(4021000, &bt, &ppm), U8D_ERR_RANGE);
    assert_int_equal(ppm, 5223);
    /* Above the clock's reach (8 tq of 31.25 ns at most 4 Mbit/s). */
    assert_int_equal(u8d_bittiming_compute(5000000, &bt, &ppm), U8D_ERR_RANGE);
    assert_int_equal(ppm, 200000);
    /* Below it: brp 1024 * 25 tq = 1250 bit/s is the slowest. */
    assert_int_equal(u8d_bittiming_compute(1000, &bt, &ppm), U8D_ERR_RANGE);
    assert_int_equal(ppm, 250000);
    assert_timing(&bt, 16, 8, 1, 1024);
    assert_int_equal(u8d_bittiming_compute(UINT32_MAX, &bt, &ppm), U8D_ERR_RANGE);
    assert_int_equal(ppm, 999069);
}

/* Over a sweep of rates: the result is always a valid timing, the reported
 * error is the real one, and success means within 0.5 %. */
static void test_compute_sweep_invariants(void **state)
{
    (void)state;
    unsigned accepted = 0, refused = 0;
    for (uint32_t rate = 1250; rate <= 4100000; rate += 9973) {
        u8d_bittiming bt;
        uint32_t ppm = UINT32_MAX;
        u8d_status st = u8d_bittiming_compute(rate, &bt, &ppm);
        assert_int_equal(u8d_bittiming_check(&bt, NULL, 0), U8D_OK);
        assert_int_equal(bt.sjw, 1);
        unsigned tq = 1u + bt.tseg1 + bt.tseg2;
        assert_true(tq >= 8 && tq <= 25);
        double actual = 32e6 / ((double)bt.brp * tq);
        double real_ppm = (actual > rate ? actual - rate : rate - actual) * 1e6 / rate;
        assert_true(ppm <= real_ppm + 0.5 && (double)ppm + 0.5 >= real_ppm);
        if (rate <= 81214) {
            assert_int_equal(st, U8D_OK);
        }
        if (st == U8D_OK) {
            assert_true(real_ppm <= 5000.0);
            accepted++;
        } else {
            assert_int_equal(st, U8D_ERR_RANGE);
            assert_true(real_ppm > 5000.0);
            refused++;
        }
    }
    /* Every rate from 1250 to 81214 bit/s is reachable within 0.5 % (an
     * exhaustive scan showed 81215 to be the first that is not); above, the
     * few tq-per-bit choices at 32 MHz leave gaps. */
    assert_true(accepted > 0);
    assert_true(refused > 0);
}

static void test_compute_bad_arguments(void **state)
{
    (void)state;
    u8d_bittiming bt = {7, 7, 7, 7};
    uint32_t ppm = 0;
    assert_int_equal(u8d_bittiming_compute(0, &bt, &ppm), U8D_ERR_RANGE);
    assert_int_equal(ppm, UINT32_MAX);
    assert_timing(&bt, 7, 7, 7, 7);
    assert_int_equal(u8d_bittiming_compute(500000, NULL, &ppm), U8D_ERR_ARG);
    assert_int_equal(u8d_bittiming_compute(500000, &bt, NULL), U8D_OK);
    assert_timing(&bt, 13, 2, 1, 4);
}

static void test_bitrate_of_degenerate_timings(void **state)
{
    (void)state;
    assert_int_equal(u8d_bittiming_bitrate(NULL), 0);
    u8d_bittiming zero_brp = {13, 2, 1, 0};
    assert_int_equal(u8d_bittiming_bitrate(&zero_brp), 0);
    u8d_bittiming fastest = {1, 1, 1, 1};
    assert_int_equal(u8d_bittiming_bitrate(&fastest), 10666667);
    u8d_bittiming slowest = {16, 8, 4, 1024};
    assert_int_equal(u8d_bittiming_bitrate(&slowest), 1250);
}

/* A CANalyze scales brp by 1.5 at 48 MHz (kkuchera/canalyze-fw
 * src/usbd_8dev_if.c ~255): every standard rate gets an even brp and runs
 * exactly at its rate there; this is the README's CANalyze column. */
static void test_canalyze_timing_for_every_standard_rate(void **state)
{
    (void)state;
    const struct {
        unsigned kbps;
        u8d_bittiming bt;
    } cz[] = {
        {10, {13, 2, 1, 200}}, {20, {13, 2, 1, 100}}, {50, {13, 2, 1, 40}},
        {100, {13, 2, 1, 20}}, {125, {13, 2, 1, 16}}, {250, {13, 2, 1, 8}},
        {500, {13, 2, 1, 4}},  {800, {16, 3, 1, 2}},  {1000, {13, 2, 1, 2}},
    };
    for (size_t i = 0; i < sizeof cz / sizeof cz[0]; i++) {
        u8d_bittiming bt = {0, 0, 0, 0};
        uint32_t rate = 0, ppm = 99;
        char reason[200];
        assert_int_equal(u8d_bittiming_for_kbps_on(U8D_FLAVOR_CANALYZE, cz[i].kbps, &bt, &rate,
                                                   &ppm, reason, sizeof reason),
                         U8D_OK);
        assert_timing(&bt, cz[i].bt.tseg1, cz[i].bt.tseg2, cz[i].bt.sjw, cz[i].bt.brp);
        assert_int_equal(rate, cz[i].kbps * 1000u);
        assert_int_equal(ppm, 0);
        assert_int_equal(u8d_bittiming_bitrate_on(U8D_FLAVOR_CANALYZE, &bt), cz[i].kbps * 1000u);
        assert_int_equal(u8d_bittiming_check_on(U8D_FLAVOR_CANALYZE, &bt, NULL, 0), U8D_OK);
    }
    /* The vendor flavour keeps the table, 800k included. */
    u8d_bittiming bt;
    uint32_t rate, ppm;
    assert_int_equal(u8d_bittiming_for_kbps_on(U8D_FLAVOR_VENDOR, 800, &bt, &rate, &ppm, NULL, 0),
                     U8D_OK);
    assert_timing(&bt, 6, 1, 1, 5);
}

static void test_canalyze_brp_scaling_and_refusals(void **state)
{
    (void)state;
    assert_int_equal(u8d_canalyze_brp(4), 6);
    assert_int_equal(u8d_canalyze_brp(5), 7); /* 7.5 truncated */
    assert_int_equal(u8d_canalyze_brp(682), 1023);
    assert_int_equal(u8d_canalyze_brp(683), 1024);
    assert_int_equal(u8d_canalyze_brp(684), 2); /* 1026 - 1 wraps in 10 bits */
    assert_int_equal(u8d_canalyze_brp(0), 0);
    const u8d_bittiming table_800k = {6, 1, 1, 5};
    assert_int_equal(u8d_bittiming_bitrate_on(U8D_FLAVOR_CANALYZE, &table_800k), 857143);
    assert_int_equal(u8d_bittiming_bitrate_on(U8D_FLAVOR_VENDOR, &table_800k), 800000);
    char reason[256] = "";
    assert_int_equal(
        u8d_bittiming_check_on(U8D_FLAVOR_CANALYZE, &table_800k, reason, sizeof reason),
        U8D_ERR_RANGE);
    assert_non_null(strstr(reason, "857143 bit/s instead of 800000"));
    assert_int_equal(u8d_bittiming_check_on(U8D_FLAVOR_VENDOR, &table_800k, NULL, 0), U8D_OK);
    const u8d_bittiming too_big = {13, 2, 1, 684};
    assert_int_equal(u8d_bittiming_check_on(U8D_FLAVOR_CANALYZE, &too_big, NULL, 0), U8D_ERR_RANGE);
    /* 970 kbit/s: brp 3 x 11 tq on the vendor's clock; no even brp comes
     * within 0.5 %, so a CANalyze refuses it and names the nearest. */
    u8d_bittiming bt;
    uint32_t rate, ppm;
    assert_int_equal(u8d_bittiming_for_kbps_on(U8D_FLAVOR_VENDOR, 970, &bt, &rate, &ppm, NULL, 0),
                     U8D_OK);
    assert_int_equal(bt.brp % 2, 1);
    assert_int_equal(u8d_bittiming_for_kbps_on(U8D_FLAVOR_CANALYZE, 970, &bt, &rate, &ppm, reason,
                                               sizeof reason),
                     U8D_ERR_RANGE);
    assert_non_null(strstr(reason, "CANalyze"));
    print_message("%s\n", reason);
    assert_non_null(strstr(reason, "nearest timing is 941176 bit/s"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_standard_table_values_and_rates),
        cmocka_unit_test(test_standard_refuses_other_rates),
        cmocka_unit_test(test_check_boundaries),
        cmocka_unit_test(test_tseg1_of_one_per_firmware),
        cmocka_unit_test(test_check_reason_is_optional_and_truncated),
        cmocka_unit_test(test_compute_other_rates),
        cmocka_unit_test(test_compute_reproduces_the_table),
        cmocka_unit_test(test_compute_refuses_unreachable_rates),
        cmocka_unit_test(test_compute_sweep_invariants),
        cmocka_unit_test(test_compute_bad_arguments),
        cmocka_unit_test(test_bitrate_of_degenerate_timings),
        cmocka_unit_test(test_canalyze_timing_for_every_standard_rate),
        cmocka_unit_test(test_canalyze_brp_scaling_and_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
