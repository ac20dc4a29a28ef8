/* Virtual CAN bus; contract in vbus.h. */
#include "vbus.h"

#include "usb2can.h"

#include <stdlib.h>
#include <string.h>

/* Bits after the CRC sequence of a good frame: CRC delimiter, ACK slot, ACK
 * delimiter, 7 EOF. Then 3 intermission bits. */
#define TAIL_BITS 10u
#define IFS_BITS 3u
#define ERROR_FLAG_BITS 6u
#define ERROR_DELIMITER_BITS 8u
#define SUSPEND_BITS 8u

typedef struct node {
    u8d_model *m;
    uint32_t gen;            /* model generation last seen */
    bool parked;             /* instant mode: retrying would change nothing */
    uint64_t earliest_start; /* error-passive suspend */
    uint64_t lane_free;      /* silent + loopback private lane */
} node;

/* Outcome of one attempt, decided at its start. */
typedef struct attempt {
    bool active;
    int sender;
    uint32_t sender_gen;
    u8d_frame frame;
    vbus_outcome outcome;
    u8d_lec sender_lec;
    uint32_t receive_mask; /* nodes that store the frame */
    uint32_t error_mask;   /* nodes that count a receive error */
    u8d_lec receiver_lec;
    uint32_t gens[VBUS_MAX_NODES];
    unsigned bits_to_event, bits;
    uint64_t start_ns, event_ns, end_ns;
} attempt;

struct vbus {
    vbus_mode mode;
    node nodes[VBUS_MAX_NODES];
    uint32_t topology; /* changes on attach/detach */
    uint32_t topology_seen;
    uint64_t now_ns;
    uint64_t bus_free_at;
    attempt cur;
    vbus_stats stats;
    vbus_observer observer;
    void *observer_ctx;
    unsigned sample_point_tolerance; /* per mille; 0 = not checked */
};

/* --- frame bits ---------------------------------------------------------------- */

/* SOF .. end of CRC, walked once: CRC-15 and stuff bits computed on the fly. */
typedef struct bit_walk {
    uint32_t crc;
    unsigned bits;    /* unstuffed bits so far */
    unsigned stuffed; /* stuff bits so far */
    unsigned run;
    unsigned last; /* 2 = none yet */
} bit_walk;

typedef struct frame_layout {
    unsigned to_crc_end; /* SOF .. last CRC bit, stuff bits included */
    unsigned to_arb_end; /* SOF .. RTR bit, stuff bits included */
    unsigned stuffed;
} frame_layout;

static void walk_bit(bit_walk *w, unsigned bit)
{
    w->bits++;
    if (bit == w->last) {
        w->run++;
    } else {
        w->last = bit;
        w->run = 1;
    }
    if (w->run == 5) {
        w->stuffed++;
        w->last = !bit; /* the stuff bit starts the next run */
        w->run = 1;
    }
}

/* Bits covered by the CRC (SOF .. data). */
static void walk_crc_bits(bit_walk *w, uint32_t value, unsigned count)
{
    for (unsigned i = count; i-- > 0;) {
        unsigned bit = (value >> i) & 1u;
        unsigned next = bit ^ ((w->crc >> 14) & 1u);
        w->crc = (w->crc << 1) & 0x7FFFu;
        if (next)
            w->crc ^= 0x4599u;
        walk_bit(w, bit);
    }
}

static unsigned frame_data_len(const u8d_frame *f)
{
    if (f->flags & U8D_FLAG_RTR)
        return 0;
    return f->dlc > 8 ? 8u : f->dlc;
}

