/* Prints the CanalGetDriverInfo XML, for checking it with other XML tools. */
#include <stdio.h>

#include "driver_info.h"

int main(void)
{
    return fputs(u2c_driver_info_xml(), stdout) == EOF ? 1 : 0;
}
