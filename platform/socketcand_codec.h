/*
 * socketcand_codec.h — the socketcand text protocol (linux-can/socketcand,
 * doc/protocol.md) as pure functions: cutting a byte stream into `< ... >`
 * elements, parsing one element into a command or a server message, and
 * formatting what a server or a client writes. No I/O, no allocation, no
 * global state; every function is safe on any thread.
 *
 * Contract:
 * - u2c_scand_reader_push consumes bytes from any chunking of the stream
 *   and yields, one at a time, complete elements or a framing error. An
 *   element longer than U2C_SCAND_ELEMENT_MAX is skipped up to its '>' and
 *   reported once as U2C_SCAND_TOO_LONG; a '<' inside an element reports the
 *   unfinished one as U2C_SCAND_MALFORMED and starts a new one; control or
 *   non-ASCII bytes inside an element make it U2C_SCAND_MALFORMED; text
 *   outside elements is skipped (whitespace silently, anything else reported
 *   once per run as U2C_SCAND_MALFORMED). The reader's memory is fixed.
 * - u2c_scand_parse turns one element (with its brackets) into a
 *   u2c_scand_command; anything it cannot take gets U2C_SCAND_BAD with a
 *   readable reason, never a partial result. CAN identifiers are hex; the
 *   SocketCAN flag bits travel in them as socketcand passes them through
 *   (0x80000000 extended, 0x40000000 remote request; 0x20000000, an error
 *   frame, is refused). An identifier written with 8 digits, or above 0x7FF,
 *   is extended, as socketcand and python-can write them.
 * - The formatters write a NUL-terminated element and return its length,
 *   or 0 when it does not fit; the output is exactly socketcand's.
 */
#ifndef USB2CAN_SOCKETCAND_CODEC_H
#define USB2CAN_SOCKETCAND_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest element taken, brackets included (socketcand's own is 4096, but
 * we implement nothing whose element exceeds ~80 characters). */
#define U2C_SCAND_ELEMENT_MAX 256
/* Longest formatted frame: "< frame 1FFFFFFF 18446744073709551615.999999 " + 8 x "FF " + " >". */
#define U2C_SCAND_FORMAT_MAX 96
#define U2C_SCAND_BUS_NAME_MAX 16 /* as socketcand */

#define U2C_SCAND_FLAG_EXTENDED 0x80000000u
#define U2C_SCAND_FLAG_RTR 0x40000000u
#define U2C_SCAND_FLAG_ERROR 0x20000000u
#define U2C_SCAND_SFF_MASK 0x7FFu
#define U2C_SCAND_EFF_MASK 0x1FFFFFFFu

typedef struct u2c_scand_frame {
    uint32_t id; /* without flags */
    bool extended;
    bool rtr;
    uint8_t dlc; /* 0..8 */
    uint8_t data[8];
} u2c_scand_frame;

typedef enum u2c_scand_event {
    U2C_SCAND_NONE = 0,  /* all input consumed, nothing complete yet */
    U2C_SCAND_ELEMENT,   /* reader->element holds "< ... >" */
    U2C_SCAND_TOO_LONG,  /* an element longer than U2C_SCAND_ELEMENT_MAX was skipped */
    U2C_SCAND_MALFORMED, /* binary bytes, a '<' inside an element, or stray text */
} u2c_scand_event;

typedef struct u2c_scand_reader {
    char element[U2C_SCAND_ELEMENT_MAX + 1]; /* NUL-terminated when ELEMENT */
    size_t length;
    int state;    /* outside, inside, skipping */
    bool tainted; /* the current element had a bad byte */
    bool stray;   /* stray text reported for this run */
} u2c_scand_reader;

void u2c_scand_reader_init(u2c_scand_reader *reader);

/* Consumes up to len bytes; sets *used to how many it took and returns the
 * event that ended consumption (NONE once all were taken). */
u2c_scand_event u2c_scand_reader_push(u2c_scand_reader *reader, const char *bytes, size_t len,
                                      size_t *used);

typedef enum u2c_scand_kind {
    U2C_SCAND_BAD = 0, /* reason says why */
    /* client to server */
    U2C_SCAND_OPEN, /* bus */
    U2C_SCAND_RAWMODE,
    U2C_SCAND_BCMMODE,
    U2C_SCAND_CONTROLMODE,
    U2C_SCAND_ISOTPMODE,
    U2C_SCAND_ECHO,        /* also the server's reply */
    U2C_SCAND_SEND,        /* frame */
    U2C_SCAND_ADD,         /* secs, usecs, frame */
    U2C_SCAND_UPDATE,      /* frame */
    U2C_SCAND_DELETE,      /* frame.id/extended */
    U2C_SCAND_FILTER,      /* secs, usecs, frame (data = mask) */
    U2C_SCAND_SUBSCRIBE,   /* secs, usecs, frame.id/extended */
    U2C_SCAND_UNSUBSCRIBE, /* frame.id/extended */
    U2C_SCAND_STATISTICS,  /* secs = interval in ms */
    U2C_SCAND_CONFIGURE,   /* "< bus B ... >" or "< bus C ... >": bus, op */
    U2C_SCAND_UNSUPPORTED, /* a known socketcand command we do not implement: word */
    /* server to client */
    U2C_SCAND_HI,
    U2C_SCAND_OK,
    U2C_SCAND_FRAME, /* frame, secs, usecs */
    U2C_SCAND_ERROR, /* text: the rest of the element */
    U2C_SCAND_STAT,  /* stat[4] */
} u2c_scand_kind;

typedef struct u2c_scand_command {
    u2c_scand_kind kind;
    char bus[U2C_SCAND_BUS_NAME_MAX + 1];
    char op;
    u2c_scand_frame frame;
    uint64_t secs;
    uint64_t usecs;
    uint64_t stat[4];
    char word[16];                    /* UNSUPPORTED: the command */
    char text[U2C_SCAND_ELEMENT_MAX]; /* ERROR: its text */
    char reason[96];                  /* BAD: why */
} u2c_scand_command;

/* element: NUL-terminated, "<" ... ">" as the reader yields it. */
void u2c_scand_parse(const char *element, u2c_scand_command *cmd);

/* "< frame ID SECS.USECS DATA >": raw mode writes the data as one run of
 * two-digit upper-case hex, BCM mode as two digits and a space per byte. */
size_t u2c_scand_format_frame(char *out, size_t size, const u2c_scand_frame *frame, uint64_t secs,
                              uint32_t usecs, bool bcm_style);
/* "< error CLASS SECS.USECS >", CLASS the SocketCAN error class bits in hex. */
size_t u2c_scand_format_error_frame(char *out, size_t size, uint32_t error_class, uint64_t secs,
                                    uint32_t usecs);
/* "< send ID DLC B0 B1 ... >" as a client writes it (ID with 8 digits when extended). */
size_t u2c_scand_format_send(char *out, size_t size, const u2c_scand_frame *frame);
/* "< stat RBYTES RPACKETS TBYTES TPACKETS >" */
size_t u2c_scand_format_stat(char *out, size_t size, const uint64_t stat[4]);
/* "< error TEXT >", TEXT stripped of '<' and '>' so it stays one element. */
size_t u2c_scand_format_error(char *out, size_t size, const char *text);

#endif