static void layout_of(const u8d_frame *f, frame_layout *out)
{
    bit_walk w = {.last = 2};
    uint32_t rtr = (f->flags & U8D_FLAG_RTR) ? 1u : 0u;
    walk_crc_bits(&w, 0, 1); /* SOF */
    if (f->flags & U8D_FLAG_EXT) {
        uint32_t id = f->id & USB2CAN_EXT_ID_MAX;
        walk_crc_bits(&w, id >> 18, 11);
        walk_crc_bits(&w, 3, 2); /* SRR, IDE */
        walk_crc_bits(&w, id & 0x3FFFFu, 18);
        walk_crc_bits(&w, rtr, 1);
        out->to_arb_end = w.bits + w.stuffed;
        walk_crc_bits(&w, 0, 2); /* r1, r0 */
    } else {
        walk_crc_bits(&w, f->id & USB2CAN_STD_ID_MAX, 11);
        walk_crc_bits(&w, rtr, 1);
        out->to_arb_end = w.bits + w.stuffed;
        walk_crc_bits(&w, 0, 2); /* IDE, r0 */
    }
    walk_crc_bits(&w, f->dlc & 0x0Fu, 4);
    unsigned n = frame_data_len(f);
    for (unsigned i = 0; i < n; i++)
        walk_crc_bits(&w, f->data[i], 8);
    uint32_t crc = w.crc;
    for (unsigned i = 15; i-- > 0;)
        walk_bit(&w, (crc >> i) & 1u);
    out->to_crc_end = w.bits + w.stuffed;
    out->stuffed = w.stuffed;
}

unsigned vbus_frame_stuff_bits(const u8d_frame *f)
{
    frame_layout l;
    layout_of(f, &l);
    return l.stuffed;
}

unsigned vbus_frame_bits(const u8d_frame *f)
{
    frame_layout l;
    layout_of(f, &l);
    return l.to_crc_end + TAIL_BITS + IFS_BITS;
}

uint64_t vbus_bits_to_ns(uint64_t bits, uint32_t bitrate)
{
    if (bitrate == 0)
        return 0;
    return (bits * 1000000000ull + bitrate / 2u) / bitrate;
}

/* --- lifecycle ---------------------------------------------------------------- */

vbus *vbus_create(vbus_mode mode, uint64_t start_ns)
{
    vbus *b = calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    b->mode = mode;
    b->now_ns = start_ns;
    b->bus_free_at = start_ns;
    b->stats.since_ns = start_ns;
    b->stats.now_ns = start_ns;
    return b;
}

void vbus_destroy(vbus *b)
{
    free(b);
}

vbus_mode vbus_get_mode(const vbus *b)
{
    return b->mode;
}

int vbus_attach(vbus *b, u8d_model *m)
{
    if (m == NULL)
        return -1;
    int free_slot = -1;
    for (int i = 0; i < VBUS_MAX_NODES; i++) {
        if (b->nodes[i].m == m)
            return -1;
        if (b->nodes[i].m == NULL && free_slot < 0)
            free_slot = i;
    }
    if (free_slot < 0)
        return -1;
    b->nodes[free_slot] = (node){.m = m, .gen = u8d_model_generation(m)};
    b->topology++;
    return free_slot;
}

void vbus_detach(vbus *b, u8d_model *m)
{
    for (int i = 0; i < VBUS_MAX_NODES; i++) {
        if (b->nodes[i].m != m || m == NULL)
            continue;
        b->nodes[i] = (node){0};
        b->topology++;
        if (b->cur.active && b->cur.sender == i) {
            b->cur.active = false; /* abandoned mid-frame: the bus is free from now */
            b->bus_free_at = b->now_ns;
        }
        b->cur.receive_mask &= ~(1u << i);
        b->cur.error_mask &= ~(1u << i);
    }
}

u8d_model *vbus_node(const vbus *b, int index)
{
    return index >= 0 && index < VBUS_MAX_NODES ? b->nodes[index].m : NULL;
}

void vbus_set_observer(vbus *b, vbus_observer fn, void *ctx)
{
    b->observer = fn;
    b->observer_ctx = ctx;
}

void vbus_get_stats(const vbus *b, vbus_stats *s)
{
    *s = b->stats;
}

void vbus_reset_stats(vbus *b)
{
    memset(&b->stats, 0, sizeof b->stats);
    b->stats.since_ns = b->now_ns;
    b->stats.now_ns = b->now_ns;
}

double vbus_load(const vbus_stats *s)
{
    uint64_t span = s->now_ns - s->since_ns;
    if (span == 0)
        return 0.0;
    double load = (double)s->busy_ns / (double)span;
    return load > 1.0 ? 1.0 : load;
}

/* --- attempt resolution -------------------------------------------------------- */

