/* CanalGetDriverInfo's XML: well-formed (checked by the strict XML 1.0
 * reader of tests/support/xml_check.h), in the VSCP layout, and in step with the setup parser. */
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
#include "xml_check.h"

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
    int description = xml_find_child(&doc, 0, "description", 0);
    int level = xml_find_child(&doc, 0, "level", 0);
    int blocking = xml_find_child(&doc, 0, "blocking", 0);
    int infourl = xml_find_child(&doc, 0, "infourl", 0);
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
    int items = xml_find_child(&doc, 0, "items", 0);
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
    assert_int_equal(xml_count_children(&doc, items), (int)n);
    int item = items;
    for (size_t pos = 0; pos < n; pos++) {
        item = xml_find_child(&doc, items, "item", item);
        assert_true(item > 0);
        char want_pos[8];
        snprintf(want_pos, sizeof want_pos, "%u", (unsigned)pos);
        assert_string_equal(xml_attr_of(&doc.el[item], "pos"), want_pos);
        assert_string_equal(xml_attr_of(&doc.el[item], "type"), expected[pos].type);
        assert_string_equal(xml_attr_of(&doc.el[item], "optional"), expected[pos].optional);
        const char *description = xml_attr_of(&doc.el[item], "description");
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
    int items = xml_find_child(&doc, 0, "items", 0);
    int kbps_item = xml_find_child(&doc, items, "item", xml_find_child(&doc, items, "item", items));
    assert_string_equal(xml_attr_of(&doc.el[kbps_item], "type"), "choice");
    int choices = 0;
    for (int c = xml_find_child(&doc, kbps_item, "choice", kbps_item); c > 0;
         c = xml_find_child(&doc, kbps_item, "choice", c)) {
        choices++;
        const char *value = xml_attr_of(&doc.el[c], "value");
        assert_non_null(value);
        assert_non_null(xml_attr_of(&doc.el[c], "description"));
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
            assert_non_null(strstr(xml_attr_of(&doc.el[c], "description"), shown));
        }
    }
    assert_int_equal(choices, 13);
}

static void test_driver_info_flags(void **state)
{
    (void)state;
    assert_true(xml_read(&doc, u2c_driver_info_xml()));
    int flags = xml_find_child(&doc, 0, "flags", 0);
    assert_true(flags > 0);
    assert_int_equal(xml_count_children(&doc, flags), 4);
    static const char *const mentions[4] = {"Silent", "Loopback", "One-shot", "Status"};
    int bit = flags;
    for (unsigned pos = 0; pos < 4; pos++) {
        bit = xml_find_child(&doc, flags, "bit", bit);
        assert_true(bit > 0);
        char want_pos[8];
        snprintf(want_pos, sizeof want_pos, "%u", pos);
        assert_string_equal(xml_attr_of(&doc.el[bit], "pos"), want_pos);
        assert_string_equal(xml_attr_of(&doc.el[bit], "width"), "1");
        assert_string_equal(xml_attr_of(&doc.el[bit], "type"), "bool");
        assert_non_null(strstr(xml_attr_of(&doc.el[bit], "description"), mentions[pos]));
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
