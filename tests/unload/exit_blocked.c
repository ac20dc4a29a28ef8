/*
 * exit_blocked.c — a program whose worker thread calls exit(7) while the
 * main thread is blocked in CanalBlockingReceive(h, &m, 0).
 *
 * Contract: the process must end with status 7, promptly. The main thread
 * runs its own code again only if the library wakes it during exit; it
 * then ends the process with status 3 at once, which the runner
 * (check_exit_status.sh) reports. On Windows the handle is also handed to
 * exit_closer.dll, whose DllMain closes it after ExitProcess ended the
 * blocked thread (as hosts that close in DllMain or static destructors do);
 * that close must return, not wait for the dead thread's call.
 */
#include <stdio.h>
#include <stdlib.h>

#include "canal.h"

#if defined(_WIN32)
#include <windows.h>

#include "exit_closer.h"
#else
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#endif

#define WORKER_DELAY_MS 300

#if defined(_WIN32)
static DWORD WINAPI worker(LPVOID arg)
{
    (void)arg;
    Sleep(WORKER_DELAY_MS);
    exit(7);
}
#else
static void *worker(void *arg)
{
    (void)arg;
    struct timespec delay = {0, WORKER_DELAY_MS * 1000000L};
    nanosleep(&delay, NULL);
    exit(7);
}
#endif

int main(void)
{
    long h = CanalOpen("VIRTUAL5;500", 0);
    if (h <= 0) {
        fprintf(stderr, "CanalOpen failed\n");
        return 2;
    }
#if defined(_WIN32)
    exit_closer_adopt(h);
    if (CreateThread(NULL, 0, worker, NULL, 0, NULL) == NULL)
        return 2;
#else
    pthread_t t;
    if (pthread_create(&t, NULL, worker, NULL) != 0)
        return 2;
#endif
    canalMsg m;
    int rc = CanalBlockingReceive(h, &m, 0);
    /* Only reached when the library woke this thread during exit. */
    fprintf(stderr, "woken during exit: CanalBlockingReceive returned %d\n", rc);
    fflush(stderr);
    _exit(3);
}
