/* Device model of the USB2CAN firmware; contract and fidelity notes in u8d_model.h. */
#include "u8d_model.h"

#include <stdlib.h>
#include <string.h>

#include "usb2can.h"

/* C_CAN status register bits the firmware watches (SR). */
#define SR_EPASS 0x20u
#define SR_EWARN 0x40u
#define SR_BOFF 0x80u

/* Fault confinement (ISO 11898-1; U8D_ERR_*_LIMIT for warning and passive). */
#define WARNING_LIMIT U8D_ERR_WARNING_LIMIT
#define PASSIVE_LIMIT U8D_ERR_PASSIVE_LIMIT
#define BUS_OFF_TEC 256u
#define REC_AFTER_PASSIVE 127u

/* CANalyze HAL_CAN error bits (hcan->ErrorCode). */
#define HAL_ERR_EWG 0x001u
#define HAL_ERR_EPV 0x002u
#define HAL_ERR_BOF 0x004u
#define HAL_ERR_STF 0x008u
#define HAL_ERR_FOR 0x010u
#define HAL_ERR_ACK 0x020u
#define HAL_ERR_BR 0x040u
#define HAL_ERR_BD 0x080u
#define HAL_ERR_CRC 0x100u

typedef struct tx_slot {
    u8d_frame frame;
    uint64_t ready_ns;
} tx_slot;

typedef struct cz_mailbox {
    bool full;
    tx_slot slot;
    uint32_t order; /* acceptance order: bxCAN breaks id ties by mailbox number */
} cz_mailbox;

struct u8d_model {
    u8d_model_config cfg;
    uint64_t power_on_ns;
    uint32_t generation;

    /* USB */
    uint8_t cmd_buf[U8D_CMD_SIZE];  /* the firmware's packet buffer, kept between commands */
    uint8_t cz_reply[U8D_CMD_SIZE]; /* CANalyze: its shared reply buffer */
    bool cz_reply_held;             /* CANalyze: a reply not yet read from EP 0x83 */
    bool cmd_dead;
    uint8_t out_buf[U8D_TX_RECORD_SIZE];
    bool out_stalled;
    bool detached;
    uint8_t in_packet[U8D_RX_MAX_RECORDS * U8D_RX_RECORD_SIZE];
    size_t in_len;

    /* TX, vendor: ring in front of the message object */
    tx_slot txq[U8D_MODEL_TX_QUEUE_DEPTH];
    size_t txq_head, txq_count;
    bool mailbox_full;
    tx_slot mailbox;
    uint64_t mailbox_free_since;

    /* TX, CANalyze */
    cz_mailbox czbox[U8D_MODEL_CZ_MAILBOXES];
    uint32_t cz_order;
    int cz_awaited; /* mailbox the blocking transmit waits for, -1 = none */
    int cz_sending; /* mailbox last offered to the bus, -1 = none */
    uint64_t cz_busy_until;
    uint8_t cz_last_record[U8D_RX_RECORD_SIZE]; /* its shared data buffer */

    /* Vendor: records the OUT endpoint may hold while closed (the main loop
     * stops moving them into the list, main.c ~198-199 and ~329-341). */
    size_t closed_out_limit;
    /* CANalyze: the controller cannot leave init mode (no 11 recessive bits). */
    bool cz_init_blocked;

    /* RX list (vendor) */
    u8d_rx_record rxq[U8D_MODEL_RX_QUEUE_DEPTH];
    size_t rxq_head, rxq_count;

    /* CAN controller */
    bool running;
    bool bus_off;
    uint32_t mode_flags;
    u8d_bittiming bt;
    uint32_t bitrate;
    uint16_t tec, rec;
    u8d_lec lec;
    uint8_t reported_state; /* SR state bits last reported by the firmware */
    u8d_lec reported_lec;

    uint32_t stats[U8D_STAT_RESET];
    uint32_t lost;
    u8d_lec injected_lec;
    unsigned injected_count;
    unsigned error_flag_every; /* 0: a well-behaved node */
    unsigned error_flag_seen;  /* frames seen since its last error flag */
};

/* --- small helpers ---------------------------------------------------------- */

static bool is_vendor(const u8d_model *m)
{
    return m->cfg.flavor != U8D_FLAVOR_CANALYZE;
}

static bool error_passive(const u8d_model *m)
{
    return m->tec >= PASSIVE_LIMIT || m->rec >= PASSIVE_LIMIT;
}

static uint8_t tec_register(const u8d_model *m)
{
    return m->tec > 255u ? 255u : (uint8_t)m->tec;
}

static uint8_t rec_register(const u8d_model *m)
{
    return m->rec > 127u ? 127u : (uint8_t)m->rec;
}

/* The bus-off, error-passive and warning states as the given bits. */
static uint32_t state_flags(const u8d_model *m, uint32_t bus_off, uint32_t passive,
                            uint32_t warning)
{
    bool warn = m->tec >= WARNING_LIMIT || m->rec >= WARNING_LIMIT;
    return (m->bus_off ? bus_off : 0) | (error_passive(m) ? passive : 0) | (warn ? warning : 0);
}

static uint8_t state_bits(const u8d_model *m)
{
    return (uint8_t)state_flags(m, SR_BOFF, SR_EPASS, SR_EWARN);
}

void u8d_model_config_vendor(u8d_model_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->flavor = U8D_FLAVOR_VENDOR;
    cfg->version = (u8d_version){1, 7, 1, 0};
    memcpy(cfg->serial, "ED000001", 9);
}

void u8d_model_config_canalyze(u8d_model_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->flavor = U8D_FLAVOR_CANALYZE;
    cfg->version = (u8d_version){0, 1, 0, 1};
    memcpy(cfg->serial, "CA000001", 9);
}

