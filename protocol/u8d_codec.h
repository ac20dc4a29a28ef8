/*
 * u8d_codec.h — the 8devices USB2CAN wire format, as pure functions.
 *
 * Contract: no I/O, no allocation, no global state. Encoders write exactly
 * the documented number of bytes; decoders read at most `len` bytes, never
 * trust a length or a dlc from the wire, and report why they rejected
 * input through a u8d_status and a static reason string. Multi-byte fields
 * are big-endian on the wire except the CANalyze timestamp (little-endian).
 * Byte layouts: docs/protocol.md.
 */
#ifndef USB2CAN_U8D_CODEC_H
#define USB2CAN_U8D_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Endpoints. */
#define U8D_EP_DATA_IN 0x81
#define U8D_EP_DATA_OUT 0x02
#define U8D_EP_CMD_IN 0x83
#define U8D_EP_CMD_OUT 0x04
/* The USB ids, written once as the four hex digits Windows shows them in
 * ("USB\VID_0483&PID_1234\<serial>"); U8D_USB_VID/PID are the numbers. */
#define U8D_USB_VID_DIGITS 0483
#define U8D_USB_PID_DIGITS 1234
#define U8D_HEX_NUMBER_(digits) 0x##digits
#define U8D_HEX_NUMBER(digits) U8D_HEX_NUMBER_(digits)
#define U8D_TEXT_(x) #x
#define U8D_TEXT(x) U8D_TEXT_(x)
#define U8D_USB_VID U8D_HEX_NUMBER(U8D_USB_VID_DIGITS)
#define U8D_USB_PID U8D_HEX_NUMBER(U8D_USB_PID_DIGITS)
/* "0483:1234", as lsusb and udev rules name the device. */
#define U8D_USB_ID_TEXT U8D_TEXT(U8D_USB_VID_DIGITS) ":" U8D_TEXT(U8D_USB_PID_DIGITS)
#define U8D_PRODUCT_STRING "USB2CAN converter"

/* Byte order on the wire: big-endian except the CANalyze timestamp. */
static inline uint32_t u8d_get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}
static inline uint32_t u8d_get_le32(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | (uint32_t)p[0];
}
static inline void u8d_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void u8d_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static inline void u8d_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* The vendor firmware's timestamp: a tick count whose top byte it masks
 * with 0x1F, so 29 bits on the wire. */
#define U8D_VENDOR_TS_MASK 0x1FFFFFFFu

/* Record sizes and markers. */
#define U8D_CMD_SIZE 16
/* How long a host waits for a command's reply (the kernel driver and the
 * vendor DLL both wait 1 s). */
#define U8D_CMD_TIMEOUT_MS 1000
#define U8D_TX_RECORD_SIZE 16
#define U8D_RX_RECORD_SIZE 21
#define U8D_RX_MAX_RECORDS 3
#define U8D_IN_PACKET_MAX 64
#define U8D_CMD_START 0x11
#define U8D_CMD_END 0x22
#define U8D_DATA_START 0x55
#define U8D_DATA_END 0xAA

/* Command layout: start marker, channel, command, opt1, opt2, 10 data
 * bytes, end marker. Replies have the same layout; opt1 is the result. */
#define U8D_CMD_OFF_CHANNEL 1
#define U8D_CMD_OFF_CODE 2
#define U8D_CMD_OFF_OPT1 3
#define U8D_CMD_OFF_OPT2 4
#define U8D_CMD_OFF_DATA 5
#define U8D_CMD_DATA_SIZE 10

/* Commands (byte U8D_CMD_OFF_CODE of a command). */
enum u8d_command {
    U8D_CMD_RESET = 1,
    U8D_CMD_OPEN = 2,
    U8D_CMD_CLOSE = 3,
    U8D_CMD_SET_SPEED = 4,
    U8D_CMD_SET_MASK_FILTER = 5,
    U8D_CMD_GET_STATUS = 6,
    U8D_CMD_GET_STATISTICS = 7,
    U8D_CMD_GET_SERIAL = 8,
    U8D_CMD_GET_SOFTW_VER = 9,
    U8D_CMD_GET_HARDW_VER = 10,
    U8D_CMD_RESET_TIMESTAMP = 11,
    U8D_CMD_GET_SOFTW_HARDW_VER = 12,
};
#define U8D_RESULT_OK 0x00
#define U8D_RESULT_ERROR 0xFF

/* OPEN speed index (opt1); 9 = manual timing in data[0..4]. */
#define U8D_SPEED_MANUAL 9

