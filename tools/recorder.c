#include "recorder.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log_asc.h"
#include "log_candump.h"

/* linux/can/error.h */
#define CAN_ERR_CRTL 0x04u
#define CAN_ERR_PROT 0x08u
#define CAN_ERR_ACK 0x20u
#define CAN_ERR_BUSOFF 0x40u
#define CAN_ERR_BUSERROR 0x80u
#define CAN_ERR_CNT 0x200u
#define CAN_ERR_CRTL_RX_OVERFLOW 0x01u
#define CAN_ERR_CRTL_RX_WARNING 0x04u
#define CAN_ERR_CRTL_TX_WARNING 0x08u
#define CAN_ERR_CRTL_RX_PASSIVE 0x10u
#define CAN_ERR_CRTL_TX_PASSIVE 0x20u
#define CAN_ERR_PROT_FORM 0x02u
#define CAN_ERR_PROT_STUFF 0x04u
#define CAN_ERR_PROT_BIT0 0x08u
#define CAN_ERR_PROT_BIT1 0x10u
#define CAN_ERR_PROT_ACTIVE 0x40u
#define CAN_ERR_PROT_TX 0x80u
#define CAN_ERR_PROT_LOC_CRC_SEQ 0x08u
#define REC_MASK 0x7Fu /* bit 7 of the REC byte: receive passive */

void u2c_status_error_frame(const canalMsg *msg, u2c_log_frame *f)
{
    memset(f, 0, sizeof *f);
    f->kind = U2C_LOG_ERROR;
    f->extended = true;
    f->dlc = U2C_CAN_ERR_DLC;
    uint8_t rec = msg->sizeData > 1 ? (uint8_t)(msg->data[1] & REC_MASK) : 0;
    uint8_t tec = msg->sizeData > 2 ? msg->data[2] : 0;
    /* The mapping of usb_8dev_rx_err_msg (drivers/net/can/usb/usb_8dev.c):
     * the error class, one data byte (its value when the receive counter
     * leads, and when the transmit counter does) and whether the error
     * happened while transmitting. The kernel calls 0x24 BIT0 and 0x25 BIT1. */
    enum { BUS_ERROR = CAN_ERR_PROT | CAN_ERR_BUSERROR };
    static const struct {
        unsigned long code;
        uint32_t id;
        uint8_t byte, rx_value, tx_value;
        bool tx;
    } map[] = {
        {CANAL_STATUSMSG_OK, CAN_ERR_PROT, 2, CAN_ERR_PROT_ACTIVE, CAN_ERR_PROT_ACTIVE, false},
        {CANAL_STATUSMSG_BUSOFF, CAN_ERR_BUSOFF, 0, 0, 0, false},
        {CANAL_STATUSMSG_OVERRUN, CAN_ERR_CRTL, 1, CAN_ERR_CRTL_RX_OVERFLOW,
         CAN_ERR_CRTL_RX_OVERFLOW, false},
        {CANAL_STATUSMSG_BUSLIGHT, CAN_ERR_CRTL, 1, CAN_ERR_CRTL_RX_WARNING,
         CAN_ERR_CRTL_TX_WARNING, false},
        {CANAL_STATUSMSG_BUSHEAVY, CAN_ERR_CRTL, 1, CAN_ERR_CRTL_RX_PASSIVE,
         CAN_ERR_CRTL_TX_PASSIVE, false},
        {CANAL_STATUSMSG_ACK, BUS_ERROR | CAN_ERR_ACK, 0, 0, 0, true},
        {CANAL_STATUSMSG_CRC, BUS_ERROR, 3, CAN_ERR_PROT_LOC_CRC_SEQ, CAN_ERR_PROT_LOC_CRC_SEQ,
         false},
        {CANAL_STATUSMSG_BIT1, BUS_ERROR, 2, CAN_ERR_PROT_BIT0, CAN_ERR_PROT_BIT0, true},
        {CANAL_STATUSMSG_BIT0, BUS_ERROR, 2, CAN_ERR_PROT_BIT1, CAN_ERR_PROT_BIT1, true},
        {CANAL_STATUSMSG_FORM, BUS_ERROR, 2, CAN_ERR_PROT_FORM, CAN_ERR_PROT_FORM, false},
        {CANAL_STATUSMSG_STUFF, BUS_ERROR, 2, CAN_ERR_PROT_STUFF, CAN_ERR_PROT_STUFF, false},
    };
    f->id = BUS_ERROR; /* any other code */
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (map[i].code != msg->id)
            continue;
        f->id = map[i].id;
        f->data[map[i].byte] |= tec > rec ? map[i].tx_value : map[i].rx_value;
        if (map[i].tx)
            f->data[2] |= CAN_ERR_PROT_TX;
    }
    if (msg->id != CANAL_STATUSMSG_BUSOFF) {
        f->id |= CAN_ERR_CNT;
        f->data[6] = tec;
        f->data[7] = rec;
    }
}

