/*
 * usb2can-cli selftest: one adapter tests itself in silent loopback (open
 * flags 0x03: the controller receives its own frames and drives nothing on
 * the bus, so no other node is needed and a connected bus is not
 * disturbed). Through the public CANAL API only:
 * - throughput: a sender keeps the adapter busy with numbered 8-byte
 *   frames for --seconds (at most WINDOW frames in flight, so the driver's
 *   receive queue never overflows), a receiver checks every number (lost,
 *   reordered, damaged); the rate is compared with the bus limit at the
 *   bit rate; the adapter's overrun counter comes from CanalGetStatistics;
 * - wake latency: a thread blocked in CanalBlockingReceive, the time from
 *   CanalSend to its return, over LATENCY_SAMPLES frames (it includes the
 *   frame's own time on the bus and the USB round trip);
 * and prints the environment, the adapter's driver and firmware, and a
 * verdict. PASS needs every frame back, in order and intact, no overrun
 * and no failed call.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli_commands.h"
#include "cli_format.h"
#include "cli_latency.h"
#include "cli_traffic.h"
#include "osal.h"
#include "text.h"
#include "usb2can.h"

const char cli_selftest_help[] =
    "Usage: usb2can-cli selftest SERIAL [--kbps N] [--seconds S]\n"
    "\n"
    "Tests an adapter by itself: it is opened in silent loopback mode (open\n"
    "flags 0x03), so it receives its own frames and sends nothing on the bus;\n"
    "no other node is needed. Prints:\n"
    "  environment  library, operating system, libusb, timer resolution\n"
    "  adapter      its driver and firmware version\n"
    "  throughput   frames sent and received at full rate, lost, reordered,\n"
    "               overruns, frames/s against the bus limit at the bit rate\n"
    "  latency      CanalSend to a blocked CanalBlockingReceive returning:\n"
    "               p50/p90/p99/max (includes the frame's time on the bus)\n"
    "  result       PASS, or FAIL with the reason\n"
    "Attach the whole output to a bug report.\n"
    "Options:\n"
    "  --kbps N      bit rate in kbit/s (default 500)\n"
    "  --seconds S   length of the throughput run (default 5)\n"
    "Exit status 0 on PASS, 1 on FAIL.\n";

#define SILENT_LOOPBACK (USB2CAN_FLAG_SILENT | USB2CAN_FLAG_LOOPBACK)
#define WINDOW 512u /* frames in flight, well under the driver's receive queue */
#define STALL_MS 1000u
#define LATENCY_SAMPLES 200u

typedef struct selftest {
    long handle;
    atomic_int sending; /* the sender has not finished yet */
    atomic_ulong sent;
    atomic_ulong next_expected; /* highest number seen + 1, for the sender */
    cli_sequence sequence;      /* the receiver's, read after join */
    unsigned long damaged;
    atomic_ulong failed_calls;
    atomic_int last_code;
    uint64_t *latency;
    atomic_ullong sent_ns;
    atomic_ulong wakes;
    uint64_t last_rx_ns; /* when the last numbered frame came back */
} selftest;

#define NUMBERED_ID 0x555u

/* Receives until every sent frame is accounted for, or nothing comes for
 * STALL_MS after the sender finished. */
static void call_failed(selftest *t, int code)
{
    atomic_store(&t->last_code, code);
    atomic_fetch_add(&t->failed_calls, 1);
}

static void receive_numbered(void *arg)
{
    selftest *t = arg;
    canalMsg m;
    for (;;) {
        if (!atomic_load(&t->sending) && atomic_load(&t->next_expected) >= atomic_load(&t->sent))
            break;
        int rc = CanalBlockingReceive(t->handle, &m, STALL_MS);
        if (rc == CANAL_ERROR_TIMEOUT) {
            if (!atomic_load(&t->sending))
                break; /* the rest never came */
            continue;
        }
        if (rc != CANAL_ERROR_SUCCESS) {
            call_failed(t, rc);
            break;
        }
        if (m.flags & CANAL_IDFLAG_STATUS)
            continue;
        uint32_t n;
        if (!cli_numbered_read(&m, NUMBERED_ID, &n)) {
            t->damaged++;
            continue;
        }
        t->last_rx_ns = u2c_now_ns();
        cli_sequence_note(&t->sequence, n);
        atomic_store(&t->next_expected, (unsigned long)t->sequence.expected);
    }
}

static void receive_timed(void *arg)
{
    selftest *t = arg;
    canalMsg m;
    unsigned long i = 0;
    while (i < LATENCY_SAMPLES) {
        int rc = CanalBlockingReceive(t->handle, &m, STALL_MS);
        if (rc != CANAL_ERROR_SUCCESS) {
            call_failed(t, rc);
            break;
        }
        if (m.flags & CANAL_IDFLAG_STATUS)
            continue;
        t->latency[i++] = u2c_now_ns() - atomic_load(&t->sent_ns);
        atomic_fetch_add(&t->wakes, 1);
    }
}

