/*
 * usb2can-cli doctor --bus: listens to a bus for a while and turns what the
 * adapter reports (frames, error status records, TEC/REC, bus-off) into
 * plain verdicts with the evidence. Silent by default (it cannot disturb
 * the bus); --active acknowledges, and --send puts frames of its own on the
 * bus so that errors on transmission (ACK, bit errors, bus-off) show.
 *
 * The adapter sends a status record when its state or its last error code
 * changes, not per error frame (docs/protocol.md), so error records count
 * changes; the error counters show how many errors there were.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_commands.h"
#include "cli_parse.h"
#include "cli_scan.h"
#include "osal.h"
#include "usb2can.h"

#define NS_PER_MS 1000000ull
#define SAMPLE_MS 500u
#define MAX_SAMPLES 64u

typedef struct bus_evidence {
    unsigned long frames, repeats; /* repeats: identical to the frame before */
    uint64_t bits;                 /* frame bits without stuff bits */
    unsigned long stuff, form, crc, ack, bit, warning, passive, bus_off_records, restarts;
    unsigned tec_max, rec_max, tec_first, rec_first;
    bool have_counters;
    unsigned tec[MAX_SAMPLES], rec[MAX_SAMPLES];
    unsigned samples;
    canalMsg last;
    unsigned long sent, send_failed;
} bus_evidence;

/* Bit rate of a setup string (its kbps, the python-can mappings, or manual
 * timing on the 32 MHz clock); 500 kbit/s for a bare serial, 0 if unknown. */
static unsigned long setup_bitrate(const char *setup)
{
    const char *p = strchr(setup, ';');
    if (p == NULL)
        return 500000;
    unsigned long v[5] = {0};
    int n = 0;
    for (p++; n < 5; n++) {
        char *end;
        v[n] = strtoul(p, &end, 0);
        if (end == p)
            break;
        p = strchr(end, ';');
        if (p == NULL) {
            n++;
            break;
        }
        p++;
    }
    if (n >= 1 && v[0] != 0)
        return v[0] == 33 ? 33333 : v[0] == 62 ? 62500 : v[0] == 83 ? 83333 : v[0] * 1000;
    if (n >= 5 && v[4] != 0)
        return (unsigned long)(32000000ull / (v[4] * (1ull + v[1] + v[2])));
    return 0;
}

static unsigned frame_bits(const canalMsg *m)
{
    unsigned data = (m->flags & CANAL_IDFLAG_RTR) ? 0 : (m->sizeData > 8 ? 8 : m->sizeData);
    /* SOF..EOF plus intermission: 47 standard, 67 extended, before stuffing. */
    return ((m->flags & CANAL_IDFLAG_EXTENDED) ? 67u : 47u) + 8u * data;
}

static void note_counters(bus_evidence *e, unsigned tec, unsigned rec)
{
    if (!e->have_counters) {
        e->tec_first = tec;
        e->rec_first = rec;
        e->have_counters = true;
    }
    if (tec > e->tec_max)
        e->tec_max = tec;
    if (rec > e->rec_max)
        e->rec_max = rec;
}

static void take(bus_evidence *e, const canalMsg *m)
{
    if (!(m->flags & CANAL_IDFLAG_STATUS)) {
        if (e->frames > 0 && m->id == e->last.id && m->flags == e->last.flags &&
            m->sizeData == e->last.sizeData && memcmp(m->data, e->last.data, 8) == 0)
            e->repeats++;
        e->frames++;
        e->bits += frame_bits(m);
        e->last = *m;
        return;
    }
    note_counters(e, m->data[2], m->data[1] & 0x7F);
    switch (m->id) {
    case CANAL_STATUSMSG_OK:
        if (m->sizeData >= 4 && m->data[3] != 0)
            e->restarts++;
        break;
    case CANAL_STATUSMSG_STUFF:
        e->stuff++;
        break;
    case CANAL_STATUSMSG_FORM:
        e->form++;
        break;
    case CANAL_STATUSMSG_CRC:
        e->crc++;
        break;
    case CANAL_STATUSMSG_ACK:
        e->ack++;
        break;
    case CANAL_STATUSMSG_BIT0:
    case CANAL_STATUSMSG_BIT1:
        e->bit++;
        break;
    case CANAL_STATUSMSG_BUSLIGHT:
        e->warning++;
        break;
    case CANAL_STATUSMSG_BUSHEAVY:
        e->passive++;
        break;
    case CANAL_STATUSMSG_BUSOFF:
        e->bus_off_records++;
        break;
    default:
        break;
    }
}

