/*
 * usb2can-cli bench: a short throughput and latency benchmark between two
 * virtual adapters on the in-process bus (paced at real bit times), through
 * the public CANAL API only. Throughput: one thread sends numbered frames on the first adapter,
 * another receives them on the second and checks every number (lost and
 * reordered frames are counted); the sender keeps at most a window of
 * frames in flight so the receiver's queue never overflows. Latency: a
 * thread waits in CanalBlockingReceive; the time from CanalSend on the
 * other adapter to that call returning, over --samples frames.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli_commands.h"
#include "cli_latency.h"
#include "cli_traffic.h"
#include "osal.h"
#include "usb2can.h"

const char cli_bench_help[] =
    "Usage: usb2can-cli bench [--frames N] [--samples N] [--bitrate KBPS]\n"
    "\n"
    "Sends frames from VIRTUAL6 to VIRTUAL7 (virtual adapters on a bus inside\n"
    "this program, no hardware) and prints what the driver sustains:\n"
    "  throughput  frames/s from CanalSend to CanalBlockingReceive, 8 data bytes,\n"
    "              every frame numbered and checked (lost, reordered)\n"
    "  latency     CanalSend on one adapter to CanalBlockingReceive returning on\n"
    "              the other, in a thread that was blocked waiting: p50/p99/max\n"
    "The virtual bus runs in real time at the bit rate (stuff bits included), so\n"
    "throughput is bounded by the bus: one 8-byte frame per 111 bit times (at\n"
    "1 Mbit/s 9,009 frames/s); the latency includes the frame's own time on the bus.\n"
    "Options:\n"
    "  --frames N     frames for the throughput run (default 20000)\n"
    "  --samples N    latency samples (default 1000, one per millisecond)\n"
    "  --bitrate KBPS bit rate both adapters open at (default 1000)\n"
    "Exit status 1 if a frame was lost, reordered or a call failed.\n";

#define SENDER "VIRTUAL6"
#define RECEIVER "VIRTUAL7"
#define WINDOW 1024u /* frames in flight, well under the RX queue's 4096 */
#define RECEIVE_TIMEOUT_MS 2000u
#define THROUGHPUT_ID 0x123u

typedef struct bench_run {
    long rx;
    unsigned long frames;
    atomic_ulong received;
    cli_sequence sequence; /* the receiver's, read after join */
    unsigned long failures;
    atomic_ullong sent_ns; /* latency: when the frame was sent */
    uint64_t *latency;
} bench_run;

static void receive_numbered(void *arg)
{
    bench_run *b = arg;
    canalMsg m;
    uint32_t n;
    while (atomic_load(&b->received) < b->frames) {
        if (CanalBlockingReceive(b->rx, &m, RECEIVE_TIMEOUT_MS) != CANAL_ERROR_SUCCESS) {
            b->failures++;
            break;
        }
        if (!cli_numbered_read(&m, THROUGHPUT_ID, &n)) {
            b->failures++; /* nothing else is on this bus */
            break;
        }
        cli_sequence_note(&b->sequence, n);
        atomic_fetch_add(&b->received, 1);
    }
}

static void receive_timed(void *arg)
{
    bench_run *b = arg;
    canalMsg m;
    for (unsigned long i = 0; i < b->frames; i++) {
        if (CanalBlockingReceive(b->rx, &m, RECEIVE_TIMEOUT_MS) != CANAL_ERROR_SUCCESS) {
            b->failures++;
            break;
        }
        b->latency[i] = u2c_now_ns() - atomic_load(&b->sent_ns);
        atomic_fetch_add(&b->received, 1);
    }
}

