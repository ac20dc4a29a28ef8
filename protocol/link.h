/*
 * link.h — the contract between a CANAL channel and the device behind it.
 *
 * A link moves bytes in the 8dev wire format and nothing else: 16-byte
 * commands (EP 0x04/0x83), 16-byte TX records (EP 0x02) and IN packets of
 * 1..3 21-byte RX records (EP 0x81). Three implementations exist: libusb
 * (link_libusb.c, the product), the device model in-process
 * (sim/link_virtual.c, serials VIRTUAL and VIRTUAL0..7), and libusb talking
 * to the device model through umockdev (tests only; same link_libusb.c).
 * canal/link_open.h chooses one by serial.
 *
 * Rules every implementation keeps:
 * - command() is one exchange at a time and blocks at most timeout_ms.
 * - start() begins streaming: IN packets go to sink->in_packet in arrival
 *   order; whenever the device can take more records the link pulls them
 *   with sink->next_out. Sink callbacks run on the link's event thread (or,
 *   for the virtual link, on the thread that caused them) and must not call
 *   back into the link; the channel never holds its own lock while calling
 *   kick_out(), stop() or destroy().
 * - kick_out() never waits for USB: it only starts transfers.
 * - flush_out() (optional, NULL = nothing to wait for) waits at most
 *   timeout_ms until no TX record is in flight any more; U2C_LINK_OK when
 *   none is, U2C_LINK_TIMEOUT or U2C_LINK_GONE otherwise.
 * - A device that disappears is reported once through sink->gone; every
 *   later call returns U2C_LINK_GONE promptly.
 * - After stop() returns no sink callback runs any more; destroy() frees
 *   everything, including after gone.
 */
#ifndef USB2CAN_LINK_H
#define USB2CAN_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "u8d_codec.h"
#include "usb2can.h"

/* What a link call returns, and its readable text, one list. */
#define U2C_LINK_RESULTS(X)                                                                        \
    X(U2C_LINK_OK, 0, "ok")                                                                        \
    X(U2C_LINK_TIMEOUT, -1, "no reply within the timeout")                                         \
    X(U2C_LINK_GONE, -2, "the adapter is gone (unplugged?)") /* or the link torn down */           \
    X(U2C_LINK_IO, -3, "USB transfer error")                                                       \
    X(U2C_LINK_NOT_FOUND, -4, "adapter not found")   /* no adapter with that serial */             \
    X(U2C_LINK_BUSY, -5, "adapter in use")           /* by another program or handle */            \
    X(U2C_LINK_ACCESS, -6, "adapter not accessible") /* e.g. the vendor's driver bound */          \
    X(U2C_LINK_NO_MEMORY, -7, "out of memory")                                                     \
    X(U2C_LINK_PROTOCOL, -8, "malformed reply")                                                    \
    X(U2C_LINK_AMBIGUOUS, -9, "several adapters have that serial") /* name one by location */

typedef enum u2c_link_result {
#define U2C_LINK_RESULT_ENUM(name, value, text) name = value,
    U2C_LINK_RESULTS(U2C_LINK_RESULT_ENUM)
#undef U2C_LINK_RESULT_ENUM
} u2c_link_result;

/* Never NULL, also for values outside the list. */
static inline const char *u2c_link_result_text(int result)
{
#define U2C_LINK_RESULT_TEXT(name, value, text)                                                    \
    if (result == (value))                                                                         \
        return text;
    U2C_LINK_RESULTS(U2C_LINK_RESULT_TEXT)
#undef U2C_LINK_RESULT_TEXT
    return "unknown link error";
}

typedef struct u2c_link_sink {
    void *ctx;
    /* One IN transfer's bytes (len 0..64); the channel decodes and counts errors. */
    void (*in_packet)(void *ctx, const uint8_t *bytes, size_t len);
    /* Writes the next queued TX record; returns 0 when the queue is empty. */
    int (*next_out)(void *ctx, uint8_t record[U8D_TX_RECORD_SIZE]);
    /* The device is gone; reason is readable ("device unplugged"). Called once. */
    void (*gone)(void *ctx, const char *reason);
} u2c_link_sink;

typedef struct u2c_link u2c_link;

typedef struct u2c_link_ops {
    int (*command)(u2c_link *link, const uint8_t request[U8D_CMD_SIZE], uint8_t reply[U8D_CMD_SIZE],
                   unsigned timeout_ms);
    int (*start)(u2c_link *link, const u2c_link_sink *sink);
    void (*kick_out)(u2c_link *link);
    void (*stop)(u2c_link *link);
    void (*destroy)(u2c_link *link);
    int (*flush_out)(u2c_link *link, unsigned timeout_ms); /* optional */
} u2c_link_ops;

/* An ops table from its functions, in the order of u2c_link_ops (flush_out
 * may be NULL). */
#define U2C_LINK_OPS(command_fn, start_fn, kick_out_fn, stop_fn, destroy_fn, flush_out_fn)         \
    {                                                                                              \
        .command = (command_fn), .start = (start_fn), .kick_out = (kick_out_fn),                   \
        .stop = (stop_fn), .destroy = (destroy_fn), .flush_out = (flush_out_fn)                    \
    }

struct u2c_link {
    const u2c_link_ops *ops;
    char serial[USB2CAN_SERIAL_MAX + 1]; /* as the device reports it */
};

#endif
