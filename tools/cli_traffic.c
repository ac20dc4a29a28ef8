#include "cli_traffic.h"

#include <string.h>

static void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

canalMsg cli_numbered_frame(unsigned long id, uint32_t n)
{
    canalMsg m;
    memset(&m, 0, sizeof m);
    m.id = id;
    m.sizeData = 8;
    put_le32(m.data, n);
    put_le32(m.data + 4, ~n);
    return m;
}

bool cli_numbered_read(const canalMsg *m, unsigned long id, uint32_t *n)
{
    if (m->id != id || m->sizeData != 8 || (m->flags & CANAL_IDFLAG_STATUS))
        return false;
    *n = get_le32(m->data);
    return get_le32(m->data + 4) == ~*n;
}

void cli_sequence_note(cli_sequence *s, uint32_t n)
{
    s->received++;
    if (n > s->expected)
        s->lost += n - s->expected;
    else if (n < s->expected)
        s->reordered++;
    if (n >= s->expected)
        s->expected = n + 1;
}

double cli_bus_limit_fps(unsigned long kbps)
{
    return (double)kbps * 1000.0 / CLI_FRAME_BITS_8_BYTES;
}
