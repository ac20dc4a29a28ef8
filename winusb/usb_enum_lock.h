/*
 * usb_enum_lock.h — one process-wide lock around libusb's device lists.
 *
 * libusb 1.0.26's Windows back end is not safe when two threads enumerate
 * at once, or when one thread enumerates while another frees a device list
 * or closes a handle that drops a device's last reference (libusb issue
 * 1793): the process crashes inside libusb. Two threads calling CanalOpen
 * at once, or two adapters opened at once, would do exactly that.
 *
 * Contract: every libusb_get_device_list, libusb_free_device_list,
 * libusb_open and libusb_close in this library runs with this lock held,
 * and so does whatever a caller does between a list and its free (reading
 * descriptors, claiming the interface). Holders make only libusb calls
 * under it: no sink callback, no wait for a transfer, no other lock of the
 * library except a link's own init. It is a plain mutex, statically
 * initialised and never destroyed, so it works from the first call on any
 * thread; the same code runs on Linux, where libusb would not need it.
 */
#ifndef USB2CAN_USB_ENUM_LOCK_H
#define USB2CAN_USB_ENUM_LOCK_H

void u2c_usb_enum_lock(void);
void u2c_usb_enum_unlock(void);

#endif