/* The adapter's row of Usb2canListAdapters, for its driver and state
 * ("VIRTUAL" is VIRTUAL0; serials compare without case). */
static void describe_adapter(const cli_context *cx, const char *serial)
{
    char wanted[USB2CAN_SERIAL_MAX + 2];
    u2c_copy_upper(wanted, USB2CAN_SERIAL_MAX + 1, serial);
    if (strcmp(wanted, "VIRTUAL") == 0)
        snprintf(wanted, sizeof wanted, "VIRTUAL0");
    char driver[40] = "unknown (not in the adapter list)", state[16] = "";
    long n = Usb2canListAdapters(NULL, 0);
    usb2canAdapterInfo *list = n > 0 ? calloc((size_t)n, sizeof *list) : NULL;
    long got = list ? Usb2canListAdapters(list, n) : -1;
    for (long i = 0; i < got && i < n; i++) {
        if (strcmp(list[i].serial, wanted) != 0)
            continue;
        snprintf(driver, sizeof driver, "%s", list[i].driver[0] ? list[i].driver : "none");
        snprintf(state, sizeof state, "%s",
                 (list[i].flags & USB2CAN_ADAPTER_IN_USE) ? ", in use" : "");
        break;
    }
    free(list);
    fprintf(cx->out, "adapter: %s, driver %s%s\n", wanted, driver, state);
}

static int run_throughput(const cli_context *cx, selftest *t, unsigned long kbps,
                          unsigned long seconds)
{
    atomic_store(&t->sending, 1);
    u2c_thread rx;
    if (u2c_thread_start(&rx, receive_numbered, t) != 0)
        return cli_runtime_error(cx, "cannot start the receiving thread");
    uint64_t start = u2c_now_ns();
    uint64_t end = start + (uint64_t)seconds * 1000000000ULL;
    unsigned long sent = 0;
    while (u2c_now_ns() < end && atomic_load(&t->failed_calls) == 0) {
        if (sent - atomic_load(&t->next_expected) >= WINDOW) {
            u2c_sleep_ms(0);
            continue;
        }
        canalMsg m = cli_numbered_frame(NUMBERED_ID, (uint32_t)sent);
        int rc = CanalBlockingSend(t->handle, &m, STALL_MS);
        if (rc != CANAL_ERROR_SUCCESS) {
            call_failed(t, rc);
            fprintf(cx->out, "CanalBlockingSend failed (code %d): %s\n", rc, Usb2canGetLastError());
            break;
        }
        atomic_store(&t->sent, ++sent);
    }
    atomic_store(&t->sending, 0);
    u2c_thread_join(&rx);
    double elapsed = (double)((t->sequence.received ? t->last_rx_ns : u2c_now_ns()) - start) / 1e9;
    unsigned long missing = atomic_load(&t->sent) - atomic_load(&t->next_expected);
    t->sequence.lost += missing; /* the last frames that never came back */
    canalStatistics stats;
    memset(&stats, 0, sizeof stats);
    int rc = CanalGetStatistics(t->handle, &stats);
    if (rc != CANAL_ERROR_SUCCESS)
        call_failed(t, rc);
    double rate = elapsed > 0 ? (double)t->sequence.received / elapsed : 0;
    double limit = cli_bus_limit_fps(kbps);
    fprintf(cx->out,
            "throughput: %lu frames sent, %lu received in %.2f s = %.0f frames/s "
            "(%.1f %% of the bus limit, %.0f frames/s at %lu kbit/s with 8 data bytes)\n",
            sent, t->sequence.received, elapsed, rate, 100.0 * rate / limit, limit, kbps);
    fprintf(cx->out,
            "            lost %lu, reordered %lu, damaged %lu, overruns %lu, "
            "failed calls %lu\n",
            t->sequence.lost, t->sequence.reordered, t->damaged, stats.cntOverruns,
            atomic_load(&t->failed_calls));
    return (int)stats.cntOverruns;
}

