/* CanalGetDriverInfo's XML: well-formed (checked by a small strict XML 1.0
 * reader below), in the VSCP layout, and in step with the setup parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cfg_parse.h"
#include "driver_info.h"

/* --- a strict reader for the XML subset a driver-info document may use ---- */

#define MAX_ELEMENTS 64
#define MAX_ATTRS 8
#define MAX_DEPTH 8

typedef struct xml_attr {
    char name[32];
    char value[1024];
} xml_attr;

typedef struct xml_element {
    char name[32];
    int parent; /* -1 for the root */
    int depth;
    xml_attr attrs[MAX_ATTRS];
    int attr_count;
    char text[1024]; /* direct text content, entities left as written */
} xml_element;

typedef struct xml_doc {
    xml_element el[MAX_ELEMENTS];
    int count;
    const char *p;
    char error[200];
} xml_doc;

static bool xml_fail(xml_doc *d, const char *what)
{
    if (d->error[0] == '\0')
        snprintf(d->error, sizeof d->error, "%s at \"%.30s\"", what, d->p);
    return false;
}

static bool is_name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':';
}

static bool is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_space(xml_doc *d)
{
    while (is_space(*d->p))
        d->p++;
}

static bool read_name(xml_doc *d, char *out, size_t size)
{
    if (!is_name_start(*d->p))
        return xml_fail(d, "name expected");
    size_t n = 0;
    while (is_name_char(*d->p)) {
        if (n + 1 >= size)
            return xml_fail(d, "name too long");
        out[n++] = *d->p++;
    }
    out[n] = '\0';
    return true;
}

/* '&' must start one of the five predefined entities or a character reference. */
static bool check_entity(xml_doc *d)
{
    static const char *const named[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    for (size_t i = 0; i < 5; i++)
        if (strncmp(d->p, named[i], strlen(named[i])) == 0) {
            d->p += strlen(named[i]);
            return true;
        }
    if (d->p[1] == '#') {
        const char *q = d->p + 2;
        bool hex = *q == 'x';
        if (hex)
            q++;
        const char *digits = q;
        while ((*q >= '0' && *q <= '9') ||
               (hex && ((*q >= 'a' && *q <= 'f') || (*q >= 'A' && *q <= 'F'))))
            q++;
        if (q > digits && *q == ';') {
            d->p = q + 1;
            return true;
        }
    }
    return xml_fail(d, "bad entity");
}

static bool check_char(xml_doc *d)
{
    unsigned char c = (unsigned char)*d->p;
    if (c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c < 0x7F))
        return true;
    return xml_fail(d, "character outside printable ASCII");
}

static bool skip_comment(xml_doc *d)
{
    d->p += 4;
    while (*d->p != '\0' && strncmp(d->p, "--", 2) != 0)
        d->p++;
    if (strncmp(d->p, "-->", 3) != 0)
        return xml_fail(d, "unterminated comment or '--' inside it");
    d->p += 3;
    return true;
}

static bool read_attrs(xml_doc *d, xml_element *e)
{
    for (;;) {
        bool spaced = is_space(*d->p);
        skip_space(d);
        if (*d->p == '>' || (d->p[0] == '/' && d->p[1] == '>'))
            return true;
        if (!spaced)
            return xml_fail(d, "space expected before attribute");
        if (e->attr_count == MAX_ATTRS)
            return xml_fail(d, "too many attributes");
        xml_attr *a = &e->attrs[e->attr_count];
        if (!read_name(d, a->name, sizeof a->name))
            return false;
        for (int i = 0; i < e->attr_count; i++)
            if (strcmp(e->attrs[i].name, a->name) == 0)
                return xml_fail(d, "duplicate attribute");
        skip_space(d);
        if (*d->p++ != '=')
            return xml_fail(d, "'=' expected");
        skip_space(d);
        char quote = *d->p++;
        if (quote != '"' && quote != '\'')
            return xml_fail(d, "quoted value expected");
        size_t n = 0;
        while (*d->p != quote) {
            if (*d->p == '\0' || *d->p == '<')
                return xml_fail(d, "unterminated value or '<' in it");
            if (!check_char(d))
                return false;
            const char *start = d->p;
            if (*d->p == '&') {
                if (!check_entity(d))
                    return false;
            } else {
                d->p++;
            }
            while (start < d->p && n + 1 < sizeof a->value)
                a->value[n++] = *start++;
        }
        a->value[n] = '\0';
        d->p++;
        e->attr_count++;
    }
}

