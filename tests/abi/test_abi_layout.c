/* Struct layouts and constants that CANAL clients compiled against other
 * headers (python-can ctypes, VSCP canal.h, C# P/Invoke) depend on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "canal.h"
#include "usb2can.h"

#define ULONG_SIZE sizeof(unsigned long) /* 4 on Windows, 8 on LP64 Linux */

static void test_canal_msg_layout(void **state)
{
    (void)state;
    assert_int_equal(offsetof(canalMsg, flags), 0);
    assert_int_equal(offsetof(canalMsg, obid), ULONG_SIZE);
    assert_int_equal(offsetof(canalMsg, id), 2 * ULONG_SIZE);
    assert_int_equal(offsetof(canalMsg, sizeData), 3 * ULONG_SIZE);
    assert_int_equal(offsetof(canalMsg, data), 3 * ULONG_SIZE + 1);
#if defined(_WIN32)
    assert_int_equal(sizeof(canalMsg), 28);
    assert_int_equal(offsetof(canalMsg, timestamp), 24);
#else
    /* Matches python-can's ctypes CanalMsg on LP64 (c_ulong is 8 bytes). */
    assert_int_equal(sizeof(canalMsg), 48);
    assert_int_equal(offsetof(canalMsg, timestamp), 40);
#endif
}

static void test_canal_status_layout(void **state)
{
    (void)state;
    assert_int_equal(offsetof(canalStatus, channel_status), 0);
    assert_int_equal(offsetof(canalStatus, lasterrorcode), ULONG_SIZE);
    assert_int_equal(offsetof(canalStatus, lasterrorsubcode), 2 * ULONG_SIZE);
    assert_int_equal(offsetof(canalStatus, lasterrorstr), 3 * ULONG_SIZE);
#if defined(_WIN32)
    assert_int_equal(sizeof(canalStatus), 92);
#else
    assert_int_equal(sizeof(canalStatus), 104);
#endif
}

static void test_canal_statistics_layout(void **state)
{
    (void)state;
    assert_int_equal(sizeof(canalStatistics), 7 * ULONG_SIZE);
#if defined(_WIN32)
    assert_int_equal(sizeof(canalStatistics), 28);
#endif
    assert_int_equal(offsetof(canalStatistics, cntReceiveFrames), 0);
    assert_int_equal(offsetof(canalStatistics, cntTransmitFrames), 1 * ULONG_SIZE);
    assert_int_equal(offsetof(canalStatistics, cntReceiveData), 2 * ULONG_SIZE);
    assert_int_equal(offsetof(canalStatistics, cntTransmitData), 3 * ULONG_SIZE);
    assert_int_equal(offsetof(canalStatistics, cntOverruns), 4 * ULONG_SIZE);
    assert_int_equal(offsetof(canalStatistics, cntBusWarnings), 5 * ULONG_SIZE);
    assert_int_equal(offsetof(canalStatistics, cntBusOff), 6 * ULONG_SIZE);
}

/* Plain longs and pointers only, so ctypes mirrors them field by field. */
static void test_scan_structs_layout(void **state)
{
    (void)state;
    assert_int_equal(sizeof(usb2canScanResult), 13 * ULONG_SIZE);
    assert_int_equal(offsetof(usb2canScanResult, sample_point), 1 * ULONG_SIZE);
    assert_int_equal(offsetof(usb2canScanResult, brp), 5 * ULONG_SIZE);
    assert_int_equal(offsetof(usb2canScanResult, frames), 6 * ULONG_SIZE);
    assert_int_equal(offsetof(usb2canScanResult, rec), 11 * ULONG_SIZE);
    assert_int_equal(offsetof(usb2canScanResult, open_code), 12 * ULONG_SIZE);
#if defined(_WIN32) && !defined(_WIN64)
    assert_int_equal(sizeof(usb2canScanOptions), 32);
#elif defined(_WIN64)
    assert_int_equal(sizeof(usb2canScanOptions), 56);
    assert_int_equal(offsetof(usb2canScanOptions, progress), 40);
#else
    assert_int_equal(sizeof(usb2canScanOptions), 64);
    assert_int_equal(offsetof(usb2canScanOptions, progress), 48);
#endif
}

static void test_constants(void **state)
{
    (void)state;
    assert_int_equal(CANAL_ERROR_FIFO_EMPTY, 8);
    assert_int_equal(CANAL_ERROR_TIMEOUT, 32);
    assert_int_equal(CANAL_ERROR_NOT_OPEN, 33);
    assert_int_equal(CANAL_ERROR_PARAMETER, 34);
    assert_int_equal(CANAL_ERROR_COMMUNICATION, 37);
    assert_int_equal(CANAL_IDFLAG_STATUS, 4);
    assert_true(CANAL_STATUS_BUS_WARN == 0x20000000UL);
    assert_true(CANAL_STATUS_PASSIVE == 0x40000000UL);
    assert_true(CANAL_STATUS_BUS_OFF == 0x80000000UL);
    assert_int_equal(CANAL_STATUSMSG_CRC, 0x27);
    assert_int_equal(CANAL_STATUSMSG_BIT1, 0x24);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canal_msg_layout),
        cmocka_unit_test(test_canal_status_layout),
        cmocka_unit_test(test_canal_statistics_layout),
        cmocka_unit_test(test_scan_structs_layout),
        cmocka_unit_test(test_constants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
