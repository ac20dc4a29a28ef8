#include "canal_text.h"

#include <stddef.h>

#include "canal.h"

const char *u2c_status_code_name(unsigned long code)
{
    switch (code) {
    case CANAL_STATUSMSG_OK:
        return "ok";
    case CANAL_STATUSMSG_OVERRUN:
        return "adapter overrun";
    case CANAL_STATUSMSG_BUSLIGHT:
        return "bus warning";
    case CANAL_STATUSMSG_BUSHEAVY:
        return "error passive";
    case CANAL_STATUSMSG_BUSOFF:
        return "bus off";
    case CANAL_STATUSMSG_STUFF:
        return "stuff error";
    case CANAL_STATUSMSG_FORM:
        return "form error";
    case CANAL_STATUSMSG_ACK:
        return "ACK error";
    case CANAL_STATUSMSG_BIT1:
        return "bit 1 error";
    case CANAL_STATUSMSG_BIT0:
        return "bit 0 error";
    case CANAL_STATUSMSG_CRC:
        return "CRC error";
    default:
        return NULL;
    }
}

int u2c_hex_digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
