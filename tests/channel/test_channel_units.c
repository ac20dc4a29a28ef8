/* Unit tests of the channel's building blocks: RX ring, TX queue, software
 * filter, bus state and the handle table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bus_state.h"
#include "handles.h"
#include "osal.h"
#include "rx_filter.h"
#include "rx_ring.h"
#include "tx_queue.h"

#define MS 1000000ULL

/* --- u2c_rx_ring ------------------------------------------------------------- */

static canalMsg msg_with_id(unsigned long id)
{
    canalMsg m;
    memset(&m, 0, sizeof m);
    m.id = id;
    m.sizeData = (unsigned char)(id % 9);
    m.data[0] = (unsigned char)id;
    return m;
}

static void test_ring_fifo_and_full(void **state)
{
    (void)state;
    u2c_rx_ring r;
    assert_true(u2c_rx_ring_init(&r, 64));
    for (unsigned long i = 0; i < 64; i++) {
        canalMsg m = msg_with_id(i);
        assert_true(u2c_rx_ring_push(&r, &m));
    }
    assert_true(u2c_rx_ring_full(&r));
    canalMsg extra = msg_with_id(999);
    assert_false(u2c_rx_ring_push(&r, &extra)); /* newest dropped */
    assert_int_equal(u2c_rx_ring_count(&r), 64);
    for (unsigned long i = 0; i < 64; i++) {
        canalMsg out;
        assert_true(u2c_rx_ring_pop(&r, &out));
        assert_int_equal(out.id, i);
        assert_int_equal(out.data[0], (unsigned char)i);
    }
    canalMsg out;
    assert_false(u2c_rx_ring_pop(&r, &out));
    u2c_rx_ring_free(&r);
}

static void test_ring_wraps(void **state)
{
    (void)state;
    u2c_rx_ring r;
    assert_true(u2c_rx_ring_init(&r, 5));
    unsigned long next_in = 0, next_out = 0;
    for (int round = 0; round < 40; round++) {
        int pushes = 1 + round % 4;
        for (int i = 0; i < pushes && !u2c_rx_ring_full(&r); i++) {
            canalMsg m = msg_with_id(next_in++);
            assert_true(u2c_rx_ring_push(&r, &m));
        }
        int pops = 1 + (round * 7) % 3;
        canalMsg out;
        for (int i = 0; i < pops && u2c_rx_ring_pop(&r, &out); i++)
            assert_int_equal(out.id, next_out++);
        assert_int_equal(u2c_rx_ring_count(&r), next_in - next_out);
    }
    u2c_rx_ring_free(&r);
}

/* --- u2c_tx_queue ------------------------------------------------------------ */

static void test_tx_queue_bounded_fifo(void **state)
{
    (void)state;
    static u2c_tx_queue q;
    u2c_tx_queue_init(&q);
    for (uint32_t i = 0; i < TX_QUEUE_CAPACITY; i++) {
        u8d_frame f = {.id = i, .dlc = (uint8_t)(i % 9)};
        assert_true(u2c_tx_queue_push(&q, &f));
    }
    u8d_frame f = {.id = 12345};
    assert_true(u2c_tx_queue_full(&q));
    assert_false(u2c_tx_queue_push(&q, &f));
    for (uint32_t i = 0; i < TX_QUEUE_CAPACITY; i++) {
        assert_true(u2c_tx_queue_pop(&q, &f));
        assert_int_equal(f.id, i);
    }
    assert_false(u2c_tx_queue_pop(&q, &f));
    assert_int_equal(u2c_tx_queue_count(&q), 0);
}

/* Blocked senders wake once TX_WAKE_ROOM slots are free, or the queue is
 * empty; never on the pops in between. */
