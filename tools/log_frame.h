/*
 * log_frame.h — one recorded CAN event as the log files hold it
 * (log_candump.h, log_asc.h): what monitor --log writes and replay reads.
 *
 * Contract: a plain value. time_us counts microseconds since 1970-01-01
 * 00:00 UTC (ASC files without a date line give times from 0). iface names
 * the interface: a candump interface ("can0", "VIRTUAL1") or an ASC channel
 * number as text ("1"). An error frame carries SocketCAN's error class bits
 * (linux/can/error.h, without CAN_ERR_FLAG) in id and its 8 data bytes; a
 * remote request carries the DLC it asks for in dlc and no data.
 */
#ifndef USB2CAN_LOG_FRAME_H
#define USB2CAN_LOG_FRAME_H

#include <stdbool.h>
#include <stdint.h>

#define U2C_LOG_IFACE_MAX 24 /* with the NUL */
#define U2C_LOG_LINE_MAX 160 /* the longest line either writer makes, with the NUL */

/* SocketCAN's can_id flag for error frames and the DLC it gives them. */
#define U2C_CAN_ERR_FLAG 0x20000000UL
#define U2C_CAN_ERR_DLC 8u

typedef enum u2c_log_kind {
    U2C_LOG_DATA = 0,
    U2C_LOG_REMOTE,
    U2C_LOG_ERROR,
} u2c_log_kind;

typedef struct u2c_log_frame {
    int64_t time_us;
    char iface[U2C_LOG_IFACE_MAX];
    u2c_log_kind kind;
    bool extended;
    uint32_t id;
    uint8_t dlc; /* 0..8 */
    uint8_t data[8];
} u2c_log_frame;

/* What a reader made of one line. */
typedef enum u2c_log_line {
    U2C_LOG_LINE_FRAME = 0, /* *frame is filled */
    U2C_LOG_LINE_OTHER,     /* blank, comment, header or an event that is no frame */
    U2C_LOG_LINE_BAD,       /* reason says why */
} u2c_log_line;

#endif