u8d_model *u8d_model_create(const u8d_model_config *cfg, uint64_t power_on_ns)
{
    if (cfg == NULL || cfg->crystal_drift_ppb > U8D_MODEL_DRIFT_MAX_PPB ||
        cfg->crystal_drift_ppb < -U8D_MODEL_DRIFT_MAX_PPB)
        return NULL;
    u8d_model *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    m->cfg = *cfg;
    m->cfg.serial[8] = '\0';

    m->power_on_ns = power_on_ns;
    m->cz_awaited = -1;
    m->cz_sending = -1;
    m->reported_lec = U8D_LEC_NONE;
    m->closed_out_limit = 1;
    return m;
}

void u8d_model_destroy(u8d_model *m)
{
    free(m);
}

const u8d_model_config *u8d_model_get_config(const u8d_model *m)
{
    return &m->cfg;
}

/* Both firmwares count their timestamp from a timer clocked by the board's
 * oscillator: the vendor's GlobalTick advances in the TB timer interrupt,
 * 127 x 250 periods of CKTIM, the 4 MHz oscillator's PLL x16 / 2 = 32 MHz
 * [FW USBApp/hw_config.c Set_System and Set_TB; 75x_it.c], CANalyze's is
 * the HAL millisecond tick of the STM32 clock [CZ, HAL_GetTick]. An
 * oscillator off by p ppm makes every tick p ppm short (fast) or long
 * (slow): elapsed device time is host time scaled by 1 + p. */
static uint64_t crystal_elapsed_ns(const u8d_model *m, uint64_t since)
{
    int64_t ppb = m->cfg.crystal_drift_ppb;
    const int64_t billion = 1000000000;
    int64_t extra = (int64_t)(since / (uint64_t)billion) * ppb +
                    (int64_t)(since % (uint64_t)billion) * ppb / billion;
    return (uint64_t)((int64_t)since + extra);
}

uint32_t u8d_model_timestamp(const u8d_model *m, uint64_t now_ns)
{
    uint64_t since = now_ns > m->power_on_ns ? now_ns - m->power_on_ns : 0;
    since = crystal_elapsed_ns(m, since);
    if (!is_vendor(m))
        return (uint32_t)(since / 1000000u);
    return (uint32_t)(since * U8D_MODEL_TICK_DEN / U8D_MODEL_TICK_NUM_NS) & U8D_VENDOR_TS_MASK;
}

/* --- RX path ------------------------------------------------------------------ */

/* The main loop loads the IN endpoint as soon as it is free and records wait,
 * but only while open: a closed adapter's loop stops before its RX part
 * (krumboeck/usb2can_firmware main.c ~198-199, ~305-323), so the list
 * survives CLOSE and goes out after the next OPEN. A packet already loaded
 * stays valid in the endpoint and is read whenever the host asks. */
static void load_in_packet(u8d_model *m)
{
    if (m->in_len != 0 || !is_vendor(m) || !m->running)
        return;
    while (m->rxq_count > 0 && m->in_len < sizeof m->in_packet) {
        u8d_encode_rx(m->in_packet + m->in_len, &m->rxq[m->rxq_head], U8D_FLAVOR_VENDOR);
        m->in_len += U8D_RX_RECORD_SIZE;
        m->rxq_head = (m->rxq_head + 1) % U8D_MODEL_RX_QUEUE_DEPTH;
        m->rxq_count--;
    }
}

static bool rx_list_push(u8d_model *m, const u8d_rx_record *r)
{
    if (m->rxq_count == U8D_MODEL_RX_QUEUE_DEPTH)
        return false;
    m->rxq[(m->rxq_head + m->rxq_count) % U8D_MODEL_RX_QUEUE_DEPTH] = *r;
    m->rxq_count++;
    load_in_packet(m);
    return true;
}

/* CANalyze: one shared 21-byte buffer; a busy IN endpoint loses the record. */
static void cz_send_record(u8d_model *m)
{
    if (m->in_len != 0) {
        m->lost++;
        return;
    }
    memcpy(m->in_packet, m->cz_last_record, U8D_RX_RECORD_SIZE);
    m->in_len = U8D_RX_RECORD_SIZE;
}

/* CANalyze: ext ids masked to 25 bits, the raw 4-bit DLC forwarded, only
 * DLC bytes copied over its static buffer (kkuchera/canalyze-fw
 * src/usbd_8dev_if.c ~162-186). */
static void cz_receive_frame(u8d_model *m, uint64_t now_ns, const u8d_frame *f)
{
    u8d_rx_record r = {.type = U8D_TYPE_CAN, .frame = *f};
    r.timestamp = u8d_model_timestamp(m, now_ns);
    if (f->flags & U8D_FLAG_EXT)
        r.frame.id &= 0x1FFFFFFu; /* its 25-bit mask bug (docs/protocol.md, CANalyze) */
    /* Data bytes past the dlc stay as the previous frame left them. */
    uint8_t stale[8];
    memcpy(stale, m->cz_last_record + 8, 8);
    unsigned n = f->dlc > 8 ? 8 : f->dlc;
    memcpy(r.frame.data, stale, 8);
    memcpy(r.frame.data, f->data, n);
    u8d_encode_rx(m->cz_last_record, &r, U8D_FLAVOR_CANALYZE);
    cz_send_record(m);
}

static void store_rx_frame(u8d_model *m, uint64_t now_ns, const u8d_frame *f)
{
    if (!is_vendor(m)) {
        cz_receive_frame(m, now_ns, f);
        return;
    }
    /* The raw 4-bit DLC of the message object goes to the host, 9..15
     * included (krumboeck/usb2can_firmware str75x_lib/src/75x_can.c ~524,
     * messages.c ~108); all 8 data bytes are copied. */
    u8d_rx_record r = {.type = U8D_TYPE_CAN, .frame = *f};
    r.frame.dlc &= 0x0Fu;
    r.timestamp = u8d_model_timestamp(m, now_ns);
    if (!rx_list_push(m, &r)) {
        m->stats[U8D_STAT_OVERRUNS]++;
        return;
    }
    m->stats[U8D_STAT_RX_FRAMES]++;
    m->stats[U8D_STAT_RX_BYTES] += (f->flags & U8D_FLAG_RTR) ? 0u : (f->dlc > 8 ? 8u : f->dlc);
}

