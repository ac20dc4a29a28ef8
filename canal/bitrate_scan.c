/* Bit-rate scan; contract in bitrate_scan.h. */
#include "bitrate_scan.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "canal.h"
#include "cfg_parse.h"
#include "last_error.h"
#include "osal.h"

#define CAN_CLOCK_HZ 32000000ull
#define MAX_RATE_ERROR_PPM 5000ull
#define DEFAULT_DWELL_MS 500ul
#define DEFAULT_SAMPLE_POINT 875ul
#define SCAN_FLAGS 0x09ul /* silent, status messages */

static const unsigned long default_rates[] = {
    500000, 250000, 125000, 1000000, 100000, 83333, 50000,
    33333,  800000, 95238,  62500,   47619,  20000, 10000,
};

typedef struct candidate {
    uint64_t rate_error_ppm;
    unsigned odd_brp;
    unsigned sample_point_error;
    unsigned quanta;
    unsigned tseg1, tseg2, brp;
} candidate;

static bool better(const candidate *a, const candidate *b)
{
    if (a->rate_error_ppm != b->rate_error_ppm)
        return a->rate_error_ppm < b->rate_error_ppm;
    if (a->odd_brp != b->odd_brp)
        return a->odd_brp < b->odd_brp;
    if (a->sample_point_error != b->sample_point_error)
        return a->sample_point_error < b->sample_point_error;
    return a->quanta > b->quanta;
}

static void consider(unsigned long bitrate, unsigned long sp, unsigned quanta, uint64_t brp,
                     candidate *best, bool *found)
{
    if (brp < 1 || brp > 1024)
        return;
    /* tseg1 from 2 to 16, tseg2 from 1 to 8 (the C_CAN cell's limits). */
    unsigned sync_and_tseg1 = (unsigned)((sp * quanta + 500u) / 1000u);
    if (sync_and_tseg1 < 3)
        sync_and_tseg1 = 3;
    if (sync_and_tseg1 > 17)
        sync_and_tseg1 = 17;
    if (sync_and_tseg1 > quanta - 1)
        sync_and_tseg1 = quanta - 1;
    unsigned tseg1 = sync_and_tseg1 - 1, tseg2 = quanta - sync_and_tseg1;
    if (tseg2 < 1 || tseg2 > 8)
        return;
    uint64_t actual_milli = CAN_CLOCK_HZ * 1000ull / (brp * quanta);
    uint64_t wanted_milli = (uint64_t)bitrate * 1000ull;
    uint64_t diff =
        actual_milli > wanted_milli ? actual_milli - wanted_milli : wanted_milli - actual_milli;
    unsigned sp_actual = (1000u * sync_and_tseg1 + quanta / 2u) / quanta;
    candidate c = {
        .rate_error_ppm = diff * 1000000ull / wanted_milli,
        .odd_brp = (unsigned)(brp & 1u),
        .sample_point_error = sp_actual > sp ? sp_actual - (unsigned)sp : (unsigned)sp - sp_actual,
        .quanta = quanta,
        .tseg1 = tseg1,
        .tseg2 = tseg2,
        .brp = (unsigned)brp,
    };
    if (!*found || better(&c, best)) {
        *best = c;
        *found = true;
    }
}

bool u2c_scan_timing(unsigned long bitrate, unsigned long sample_point_permille,
                     usb2canScanResult *out)
{
    if (bitrate < 1000 || bitrate > 1000000 || sample_point_permille < 500 ||
        sample_point_permille > 950)
        return false;
    candidate best;
    bool found = false;
    for (unsigned quanta = 8; quanta <= 25; quanta++) {
        uint64_t exact_times_quanta = (uint64_t)bitrate * quanta;
        uint64_t brp = CAN_CLOCK_HZ / exact_times_quanta;
        consider(bitrate, sample_point_permille, quanta, brp, &best, &found);
        consider(bitrate, sample_point_permille, quanta, brp + 1, &best, &found);
    }
    if (!found || best.rate_error_ppm > MAX_RATE_ERROR_PPM)
        return false;
    memset(out, 0, sizeof *out);
    uint64_t divisor = (uint64_t)best.brp * (1u + best.tseg1 + best.tseg2);
    out->bitrate = (unsigned long)((CAN_CLOCK_HZ + divisor / 2u) / divisor);
    out->sample_point = (1000u * (1u + best.tseg1) + best.quanta / 2u) / best.quanta;
    out->tseg1 = best.tseg1;
    out->tseg2 = best.tseg2;
    out->sjw = 1;
    out->brp = best.brp;
    return true;
}