static bool bitrate_compatible(uint32_t a, uint32_t b)
{
    if (a == 0 || b == 0)
        return false;
    uint64_t diff = a > b ? a - b : b - a;
    return diff * 1000000ull <= (uint64_t)VBUS_BITRATE_TOLERANCE_PPM * (a > b ? a : b);
}

unsigned vbus_sample_point_permille(const u8d_bittiming *bt)
{
    unsigned tq = 1u + bt->tseg1 + bt->tseg2;
    return (1000u * (1u + bt->tseg1) + tq / 2u) / tq;
}

void vbus_set_sample_point_tolerance(vbus *b, unsigned permille)
{
    b->sample_point_tolerance = permille;
}

unsigned vbus_get_sample_point_tolerance(const vbus *b)
{
    return b->sample_point_tolerance;
}

/* Same rate, and (when the bus checks it) sample points close enough. */
static bool timing_compatible(const vbus *b, const u8d_model_can_view *rx,
                              const u8d_model_can_view *tx)
{
    if (!bitrate_compatible(rx->bitrate, tx->bitrate))
        return false;
    if (b->sample_point_tolerance == 0)
        return true;
    unsigned a = vbus_sample_point_permille(&rx->bt), c = vbus_sample_point_permille(&tx->bt);
    return (a > c ? a - c : c - a) <= b->sample_point_tolerance;
}

static bool node_passive(const u8d_model_can_view *v)
{
    return v->tec >= U8D_ERR_PASSIVE_LIMIT || v->rec >= U8D_ERR_PASSIVE_LIMIT;
}

/* Open, on the bus, listening to it (loopback ignores the bus input). */
static bool participates(const u8d_model_can_view *v)
{
    return v->running && !v->bus_off && !v->loopback && v->bitrate != 0;
}

/* Sender `s` with frame f: who receives, who errs, what the sender sees. */
static void resolve(vbus *b, int s, attempt *a)
{
    u8d_model_can_view sv, v;
    u8d_model_can_state(b->nodes[s].m, &sv);
    uint32_t compatible = 0, incompatible = 0, ackers = 0, destroyers = 0, faulty = 0;
    for (int i = 0; i < VBUS_MAX_NODES; i++) {
        if (i == s || b->nodes[i].m == NULL)
            continue;
        u8d_model_can_state(b->nodes[i].m, &v);
        if (!participates(&v))
            continue;
        uint32_t bit = 1u << i;
        if (timing_compatible(b, &v, &sv)) {
            /* A faulty node raises its flag whatever its counters say. */
            if (!v.silent && !sv.loopback && u8d_model_take_error_flag(b->nodes[i].m)) {
                faulty |= bit;
                continue;
            }
            compatible |= bit;
            if (!v.silent)
                ackers |= bit;
        } else {
            incompatible |= bit;
            if (!v.silent && !node_passive(&v))
                destroyers |= bit;
        }
    }
    frame_layout lay;
    layout_of(&a->frame, &lay);
    unsigned to_crc_end = lay.to_crc_end;
    unsigned to_ack_delim = to_crc_end + 2u; /* CRC delimiter, ACK slot */
    unsigned error_tail = ERROR_FLAG_BITS + ERROR_DELIMITER_BITS + IFS_BITS;
    u8d_lec injected;

    a->receive_mask = 0;
    a->error_mask = 0;
    a->receiver_lec = U8D_LEC_STUFF;
    if (!sv.loopback && u8d_model_take_injected_error(b->nodes[s].m, &injected)) {
        a->outcome = VBUS_INJECTED;
        a->sender_lec = injected;
        a->error_mask = compatible | incompatible;
        a->bits_to_event = to_ack_delim;
        a->bits = to_ack_delim + error_tail;
    } else if (faulty != 0 && destroyers == 0) {
        /* Its flag lands in the data field: the sender reads dominant where
         * it sent recessive, the other receivers see six equal bits. */
        a->outcome = VBUS_ERROR_FLAG;
        a->sender_lec = U8D_LEC_BIT1;
        a->error_mask = compatible | incompatible;
        unsigned at = lay.to_arb_end + 8u;
        a->bits_to_event = at;
        a->bits = at + 2u * ERROR_FLAG_BITS + ERROR_DELIMITER_BITS + IFS_BITS;
    } else if (destroyers != 0) {
        a->outcome = VBUS_BIT_ERROR;
        a->sender_lec = U8D_LEC_BIT1;
        a->error_mask = compatible | incompatible;
        unsigned at = lay.to_arb_end;
        a->bits_to_event = at;
        a->bits = at + 2u * ERROR_FLAG_BITS + ERROR_DELIMITER_BITS + IFS_BITS;
        if (sv.loopback)
            a->outcome = VBUS_SENT; /* it does not see the bus: its own copy is fine */
    } else if (ackers != 0 || sv.loopback) {
        a->outcome = VBUS_SENT;
        a->sender_lec = U8D_LEC_NONE;
        a->receive_mask = compatible;
        a->error_mask = incompatible;
        a->bits_to_event = to_crc_end + TAIL_BITS;
        a->bits = a->bits_to_event + IFS_BITS;
    } else {
        a->outcome = VBUS_ACK_ERROR;
        a->sender_lec = U8D_LEC_ACK;
        a->error_mask = incompatible;
        if (node_passive(&sv)) {
            a->receive_mask = compatible; /* recessive passive flag: the frame looks valid */
        } else {
            a->error_mask |= compatible;
            a->receiver_lec = U8D_LEC_FORM; /* dominant flag in the ACK delimiter */
        }
        a->bits_to_event = to_ack_delim;
        a->bits = to_ack_delim + error_tail;
    }
    a->sender = s;
    for (int i = 0; i < VBUS_MAX_NODES; i++)
        a->gens[i] = b->nodes[i].m ? u8d_model_generation(b->nodes[i].m) : 0;
    a->sender_gen = a->gens[s];
}

