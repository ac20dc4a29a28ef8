#include "rx_event.h"

#include <stddef.h>

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

bool rx_event_create(rx_event *e)
{
    e->handle = CreateEventW(NULL, TRUE, FALSE, NULL);
    return e->handle != NULL;
}

void rx_event_destroy(rx_event *e)
{
    if (e->handle)
        CloseHandle(e->handle);
    e->handle = NULL;
}

void rx_event_set(rx_event *e)
{
    SetEvent(e->handle);
}

void rx_event_reset(rx_event *e)
{
    ResetEvent(e->handle);
}
#else
bool rx_event_create(rx_event *e)
{
    e->handle = NULL;
    return true;
}

void rx_event_destroy(rx_event *e)
{
    e->handle = NULL;
}

void rx_event_set(rx_event *e)
{
    (void)e;
}

void rx_event_reset(rx_event *e)
{
    (void)e;
}
#endif

void *rx_event_handle(const rx_event *e)
{
    return e->handle;
}