/* --- status records ----------------------------------------------------------- */

/* Type 3, flags 4, dlc 4, id 0, data = code, REC & 0x7F, TEC, 0, through the
 * RX list (krumboeck/usb2can_firmware messages.c ~309-325). */
static void vendor_status_record(u8d_model *m, uint64_t now_ns, uint8_t code)
{
    u8d_rx_record r = {.type = U8D_TYPE_STATUS};
    r.frame.flags = U8D_FLAG_ERR;
    r.frame.dlc = 4;
    r.frame.data[0] = code;
    r.frame.data[1] = rec_register(m) & 0x7Fu;
    r.frame.data[2] = tec_register(m);
    r.timestamp = u8d_model_timestamp(m, now_ns);
    (void)rx_list_push(m, &r); /* a full list loses it without a count (FW SendErrorMessage) */
}

static uint8_t lec_status_code(u8d_lec lec)
{
    static const uint8_t codes[] = {U8D_SC_OK,   U8D_SC_STUFF, U8D_SC_FORM, U8D_SC_ACK,
                                    U8D_SC_BIT1, U8D_SC_BIT0,  U8D_SC_CRC,  0};
    return codes[lec & 7u];
}

/* The firmware main loop's pass over SR: state change first, then LEC change,
 * whatever the OPEN flags said (krumboeck/usb2can_firmware main.c ~205-268). */
static void vendor_report(u8d_model *m, uint64_t now_ns)
{
    if (!m->running)
        return;
    uint8_t sr = state_bits(m);
    if (sr != m->reported_state) {
        m->reported_state = sr;
        if (sr & SR_BOFF) {
            m->stats[U8D_STAT_BUSOFF]++;
            vendor_status_record(m, now_ns, U8D_SC_BUSOFF);
        } else if (sr & SR_EPASS) {
            vendor_status_record(m, now_ns, U8D_SC_BUSHEAVY);
        } else if (sr & SR_EWARN) {
            m->stats[U8D_STAT_WARNINGS]++;
            vendor_status_record(m, now_ns, U8D_SC_BUSLIGHT);
        } else {
            vendor_status_record(m, now_ns, U8D_SC_OK);
        }
    }
    if (m->lec != m->reported_lec) {
        m->reported_lec = m->lec;
        if (m->lec != U8D_LEC_UNUSED)
            vendor_status_record(m, now_ns, lec_status_code(m->lec));
    }
}

static uint32_t hal_lec_bit(u8d_lec lec)
{
    static const uint32_t bits[] = {0,          HAL_ERR_STF, HAL_ERR_FOR, HAL_ERR_ACK,
                                    HAL_ERR_BR, HAL_ERR_BD,  HAL_ERR_CRC, 0};
    return bits[lec & 7u];
}

/* CANalyze: HAL_CAN_ErrorCallback on each error interrupt. ErrorCode holds
 * every error flag still set plus the new LEC, and the firmware's compiled
 * branch (#if 1) reports the first of BOF, EPV, EWG, STF, FOR, ACK, BR, BD,
 * CRC that is set (kkuchera/canalyze-fw src/usbd_8dev_if.c ~299-324): once
 * warning, every error is reported as BUSLIGHT, once passive as BUSHEAVY.
 * It never reports OK (HAL_CAN_ERROR_NONE is 0, so that test never holds). */
static void cz_error_record(u8d_model *m, u8d_lec lec, bool state_edge)
{
    if (!m->running)
        return;
    uint32_t code = hal_lec_bit(lec);
    if (code == 0 && !state_edge)
        return;
    if (m->tec >= WARNING_LIMIT || m->rec >= WARNING_LIMIT)
        code |= HAL_ERR_EWG;
    if (error_passive(m))
        code |= HAL_ERR_EPV;
    if (m->bus_off)
        code |= HAL_ERR_BOF;
    static const struct {
        uint32_t bit;
        uint8_t status;
    } chain[] = {
        {HAL_ERR_BOF, U8D_SC_BUSOFF},   {HAL_ERR_EPV, U8D_SC_BUSHEAVY},
        {HAL_ERR_EWG, U8D_SC_BUSLIGHT}, {HAL_ERR_STF, U8D_SC_STUFF},
        {HAL_ERR_FOR, U8D_SC_FORM},     {HAL_ERR_ACK, U8D_SC_ACK},
        {HAL_ERR_BR, U8D_SC_BIT1},      {HAL_ERR_BD, U8D_SC_BIT0},
        {HAL_ERR_CRC, U8D_SC_CRC},
    };
    uint8_t byte = 0;
    bool found = false;
    for (size_t i = 0; i < sizeof chain / sizeof chain[0] && !found; i++) {
        if (code & chain[i].bit) {
            byte = chain[i].status;
            found = true;
        }
    }
    if (!found)
        return;
    /* Only start, type, flags, data[0] and end are written: id, dlc,
     * data[1..7] and the timestamp are the last frame's (kkuchera/canalyze-fw
     * src/usbd_8dev_if.c ~191-197). */
    m->cz_last_record[0] = U8D_DATA_START;
    m->cz_last_record[1] = U8D_TYPE_STATUS;
    m->cz_last_record[2] = U8D_FLAG_ERR;
    m->cz_last_record[8] = byte;
    m->cz_last_record[U8D_RX_RECORD_SIZE - 1] = U8D_DATA_END;
    cz_send_record(m);
}

