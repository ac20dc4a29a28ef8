/*
 * model_helpers.h — small helpers shared by the device-model tests: build
 * models, commands and TX records with the codec, open a model at a given rate,
 * read IN packets back as decoded records.
 */
#ifndef USB2CAN_TESTS_MODEL_HELPERS_H
#define USB2CAN_TESTS_MODEL_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "u8d_codec.h"
#include "u8d_model.h"

#define MS 1000000ull

/* A fresh model powered on at time 0; the test fails if it cannot be made. */
static inline u8d_model *model_powered_on(void (*configure)(u8d_model_config *))
{
    u8d_model_config cfg;
    configure(&cfg);
    u8d_model *m = u8d_model_create(&cfg, 0);
    assert_non_null(m);
    return m;
}

static inline u8d_model *vendor(void)
{
    return model_powered_on(u8d_model_config_vendor);
}

static inline u8d_model *canalyze(void)
{
    return model_powered_on(u8d_model_config_canalyze);
}

static inline void cmd_bytes(uint8_t out[U8D_CMD_SIZE], uint8_t cmd, uint8_t opt1)
{
    u8d_encode_command(out, cmd, opt1, 0, NULL);
}

/* Sends a command and requires a 16-byte reply with opt1 == expect_opt1. */
static inline void model_cmd(u8d_model *m, uint64_t now, uint8_t cmd, uint8_t opt1,
                             uint8_t expect_opt1, uint8_t reply[U8D_CMD_SIZE])
{
    uint8_t req[U8D_CMD_SIZE];
    cmd_bytes(req, cmd, opt1);
    assert_int_equal(u8d_model_command(m, now, req, sizeof req, reply), U8D_CMD_SIZE);
    assert_int_equal(reply[3], expect_opt1);
}

/* OPEN at a standard rate (kbit/s) with manual timing and flags. */
static inline void model_open(u8d_model *m, uint64_t now, unsigned kbps, uint32_t flags)
{
    u8d_bittiming bt;
    assert_true(u8d_bittiming_standard(kbps, &bt));
    uint8_t req[U8D_CMD_SIZE], reply[U8D_CMD_SIZE];
    assert_int_equal(u8d_encode_open(req, &bt, flags), U8D_OK);
    assert_int_equal(u8d_model_command(m, now, req, sizeof req, reply), U8D_CMD_SIZE);
    assert_int_equal(reply[3], 0);
}

static inline u8d_frame std_frame(uint32_t id, uint8_t dlc, uint8_t fill)
{
    u8d_frame f = {.id = id, .flags = 0, .dlc = dlc};
    for (unsigned i = 0; i < dlc && i < 8; i++)
        f.data[i] = (uint8_t)(fill + i);
    return f;
}

static inline u8d_model_out model_send(u8d_model *m, uint64_t now, const u8d_frame *f)
{
    uint8_t rec[U8D_TX_RECORD_SIZE];
    assert_int_equal(u8d_encode_tx(rec, f), U8D_OK);
    return u8d_model_data_out(m, now, rec, sizeof rec);
}

/* Reads one IN packet and decodes it; returns the record count (0 = NAK). */
static inline size_t model_read(u8d_model *m, uint64_t now, u8d_rx_record out[3])
{
    uint8_t pkt[U8D_IN_PACKET_MAX];
    size_t n = u8d_model_data_in(m, now, pkt);
    if (n == 0)
        return 0;
    u8d_flavor fl = u8d_model_get_config(m)->flavor;
    u8d_in_packet p;
    assert_int_equal(u8d_decode_in_packet(pkt, n, fl, &p), U8D_OK);
    assert_int_equal(p.records * U8D_RX_RECORD_SIZE, n);
    for (size_t i = 0; i < p.records; i++)
        out[i] = p.rec[i];
    return p.records;
}

#endif