/* OPEN flags (data[5..8], BE32). */
#define U8D_OPEN_SILENT 0x01u
#define U8D_OPEN_LOOPBACK 0x02u
#define U8D_OPEN_ONE_SHOT 0x04u
#define U8D_OPEN_STATUS_FRAMES 0x08u
/* The flags that choose the controller's mode (the rest asks for status records). */
#define U8D_OPEN_MODE_BITS (U8D_OPEN_SILENT | U8D_OPEN_LOOPBACK | U8D_OPEN_ONE_SHOT)
#define U8D_OPEN_FLAGS_KNOWN (U8D_OPEN_MODE_BITS | U8D_OPEN_STATUS_FRAMES)

/* Frame flags on the wire. */
#define U8D_FLAG_EXT 0x01u
#define U8D_FLAG_RTR 0x02u
#define U8D_FLAG_ERR 0x04u

/* RX record types. */
#define U8D_TYPE_CAN 0
#define U8D_TYPE_STATUS 3

/* GET_STATISTICS selectors. */
enum u8d_stat_index {
    U8D_STAT_RX_FRAMES = 0,
    U8D_STAT_RX_BYTES = 1,
    U8D_STAT_TX_FRAMES = 2,
    U8D_STAT_TX_BYTES = 3,
    U8D_STAT_OVERRUNS = 4,
    U8D_STAT_WARNINGS = 5,
    U8D_STAT_BUSOFF = 6,
    U8D_STAT_RESET = 7,
};

/* The CAN error-counter thresholds (ISO 11898-1): warning at 96, error
 * passive at 128, bus off above 255. Status records carry TEC and REC. */
#define U8D_ERR_WARNING_LIMIT 96u
#define U8D_ERR_PASSIVE_LIMIT 128u

/* GET_STATUS word bits. */
#define U8D_STATUS_BUS_OFF 0x80000000u
#define U8D_STATUS_PASSIVE 0x40000000u
#define U8D_STATUS_BUS_WARN 0x20000000u

/* Codec results and their readable text, one list. */
#define U8D_STATUS_LIST(X)                                                                         \
    X(U8D_OK, "ok")                                                                                \
    X(U8D_ERR_SHORT, "packet shorter than one record")                                             \
    X(U8D_ERR_LENGTH, "packet length is not a whole number of records or is too long")             \
    X(U8D_ERR_MARKER, "start or end marker wrong")                                                 \
    X(U8D_ERR_DLC, "data length code greater than 8") /* TX only: RX keeps the raw 4 bits */       \
    X(U8D_ERR_TYPE, "unknown record type or flags")                                                \
    X(U8D_ERR_RESULT, "device reported failure (result code not 0)")                               \
    X(U8D_ERR_MISMATCH, "reply belongs to another command")                                        \
    X(U8D_ERR_RANGE, "value out of range") /* id, bit timing, flags */                             \
    X(U8D_ERR_ARG, "missing argument (NULL pointer)")

typedef enum u8d_status {
#define U8D_STATUS_ENUM(name, text) name,
    U8D_STATUS_LIST(U8D_STATUS_ENUM)
#undef U8D_STATUS_ENUM
} u8d_status;

/* A readable reason for a status ("RX record 2: end marker 0x00, want 0xAA" is
 * built by callers; this gives the static part). Never NULL, also for values
 * outside the enum. */
const char *u8d_status_text(u8d_status st);

/* One CAN frame as the wire carries it, independent of CANAL. */
typedef struct u8d_frame {
    uint32_t id;   /* 11 or 29 bits */
    uint8_t flags; /* U8D_FLAG_EXT | U8D_FLAG_RTR; status records: U8D_FLAG_ERR */
    uint8_t dlc;   /* TX: 0..8; RX: the wire's dlc & 0x0F, 9..15 = 8 data bytes */
    uint8_t data[8];
} u8d_frame;

/* One decoded RX record. */
typedef struct u8d_rx_record {
    uint8_t type;       /* U8D_TYPE_CAN or U8D_TYPE_STATUS */
    u8d_frame frame;    /* for STATUS: data[0]=code, [1]=REC (bit7 rx-passive), [2]=TEC */
    uint32_t timestamp; /* raw device value, byte order already resolved */
} u8d_rx_record;

/* Timestamp flavours. */
typedef enum u8d_flavor {
    U8D_FLAVOR_VENDOR = 0, /* fw 1.x/2.x: BE32, 29 bits, ~0.992 ms ticks */
    U8D_FLAVOR_CANALYZE,   /* fw 0.1: LE32 milliseconds, one record per packet */
} u8d_flavor;

