/*
 * fake_link.h — a scripted u2c_link for the channel tests.
 *
 * Contract: answers every command like vendor firmware (a copy of the
 * request with opt1 = 0; the version query returns `version`), records
 * every request, refuses the command `refuse_cmd` with opt1 = 0xFF and
 * fails every exchange with `command_result` when that is not U2C_LINK_OK;
 * GET_STATUS answers `status_word` (big-endian in data[0..3]).
 * kick_out pulls every queued record into `out` when `auto_pull` is set;
 * fake_link_pull pulls on demand. fake_link_inject and fake_link_unplug
 * drive the sink as a link's event thread would. stop calls `on_stop`
 * when set, where a test joins the threads that drive the sink, as a real
 * link's stop joins its own. destroy only marks it: the test owns the
 * memory.
 */
#ifndef USB2CAN_TEST_FAKE_LINK_H
#define USB2CAN_TEST_FAKE_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link.h"
#include "osal.h"

#define FAKE_MAX_COMMANDS 64
#define FAKE_MAX_OUT 4096

typedef struct fake_link {
    u2c_link base;
    u2c_mutex lock;
    const u2c_link_sink *sink;
    u8d_version version;
    int command_result;
    int refuse_cmd;
    uint32_t status_word;
    bool auto_pull;
    bool started, stopped, destroyed, gone;
    void (*on_stop)(void *arg);
    void *on_stop_arg;
    int kicks;
    int n_commands;
    uint8_t commands[FAKE_MAX_COMMANDS][U8D_CMD_SIZE];
    int n_out;
    uint8_t out[FAKE_MAX_OUT][U8D_TX_RECORD_SIZE];
} fake_link;

void fake_link_init(fake_link *f, uint8_t fw_major, uint8_t fw_minor);
void fake_link_fini(fake_link *f);
void fake_link_inject(fake_link *f, const uint8_t *bytes, size_t len);
void fake_link_unplug(fake_link *f, const char *reason);
/* Pulls up to max records; returns how many it got. */
int fake_link_pull(fake_link *f, int max);
/* Command codes (byte 2) of the recorded requests. */
int fake_link_command_code(fake_link *f, int index);

#endif