static void test_tx_queue_wake_policy(void **state)
{
    (void)state;
    const uint32_t cap = TX_QUEUE_CAPACITY;
    assert_int_equal(TX_WAKE_ROOM, 64);
    assert_false(u2c_tx_queue_should_wake(cap, cap));
    assert_false(u2c_tx_queue_should_wake(cap - 1, cap)); /* one frame left a full queue */
    assert_false(u2c_tx_queue_should_wake(cap - TX_WAKE_ROOM + 1, cap));
    assert_true(u2c_tx_queue_should_wake(cap - TX_WAKE_ROOM, cap));
    assert_true(u2c_tx_queue_should_wake(cap - TX_WAKE_ROOM - 1, cap));
    assert_true(u2c_tx_queue_should_wake(1, cap));
    assert_true(u2c_tx_queue_should_wake(0, cap));

    /* Popping a full queue one frame at a time: the first wake comes with
     * the TX_WAKE_ROOM-th frame that leaves. */
    uint32_t first_wake = 0;
    for (uint32_t popped = 1; popped <= cap && first_wake == 0; popped++)
        if (u2c_tx_queue_should_wake(cap - popped, cap))
            first_wake = popped;
    assert_int_equal(first_wake, TX_WAKE_ROOM);

    /* A queue smaller than TX_WAKE_ROOM wakes only when it empties. */
    assert_false(u2c_tx_queue_should_wake(1, TX_WAKE_ROOM));
    assert_true(u2c_tx_queue_should_wake(0, TX_WAKE_ROOM));
    assert_false(u2c_tx_queue_should_wake(1, 16));
    assert_true(u2c_tx_queue_should_wake(0, 16));
    assert_true(u2c_tx_queue_should_wake(1, TX_WAKE_ROOM + 1));
    assert_false(u2c_tx_queue_should_wake(2, TX_WAKE_ROOM + 1));

    /* A count above the capacity is no room at all. */
    assert_false(u2c_tx_queue_should_wake(cap + 1, cap));
}

/* --- rx_filter ----------------------------------------------------------- */

static void test_filter_default_accepts_all(void **state)
{
    (void)state;
    rx_filter f;
    rx_filter_init(&f);
    assert_true(rx_filter_accepts(&f, 0x123, false, false));
    assert_true(rx_filter_accepts(&f, 0x1ABCDEF0, true, true));
}

static void test_filter_canal_mask(void **state)
{
    (void)state;
    rx_filter f;
    rx_filter_init(&f);
    f.mask = 0x7F0;
    f.filter = 0x120;
    assert_true(rx_filter_accepts(&f, 0x123, false, false));
    assert_true(rx_filter_accepts(&f, 0x12F, false, false));
    assert_false(rx_filter_accepts(&f, 0x133, false, false));
    /* Without the format bit in the mask both formats pass. */
    assert_true(rx_filter_accepts(&f, 0x123, true, false));
    f.mask |= RX_FILTER_KEY_EXT;
    assert_false(rx_filter_accepts(&f, 0x123, true, false));
    f.filter |= RX_FILTER_KEY_EXT;
    assert_true(rx_filter_accepts(&f, 0x123, true, false));
    assert_false(rx_filter_accepts(&f, 0x123, false, false));
    /* RTR bit. */
    rx_filter_init(&f);
    f.mask = RX_FILTER_KEY_RTR;
    f.filter = 0;
    assert_true(rx_filter_accepts(&f, 0x1, false, false));
    assert_false(rx_filter_accepts(&f, 0x1, false, true));
}

static void test_filter_pairs(void **state)
{
    (void)state;
    rx_filter f;
    char reason[128];
    rx_filter_init(&f);
    /* As 8devices' python-can fork builds them: extended=False -> mask bit 31
     * set, id bit 31 clear; extended=True -> both set; no key -> neither. */
    const unsigned long values[] = {
        0x100,
        0x7FF | 0x80000000ul, /* std 0x100 only */
        0x18DA00F1 | 0x80000000ul,
        0x1FFFFF00 | 0x80000000ul, /* ext 0x18DA00xx */
        0x7E8,
        0x7FF, /* 0x7E8 in either format */
    };
    assert_true(rx_filter_set_pairs(&f, 6, values, reason, sizeof reason));
    assert_int_equal(f.pair_count, 3);
    assert_true(rx_filter_accepts(&f, 0x100, false, false));
    assert_false(rx_filter_accepts(&f, 0x100, true, false));
    assert_true(rx_filter_accepts(&f, 0x18DA0042, true, false));
    assert_false(rx_filter_accepts(&f, 0x18DB0042, true, false));
    assert_true(rx_filter_accepts(&f, 0x7E8, false, false));
    assert_true(rx_filter_accepts(&f, 0x7E8, true, false));
    assert_true(rx_filter_accepts(&f, 0x100, false, true)); /* RTR ignored */
    assert_false(rx_filter_accepts(&f, 0x101, false, false));
    /* Both stages must accept. */
    f.mask = 0x7FF;
    f.filter = 0x7E8;
    assert_false(rx_filter_accepts(&f, 0x100, false, false));
    assert_true(rx_filter_accepts(&f, 0x7E8, false, false));
    /* 0 values clears the list. */
    assert_true(rx_filter_set_pairs(&f, 0, NULL, reason, sizeof reason));
    assert_int_equal(f.pair_count, 0);
}

