/* libFuzzer target for the socketcand codec: any byte stream, cut into
 * chunks whose sizes the input's first byte chooses, must yield only
 * well-formed elements (bracketed, bounded) or framing errors; every element
 * must parse into a consistent command or a non-empty reason; and every
 * frame or send that parses must survive a format-and-parse round trip
 * unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_target.h"
#include "socketcand_codec.h"

static void check(bool condition)
{
    if (!condition)
        abort();
}

static void check_frame(const u2c_scand_frame *f)
{
    check(f->dlc <= 8);
    check(f->id <= (f->extended ? U2C_SCAND_EFF_MASK : U2C_SCAND_SFF_MASK));
}

static bool same_frame(const u2c_scand_frame *a, const u2c_scand_frame *b)
{
    return a->id == b->id && a->extended == b->extended && a->dlc == b->dlc &&
           memcmp(a->data, b->data, a->dlc) == 0;
}

static void check_element(const char *element)
{
    u2c_scand_command c;
    u2c_scand_parse(element, &c);
    char out[U2C_SCAND_FORMAT_MAX];
    u2c_scand_command again;
    switch (c.kind) {
    case U2C_SCAND_BAD:
        check(c.reason[0] != '\0');
        check(memchr(c.reason, '\0', sizeof c.reason) != NULL);
        break;
    case U2C_SCAND_SEND:
        check_frame(&c.frame);
        check(u2c_scand_format_send(out, sizeof out, &c.frame) > 0);
        u2c_scand_parse(out, &again);
        check(again.kind == U2C_SCAND_SEND && same_frame(&c.frame, &again.frame) &&
              again.frame.rtr == c.frame.rtr);
        break;
    case U2C_SCAND_FRAME:
        check_frame(&c.frame);
        for (int bcm = 0; bcm <= 1; bcm++) {
            check(u2c_scand_format_frame(out, sizeof out, &c.frame, c.secs, (uint32_t)c.usecs,
                                         bcm != 0) > 0);
            u2c_scand_parse(out, &again);
            check(again.kind == U2C_SCAND_FRAME && same_frame(&c.frame, &again.frame) &&
                  again.secs == c.secs && again.usecs == c.usecs);
        }
        break;
    case U2C_SCAND_ADD:
    case U2C_SCAND_UPDATE:
    case U2C_SCAND_FILTER:
    case U2C_SCAND_DELETE:
    case U2C_SCAND_SUBSCRIBE:
    case U2C_SCAND_UNSUBSCRIBE:
        check_frame(&c.frame);
        check(c.usecs <= UINT32_MAX && c.secs <= UINT32_MAX);
        break;
    case U2C_SCAND_OPEN:
    case U2C_SCAND_CONFIGURE:
        check(strlen(c.bus) >= 1 && strlen(c.bus) <= U2C_SCAND_BUS_NAME_MAX);
        break;
    case U2C_SCAND_ERROR:
        check(u2c_scand_format_error(out, sizeof out, c.text) > 0 || strlen(c.text) > 80);
        break;
    default:
        check(c.kind <= U2C_SCAND_STAT);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t chunk = (size_t)(data[0] % 64) + 1;
    const char *bytes = (const char *)data + 1;
    size_t len = size - 1;
    u2c_scand_reader *reader = malloc(sizeof *reader);
    check(reader != NULL);
    u2c_scand_reader_init(reader);
    size_t at = 0;
    while (at < len) {
        size_t n = len - at < chunk ? len - at : chunk;
        size_t off = 0;
        while (off < n) {
            size_t used = 0;
            u2c_scand_event ev = u2c_scand_reader_push(reader, bytes + at + off, n - off, &used);
            check(used >= 1 && used <= n - off);
            off += used;
            if (ev == U2C_SCAND_ELEMENT) {
                size_t elen = strlen(reader->element);
                check(elen >= 2 && elen <= U2C_SCAND_ELEMENT_MAX);
                check(reader->element[0] == '<' && reader->element[elen - 1] == '>');
                check_element(reader->element);
            } else {
                check(ev == U2C_SCAND_NONE ? off == n : true);
            }
        }
        at += n;
    }
    free(reader);
    return 0;
}
