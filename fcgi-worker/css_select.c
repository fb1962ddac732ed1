/* css_select.c — a subset of CSS selectors matched on a gumbo tree; see
 * css_select.h.
 *
 * A compiled selector is one allocation: a list of complex selectors (the
 * comma-separated alternatives), each a run of compound selectors joined by
 * combinators, each compound a run of simple selectors. Matching goes right
 * to left, as browsers do: the last compound against the candidate element,
 * then the combinator to its left walks to a parent or an earlier sibling.
 * The walk over the document follows parent and sibling links, so it needs
 * no stack whatever the document's depth. */
#include "css_select.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "html_parse.h"
#include "rc.h"

/* Steps one css_select_first() may take: a selector such as
 * "div div div div p" on a deeply nested page is otherwise polynomial of
 * high degree in the depth. Past the budget the search stops (no match). */
#define MATCH_BUDGET 20000000L

enum simple_kind { S_TAG, S_ID, S_CLASS, S_ATTR, S_FIRST, S_LAST, S_ONLY, S_ROOT };
enum attr_op { A_EXISTS, A_EQ, A_WORD, A_DASH, A_PREFIX, A_SUFFIX, A_SUBSTR };

struct simple {
    enum simple_kind kind;
    enum attr_op op;
    int icase;          /* [a=v i] */
    const char *name;   /* tag (lower-case), id, class, attribute (lower-case) */
    const char *value;  /* attribute value */
};

struct compound {
    size_t first, n;    /* simples[first .. first + n) */
    char comb;          /* the combinator before this compound: ' ', '>', '+', '~'; 0 first */
};

struct complex {
    size_t first, n;    /* compounds[first .. first + n) */
};

struct css_selector {
    struct simple *simples;
    struct compound *compounds;
    struct complex *complexes;
    size_t ncomplex;
    char *strings;      /* the names and values, NUL-separated */
};

struct parser {
    const char *p;
    const char *start;
    struct css_selector *s;
    size_t nsimple, ncompound;
    char *str;          /* next free byte in s->strings */
    char *why;
    size_t whylen;
};

/* ---- parsing ------------------------------------------------------------ */

static int
is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static void
skip_ws(struct parser *ps)
{
    while (is_ws(*ps->p))
        ps->p++;
}

static int
fail(struct parser *ps, int rc, const char *what)
{
    snprintf(ps->why, ps->whylen, "%s at offset %zu", what, (size_t)(ps->p - ps->start));
    return rc;
}

static int
ident_start(unsigned char c)
{
    return isalpha(c) || c == '_' || c == '-' || c >= 0x80 || c == '\\';
}

static int
ident_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '-' || c >= 0x80 || c == '\\';
}

/* Append the code point 'cp' as UTF-8. */
static void
put_utf8(struct parser *ps, unsigned long cp)
{
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        cp = 0xFFFD;
    if (cp < 0x80) {
        *ps->str++ = (char)cp;
    } else if (cp < 0x800) {
        *ps->str++ = (char)(0xC0 | (cp >> 6));
        *ps->str++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *ps->str++ = (char)(0xE0 | (cp >> 12));
        *ps->str++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *ps->str++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *ps->str++ = (char)(0xF0 | (cp >> 18));
        *ps->str++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *ps->str++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *ps->str++ = (char)(0x80 | (cp & 0x3F));
    }
}

/* A backslash escape at ps->p (after the backslash): a hex code point of up
 * to 6 digits and one optional blank, or the next character as itself. */
static int
escape(struct parser *ps)
{
    if (*ps->p == '\0' || *ps->p == '\n')
        return fail(ps, RC_INVALID, "a backslash ends the selector");
    if (isxdigit((unsigned char)*ps->p)) {
        unsigned long cp = 0;
        for (int i = 0; i < 6 && isxdigit((unsigned char)*ps->p); i++, ps->p++)
            cp = cp * 16 + (unsigned long)(isdigit((unsigned char)*ps->p)
                                               ? *ps->p - '0'
                                               : tolower((unsigned char)*ps->p) - 'a' + 10);
        if (is_ws(*ps->p))
            ps->p++;
        put_utf8(ps, cp);
        return RC_OK;
    }
    *ps->str++ = *ps->p++;
    return RC_OK;
}

