/*
 * thread_box.h — how a new thread's function and argument reach it, for the
 * two halves of osal.h: boxed on the heap by the starting thread, unboxed
 * and run by the new one.
 *
 * Contract: u2c_thread_box_new returns NULL when out of memory; a box that
 * was never handed to a thread is freed with free(); u2c_thread_box_run
 * frees the box before it runs the function.
 */
#ifndef USB2CAN_THREAD_BOX_H
#define USB2CAN_THREAD_BOX_H

#include <stdlib.h>

#include "osal.h"

typedef struct u2c_thread_box {
    u2c_thread_fn fn;
    void *arg;
} u2c_thread_box;

static inline u2c_thread_box *u2c_thread_box_new(u2c_thread_fn fn, void *arg)
{
    u2c_thread_box *box = malloc(sizeof *box);
    if (box != NULL)
        *box = (u2c_thread_box){fn, arg};
    return box;
}

static inline void u2c_thread_box_run(void *p)
{
    u2c_thread_box box = *(u2c_thread_box *)p;
    free(p);
    box.fn(box.arg);
}

#endif
