/* CAN bit timing at the 32 MHz clock of the 8devices adapter (contract in
 * u8d_codec.h, "bit timing"). */
#include "u8d_codec.h"

#include <stdio.h>

#define TSEG1_MIN ((unsigned)U8D_TSEG1_MIN)
#define TSEG1_MAX ((unsigned)U8D_TSEG1_MAX)
#define TSEG2_MIN ((unsigned)U8D_TSEG2_MIN)
#define TSEG2_MAX ((unsigned)U8D_TSEG2_MAX)
#define SJW_MIN ((unsigned)U8D_SJW_MIN)
#define SJW_MAX ((unsigned)U8D_SJW_MAX)
#define BRP_MIN ((unsigned)U8D_BRP_MIN)
#define BRP_MAX ((unsigned)U8D_BRP_MAX)
#define TQ_PER_BIT_MIN 8u
#define TQ_PER_BIT_MAX (1u + TSEG1_MAX + TSEG2_MAX)
#define PPM 1000000u
/* CANalyze: the host's brp (for 32 MHz) times 1.5 lands in bxCAN's 10-bit
 * prescaler field (kkuchera/canalyze-fw src/usbd_8dev_if.c ~66 TQ_SCALE,
 * ~255 brp *= TQ_SCALE; HAL_CAN_Init writes Prescaler - 1). */
#define CZ_PRESCALER_MAX 1024u

/* Both cells take the same segment limits; the CANalyze's brp must be even
 * (see u8d_codec.h). */
#define CELL_LIMITS(cell, tseg1_min, brp_min, brp_max, brp_inc)                                    \
    {                                                                                              \
        cell, U8D_CAN_CLOCK_HZ, tseg1_min, U8D_TSEG1_MAX, U8D_TSEG2_MIN, U8D_TSEG2_MAX,            \
            U8D_SJW_MIN, U8D_SJW_MAX, brp_min, brp_max, brp_inc                                    \
    }
static const u8d_bittiming_const vendor_limits = CELL_LIMITS(
    "STR75x C_CAN at 32 MHz (vendor firmware)", U8D_TSEG1_MIN, U8D_BRP_MIN, U8D_BRP_MAX, 1);
static const u8d_bittiming_const canalyze_limits =
    CELL_LIMITS("STM32 bxCAN at 48 MHz, brp scaled by 1.5 (CANalyze)", U8D_CANALYZE_TSEG1_MIN, 2,
                U8D_CANALYZE_BRP_MAX, 2);

const u8d_bittiming_const *u8d_bittiming_limits(u8d_flavor flavor)
{
    return flavor == U8D_FLAVOR_CANALYZE ? &canalyze_limits : &vendor_limits;
}

_Static_assert(PPM % U8D_BITRATE_TOLERANCE_PPM == 0, "tolerance check divides PPM by it");

/* The vendor firmware's table (CanTimings at 32 MHz), all at 87.5 % sample point. */
struct standard_rate {
    unsigned kbps;
    u8d_bittiming bt;
};
static const struct standard_rate standard_rates[] = {
    {10, {13, 2, 1, 200}}, {20, {13, 2, 1, 100}}, {50, {13, 2, 1, 40}},
    {100, {13, 2, 1, 20}}, {125, {13, 2, 1, 16}}, {250, {13, 2, 1, 8}},
    {500, {13, 2, 1, 4}},  {800, {6, 1, 1, 5}},   {1000, {13, 2, 1, 2}},
};

bool u8d_bittiming_standard(unsigned kbps, u8d_bittiming *bt)
{
    if (bt == NULL) {
        return false;
    }
    for (size_t i = 0; i < sizeof standard_rates / sizeof standard_rates[0]; i++) {
        if (standard_rates[i].kbps == kbps) {
            *bt = standard_rates[i].bt;
            return true;
        }
    }
    return false;
}

static u8d_status out_of_range(char *reason, size_t reason_size, const char *field, unsigned value,
                               unsigned min, unsigned max)
{
    if (reason != NULL && reason_size > 0) {
        snprintf(reason, reason_size, "%s %u out of range %u..%u", field, value, min, max);
    }
    return U8D_ERR_RANGE;
}

/* The field ranges with tseg1 from tseg1_min; brp within what the wire
 * carries (a CANalyze's even-brp rule is checked apart, with its own
 * reason). */