static void sample(bus_evidence *e, long handle)
{
    canalStatus st;
    if (CanalGetStatus(handle, &st) != CANAL_ERROR_SUCCESS)
        return;
    unsigned tec = (unsigned)(st.channel_status & 0xFF);
    unsigned rec = (unsigned)((st.channel_status >> 8) & 0x7F);
    note_counters(e, tec, rec);
    if (e->samples < MAX_SAMPLES) {
        e->tec[e->samples] = tec;
        e->rec[e->samples] = rec;
        e->samples++;
    }
}

static int problem(const cli_context *cx, const char *text)
{
    fprintf(cx->out, "problem: %s\n", text);
    return 1;
}

/* Every verdict that applies, most severe first; returns the problems. */
static int verdicts(const cli_context *cx, const bus_evidence *e, unsigned long bus_offs,
                    bool active, bool sending, double seconds, char *line, size_t size)
{
    int found = 0;
    unsigned long rx_errors = e->stuff + e->form + e->crc;
    if (bus_offs > 0) {
        snprintf(line, size,
                 "bus off %lu time%s: the adapter's own frames were destroyed until its "
                 "transmit error counter passed 255 (%lu bit error record%s). A node at another "
                 "bit rate, a faulty node or bad wiring destroys them%s",
                 bus_offs, bus_offs == 1 ? "" : "s", e->bit, e->bit == 1 ? "" : "s",
                 e->restarts ? "; busoff=auto restarted it each time"
                             : "; without busoff=auto:N it stays off until re-opened");
        found += problem(cx, line);
    } else if (e->tec_max >= 128 && e->bit > 0) {
        snprintf(line, size,
                 "error passive, TEC rising to %u: the adapter's own frames are destroyed "
                 "(bit errors), not just unacknowledged: a faulty node sending error frames, a "
                 "node at another bit rate, or bad wiring. Bus-off follows if it goes on",
                 e->tec_max);
        found += problem(cx, line);
    }
    if (sending && e->ack > 0 && e->bit == 0 && rx_errors == 0 && bus_offs == 0) {
        snprintf(line, size,
                 "only ACK errors on your own frames (TEC %u): you are the only node on the bus "
                 "(or the others are listen-only), or the bus is not terminated (120 ohm at "
                 "each end) or CANH/CANL are not connected",
                 e->tec_max);
        found += problem(cx, line);
    }
    if (!active && e->form > 0 && e->stuff == 0 && e->frames > 0 && e->repeats * 2 >= e->frames) {
        snprintf(line, size,
                 "a lone node: its frames go unacknowledged (form error at the ACK delimiter, "
                 "then the same frame repeated %lu times as it retransmits, error passive): no "
                 "other node acknowledges at this rate (a listen-only adapter never does). "
                 "Connect one, or listen with --active to acknowledge",
                 e->repeats);
        found += problem(cx, line);
    } else if (rx_errors > 0 && e->frames == 0) {
        snprintf(line, size,
                 "stuff/form errors on reception (%lu record%s, REC up to %u) and no valid "
                 "frame: wrong bit rate (find it with 'usb2can-cli scan') or CANH/CANL swapped",
                 rx_errors, rx_errors == 1 ? "" : "s", e->rec_max);
        found += problem(cx, line);
    } else if (rx_errors > 0 && found == 0) {
        snprintf(line, size,
                 "errors between valid frames (%lu stuff, %lu form, %lu CRC record%s, REC up to "
                 "%u): a node destroys frames with error flags (faulty node, one at another "
                 "sample point or rate), or noise and bad termination",
                 e->stuff, e->form, e->crc, rx_errors == 1 ? "" : "s", e->rec_max);
        found += problem(cx, line);
    }
    if (e->frames == 0 && rx_errors == 0 && e->ack == 0 && e->bit == 0 && bus_offs == 0) {
        snprintf(line, size,
                 "no traffic: nothing received in %.1f s, no error either: no node sends, or "
                 "the adapter is not connected to the bus (CANH, CANL, GND)",
                 seconds);
        found += problem(cx, line);
    }
    return found;
}

