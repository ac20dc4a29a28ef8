/*
 * canal_results.h — which CANAL_ERROR_* codes each export that returns a
 * code can return: one list, the source of truth for include/canal.h's
 * "Returns:" lines and docs/canal-semantics.md's "Return codes" table
 * (tests/canal checks both against it), and checked against every code an
 * export actually returns (u2c_result_checked, in builds with assertions).
 *
 * Contract: U2C_CANAL_RESULTS(X) calls X(function, mask) once per export
 * that returns a code, mask being U2C_RESULT(NAME) | ... of the codes it can
 * return. U2C_CANAL_ERROR_NAMES(X) calls X(NAME) once per code usb2can can
 * return (canal.h's CANAL_ERROR_NAME). Pure data, no state.
 */
#ifndef USB2CAN_CANAL_RESULTS_H
#define USB2CAN_CANAL_RESULTS_H

#include <stdint.h>

#include "canal.h"

#define U2C_RESULT(name) (UINT64_C(1) << CANAL_ERROR_##name)

/* The codes of a call that acts on an open channel and may find it closed
 * under it or its adapter gone. */
#define U2C_RESULTS_ON_CHANNEL                                                                     \
    (U2C_RESULT(SUCCESS) | U2C_RESULT(NOT_OPEN) | U2C_RESULT(COMMUNICATION))
/* ... and sends a frame it checks first. */
#define U2C_RESULTS_SENDING                                                                        \
    (U2C_RESULTS_ON_CHANNEL | U2C_RESULT(PARAMETER) | U2C_RESULT(CAN_ID) |                         \
     U2C_RESULT(NOT_SUPPORTED))

#define U2C_CANAL_RESULTS(X)                                                                       \
    X(CanalClose, U2C_RESULT(SUCCESS) | U2C_RESULT(NOT_OPEN))                                      \
    X(CanalSend, U2C_RESULTS_SENDING | U2C_RESULT(FIFO_FULL))                                      \
    X(CanalBlockingSend, U2C_RESULTS_SENDING | U2C_RESULT(TIMEOUT))                                \
    X(CanalReceive, U2C_RESULTS_ON_CHANNEL | U2C_RESULT(PARAMETER) | U2C_RESULT(FIFO_EMPTY))       \
    X(CanalBlockingReceive, U2C_RESULTS_ON_CHANNEL | U2C_RESULT(PARAMETER) | U2C_RESULT(TIMEOUT))  \
    X(CanalGetStatus, U2C_RESULTS_ON_CHANNEL | U2C_RESULT(PARAMETER))                              \
    X(CanalGetStatistics, U2C_RESULTS_ON_CHANNEL | U2C_RESULT(PARAMETER))                          \
    X(CanalSetFilter, U2C_RESULTS_ON_CHANNEL)                                                      \
    X(CanalSetMask, U2C_RESULTS_ON_CHANNEL)                                                        \
    X(CanalSetFilters, U2C_RESULTS_ON_CHANNEL | U2C_RESULT(PARAMETER))                             \
    X(CanalSetBaudrate, U2C_RESULTS_ON_CHANNEL | U2C_RESULT(BAUDRATE) | U2C_RESULT(TIMEOUT) |      \
                            U2C_RESULT(HARDWARE) | U2C_RESULT(NOT_SUPPORTED))

#define U2C_CANAL_ERROR_NAMES(X)                                                                   \
    X(SUCCESS)                                                                                     \
    X(BAUDRATE)                                                                                    \
    X(CAN_ID)                                                                                      \
    X(FIFO_EMPTY)                                                                                  \
    X(FIFO_FULL)                                                                                   \
    X(HARDWARE)                                                                                    \
    X(NOT_SUPPORTED)                                                                               \
    X(TIMEOUT)                                                                                     \
    X(NOT_OPEN)                                                                                    \
    X(PARAMETER)                                                                                   \
    X(COMMUNICATION)

/* One enumerator per export of the list, for u2c_result_checked. */
typedef enum u2c_canal_function {
#define U2C_CANAL_FUNCTION_ENUM(fn, mask) U2C_FN_##fn,
    U2C_CANAL_RESULTS(U2C_CANAL_FUNCTION_ENUM)
#undef U2C_CANAL_FUNCTION_ENUM
} u2c_canal_function;

/* The mask of codes `fn` may return. */
static inline uint64_t u2c_results_of(u2c_canal_function fn)
{
    static const uint64_t masks[] = {
#define U2C_CANAL_FUNCTION_MASK(name, mask) mask,
        U2C_CANAL_RESULTS(U2C_CANAL_FUNCTION_MASK)
#undef U2C_CANAL_FUNCTION_MASK
    };
    return masks[fn];
}

#endif
