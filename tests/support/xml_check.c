/* xml_check.c — see xml_check.h. */
#include "xml_check.h"

#include <stdio.h>
#include <string.h>

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

/* Checks one character or entity reference at d->p, moves past it and
 * appends it, as written, to buf (of size bytes, holding *n, kept
 * NUL-terminated; what does not fit is dropped). */
static bool take_char(xml_doc *d, char *buf, size_t size, size_t *n)
{
    if (!check_char(d))
        return false;
    const char *start = d->p;
    if (*d->p == '&') {
        if (!check_entity(d))
            return false;
    } else {
        d->p++;
    }
    while (start < d->p && *n + 1 < size)
        buf[(*n)++] = *start++;
    buf[*n] = '\0';
    return true;
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
        if (e->attr_count == XML_MAX_ATTRS)
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
            if (!take_char(d, a->value, sizeof a->value, &n))
                return false;
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
            if (!take_char(d, e->text, sizeof e->text, &n))
                return false;
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
    if (depth >= XML_MAX_DEPTH || d->count == XML_MAX_ELEMENTS)
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

bool xml_read(xml_doc *d, const char *text)
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

const char *xml_attr_of(const xml_element *e, const char *name)
{
    for (int i = 0; i < e->attr_count; i++)
        if (strcmp(e->attrs[i].name, name) == 0)
            return e->attrs[i].value;
    return NULL;
}

int xml_find_child(const xml_doc *d, int parent, const char *name, int after)
{
    for (int i = after + 1; i < d->count; i++)
        if (d->el[i].parent == parent && strcmp(d->el[i].name, name) == 0)
            return i;
    return -1;
}

int xml_count_children(const xml_doc *d, int parent)
{
    int n = 0;
    for (int i = 0; i < d->count; i++)
        n += d->el[i].parent == parent;
    return n;
}
