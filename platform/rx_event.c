#include "rx_event.h"

#include <stddef.h>

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

bool u2c_rx_event_create(u2c_rx_event *e)
{
    e->handle = CreateEventW(NULL, TRUE, FALSE, NULL);
    return e->handle != NULL;
}

void u2c_rx_event_destroy(u2c_rx_event *e)
{
    if (e->handle)
        CloseHandle(e->handle);
    e->handle = NULL;
}

void u2c_rx_event_set(u2c_rx_event *e)
{
    SetEvent(e->handle);
}

void u2c_rx_event_reset(u2c_rx_event *e)
{
    ResetEvent(e->handle);
}
#else
bool u2c_rx_event_create(u2c_rx_event *e)
{
    e->handle = NULL;
    return true;
}

void u2c_rx_event_destroy(u2c_rx_event *e)
{
    e->handle = NULL;
}

void u2c_rx_event_set(u2c_rx_event *e)
{
    (void)e;
}

void u2c_rx_event_reset(u2c_rx_event *e)
{
    (void)e;
}
#endif

void *u2c_rx_event_handle(const u2c_rx_event *e)
{
    return e->handle;
}
