#include "left_behind.h"

#include <stdio.h>
#include <string.h>

#include "osal.h"
#include "usb2can.h"

typedef struct entry {
    char serial[USB2CAN_SERIAL_MAX + 1];
    uint64_t frames;
    uint64_t noted; /* order of noting, to drop the oldest */
} entry;

static struct {
    u2c_mutex lock; /* guards everything below */
    entry slots[U2C_LEFT_BEHIND_SLOTS];
    uint64_t count;
} table = {.lock = U2C_MUTEX_INITIALIZER};

/* Lock held: the serial's entry, or NULL. */
static entry *find(const char *serial)
{
    for (size_t i = 0; i < U2C_LEFT_BEHIND_SLOTS; i++)
        if (table.slots[i].frames != 0 && strcmp(table.slots[i].serial, serial) == 0)
            return &table.slots[i];
    return NULL;
}

/* Lock held: a free entry, or the oldest one. */
static entry *room(void)
{
    entry *oldest = &table.slots[0];
    for (size_t i = 0; i < U2C_LEFT_BEHIND_SLOTS; i++) {
        if (table.slots[i].frames == 0)
            return &table.slots[i];
        if (table.slots[i].noted < oldest->noted)
            oldest = &table.slots[i];
    }
    return oldest;
}

void u2c_left_behind_note(const char *serial, uint64_t frames)
{
    u2c_mutex_lock(&table.lock);
    entry *e = find(serial);
    if (e == NULL && frames != 0)
        e = room();
    if (e != NULL) {
        snprintf(e->serial, sizeof e->serial, "%s", serial);
        e->frames = frames;
        e->noted = ++table.count;
    }
    u2c_mutex_unlock(&table.lock);
}

uint64_t u2c_left_behind_take(const char *serial)
{
    u2c_mutex_lock(&table.lock);
    entry *e = find(serial);
    uint64_t frames = e != NULL ? e->frames : 0;
    if (e != NULL)
        e->frames = 0;
    u2c_mutex_unlock(&table.lock);
    return frames;
}
