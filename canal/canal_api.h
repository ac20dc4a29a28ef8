/*
 * canal_api.h — internal accessors next to the exports of canal_api.c.
 *
 * Contract: the exported CANAL and usb2can functions are declared in
 * include/canal.h and include/usb2can.h; this header adds what tests and
 * tools linked against u2c_canal may use beyond them. Each call validates
 * its handle like an export does and returns a CANAL code.
 */
#ifndef USB2CAN_CANAL_API_H
#define USB2CAN_CANAL_API_H

#include "channel.h"

/* Closes every channel no call is inside, as CanalClose does (wait_ms
 * bounds the whole); returns how many it left open. A channel a thread is
 * blocked in is left as it is, never woken: at exit that thread belongs to
 * a program that is ending, and waking it would run the program's code
 * again during exit (and could change its exit status). For unloading the
 * library (dllmain.c) and tests. */
int u2c_api_close_all(unsigned long wait_ms);

/* Host-side diagnostics of an open handle (malformed packets, ring overruns...). */
int u2c_api_diagnostics(long handle, u2c_channel_diag *out);

#endif
