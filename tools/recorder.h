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
 * written it (u2c_status_error_frame). The first second (at most
 * U2C_RECORDER_HOLD messages) is held back and written once the clock
 * estimate has seen it all, so that a slow first delivery does not make
 * the start of a recording late. Allocation only in init. A write error is
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

#define U2C_RECORDER_HOLD 8192
#define U2C_RECORDER_HOLD_US 1000000

typedef struct u2c_held_message {
    canalMsg msg;
    int64_t device_time;
    int64_t host_us;
} u2c_held_message;

typedef struct u2c_recorder {
    FILE *file;
    u2c_record_format format;
    char iface[U2C_LOG_IFACE_MAX];
    u2c_clock_map clock;
    bool started; /* ASC header written */
    int64_t asc_start_us;
    u2c_held_message *held; /* U2C_RECORDER_HOLD of them, while holding */
    size_t held_count;
    bool holding;
    unsigned long frames;
    unsigned long error_frames;
    bool failed;
    int errno_value;
} u2c_recorder;

/* device_tick_us: the adapter's timestamp resolution (clock_map.h). False
 * when out of memory. */
bool u2c_recorder_init(u2c_recorder *r, FILE *file, u2c_record_format format, const char *iface,
                       int64_t device_tick_us);
bool u2c_recorder_take(u2c_recorder *r, const canalMsg *msg, int64_t host_us);
/* Writes what is held, the ASC footer (and the header of an empty
 * recording, dated now_us), flushes and frees what init allocated. */
bool u2c_recorder_finish(u2c_recorder *r, int64_t now_us);

/* A CANAL status message (id = status code, data = code, REC, TEC) as the
 * SocketCAN error frame usb_8dev makes of it: class bits in id, details in
 * data (linux/can/error.h). */
void u2c_status_error_frame(const canalMsg *msg, u2c_log_frame *frame);

#endif