static u8d_status check_fields(unsigned tseg1_min, const u8d_bittiming *bt, char *reason,
                               size_t reason_size)
{
    if (bt == NULL) {
        if (reason != NULL && reason_size > 0) {
            snprintf(reason, reason_size, "no bit timing given");
        }
        return U8D_ERR_ARG;
    }
    if (bt->tseg1 < tseg1_min || bt->tseg1 > TSEG1_MAX) {
        return out_of_range(reason, reason_size, "tseg1", bt->tseg1, tseg1_min, TSEG1_MAX);
    }
    if (bt->tseg2 < TSEG2_MIN || bt->tseg2 > TSEG2_MAX) {
        return out_of_range(reason, reason_size, "tseg2", bt->tseg2, TSEG2_MIN, TSEG2_MAX);
    }
    if (bt->sjw < SJW_MIN || bt->sjw > SJW_MAX) {
        return out_of_range(reason, reason_size, "sjw", bt->sjw, SJW_MIN, SJW_MAX);
    }
    if (bt->sjw > bt->tseg2) {
        /* A resync jump longer than phase segment 2 would skip the sample point. */
        return out_of_range(reason, reason_size, "sjw", bt->sjw, SJW_MIN, bt->tseg2);
    }
    if (bt->brp < BRP_MIN || bt->brp > BRP_MAX) {
        return out_of_range(reason, reason_size, "brp", bt->brp, BRP_MIN, BRP_MAX);
    }
    return U8D_OK;
}

u8d_status u8d_bittiming_check(const u8d_bittiming *bt, char *reason, size_t reason_size)
{
    return check_fields(vendor_limits.tseg1_min, bt, reason, reason_size);
}

u8d_status u8d_bittiming_check_any(const u8d_bittiming *bt, char *reason, size_t reason_size)
{
    unsigned lowest = vendor_limits.tseg1_min < canalyze_limits.tseg1_min
                          ? vendor_limits.tseg1_min
                          : canalyze_limits.tseg1_min;
    return check_fields(lowest, bt, reason, reason_size);
}

uint32_t u8d_bittiming_bitrate(const u8d_bittiming *bt)
{
    if (bt == NULL || bt->brp == 0) {
        return 0;
    }
    uint32_t divisor = (uint32_t)bt->brp * (1u + bt->tseg1 + bt->tseg2);
    return (U8D_CAN_CLOCK_HZ + divisor / 2) / divisor;
}

/* One way to split a bit into tq: brp, tq per bit and phase segment 2.
 * Errors are kept as exact fractions so ties are real ties:
 * rate error = rate_err / (bitrate * divisor), sample-point distance from
 * 87.5 % = sp_err / (8 * tq). */
struct candidate {
    uint32_t brp;
    uint32_t tq;
    uint32_t tseg2;
    uint64_t rate_err; /* |clock - bitrate * brp * tq| */
    uint32_t sp_err;   /* |tq - 8 * tseg2| */
};

static uint32_t abs_diff_u32(uint32_t a, uint32_t b)
{
    return a > b ? a - b : b - a;
}

static uint64_t abs_diff_u64(uint64_t a, uint64_t b)
{
    return a > b ? a - b : b - a;
}

/* The phase segment 2 giving the sample point nearest 87.5 % for `tq` tq per
 * bit within the segment limits; on a tie the earlier sample point. */
static uint32_t best_tseg2(uint32_t tq)
{
    uint32_t lo = tq > 1u + TSEG1_MAX + TSEG2_MIN ? tq - 1u - TSEG1_MAX : TSEG2_MIN;
    uint32_t hi = tq - 1u - TSEG1_MIN < TSEG2_MAX ? tq - 1u - TSEG1_MIN : TSEG2_MAX;
    uint32_t best = lo;
    for (uint32_t t2 = lo; t2 <= hi; t2++) {
        if (abs_diff_u32(tq, 8u * t2) <= abs_diff_u32(tq, 8u * best)) {
            best = t2;
        }
    }
    return best;
}

static bool better(const struct candidate *a, const struct candidate *b)
{
    /* a.rate_err / a.divisor < b.rate_err / b.divisor (bitrate cancels out). */
    uint64_t lhs = a->rate_err * ((uint64_t)b->brp * b->tq);
    uint64_t rhs = b->rate_err * ((uint64_t)a->brp * a->tq);
    if (lhs != rhs) {
        return lhs < rhs;
    }
    return (uint64_t)a->sp_err * b->tq < (uint64_t)b->sp_err * a->tq;
}