/* Applies an attempt's outcome at its event time to nodes unchanged since it began. */
static void apply(vbus *b, attempt *a, uint64_t at_ns)
{
    unsigned receivers = 0;
    for (int i = 0; i < VBUS_MAX_NODES; i++) {
        u8d_model *m = b->nodes[i].m;
        if (m == NULL || i == a->sender || u8d_model_generation(m) != a->gens[i])
            continue;
        if (a->receive_mask & (1u << i)) {
            u8d_model_can_rx(m, at_ns, &a->frame);
            receivers++;
        } else if (a->error_mask & (1u << i)) {
            u8d_model_can_rx_error(m, at_ns, a->receiver_lec);
        }
    }
    u8d_model *sm = b->nodes[a->sender].m;
    if (sm != NULL && u8d_model_generation(sm) == a->sender_gen) {
        if (a->outcome == VBUS_SENT)
            u8d_model_can_tx_done(sm, at_ns);
        else
            u8d_model_can_tx_error(sm, at_ns, a->sender_lec);
    }
    if (a->outcome == VBUS_SENT)
        b->stats.frames_sent++;
    else
        b->stats.error_frames++;
    b->stats.bits += a->bits;
    if (b->observer) {
        vbus_event ev = {.sender = a->sender,
                         .frame = a->frame,
                         .outcome = a->outcome,
                         .receivers = receivers,
                         .bits = a->bits,
                         .start_ns = a->start_ns,
                         .end_ns = a->end_ns};
        b->observer(b->observer_ctx, &ev);
    }
}

/* --- scheduling ---------------------------------------------------------------- */

/* Instant mode: a change anywhere may let parked frames through. */
static void unpark_on_change(vbus *b)
{
    bool changed = b->topology != b->topology_seen;
    b->topology_seen = b->topology;
    for (int i = 0; i < VBUS_MAX_NODES; i++) {
        if (b->nodes[i].m == NULL)
            continue;
        uint32_t g = u8d_model_generation(b->nodes[i].m);
        if (g != b->nodes[i].gen) {
            b->nodes[i].gen = g;
            changed = true;
        }
    }
    if (!changed)
        return;
    for (int i = 0; i < VBUS_MAX_NODES; i++)
        b->nodes[i].parked = false;
}

static bool private_lane(const u8d_model_can_view *v)
{
    return v->silent && v->loopback;
}

/* Node i when it has a model on a private lane (its state in *v), else NULL. */
static node *private_lane_node(vbus *b, int i, u8d_model_can_view *v)
{
    node *n = &b->nodes[i];
    if (n->m == NULL)
        return NULL;
    u8d_model_can_state(n->m, v);
    return private_lane(v) ? n : NULL;
}