static void test_filter_pairs_refused(void **state)
{
    (void)state;
    rx_filter f;
    char reason[128] = "";
    const unsigned long values[2 * (RX_FILTER_MAX_PAIRS + 1)] = {0};
    rx_filter_init(&f);
    assert_true(rx_filter_set_pairs(&f, 2, values, reason, sizeof reason));
    assert_false(rx_filter_set_pairs(&f, 3, values, reason, sizeof reason));
    assert_non_null(strstr(reason, "odd"));
    assert_false(rx_filter_set_pairs(&f, 4, NULL, reason, sizeof reason));
    assert_non_null(strstr(reason, "NULL"));
    assert_false(
        rx_filter_set_pairs(&f, 2 * (RX_FILTER_MAX_PAIRS + 1), values, reason, sizeof reason));
    assert_non_null(strstr(reason, "at most"));
    assert_int_equal(f.pair_count, 1); /* unchanged by the refusals */
}

/* --- bus_state ----------------------------------------------------------- */

static void test_bus_state_lone_sender(void **state)
{
    (void)state;
    u2c_bus_state s;
    u2c_bus_state_init(&s);
    assert_int_equal(u2c_bus_state_word(&s), 0);
    u2c_bus_state_apply(&s, CANAL_STATUSMSG_ACK, 0, 8);
    assert_int_equal(u2c_bus_state_word(&s), 8);
    u2c_bus_state_apply(&s, CANAL_STATUSMSG_BUSLIGHT, 0, 96);
    assert_int_equal(u2c_bus_state_word(&s), 96 | CANAL_STATUS_BUS_WARN);
    assert_int_equal(s.warnings, 1);
    u2c_bus_state_apply(&s, CANAL_STATUSMSG_BUSHEAVY, 0, 128);
    assert_int_equal(u2c_bus_state_word(&s), 128 | CANAL_STATUS_BUS_WARN | CANAL_STATUS_PASSIVE);
    char text[80];
    u2c_bus_state_describe(&s, text, sizeof text);
    assert_string_equal(text, "error passive; TEC 128 REC 0; last: error passive");
    /* A protocol error keeps the state; OK with low counters clears it. */
    u2c_bus_state_apply(&s, CANAL_STATUSMSG_ACK, 0, 136);
    assert_true(u2c_bus_state_word(&s) & CANAL_STATUS_PASSIVE);
    u2c_bus_state_apply(&s, CANAL_STATUSMSG_OK, 0, 0);
    assert_int_equal(u2c_bus_state_word(&s), 0);
}

/* Every OPEN starts from error-active; the adapter's GET_STATUS word is the
 * current truth; a decaying state (CANalyze) falls back to active when no
 * record came for decay_ns, but bus-off stays until the next OPEN. */
static void test_bus_state_restart_word_and_decay(void **state)
{
    (void)state;
    u2c_bus_state s;
    u2c_bus_state_init(&s);
    u2c_bus_state_apply(&s, CANAL_STATUSMSG_BUSLIGHT, 0, 100);
    u2c_bus_state_apply(&s, CANAL_STATUSMSG_BUSOFF, 0, 255);
    assert_true(u2c_bus_state_word(&s) & CANAL_STATUS_BUS_OFF);
    u2c_bus_state_restart(&s);
    assert_int_equal(u2c_bus_state_word(&s), 0);
    assert_int_equal(s.warnings, 1); /* cumulative counters stay */
    assert_int_equal(s.bus_offs, 1);

    u2c_bus_state_apply_word(&s, CANAL_STATUS_BUS_WARN | 0x1205u); /* REC 0x12, TEC 5 */
    assert_int_equal(u2c_bus_state_word(&s), CANAL_STATUS_BUS_WARN | 0x1205u);
    u2c_bus_state_apply_word(&s, 0x0002u);
    assert_int_equal(u2c_bus_state_word(&s), 2);

    const uint64_t second = 1000000000ull;
    u2c_bus_state_init(&s);
    s.decay_ns = 3 * second;
    u2c_bus_state_apply_at(&s, CANAL_STATUSMSG_BUSHEAVY, 0, 0, 10 * second);
    u2c_bus_state_settle(&s, 12 * second);
    assert_true(u2c_bus_state_word(&s) & CANAL_STATUS_PASSIVE);
    u2c_bus_state_apply_at(&s, CANAL_STATUSMSG_ACK, 0, 0, 12 * second); /* not quiet yet */
    u2c_bus_state_settle(&s, 14 * second);
    assert_true(u2c_bus_state_word(&s) & CANAL_STATUS_PASSIVE);
    u2c_bus_state_settle(&s, 15 * second);
    assert_int_equal(u2c_bus_state_word(&s), 0);
    u2c_bus_state_apply_at(&s, CANAL_STATUSMSG_BUSOFF, 0, 0, 16 * second);
    u2c_bus_state_settle(&s, 60 * second);
    assert_true(u2c_bus_state_word(&s) & CANAL_STATUS_BUS_OFF);
}

