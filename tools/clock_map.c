#include "clock_map.h"

#include <string.h>

#define RESTART_JUMP_US 1000000
#define MIN_RATE_SPAN_US 1000000

void u2c_clock_map_init(u2c_clock_map *m, int64_t tick_us)
{
    memset(m, 0, sizeof *m);
    m->half_tick_us = tick_us / 2;
}

static void restart(u2c_clock_map *m, int64_t offset_us)
{
    m->block_count = 0;
    m->block_head = 0;
    m->rate = 0.0;
    m->current.device_us = m->device_us;
    m->current.offset_us = offset_us;
    m->current_start_us = m->device_us;
    m->reference = m->current;
}

static const u2c_clock_point *block_at(const u2c_clock_map *m, unsigned i)
{
    return &m->blocks[(m->block_head + i) % U2C_CLOCK_MAP_BLOCKS];
}

static int64_t line_offset(const u2c_clock_map *m, int64_t device_us)
{
    return m->reference.offset_us +
           (int64_t)(m->rate * (double)(device_us - m->reference.device_us));
}

/* The least-squares slope through the completed blocks' lowest points (a
 * block just begun may hold one late frame only), then the lowest line of
 * that slope under every point, the current block's included. */
static void fit(u2c_clock_map *m)
{
    unsigned n = m->block_count;
    if (n >= 2) {
        double sum_d = 0, sum_o = 0;
        const u2c_clock_point *first = block_at(m, 0);
        for (unsigned i = 0; i < n; i++) {
            const u2c_clock_point *p = block_at(m, i);
            sum_d += (double)(p->device_us - first->device_us);
            sum_o += (double)(p->offset_us - first->offset_us);
        }
        double mean_d = sum_d / n, mean_o = sum_o / n;
        double sdd = 0, sdo = 0;
        for (unsigned i = 0; i < n; i++) {
            const u2c_clock_point *p = block_at(m, i);
            double dd = (double)(p->device_us - first->device_us) - mean_d;
            sdd += dd * dd;
            sdo += dd * ((double)(p->offset_us - first->offset_us) - mean_o);
        }
        int64_t span = block_at(m, n - 1)->device_us - first->device_us;
        if (span >= MIN_RATE_SPAN_US && sdd > 0)
            m->rate = sdo / sdd;
    }
    m->reference = m->current;
    for (unsigned i = 0; i < n; i++) {
        const u2c_clock_point *p = block_at(m, i);
        if (p->offset_us < line_offset(m, p->device_us))
            m->reference = *p;
    }
}

static int64_t monotonic(u2c_clock_map *m, int64_t t)
{
    if (m->have_out && t < m->last_out_us)
        t = m->last_out_us;
    m->last_out_us = t;
    m->have_out = true;
    return t;
}

int64_t u2c_clock_map_observe(u2c_clock_map *m, unsigned long device_us, int64_t host_us)
{
    if (!m->started) {
        m->started = true;
        m->device_us = 0;
        m->last_raw = device_us;
        restart(m, host_us);
    } else {
        /* unsigned long arithmetic follows the 32-bit wrap where it is 32 bits wide */
        m->device_us += (int64_t)(unsigned long)(device_us - m->last_raw);
        m->last_raw = device_us;
    }
    int64_t d = m->device_us;
    int64_t offset = host_us - d;
    int64_t predicted = line_offset(m, d);
    if (offset - predicted > RESTART_JUMP_US || predicted - offset > RESTART_JUMP_US) {
        m->restarts++;
        restart(m, offset);
    }
    if (d - m->current_start_us >= U2C_CLOCK_MAP_BLOCK_US) {
        if (m->block_count == U2C_CLOCK_MAP_BLOCKS) {
            m->block_head = (m->block_head + 1) % U2C_CLOCK_MAP_BLOCKS;
            m->block_count--;
        }
        m->blocks[(m->block_head + m->block_count) % U2C_CLOCK_MAP_BLOCKS] = m->current;
        m->block_count++;
        m->current.device_us = d;
        m->current.offset_us = offset;
        m->current_start_us = d;
        fit(m);
    } else if (offset < m->current.offset_us) {
        m->current.device_us = d;
        m->current.offset_us = offset;
        fit(m);
    }
    return d;
}

int64_t u2c_clock_map_host_time(u2c_clock_map *m, int64_t device_time, int64_t host_us)
{
    int64_t d = device_time;
    /* The frame ended within the device tick starting at `earliest`, and
     * no later than it was received: the middle of what remains. */
    int64_t earliest = d + line_offset(m, d);
    int64_t latest = earliest + 2 * m->half_tick_us;
    if (host_us < latest)
        latest = host_us > earliest ? host_us : earliest;
    return monotonic(m, earliest + (latest - earliest) / 2);
}

int64_t u2c_clock_map_frame(u2c_clock_map *m, unsigned long device_us, int64_t host_us)
{
    return u2c_clock_map_host_time(m, u2c_clock_map_observe(m, device_us, host_us), host_us);
}

int64_t u2c_clock_map_event(u2c_clock_map *m, int64_t host_us)
{
    return monotonic(m, host_us);
}

double u2c_clock_map_drift_ppm(const u2c_clock_map *m)
{
    /* host = device × (1 + rate) for small rates, so the device runs -rate fast */
    return -m->rate * 1e6;
}