/* Reports what changed after a bus event (vendor main loop / CANalyze IRQ). */
static void report_event(u8d_model *m, uint64_t now_ns, u8d_lec error, uint8_t state_before)
{
    if (is_vendor(m))
        vendor_report(m, now_ns);
    else
        cz_error_record(m, error, (state_bits(m) & ~state_before) != 0);
}

/* --- TX path ---------------------------------------------------------------- */

static void vendor_refill_mailbox(u8d_model *m, uint64_t now_ns)
{
    if (m->mailbox_full || m->txq_count == 0 || !m->running || m->bus_off)
        return;
    (void)now_ns;
    m->mailbox = m->txq[m->txq_head];
    if (m->mailbox.ready_ns < m->mailbox_free_since)
        m->mailbox.ready_ns = m->mailbox_free_since;
    m->txq_head = (m->txq_head + 1) % U8D_MODEL_TX_QUEUE_DEPTH;
    m->txq_count--;
    m->mailbox_full = true;
}

static void vendor_free_mailbox(u8d_model *m, uint64_t now_ns)
{
    m->mailbox_full = false;
    m->mailbox_free_since = now_ns;
    vendor_refill_mailbox(m, now_ns);
}

/* CANalyze transmit order: lowest identifier first (bxCAN TXFP = 0), then mailbox. */
static int cz_next_mailbox(const u8d_model *m)
{
    int best = -1;
    uint32_t best_key = 0;
    for (int i = 0; i < U8D_MODEL_CZ_MAILBOXES; i++) {
        if (!m->czbox[i].full)
            continue;
        uint32_t key = u8d_frame_arbitration_key(&m->czbox[i].slot.frame);
        if (best < 0 || key < best_key ||
            (key == best_key && m->czbox[i].order < m->czbox[best].order)) {
            best = i;
            best_key = key;
        }
    }
    return best;
}

static void cz_free_mailbox(u8d_model *m, int i, uint64_t now_ns)
{
    m->czbox[i].full = false;
    if (m->cz_awaited == i) {
        m->cz_awaited = -1;
        m->cz_busy_until = now_ns;
    }
}

/* The frame last offered to the bus, whichever flavour. */
static tx_slot *current_tx(u8d_model *m)
{
    if (is_vendor(m))
        return m->mailbox_full ? &m->mailbox : NULL;
    int i = m->cz_sending;
    return i >= 0 && m->czbox[i].full ? &m->czbox[i].slot : NULL;
}

static void drop_current_tx(u8d_model *m, uint64_t now_ns)
{
    if (is_vendor(m)) {
        if (m->mailbox_full)
            vendor_free_mailbox(m, now_ns);
        return;
    }
    if (m->cz_sending >= 0 && m->czbox[m->cz_sending].full)
        cz_free_mailbox(m, m->cz_sending, now_ns);
    m->cz_sending = -1;
}

/* Masks a record's fields the way the firmware copies them into the controller. */
static void firmware_mask_frame(const u8d_model *m, u8d_frame *f)
{
    f->flags &= U8D_FLAG_EXT | U8D_FLAG_RTR;
    f->id &= (f->flags & U8D_FLAG_EXT) ? USB2CAN_EXT_ID_MAX : USB2CAN_STD_ID_MAX;
    f->dlc &= 0x0Fu;
    if (!is_vendor(m))
        f->flags &= (uint8_t)~U8D_FLAG_RTR; /* CANalyze sends RTR requests as data frames */
}

/* The TX list survives CLOSE and OPEN (initialised only at power-up and USB
 * re-init, krumboeck/usb2can_firmware main.c ~152-171): frames queued when
 * the controller closes leave at the next OPEN. */
static u8d_model_out vendor_data_out(u8d_model *m, uint64_t now_ns, const u8d_frame *f)
{
    tx_slot slot = {.frame = *f, .ready_ns = now_ns};
    m->txq[(m->txq_head + m->txq_count) % U8D_MODEL_TX_QUEUE_DEPTH] = slot;
    m->txq_count++;
    vendor_refill_mailbox(m, now_ns);
    return U8D_MODEL_OUT_ACCEPTED;
}

static u8d_model_out cz_data_out(u8d_model *m, uint64_t now_ns, const u8d_frame *f)
{
    if (!m->running) {
        m->lost++; /* HAL_CAN_Transmit on an uninitialised handle fails */
        return U8D_MODEL_OUT_ACCEPTED;
    }
    for (int i = 0; i < U8D_MODEL_CZ_MAILBOXES; i++) {
        if (!m->czbox[i].full) {
            m->czbox[i].full = true;
            m->czbox[i].slot = (tx_slot){.frame = *f, .ready_ns = now_ns};
            m->czbox[i].order = m->cz_order++;
            m->cz_awaited = i;
            m->cz_busy_until = now_ns + U8D_MODEL_CZ_TX_TIMEOUT_NS;
            return U8D_MODEL_OUT_ACCEPTED;
        }
    }
    m->lost++;
    return U8D_MODEL_OUT_ACCEPTED;
}

u8d_model_out u8d_model_out_ready(const u8d_model *m, uint64_t now_ns)
{
    if (m->detached || m->out_stalled)
        return U8D_MODEL_OUT_STALLED;
    if (is_vendor(m)) {
        size_t limit = m->running ? U8D_MODEL_TX_QUEUE_DEPTH : m->closed_out_limit;
        return m->txq_count < limit ? U8D_MODEL_OUT_ACCEPTED : U8D_MODEL_OUT_NAK;
    }
    if (m->cz_awaited >= 0 && now_ns < m->cz_busy_until)
        return U8D_MODEL_OUT_NAK;
    return U8D_MODEL_OUT_ACCEPTED;
}

