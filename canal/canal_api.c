/*
 * Placeholder exports: every entry point exists so the ABI can be checked,
 * and every one says honestly that it does not work yet.
 */
#include "canal.h"
#include "usb2can.h"

#include <stddef.h>

long CANAL_CALL CanalOpen(const char *pDevice, unsigned long flags)
{
    (void)pDevice;
    (void)flags;
    return 0;
}
int CANAL_CALL CanalClose(long handle) { (void)handle; return CANAL_ERROR_NOT_SUPPORTED; }
unsigned long CANAL_CALL CanalGetLevel(long handle) { (void)handle; return 0; }
int CANAL_CALL CanalSend(long handle, const canalMsg *pCanalMsg)
{
    (void)handle;
    (void)pCanalMsg;
    return CANAL_ERROR_NOT_SUPPORTED;
}
int CANAL_CALL CanalBlockingSend(long handle, const canalMsg *pCanalMsg, unsigned long timeout)
{
    (void)handle;
    (void)pCanalMsg;
    (void)timeout;
    return CANAL_ERROR_NOT_SUPPORTED;
}
int CANAL_CALL CanalReceive(long handle, canalMsg *pCanalMsg)
{
    (void)handle;
    (void)pCanalMsg;
    return CANAL_ERROR_NOT_SUPPORTED;
}
int CANAL_CALL CanalBlockingReceive(long handle, canalMsg *pCanalMsg, unsigned long timeout)
{
    (void)handle;
    (void)pCanalMsg;
    (void)timeout;
    return CANAL_ERROR_NOT_SUPPORTED;
}
int CANAL_CALL CanalDataAvailable(long handle) { (void)handle; return 0; }
int CANAL_CALL CanalGetStatus(long handle, canalStatus *pCanalStatus)
{
    (void)handle;
    (void)pCanalStatus;
    return CANAL_ERROR_NOT_SUPPORTED;
}
int CANAL_CALL CanalGetStatistics(long handle, canalStatistics *pCanalStatistics)
{
    (void)handle;
    (void)pCanalStatistics;
    return CANAL_ERROR_NOT_SUPPORTED;
}
int CANAL_CALL CanalSetFilter(long handle, unsigned long filter)
{
    (void)handle;
    (void)filter;
    return CANAL_ERROR_NOT_SUPPORTED;
}
int CANAL_CALL CanalSetMask(long handle, unsigned long mask)
{
    (void)handle;
    (void)mask;
    return CANAL_ERROR_NOT_SUPPORTED;
}
int CANAL_CALL CanalSetBaudrate(long handle, unsigned long baudrate)
{
    (void)handle;
    (void)baudrate;
    return CANAL_ERROR_NOT_SUPPORTED;
}
unsigned long CANAL_CALL CanalGetVersion(void)
{
    return CANAL_MAIN_VERSION | (CANAL_MINOR_VERSION << 8) | (CANAL_SUB_VERSION << 16);
}
unsigned long CANAL_CALL CanalGetDllVersion(void)
{
    return U2C_VERSION_MAJOR | (U2C_VERSION_MINOR << 8) | (U2C_VERSION_PATCH << 16);
}
const char *CANAL_CALL CanalGetVendorString(void) { return "usb2can " U2C_VERSION_STRING; }
CANAL_RECEIVE_HANDLE CANAL_CALL CanalGetReceiveHandle(long handle)
{
    (void)handle;
    return NULL;
}
const char *CANAL_CALL CanalGetDriverInfo(void) { return NULL; }
int CANAL_CALL CanalSetFilters(long handle, unsigned long count, const unsigned long *pairs)
{
    (void)handle;
    (void)count;
    (void)pairs;
    return CANAL_ERROR_NOT_SUPPORTED;
}
const char *CANAL_CALL Usb2canGetLastError(void) { return "not implemented yet"; }
unsigned long CANAL_CALL Usb2canGetLastErrorText(char *buf, unsigned long size)
{
    if (buf && size)
        buf[0] = '\0';
    return 0;
}
long CANAL_CALL Usb2canListAdapters(usb2canAdapterInfo *list, long max)
{
    (void)list;
    (void)max;
    return -1;
}
