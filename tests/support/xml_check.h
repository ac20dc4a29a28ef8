/*
 * xml_check.h — a strict reader for the XML subset a CANAL driver-info
 * document may use (CanalGetDriverInfo), shared by the tests that check it.
 *
 * Contract: xml_read parses a whole document into *d (elements in document
 * order, each with its parent, attributes and direct text) and returns true
 * only for well-formed XML 1.0 with one root element: ASCII only, the five
 * predefined entities and character references, comments and processing
 * instructions outside the tags. Otherwise false, with d->error saying what
 * and where. No allocation; limits below are errors, not truncation.
 */
#ifndef USB2CAN_TEST_XML_CHECK_H
#define USB2CAN_TEST_XML_CHECK_H

#include <stdbool.h>

#define XML_MAX_ELEMENTS 64
#define XML_MAX_ATTRS 8
#define XML_MAX_DEPTH 8

typedef struct xml_attr {
    char name[32];
    char value[1024];
} xml_attr;

typedef struct xml_element {
    char name[32];
    int parent; /* -1 for the root */
    int depth;
    xml_attr attrs[XML_MAX_ATTRS];
    int attr_count;
    char text[1024]; /* direct text content, entities left as written */
} xml_element;

typedef struct xml_doc {
    xml_element el[XML_MAX_ELEMENTS];
    int count;
    const char *p;
    char error[200];
} xml_doc;

bool xml_read(xml_doc *d, const char *text);
/* The value of an attribute of e, or NULL. */
const char *xml_attr_of(const xml_element *e, const char *name);
/* Index of the first child of parent named name after index after (-1 to
 * start), or -1. */
int xml_find_child(const xml_doc *d, int parent, const char *name, int after);
int xml_count_children(const xml_doc *d, int parent);

#endif
