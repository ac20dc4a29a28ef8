#include "thread_state.h"

#include <assert.h>

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

/* For threads whose own block could not be allocated (see the header). */
static u2c_thread_state shared_fallback;

static INIT_ONCE index_once = INIT_ONCE_STATIC_INIT;
static DWORD state_index = FLS_OUT_OF_INDEXES;

/* Runs at thread exit, and for every live thread when the index is freed. */
static void NTAPI free_block(void *block)
{
    if (block == NULL || block == &shared_fallback)
        return;
    u2c_thread_state *state = block;
    if (state->wait_timer != NULL)
        CloseHandle(state->wait_timer);
    if (state->wait_wake != NULL)
        CloseHandle(state->wait_wake);
    HeapFree(GetProcessHeap(), 0, block);
}

static BOOL CALLBACK allocate_index(INIT_ONCE *once, void *param, void **context)
{
    (void)once;
    (void)param;
    (void)context;
    state_index = FlsAlloc(free_block);
    return TRUE; /* FLS_OUT_OF_INDEXES is final too: everyone uses the fallback */
}

static u2c_thread_state *own_block(void)
{
    if (!InitOnceExecuteOnce(&index_once, allocate_index, NULL, NULL) ||
        state_index == FLS_OUT_OF_INDEXES)
        return NULL;
    u2c_thread_state *block = FlsGetValue(state_index);
    if (block != NULL)
        return block;
    /* The thread's first call: the process heap outlives every CRT. */
    block = HeapAlloc(GetProcessHeap(), HEAP_ZERO_MEMORY, sizeof *block);
    if (block != NULL && !FlsSetValue(state_index, block)) {
        HeapFree(GetProcessHeap(), 0, block);
        block = NULL;
    }
    return block;
}

u2c_thread_state *u2c_thread_state_get(void)
{
    /* Callers may still want the Win32 error of the call that failed. */
    DWORD saved_error = GetLastError();
    u2c_thread_state *block = own_block();
    SetLastError(saved_error);
    return block != NULL ? block : &shared_fallback;
}

bool u2c_thread_wait_objects(void *(*make_timer)(void), void **timer, void **wake)
{
    DWORD saved_error = GetLastError();
    u2c_thread_state *block = own_block();
    if (block != NULL) {
        if (!block->wait_timer_tried) {
            block->wait_timer_tried = true;
            block->wait_timer = make_timer();
        }
        if (block->wait_timer != NULL && block->wait_wake == NULL)
            block->wait_wake = CreateEventW(NULL, FALSE, FALSE, NULL); /* auto-reset */
    }
    SetLastError(saved_error);
    if (block == NULL || block->wait_timer == NULL || block->wait_wake == NULL)
        return false;
    *timer = block->wait_timer;
    *wake = block->wait_wake;
    return true;
}

void u2c_thread_state_unload(void)
{
    BOOL pending = TRUE;
    if (!InitOnceBeginInitialize(&index_once, INIT_ONCE_CHECK_ONLY, &pending, NULL) || pending)
        return; /* no thread ever asked for a block */
    if (state_index != FLS_OUT_OF_INDEXES)
        FlsFree(state_index); /* calls free_block for every thread's block */
    state_index = FLS_OUT_OF_INDEXES;
}

#else

u2c_thread_state *u2c_thread_state_get(void)
{
    static _Thread_local u2c_thread_state block;
    return &block;
}

#endif

void *u2c_thread_slot_get(unsigned index)
{
    assert(index < U2C_THREAD_SLOTS);
    return u2c_thread_state_get()->slots[index].bytes;
}