/* Bit timing at the 32 MHz CAN clock, values as counts (not register
 * values); their limits are u8d_bittiming_const below. */
typedef struct u8d_bittiming {
    uint8_t tseg1; /* prop + phase 1 */
    uint8_t tseg2; /* phase 2 */
    uint8_t sjw;   /* resynchronisation jump width, <= tseg2 */
    uint16_t brp;  /* prescaler */
} u8d_bittiming;

/* The bit-timing limits of each firmware's CAN cell, in the spirit of the
 * kernel's can_bittiming_const, written once: the codec checks against
 * them, the setup-string parser and CanalGetDriverInfo state them, and
 * docs/setup-string.md's table is checked against them by a test. As
 * plain numbers first, so the driver-info XML can spell them.
 * Vendor firmware: an STR75x C_CAN cell. tseg1 at least 2 tq, as the
 * Linux c_can driver's tseg1_min (drivers/net/can/c_can/c_can_main.c). */
#define U8D_TSEG1_MIN 2
#define U8D_TSEG1_MAX 16
#define U8D_TSEG2_MIN 1
#define U8D_TSEG2_MAX 8
#define U8D_SJW_MIN 1
#define U8D_SJW_MAX 4
#define U8D_BRP_MIN 1
#define U8D_BRP_MAX 1024
/* A CANalyze scales the brp by 1.5 (see the _on functions): only an even brp
 * of at most this runs at the rate asked for. Its bxCAN takes tseg1 from 1 tq
 * (TS1 is value - 1 in 4 bits; the kernel's bxCAN limits, tseg1_min 1). */
#define U8D_CANALYZE_BRP_MAX 682
#define U8D_CANALYZE_TSEG1_MIN 1

typedef struct u8d_bittiming_const {
    const char *cell;  /* what the limits come from */
    uint32_t clock_hz; /* the clock the host's brp counts in */
    uint8_t tseg1_min, tseg1_max;
    uint8_t tseg2_min, tseg2_max;
    uint8_t sjw_min, sjw_max; /* and sjw <= tseg2 */
    uint16_t brp_min, brp_max, brp_inc;
} u8d_bittiming_const;

/* The vendor adapter's CAN clock; the host always states timing for it. */
#define U8D_CAN_CLOCK_HZ 32000000u
/* A CANalyze's CAN clock (kkuchera/canalyze-fw: 48 MHz APB1). */
#define U8D_CANALYZE_CLOCK_HZ 48000000u

/* --- commands ------------------------------------------------------------ */

/* Generic command: 0x11, channel 0, cmd, opt1, opt2, data[10] (NULL = zeros), 0x22. */
void u8d_encode_command(uint8_t out[U8D_CMD_SIZE], uint8_t cmd, uint8_t opt1, uint8_t opt2,
                        const uint8_t data[10]);
/* OPEN with manual timing (opt1 = 9) and BE32 flags. Refuses (and writes
 * nothing) a NULL timing (U8D_ERR_ARG), a timing u8d_bittiming_check rejects or
 * flags outside U8D_OPEN_* (U8D_ERR_RANGE). */
u8d_status u8d_encode_open(uint8_t out[U8D_CMD_SIZE], const u8d_bittiming *bt, uint32_t flags);

/* Device side: a command as the vendor firmware accepts it (16 bytes, markers).
 * Returns U8D_ERR_SHORT / U8D_ERR_LENGTH / U8D_ERR_MARKER / U8D_ERR_ARG. */
u8d_status u8d_check_command(const uint8_t *cmd, size_t len);
/* Device side: the raw fields of an OPEN command (no range check: the firmware
 * takes them as they come). */
void u8d_decode_open(const uint8_t cmd[U8D_CMD_SIZE], u8d_bittiming *bt, uint32_t *flags);

/* Checks a reply to `cmd`, in this order: NULL (U8D_ERR_ARG), fewer than 16
 * bytes (U8D_ERR_SHORT), more (U8D_ERR_LENGTH), markers (U8D_ERR_MARKER),
 * echoed command (U8D_ERR_MISMATCH), opt1 == 0 (U8D_ERR_RESULT). */
u8d_status u8d_check_reply(const uint8_t *reply, size_t len, uint8_t cmd);
/* Fields of a checked reply. */
uint32_t u8d_reply_be32(const uint8_t reply[U8D_CMD_SIZE]); /* data[0..3] */
typedef struct u8d_version {
    uint8_t fw_major, fw_minor, hw_major, hw_minor;
} u8d_version;
u8d_version u8d_reply_version(const uint8_t reply[U8D_CMD_SIZE]);
/* fw 0.x answers like the CANalyze firmware. */
u8d_flavor u8d_flavor_of(u8d_version v);