u8d_model_out u8d_model_data_out(u8d_model *m, uint64_t now_ns, const uint8_t *record, size_t len)
{
    u8d_model_out ready = u8d_model_out_ready(m, now_ns);
    if (ready != U8D_MODEL_OUT_ACCEPTED)
        return ready;
    if (!is_vendor(m) && m->cz_awaited >= 0) {
        m->cz_awaited = -1; /* the 10 ms wait ran out; the frame stays in its mailbox */
    }
    /* The endpoint buffer keeps what the previous packet left past len. */
    bool length_ok = is_vendor(m) ? len <= U8D_TX_RECORD_SIZE : len == U8D_TX_RECORD_SIZE;
    if (record == NULL)
        len = 0;
    if (len > U8D_TX_RECORD_SIZE)
        len = U8D_TX_RECORD_SIZE;
    if (len > 0)
        memcpy(m->out_buf, record, len);
    u8d_frame f;
    u8d_status st = u8d_decode_tx(m->out_buf, U8D_TX_RECORD_SIZE, &f);
    if (!length_ok || st == U8D_ERR_MARKER || st == U8D_ERR_SHORT || st == U8D_ERR_LENGTH ||
        st == U8D_ERR_ARG) {
        m->out_stalled = true; /* never re-armed: the transfer completed, the pipe is dead */
        m->generation++;
        return U8D_MODEL_OUT_ACCEPTED;
    }
    firmware_mask_frame(m, &f);
    return is_vendor(m) ? vendor_data_out(m, now_ns, &f) : cz_data_out(m, now_ns, &f);
}

size_t u8d_model_data_in(u8d_model *m, uint64_t now_ns, uint8_t packet[U8D_IN_PACKET_MAX])
{
    (void)now_ns;
    if (m->detached || m->in_len == 0)
        return 0;
    size_t n = m->in_len;
    memcpy(packet, m->in_packet, n);
    m->in_len = 0;
    load_in_packet(m);
    return n;
}

size_t u8d_model_rx_pending(const u8d_model *m)
{
    return m->in_len / U8D_RX_RECORD_SIZE + m->rxq_count;
}

size_t u8d_model_tx_pending(const u8d_model *m)
{
    if (is_vendor(m))
        return m->txq_count + (m->mailbox_full ? 1u : 0u);
    size_t n = 0;
    for (int i = 0; i < U8D_MODEL_CZ_MAILBOXES; i++)
        n += m->czbox[i].full ? 1u : 0u;
    return n;
}

/* --- CAN controller configuration ------------------------------------------- */

static const unsigned speed_table_kbps[] = {1000, 800, 500, 250, 125, 100, 50, 20, 10};

/* Predefined timing: the firmware writes only the 6-bit BRP field (docs/protocol.md, bit timing).
 */
static void timing_from_index(uint8_t index, u8d_bittiming *bt)
{
    unsigned kbps = index < 9 ? speed_table_kbps[index] : 125u;
    (void)u8d_bittiming_standard(kbps, bt);
    bt->brp = (uint16_t)(((bt->brp - 1u) & 0x3Fu) + 1u);
}

/* Manual timing: register fields are value-1, masked to their width. */
static void timing_manual(const u8d_bittiming *raw, u8d_bittiming *bt)
{
    bt->tseg1 = (uint8_t)(((raw->tseg1 - 1u) & 0x0Fu) + 1u);
    bt->tseg2 = (uint8_t)(((raw->tseg2 - 1u) & 0x07u) + 1u);
    bt->sjw = (uint8_t)(((raw->sjw - 1u) & 0x03u) + 1u);
    bt->brp = (uint16_t)(((raw->brp - 1u) & 0x3FFu) + 1u);
}

/* CANalyze: the host's 32 MHz timing at its 48 MHz clock. It stores
 * data[0..2] - 1 into the bxCAN fields and brp * TQ_SCALE (1.5) into a
 * uint16, truncating (kkuchera/canalyze-fw src/usbd_8dev_if.c ~252-256,
 * src/can.c ~80-83); HAL_CAN_Init writes Prescaler - 1 into BTR's 10-bit BRP
 * field, so an odd brp runs slow and a brp above 682 wraps
 * (u8d_canalyze_brp). A segment outside its field corrupts the others:
 * taken as unusable (0). */
static uint32_t cz_bitrate(const u8d_bittiming *raw)
{
    if (raw->brp == 0 || raw->tseg1 == 0 || raw->tseg1 > U8D_TSEG1_MAX || raw->tseg2 == 0 ||
        raw->tseg2 > U8D_TSEG2_MAX)
        return 0;
    return u8d_bittiming_bitrate_on(U8D_FLAVOR_CANALYZE, raw);
}

/* OPEN and CLOSE re-initialise the controller: counters, bus-off and the
 * frame in the message object (vendor) or the mailboxes (CANalyze: HAL
 * init/deinit aborts them, kkuchera/canalyze-fw src/can.c ~105-130). */
static void reset_controller(u8d_model *m, uint64_t now_ns)
{
    m->bus_off = false;
    m->tec = 0;
    m->rec = 0;
    m->lec = U8D_LEC_NONE;
    if (m->mailbox_full) {
        m->mailbox_full = false; /* message RAM re-initialised: that frame is gone */
        m->lost++;
    }
    for (int i = 0; i < U8D_MODEL_CZ_MAILBOXES; i++) {
        if (m->czbox[i].full)
            m->lost++;
        m->czbox[i].full = false;
    }
    m->cz_awaited = -1;
    m->cz_sending = -1;
    m->mailbox_free_since = now_ns;
    m->generation++;
}

/* The vendor main loop clears its statistics and error tracking only when it
 * sees the controller go from closed to open or back (krumboeck/
 * usb2can_firmware main.c ~174-193): an OPEN while open (or a CLOSE while
 * closed) keeps counting and keeps reporting against the old state. Its
 * loop runs between any two USB commands, so every real change of the
 * running state is seen. */
