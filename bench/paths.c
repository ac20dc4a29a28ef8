/*
 * paths: frames per second through the RX path and the TX path of the
 * CANAL surface, each on the calling thread alone, with the direct bench
 * link (bench_link.h) in place of USB.
 *   RX: IN packets of 3 records -> decode -> ring -> CanalReceive.
 *   TX: CanalSend -> queue -> kick_out -> OUT record counted by the link.
 * Every frame carries its sequence number in its data, checked at the far
 * end. paths rx|tx FRAMES [REPEATS]: prints path.<dir>.* lines (median and
 * best of REPEATS runs); exit status 1 on a wrong or missing frame.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_link.h"
#include "canal.h"
#include "usb2can.h"

#define PACKETS_PER_BATCH 64u /* 192 frames, well inside the RX ring */
#define FRAMES_PER_PACKET 3u
#define DATA_OFFSET_RX 8u /* data bytes in a 21-byte IN record */
#define DATA_OFFSET_TX 7u /* data bytes in a 16-byte OUT record */
#define TEST_ID 0x123u

typedef struct tx_count {
    uint64_t next;
    uint64_t wrong;
} tx_count;

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void on_out(void *ctx, const uint8_t record[U8D_TX_RECORD_SIZE])
{
    tx_count *c = ctx;
    if (get_le64(record + DATA_OFFSET_TX) != c->next)
        c->wrong++;
    c->next++;
}

static long open_bench(bench_direct **out, tx_count *count)
{
    bench_direct *l = bench_direct_create(on_out, count);
    if (l == NULL)
        return 0;
    bench_link_offer(bench_direct_link(l));
    long h = CanalOpen("BENCH;1000", 0);
    if (h <= 0)
        fprintf(stderr, "paths: CanalOpen: %s\n", Usb2canGetLastError());
    *out = l;
    return h;
}

static void build_packet(uint8_t packet[U8D_IN_PACKET_MAX])
{
    u8d_rx_record r;
    memset(&r, 0, sizeof r);
    r.type = U8D_TYPE_CAN;
    r.frame.id = TEST_ID;
    r.frame.dlc = 8;
    for (unsigned i = 0; i < FRAMES_PER_PACKET; i++)
        u8d_encode_rx(packet + i * U8D_RX_RECORD_SIZE, &r, U8D_FLAVOR_VENDOR);
}

/* Returns the frames that arrived wrong or not at all. */
static uint64_t run_rx(long h, bench_direct *l, uint64_t frames)
{
    uint8_t packet[U8D_IN_PACKET_MAX];
    build_packet(packet);
    uint64_t seq_in = 0, seq_out = 0, wrong = 0;
    canalMsg m;
    while (seq_out < frames) {
        for (unsigned p = 0; p < PACKETS_PER_BATCH; p++) {
            for (unsigned i = 0; i < FRAMES_PER_PACKET; i++)
                put_le64(packet + i * U8D_RX_RECORD_SIZE + DATA_OFFSET_RX, seq_in++);
            bench_direct_inject(l, packet, FRAMES_PER_PACKET * U8D_RX_RECORD_SIZE);
        }
        while (seq_out < seq_in) {
            if (CanalReceive(h, &m) != CANAL_ERROR_SUCCESS || get_le64(m.data) != seq_out)
                wrong++;
            seq_out++;
        }
    }
    return wrong;
}

static uint64_t run_tx(long h, tx_count *count, uint64_t frames)
{
    canalMsg m;
    memset(&m, 0, sizeof m);
    m.id = TEST_ID;
    m.sizeData = 8;
    uint64_t failed = 0, start = count->next;
    for (uint64_t seq = 0; seq < frames; seq++) {
        put_le64(m.data, start + seq);
        if (CanalSend(h, &m) != CANAL_ERROR_SUCCESS)
            failed++;
    }
    return failed + count->wrong + (start + frames - count->next);
}

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "rx") != 0 && strcmp(argv[1], "tx") != 0)) {
        fprintf(stderr, "usage: paths rx|tx FRAMES [REPEATS]\n");
        return 2;
    }
    bool rx = strcmp(argv[1], "rx") == 0;
    uint64_t frames = strtoull(argv[2], NULL, 10);
    int repeats = argc > 3 ? atoi(argv[3]) : 1;
    if (repeats < 1 || repeats > 99)
        repeats = 1;
    tx_count count = {0, 0};
    bench_direct *l = NULL;
    long h = open_bench(&l, &count);
    if (h <= 0)
        return 1;
    uint64_t rate[99], bad = 0, cpu[99];
    for (int r = 0; r < repeats; r++) {
        uint64_t w0 = bench_wall_ns(), c0 = bench_thread_cpu_ns();
        bad += rx ? run_rx(h, l, frames) : run_tx(h, &count, frames);
        uint64_t w1 = bench_wall_ns(), c1 = bench_thread_cpu_ns();
        rate[r] = w1 > w0 ? frames * 1000000000ull / (w1 - w0) : 0;
        cpu[r] = c1 - c0;
    }
    CanalClose(h);
    const char *dir = argv[1];
    uint64_t median_cpu = bench_percentile(cpu, (size_t)repeats, 0.5);
    printf("path.%s.frames=%llu\n", dir, (unsigned long long)frames);
    printf("path.%s.repeats=%d\n", dir, repeats);
    printf("path.%s.frames_per_s_best=%llu\n", dir,
           (unsigned long long)bench_percentile(rate, (size_t)repeats, 1.0));
    printf("path.%s.frames_per_s_median=%llu\n", dir,
           (unsigned long long)bench_percentile(rate, (size_t)repeats, 0.5));
    printf("path.%s.frames_per_s_worst=%llu\n", dir,
           (unsigned long long)bench_percentile(rate, (size_t)repeats, 0.0));
    printf("path.%s.cpu_ns_per_frame=%.1f\n", dir,
           frames ? (double)median_cpu / (double)frames : 0);
    printf("path.%s.frames_per_cpu_s=%.0f\n", dir,
           median_cpu ? (double)frames * 1e9 / (double)median_cpu : 0);
    printf("path.%s.bad_frames=%llu\n", dir, (unsigned long long)bad);
    return bad == 0 ? 0 : 1;
}