/* An identifier into the string area; *out points at it. */
static int
ident(struct parser *ps, const char **out, int lower)
{
    char *begin = ps->str;
    int rc;

    if (!ident_start((unsigned char)*ps->p) ||
        (ps->p[0] == '-' && !ident_start((unsigned char)ps->p[1]) && ps->p[1] != '-'))
        return fail(ps, RC_INVALID, "a name is expected");
    while (ident_char((unsigned char)*ps->p)) {
        if (*ps->p == '\\') {
            ps->p++;
            if ((rc = escape(ps)) != RC_OK)
                return rc;
        } else {
            char c = *ps->p++;
            *ps->str++ = lower ? (char)tolower((unsigned char)c) : c;
        }
    }
    *ps->str++ = '\0';
    *out = begin;
    return RC_OK;
}

static int
quoted(struct parser *ps, const char **out)
{
    char q = *ps->p++, *begin = ps->str;
    int rc;

    while (*ps->p != q) {
        if (*ps->p == '\0' || *ps->p == '\n')
            return fail(ps, RC_INVALID, "a string is not closed");
        if (*ps->p == '\\') {
            ps->p++;
            if (*ps->p == '\n') {
                ps->p++;
                continue;
            }
            if ((rc = escape(ps)) != RC_OK)
                return rc;
        } else {
            *ps->str++ = *ps->p++;
        }
    }
    ps->p++;
    *ps->str++ = '\0';
    *out = begin;
    return RC_OK;
}

static struct simple *
new_simple(struct parser *ps, enum simple_kind kind)
{
    struct simple *sm = &ps->s->simples[ps->nsimple++];
    memset(sm, 0, sizeof *sm);
    sm->kind = kind;
    return sm;
}

static int
attribute(struct parser *ps)
{
    static const struct { const char *op; enum attr_op v; } ops[] = {
        { "~=", A_WORD }, { "|=", A_DASH }, { "^=", A_PREFIX }, { "$=", A_SUFFIX },
        { "*=", A_SUBSTR }, { "=", A_EQ },
    };
    struct simple *sm = new_simple(ps, S_ATTR);
    size_t i;
    int rc;

    ps->p++; /* [ */
    skip_ws(ps);
    if (*ps->p == '|' || *ps->p == '*')
        return fail(ps, RC_DECLINED, "an attribute namespace");
    if ((rc = ident(ps, &sm->name, 1)) != RC_OK)
        return rc;
    skip_ws(ps);
    if (*ps->p == '|' && ps->p[1] != '=')
        return fail(ps, RC_DECLINED, "an attribute namespace");
    if (*ps->p == ']') {
        ps->p++;
        sm->op = A_EXISTS;
        return RC_OK;
    }
    for (i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strncmp(ps->p, ops[i].op, strlen(ops[i].op)) == 0)
            break;
    if (i == sizeof ops / sizeof ops[0])
        return fail(ps, RC_INVALID, "an attribute operator or ']' is expected");
    sm->op = ops[i].v;
    ps->p += strlen(ops[i].op);
    skip_ws(ps);
    if (*ps->p == '"' || *ps->p == '\'')
        rc = quoted(ps, &sm->value);
    else
        rc = ident(ps, &sm->value, 0);
    if (rc != RC_OK)
        return rc;
    skip_ws(ps);
    if ((*ps->p == 'i' || *ps->p == 'I' || *ps->p == 's' || *ps->p == 'S') &&
        (is_ws(ps->p[1]) || ps->p[1] == ']')) {
        sm->icase = tolower((unsigned char)*ps->p) == 'i';
        ps->p++;
        skip_ws(ps);
    }
    if (*ps->p != ']')
        return fail(ps, RC_INVALID, "']' is expected");
    ps->p++;
    return RC_OK;
}

