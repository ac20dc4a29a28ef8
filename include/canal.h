/*
 * canal.h — the CANAL level-1 driver ABI as usb2can.dll exports it.
 *
 * Contract: types, constants and prototypes binary-compatible with the VSCP
 * CANAL specification and with the 8devices usb2can.dll: `unsigned long`
 * fields (4 bytes on Windows, so canalMsg is 28 bytes with the timestamp at
 * offset 24), default alignment, `__stdcall` on 32-bit Windows and the
 * platform's only convention elsewhere. Written from the published facts of
 * the ABI; every value here is checked by tests/abi.
 */
#ifndef USB2CAN_CANAL_H
#define USB2CAN_CANAL_H

#ifdef __cplusplus
extern "C" {
#endif

/* Calling convention of every exported function. */
#if defined(_WIN32) && !defined(_WIN64)
#define CANAL_CALL __stdcall
#else
#define CANAL_CALL
#endif

#if defined(_WIN32)
#if defined(USB2CAN_BUILDING_LIBRARY)
#define CANAL_API __declspec(dllexport)
#else
#define CANAL_API __declspec(dllimport)
#endif
#elif defined(__GNUC__)
#define CANAL_API __attribute__((visibility("default")))
#else
#define CANAL_API
#endif

/* Version of the CANAL specification this driver implements. */
#define CANAL_MAIN_VERSION 1
#define CANAL_MINOR_VERSION 0
#define CANAL_SUB_VERSION 14

/* CANAL levels. */
#define CANAL_LEVEL_STANDARD 1

/* Blocking calls: a timeout of 0 ms waits forever. */
#define CANAL_BLOCK_FOREVER 0

/* canalMsg.flags */
#define CANAL_IDFLAG_STANDARD 0x00000000UL
#define CANAL_IDFLAG_EXTENDED 0x00000001UL
#define CANAL_IDFLAG_RTR 0x00000002UL
#define CANAL_IDFLAG_STATUS 0x00000004UL
#define CANAL_IDFLAG_SEND 0x80000000UL

/* canalStatus.channel_status bits. */
#define CANAL_STATUS_NONE 0x00000000UL
#define CANAL_STATUS_ACTIVE 0x10000000UL
#define CANAL_STATUS_PASSIVE 0x40000000UL
#define CANAL_STATUS_BUS_OFF 0x80000000UL
#define CANAL_STATUS_BUS_WARN 0x20000000UL
#define CANAL_STATUS_PHY_FAULT 0x08000000UL
#define CANAL_STATUS_PHY_H 0x04000000UL
#define CANAL_STATUS_PHY_L 0x02000000UL
#define CANAL_STATUS_SLEEPING 0x01000000UL
#define CANAL_STATUS_STOPPED 0x00800000UL
#define CANAL_STATUS_RECIVE_BUFFER_FULL 0x00400000UL
#define CANAL_STATUS_TRANSMIT_BUFFER_FULL 0x00200000UL

/* Status codes carried by CANAL_IDFLAG_STATUS messages. */
#define CANAL_STATUSMSG_OK 0x00
#define CANAL_STATUSMSG_OVERRUN 0x01
#define CANAL_STATUSMSG_BUSLIGHT 0x02
#define CANAL_STATUSMSG_BUSHEAVY 0x03
#define CANAL_STATUSMSG_BUSOFF 0x04
#define CANAL_STATUSMSG_STUFF 0x20
#define CANAL_STATUSMSG_FORM 0x21
#define CANAL_STATUSMSG_ACK 0x23
#define CANAL_STATUSMSG_BIT1 0x24
#define CANAL_STATUSMSG_BIT0 0x25
#define CANAL_STATUSMSG_CRC 0x27

/* Return codes. usb2can only ever returns 0..37. */
#define CANAL_ERROR_SUCCESS 0
#define CANAL_ERROR_BAUDRATE 1
#define CANAL_ERROR_BUS_OFF 2
#define CANAL_ERROR_BUS_PASSIVE 3
#define CANAL_ERROR_BUS_WARNING 4
#define CANAL_ERROR_CAN_ID 5
#define CANAL_ERROR_CAN_MESSAGE 6
#define CANAL_ERROR_CHANNEL 7
#define CANAL_ERROR_FIFO_EMPTY 8
#define CANAL_ERROR_FIFO_FULL 9
#define CANAL_ERROR_FIFO_SIZE 10
#define CANAL_ERROR_FIFO_WAIT 11
#define CANAL_ERROR_GENERIC 12
#define CANAL_ERROR_HARDWARE 13
#define CANAL_ERROR_INIT_FAIL 14
#define CANAL_ERROR_INIT_MISSING 15
#define CANAL_ERROR_INIT_READY 16
#define CANAL_ERROR_NOT_SUPPORTED 17
#define CANAL_ERROR_OVERRUN 18
#define CANAL_ERROR_RCV_EMPTY 19
#define CANAL_ERROR_REGISTER 20
#define CANAL_ERROR_TRM_FULL 21
#define CANAL_ERROR_ERRFRM_STUFF 22
#define CANAL_ERROR_ERRFRM_FORM 23
#define CANAL_ERROR_ERRFRM_ACK 24
#define CANAL_ERROR_ERRFRM_BIT1 25
#define CANAL_ERROR_ERRFRM_BIT0 26
#define CANAL_ERROR_ERRFRM_CRC 27
#define CANAL_ERROR_LIBRARY 28
#define CANAL_ERROR_PROCADDRESS 29
#define CANAL_ERROR_ONLY_ONE_INSTANCE 30
#define CANAL_ERROR_SUB_DRIVER 31
#define CANAL_ERROR_TIMEOUT 32
#define CANAL_ERROR_NOT_OPEN 33
#define CANAL_ERROR_PARAMETER 34
#define CANAL_ERROR_MEMORY 35
#define CANAL_ERROR_INTERNAL 36
#define CANAL_ERROR_COMMUNICATION 37

/* One CAN frame or status message. */
typedef struct structCanalMsg {
    unsigned long flags;    /* CANAL_IDFLAG_* */
    unsigned long obid;     /* free for the application; the driver writes 0 */
    unsigned long id;       /* 11/29-bit id, or the status code for STATUS */
    unsigned char sizeData; /* 0..8 */
    unsigned char data[8];
    unsigned long timestamp; /* microseconds, from the device clock */
} canalMsg;
typedef canalMsg *PCANALMSG;

typedef struct structCanalStatistics {
    unsigned long cntReceiveFrames;
    unsigned long cntTransmitFrames;
    unsigned long cntReceiveData;
    unsigned long cntTransmitData;
    unsigned long cntOverruns;
    unsigned long cntBusWarnings;
    unsigned long cntBusOff;
} canalStatistics;
typedef canalStatistics *PCANALSTATISTICS;

typedef struct structCanalStatus {
    unsigned long channel_status;
    unsigned long lasterrorcode;
    unsigned long lasterrorsubcode;
    char lasterrorstr[80];
} canalStatus;
typedef canalStatus *PCANALSTATUS;

#if defined(_WIN32)
typedef void *CANAL_RECEIVE_HANDLE; /* a Win32 HANDLE */
#else
typedef void *CANAL_RECEIVE_HANDLE; /* NULL: no waitable object on this OS */
#endif

/* Ordinals 1..18 follow the vendor's usb2can.def. Each call's "Returns:"
 * line lists every code it can return (canal/canal_results.h is the list,
 * tests check this header against it); docs/canal-semantics.md says when. */
/* Opens an adapter (setup string: docs/setup-string.md). Returns a handle > 0,
 * or 0 with the reason in Usb2canGetLastError(). Blocks for USB commands
 * (at most about 1 s each). */
CANAL_API long CANAL_CALL CanalOpen(const char *pDevice, unsigned long flags);
/* Wakes calls blocked on the handle, lets queued frames leave (2 s at most),
 * closes the adapter. Closing a closed handle again succeeds. Blocks.
 * Returns: SUCCESS, NOT_OPEN. */
CANAL_API int CANAL_CALL CanalClose(long handle);
/* CANAL_LEVEL_STANDARD (1) for an open handle, 0 otherwise. Never blocks. */
CANAL_API unsigned long CANAL_CALL CanalGetLevel(long handle);
/* Queues one frame and returns at once; FIFO_FULL when the queue of 1024 is
 * full, NOT_SUPPORTED for a remote frame to a CANalyze. Never waits for USB.
 * Returns: SUCCESS, CAN_ID, FIFO_FULL, NOT_SUPPORTED, NOT_OPEN, PARAMETER, COMMUNICATION. */
CANAL_API int CANAL_CALL CanalSend(long handle, const canalMsg *pCanalMsg);
/* Like CanalSend, but waits for room in the queue (not for the bus) up to
 * timeout ms (0 = forever); TIMEOUT after the whole time has passed.
 * Returns: SUCCESS, CAN_ID, NOT_SUPPORTED, TIMEOUT, NOT_OPEN, PARAMETER, COMMUNICATION. */
CANAL_API int CANAL_CALL CanalBlockingSend(long handle, const canalMsg *pCanalMsg,
                                           unsigned long timeout);
/* Takes the oldest received message. Never blocks.
 * Returns: SUCCESS, FIFO_EMPTY, NOT_OPEN, PARAMETER, COMMUNICATION. */
CANAL_API int CANAL_CALL CanalReceive(long handle, canalMsg *pCanalMsg);
/* Waits up to timeout ms (0 = forever, see docs/canal-semantics.md for
 * truncated remainders) for a message.
 * Returns: SUCCESS, TIMEOUT, NOT_OPEN, PARAMETER, COMMUNICATION. */
CANAL_API int CANAL_CALL CanalBlockingReceive(long handle, canalMsg *pCanalMsg,
                                              unsigned long timeout);
/* Number of messages queued (0 for an invalid handle). Never blocks. */
CANAL_API int CANAL_CALL CanalDataAvailable(long handle);
/* Fills the newest bus state and error counters at once; never waits for
 * USB. They come from status records and, on vendor firmware, from the
 * adapter's status word, which the channel's own thread asks for in the
 * background (GET_STATUS, at most every 500 ms while status or statistics
 * are read, and at once to confirm a bus-off record).
 * Returns: SUCCESS, NOT_OPEN, PARAMETER, COMMUNICATION. */
CANAL_API int CANAL_CALL CanalGetStatus(long handle, canalStatus *pCanalStatus);
/* Fills counters cumulative since open (never reset). Never blocks; the
 * adapter's own overrun count (vendor firmware, GET_STATISTICS 4) is
 * refreshed in the background as for CanalGetStatus.
 * Returns: SUCCESS, NOT_OPEN, PARAMETER, COMMUNICATION. */
CANAL_API int CANAL_CALL CanalGetStatistics(long handle, canalStatistics *pCanalStatistics);
/* Sets the filter of the CANAL rule ((key ^ filter) & mask) == 0 on an open
 * channel. Never blocks.
 * Returns: SUCCESS, NOT_OPEN, COMMUNICATION. */
CANAL_API int CANAL_CALL CanalSetFilter(long handle, unsigned long filter);
/* Sets the mask of that rule. Never blocks.
 * Returns: SUCCESS, NOT_OPEN, COMMUNICATION. */
CANAL_API int CANAL_CALL CanalSetMask(long handle, unsigned long mask);
/* Re-opens the adapter at baudrate kbit/s (CLOSE, then OPEN): BAUDRATE for
 * a rate it cannot make (nothing sent), HARDWARE if the adapter refuses (the
 * old rate is restored), TIMEOUT if it does not answer, NOT_SUPPORTED on a
 * remote bus (BUS@HOST: its server owns the rate). Blocks for USB.
 * Returns: SUCCESS, BAUDRATE, HARDWARE, TIMEOUT, NOT_SUPPORTED, NOT_OPEN, COMMUNICATION. */
CANAL_API int CANAL_CALL CanalSetBaudrate(long handle, unsigned long baudrate);
/* CANAL version 1.0.14 and this library's version (bytes major, minor,
 * patch). Never block. */
CANAL_API unsigned long CANAL_CALL CanalGetVersion(void);
CANAL_API unsigned long CANAL_CALL CanalGetDllVersion(void);
/* "fw;hw;canal;dll;usb2can" of the most recently opened channel; never NULL,
 * per thread, valid until that thread's next call. Never blocks. */
CANAL_API const char *CANAL_CALL CanalGetVendorString(void);
/* Windows: a manual-reset event set while messages are queued, owned by the
 * channel. Linux: NULL. Never blocks. */
CANAL_API CANAL_RECEIVE_HANDLE CANAL_CALL CanalGetReceiveHandle(long handle);
/* XML describing the setup string and flags (static text). Never blocks. */
CANAL_API const char *CANAL_CALL CanalGetDriverInfo(void);
/* 8devices' newer export (never blocks; an odd count is PARAMETER): `pairs`
 * holds `count` values, read as (id, mask) pairs (so count is even: 2 per
 * filter, as 8devices' python-can passes it); bit 31 of an id selects
 * extended frames. count 0 accepts everything.
 * Returns: SUCCESS, NOT_OPEN, PARAMETER, COMMUNICATION. */
CANAL_API int CANAL_CALL CanalSetFilters(long handle, unsigned long count,
                                         const unsigned long *pairs);

#ifdef __cplusplus
}
#endif
#endif
