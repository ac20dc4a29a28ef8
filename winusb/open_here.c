#include "open_here.h"

#include <stdio.h>
#include <string.h>

#include "osal.h"
#include "text.h"

typedef struct open_entry {
    const void *key; /* NULL: free */
    char serial[40];
    char location[U2C_LOCATION_TEXT];
    long handle;
} open_entry;

static struct {
    u2c_mutex lock; /* guards entry */
    open_entry entry[U2C_OPEN_HERE_MAX];
} table = {.lock = U2C_MUTEX_INITIALIZER};

void u2c_open_here_add(const void *key, const char *serial, const char *location)
{
    if (key == NULL)
        return;
    u2c_mutex_lock(&table.lock);
    for (size_t i = 0; i < U2C_OPEN_HERE_MAX; i++) {
        open_entry *e = &table.entry[i];
        if (e->key != NULL)
            continue;
        e->key = key;
        snprintf(e->serial, sizeof e->serial, "%s", serial ? serial : "");
        snprintf(e->location, sizeof e->location, "%s", location ? location : "");
        e->handle = 0;
        break;
    }
    u2c_mutex_unlock(&table.lock);
}

void u2c_open_here_remove(const void *key)
{
    u2c_mutex_lock(&table.lock);
    for (size_t i = 0; i < U2C_OPEN_HERE_MAX; i++)
        if (table.entry[i].key == key && key != NULL)
            memset(&table.entry[i], 0, sizeof table.entry[i]);
    u2c_mutex_unlock(&table.lock);
}

void u2c_open_here_set_handle(const void *key, long handle)
{
    u2c_mutex_lock(&table.lock);
    for (size_t i = 0; i < U2C_OPEN_HERE_MAX; i++)
        if (table.entry[i].key == key && key != NULL)
            table.entry[i].handle = handle;
    u2c_mutex_unlock(&table.lock);
}

bool u2c_open_here_find(const char *serial, const char *location, long *handle)
{
    bool found = false;
    u2c_mutex_lock(&table.lock);
    for (size_t i = 0; i < U2C_OPEN_HERE_MAX && !found; i++) {
        const open_entry *e = &table.entry[i];
        if (e->key == NULL)
            continue;
        if (serial != NULL && serial[0] != '\0' && u2c_compare_nocase(e->serial, serial) != 0)
            continue;
        if (location != NULL && location[0] != '\0' && strcmp(e->location, location) != 0)
            continue;
        found = true;
        if (handle != NULL)
            *handle = e->handle;
    }
    u2c_mutex_unlock(&table.lock);
    return found;
}