static void set_running(u8d_model *m, bool running)
{
    if (m->running != running) {
        m->reported_state = 0;
        m->reported_lec = U8D_LEC_NONE;
        memset(m->stats, 0, sizeof m->stats);
    }
    m->running = running;
    if (running) {
        load_in_packet(m);
    } else {
        /* Closed, the loop leaves one record in the OUT endpoint buffer
         * and takes no more: the list (at most 63) plus that one. */
        size_t limit = m->txq_count + 1u;
        m->closed_out_limit =
            limit < U8D_MODEL_RX_QUEUE_DEPTH + 1u ? limit : U8D_MODEL_RX_QUEUE_DEPTH + 1u;
    }
}

/* The frame the open main loop took from the list while the message object
 * was busy (TxCanMsg with TxCanFlag set): the next one, waiting behind a
 * full message object. The open/close transition clears TxCanFlag and so
 * drops it (krumboeck/usb2can_firmware main.c ~184, ~274-280). */
static void vendor_drop_held_frame(u8d_model *m)
{
    if (!is_vendor(m) || !m->running || !m->mailbox_full || m->txq_count == 0)
        return;
    m->txq_head = (m->txq_head + 1) % U8D_MODEL_TX_QUEUE_DEPTH;
    m->txq_count--;
    m->lost++;
}

static void command_open(u8d_model *m, uint64_t now_ns, const uint8_t *cmd)
{
    u8d_bittiming raw;
    uint32_t flags;
    u8d_decode_open(cmd, &raw, &flags);
    bool was_running = m->running;
    reset_controller(m, now_ns);
    if (is_vendor(m)) {
        if (cmd[U8D_CMD_OFF_OPT1] == U8D_SPEED_MANUAL)
            timing_manual(&raw, &m->bt);
        else
            timing_from_index(cmd[U8D_CMD_OFF_OPT1], &m->bt);
        m->bitrate = u8d_bittiming_bitrate(&m->bt);
        /* Only bits 0..2 are read (USB2CAN_open: test mode from flags & 3, DAR
         * from bit 2); status records go out whatever bit 3 says
         * (krumboeck/usb2can_firmware commands.c ~97-119, main.c ~205-268). */
        m->mode_flags = flags & U8D_OPEN_MODE_BITS;
    } else {
        m->bt = raw;
        m->bitrate = cz_bitrate(&raw);
        /* Only the low byte of the flags, bits 0..2 (kkuchera/canalyze-fw
         * src/usbd_8dev_if.c ~257-261, src/can.c ~66-77). */
        m->mode_flags = cmd[U8D_CMD_OFF_DATA + 8] & U8D_OPEN_MODE_BITS;
    }
    set_running(m, true);
    vendor_refill_mailbox(m, now_ns);
    /* OPEN on an open adapter is no transition: the error tracking keeps the
     * old state, and the loop's next look at SR (every turn) finds the
     * re-initialised controller and reports the change at once, e.g. OK
     * after bus-off (krumboeck/usb2can_firmware main.c ~177-193, ~205-236). */
    if (was_running && is_vendor(m))
        vendor_report(m, now_ns);
}

static void command_close(u8d_model *m, uint64_t now_ns)
{
    vendor_drop_held_frame(m);
    reset_controller(m, now_ns);
    set_running(m, false);
}

static bool command_set_speed(u8d_model *m, const uint8_t *cmd)
{
    if (!m->running)
        return false;
    if (cmd[U8D_CMD_OFF_OPT1] !=
        U8D_SPEED_MANUAL) /* manual: FW uses stale values; keep the timing */
        timing_from_index(cmd[U8D_CMD_OFF_OPT1], &m->bt);
    m->bitrate = u8d_bittiming_bitrate(&m->bt);
    m->generation++;
    return true;
}

uint32_t u8d_model_status_word(const u8d_model *m)
{
    uint32_t w = state_flags(m, U8D_STATUS_BUS_OFF, U8D_STATUS_PASSIVE, U8D_STATUS_BUS_WARN);
    return w | tec_register(m) | (uint32_t)rec_register(m) << 8;
}

uint32_t u8d_model_statistic(const u8d_model *m, enum u8d_stat_index index)
{
    return (unsigned)index < U8D_STAT_RESET ? m->stats[index] : 0;
}

/* --- command pipe --------------------------------------------------------- */

static void vendor_command(u8d_model *m, uint64_t now_ns, uint8_t *r)
{
    uint8_t *data = r + U8D_CMD_OFF_DATA;
    uint8_t result = U8D_RESULT_OK;
    switch (r[U8D_CMD_OFF_CODE]) {
    case U8D_CMD_RESET:
        reset_controller(m, now_ns);
        set_running(m, false);
        m->detached = true;
        break;
    case U8D_CMD_OPEN:
        command_open(m, now_ns, r);
        break;
    case U8D_CMD_CLOSE:
        command_close(m, now_ns);
        break;
    case U8D_CMD_SET_SPEED:
        result = command_set_speed(m, r) ? U8D_RESULT_OK : U8D_RESULT_ERROR;
        break;
    case U8D_CMD_SET_MASK_FILTER:
    case U8D_CMD_RESET_TIMESTAMP:
        result = r[U8D_CMD_OFF_OPT1];
        break; /* not implemented: opt1 echoed */
    case U8D_CMD_GET_STATUS:
        u8d_put_be32(data, u8d_model_status_word(m));
        break;
    case U8D_CMD_GET_STATISTICS:
        if (r[U8D_CMD_OFF_OPT1] < U8D_STAT_RESET) {
            u8d_put_be32(data, m->stats[r[U8D_CMD_OFF_OPT1]]);
        } else if (r[U8D_CMD_OFF_OPT1] == U8D_STAT_RESET) {
            memset(m->stats, 0, sizeof m->stats);
            u8d_put_be32(data, 0);
        } else {
            result = U8D_RESULT_ERROR;
        }
        break;
    case U8D_CMD_GET_SERIAL:
        memcpy(data, m->cfg.serial, 8);
        break;
    case U8D_CMD_GET_SOFTW_VER:
        data[0] = m->cfg.version.fw_major;
        data[1] = m->cfg.version.fw_minor;
        break;
    case U8D_CMD_GET_HARDW_VER:
        data[0] = m->cfg.version.hw_major;
        data[1] = m->cfg.version.hw_minor;
        break;
    case U8D_CMD_GET_SOFTW_HARDW_VER:
        data[0] = m->cfg.version.fw_major;
        data[1] = m->cfg.version.fw_minor;
        data[2] = m->cfg.version.hw_major;
        data[3] = m->cfg.version.hw_minor;
        break;
    default:
        result = U8D_RESULT_ERROR;
        break;
    }
    r[U8D_CMD_OFF_OPT1] = result;
}