static int
pseudo(struct parser *ps)
{
    static const struct { const char *name; enum simple_kind kind; } known[] = {
        { "first-child", S_FIRST }, { "last-child", S_LAST }, { "only-child", S_ONLY },
        { "root", S_ROOT },
    };
    const char *name;
    char *mark = ps->str;
    int rc;

    ps->p++; /* : */
    if (*ps->p == ':') {
        snprintf(ps->why, ps->whylen, "the pseudo-element '%.40s'", ps->p - 1);
        return RC_DECLINED;
    }
    if ((rc = ident(ps, &name, 1)) != RC_OK)
        return rc;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strcmp(name, known[i].name) == 0 && *ps->p != '(') {
            ps->str = mark;
            new_simple(ps, known[i].kind);
            return RC_OK;
        }
    }
    snprintf(ps->why, ps->whylen, "the pseudo-class ':%.40s%s'", name, *ps->p == '(' ? "()" : "");
    return RC_DECLINED;
}

static int
compound(struct parser *ps)
{
    struct compound *c = &ps->s->compounds[ps->ncompound];
    int rc;

    c->first = ps->nsimple;
    if (*ps->p == '*') {
        ps->p++;
        if (*ps->p == '|')
            return fail(ps, RC_DECLINED, "a namespace");
        new_simple(ps, S_TAG)->name = "*";
    } else if (ident_start((unsigned char)*ps->p)) {
        struct simple *sm = new_simple(ps, S_TAG);
        if ((rc = ident(ps, &sm->name, 1)) != RC_OK)
            return rc;
        if (*ps->p == '|')
            return fail(ps, RC_DECLINED, "a namespace");
    }
    for (;;) {
        if (*ps->p == '#') {
            struct simple *sm = new_simple(ps, S_ID);
            ps->p++;
            if ((rc = ident(ps, &sm->name, 0)) != RC_OK)
                return rc;
        } else if (*ps->p == '.') {
            struct simple *sm = new_simple(ps, S_CLASS);
            ps->p++;
            if ((rc = ident(ps, &sm->name, 0)) != RC_OK)
                return rc;
        } else if (*ps->p == '[') {
            if ((rc = attribute(ps)) != RC_OK)
                return rc;
        } else if (*ps->p == ':') {
            if ((rc = pseudo(ps)) != RC_OK)
                return rc;
        } else {
            break;
        }
    }
    c->n = ps->nsimple - c->first;
    if (c->n == 0)
        return fail(ps, RC_INVALID, "a selector is expected");
    ps->ncompound++;
    return RC_OK;
}

static int
complex_sel(struct parser *ps)
{
    struct complex *cx = &ps->s->complexes[ps->s->ncomplex];
    int rc;

    cx->first = ps->ncompound;
    skip_ws(ps);
    if ((rc = compound(ps)) != RC_OK)
        return rc;
    ps->s->compounds[cx->first].comb = 0;
    for (;;) {
        char comb = 0;
        int ws = is_ws(*ps->p);
        skip_ws(ps);
        if (*ps->p == '>' || *ps->p == '+' || *ps->p == '~') {
            comb = *ps->p++;
            skip_ws(ps);
        } else if (ws && *ps->p != ',' && *ps->p != '\0') {
            comb = ' ';
        } else {
            break;
        }
        if ((rc = compound(ps)) != RC_OK)
            return rc;
        ps->s->compounds[ps->ncompound - 1].comb = comb;
    }
    cx->n = ps->ncompound - cx->first;
    ps->s->ncomplex++;
    return RC_OK;
}