static void test_bus_state_counters_rule(void **state)
{
    (void)state;
    u2c_bus_state s;
    u2c_bus_state_init(&s);
    /* OK (LEC back to no error) while the counters still say passive. */
    u2c_bus_state_apply(&s, CANAL_STATUSMSG_OK, 0x05, 130);
    assert_int_equal(u2c_bus_state_word(&s),
                     130 | 5 << 8 | CANAL_STATUS_BUS_WARN | CANAL_STATUS_PASSIVE);
    /* REC bit 7 = receive passive, not part of the count. */
    u2c_bus_state_apply(&s, CANAL_STATUSMSG_STUFF, 0x85, 0);
    assert_int_equal(u2c_bus_state_word(&s),
                     5 << 8 | CANAL_STATUS_BUS_WARN | CANAL_STATUS_PASSIVE);
    u2c_bus_state_apply(&s, CANAL_STATUSMSG_BUSOFF, 0, 255);
    assert_true(u2c_bus_state_word(&s) & CANAL_STATUS_BUS_OFF);
    assert_int_equal(s.bus_offs, 1);
    u2c_bus_state_apply(&s, CANAL_STATUSMSG_OVERRUN, 0, 255);
    assert_true(u2c_bus_state_word(&s) & CANAL_STATUS_BUS_OFF);
    assert_int_equal(s.device_overruns, 1);
    char text[80];
    u2c_bus_state_describe(&s, text, sizeof text);
    assert_string_equal(text, "bus off; TEC 255 REC 0; last: adapter overrun");
    u2c_bus_state_apply(&s, 0x42, 0, 0);
    u2c_bus_state_apply(&s, CANAL_STATUSMSG_OK, 0, 0);
    assert_int_equal(u2c_bus_state_word(&s), 0);
}

/* --- handles ------------------------------------------------------------- */

static int objects[U2C_HANDLE_SLOTS + 1];

static void test_handles_numbering_and_limit(void **state)
{
    (void)state;
    static u2c_handle_table t;
    u2c_handles_init(&t);
    long h[U2C_HANDLE_SLOTS];
    for (int i = 0; i < U2C_HANDLE_SLOTS; i++) {
        int r = u2c_handles_reserve(&t);
        assert_true(r > 0);
        h[i] = u2c_handles_publish(&t, r, &objects[i]);
        assert_int_equal(h[i], U2C_HANDLE_FIRST + i);
    }
    assert_int_equal(u2c_handles_reserve(&t), 0); /* the 33rd */
    assert_int_equal(u2c_handles_in_use(&t), U2C_HANDLE_SLOTS);
    for (int i = 0; i < U2C_HANDLE_SLOTS; i++) {
        assert_ptr_equal(u2c_handles_acquire(&t, h[i], NULL), &objects[i]);
        u2c_handles_release(&t, h[i]);
    }
    assert_int_equal(u2c_handles_latest(&t), h[U2C_HANDLE_SLOTS - 1]);
    long live[U2C_HANDLE_SLOTS];
    assert_int_equal(u2c_handles_live(&t, live, U2C_HANDLE_SLOTS), U2C_HANDLE_SLOTS);

    /* Close one: its number stays dead, the next open gets a new number. */
    u2c_lookup_miss miss;
    assert_ptr_equal(u2c_handles_begin_remove(&t, h[3], &miss), &objects[3]);
    assert_null(u2c_handles_acquire(&t, h[3], &miss));
    assert_int_equal(miss, U2C_MISS_CLOSING);
    assert_int_equal(u2c_handles_reserve(&t), 0); /* slot still taken while closing */
    assert_int_equal(u2c_handles_live(&t, live, U2C_HANDLE_SLOTS), U2C_HANDLE_SLOTS - 1);
    u2c_handles_wait_unused(&t, h[3]);
    u2c_handles_forget(&t, h[3]);
    assert_null(u2c_handles_acquire(&t, h[3], &miss));
    assert_int_equal(miss, U2C_MISS_CLOSED);
    int r = u2c_handles_reserve(&t);
    assert_true(r > 0);
    long fresh = u2c_handles_publish(&t, r, &objects[U2C_HANDLE_SLOTS]);
    assert_int_equal(fresh, U2C_HANDLE_FIRST + U2C_HANDLE_SLOTS);
    u2c_handles_destroy(&t);
}

