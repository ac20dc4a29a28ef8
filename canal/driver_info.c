#include "driver_info.h"

#include "channel_setup.h"
#include "u8d_codec.h"

/* One string, laid out as the XML reads. */
/* clang-format off */

/* One optional uint32 item of the manual bit timing, with its limits. */
#define TIMING_ITEM(pos, min, max, description)                                                    \
    "    <item pos=\"" pos "\" type=\"uint32\" optional=\"true\" min=\"" U8D_TEXT(min) "\" "        \
    "max=\"" U8D_TEXT(max) "\" description=\"" description "\" />\n"

/* Attribute values hold no '&', '<' or '"'; element text holds no markup at
 * all, because VSCP's expat handler keeps only the last chunk of a text node. */
static const char driver_info[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<config>\n"
    "  <description>usb2can: CANAL driver for 8devices USB2CAN and CANalyze adapters "
    "(and the virtual adapters VIRTUAL0 to VIRTUAL7)</description>\n"
    "  <level>1</level>\n"
    "  <blocking>yes</blocking>\n"
    "  <infourl>" U2C_DRIVER_INFO_URL "</infourl>\n"
    "  <items>\n"
    "    <item pos=\"0\" type=\"string\" optional=\"false\" description=\"Serial number of "
    "the adapter, e.g. ED000200 (USB2CAN) or 12 hex digits (CANalyze): 1 to 32 characters "
    "of A-Z, 0-9, _ and -, case-insensitive. Empty: the only connected adapter. VIRTUAL0 to "
    "VIRTUAL7: virtual adapters on a shared in-process bus.\" />\n"
    "    <item pos=\"1\" type=\"choice\" optional=\"false\" description=\"Bit rate in kbit/s. "
    "Any value from 1 to 1000 is accepted when the 32 MHz clock can make it within 0.5 "
    "percent; 33, 62 and 83 mean 33333, 62500 and 83333 bit/s. 0 selects manual timing "
    "(tseg1, tseg2, sjw and brp follow).\">\n"
    "      <choice value=\"1000\" description=\"1000 kbit/s\" />\n"
    "      <choice value=\"800\" description=\"800 kbit/s\" />\n"
    "      <choice value=\"500\" description=\"500 kbit/s\" />\n"
    "      <choice value=\"250\" description=\"250 kbit/s\" />\n"
    "      <choice value=\"125\" description=\"125 kbit/s\" />\n"
    "      <choice value=\"100\" description=\"100 kbit/s\" />\n"
    "      <choice value=\"83\" description=\"83.333 kbit/s\" />\n"
    "      <choice value=\"62\" description=\"62.5 kbit/s\" />\n"
    "      <choice value=\"50\" description=\"50 kbit/s\" />\n"
    "      <choice value=\"33\" description=\"33.333 kbit/s\" />\n"
    "      <choice value=\"20\" description=\"20 kbit/s\" />\n"
    "      <choice value=\"10\" description=\"10 kbit/s\" />\n"
    "      <choice value=\"0\" description=\"Manual bit timing (enter tseg1, tseg2, sjw and "
    "brp next)\" />\n"
    "    </item>\n"
    TIMING_ITEM("2", U8D_CANALYZE_TSEG1_MIN, U8D_TSEG1_MAX,
                "tseg1 in time quanta (propagation plus phase 1), " U8D_TEXT(U8D_TSEG1_MIN)
                " to " U8D_TEXT(U8D_TSEG1_MAX) " (a CANalyze: from " U8D_TEXT(U8D_CANALYZE_TSEG1_MIN)
                "). Only when the bit rate is 0; leave empty "
                "otherwise. Bit rate = 32 MHz / (brp x (1 + tseg1 + tseg2)).")
    TIMING_ITEM("3", U8D_TSEG2_MIN, U8D_TSEG2_MAX,
                "tseg2 in time quanta (phase 2), " U8D_TEXT(U8D_TSEG2_MIN) " to "
                U8D_TEXT(U8D_TSEG2_MAX) ". Only when the bit rate is 0.")
    TIMING_ITEM("4", U8D_SJW_MIN, U8D_SJW_MAX,
                "sjw, synchronisation jump width in time quanta, " U8D_TEXT(U8D_SJW_MIN)
                " to " U8D_TEXT(U8D_SJW_MAX) " and at most tseg2. Only when the bit rate is 0.")
    TIMING_ITEM("5", U8D_BRP_MIN, U8D_BRP_MAX,
                "brp, prescaler of the 32 MHz CAN clock, " U8D_TEXT(U8D_BRP_MIN) " to "
                U8D_TEXT(U8D_BRP_MAX) " (a CANalyze: even, at most "
                U8D_TEXT(U8D_CANALYZE_BRP_MAX) "). Only when the bit rate is 0.")

    "    <item pos=\"6\" type=\"uint32\" optional=\"true\" description=\"Acceptance mask "
    "(decimal or 0x-hex). Compared value: the id, plus 0x80000000 for extended and 0x40000000 "
    "for remote frames; a frame passes when (value XOR filter) AND mask is 0; mask 0 passes "
    "all. Here after manual timing; with a standard rate write serial;kbps;mask;filter.\" />\n"
    "    <item pos=\"7\" type=\"uint32\" optional=\"true\" description=\"Acceptance filter "
    "(decimal or 0x-hex), required when a mask is given.\" />\n"
    "    <item pos=\"8\" type=\"string\" optional=\"true\" description=\"Options as key=value, "
    "separated by semicolons: rxqueue=N sets the receive queue to N frames (" U8D_TEXT(
        U2C_RX_CAPACITY_MIN) " to " U8D_TEXT(U2C_RX_CAPACITY_MAX) ", default " U8D_TEXT(
        U2C_RX_CAPACITY_DEFAULT) "); busoff=auto:N re-opens the controller N ms after bus-off "
    "(1 to " U8D_TEXT(U2C_BUSOFF_RESTART_MAX_MS) "; default off: bus-off lasts until the "
    "program re-opens); errorframes=N (virtual adapters only) makes the adapter a faulty node "
    "destroying every N-th frame.\" />\n"
    "  </items>\n"
    "  <flags>\n"
    "    <bit pos=\"0\" width=\"1\" type=\"bool\" description=\"Silent: listen only, never "
    "acknowledge or send.\" />\n"
    "    <bit pos=\"1\" width=\"1\" type=\"bool\" description=\"Loopback: the controller "
    "receives its own frames.\" />\n"
    "    <bit pos=\"2\" width=\"1\" type=\"bool\" description=\"One-shot: disable automatic "
    "retransmission of frames that lost arbitration or were not acknowledged.\" />\n"
    "    <bit pos=\"3\" width=\"1\" type=\"bool\" description=\"Status frames: deliver bus "
    "status changes and error counters as messages with CANAL_IDFLAG_STATUS (python-can "
    "sets this).\" />\n"
    "  </flags>\n"
    "</config>\n";
/* clang-format on */

const char *u2c_driver_info_xml(void)
{
    return driver_info;
}