static bool read_element(xml_doc *d, int parent, int depth);

static bool read_content(xml_doc *d, int self, int depth)
{
    xml_element *e = &d->el[self];
    size_t n = 0;
    for (;;) {
        if (*d->p == '\0')
            return xml_fail(d, "unexpected end inside element");
        if (strncmp(d->p, "</", 2) == 0)
            break;
        if (strncmp(d->p, "<!--", 4) == 0) {
            if (!skip_comment(d))
                return false;
        } else if (*d->p == '<') {
            if (!read_element(d, self, depth + 1))
                return false;
        } else {
            if (strncmp(d->p, "]]>", 3) == 0)
                return xml_fail(d, "']]>' in text");
            if (!check_char(d))
                return false;
            const char *start = d->p;
            if (*d->p == '&') {
                if (!check_entity(d))
                    return false;
            } else {
                d->p++;
            }
            while (start < d->p && n + 1 < sizeof e->text)
                e->text[n++] = *start++;
            e->text[n] = '\0';
        }
    }
    d->p += 2;
    char closing[32];
    if (!read_name(d, closing, sizeof closing))
        return false;
    if (strcmp(closing, e->name) != 0)
        return xml_fail(d, "end tag does not match start tag");
    skip_space(d);
    if (*d->p++ != '>')
        return xml_fail(d, "'>' expected");
    return true;
}

static bool read_element(xml_doc *d, int parent, int depth)
{
    if (depth >= MAX_DEPTH || d->count == MAX_ELEMENTS)
        return xml_fail(d, "too deep or too many elements");
    int self = d->count++;
    xml_element *e = &d->el[self];
    memset(e, 0, sizeof *e);
    e->parent = parent;
    e->depth = depth;
    d->p++; /* '<' */
    if (!read_name(d, e->name, sizeof e->name) || !read_attrs(d, e))
        return false;
    if (*d->p == '/') {
        d->p += 2;
        return true;
    }
    d->p++; /* '>' */
    return read_content(d, self, depth);
}

static bool skip_misc(xml_doc *d)
{
    for (;;) {
        skip_space(d);
        if (strncmp(d->p, "<!--", 4) != 0)
            return true;
        if (!skip_comment(d))
            return false;
    }
}

static bool xml_read(xml_doc *d, const char *text)
{
    memset(d, 0, sizeof *d);
    d->p = text;
    if (strncmp(d->p, "<?xml", 5) == 0) {
        const char *end = strstr(d->p, "?>");
        if (end == NULL)
            return xml_fail(d, "unterminated XML declaration");
        d->p = end + 2;
    }
    if (!skip_misc(d))
        return false;
    if (*d->p != '<' || !is_name_start(d->p[1]))
        return xml_fail(d, "root element expected");
    if (!read_element(d, -1, 0))
        return false;
    if (!skip_misc(d))
        return false;
    if (*d->p != '\0')
        return xml_fail(d, "content after the root element");
    return true;
}

static const char *attr_of(const xml_element *e, const char *name)
{
    for (int i = 0; i < e->attr_count; i++)
        if (strcmp(e->attrs[i].name, name) == 0)
            return e->attrs[i].value;
    return NULL;
}

static int find_child(const xml_doc *d, int parent, const char *name, int after)
{
    for (int i = after + 1; i < d->count; i++)
        if (d->el[i].parent == parent && strcmp(d->el[i].name, name) == 0)
            return i;
    return -1;
}

static int count_children(const xml_doc *d, int parent)
{
    int n = 0;
    for (int i = 0; i < d->count; i++)
        n += d->el[i].parent == parent;
    return n;
}