bool u2c_recorder_init(u2c_recorder *r, FILE *file, u2c_record_format format, const char *iface,
                       int64_t device_tick_us)
{
    memset(r, 0, sizeof *r);
    r->file = file;
    r->format = format;
    snprintf(r->iface, sizeof r->iface, "%s", iface);
    u2c_clock_map_init(&r->clock, device_tick_us);
    r->held = calloc(U2C_RECORDER_HOLD, sizeof *r->held);
    r->holding = r->held != NULL;
    return r->held != NULL;
}

static bool write_text(u2c_recorder *r, const char *text, size_t length)
{
    if (r->failed)
        return false;
    if (fwrite(text, 1, length, r->file) != length) {
        r->failed = true;
        r->errno_value = errno != 0 ? errno : EIO;
        return false;
    }
    return true;
}

static bool start_asc(u2c_recorder *r, int64_t first_us)
{
    r->started = true;
    if (r->format != U2C_RECORD_ASC)
        return true;
    char header[U2C_ASC_HEADER_MAX];
    r->asc_start_us = u2c_asc_start_of(first_us);
    size_t n = u2c_asc_header(r->asc_start_us, header, sizeof header);
    if (n == 0) {
        r->failed = true;
        r->errno_value = EINVAL;
        return false;
    }
    return write_text(r, header, n);
}

static bool emit(u2c_recorder *r, const canalMsg *msg, int64_t device_time, int64_t host_us)
{
    u2c_log_frame f;
    if (msg->flags & CANAL_IDFLAG_STATUS) {
        u2c_status_error_frame(msg, &f);
        f.time_us = u2c_clock_map_event(&r->clock, host_us);
    } else {
        memset(&f, 0, sizeof f);
        f.kind = (msg->flags & CANAL_IDFLAG_RTR) ? U2C_LOG_REMOTE : U2C_LOG_DATA;
        f.extended = (msg->flags & CANAL_IDFLAG_EXTENDED) != 0;
        f.id = (uint32_t)msg->id;
        f.dlc = msg->sizeData > 8 ? 8 : msg->sizeData;
        if (f.kind == U2C_LOG_DATA)
            memcpy(f.data, msg->data, f.dlc);
        f.time_us = u2c_clock_map_host_time(&r->clock, device_time, host_us);
    }
    snprintf(f.iface, sizeof f.iface, "%s", r->iface);
    if (!r->started && !start_asc(r, f.time_us))
        return false;
    char line[U2C_LOG_LINE_MAX + 1];
    size_t n = r->format == U2C_RECORD_ASC
                   ? u2c_asc_format(&f, r->asc_start_us, 1, line, sizeof line - 1)
                   : u2c_candump_format(&f, line, sizeof line - 1);
    line[n++] = '\n';
    return write_text(r, line, n);
}

static bool release_held(u2c_recorder *r)
{
    r->holding = false;
    for (size_t i = 0; i < r->held_count; i++)
        if (!emit(r, &r->held[i].msg, r->held[i].device_time, r->held[i].host_us))
            return false;
    r->held_count = 0;
    return true;
}

bool u2c_recorder_take(u2c_recorder *r, const canalMsg *msg, int64_t host_us)
{
    if (r->failed)
        return false;
    int64_t device_time = 0;
    if (msg->flags & CANAL_IDFLAG_STATUS) {
        r->error_frames++;
    } else {
        device_time = u2c_clock_map_observe(&r->clock, msg->timestamp, host_us);
        r->frames++;
    }
    if (r->holding) {
        u2c_held_message *h = &r->held[r->held_count++];
        h->msg = *msg;
        h->device_time = device_time;
        h->host_us = host_us;
        if (r->held_count == U2C_RECORDER_HOLD ||
            host_us - r->held[0].host_us >= U2C_RECORDER_HOLD_US)
            return release_held(r);
        return true;
    }
    return emit(r, msg, device_time, host_us);
}

bool u2c_recorder_finish(u2c_recorder *r, int64_t now_us)
{
    bool ok = !r->holding || release_held(r);
    free(r->held);
    r->held = NULL;
    if (!ok || (!r->started && !start_asc(r, now_us)))
        return false;
    if (r->format == U2C_RECORD_ASC) {
        char footer[32];
        size_t n = u2c_asc_footer(footer, sizeof footer);
        if (!write_text(r, footer, n))
            return false;
    }
    if (!r->failed && fflush(r->file) != 0) {
        r->failed = true;
        r->errno_value = errno != 0 ? errno : EIO;
    }
    return !r->failed;
}