/* CANalyze answers from its own transmit buffer: header fields copied, the
 * data bytes left as an earlier reply wrote them. */
static bool cz_command(u8d_model *m, uint64_t now_ns, const uint8_t *req)
{
    uint8_t *r = m->cz_reply;
    r[0] = U8D_CMD_START;
    r[U8D_CMD_OFF_CHANNEL] = req[U8D_CMD_OFF_CHANNEL];
    r[U8D_CMD_OFF_CODE] = req[U8D_CMD_OFF_CODE];
    r[U8D_CMD_OFF_OPT1] = req[U8D_CMD_OFF_OPT1];
    r[U8D_CMD_OFF_OPT2] = req[U8D_CMD_OFF_OPT2];
    r[U8D_CMD_SIZE - 1] = U8D_CMD_END;
    switch (req[U8D_CMD_OFF_CODE]) {
    case U8D_CMD_GET_SOFTW_HARDW_VER:
        r[U8D_CMD_OFF_DATA + 0] = m->cfg.version.fw_major;
        r[U8D_CMD_OFF_DATA + 1] = m->cfg.version.fw_minor;
        r[U8D_CMD_OFF_DATA + 2] = m->cfg.version.hw_major;
        r[U8D_CMD_OFF_DATA + 3] = m->cfg.version.hw_minor;
        break;
    case U8D_CMD_OPEN:
        if (m->cz_init_blocked) {
            /* HAL_CAN_Init waits 10 ms for the controller to leave init
             * (it needs 11 recessive bits) and fails; can_open returns 1 and
             * the reply carries option 255 (kkuchera/canalyze-fw src/can.c
             * ~105-108, src/main.c ~107-112, src/usbd_8dev_if.c ~150). The
             * controller stays in init: closed. */
            reset_controller(m, now_ns);
            set_running(m, false);
            r[U8D_CMD_OFF_OPT1] = U8D_RESULT_ERROR;
            return true;
        }
        command_open(m, now_ns, req);
        break;
    case U8D_CMD_CLOSE:
        command_close(m, now_ns);
        break;
    default:
        return false;
    }
    r[U8D_CMD_OFF_OPT1] = U8D_RESULT_OK;
    return true;
}

size_t u8d_model_command(u8d_model *m, uint64_t now_ns, const uint8_t *request, size_t len,
                         uint8_t reply[U8D_CMD_SIZE])
{
    if (m->detached || m->cmd_dead)
        return 0;
    if (!is_vendor(m)) {
        if (request == NULL || u8d_check_command(request, len) != U8D_OK ||
            !cz_command(m, now_ns, request)) {
            m->cmd_dead = true; /* Error_Handler: the OUT endpoint is never re-armed */
            return 0;
        }
        /* One reply buffer: while the previous reply is unread the transmit
         * returns USBD_BUSY and this reply is dropped; the command itself
         * was carried out (kkuchera/canalyze-fw src/usbd_8dev.c ~182-199,
         * src/usbd_8dev_if.c ~149-157). */
        if (m->cz_reply_held)
            return 0;
        memcpy(reply, m->cz_reply, U8D_CMD_SIZE);
        return U8D_CMD_SIZE;
    }
    if (request == NULL || len == 0 || len > U8D_CMD_SIZE)
        return 0;
    memcpy(m->cmd_buf, request, len);
    if (u8d_check_command(m->cmd_buf, U8D_CMD_SIZE) != U8D_OK)
        return 0;
    uint8_t r[U8D_CMD_SIZE];
    memcpy(r, m->cmd_buf, U8D_CMD_SIZE);
    vendor_command(m, now_ns, r);
    memcpy(reply, r, len);
    return len;
}

void u8d_model_reply_held(u8d_model *m, bool held)
{
    m->cz_reply_held = held && !is_vendor(m);
}

bool u8d_model_command_pipe_alive(const u8d_model *m)
{
    return !m->cmd_dead && !m->detached;
}

void u8d_model_usb_reinit(u8d_model *m, uint64_t now_ns)
{
    if (m->detached)
        m->power_on_ns = now_ns; /* RESET ends in a watchdog reset: a fresh boot */
    reset_controller(m, now_ns);
    if (m->detached)
        memset(m->stats, 0, sizeof m->stats); /* rebooted */
    set_running(m, false);
    m->cz_reply_held = false;
    m->detached = false;
    m->cmd_dead = false;
    m->out_stalled = false;
    m->in_len = 0;
    m->rxq_count = 0;
    m->txq_count = 0;
    m->closed_out_limit = 1;
}

void u8d_model_block_init(u8d_model *m, bool blocked)
{
    m->cz_init_blocked = blocked;
}

bool u8d_model_reply_overwrites(const u8d_model *m)
{
    return is_vendor(m);
}

bool u8d_model_detached(const u8d_model *m)
{
    return m->detached;
}

/* --- inspection ------------------------------------------------------------ */

