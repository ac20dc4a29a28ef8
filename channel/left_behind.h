/*
 * left_behind.h — what this process's last CanalClose of an adapter left in
 * it: frames the vendor firmware keeps in its transmit list across CLOSE and
 * sends after its next OPEN, at whatever bit rate that OPEN sets (the
 * firmware has no command that empties or reports the list). The next open
 * of the same serial in this process says so; another process cannot know.
 *
 * Contract: one process-wide table of U2C_LEFT_BEHIND_SLOTS serials behind
 * one lock (a leaf: nothing else is called while it is held). Noting 0
 * frames forgets the serial; a full table drops its oldest entry. take
 * returns the frames noted for serial (case as given) and forgets them.
 */
#ifndef USB2CAN_LEFT_BEHIND_H
#define USB2CAN_LEFT_BEHIND_H

#include <stdint.h>

#define U2C_LEFT_BEHIND_SLOTS 32

void u2c_left_behind_note(const char *serial, uint64_t frames);
uint64_t u2c_left_behind_take(const char *serial);

#endif
