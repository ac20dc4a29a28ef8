/*
 * driver_info.h — the document CanalGetDriverInfo returns.
 *
 * Contract: u2c_driver_info_xml returns a static, NUL-terminated, well-formed
 * XML document (plain ASCII, no entities in element text) in the VSCP CANAL
 * driver-info format: <config> with <description>, <level>, <blocking>,
 * <infourl>, one <item> per setup-string position in order (VSCP Works
 * builds its configuration wizard from them, by order) and one <bit> per
 * CanalOpen flag. It needs no handle, never returns NULL and stays valid for
 * the life of the process.
 */
#ifndef USB2CAN_DRIVER_INFO_H
#define USB2CAN_DRIVER_INFO_H

/* Where people read about the setup string; builds may override it. */
#ifndef U2C_DRIVER_INFO_URL
#define U2C_DRIVER_INFO_URL "https://github.com/grodansparadis/vscp-doc-canal"
#endif

const char *u2c_driver_info_xml(void);

#endif
