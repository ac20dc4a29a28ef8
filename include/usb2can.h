/*
 * usb2can.h — usb2can's extensions to the CANAL API.
 *
 * Contract: every function here is exported by usb2can.dll / libusb2can.so
 * under its plain name, uses the CANAL calling convention (CANAL_CALL) and
 * only plain C types, so ctypes, C# and C callers can use it without this
 * header. Nothing here is needed to use the CANAL API itself.
 */
#ifndef USB2CAN_USB2CAN_H
#define USB2CAN_USB2CAN_H

#include "canal.h"

#ifdef __cplusplus
extern "C" {
#endif

#define USB2CAN_VERSION_MAJOR 1
#define USB2CAN_VERSION_MINOR 0
#define USB2CAN_VERSION_SUB 0

/* CanalOpen flags (sent to the adapter as the vendor DLL does). */
#define USB2CAN_FLAG_SILENT 0x01UL        /* listen-only */
#define USB2CAN_FLAG_LOOPBACK 0x02UL      /* controller loopback */
#define USB2CAN_FLAG_ONE_SHOT 0x04UL      /* disable automatic retransmission */
#define USB2CAN_FLAG_STATUS_FRAMES 0x08UL /* deliver CANAL_IDFLAG_STATUS messages */

/*
 * The reason the calling thread's last failed call failed, e.g.
 * "no adapter with serial ED000215; connected: ED000200 (WinUSB)".
 * Never NULL; "" when the thread's last call succeeded. The text stays valid
 * until the thread's next call into the library.
 */
CANAL_API const char *CANAL_CALL Usb2canGetLastError(void);

/* Copies the last-error text into buf (always NUL-terminated when size > 0);
 * returns the full length of the text. */
CANAL_API unsigned long CANAL_CALL Usb2canGetLastErrorText(char *buf, unsigned long size);

/* Adapter flags in usb2canAdapterInfo.flags. */
#define USB2CAN_ADAPTER_VIRTUAL 0x01UL /* model-backed, no hardware */
#define USB2CAN_ADAPTER_IN_USE 0x02UL  /* opened by a program already */
#define USB2CAN_ADAPTER_USABLE 0x04UL  /* bound to a driver libusb can use */

typedef struct usb2canAdapterInfo {
    char serial[33];      /* as in the USB instance ID / iSerialNumber */
    char driver[31];      /* "WinUSB", "libusbK", "libusb0", the vendor's service name, "" = none */
    unsigned long flags;  /* USB2CAN_ADAPTER_* */
    char description[64]; /* e.g. "USB2CAN converter" or "virtual adapter" */
} usb2canAdapterInfo;

/*
 * Lists the adapters present now, hardware first, then the virtual ones.
 * Fills up to max entries and returns how many exist (which may be more
 * than max), or -1 with the last error set.
 */
CANAL_API long CANAL_CALL Usb2canListAdapters(usb2canAdapterInfo *list, long max);

#ifdef __cplusplus
}
#endif
#endif