int cli_doctor_bus(const cli_context *cx, int argc, char **argv)
{
    unsigned long seconds = 5, count = 0, interval = 10;
    bool active = false, seconds_given = false, count_given = false;
    const char *send_text = NULL;
    /* --send takes text: take it out before the numeric options. */
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--send") != 0)
            continue;
        if (i + 1 >= argc)
            return cli_usage_error(cx, "--send needs a frame, e.g. --send 123#1122");
        send_text = argv[i + 1];
        for (int k = i; k + 2 < argc; k++)
            argv[k] = argv[k + 2];
        argc -= 2;
        break;
    }
    const cli_option options[] = {
        {"--seconds", true, 1, 3600, &seconds, &seconds_given},
        {"--active", false, 0, 0, NULL, &active},
        {"--count", true, 1, 1000000, &count, &count_given},
        {"--interval", true, 1, 60000, &interval, NULL},
    };
    static const char *const names[] = {"SETUP"};
    const char *setup = NULL;
    int status = cli_parse_args(cx, argc, argv, options, 4, names, &setup, 1);
    if (status != CLI_OK)
        return status;
    canalMsg out;
    if (send_text != NULL) {
        char reason[160];
        if (!active)
            return cli_usage_error(cx, "--send needs --active (a silent adapter cannot send)");
        if (!cli_parse_frame(send_text, &out, reason, sizeof reason))
            return cli_usage_error(cx, "bad frame '%s': %s", send_text, reason);
    }

    char name[40];
    cli_setup_name(setup, name, sizeof name);
    unsigned long flags = USB2CAN_FLAG_STATUS_FRAMES | (active ? 0 : USB2CAN_FLAG_SILENT);
    long handle = cli_open(cx, setup, flags);
    if (handle == 0)
        return CLI_RUNTIME;
    unsigned long bitrate = setup_bitrate(setup);
    char rate[32] = "an unknown rate";
    if (bitrate)
        cli_format_rate(bitrate, rate, sizeof rate);
    fprintf(cx->out, "listening on %s at %s, %s, for %lu s%s\n", name, rate,
            active ? "active (acknowledges frames)" : "silent (never acknowledges or disturbs)",
            seconds, send_text ? ", sending frames of its own" : "");
    fflush(cx->out);

    static bus_evidence e;
    memset(&e, 0, sizeof e);
    cli_stop_reset();
    uint64_t start = u2c_now_ns();
    uint64_t end = start + seconds * 1000ull * NS_PER_MS;
    uint64_t next_sample = start, next_send = start;
    while (!cli_stop_requested()) {
        uint64_t now = u2c_now_ns();
        if (now >= end)
            break;
        if (now >= next_sample) {
            sample(&e, handle);
            next_sample += SAMPLE_MS * NS_PER_MS;
        }
        if (send_text && now >= next_send && (!count_given || e.sent + e.send_failed < count)) {
            if (CanalSend(handle, &out) == CANAL_ERROR_SUCCESS)
                e.sent++;
            else
                e.send_failed++;
            next_send += interval * NS_PER_MS;
        }
        uint64_t wake = next_sample < end ? next_sample : end;
        if (send_text && next_send < wake)
            wake = next_send;
        unsigned long wait_ms = wake > now ? (unsigned long)((wake - now) / NS_PER_MS) : 0;
        canalMsg m;
        if (CanalBlockingReceive(handle, &m, wait_ms ? wait_ms : 1) == CANAL_ERROR_SUCCESS)
            take(&e, &m);
    }
    sample(&e, handle);
    double elapsed = (double)(u2c_now_ns() - start) / 1e9;
    canalStatistics stats;
    memset(&stats, 0, sizeof stats);
    (void)CanalGetStatistics(handle, &stats);
    CanalClose(handle);

    unsigned long records = e.stuff + e.form + e.crc + e.ack + e.bit;
    double load = bitrate ? 100.0 * (double)e.bits / ((double)bitrate * elapsed) : 0.0;
    fprintf(cx->out,
            "frames: %lu (%.0f/s, %lu repeating the one before), bus load %.1f %% (without "
            "stuff bits)\n",
            e.frames, (double)e.frames / elapsed, e.repeats, load);
    fprintf(cx->out,
            "error records: %lu (%.1f/s): stuff %lu, form %lu, CRC %lu, ACK %lu, bit %lu; "
            "warning %lu, passive %lu, bus off %lu\n",
            records, (double)records / elapsed, e.stuff, e.form, e.crc, e.ack, e.bit, e.warning,
            e.passive, stats.cntBusOff);
    fprintf(cx->out, "TEC/REC every %u ms:", SAMPLE_MS);
    for (unsigned i = 0; i < e.samples; i++)
        fprintf(cx->out, " %u/%u", e.tec[i], e.rec[i]);
    fprintf(cx->out, " (max TEC %u, REC %u)\n", e.tec_max, e.rec_max);
    if (send_text)
        fprintf(cx->out, "sent: %lu frames queued, %lu refused (queue full)\n", e.sent,
                e.send_failed);
    if (e.restarts)
        fprintf(cx->out, "busoff=auto: restarted %lu time%s\n", e.restarts,
                e.restarts == 1 ? "" : "s");
    char line[512];
    int found =
        verdicts(cx, &e, stats.cntBusOff, active, send_text != NULL, elapsed, line, sizeof line);
    if (found == 0) {
        fprintf(cx->out,
                "verdict: healthy: %lu valid frames (%.0f/s), no error, bus load %.1f %%\n",
                e.frames, (double)e.frames / elapsed, load);
        return CLI_OK;
    }
    fprintf(cx->out, "verdict: %d problem%s found (listed above)\n", found, found == 1 ? "" : "s");
    return CLI_RUNTIME;
}