int
css_select_compile(const char *text, struct css_selector **out, char *why, size_t whylen)
{
    size_t len = strlen(text), slots = len + 2;
    struct parser ps = { 0 };
    struct css_selector *s;
    int rc;

    *out = NULL;
    why[0] = '\0';
    /* Every simple, compound and complex selector takes at least one byte
     * of the text; a name or value at most 4 bytes of UTF-8 per byte of
     * text (an escape) plus its NUL. */
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return RC_ERROR;
    s->simples = calloc(slots, sizeof *s->simples);
    s->compounds = calloc(slots, sizeof *s->compounds);
    s->complexes = calloc(slots, sizeof *s->complexes);
    s->strings = malloc(4 * len + slots);
    if (s->simples == NULL || s->compounds == NULL || s->complexes == NULL ||
        s->strings == NULL) {
        css_select_free(s);
        return RC_ERROR;
    }
    ps.p = ps.start = text;
    ps.s = s;
    ps.str = s->strings;
    ps.why = why;
    ps.whylen = whylen;
    for (;;) {
        if ((rc = complex_sel(&ps)) != RC_OK)
            goto fail;
        skip_ws(&ps);
        if (*ps.p == '\0')
            break;
        if (*ps.p != ',') {
            rc = fail(&ps, RC_INVALID, "unexpected character");
            goto fail;
        }
        ps.p++;
    }
    *out = s;
    return RC_OK;
fail:
    css_select_free(s);
    return rc;
}

void
css_select_free(struct css_selector *s)
{
    if (s == NULL)
        return;
    free(s->simples);
    free(s->compounds);
    free(s->complexes);
    free(s->strings);
    free(s);
}

/* ---- matching ----------------------------------------------------------- */

static int
is_element(const GumboNode *n)
{
    return n != NULL && (n->type == GUMBO_NODE_ELEMENT || n->type == GUMBO_NODE_TEMPLATE);
}

static const GumboVector *
children_of(const GumboNode *n)
{
    if (n->type == GUMBO_NODE_DOCUMENT)
        return &n->v.document.children;
    return &n->v.element.children;
}

static const GumboNode *
parent_element(const GumboNode *n)
{
    return is_element(n->parent) ? n->parent : NULL;
}

/* The element sibling before (dir -1) or after (dir 1) 'n', or NULL. */
static const GumboNode *
sibling_element(const GumboNode *n, int dir)
{
    const GumboVector *v;
    long i;

    if (n->parent == NULL)
        return NULL;
    v = children_of(n->parent);
    for (i = (long)n->index_within_parent + dir; i >= 0 && i < (long)v->length; i += dir)
        if (is_element(v->data[i]))
            return v->data[i];
    return NULL;
}

static int
tag_is(const GumboElement *e, const char *name)
{
    GumboStringPiece t;

    if (name[0] == '*')
        return 1;
    if (e->tag != GUMBO_TAG_UNKNOWN)
        return strcasecmp(gumbo_normalized_tagname(e->tag), name) == 0;
    t = e->original_tag;
    gumbo_tag_from_original_text(&t);
    return t.length == strlen(name) && strncasecmp(t.data, name, t.length) == 0;
}

static int
has_word(const char *list, const char *word, int icase)
{
    size_t wl = strlen(word);

    if (wl == 0)
        return 0;
    for (const char *p = list; *p != '\0';) {
        size_t n;
        while (is_ws(*p))
            p++;
        n = strcspn(p, " \t\n\r\f");
        if (n == wl && (icase ? strncasecmp(p, word, n) : strncmp(p, word, n)) == 0)
            return 1;
        p += n;
    }
    return 0;
}

static int
attr_matches(const struct simple *sm, const char *v)
{
    int (*cmp)(const char *, const char *, size_t) = sm->icase ? strncasecmp : strncmp;
    size_t vl, ml;

    if (v == NULL)
        return 0;
    if (sm->op == A_EXISTS)
        return 1;
    vl = strlen(v);
    ml = strlen(sm->value);
    switch (sm->op) {
    case A_EXISTS:
        return 1;
    case A_EQ:
        return vl == ml && cmp(v, sm->value, vl) == 0;
    case A_WORD:
        return strpbrk(sm->value, " \t\n\r\f") == NULL && has_word(v, sm->value, sm->icase);
    case A_DASH:
        return cmp(v, sm->value, ml) == 0 && (vl == ml || v[ml] == '-');
    case A_PREFIX:
        return ml > 0 && vl >= ml && cmp(v, sm->value, ml) == 0;
    case A_SUFFIX:
        return ml > 0 && vl >= ml && cmp(v + vl - ml, sm->value, ml) == 0;
    case A_SUBSTR:
        if (ml == 0 || vl < ml)
            return 0;
        for (size_t i = 0; i + ml <= vl; i++)
            if (cmp(v + i, sm->value, ml) == 0)
                return 1;
        return 0;
    }
    return 0;
}