/* Silent + loopback: the frame never reaches the bus; it comes back at the
 * node's own bit rate (at once in instant mode). */
static bool run_private_lanes(vbus *b, uint64_t until_ns, bool one)
{
    bool progress = false;
    for (int i = 0; i < VBUS_MAX_NODES; i++) {
        u8d_model_can_view v;
        node *n = private_lane_node(b, i, &v);
        if (n == NULL)
            continue;
        u8d_frame f;
        uint64_t ready;
        while (u8d_model_can_tx_peek(n->m, until_ns, &f, &ready)) {
            uint64_t start = ready > n->lane_free ? ready : n->lane_free;
            uint64_t done = start;
            if (b->mode == VBUS_PACED)
                done = start + vbus_bits_to_ns(vbus_frame_bits(&f) - IFS_BITS, v.bitrate);
            if (done > until_ns)
                break;
            n->lane_free =
                done + (b->mode == VBUS_PACED ? vbus_bits_to_ns(IFS_BITS, v.bitrate) : 0);
            u8d_model_can_tx_done(n->m, done);
            progress = true;
            if (one)
                return true;
        }
    }
    return progress;
}

typedef struct candidate {
    int index;
    u8d_frame frame;
    uint64_t ready_ns;
} candidate;

/* Nodes with a frame for the shared bus; returns their count. */
static int collect(vbus *b, uint64_t now_ns, candidate out[VBUS_MAX_NODES])
{
    int n = 0;
    for (int i = 0; i < VBUS_MAX_NODES; i++) {
        node *nd = &b->nodes[i];
        if (nd->m == NULL || (b->mode == VBUS_INSTANT && nd->parked))
            continue;
        u8d_model_can_view v;
        u8d_model_can_state(nd->m, &v);
        if (private_lane(&v) || v.bitrate == 0)
            continue;
        candidate c = {.index = i};
        if (!u8d_model_can_tx_peek(nd->m, now_ns, &c.frame, &c.ready_ns))
            continue;
        if (c.ready_ns < nd->earliest_start)
            c.ready_ns = nd->earliest_start;
        out[n++] = c;
    }
    return n;
}

/* Picks the arbitration winner among candidates ready by `at`; tells losers. */
static int arbitrate(vbus *b, candidate *c, int n, uint64_t at)
{
    int win = -1;
    for (int i = 0; i < n; i++) {
        if (c[i].ready_ns > at)
            continue;
        if (win < 0 ||
            u8d_frame_arbitration_key(&c[i].frame) < u8d_frame_arbitration_key(&c[win].frame))
            win = i;
    }
    for (int i = 0; i < n; i++) {
        if (i != win && c[i].ready_ns <= at)
            u8d_model_can_tx_lost_arbitration(b->nodes[c[i].index].m, at);
    }
    return win;
}

typedef struct sender_state {
    uint16_t tec;
    u8d_lec lec;
    bool bus_off;
} sender_state;

static sender_state snapshot(const u8d_model *m)
{
    u8d_model_can_view v;
    u8d_model_can_state(m, &v);
    return (sender_state){v.tec, v.lec, v.bus_off};
}

static void finish_attempt(vbus *b, attempt *a)
{
    apply(b, a, a->event_ns);
    node *sn = &b->nodes[a->sender];
    if (sn->m != NULL && b->mode == VBUS_PACED) {
        u8d_model_can_view v;
        u8d_model_can_state(sn->m, &v);
        if (node_passive(&v))
            sn->earliest_start = a->end_ns + vbus_bits_to_ns(SUSPEND_BITS, v.bitrate);
    }
    b->bus_free_at = a->end_ns;
    a->active = false;
}