static uint32_t error_ppm_of(const struct candidate *c, uint32_t bitrate)
{
    uint64_t nominal = (uint64_t)bitrate * c->brp * c->tq;
    if (c->rate_err > UINT64_MAX / PPM) {
        /* Only for absurd rates; the exact value no longer matters there. */
        double ppm = (double)c->rate_err * PPM / (double)nominal;
        return ppm >= (double)UINT32_MAX ? UINT32_MAX : (uint32_t)(ppm + 0.5);
    }
    uint64_t ppm = (c->rate_err * PPM + nominal / 2) / nominal;
    return ppm > UINT32_MAX ? UINT32_MAX : (uint32_t)ppm;
}

uint32_t u8d_canalyze_brp(uint16_t brp)
{
    uint32_t scaled = (uint32_t)brp * 3u / 2u; /* brp *= 1.5 into a uint16, truncated */
    if (scaled == 0)
        return 0;
    return ((scaled - 1u) & (CZ_PRESCALER_MAX - 1u)) + 1u; /* Prescaler - 1 in 10 bits */
}

uint32_t u8d_bittiming_bitrate_on(u8d_flavor flavor, const u8d_bittiming *bt)
{
    if (flavor != U8D_FLAVOR_CANALYZE)
        return u8d_bittiming_bitrate(bt);
    if (bt == NULL || bt->brp == 0)
        return 0;
    uint32_t divisor = u8d_canalyze_brp(bt->brp) * (1u + bt->tseg1 + bt->tseg2);
    return (U8D_CANALYZE_CLOCK_HZ + divisor / 2) / divisor;
}

static bool brp_exact_on(u8d_flavor flavor, uint32_t brp)
{
    const u8d_bittiming_const *limits = u8d_bittiming_limits(flavor);
    return brp >= limits->brp_min && brp <= limits->brp_max &&
           (brp - limits->brp_min) % limits->brp_inc == 0;
}

u8d_status u8d_bittiming_check_on(u8d_flavor flavor, const u8d_bittiming *bt, char *reason,
                                  size_t reason_size)
{
    u8d_status st = check_fields(u8d_bittiming_limits(flavor)->tseg1_min, bt, reason, reason_size);
    if (st != U8D_OK || brp_exact_on(flavor, bt->brp))
        return st;
    if (reason != NULL && reason_size > 0)
        snprintf(reason, reason_size,
                 "brp %u: a CANalyze clocks CAN at 48 MHz and scales brp by 1.5, truncating, so "
                 "this timing would run at %u bit/s instead of %u; it reproduces only an even "
                 "brp of at most %u",
                 (unsigned)bt->brp, (unsigned)u8d_bittiming_bitrate_on(flavor, bt),
                 (unsigned)u8d_bittiming_bitrate(bt), (unsigned)U8D_CANALYZE_BRP_MAX);
    return U8D_ERR_RANGE;
}

u8d_status u8d_bittiming_compute(uint32_t bitrate, u8d_bittiming *bt, uint32_t *error_ppm)
{
    return u8d_bittiming_compute_on(U8D_FLAVOR_VENDOR, bitrate, bt, error_ppm);
}

u8d_status u8d_bittiming_compute_on(u8d_flavor flavor, uint32_t bitrate, u8d_bittiming *bt,
                                    uint32_t *error_ppm)
{
    if (bt == NULL) {
        return U8D_ERR_ARG;
    }
    if (bitrate == 0) {
        if (error_ppm != NULL) {
            *error_ppm = UINT32_MAX;
        }
        return U8D_ERR_RANGE;
    }
    struct candidate best = {0, 0, 0, 0, 0};
    /* More tq per bit first: on a full tie the finer resolution stays. */
    for (uint32_t tq = TQ_PER_BIT_MAX; tq >= TQ_PER_BIT_MIN; tq--) {
        uint32_t tseg2 = best_tseg2(tq);
        for (uint32_t brp = BRP_MIN; brp <= BRP_MAX; brp++) {
            if (!brp_exact_on(flavor, brp))
                continue;
            struct candidate c = {brp, tq, tseg2, 0, abs_diff_u32(tq, 8u * tseg2)};
            c.rate_err = abs_diff_u64(U8D_CAN_CLOCK_HZ, (uint64_t)bitrate * brp * tq);
            if (best.brp == 0 || better(&c, &best)) {
                best = c;
            }
        }
    }
    bt->tseg1 = (uint8_t)(best.tq - 1u - best.tseg2);
    bt->tseg2 = (uint8_t)best.tseg2;
    bt->sjw = 1;
    bt->brp = (uint16_t)best.brp;
    if (error_ppm != NULL) {
        *error_ppm = error_ppm_of(&best, bitrate);
    }
    /* error <= tolerance, as rate_err / nominal <= tolerance / PPM without overflow:
     * rate_err and nominal stay below 2^47, PPM / tolerance is a whole 200. */
    uint64_t nominal = (uint64_t)bitrate * best.brp * best.tq;
    bool within = best.rate_err * (PPM / U8D_BITRATE_TOLERANCE_PPM) <= nominal;
    return within ? U8D_OK : U8D_ERR_RANGE;
}