/* --- the reader itself must refuse broken documents ---------------------- */

static void test_checker_refuses_broken_xml(void **state)
{
    (void)state;
    static const char *const broken[] = {
        "<a><b></a></b>",
        "<a>",
        "<a x=1/>",
        "<a x=\"1\" x=\"2\"/>",
        "<a>&nbsp;</a>",
        "<a>x < y</a>",
        "<a/><b/>",
        "text<a/>",
        "<a x=\"<\"/>",
        "<a><!-- a -- b --></a>",
        "<1a/>",
        "<a>\xC3\xA9</a>",
        "<a x=\"1\"y=\"2\"/>",
        "",
    };
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        static xml_doc d;
        if (xml_read(&d, broken[i]))
            print_error("accepted broken XML: %s\n", broken[i]);
        assert_false(xml_read(&d, broken[i]));
    }
    static xml_doc ok;
    assert_true(xml_read(&ok, "<?xml version=\"1.0\"?>\n<!-- c --><a x='1'>t &amp; "
                              "&#60;<b/><c y=\"&quot;\">z</c></a>\n"));
    assert_int_equal(ok.count, 3);
}

/* --- the driver info ----------------------------------------------------- */

static xml_doc doc;

static void test_driver_info_is_well_formed(void **state)
{
    (void)state;
    const char *xml = u2c_driver_info_xml();
    assert_non_null(xml);
    assert_ptr_equal(xml, u2c_driver_info_xml());
    bool ok = xml_read(&doc, xml);
    if (!ok)
        print_error("driver info XML: %s\n", doc.error);
    assert_true(ok);
    assert_int_equal(strncmp(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 38), 0);
}

static void test_driver_info_header(void **state)
{
    (void)state;
    assert_true(xml_read(&doc, u2c_driver_info_xml()));
    assert_string_equal(doc.el[0].name, "config");
    int description = find_child(&doc, 0, "description", 0);
    int level = find_child(&doc, 0, "level", 0);
    int blocking = find_child(&doc, 0, "blocking", 0);
    int infourl = find_child(&doc, 0, "infourl", 0);
    assert_true(description > 0 && level > 0 && blocking > 0 && infourl > 0);
    assert_non_null(strstr(doc.el[description].text, "USB2CAN"));
    assert_string_equal(doc.el[level].text, "1");
    assert_string_equal(doc.el[blocking].text, "yes");
    assert_string_equal(doc.el[infourl].text, U2C_DRIVER_INFO_URL);
    /* VSCP's reader takes only the last chunk of a text node: no entities there. */
    for (int i = 0; i < doc.count; i++)
        assert_null(strchr(doc.el[i].text, '&'));
}

static void test_driver_info_items_follow_setup_positions(void **state)
{
    (void)state;
    assert_true(xml_read(&doc, u2c_driver_info_xml()));
    int items = find_child(&doc, 0, "items", 0);
    assert_true(items > 0);
    static const struct {
        const char *type;
        const char *optional;
        const char *mentions;
    } expected[] = {
        {"string", "false", "Serial"}, {"choice", "false", "kbit/s"}, {"uint32", "true", "tseg1"},
        {"uint32", "true", "tseg2"},   {"uint32", "true", "sjw"},     {"uint32", "true", "brp"},
        {"uint32", "true", "mask"},    {"uint32", "true", "filter"},  {"string", "true", "rxqueue"},
    };
    const size_t n = sizeof expected / sizeof expected[0];
    assert_int_equal(count_children(&doc, items), (int)n);
    int item = items;
    for (size_t pos = 0; pos < n; pos++) {
        item = find_child(&doc, items, "item", item);
        assert_true(item > 0);
        char want_pos[8];
        snprintf(want_pos, sizeof want_pos, "%u", (unsigned)pos);
        assert_string_equal(attr_of(&doc.el[item], "pos"), want_pos);
        assert_string_equal(attr_of(&doc.el[item], "type"), expected[pos].type);
        assert_string_equal(attr_of(&doc.el[item], "optional"), expected[pos].optional);
        const char *description = attr_of(&doc.el[item], "description");
        assert_non_null(description);
        if (strstr(description, expected[pos].mentions) == NULL)
            print_error("item %u description lacks '%s'\n", (unsigned)pos, expected[pos].mentions);
        assert_non_null(strstr(description, expected[pos].mentions));
    }
}