void u8d_model_can_state(const u8d_model *m, u8d_model_can_view *v)
{
    v->running = m->running;
    v->bus_off = m->bus_off;
    v->silent = (m->mode_flags & U8D_OPEN_SILENT) != 0;
    v->loopback = (m->mode_flags & U8D_OPEN_LOOPBACK) != 0;
    v->one_shot = (m->mode_flags & U8D_OPEN_ONE_SHOT) != 0;
    v->bt = m->bt;
    v->bitrate = m->bitrate;
    v->tec = m->tec;
    v->rec = m->rec;
    v->lec = m->lec;
}

uint64_t u8d_model_next_timer_ns(const u8d_model *m)
{
    if (!is_vendor(m) && m->cz_awaited >= 0 && !m->out_stalled && !m->detached)
        return m->cz_busy_until;
    return UINT64_MAX;
}

uint32_t u8d_model_frames_lost(const u8d_model *m)
{
    return m->lost;
}

uint32_t u8d_model_generation(const u8d_model *m)
{
    return m->generation;
}

/* --- CAN face ---------------------------------------------------------------- */

uint32_t u8d_frame_arbitration_key(const u8d_frame *f)
{
    uint32_t rtr = (f->flags & U8D_FLAG_RTR) ? 1u : 0u;
    if (f->flags & U8D_FLAG_EXT) {
        uint32_t id = f->id & USB2CAN_EXT_ID_MAX;
        return (id >> 18) << 21 | 1u << 20 | 1u << 19 | (id & 0x3FFFFu) << 1 | rtr;
    }
    return (f->id & USB2CAN_STD_ID_MAX) << 21 | rtr << 20;
}

bool u8d_model_can_tx_peek(u8d_model *m, uint64_t now_ns, u8d_frame *frame, uint64_t *ready_ns)
{
    if (!m->running || m->bus_off || m->detached)
        return false;
    if ((m->mode_flags & U8D_OPEN_SILENT) && !(m->mode_flags & U8D_OPEN_LOOPBACK))
        return false; /* silent mode cannot start a transmission */
    if (is_vendor(m))
        vendor_refill_mailbox(m, now_ns);
    else
        m->cz_sending = cz_next_mailbox(m);
    tx_slot *s = current_tx(m);
    if (s == NULL)
        return false;
    if (frame)
        *frame = s->frame;
    if (ready_ns)
        *ready_ns = s->ready_ns;
    return true;
}

void u8d_model_can_tx_done(u8d_model *m, uint64_t now_ns)
{
    tx_slot *s = current_tx(m);
    if (s == NULL)
        return;
    u8d_frame sent = s->frame;
    uint8_t before = state_bits(m);
    if (m->tec > 0)
        m->tec--;
    m->lec = U8D_LEC_NONE;
    m->stats[U8D_STAT_TX_FRAMES]++;
    drop_current_tx(m, now_ns);
    if (m->mode_flags & U8D_OPEN_LOOPBACK)
        store_rx_frame(m, now_ns, &sent);
    report_event(m, now_ns, U8D_LEC_NONE, before);
}

void u8d_model_can_tx_error(u8d_model *m, uint64_t now_ns, u8d_lec lec)
{
    if (current_tx(m) == NULL)
        return;
    uint8_t before = state_bits(m);
    bool passive_ack = lec == U8D_LEC_ACK && error_passive(m);
    if (!passive_ack)
        m->tec = (uint16_t)(m->tec + 8u);
    m->lec = lec;
    if (m->tec >= BUS_OFF_TEC) {
        m->tec = BUS_OFF_TEC;
        m->bus_off = true;
        m->generation++;
    }
    if (m->mode_flags & U8D_OPEN_ONE_SHOT)
        drop_current_tx(m, now_ns);
    report_event(m, now_ns, lec, before);
}

void u8d_model_can_tx_lost_arbitration(u8d_model *m, uint64_t now_ns)
{
    if (m->mode_flags & U8D_OPEN_ONE_SHOT)
        drop_current_tx(m, now_ns);
}

void u8d_model_can_rx(u8d_model *m, uint64_t now_ns, const u8d_frame *frame)
{
    if (!m->running || m->bus_off || m->detached)
        return;
    uint8_t before = state_bits(m);
    if (m->rec >= PASSIVE_LIMIT)
        m->rec = REC_AFTER_PASSIVE;
    else if (m->rec > 0)
        m->rec--;
    m->lec = U8D_LEC_NONE;
    store_rx_frame(m, now_ns, frame);
    report_event(m, now_ns, U8D_LEC_NONE, before);
}

void u8d_model_can_rx_error(u8d_model *m, uint64_t now_ns, u8d_lec lec)
{
    if (!m->running || m->bus_off || m->detached)
        return;
    uint8_t before = state_bits(m);
    if (m->rec < PASSIVE_LIMIT)
        m->rec++;
    m->lec = lec;
    report_event(m, now_ns, lec, before);
}

void u8d_model_inject_tx_errors(u8d_model *m, u8d_lec lec, unsigned count)
{
    m->injected_lec = lec;
    m->injected_count = count;
    m->generation++;
}

bool u8d_model_take_injected_error(u8d_model *m, u8d_lec *lec)
{
    if (m->injected_count == 0)
        return false;
    m->injected_count--;
    *lec = m->injected_lec;
    return true;
}

void u8d_model_set_error_flags(u8d_model *m, unsigned every)
{
    m->error_flag_every = every;
    m->error_flag_seen = 0;
    m->generation++;
}

unsigned u8d_model_error_flags(const u8d_model *m)
{
    return m->error_flag_every;
}

bool u8d_model_take_error_flag(u8d_model *m)
{
    if (m->error_flag_every == 0)
        return false;
    if (++m->error_flag_seen < m->error_flag_every)
        return false;
    m->error_flag_seen = 0;
    return true;
}
