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
#define USB2CAN_ADAPTER_VIRTUAL 0x01UL   /* model-backed, no hardware */
#define USB2CAN_ADAPTER_IN_USE 0x02UL    /* opened by a program already */
#define USB2CAN_ADAPTER_USABLE 0x04UL    /* bound to a driver libusb can use */
#define USB2CAN_ADAPTER_NO_SERIAL 0x08UL /* reports no serial: serial is "", cannot be named */

/*
 * One adapter. Plain types only, so ctypes can mirror it:
 *   class usb2canAdapterInfo(ctypes.Structure):
 *       _fields_ = [("serial", ctypes.c_char * 33), ("driver", ctypes.c_char * 31),
 *                   ("flags", ctypes.c_ulong), ("description", ctypes.c_char * 64)]
 * (132 bytes on Windows, 136 on LP64 Linux). Strings are NUL-terminated.
 */
typedef struct usb2canAdapterInfo {
    char serial[33];      /* upper-case, as in the USB instance ID / iSerialNumber; "VIRTUALn" */
    char driver[31];      /* Windows: "WinUSB", "libusbK", "libusb0", another service (e.g. the
                             vendor's), "" = none; Linux: the interface's kernel driver ("usbfs"
                             while a libusb program holds it), "" = none; "virtual" */
    unsigned long flags;  /* USB2CAN_ADAPTER_* */
    char description[64]; /* e.g. "USB2CAN converter" or "virtual adapter on the in-process bus" */
} usb2canAdapterInfo;

/*
 * Lists the adapters present now without opening any: hardware sorted by
 * serial (serial-less ones last), then VIRTUAL0..VIRTUAL7. Fills up to max
 * entries and returns how many exist (which may be more than max, so a
 * caller may ask with max 0 and list NULL first), or -1 with the last error
 * set. IN_USE on Windows means a query-only open of the device was refused
 * (another program holds it); a driver that allows several opens is never
 * reported in use. On Linux it means a libusb program claimed the interface.
 *   n = dll.Usb2canListAdapters(None, 0)
 *   arr = (usb2canAdapterInfo * n)(); dll.Usb2canListAdapters(arr, n)
 */
CANAL_API long CANAL_CALL Usb2canListAdapters(usb2canAdapterInfo *list, long max);

#ifdef __cplusplus
}
#endif
#endif