/* "serial[;key=value...]": the serial, and the options to append. */
static bool split_setup(const char *setup, char *serial, size_t serial_size, const char **options)
{
    const char *semi = strchr(setup, ';');
    size_t n = semi ? (size_t)(semi - setup) : strlen(setup);
    if (n >= serial_size) {
        u2c_error_set("Usb2canScanBitrate: the serial in '%s' is too long", setup);
        return false;
    }
    memcpy(serial, setup, n);
    serial[n] = '\0';
    *options = semi ? semi + 1 : "";
    /* Every token after the serial must be key=value: the scan sets the rate. */
    for (const char *t = *options; *t != '\0';) {
        const char *end = strchr(t, ';');
        size_t len = end ? (size_t)(end - t) : strlen(t);
        if (memchr(t, '=', len) == NULL && strspn(t, " \t") < len) {
            u2c_error_set("Usb2canScanBitrate: '%.*s' in '%s': give the serial and key=value "
                          "options only; the scan chooses the bit rate",
                          (int)len, t, setup);
            return false;
        }
        t += len + (end != NULL);
    }
    return true;
}

static bool check_options(const usb2canScanOptions *o)
{
    if (o->bitrate_count < 0 || (o->bitrate_count > 0 && o->bitrates == NULL)) {
        u2c_error_set("Usb2canScanBitrate: %ld bit rates given at %p", o->bitrate_count,
                      (const void *)o->bitrates);
        return false;
    }
    if (o->sample_point_count < 0 || (o->sample_point_count > 0 && o->sample_points == NULL)) {
        u2c_error_set("Usb2canScanBitrate: %ld sample points given at %p", o->sample_point_count,
                      (const void *)o->sample_points);
        return false;
    }
    for (long i = 0; i < o->bitrate_count; i++) {
        usb2canScanResult r;
        if (!u2c_scan_timing(o->bitrates[i], DEFAULT_SAMPLE_POINT, &r)) {
            u2c_error_set("Usb2canScanBitrate: no timing of the 32 MHz clock is within 0.5 %% of "
                          "%lu bit/s (1000 to 1000000 bit/s)",
                          o->bitrates[i]);
            return false;
        }
    }
    for (long i = 0; i < o->sample_point_count; i++) {
        if (o->sample_points[i] < 500 || o->sample_points[i] > 950) {
            u2c_error_set("Usb2canScanBitrate: sample point %lu per mille is outside 500..950",
                          o->sample_points[i]);
            return false;
        }
    }
    if (o->dwell_ms != 0 && (o->dwell_ms < 10 || o->dwell_ms > 60000)) {
        u2c_error_set("Usb2canScanBitrate: dwell_ms %lu is outside 10..60000", o->dwell_ms);
        return false;
    }
    if (o->flags & ~USB2CAN_SCAN_ALL) {
        u2c_error_set("Usb2canScanBitrate: unknown flags 0x%lX", o->flags & ~USB2CAN_SCAN_ALL);
        return false;
    }
    return true;
}

static void count_status(usb2canScanResult *r, const canalMsg *m)
{
    unsigned rec = m->sizeData >= 2 ? m->data[1] : 0;
    if (rec > r->rec)
        r->rec = rec;
    switch (m->id) {
    case CANAL_STATUSMSG_OK:
        break;
    case CANAL_STATUSMSG_STUFF:
        r->stuff_errors++;
        break;
    case CANAL_STATUSMSG_FORM:
        r->form_errors++;
        break;
    case CANAL_STATUSMSG_CRC:
        r->crc_errors++;
        break;
    default:
        r->other_errors++;
        break;
    }
}

static unsigned long errors_of(const usb2canScanResult *r)
{
    return r->stuff_errors + r->form_errors + r->crc_errors + r->other_errors + r->rec;
}

