#include "osal.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

uint64_t u2c_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void u2c_mutex_init(u2c_mutex *m)
{
    pthread_mutex_init(&m->m, NULL);
}
void u2c_mutex_destroy(u2c_mutex *m)
{
    pthread_mutex_destroy(&m->m);
}
void u2c_mutex_lock(u2c_mutex *m)
{
    pthread_mutex_lock(&m->m);
}
void u2c_mutex_unlock(u2c_mutex *m)
{
    pthread_mutex_unlock(&m->m);
}

void u2c_cond_init(u2c_cond *c)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &attr);
    pthread_condattr_destroy(&attr);
}
void u2c_cond_destroy(u2c_cond *c)
{
    pthread_cond_destroy(&c->cv);
}
void u2c_cond_signal(u2c_cond *c)
{
    pthread_cond_signal(&c->cv);
}
void u2c_cond_broadcast(u2c_cond *c)
{
    pthread_cond_broadcast(&c->cv);
}

bool u2c_cond_wait_until(u2c_cond *c, u2c_mutex *m, uint64_t deadline_ns)
{
    if (deadline_ns == U2C_DEADLINE_NEVER) {
        pthread_cond_wait(&c->cv, &m->m);
        return true;
    }
    struct timespec ts = {
        .tv_sec = (time_t)(deadline_ns / 1000000000ULL),
        .tv_nsec = (long)(deadline_ns % 1000000000ULL),
    };
    pthread_cond_timedwait(&c->cv, &m->m, &ts);
    return u2c_now_ns() < deadline_ns;
}

struct thread_start {
    u2c_thread_fn fn;
    void *arg;
};

static void *thread_trampoline(void *p)
{
    struct thread_start start = *(struct thread_start *)p;
    free(p);
    start.fn(start.arg);
    return NULL;
}

int u2c_thread_start(u2c_thread *t, u2c_thread_fn fn, void *arg)
{
    struct thread_start *start = malloc(sizeof *start);
    if (!start)
        return -1;
    start->fn = fn;
    start->arg = arg;
    if (pthread_create(&t->t, NULL, thread_trampoline, start) != 0) {
        free(start);
        return -1;
    }
    return 0;
}

void u2c_thread_join(u2c_thread *t)
{
    pthread_join(t->t, NULL);
}

void u2c_thread_detach(u2c_thread *t)
{
    pthread_detach(t->t);
}

void u2c_thread_raise_priority(void)
{
    /* Raising a thread above its peers needs a privilege (CAP_SYS_NICE) here. */
}

void u2c_sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}
