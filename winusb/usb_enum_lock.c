#include "usb_enum_lock.h"

#include "osal.h"

static u2c_mutex enum_lock = U2C_MUTEX_INITIALIZER;

void u2c_usb_enum_lock(void)
{
    u2c_mutex_lock(&enum_lock);
}

void u2c_usb_enum_unlock(void)
{
    u2c_mutex_unlock(&enum_lock);
}