/* Opens silent at r's timing and listens dwell_ms; false when CanalOpen failed. */
static bool listen_at(const char *serial, const char *options, unsigned long dwell_ms,
                      usb2canScanResult *r)
{
    char text[U2C_SETUP_MAX + 64];
    int n = snprintf(text, sizeof text, "%s;0;%lu;%lu;%lu;%lu%s%s", serial, r->tseg1, r->tseg2,
                     r->sjw, r->brp, options[0] ? ";" : "", options);
    long h = n > 0 && (size_t)n < sizeof text ? CanalOpen(text, SCAN_FLAGS) : 0;
    if (h <= 0) {
        r->open_code = -1;
        return false;
    }
    uint64_t deadline = u2c_deadline_after_ms(dwell_ms);
    for (uint64_t now = u2c_now_ns(); now < deadline; now = u2c_now_ns()) {
        unsigned long left_ms = (unsigned long)((deadline - now + 999999u) / 1000000u);
        canalMsg m;
        int rc = CanalBlockingReceive(h, &m, left_ms);
        if (rc == CANAL_ERROR_TIMEOUT || rc == CANAL_ERROR_FIFO_EMPTY ||
            rc == CANAL_ERROR_RCV_EMPTY)
            continue;
        if (rc != CANAL_ERROR_SUCCESS)
            break; /* unplugged: what was seen so far stands */
        if (m.flags & CANAL_IDFLAG_STATUS)
            count_status(r, &m);
        else
            r->frames++;
    }
    CanalClose(h);
    return true;
}

long u2c_scan_run(const char *setup, const usb2canScanOptions *options, usb2canScanResult *results,
                  long max_results, long *count)
{
    if (count)
        *count = 0;
    usb2canScanOptions o;
    memset(&o, 0, sizeof o);
    if (options)
        o = *options;
    if (setup == NULL) {
        u2c_error_set("Usb2canScanBitrate: setup is NULL; give the adapter's serial, e.g. "
                      "\"ED000200\"");
        return -1;
    }
    if (max_results < 0 || (max_results > 0 && results == NULL)) {
        u2c_error_set("Usb2canScanBitrate: room for %ld results at %p", max_results,
                      (void *)results);
        return -1;
    }
    char serial[USB2CAN_SERIAL_MAX + 1];
    const char *extra;
    if (!check_options(&o) || !split_setup(setup, serial, sizeof serial, &extra))
        return -1;
    const unsigned long *rates = o.bitrate_count ? o.bitrates : default_rates;
    long rate_count =
        o.bitrate_count ? o.bitrate_count : (long)(sizeof default_rates / sizeof *default_rates);
    static const unsigned long default_sp = DEFAULT_SAMPLE_POINT;
    const unsigned long *sps = o.sample_point_count ? o.sample_points : &default_sp;
    long sp_count = o.sample_point_count ? o.sample_point_count : 1;
    unsigned long dwell = o.dwell_ms ? o.dwell_ms : DEFAULT_DWELL_MS;

    long done = 0, answer = -1;
    bool traffic = false, stop = false;
    for (long i = 0; i < rate_count && !stop; i++) {
        for (long k = 0; k < sp_count && !stop; k++) {
            usb2canScanResult r;
            if (!u2c_scan_timing(rates[i], sps[k], &r))
                continue; /* checked above; a sample point the rate cannot make */
            if (!listen_at(serial, extra, dwell, &r) && done == 0)
                return -1; /* the adapter itself: its reason is the last error */
            traffic |= r.frames > 0 || errors_of(&r) > 0;
            if (done < max_results)
                results[done] = r;
            if (answer < 0 && r.open_code == 0 && r.frames > 0 && errors_of(&r) == 0 &&
                done < max_results)
                answer = done;
            done++;
            if (o.progress && o.progress(&r, o.context) != 0)
                stop = true;
            if (answer >= 0 && !(o.flags & USB2CAN_SCAN_ALL))
                stop = true;
        }
    }
    if (count)
        *count = done < max_results ? done : max_results;
    u2c_error_clear();
    if (answer >= 0)
        return answer;
    return traffic ? USB2CAN_SCAN_UNSURE : USB2CAN_SCAN_NO_TRAFFIC;
}