/* A failed open uses up no number: the handles issued are exactly the
 * published ones, so "closed" and "never issued" stay apart. */
static void test_handles_closed_and_never_issued(void **state)
{
    (void)state;
    static u2c_handle_table t;
    u2c_handles_init(&t);
    int failed = u2c_handles_reserve(&t);
    int ok = u2c_handles_reserve(&t);
    assert_true(failed > 0 && ok > 0 && failed != ok);
    u2c_handles_cancel(&t, failed);
    long h = u2c_handles_publish(&t, ok, &objects[0]);
    assert_int_equal(h, U2C_HANDLE_FIRST);
    u2c_lookup_miss miss = U2C_MISS_CLOSING;
    assert_null(u2c_handles_acquire(&t, U2C_HANDLE_FIRST + 1, &miss));
    assert_int_equal(miss, U2C_MISS_UNKNOWN); /* the failed open's would-be number */
    assert_non_null(u2c_handles_begin_remove(&t, h, NULL));
    u2c_handles_forget(&t, h);
    miss = U2C_MISS_UNKNOWN;
    assert_null(u2c_handles_begin_remove(&t, h, &miss));
    assert_int_equal(miss, U2C_MISS_CLOSED);
    /* A cancelled or bogus reservation changes nothing. */
    u2c_handles_cancel(&t, failed);
    u2c_handles_cancel(&t, 0);
    u2c_handles_cancel(&t, U2C_HANDLE_SLOTS + 1);
    assert_int_equal(u2c_handles_publish(&t, failed, &objects[1]), 0);
    assert_int_equal(u2c_handles_in_use(&t), 0);
    u2c_handles_destroy(&t);
}

static void test_handles_unknown_numbers(void **state)
{
    (void)state;
    static u2c_handle_table t;
    u2c_handles_init(&t);
    long h = u2c_handles_publish(&t, u2c_handles_reserve(&t), &objects[0]);
    const long bogus[] = {0, -1, 1, 1680, h + 1, h + U2C_HANDLE_SLOTS, 0x7FFFFFFF, -1681};
    for (size_t i = 0; i < sizeof bogus / sizeof bogus[0]; i++) {
        u2c_lookup_miss miss = U2C_MISS_CLOSED;
        assert_null(u2c_handles_acquire(&t, bogus[i], &miss));
        assert_int_equal(miss, U2C_MISS_UNKNOWN);
        u2c_handles_release(&t, bogus[i]); /* harmless */
    }
    assert_int_equal(u2c_handles_latest(&t), h);
    u2c_handles_destroy(&t);
}

static void test_handles_wrap_skips_live(void **state)
{
    (void)state;
    static u2c_handle_table t;
    u2c_handles_init(&t);
    long first = u2c_handles_publish(&t, u2c_handles_reserve(&t), &objects[0]);
    assert_int_equal(first, U2C_HANDLE_FIRST);
    t.next_handle = U2C_HANDLE_LAST;
    u2c_lookup_miss miss = U2C_MISS_CLOSED;
    assert_null(u2c_handles_acquire(&t, U2C_HANDLE_LAST, &miss));
    assert_int_equal(miss, U2C_MISS_UNKNOWN);
    long last = u2c_handles_publish(&t, u2c_handles_reserve(&t), &objects[1]);
    assert_int_equal(last, U2C_HANDLE_LAST);
    long wrapped = u2c_handles_publish(&t, u2c_handles_reserve(&t), &objects[2]);
    assert_int_equal(wrapped, U2C_HANDLE_FIRST + 1); /* 1681 is still live */
    assert_ptr_equal(u2c_handles_acquire(&t, first, NULL), &objects[0]);
    u2c_handles_release(&t, first);
    /* After the wrap every number has been issued once: one not in use was closed. */
    assert_null(u2c_handles_acquire(&t, U2C_HANDLE_FIRST + 5, &miss));
    assert_int_equal(miss, U2C_MISS_CLOSED);
    u2c_handles_destroy(&t);
}

