#include "fake_link.h"

#include <string.h>

static int fake_command(u2c_link *link, const uint8_t request[U8D_CMD_SIZE],
                        uint8_t reply[U8D_CMD_SIZE], unsigned timeout_ms)
{
    fake_link *f = (fake_link *)link;
    (void)timeout_ms;
    u2c_mutex_lock(&f->lock);
    if (f->n_commands < FAKE_MAX_COMMANDS)
        memcpy(f->commands[f->n_commands++], request, U8D_CMD_SIZE);
    int result = f->gone ? U2C_LINK_GONE : f->command_result;
    uint32_t word = f->status_word;
    u2c_mutex_unlock(&f->lock);
    if (result != U2C_LINK_OK)
        return result;
    memcpy(reply, request, U8D_CMD_SIZE);
    reply[3] = request[2] == f->refuse_cmd ? U8D_RESULT_ERROR : U8D_RESULT_OK;
    if (request[2] == U8D_CMD_GET_STATUS) {
        reply[5] = (uint8_t)(word >> 24);
        reply[6] = (uint8_t)(word >> 16);
        reply[7] = (uint8_t)(word >> 8);
        reply[8] = (uint8_t)word;
    }
    if (request[2] == U8D_CMD_GET_SOFTW_HARDW_VER) {
        reply[5] = f->version.fw_major;
        reply[6] = f->version.fw_minor;
        reply[7] = f->version.hw_major;
        reply[8] = f->version.hw_minor;
    }
    return U2C_LINK_OK;
}

static int fake_start(u2c_link *link, const u2c_link_sink *sink)
{
    fake_link *f = (fake_link *)link;
    f->sink = sink;
    f->started = true;
    return U2C_LINK_OK;
}

int fake_link_pull(fake_link *f, int max)
{
    int got = 0;
    uint8_t record[U8D_TX_RECORD_SIZE];
    while (got < max && f->sink->next_out(f->sink->ctx, record)) {
        u2c_mutex_lock(&f->lock);
        if (f->n_out < FAKE_MAX_OUT)
            memcpy(f->out[f->n_out++], record, U8D_TX_RECORD_SIZE);
        u2c_mutex_unlock(&f->lock);
        got++;
    }
    return got;
}

static void fake_kick_out(u2c_link *link)
{
    fake_link *f = (fake_link *)link;
    u2c_mutex_lock(&f->lock);
    f->kicks++;
    bool pull = f->auto_pull && !f->gone;
    u2c_mutex_unlock(&f->lock);
    if (pull)
        fake_link_pull(f, FAKE_MAX_OUT);
}

static void fake_stop(u2c_link *link)
{
    fake_link *f = (fake_link *)link;
    if (f->on_stop)
        f->on_stop(f->on_stop_arg);
    f->stopped = true;
}

static void fake_destroy(u2c_link *link)
{
    ((fake_link *)link)->destroyed = true;
}

static const u2c_link_ops fake_ops = {
    .command = fake_command,
    .start = fake_start,
    .kick_out = fake_kick_out,
    .stop = fake_stop,
    .destroy = fake_destroy,
};

void fake_link_init(fake_link *f, uint8_t fw_major, uint8_t fw_minor)
{
    memset(f, 0, sizeof *f);
    f->base.ops = &fake_ops;
    strcpy(f->base.serial, "FAKE0001");
    u2c_mutex_init(&f->lock);
    f->version = (u8d_version){fw_major, fw_minor, 1, 0};
    f->command_result = U2C_LINK_OK;
    f->refuse_cmd = -1;
    f->auto_pull = true;
}

void fake_link_fini(fake_link *f)
{
    u2c_mutex_destroy(&f->lock);
}

void fake_link_inject(fake_link *f, const uint8_t *bytes, size_t len)
{
    f->sink->in_packet(f->sink->ctx, bytes, len);
}

void fake_link_unplug(fake_link *f, const char *reason)
{
    u2c_mutex_lock(&f->lock);
    f->gone = true;
    u2c_mutex_unlock(&f->lock);
    f->sink->gone(f->sink->ctx, reason);
}

int fake_link_command_code(fake_link *f, int index)
{
    return index < f->n_commands ? f->commands[index][2] : -1;
}
