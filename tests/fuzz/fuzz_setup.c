/* libFuzzer target for u2c_setup_parse: any bytes (cut at the first NUL, as a
 * C caller would pass them) must give either a consistent setup or a
 * non-empty reason, never a crash, a read past the string or a write to it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_parse.h"
#include "fuzz_target.h"

static void check(bool condition)
{
    if (!condition)
        abort();
}

static bool is_serial_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Exactly sized heap copies: ASan sees any read past the NUL. */
    char *text = malloc(size + 1);
    char *before = malloc(size + 1);
    check(text != NULL && before != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    memcpy(before, text, size + 1);

    u2c_setup s;
    char reason[256];
    memset(reason, 0x5A, sizeof reason);
    bool ok = u2c_setup_parse(text, &s, reason, sizeof reason);
    check(memcmp(text, before, size + 1) == 0);
    check(memchr(reason, '\0', sizeof reason) != NULL);
    if (ok) {
        check(reason[0] == '\0');
        size_t n = strlen(s.serial);
        check(n <= USB2CAN_SERIAL_MAX);
        for (size_t i = 0; i < n; i++)
            check(is_serial_char(s.serial[i]));
        check(u8d_bittiming_check_any(&s.timing, NULL, 0) == U8D_OK);
        check(s.bitrate == u8d_bittiming_bitrate(&s.timing));
        check(s.bitrate >= 1000 && s.bitrate <= 1000000);
        check(s.manual_timing || s.bitrate_error_ppm <= U8D_BITRATE_TOLERANCE_PPM);
        check(s.rx_capacity >= U2C_RX_CAPACITY_MIN && s.rx_capacity <= U2C_RX_CAPACITY_MAX);
        check(s.has_filter || (s.mask == 0 && s.filter == 0));
    } else {
        check(reason[0] != '\0');
    }
    free(before);
    free(text);
    return 0;
}