struct holder {
    u2c_handle_table *t;
    long handle;
    uint64_t released_at;
};

static void hold_then_release(void *arg)
{
    struct holder *h = arg;
    u2c_sleep_ms(60);
    h->released_at = u2c_now_ns();
    u2c_handles_release(h->t, h->handle);
}

static void test_handles_wait_unused_blocks_until_release(void **state)
{
    (void)state;
    static u2c_handle_table t;
    u2c_handles_init(&t);
    long h = u2c_handles_publish(&t, u2c_handles_reserve(&t), &objects[0]);
    assert_non_null(u2c_handles_acquire(&t, h, NULL));
    struct holder holder = {.t = &t, .handle = h};
    u2c_thread th;
    assert_int_equal(u2c_thread_start(&th, hold_then_release, &holder), 0);
    assert_non_null(u2c_handles_begin_remove(&t, h, NULL));
    u2c_handles_wait_unused(&t, h);
    uint64_t done = u2c_now_ns();
    u2c_thread_join(&th);
    assert_true(holder.released_at != 0);
    assert_true(done >= holder.released_at);
    u2c_handles_forget(&t, h);
    assert_int_equal(u2c_handles_in_use(&t), 0);
    u2c_handles_destroy(&t);
}

static void release_then_forget(void *arg)
{
    struct holder *h = arg;
    u2c_sleep_ms(60);
    u2c_handles_release(h->t, h->handle);
    u2c_handles_wait_unused(h->t, h->handle);
    h->released_at = u2c_now_ns();
    u2c_handles_forget(h->t, h->handle);
}

/* The unload path waits for users with a deadline; a second closer waits
 * for the first one to finish. */
static void test_handles_bounded_wait_and_wait_closed(void **state)
{
    (void)state;
    static u2c_handle_table t;
    u2c_handles_init(&t);
    long h = u2c_handles_publish(&t, u2c_handles_reserve(&t), &objects[0]);
    assert_non_null(u2c_handles_acquire(&t, h, NULL));
    assert_non_null(u2c_handles_begin_remove(&t, h, NULL));
    uint64_t start = u2c_now_ns();
    assert_false(u2c_handles_wait_unused_until(&t, h, start + 30 * MS));
    assert_true(u2c_now_ns() - start >= 30 * MS);

    struct holder holder = {.t = &t, .handle = h};
    u2c_thread th;
    assert_int_equal(u2c_thread_start(&th, release_then_forget, &holder), 0);
    u2c_handles_wait_closed(&t, h);
    uint64_t done = u2c_now_ns();
    u2c_thread_join(&th);
    assert_true(holder.released_at != 0 && done >= holder.released_at);
    assert_int_equal(u2c_handles_in_use(&t), 0);
    assert_true(u2c_handles_wait_unused_until(&t, h, start)); /* nothing to wait for */
    u2c_handles_destroy(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_fifo_and_full),
        cmocka_unit_test(test_ring_wraps),
        cmocka_unit_test(test_tx_queue_bounded_fifo),
        cmocka_unit_test(test_tx_queue_wake_policy),
        cmocka_unit_test(test_filter_default_accepts_all),
        cmocka_unit_test(test_filter_canal_mask),
        cmocka_unit_test(test_filter_pairs),
        cmocka_unit_test(test_filter_pairs_refused),
        cmocka_unit_test(test_bus_state_lone_sender),
        cmocka_unit_test(test_bus_state_counters_rule),
        cmocka_unit_test(test_bus_state_restart_word_and_decay),
        cmocka_unit_test(test_handles_numbering_and_limit),
        cmocka_unit_test(test_handles_closed_and_never_issued),
        cmocka_unit_test(test_handles_unknown_numbers),
        cmocka_unit_test(test_handles_wrap_skips_live),
        cmocka_unit_test(test_handles_wait_unused_blocks_until_release),
        cmocka_unit_test(test_handles_bounded_wait_and_wait_closed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