/* One instant-mode attempt (or private-lane frame); false when nothing moved. */
static bool instant_step(vbus *b, uint64_t now_ns)
{
    unpark_on_change(b);
    candidate c[VBUS_MAX_NODES];
    int n = collect(b, now_ns, c);
    if (n == 0)
        return run_private_lanes(b, now_ns, true);
    int w = arbitrate(b, c, n, now_ns);
    int s = c[w].index;
    attempt *a = &b->cur;
    a->frame = c[w].frame;
    resolve(b, s, a);
    a->start_ns = a->event_ns = a->end_ns = now_ns;
    u8d_model *sm = b->nodes[s].m;
    sender_state before = snapshot(sm);
    uint32_t gen_before = u8d_model_generation(sm);
    apply(b, a, now_ns);
    sender_state after = snapshot(sm);
    uint32_t gen_after = u8d_model_generation(sm);
    if (a->outcome != VBUS_SENT && before.tec == after.tec && before.lec == after.lec &&
        before.bus_off == after.bus_off && gen_before == gen_after)
        b->nodes[s].parked = true;
    b->nodes[s].gen = gen_after; /* its own bus-off must not unpark the others */
    return true;
}

static void start_attempt(vbus *b, const candidate *c, uint64_t start_ns)
{
    attempt *a = &b->cur;
    a->frame = c->frame;
    resolve(b, c->index, a);
    u8d_model_can_view v;
    u8d_model_can_state(b->nodes[c->index].m, &v);
    a->start_ns = start_ns;
    a->event_ns = start_ns + vbus_bits_to_ns(a->bits_to_event, v.bitrate);
    a->end_ns = start_ns + vbus_bits_to_ns(a->bits, v.bitrate);
    a->active = true;
    b->stats.busy_ns += a->end_ns - a->start_ns;
}

/* One paced-mode event at or before now_ns; false when nothing is due. */
static bool paced_step(vbus *b, uint64_t now_ns)
{
    if (b->cur.active) {
        if (b->cur.event_ns > now_ns)
            return false;
        finish_attempt(b, &b->cur);
        return true;
    }
    if (run_private_lanes(b, now_ns, true))
        return true;
    candidate c[VBUS_MAX_NODES];
    int n = collect(b, now_ns, c);
    if (n == 0)
        return false;
    uint64_t start = UINT64_MAX;
    for (int i = 0; i < n; i++) {
        if (c[i].ready_ns < start)
            start = c[i].ready_ns;
    }
    if (start < b->bus_free_at)
        start = b->bus_free_at;
    if (start > now_ns)
        return false;
    int w = arbitrate(b, c, n, start);
    start_attempt(b, &c[w], start);
    return true;
}

bool vbus_step(vbus *b, uint64_t now_ns)
{
    if (now_ns < b->now_ns)
        now_ns = b->now_ns;
    bool moved = b->mode == VBUS_INSTANT ? instant_step(b, now_ns) : paced_step(b, now_ns);
    b->now_ns = now_ns;
    b->stats.now_ns = now_ns;
    return moved;
}

void vbus_run_until(vbus *b, uint64_t now_ns)
{
    while (vbus_step(b, now_ns)) {
    }
    if (now_ns > b->now_ns) {
        b->now_ns = now_ns;
        b->stats.now_ns = now_ns;
    }
}

uint64_t vbus_next_event_ns(vbus *b)
{
    if (b->cur.active)
        return b->cur.event_ns;
    uint64_t next = UINT64_MAX;
    candidate c[VBUS_MAX_NODES];
    int n = collect(b, b->now_ns, c);
    for (int i = 0; i < n; i++) {
        uint64_t t = c[i].ready_ns > b->bus_free_at ? c[i].ready_ns : b->bus_free_at;
        if (t < next)
            next = t;
    }
    for (int i = 0; i < VBUS_MAX_NODES; i++) {
        u8d_model_can_view v;
        node *nd = private_lane_node(b, i, &v);
        u8d_frame f;
        uint64_t ready;
        if (nd == NULL || !u8d_model_can_tx_peek(nd->m, b->now_ns, &f, &ready))
            continue;
        uint64_t t = ready > nd->lane_free ? ready : nd->lane_free;
        if (b->mode == VBUS_PACED)
            t += vbus_bits_to_ns(vbus_frame_bits(&f) - IFS_BITS, v.bitrate);
        if (t < next)
            next = t;
    }
    if (b->mode == VBUS_INSTANT && next != UINT64_MAX && next < b->now_ns)
        next = b->now_ns;
    return next;
}

bool vbus_busy(vbus *b)
{
    return vbus_next_event_ns(b) != UINT64_MAX;
}