static int
simple_matches(const GumboNode *n, const struct simple *sm)
{
    const GumboElement *e = &n->v.element;
    const char *v;

    switch (sm->kind) {
    case S_TAG:
        return tag_is(e, sm->name);
    case S_ID:
        return (v = html_attr(e, "id")) != NULL && strcmp(v, sm->name) == 0;
    case S_CLASS:
        return (v = html_attr(e, "class")) != NULL && has_word(v, sm->name, 0);
    case S_ATTR:
        return attr_matches(sm, html_attr(e, sm->name));
    case S_FIRST:
        return n->parent != NULL && sibling_element(n, -1) == NULL;
    case S_LAST:
        return n->parent != NULL && sibling_element(n, 1) == NULL;
    case S_ONLY:
        return n->parent != NULL && sibling_element(n, -1) == NULL &&
               sibling_element(n, 1) == NULL;
    case S_ROOT:
        return n->parent != NULL && n->parent->type == GUMBO_NODE_DOCUMENT;
    }
    return 0;
}

static int
compound_matches(const GumboNode *n, const struct css_selector *s, const struct compound *c)
{
    for (size_t i = 0; i < c->n; i++)
        if (!simple_matches(n, &s->simples[c->first + i]))
            return 0;
    return 1;
}

/* Does 'n' match compounds [0 .. i] of 'cx', compound i against n itself?
 * Recursion is as deep as the selector has compounds, never the document. */
static int
match_from(const GumboNode *n, const struct css_selector *s, const struct complex *cx, size_t i,
           long *budget)
{
    const struct compound *c = &s->compounds[cx->first + i];
    const GumboNode *m;

    if (--*budget < 0 || !compound_matches(n, s, c))
        return 0;
    if (i == 0)
        return 1;
    switch (c->comb) {
    case '>':
        return (m = parent_element(n)) != NULL && match_from(m, s, cx, i - 1, budget);
    case '+':
        return (m = sibling_element(n, -1)) != NULL && match_from(m, s, cx, i - 1, budget);
    case '~':
        for (m = sibling_element(n, -1); m != NULL && *budget >= 0; m = sibling_element(m, -1))
            if (match_from(m, s, cx, i - 1, budget))
                return 1;
        return 0;
    default:
        for (m = parent_element(n); m != NULL && *budget >= 0; m = parent_element(m))
            if (match_from(m, s, cx, i - 1, budget))
                return 1;
        return 0;
    }
}

static int
matches(const GumboNode *n, const struct css_selector *s, long *budget)
{
    for (size_t i = 0; i < s->ncomplex; i++)
        if (match_from(n, s, &s->complexes[i], s->complexes[i].n - 1, budget))
            return 1;
    return 0;
}

/* The next node after 'n' in document order below 'root', descending into
 * elements (not into <template> contents, which querySelector does not see
 * either). */
static const GumboNode *
next_node(const GumboNode *n, const GumboNode *root)
{
    if (n->type == GUMBO_NODE_ELEMENT && n->v.element.children.length > 0)
        return n->v.element.children.data[0];
    while (n != root && n->parent != NULL) {
        const GumboVector *v = children_of(n->parent);
        if (n->index_within_parent + 1 < v->length)
            return v->data[n->index_within_parent + 1];
        n = n->parent;
    }
    return NULL;
}

const GumboNode *
css_select_first(const struct css_selector *s, const GumboNode *root)
{
    long budget = MATCH_BUDGET;

    for (const GumboNode *n = root; n != NULL && budget >= 0; n = next_node(n, root))
        if (is_element(n) && matches(n, s, &budget))
            return n;
    return NULL;
}
