/* Polls an empty virtual adapter 10,000 times (CanalReceive: FIFO_EMPTY)
 * and waits 100 times for nothing (CanalBlockingReceive 1 ms: TIMEOUT),
 * then makes one call that really fails (a handle never opened). Each
 * routine result must still be readable as the last error; whether it also
 * reached OutputDebugString (Windows) or the USB2CAN_LOG file is counted by
 * check_quiet_polls.sh, which runs this program. Exit status 0 when the
 * calls themselves behaved. */
#include <stdio.h>
#include <string.h>

#include "canal.h"
#include "usb2can.h"

#define POLLS 10000
#define WAITS 100

int main(void)
{
    long h = CanalOpen("VIRTUAL6;500", 0);
    if (h <= 0) {
        fprintf(stderr, "CanalOpen failed: %s\n", Usb2canGetLastError());
        return 1;
    }
    canalMsg m;
    for (int i = 0; i < POLLS; i++) {
        int rc = CanalReceive(h, &m);
        if (rc != CANAL_ERROR_FIFO_EMPTY || strstr(Usb2canGetLastError(), "no frame") == NULL) {
            fprintf(stderr, "poll %d: code %d, reason \"%s\"\n", i, rc, Usb2canGetLastError());
            return 1;
        }
    }
    for (int i = 0; i < WAITS; i++) {
        int rc = CanalBlockingReceive(h, &m, 1);
        if (rc != CANAL_ERROR_TIMEOUT || strstr(Usb2canGetLastError(), "no frame") == NULL) {
            fprintf(stderr, "wait %d: code %d, reason \"%s\"\n", i, rc, Usb2canGetLastError());
            return 1;
        }
    }
    CanalClose(h);
    /* The control: a real failure is still reported. */
    if (CanalSend(123456, &m) == CANAL_ERROR_SUCCESS) {
        fprintf(stderr, "CanalSend on a handle never opened succeeded\n");
        return 1;
    }
    printf("%d polls and %d waits done\n", POLLS, WAITS);
    return 0;
}
