#include "osal.h"

#include "thread_box.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

uint64_t u2c_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The calls that are one pthread call each. */
#define FORWARD U2C_OSAL_FORWARD
FORWARD(mutex_init, u2c_mutex, pthread_mutex_init(&x->m, NULL))
FORWARD(mutex_destroy, u2c_mutex, pthread_mutex_destroy(&x->m))
FORWARD(mutex_lock, u2c_mutex, pthread_mutex_lock(&x->m))
FORWARD(mutex_unlock, u2c_mutex, pthread_mutex_unlock(&x->m))

/* Timed waits run on the monotonic clock (u2c_now_ns). */
void u2c_cond_init(u2c_cond *c)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cv, &attr);
    pthread_condattr_destroy(&attr);
}
FORWARD(cond_destroy, u2c_cond, pthread_cond_destroy(&x->cv))
FORWARD(cond_signal, u2c_cond, pthread_cond_signal(&x->cv))
FORWARD(cond_broadcast, u2c_cond, pthread_cond_broadcast(&x->cv))

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

static void *thread_trampoline(void *box)
{
    u2c_thread_box_run(box);
    return NULL;
}

int u2c_thread_start(u2c_thread *t, u2c_thread_fn fn, void *arg)
{
    u2c_thread_box *box = u2c_thread_box_new(fn, arg);
    if (box == NULL)
        return -1;
    if (pthread_create(&t->t, NULL, thread_trampoline, box) != 0) {
        free(box);
        return -1;
    }
    return 0;
}

void u2c_thread_join(u2c_thread *t)
{
    pthread_join(t->t, NULL);
}

bool u2c_process_exiting(void)
{
    return false;
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