static void run_latency(const cli_context *cx, selftest *t)
{
    t->latency = calloc(LATENCY_SAMPLES, sizeof *t->latency);
    u2c_thread rx;
    if (t->latency == NULL || u2c_thread_start(&rx, receive_timed, t) != 0) {
        free(t->latency);
        t->latency = NULL;
        call_failed(t, 0);
        fprintf(cx->out, "latency:    cannot start the receiving thread\n");
        return;
    }
    unsigned long failed_before = atomic_load(&t->failed_calls);
    for (unsigned long i = 0; i < LATENCY_SAMPLES && atomic_load(&t->failed_calls) == failed_before;
         i++) {
        u2c_sleep_ms(2); /* the receiver is blocked again long before this */
        canalMsg m = cli_numbered_frame(NUMBERED_ID, (uint32_t)i);
        atomic_store(&t->sent_ns, u2c_now_ns());
        int rc = CanalSend(t->handle, &m);
        if (rc != CANAL_ERROR_SUCCESS) {
            call_failed(t, rc);
            break;
        }
        uint64_t give_up = u2c_now_ns() + (uint64_t)STALL_MS * 2000000ULL;
        while (atomic_load(&t->wakes) <= i && atomic_load(&t->failed_calls) == failed_before &&
               u2c_now_ns() < give_up)
            u2c_sleep_ms(0);
    }
    u2c_thread_join(&rx);
    size_t n = atomic_load(&t->wakes);
    if (n == 0) {
        fprintf(cx->out, "latency:    no frame came back\n");
    } else {
        cli_latency_sort(t->latency, n);
        fprintf(cx->out,
                "latency:    %zu wakes, CanalSend -> blocked CanalBlockingReceive returns: "
                "p50 %.1f us, p90 %.1f us, p99 %.1f us, max %.1f us\n",
                n, cli_latency_percentile_us(t->latency, n, 0.5),
                cli_latency_percentile_us(t->latency, n, 0.9),
                cli_latency_percentile_us(t->latency, n, 0.99),
                cli_latency_percentile_us(t->latency, n, 1.0));
    }
    free(t->latency);
    t->latency = NULL;
}

int cli_command_selftest(const cli_context *cx, int argc, char **argv)
{
    unsigned long kbps = 500, seconds = 5;
    const char *serial = NULL;
    static const char *const names[] = {"SERIAL"};
    const cli_option options[] = {
        {"--kbps", true, 10, 1000, &kbps, NULL},
        {"--seconds", true, 1, 3600, &seconds, NULL},
    };
    int status = cli_parse_args(cx, argc, argv, options, 2, names, &serial, 1);
    if (status != CLI_OK)
        return status;
    if (strchr(serial, ';') != NULL)
        return cli_usage_error(cx,
                               "SERIAL is an adapter's serial number, not a setup string: "
                               "'%s' (use --kbps for the bit rate)",
                               serial);
    fprintf(cx->out,
            "usb2can-cli selftest: %s at %lu kbit/s in silent loopback (open flags 0x03: "
            "nothing is sent on the bus), %lu s\n",
            serial, kbps, seconds);
    fprintf(cx->out, "environment:\n");
    cli_print_environment(cx);
    describe_adapter(cx, serial);

    char setup[96];
    snprintf(setup, sizeof setup, "%s;%lu", serial, kbps);
    long handle = cli_open(cx, setup, SILENT_LOOPBACK);
    if (handle == 0) {
        fprintf(cx->out, "result: FAIL (the adapter did not open: %s)\n", Usb2canGetLastError());
        return CLI_RUNTIME;
    }
    char firmware[32] = "?", hardware[32] = "?";
    cli_vendor_versions(CanalGetVendorString(), firmware, sizeof firmware, hardware,
                        sizeof hardware);
    fprintf(cx->out, "firmware: %s, hardware %s\n", firmware, hardware);

    /* One per run: '+'-joined commands may run several self-tests at once. */
    selftest *t = calloc(1, sizeof *t);
    if (t == NULL) {
        CanalClose(handle);
        fprintf(cx->out, "result: FAIL (out of memory)\n");
        return CLI_RUNTIME;
    }
    t->handle = handle;
    int overruns = run_throughput(cx, t, kbps, seconds);
    run_latency(cx, t);
    canalStatus st;
    memset(&st, 0, sizeof st);
    if (CanalGetStatus(handle, &st) == CANAL_ERROR_SUCCESS)
        fprintf(cx->out, "bus state:  %s, TEC %lu, REC %lu\n",
                (st.channel_status & 0x80000000UL)   ? "bus-off"
                : (st.channel_status & 0x40000000UL) ? "error-passive"
                : (st.channel_status & 0x20000000UL) ? "error-warning"
                                                     : "error-active",
                st.channel_status & 0xFFUL, (st.channel_status >> 8) & 0xFFUL);
    CanalClose(handle);

    char why[160] = "";
    if (atomic_load(&t->failed_calls) > 0)
        snprintf(why, sizeof why, "%lu call(s) failed, the last with code %d",
                 atomic_load(&t->failed_calls), atomic_load(&t->last_code));
    else if (t->sequence.received == 0)
        snprintf(why, sizeof why, "no frame came back");
    else if (t->sequence.lost > 0 || t->sequence.reordered > 0 || t->damaged > 0)
        snprintf(why, sizeof why, "%lu lost, %lu reordered, %lu damaged", t->sequence.lost,
                 t->sequence.reordered, t->damaged);
    else if (overruns > 0)
        snprintf(why, sizeof why, "%d overrun(s) counted", overruns);
    free(t);
    if (why[0] != '\0') {
        fprintf(cx->out, "result: FAIL (%s)\n", why);
        return CLI_RUNTIME;
    }
    fprintf(cx->out, "result: PASS\n");
    return CLI_OK;
}
