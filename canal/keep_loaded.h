/*
 * keep_loaded.h — the library's code stays mapped while its threads run.
 *
 * Contract: every CanalOpen calls u2c_keep_loaded_hold before it can start
 * a thread, and u2c_keep_loaded_drop once everything it started has been
 * joined again (after its CanalClose, or at once when the open fails).
 * Holds are counted under a lock; both calls are safe from any thread.
 * - Windows (usb2can.dll): DllMain names the module
 *   (u2c_keep_loaded_set_module). While the count is above zero the DLL
 *   holds one extra reference to itself, taken when the count leaves zero,
 *   so a host's FreeLibrary with channels open leaves the DLL loaded: its
 *   channels keep running and their handles stay valid for a later
 *   LoadLibrary. When the count returns to zero a short-lived thread drops
 *   that reference through FreeLibraryAndExitThread, so the DLL is unmapped
 *   only once that thread has left its code, not by the CanalClose call
 *   (which is still returning into it). A caller holds its own reference
 *   while it calls in; one that calls CanalClose through an old pointer
 *   after its FreeLibrary races that thread. (If the thread cannot be
 *   started the reference is kept: the DLL then stays loaded until the
 *   process ends.)
 * - Linked statically into a program, and on POSIX: only the count is kept.
 *   There libusb2can.so's destructor closes every channel still open at
 *   dlclose (u2c_api_close_all), which joins every thread before the code
 *   is unmapped.
 */
#ifndef USB2CAN_KEEP_LOADED_H
#define USB2CAN_KEEP_LOADED_H

/* From DllMain (DLL_PROCESS_ATTACH): the DLL's own module handle. */
void u2c_keep_loaded_set_module(void *module);

void u2c_keep_loaded_hold(void);
void u2c_keep_loaded_drop(void);

/* Holds now (opens in progress plus channels not yet closed). */
unsigned u2c_keep_loaded_count(void);

#endif
