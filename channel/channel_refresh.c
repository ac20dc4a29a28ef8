/* The refresher thread of a vendor channel (contract in channel_impl.h):
 * the only place the adapter is asked for its status word and its overrun
 * count, so CanalGetStatus and CanalGetStatistics never wait for USB. */
#include <string.h>

#include "channel_impl.h"

/* Lock held: what the refresher should do now, or 0 with *wake_at set
 * (U2C_DEADLINE_NEVER = until signalled). */
static bool refresh_due(u2c_channel *ch, uint64_t now, uint64_t *wake_at)
{
    *wake_at = U2C_DEADLINE_NEVER;
    if (ch->closing || ch->gone)
        return false;
    if (ch->confirm_wanted) {
        uint64_t at = ch->status_confirmed_ns + (uint64_t)U2C_STATUS_CONFIRM_MS * 1000000u;
        if (now >= at)
            return true;
        *wake_at = at;
    }
    if (ch->refresh_wanted) {
        uint64_t at = ch->status_asked_ns + (uint64_t)U2C_STATUS_REFRESH_MS * 1000000u;
        if (now >= at)
            return true;
        if (at < *wake_at)
            *wake_at = at;
    }
    return false;
}

/* One exchange without touching the thread's last error: a background
 * failure is nobody's call result. */
static bool ask(u2c_channel *ch, uint8_t code, uint8_t opt1, uint32_t *value)
{
    uint8_t request[U8D_CMD_SIZE], reply[U8D_CMD_SIZE];
    u8d_encode_command(request, code, opt1, 0, NULL);
    if (ch->link->ops->command(ch->link, request, reply, U2C_STATUS_QUERY_TIMEOUT_MS) !=
        U2C_LINK_OK)
        return false;
    if (u8d_check_reply(reply, U8D_CMD_SIZE, code) != U8D_OK)
        return false;
    *value = u8d_reply_be32(reply);
    return true;
}

/* cmd_lock held (so no OPEN comes between question and answer), lock not. */
static void refresh_once(u2c_channel *ch)
{
    uint32_t word = 0, overruns = 0;
    bool queued = false;
    u2c_mutex_lock(&ch->lock);
    uint64_t records_before = ch->status_records_seen;
    u2c_mutex_unlock(&ch->lock);
    bool have_word = ask(ch, U8D_CMD_GET_STATUS, 0, &word);
    bool have_overruns = have_word && ask(ch, U8D_CMD_GET_STATISTICS, U8D_STAT_OVERRUNS, &overruns);
    u2c_mutex_lock(&ch->lock);
    /* A record that came while the question was out may be newer than the
     * answer (the two pipes have no common order): the word waits for the
     * confirmation that record asked for. */
    if (have_word && ch->status_records_seen != records_before && ch->confirm_wanted)
        have_word = false;
    if (have_word) {
        bool was_bus_off = ch->bus.bus_off;
        u2c_bus_state_apply_word(&ch->bus, word);
        if (ch->bus.bus_off && !was_bus_off)
            u2c_channel_bus_off_seen(ch, u2c_now_ns());
        /* A BUSOFF record is shown only once the adapter confirms it: one
         * held across CLOSE arrives after the next OPEN (docs/protocol.md). */
        if (ch->busoff_msg_pending && ch->bus.bus_off) {
            u2c_channel_queue_status(ch, CANAL_STATUSMSG_BUSOFF, ch->bus.rec_raw, ch->bus.tec);
            queued = true;
        }
        ch->busoff_msg_pending = false;
    }
    if (have_overruns)
        ch->overrun_stat_now = overruns;
    bool wake = queued && ch->rx_waiters > 0;
    u2c_mutex_unlock(&ch->lock);
    if (wake)
        u2c_cond_broadcast(&ch->rx_cond);
}

static void refresher_main(void *arg)
{
    u2c_channel *ch = arg;
    u2c_mutex_lock(&ch->lock);
    while (!ch->refresher_stop) {
        uint64_t now = u2c_now_ns(), wake_at;
        if (!refresh_due(ch, now, &wake_at)) {
            (void)u2c_cond_wait_until(&ch->refresh_cond, &ch->lock, wake_at);
            continue;
        }
        if (ch->refresh_wanted &&
            now - ch->status_asked_ns >= (uint64_t)U2C_STATUS_REFRESH_MS * 1000000u) {
            ch->refresh_wanted = false;
            ch->status_asked_ns = now;
        }
        ch->confirm_wanted = false;
        ch->status_confirmed_ns = now;
        u2c_mutex_unlock(&ch->lock);
        u2c_mutex_lock(&ch->cmd_lock);
        refresh_once(ch);
        u2c_mutex_unlock(&ch->cmd_lock);
        u2c_mutex_lock(&ch->lock);
    }
    u2c_mutex_unlock(&ch->lock);
}

void u2c_channel_refresher_start(u2c_channel *ch)
{
    if (ch->flavor != U8D_FLAVOR_VENDOR || ch->refresher_running)
        return;
    u2c_mutex_lock(&ch->lock);
    ch->refresher_stop = false;
    u2c_mutex_unlock(&ch->lock);
    /* Without the thread the state comes from records alone (as on a
     * CANalyze): worse, but every call still returns at once. The flag is
     * written under the lock: the link's thread reads it in take_status. */
    bool started = u2c_thread_start(&ch->refresher, refresher_main, ch) == 0;
    u2c_mutex_lock(&ch->lock);
    ch->refresher_running = started;
    u2c_mutex_unlock(&ch->lock);
}

void u2c_channel_stop_thread(u2c_channel *ch, bool *started, bool *stop, u2c_cond *wake,
                             u2c_thread *thread)
{
    if (!*started)
        return;
    u2c_mutex_lock(&ch->lock);
    *stop = true;
    u2c_cond_broadcast(wake);
    u2c_mutex_unlock(&ch->lock);
    u2c_thread_join(thread);
    u2c_mutex_lock(&ch->lock);
    *started = false; /* other threads read it under the lock */
    u2c_mutex_unlock(&ch->lock);
}

void u2c_channel_refresher_stop(u2c_channel *ch)
{
    u2c_channel_stop_thread(ch, &ch->refresher_running, &ch->refresher_stop, &ch->refresh_cond,
                            &ch->refresher);
}

void u2c_channel_want_refresh(u2c_channel *ch, bool confirm_now)
{
    if (!ch->refresher_running)
        return;
    if (confirm_now)
        ch->confirm_wanted = true;
    else
        ch->refresh_wanted = true;
    u2c_cond_signal(&ch->refresh_cond);
}