static int run_throughput(const cli_context *cx, long tx, long rx, unsigned long frames,
                          unsigned long kbps)
{
    static bench_run b;
    memset(&b, 0, sizeof b);
    b.rx = rx;
    b.frames = frames;
    u2c_thread t;
    if (u2c_thread_start(&t, receive_numbered, &b) != 0)
        return cli_runtime_error(cx, "cannot start the receiving thread");
    uint64_t start = u2c_now_ns();
    unsigned long sent = 0;
    while (sent < frames && b.failures == 0) {
        if (sent - atomic_load(&b.received) >= WINDOW) {
            u2c_sleep_ms(0);
            continue;
        }
        canalMsg m = cli_numbered_frame(THROUGHPUT_ID, (uint32_t)sent);
        if (CanalBlockingSend(tx, &m, RECEIVE_TIMEOUT_MS) != CANAL_ERROR_SUCCESS) {
            b.failures++;
            break;
        }
        sent++;
    }
    u2c_thread_join(&t);
    double seconds = (double)(u2c_now_ns() - start) / 1e9;
    unsigned long got = atomic_load(&b.received);
    double rate = seconds > 0 ? (double)got / seconds : 0;
    double limit = cli_bus_limit_fps(kbps);
    fprintf(cx->out,
            "throughput: %lu frames in %.3f s = %.0f frames/s (%.1f %% of the %.0f frames/s "
            "of a full %lu kbit/s bus with 8 data bytes)\n",
            got, seconds, rate, 100.0 * rate / limit, limit, kbps);
    unsigned long lost = b.sequence.lost + (frames - got);
    fprintf(cx->out, "            lost %lu, reordered %lu, failed calls %lu\n", lost,
            b.sequence.reordered, b.failures);
    return lost == 0 && b.sequence.reordered == 0 && b.failures == 0 ? CLI_OK : CLI_RUNTIME;
}

static int run_latency(const cli_context *cx, long tx, long rx, unsigned long samples)
{
    static bench_run b;
    memset(&b, 0, sizeof b);
    b.rx = rx;
    b.frames = samples;
    b.latency = calloc(samples, sizeof *b.latency);
    if (b.latency == NULL)
        return cli_runtime_error(cx, "no memory for the latency samples");
    u2c_thread t;
    if (u2c_thread_start(&t, receive_timed, &b) != 0) {
        free(b.latency);
        return cli_runtime_error(cx, "cannot start the receiving thread");
    }
    canalMsg m;
    memset(&m, 0, sizeof m);
    m.id = 0x321;
    m.sizeData = 8;
    for (unsigned long i = 0; i < samples && b.failures == 0; i++) {
        u2c_sleep_ms(1); /* the receiver is blocked again long before this */
        atomic_store(&b.sent_ns, u2c_now_ns());
        if (CanalSend(tx, &m) != CANAL_ERROR_SUCCESS) {
            b.failures++;
            break;
        }
        while (atomic_load(&b.received) <= i && b.failures == 0)
            u2c_sleep_ms(0);
    }
    u2c_thread_join(&t);
    size_t n = atomic_load(&b.received);
    int status = CLI_RUNTIME;
    if (n > 0) {
        cli_latency_sort(b.latency, n);
        fprintf(cx->out,
                "latency:    %zu wakes, send -> blocked receive returns: p50 %.1f us, "
                "p99 %.1f us, max %.1f us\n",
                n, cli_latency_percentile_us(b.latency, n, 0.5),
                cli_latency_percentile_us(b.latency, n, 0.99),
                cli_latency_percentile_us(b.latency, n, 1.0));
        status = b.failures == 0 ? CLI_OK : CLI_RUNTIME;
    }
    free(b.latency);
    return status;
}

int cli_command_bench(const cli_context *cx, int argc, char **argv)
{
    unsigned long frames = 20000, samples = 1000, kbps = 1000;
    const cli_option options[] = {
        {"--frames", true, 1, 100000000UL, &frames, NULL},
        {"--samples", true, 1, 1000000UL, &samples, NULL},
        {"--bitrate", true, 10, 1000, &kbps, NULL},
    };
    int status = cli_parse_args(cx, argc, argv, options, 3, NULL, NULL, 0);
    if (status != CLI_OK)
        return status;
    char setup[64];
    snprintf(setup, sizeof setup, SENDER ";%lu", kbps);
    long tx = cli_open(cx, setup, 0);
    if (tx == 0)
        return CLI_RUNTIME;
    snprintf(setup, sizeof setup, RECEIVER ";%lu", kbps);
    long rx = cli_open(cx, setup, 0);
    if (rx == 0) {
        CanalClose(tx);
        return CLI_RUNTIME;
    }
    fprintf(cx->out,
            "usb2can-cli bench: %s -> %s at %lu kbit/s on the in-process virtual bus "
            "(real bit timing)\n",
            SENDER, RECEIVER, kbps);
    status = run_throughput(cx, tx, rx, frames, kbps);
    int latency = run_latency(cx, tx, rx, samples);
    status = status != CLI_OK ? status : latency;
    CanalClose(rx);
    CanalClose(tx);
    return status;
}