/* --- data ---------------------------------------------------------------- */

/* TX record: 0x55, flags, BE32 id, dlc, 8 data bytes zero-padded, 0xAA.
 * Data bytes past dlc (all of them for RTR) are sent as zero. Rejects dlc > 8
 * (U8D_ERR_DLC), flags other than EXT|RTR (U8D_ERR_TYPE), an id wider than its
 * format (U8D_ERR_RANGE); `out` is untouched on error. */
u8d_status u8d_encode_tx(uint8_t out[U8D_TX_RECORD_SIZE], const u8d_frame *f);
/* Decodes a TX record (device side) with the same checks as u8d_encode_tx plus
 * length and markers. On U8D_ERR_TYPE / U8D_ERR_DLC / U8D_ERR_RANGE *f still
 * holds the raw fields (all 8 data bytes), so a device model can mimic the
 * firmware's leniency. */
u8d_status u8d_decode_tx(const uint8_t *in, size_t len, u8d_frame *f);

/* RX record encoder (device side): 21 bytes, timestamp in the flavour's order
 * (vendor: masked to 29 bits as the firmware does). Fields are written as given. */
void u8d_encode_rx(uint8_t out[U8D_RX_RECORD_SIZE], const u8d_rx_record *r, u8d_flavor flavor);

/* Data bytes a dlc stands for: dlc & 0x0F, where 9..15 (legal classic CAN
 * length codes) mean 8. */
uint8_t u8d_dlc_bytes(uint8_t dlc);

/* Decodes one 21-byte RX record (in holds at least U8D_RX_RECORD_SIZE bytes).
 * A record is bad for a wrong marker, a type other than CAN (flags within
 * EXT|RTR) or STATUS (flags exactly U8D_FLAG_ERR), or (CAN records) an id
 * wider than its format (U8D_ERR_RANGE). The dlc is taken as dlc & 0x0F:
 * both firmwares forward the controller's raw 4-bit code and the Linux
 * driver reads it so; 9..15 is no error. Vendor timestamps are masked to 29
 * bits. *r is written only on U8D_OK; U8D_ERR_ARG for a NULL argument. */
u8d_status u8d_decode_rx_record(const uint8_t *in, u8d_flavor flavor, u8d_rx_record *r);

/* One IN packet, each whole record judged on its own as the Linux driver
 * judges it: a bad record never costs the records before or after it. */
typedef struct u8d_in_packet {
    size_t records;                        /* whole records looked at (0..3) */
    size_t good;                           /* of those, decoded */
    u8d_status st[U8D_RX_MAX_RECORDS];     /* verdict per record, in wire order */
    u8d_rx_record rec[U8D_RX_MAX_RECORDS]; /* rec[i] valid when st[i] == U8D_OK */
    u8d_status tail; /* U8D_OK; U8D_ERR_SHORT: under 21 bytes; U8D_ERR_LENGTH: a
                        partial record or bytes past the third record */
} u8d_in_packet;

/* Decodes the whole records of an IN packet (at most 3) into *out. Returns
 * U8D_OK when every record is good and no byte is left over, otherwise the
 * first problem in wire order (a record's verdict, then the tail's);
 * U8D_ERR_ARG (and *out emptied when not NULL) for a NULL argument. */
u8d_status u8d_decode_in_packet(const uint8_t *in, size_t len, u8d_flavor flavor,
                                u8d_in_packet *out);

/* --- timestamps ---------------------------------------------------------- */

/* Extends raw device timestamps across their wrap (vendor 2^29 ticks of
 * 992.1875 us, CANalyze 2^32 ms) into microseconds. Assumes less than one wrap
 * period between two consecutive timestamps; feed it CAN records only (the
 * vendor firmware leaves status-record timestamps uninitialised). */
typedef struct u8d_clock {
    u8d_flavor flavor;
    bool started;
    uint32_t last_raw;
    uint64_t ticks; /* extended tick count */
} u8d_clock;
void u8d_clock_init(u8d_clock *c, u8d_flavor flavor);
/* Microseconds since the first timestamp seen (monotonic across the wrap). */
uint64_t u8d_clock_to_us(u8d_clock *c, uint32_t raw);

/* --- bit timing ---------------------------------------------------------- */

/* The firmware table's timing for a standard rate in kbit/s (10, 20, 50, 100,
 * 125, 250, 500, 800, 1000), sjw 1 as in the table; false (and *bt untouched)
 * for any other rate or a NULL bt. */