/* Every rate the wizard offers must be one the parser accepts, with the value
 * the choice's description promises. */
static void test_driver_info_rate_choices_parse(void **state)
{
    (void)state;
    assert_true(xml_read(&doc, u2c_driver_info_xml()));
    int items = find_child(&doc, 0, "items", 0);
    int kbps_item = find_child(&doc, items, "item", find_child(&doc, items, "item", items));
    assert_string_equal(attr_of(&doc.el[kbps_item], "type"), "choice");
    int choices = 0;
    for (int c = find_child(&doc, kbps_item, "choice", kbps_item); c > 0;
         c = find_child(&doc, kbps_item, "choice", c)) {
        choices++;
        const char *value = attr_of(&doc.el[c], "value");
        assert_non_null(value);
        assert_non_null(attr_of(&doc.el[c], "description"));
        char text[96];
        if (strcmp(value, "0") == 0)
            snprintf(text, sizeof text, "X;0;13;2;1;4");
        else
            snprintf(text, sizeof text, "X;%s", value);
        u2c_setup s;
        char reason[256] = "";
        bool ok = u2c_setup_parse(text, &s, reason, sizeof reason);
        if (!ok)
            print_error("choice %s refused: %s\n", value, reason);
        assert_true(ok);
        if (strcmp(value, "0") != 0) {
            /* "83.333 kbit/s" for 83: the description shows the real rate. */
            char shown[32];
            snprintf(shown, sizeof shown, "%u", (unsigned)(s.bitrate / 1000u));
            assert_non_null(strstr(attr_of(&doc.el[c], "description"), shown));
        }
    }
    assert_int_equal(choices, 13);
}

static void test_driver_info_flags(void **state)
{
    (void)state;
    assert_true(xml_read(&doc, u2c_driver_info_xml()));
    int flags = find_child(&doc, 0, "flags", 0);
    assert_true(flags > 0);
    assert_int_equal(count_children(&doc, flags), 4);
    static const char *const mentions[4] = {"Silent", "Loopback", "One-shot", "Status"};
    int bit = flags;
    for (unsigned pos = 0; pos < 4; pos++) {
        bit = find_child(&doc, flags, "bit", bit);
        assert_true(bit > 0);
        char want_pos[8];
        snprintf(want_pos, sizeof want_pos, "%u", pos);
        assert_string_equal(attr_of(&doc.el[bit], "pos"), want_pos);
        assert_string_equal(attr_of(&doc.el[bit], "width"), "1");
        assert_string_equal(attr_of(&doc.el[bit], "type"), "bool");
        assert_non_null(strstr(attr_of(&doc.el[bit], "description"), mentions[pos]));
    }
}

static void test_driver_info_numbers_match_parser(void **state)
{
    (void)state;
    const char *xml = u2c_driver_info_xml();
    char want[96];
    snprintf(want, sizeof want, "(%u to %u, default %u)", U2C_RX_CAPACITY_MIN, U2C_RX_CAPACITY_MAX,
             U2C_RX_CAPACITY_DEFAULT);
    assert_non_null(strstr(xml, want));
    snprintf(want, sizeof want, "1 to %u characters", USB2CAN_SERIAL_MAX);
    assert_non_null(strstr(xml, want));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checker_refuses_broken_xml),
        cmocka_unit_test(test_driver_info_is_well_formed),
        cmocka_unit_test(test_driver_info_header),
        cmocka_unit_test(test_driver_info_items_follow_setup_positions),
        cmocka_unit_test(test_driver_info_rate_choices_parse),
        cmocka_unit_test(test_driver_info_flags),
        cmocka_unit_test(test_driver_info_numbers_match_parser),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
