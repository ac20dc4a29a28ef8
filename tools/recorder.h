/*
 * recorder.h — what usb2can-cli monitor --log writes: each received CANAL
 * message as one line of a can-utils log (log_candump.h) or a Vector ASC
 * file (log_asc.h), at absolute host time (clock_map.h).
 *
 * Contract: the caller gives every message with the host wall-clock time it
 * was received (microseconds since the epoch) and owns the FILE. Frames get
 * their device timestamp mapped to host time; status messages (which carry
 * no device time) get their receive time; times never decrease. A status
 * message becomes the error frame Linux's usb_8dev driver makes of the same
 * status record, so the file reads as `candump -l` on that driver would have
 * written it (u2c_status_error_frame). No allocation. A write error is
 * sticky: u2c_recorder_take and u2c_recorder_finish return false from then
 * on, and errno_value keeps the reason.
 */
#ifndef USB2CAN_RECORDER_H
#define USB2CAN_RECORDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "canal.h"
#include "clock_map.h"
#include "log_frame.h"

typedef enum u2c_record_format {
    U2C_RECORD_CANDUMP = 0,
    U2C_RECORD_ASC,
} u2c_record_format;

typedef struct u2c_recorder {
    FILE *file;
    u2c_record_format format;
    char iface[U2C_LOG_IFACE_MAX];
    u2c_clock_map clock;
    bool started; /* ASC header written */
    int64_t asc_start_us;
    unsigned long frames;
    unsigned long error_frames;
    bool failed;
    int errno_value;
} u2c_recorder;

/* device_tick_us: the adapter's timestamp resolution (clock_map.h). */
void u2c_recorder_init(u2c_recorder *r, FILE *file, u2c_record_format format, const char *iface,
                       int64_t device_tick_us);
bool u2c_recorder_take(u2c_recorder *r, const canalMsg *msg, int64_t host_us);
/* Writes the ASC footer (and the header of an empty recording, dated now_us) and flushes. */
bool u2c_recorder_finish(u2c_recorder *r, int64_t now_us);

/* A CANAL status message (id = status code, data = code, REC, TEC) as the
 * SocketCAN error frame usb_8dev makes of it: class bits in id, details in
 * data (linux/can/error.h). */
void u2c_status_error_frame(const canalMsg *msg, u2c_log_frame *frame);

#endif