bool u8d_bittiming_standard(unsigned kbps, u8d_bittiming *bt);
/* The limits of a firmware's cell (never NULL; an unknown flavour gets the
 * vendor's). */
const u8d_bittiming_const *u8d_bittiming_limits(u8d_flavor flavor);
/* Range checks for manual values against the vendor limits (sjw <= tseg2
 * too); u8d_bittiming_check_on checks one firmware's limits and
 * u8d_bittiming_check_any accepts what either firmware takes (for the setup
 * string, read before the adapter is known). On failure returns U8D_ERR_RANGE (U8D_ERR_ARG for a
 * NULL bt) and, when reason is not NULL, names the field, its value and the
 * allowed range. reason may be NULL. */
u8d_status u8d_bittiming_check(const u8d_bittiming *bt, char *reason, size_t reason_size);
u8d_status u8d_bittiming_check_any(const u8d_bittiming *bt, char *reason, size_t reason_size);
/* Any rate in bit/s: the timing with the smallest rate error (any brp of the
 * limits, 8 tq per bit up to the most the limits allow), ties broken towards the sample point
 * nearest 87.5 % (CiA), then towards more tq per bit; sjw 1 as in the firmware table, so a standard
 * rate yields exactly the table's timing. Succeeds when the error is at most
 * U8D_BITRATE_TOLERANCE_PPM; otherwise U8D_ERR_RANGE with *bt holding the best
 * candidate. *error_ppm (may be NULL) gets the error of the result, rounded.
 * Bit rate 0: U8D_ERR_RANGE, *bt untouched, *error_ppm = UINT32_MAX.
 * A NULL bt: U8D_ERR_ARG. */
#define U8D_BITRATE_TOLERANCE_PPM 5000u
u8d_status u8d_bittiming_compute(uint32_t bitrate, u8d_bittiming *bt, uint32_t *error_ppm);
/* Resulting bit rate of a timing, in bit/s (rounded); 0 for a NULL bt or a
 * timing with brp 0. */
uint32_t u8d_bittiming_bitrate(const u8d_bittiming *bt);
/* The one answer to "kbps N" for CanalOpen's setup string and for
 * CanalSetBaudrate. kbps 1..U8D_MAX_KBPS: a standard rate takes the firmware
 * table's timing (error 0); python-can passes bitrate // 1000, so 33, 62 and
 * 83 mean 33 333, 62 500 and 83 333 bit/s; any other rate gets
 * u8d_bittiming_compute's timing. Fills *bt, *bitrate (bit/s configured) and
 * *error_ppm and returns U8D_OK; otherwise U8D_ERR_RANGE (kbps 0 or above the
 * maximum, or no timing within U8D_BITRATE_TOLERANCE_PPM) with a readable
 * reason naming the nearest rate. reason may be NULL. */
#define U8D_MAX_KBPS 1000u
u8d_status u8d_bittiming_for_kbps(unsigned long kbps, u8d_bittiming *bt, uint32_t *bitrate,
                                  uint32_t *error_ppm, char *reason, size_t reason_size);

/* Bit timing per flavour. The host always speaks in 32 MHz terms; a CANalyze
 * clocks CAN at 48 MHz and multiplies the brp by 1.5 into an integer,
 * truncating (kkuchera/canalyze-fw src/usbd_8dev_if.c ~255), so only an even
 * brp of at most U8D_CANALYZE_BRP_MAX (1023 after scaling) runs at the
 * nominal rate. The _on variants take the flavour: the vendor flavour
 * behaves exactly as the functions above; on a CANalyze compute and
 * for_kbps consider even brp only (800 kbit/s gets brp 2 instead of the
 * table's 5), check_on refuses an odd or too large brp with a reason naming
 * the rate it would really run at, and bitrate_on gives the rate the
 * adapter really runs at for any timing. */
/* The prescaler a CANalyze programs for a host brp (0 for brp 0). */
uint32_t u8d_canalyze_brp(uint16_t brp);
uint32_t u8d_bittiming_bitrate_on(u8d_flavor flavor, const u8d_bittiming *bt);
u8d_status u8d_bittiming_check_on(u8d_flavor flavor, const u8d_bittiming *bt, char *reason,
                                  size_t reason_size);
u8d_status u8d_bittiming_compute_on(u8d_flavor flavor, uint32_t bitrate, u8d_bittiming *bt,
                                    uint32_t *error_ppm);
u8d_status u8d_bittiming_for_kbps_on(u8d_flavor flavor, unsigned long kbps, u8d_bittiming *bt,
                                     uint32_t *bitrate, uint32_t *error_ppm, char *reason,
                                     size_t reason_size);

#endif
