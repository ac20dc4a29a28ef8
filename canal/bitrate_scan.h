/*
 * bitrate_scan.h — Usb2canScanBitrate (usb2can.h): open an adapter silent
 * at one candidate timing after another and judge what it hears.
 *
 * Contract: u2c_scan_run does what usb2can.h promises for the export,
 * through the public CANAL calls of this library (CanalOpen with flags
 * 0x09, CanalBlockingReceive, CanalClose), so it behaves exactly as a
 * program doing the same. No global state. u2c_scan_timing is a pure
 * function: the timing for a rate and sample point on the 32 MHz clock,
 * chosen by (1) the smallest rate error, (2) an even brp (a CANalyze runs
 * only those exactly), (3) the sample point nearest the one wanted,
 * (4) more time quanta; sjw 1, as the firmware's table.
 */
#ifndef USB2CAN_BITRATE_SCAN_H
#define USB2CAN_BITRATE_SCAN_H

#include <stdbool.h>

#include "usb2can.h"

/* False when no timing is within 0.5 % of bitrate (or the input is out of
 * range); out gets bitrate (rounded), sample point and timing. */
bool u2c_scan_timing(unsigned long bitrate, unsigned long sample_point_permille,
                     usb2canScanResult *out);

long u2c_scan_run(const char *setup, const usb2canScanOptions *options, usb2canScanResult *results,
                  long max_results, long *count);

#endif