/* python-can sends bitrate // 1000; these rates lose their fraction that way. */
static uint32_t bitrate_for_kbps(unsigned kbps)
{
    switch (kbps) {
    case 33:
        return 33333;
    case 62:
        return 62500;
    case 83:
        return 83333;
    default:
        return kbps * 1000u;
    }
}

static void format_ppm(uint32_t ppm, char *out, size_t out_size)
{
    snprintf(out, out_size, "%u.%02u %%", (unsigned)(ppm / 10000u),
             (unsigned)((ppm % 10000u) / 100u));
}

static u8d_status refuse_rate(u8d_flavor flavor, uint32_t wanted, const u8d_bittiming *nearest,
                              uint32_t error_ppm, char *reason, size_t reason_size)
{
    if (reason == NULL || reason_size == 0)
        return U8D_ERR_RANGE;
    char off[32] = "an unknown amount";
    if (error_ppm != UINT32_MAX)
        format_ppm(error_ppm, off, sizeof off);
    char best[64] = " is";
    if (nearest->brp != 0)
        snprintf(best, sizeof best, " is %u bit/s,", (unsigned)u8d_bittiming_bitrate(nearest));
    const char *clock = flavor == U8D_FLAVOR_CANALYZE
                            ? "a CANalyze's 48 MHz CAN clock (even brp only)"
                            : "the 32 MHz CAN clock";
    snprintf(reason, reason_size,
             "%u bit/s cannot be made from %s within 0.50 %%: the nearest timing%s off by %s; "
             "use a standard rate or kbps 0 with tseg1;tseg2;sjw;brp",
             (unsigned)wanted, clock, best, off);
    return U8D_ERR_RANGE;
}

u8d_status u8d_bittiming_for_kbps(unsigned long kbps, u8d_bittiming *bt, uint32_t *bitrate,
                                  uint32_t *error_ppm, char *reason, size_t reason_size)
{
    return u8d_bittiming_for_kbps_on(U8D_FLAVOR_VENDOR, kbps, bt, bitrate, error_ppm, reason,
                                     reason_size);
}

u8d_status u8d_bittiming_for_kbps_on(u8d_flavor flavor, unsigned long kbps, u8d_bittiming *bt,
                                     uint32_t *bitrate, uint32_t *error_ppm, char *reason,
                                     size_t reason_size)
{
    if (reason != NULL && reason_size > 0)
        reason[0] = '\0';
    if (bt == NULL || bitrate == NULL || error_ppm == NULL)
        return U8D_ERR_ARG;
    if (kbps == 0 || kbps > U8D_MAX_KBPS) {
        if (reason != NULL && reason_size > 0)
            snprintf(reason, reason_size,
                     kbps == 0 ? "kbps 0 means manual timing (tseg1;tseg2;sjw;brp), not a rate"
                               : "%lu kbit/s is above CAN's maximum of 1000 kbit/s",
                     kbps);
        return U8D_ERR_RANGE;
    }
    u8d_bittiming table;
    if (u8d_bittiming_standard((unsigned)kbps, &table) && brp_exact_on(flavor, table.brp)) {
        *bt = table;
        *bitrate = u8d_bittiming_bitrate(bt);
        *error_ppm = 0;
        return U8D_OK;
    }
    /* Other rates, and on a CANalyze a table rate with an odd brp (800k). */
    uint32_t wanted = bitrate_for_kbps((unsigned)kbps);
    uint32_t ppm = UINT32_MAX;
    u8d_bittiming nearest = {0, 0, 0, 0};
    u8d_status st = u8d_bittiming_compute_on(flavor, wanted, &nearest, &ppm);
    if (st != U8D_OK || ppm > U8D_BITRATE_TOLERANCE_PPM)
        return refuse_rate(flavor, wanted, &nearest, ppm, reason, reason_size);
    *bt = nearest;
    *bitrate = u8d_bittiming_bitrate(bt);
    *error_ppm = ppm;
    return U8D_OK;
}
