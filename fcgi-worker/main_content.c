/* main_content.c — finding the main article of a page on a gumbo tree, and
 * telling apart the boilerplate nested inside it. docs/extract.md ("Main
 * content") describes the scoring for readers who do not read C.
 *
 * The ideas are the published ones of Mozilla's Readability and of
 * Boilerpipe, rearranged so that the answer is one element plus a per-element
 * verdict: paragraphs (blocks of prose, not links) score by length and
 * commas, and give their score to the element holding them and, decaying, to
 * a few ancestors; a candidate's score is discounted by how much of its text
 * is links or boilerplate and weighted by semantic hints; the best candidate
 * then grows to take in sibling parts of a split article (or the posts of a
 * thread) and the <article> around it. What is boilerplate is decided by one
 * function, is_boilerplate_hinted(), from the tag, ARIA role, microdata and
 * class/id words, and for plain containers from a bounded look at their
 * content; the search scores nothing inside what it drops, and
 * main_content_skip() gives the converter the same verdict, so both always
 * agree.
 *
 * Everything is a pure function of a borrowed, read-only tree: nothing is
 * cached between calls or written into the tree, so threads converting
 * different documents share nothing. main_content_find() allocates one array
 * of per-element records and frees it before it returns. No walk recurses:
 * walks follow parent pointers or the record array, so a page nested a
 * hundred thousand levels deep costs time, never C stack, and every look
 * main_content_skip() takes is bounded, so asking it about every element of
 * such a page stays linear. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "html_parse.h"
#include "main_content.h"
#include "rc.h"

/* Paragraphs: shorter text is a label, a date, a button; a block more than
 * half links is a link line. Commas count up to a cap so that a CSV dump or
 * a long code listing does not outweigh an article. */
#define PARA_MIN_CHARS 25
#define PARA_MAX_LINK_DENSITY 0.5
#define PARA_COMMA_CAP 10
/* A paragraph's score reaches this many ancestors (the holder included). */
#define PROPAGATE_LEVELS 5

/* Link blocks: over half their text in links, and little text outside them
 * (a list of headlines with a line of summary each is still a list). A block
 * with one link is only a link block when it is short ("Read more"). */
#define LINK_BLOCK_DENSITY 0.5
#define LINK_BLOCK_MAX_PLAIN 200
#define LINK_BLOCK_SHORT 80

/* How many nodes a content check looks at before it gives up (and keeps the
 * element). Bounded so that the converter asking about every element of a
 * deep page stays linear; a container that large is not a widget. */
#define SCAN_BUDGET 256
/* A negative class on an element holding the article (a layout wrapper
 * named "sidebar-right") is overruled when the element holds <main>, an
 * articleBody, or an <article> or positively named element with this much
 * text; the whole look, the text counts included, is bounded by one node
 * budget and a number of such checks. */
#define GUARD_BUDGET 2048
#define GUARD_CHECKS 8
#define GUARD_MIN_CHARS 500
/* A <form> is a search box, a login, a newsletter signup or a comment form,
 * unless it has this much text (ASP.NET wraps whole pages in one). */
#define FORM_KEEP_CHARS 500
/* A small block with a form control in it is a widget. */
#define INPUT_MAX_CHARS 150
/* A header (<header>, "site-header") is the site's unless it has a heading,
 * no navigation and at most this share of links. */
#define HEADER_MAX_LINK_DENSITY 0.5

/* Growing the winner: the siblings of the winner and of its ancestors up to
 * this many levels above it are looked at (above MERGE_ANY_LEVELS only
 * siblings shaped like the ancestor: the posts of a thread). A sibling
 * counts when its best score is this share of the prose the winner already
 * holds, or when it is a loose paragraph of prose; they merge when together
 * they reach this share of it (and an absolute floor). Measuring against
 * what the winner holds, not its score, makes each step harder than the
 * last: one column of a split article takes in its sibling columns, the
 * whole article does not take in a row of teasers. */
#define MERGE_LEVELS 5
#define MERGE_ANY_LEVELS 1
#define MERGE_EACH 0.15
#define MERGE_SUM 0.2
#define MERGE_MIN 6.0
#define LOOSE_PARA_CHARS 80
#define LOOSE_PARA_LINK_DENSITY 0.25
/* ... and it grows into an enclosing <article> (for the title and byline)
 * when that is at most this many levels up and the winner has this share of
 * its plain text. Not into <main>: news sites keep their recirculation
 * modules in it. */
#define SEMANTIC_LEVELS 3
#define SEMANTIC_SHARE 0.75

/* Candidate weights: multipliers, so that a small teaser does not win on a
 * bonus alone. */
#define WEIGHT_ARTICLE_BODY 1.5
#define WEIGHT_MAIN 1.2
#define WEIGHT_ARTICLE 1.25
#define WEIGHT_POSITIVE 1.25
#define WEIGHT_NEGATIVE 0.5

/* The first bytes of a block's text, lower-cased, for ad labels. */
#define SAMPLE_MAX 40

/* What an element's markup says about it (element_hints()). */
enum {
    H_MAIN = 1 << 0,           /* <main>, role=main */
    H_ARTICLE_BODY = 1 << 1,   /* itemprop=articleBody */
    H_ARTICLE = 1 << 2,        /* <article>, role=article */
    H_SCHEMA_ARTICLE = 1 << 3, /* itemtype ...Article, ...Posting, Recipe */
    H_BOILER = 1 << 4,         /* <nav>, <aside>, <footer>, <button>, <dialog>,
                                * negative roles and microdata */
    H_FORM = 1 << 5,           /* <form> */
    H_HEADER = 1 << 6,         /* <header>, class "header" or "masthead" */
    H_NEG = 1 << 7,            /* negative class, id or custom tag name */
    H_POS = 1 << 8,            /* positive class or id (and no negative) */
};
#define H_STRONG (H_MAIN | H_ARTICLE_BODY)

/* ---- Words of class and id attributes ---- */

enum word_match { EXACT, PREFIX };

struct word {
    const char *w;
    enum word_match match;
    unsigned hint;
};

#define POS MAIN_CONTENT_HINT_POSITIVE
#define NEG MAIN_CONTENT_HINT_NEGATIVE
#define HDR MAIN_CONTENT_HINT_HEADER

/* Lower-case words; a PREFIX row also matches longer words ("comments",
 * "commentlist"). Exceptions come before the row they except. Words are
 * whole, so "ad" does not match "address", nor "head" "headline". */
static const struct word words[] = {
    /* Where the text of a page is. */
    {"article", EXACT, POS},
    {"articlebody", EXACT, POS},
    {"articletext", EXACT, POS},
    {"articlecontent", EXACT, POS},
    {"content", PREFIX, POS},
    {"entry", EXACT, POS},
    {"hentry", EXACT, POS},
    {"post", EXACT, POS},
    {"postbody", EXACT, POS},
    {"postcontent", EXACT, POS},
    {"posttext", EXACT, POS},
    {"body", EXACT, POS},
    {"story", EXACT, POS},
    {"storybody", EXACT, POS},
    {"main", EXACT, POS},
    {"text", EXACT, POS},
    {"blog", EXACT, POS},
    {"prose", EXACT, POS},
    {"richtext", EXACT, POS},
    {"markdown", EXACT, POS},
    /* Headers: judged on what they hold. */
    {"header", PREFIX, HDR},
    {"masthead", EXACT, HDR},
    {"head", EXACT, HDR},
    /* Navigation. */
    {"nav", PREFIX, NEG},
    {"topnav", EXACT, NEG},
    {"subnav", EXACT, NEG},
    {"sidenav", EXACT, NEG},
    {"mainnav", EXACT, NEG},
    {"menu", PREFIX, NEG},
    {"megamenu", EXACT, NEG},
    {"submenu", EXACT, NEG},
    {"breadcrumb", PREFIX, NEG},
    {"crumbs", EXACT, NEG},
    {"pagination", EXACT, NEG},
    {"pager", EXACT, NEG},
    {"paging", EXACT, NEG},
    {"toc", EXACT, NEG},
    {"skip", EXACT, NEG},
    {"search", EXACT, NEG},
    {"toolbar", EXACT, NEG},
    {"button", EXACT, NEG}, /* a link styled as a button: "Post Reply" */
    {"buttons", EXACT, NEG},
    {"btn", EXACT, NEG},
    {"topbar", EXACT, NEG},
    /* Sidebars and page furniture. */
    {"sidebar", PREFIX, NEG},
    {"aside", EXACT, NEG},
    {"rail", EXACT, NEG},
    {"widget", PREFIX, NEG},
    {"footer", PREFIX, NEG},
    {"colophon", EXACT, NEG},
    {"copyright", EXACT, NEG},
    {"legal", EXACT, NEG},
    {"ticker", EXACT, NEG},
    {"announcement", PREFIX, NEG},
    {"stat", EXACT, NEG},
    {"stats", EXACT, NEG},
    {"tag", EXACT, NEG}, /* alone; "tag-foo" is a modifier, see below */
    {"tags", EXACT, NEG},
    {"tagcloud", EXACT, NEG},
    /* Comments. */
    {"commentary", EXACT, 0},
    {"comment", PREFIX, NEG},
    {"disqus", PREFIX, NEG},
    {"reply", EXACT, NEG},
    {"replies", EXACT, NEG},
    {"respond", EXACT, NEG},
    {"shoutbox", EXACT, NEG},
    {"feedback", EXACT, NEG},
    {"reviews", EXACT, NEG},
    /* Sharing, recommendations, promotion. */
    {"share", PREFIX, NEG},
    {"sharing", EXACT, NEG},
    {"social", PREFIX, NEG},
    {"related", PREFIX, NEG},
    {"recommend", PREFIX, NEG},
    {"trending", EXACT, NEG},
    {"popular", EXACT, NEG},
    {"mostread", EXACT, NEG},
    {"mostpopular", EXACT, NEG},
    {"teaser", PREFIX, NEG},
    {"outbrain", PREFIX, NEG},
    {"taboola", PREFIX, NEG},
    {"promo", PREFIX, NEG},
    {"sponsor", PREFIX, NEG},
    {"cta", EXACT, NEG},
    {"donate", EXACT, NEG},
    {"donation", EXACT, NEG},
    /* Ads. */
    {"ad", EXACT, NEG},
    {"ads", EXACT, NEG},
    {"adv", EXACT, NEG},
    {"adslot", EXACT, NEG},
    {"adunit", EXACT, NEG},
    {"adbox", EXACT, NEG},
    {"adsense", EXACT, NEG},
    {"adsbygoogle", EXACT, NEG},
    {"dfp", EXACT, NEG},
    {"advert", PREFIX, NEG},
    {"banner", PREFIX, NEG},
    /* Consent, subscriptions, overlays. */
    {"cookie", PREFIX, NEG},
    {"consent", PREFIX, NEG},
    {"gdpr", EXACT, NEG},
    {"newsletter", PREFIX, NEG},
    {"subscri", PREFIX, NEG},
    {"signup", EXACT, NEG},
    {"signin", EXACT, NEG},
    {"login", EXACT, NEG},
    {"paywall", EXACT, NEG},
    {"notification", PREFIX, NEG},
    {"popup", PREFIX, NEG},
    {"modal", PREFIX, NEG},
    {"overlay", EXACT, NEG},
    {"rss", EXACT, NEG},
};

/* Words that make the rest of their token say nothing: a page-level class
 * like "has-sidebar" or "no-ads" describes the layout, not the element, and
 * WordPress marks a post tagged "comments" with "tag-comments". A modifier
 * that is its token's only word reads as itself ("tag" is a tag chip). */
static const char *const modifiers[] = {
    "has",    "with",   "no",      "without", "show",     "hide", "is",
    "layout", "enable", "enabled", "disable", "disabled", "tag",
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define WORD_MAX 31

static int
is_lower(int c)
{
    return c >= 'a' && c <= 'z';
}

static int
is_upper(int c)
{
    return c >= 'A' && c <= 'Z';
}

static int
is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int
is_alnum(int c)
{
    return is_lower(c) || is_upper(c) || is_digit(c);
}

static int
is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int
to_lower(int c)
{
    return is_upper(c) ? c - 'A' + 'a' : c;
}

/* Whether a new word starts at 'c' after 'prev' (with 'next' after it):
 * "mainNav" → main|Nav, "ad300x250" → ad|300|x|250, "ADSlot" → AD|Slot. */
static int
word_boundary(int prev, int c, int next)
{
    if (is_lower(prev) && is_upper(c))
        return 1;
    if (is_digit(prev) != is_digit(c))
        return 1;
    return is_upper(prev) && is_upper(c) && is_lower(next);
}

static unsigned
word_hint(const char *w, size_t len)
{
    size_t i, wl;

    for (i = 0; i < N_ELEMS(words); i++) {
        wl = strlen(words[i].w);
        if (words[i].match == EXACT ? wl == len && memcmp(w, words[i].w, len) == 0
                                    : wl <= len && memcmp(w, words[i].w, wl) == 0)
            return words[i].hint;
    }
    return 0;
}

static int
is_modifier(const char *w, size_t len)
{
    size_t i;

    for (i = 0; i < N_ELEMS(modifiers); i++)
        if (strlen(modifiers[i]) == len && memcmp(w, modifiers[i], len) == 0)
            return 1;
    return 0;
}

/* Whether another word follows in this token. */
static int
more_words(const char *s)
{
    while (*s != '\0' && !is_space((unsigned char)*s) && !is_alnum((unsigned char)*s))
        s++;
    return is_alnum((unsigned char)*s);
}

unsigned
main_content_hint_words(const char *s)
{
    unsigned flags = 0, h;
    char word[WORD_MAX + 1];
    size_t wl;
    int neutral, prev, too_long;

    if (s == NULL)
        return 0;
    while (*s != '\0') {
        /* One token: a class name or an id, up to whitespace. */
        while (is_space((unsigned char)*s))
            s++;
        neutral = 0;
        while (*s != '\0' && !is_space((unsigned char)*s)) {
            if (!is_alnum((unsigned char)*s)) {
                s++;
                continue;
            }
            wl = 0;
            too_long = 0;
            do {
                if (wl < WORD_MAX)
                    word[wl++] = (char)to_lower((unsigned char)*s);
                else
                    too_long = 1;
                prev = (unsigned char)*s++;
            } while (is_alnum((unsigned char)*s) &&
                     !word_boundary(prev, (unsigned char)*s, (unsigned char)s[1]));
            if (too_long)
                continue;
            if (is_modifier(word, wl) && !neutral && more_words(s)) {
                neutral = 1;
                continue;
            }
            h = word_hint(word, wl);
            if (neutral)
                h &= ~(unsigned)(NEG | HDR);
            flags |= h;
        }
    }
    return flags;
}

/* ---- Text ---- */

size_t
main_content_text_length(const char *s, size_t len, size_t *commas)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = 0, c = 0, i;
    int space = 0;

    for (i = 0; i < len; i++) {
        /* U+00A0 (no-break space) is whitespace to a reader. */
        if (is_space(u[i]) || (u[i] == 0xC2 && i + 1 < len && u[i + 1] == 0xA0)) {
            if (u[i] == 0xC2)
                i++;
            if (!space)
                n++;
            space = 1;
            continue;
        }
        space = 0;
        if ((u[i] & 0xC0) == 0x80)
            continue; /* a UTF-8 continuation byte: same code point */
        n++;
        if (u[i] == ',')
            c++;
        else if (u[i] == 0xEF && i + 2 < len && u[i + 1] == 0xBC && u[i + 2] == 0x8C)
            c++; /* U+FF0C fullwidth comma */
        else if (u[i] == 0xE3 && i + 2 < len && u[i + 1] == 0x80 && u[i + 2] == 0x81)
            c++; /* U+3001 ideographic comma */
        else if (u[i] == 0xD8 && i + 1 < len && u[i + 1] == 0x8C)
            c++; /* U+060C Arabic comma */
    }
    if (commas != NULL)
        *commas += c;
    return n;
}

double
main_content_paragraph_score(size_t chars, size_t link_chars, size_t commas)
{
    double density, length;

    if (chars < PARA_MIN_CHARS)
        return 0;
    density = (double)link_chars / (double)chars;
    if (density > PARA_MAX_LINK_DENSITY)
        return 0;
    if (commas > PARA_COMMA_CAP)
        commas = PARA_COMMA_CAP;
    length = (double)chars / 100.0;
    if (length > 3.0)
        length = 3.0;
    return (1.0 + (double)commas + length) * (1.0 - density);
}

int
main_content_is_link_block(size_t chars, size_t link_chars, size_t links)
{
    if (chars == 0 || links == 0)
        return 0;
    if (links < 2 && chars >= LINK_BLOCK_SHORT)
        return 0;
    return (double)link_chars > LINK_BLOCK_DENSITY * (double)chars &&
           chars - link_chars < LINK_BLOCK_MAX_PLAIN;
}

/* ---- Elements ---- */

static GumboTag
tag_of(const GumboNode *n)
{
    return n->v.element.tag;
}

/* Whether the space-separated list 'value' has 'token' (ASCII case-blind). */
static int
has_token(const char *value, const char *token)
{
    size_t tl = strlen(token), i;
    const char *p = value, *start;

    if (value == NULL)
        return 0;
    while (*p != '\0') {
        while (is_space((unsigned char)*p))
            p++;
        start = p;
        while (*p != '\0' && !is_space((unsigned char)*p))
            p++;
        if ((size_t)(p - start) != tl)
            continue;
        for (i = 0; i < tl; i++)
            if (to_lower((unsigned char)start[i]) != token[i])
                break;
        if (i == tl)
            return 1;
    }
    return 0;
}

static int
has_any_token(const char *value, const char *const *tokens, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (has_token(value, tokens[i]))
            return 1;
    return 0;
}

/* Elements that hold no reading text: their content is code, media, form
 * state or metadata. Neither the search nor the checks look inside. */
static int
is_ignored(const GumboNode *n)
{
    if (n->type == GUMBO_NODE_TEMPLATE)
        return 1;
    if (n->type != GUMBO_NODE_ELEMENT)
        return 0;
    switch (tag_of(n)) {
    case GUMBO_TAG_HEAD:
    case GUMBO_TAG_TITLE:
    case GUMBO_TAG_BASE:
    case GUMBO_TAG_LINK:
    case GUMBO_TAG_META:
    case GUMBO_TAG_STYLE:
    case GUMBO_TAG_SCRIPT:
    case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_IFRAME:
    case GUMBO_TAG_EMBED:
    case GUMBO_TAG_OBJECT:
    case GUMBO_TAG_SVG:
    case GUMBO_TAG_MATH:
    case GUMBO_TAG_CANVAS:
    case GUMBO_TAG_VIDEO:
    case GUMBO_TAG_AUDIO:
    case GUMBO_TAG_INPUT:
    case GUMBO_TAG_SELECT:
    case GUMBO_TAG_TEXTAREA:
    case GUMBO_TAG_DATALIST:
        return 1;
    default:
        return 0;
    }
}

/* Form controls a reader would type into or pick from. */
static int
is_control(const GumboNode *n)
{
    const char *type;

    switch (tag_of(n)) {
    case GUMBO_TAG_SELECT:
    case GUMBO_TAG_TEXTAREA:
        return 1;
    case GUMBO_TAG_INPUT:
        type = html_attr(&n->v.element, "type");
        return type == NULL || !has_token(type, "hidden");
    default:
        return 0;
    }
}

static int
is_heading(GumboTag t)
{
    return t >= GUMBO_TAG_H1 && t <= GUMBO_TAG_H6;
}

/* Block-level elements own the inline text inside them: a paragraph is
 * the text of one block, not crossing into nested blocks. Unknown (custom)
 * elements are taken as blocks; most custom elements are components. */
static int
is_block(GumboTag t)
{
    switch (t) {
    case GUMBO_TAG_HTML:
    case GUMBO_TAG_BODY:
    case GUMBO_TAG_ADDRESS:
    case GUMBO_TAG_ARTICLE:
    case GUMBO_TAG_ASIDE:
    case GUMBO_TAG_BLOCKQUOTE:
    case GUMBO_TAG_CENTER:
    case GUMBO_TAG_DD:
    case GUMBO_TAG_DETAILS:
    case GUMBO_TAG_DIR:
    case GUMBO_TAG_DIV:
    case GUMBO_TAG_DL:
    case GUMBO_TAG_DT:
    case GUMBO_TAG_FIELDSET:
    case GUMBO_TAG_FIGCAPTION:
    case GUMBO_TAG_FIGURE:
    case GUMBO_TAG_FOOTER:
    case GUMBO_TAG_FORM:
    case GUMBO_TAG_H1:
    case GUMBO_TAG_H2:
    case GUMBO_TAG_H3:
    case GUMBO_TAG_H4:
    case GUMBO_TAG_H5:
    case GUMBO_TAG_H6:
    case GUMBO_TAG_HEADER:
    case GUMBO_TAG_HGROUP:
    case GUMBO_TAG_HR:
    case GUMBO_TAG_LI:
    case GUMBO_TAG_LISTING:
    case GUMBO_TAG_MAIN:
    case GUMBO_TAG_MENU:
    case GUMBO_TAG_NAV:
    case GUMBO_TAG_OL:
    case GUMBO_TAG_P:
    case GUMBO_TAG_PRE:
    case GUMBO_TAG_SECTION:
    case GUMBO_TAG_SUMMARY:
    case GUMBO_TAG_TABLE:
    case GUMBO_TAG_CAPTION:
    case GUMBO_TAG_TBODY:
    case GUMBO_TAG_THEAD:
    case GUMBO_TAG_TFOOT:
    case GUMBO_TAG_TR:
    case GUMBO_TAG_TD:
    case GUMBO_TAG_TH:
    case GUMBO_TAG_UL:
    case GUMBO_TAG_XMP:
    case GUMBO_TAG_UNKNOWN:
        return 1;
    default:
        return 0;
    }
}

/* Paragraph-like blocks give their score to their parent, the element that
 * holds them; any other block holding prose directly (a <div> of text and
 * <br>s, a layout <td>) is itself the holder. */
static int
is_paragraph_tag(GumboTag t)
{
    switch (t) {
    case GUMBO_TAG_P:
    case GUMBO_TAG_PRE:
    case GUMBO_TAG_LI:
    case GUMBO_TAG_DD:
    case GUMBO_TAG_DT:
    case GUMBO_TAG_BLOCKQUOTE:
    case GUMBO_TAG_FIGCAPTION:
    case GUMBO_TAG_CAPTION:
    case GUMBO_TAG_ADDRESS:
    case GUMBO_TAG_SUMMARY:
    case GUMBO_TAG_TH:
    case GUMBO_TAG_LISTING:
    case GUMBO_TAG_XMP:
        return 1;
    default:
        return 0;
    }
}

/* The containers whose content the bounded checks look at (link blocks,
 * widgets with form controls, ad labels). Never inline elements: dropping a
 * linked <span> would cut a word out of a sentence. */
static int
is_checked_container(GumboTag t)
{
    switch (t) {
    case GUMBO_TAG_DIV:
    case GUMBO_TAG_SECTION:
    case GUMBO_TAG_UL:
    case GUMBO_TAG_OL:
    case GUMBO_TAG_DL:
    case GUMBO_TAG_MENU:
    case GUMBO_TAG_DIR:
    case GUMBO_TAG_TABLE:
    case GUMBO_TAG_CENTER:
    case GUMBO_TAG_DETAILS:
    case GUMBO_TAG_FIELDSET:
    case GUMBO_TAG_P:
    case GUMBO_TAG_UNKNOWN:
        return 1;
    default:
        return 0;
    }
}

static int
is_href_link(const GumboNode *n)
{
    return n->type == GUMBO_NODE_ELEMENT && tag_of(n) == GUMBO_TAG_A &&
           html_attr(&n->v.element, "href") != NULL;
}

/* The name of an element gumbo does not know (a custom element, <dialog>)
 * from its source text, lower-cased into 'buf'; "" when there is none. */
static const char *
unknown_tag_name(const GumboNode *n, char *buf, size_t size)
{
    const GumboStringPiece *t = &n->v.element.original_tag;
    size_t i = 1, o = 0;

    buf[0] = '\0';
    if (t->data == NULL || t->length < 2 || t->data[0] != '<')
        return buf;
    while (i < t->length && o + 1 < size) {
        int c = (unsigned char)t->data[i++];
        if (is_space(c) || c == '/' || c == '>')
            break;
        buf[o++] = (char)to_lower(c);
    }
    buf[o] = '\0';
    return buf;
}

static const char *const boiler_roles[] = {
    "navigation", "banner",  "contentinfo", "complementary", "search",
    "menu",       "menubar", "toolbar",     "dialog",        "alertdialog",
};
static const char *const nav_roles[] = {"navigation", "menu", "menubar"};
static const char *const boiler_itemprops[] = {"comment", "comments", "breadcrumb"};

/* The last path segment of an itemtype URL ("https://schema.org/NewsArticle"
 * → "NewsArticle"), compared case-sensitively as schema.org names are. */
static const char *
schema_type(const char *itemtype)
{
    const char *slash;

    if (itemtype == NULL)
        return NULL;
    slash = strrchr(itemtype, '/');
    return slash != NULL ? slash + 1 : itemtype;
}

static int
ends_with(const char *s, const char *suffix)
{
    size_t sl = strlen(s), xl = strlen(suffix);

    return sl >= xl && strcmp(s + sl - xl, suffix) == 0;
}

/* A <footer> inside a <blockquote> or <figure> is the quote's attribution. */
static int
is_attribution(const GumboNode *n)
{
    const GumboNode *p = n->parent;

    return p != NULL && p->type == GUMBO_NODE_ELEMENT &&
           (tag_of(p) == GUMBO_TAG_BLOCKQUOTE || tag_of(p) == GUMBO_TAG_FIGURE);
}

/* Hints that need no look at the content: the tag and the ARIA role. The
 * checks below use them to leave nested navigation out of what they count. */
static unsigned
tag_role_hints(const GumboNode *n)
{
    unsigned h = 0;
    const char *role = html_attr(&n->v.element, "role");
    char name[24];

    switch (tag_of(n)) {
    case GUMBO_TAG_MAIN:
        h |= H_MAIN;
        break;
    case GUMBO_TAG_ARTICLE:
        h |= H_ARTICLE;
        break;
    case GUMBO_TAG_NAV:
    case GUMBO_TAG_ASIDE:
    case GUMBO_TAG_BUTTON:
        h |= H_BOILER;
        break;
    case GUMBO_TAG_FOOTER:
        if (!is_attribution(n))
            h |= H_BOILER;
        break;
    case GUMBO_TAG_HEADER:
        h |= H_HEADER;
        break;
    case GUMBO_TAG_FORM:
        h |= H_FORM;
        break;
    case GUMBO_TAG_UNKNOWN:
        if (strcmp(unknown_tag_name(n, name, sizeof name), "dialog") == 0)
            h |= H_BOILER;
        break;
    default:
        break;
    }
    if (role != NULL) {
        if (has_token(role, "main"))
            h |= H_MAIN;
        else if (has_token(role, "article"))
            h |= H_ARTICLE;
        else if (has_any_token(role, boiler_roles, N_ELEMS(boiler_roles)))
            h |= H_BOILER;
    }
    return h;
}

static int
is_nav(const GumboNode *n)
{
    return tag_of(n) == GUMBO_TAG_NAV ||
           has_any_token(html_attr(&n->v.element, "role"), nav_roles, N_ELEMS(nav_roles));
}

/* Whether 'n' is an inline element in running text (a link or <span> in a
 * paragraph, list item, cell or heading): its class names then say nothing,
 * since dropping it would cut words out of a sentence. A share icon or a
 * "Sponsored" label in a paragraph is the paragraph's widget, judged there. */
static int
is_in_prose(const GumboNode *n)
{
    const GumboNode *p = n->parent;

    if (is_block(tag_of(n)) || p == NULL || p->type != GUMBO_NODE_ELEMENT)
        return 0;
    return is_paragraph_tag(tag_of(p)) || is_heading(tag_of(p)) || tag_of(p) == GUMBO_TAG_TD;
}

/* Everything the markup of 'n' (an element) says about it. */
static unsigned
element_hints(const GumboNode *n)
{
    unsigned h = tag_role_hints(n), w;
    const char *itemprop = html_attr(&n->v.element, "itemprop"),
               *type = schema_type(html_attr(&n->v.element, "itemtype"));
    char name[48];

    if (itemprop != NULL) {
        if (has_token(itemprop, "articlebody"))
            h |= H_ARTICLE_BODY;
        else if (has_any_token(itemprop, boiler_itemprops, N_ELEMS(boiler_itemprops)))
            h |= H_BOILER;
    }
    if (type != NULL) {
        if (ends_with(type, "Article") || ends_with(type, "Posting") ||
            strcmp(type, "Recipe") == 0)
            h |= H_SCHEMA_ARTICLE;
        else if (strcmp(type, "Comment") == 0 || strcmp(type, "UserComments") == 0 ||
                 strcmp(type, "BreadcrumbList") == 0 ||
                 strcmp(type, "SiteNavigationElement") == 0 || strncmp(type, "WP", 2) == 0)
            h |= H_BOILER; /* WPHeader, WPFooter, WPSideBar, WPAdBlock */
    }
    if (is_in_prose(n))
        return h;
    w = main_content_hint_words(html_attr(&n->v.element, "class")) |
        main_content_hint_words(html_attr(&n->v.element, "id"));
    if (tag_of(n) == GUMBO_TAG_UNKNOWN)
        w |= main_content_hint_words(unknown_tag_name(n, name, sizeof name));
    if (w & NEG)
        h |= H_NEG;
    else if (w & POS)
        h |= H_POS;
    if ((w & HDR) && !(w & NEG))
        h |= H_HEADER;
    return h;
}

/* ---- Bounded looks at a subtree ---- */

/* The sibling after 'n' in its parent, or NULL. Gumbo keeps
 * index_within_parent right; the check costs nothing and keeps a tree built
 * by hand from sending a walk round in circles. */
static const GumboNode *
next_sibling(const GumboNode *n)
{
    const GumboNode *p = n->parent;
    const GumboVector *kids;
    size_t i;

    if (p == NULL || (p->type != GUMBO_NODE_ELEMENT && p->type != GUMBO_NODE_TEMPLATE))
        return NULL;
    kids = &p->v.element.children;
    i = n->index_within_parent;
    if (i >= kids->length || kids->data[i] != n) {
        for (i = 0; i < kids->length && kids->data[i] != n; i++)
            ;
        if (i == kids->length)
            return NULL;
    }
    return i + 1 < kids->length ? kids->data[i + 1] : NULL;
}

static const GumboNode *
first_child(const GumboNode *n)
{
    if (n->type != GUMBO_NODE_ELEMENT || n->v.element.children.length == 0)
        return NULL;
    return n->v.element.children.data[0];
}

/* The node after 'n' in document order within 'top' (descending into 'n'
 * when 'descend'), or NULL when the walk is done. Clears *link when the walk
 * leaves that element. No stack: parent pointers only. */
static const GumboNode *
walk_next(const GumboNode *n, const GumboNode *top, int descend, const GumboNode **link)
{
    const GumboNode *next;

    if (descend && (next = first_child(n)) != NULL)
        return next;
    for (;;) {
        if (*link == n)
            *link = NULL;
        if (n == top)
            return NULL;
        if ((next = next_sibling(n)) != NULL)
            return next;
        n = n->parent;
        if (n == NULL)
            return NULL;
    }
}

/* What a look at a subtree found. */
struct scan {
    size_t chars, link_chars, commas, links, controls;
    size_t nodes;                /* nodes seen */
    int complete;                /* the whole subtree was seen within the budget */
    int has_nav;                 /* a <nav> or navigation role inside */
    int has_heading;             /* an <h1>..<h6> inside */
    char sample[SAMPLE_MAX + 1]; /* the start of the text, collapsed, lower-cased */
    size_t sample_len;
};

enum scan_mode {
    SCAN_ALL,     /* count all text */
    SCAN_EXCLUDE, /* leave out nested navigation, asides, footers, buttons */
};

static void
scan_text(struct scan *sc, const char *text, int in_link)
{
    size_t len = strlen(text), m, i;

    m = main_content_text_length(text, len, &sc->commas);
    sc->chars += m;
    if (in_link)
        sc->link_chars += m;
    for (i = 0; i < len && sc->sample_len < SAMPLE_MAX; i++) {
        int c = (unsigned char)text[i];
        if (is_space(c)) {
            if (sc->sample_len > 0 && sc->sample[sc->sample_len - 1] != ' ')
                sc->sample[sc->sample_len++] = ' ';
        } else {
            sc->sample[sc->sample_len++] = (char)to_lower(c);
        }
    }
    sc->sample[sc->sample_len] = '\0';
}

/* Counts text under 'top' in document order until 'budget' nodes are seen. */
static void
scan_subtree(const GumboNode *top, size_t budget, enum scan_mode mode, struct scan *sc)
{
    const GumboNode *n, *link = NULL;
    int descend;

    memset(sc, 0, sizeof *sc);
    sc->complete = 1;
    if (top->type != GUMBO_NODE_ELEMENT)
        return;
    if (is_href_link(top))
        link = top;
    for (n = first_child(top); n != NULL; n = walk_next(n, top, descend, &link)) {
        descend = 0;
        if (budget == 0) {
            sc->complete = 0;
            break;
        }
        budget--;
        sc->nodes++;
        switch (n->type) {
        case GUMBO_NODE_TEXT:
        case GUMBO_NODE_CDATA:
        case GUMBO_NODE_WHITESPACE:
            scan_text(sc, n->v.text.text, link != NULL);
            break;
        case GUMBO_NODE_ELEMENT:
            if (is_ignored(n)) {
                if (is_control(n))
                    sc->controls++;
                break;
            }
            if (is_heading(tag_of(n)))
                sc->has_heading = 1;
            if (mode == SCAN_EXCLUDE && (tag_role_hints(n) & H_BOILER)) {
                if (is_nav(n))
                    sc->has_nav = 1;
                break;
            }
            if (link == NULL && is_href_link(n)) {
                link = n;
                sc->links++;
            }
            descend = 1;
            break;
        default:
            break;
        }
    }
}

/* Whether a block's whole text is an ad label ("Advertisement"). */
static int
is_ad_label(const struct scan *sc)
{
    static const char *const labels[] = {
        "ad",          "ads",       "advertisement",     "advertisements",
        "advertising", "sponsored", "sponsored content", "paid content",
        "anzeige",     "werbung",   "publicité",
    };
    size_t i, len = sc->sample_len;
    const char *s = sc->sample;

    if (sc->chars > SAMPLE_MAX - 4)
        return 0;
    while (len > 0 && s[0] == ' ') {
        s++;
        len--;
    }
    while (len > 0 && s[len - 1] == ' ')
        len--;
    for (i = 0; i < N_ELEMS(labels); i++)
        if (strlen(labels[i]) == len && memcmp(s, labels[i], len) == 0)
            return 1;
    return 0;
}

/* Whether a negatively named element holds the article all the same: a
 * <main>, an articleBody, or an <article> or positively named element with
 * real text. A comment list's items are named "comment-…", so they do not
 * count; teaser cards are too short to. */
static int
guarded(const GumboNode *top)
{
    const GumboNode *n, *link = NULL;
    size_t budget = GUARD_BUDGET;
    int checks = 0, descend;
    unsigned h;
    struct scan sc;

    for (n = first_child(top); n != NULL && budget > 0; n = walk_next(n, top, descend, &link)) {
        budget--;
        descend = 0;
        if (n->type != GUMBO_NODE_ELEMENT || is_ignored(n))
            continue;
        descend = 1;
        h = element_hints(n);
        if (h & H_STRONG)
            return 1;
        if ((h & (H_ARTICLE | H_POS)) && !(h & (H_NEG | H_BOILER)) && checks < GUARD_CHECKS) {
            checks++;
            scan_subtree(n, budget, SCAN_EXCLUDE, &sc);
            if (sc.chars >= GUARD_MIN_CHARS)
                return 1;
            budget -= sc.nodes;
        }
    }
    return 0;
}

/* The one verdict on an element, given its hints: whether it is boilerplate.
 * The search scores nothing inside such an element and main_content_skip()
 * reports the same, so the two never disagree. */
static int
is_boilerplate_hinted(const GumboNode *n, unsigned h)
{
    struct scan sc;
    double density;

    switch (tag_of(n)) {
    case GUMBO_TAG_HTML:
    case GUMBO_TAG_BODY:
        return 0;
    default:
        break;
    }
    if (h & H_STRONG)
        return 0;
    if (h & H_BOILER)
        return 1;
    if (h & H_FORM) {
        scan_subtree(n, GUARD_BUDGET, SCAN_EXCLUDE, &sc);
        return sc.complete && sc.chars < FORM_KEEP_CHARS;
    }
    if (h & H_NEG)
        return !guarded(n);
    if (h & H_HEADER) {
        /* Judged on what the first nodes show, even if the header is large:
         * a mega-menu is what makes a header large. */
        scan_subtree(n, SCAN_BUDGET, SCAN_EXCLUDE, &sc);
        density = sc.chars > 0 ? (double)sc.link_chars / (double)sc.chars : 0;
        return sc.has_nav || !sc.has_heading || density > HEADER_MAX_LINK_DENSITY;
    }
    if (!is_checked_container(tag_of(n)))
        return 0;
    scan_subtree(n, SCAN_BUDGET, SCAN_EXCLUDE, &sc);
    if (!sc.complete)
        return 0;
    /* A linked title ("<div><h2><a>…") is not a link list. */
    if (main_content_is_link_block(sc.chars, sc.link_chars, sc.links) &&
        !(sc.links < 2 && sc.has_heading))
        return 1;
    if (sc.controls > 0 && sc.chars < INPUT_MAX_CHARS)
        return 1;
    return is_ad_label(&sc);
}

int
main_content_skip(const GumboNode *node)
{
    if (node == NULL || node->type != GUMBO_NODE_ELEMENT)
        return 0;
    return is_boilerplate_hinted(node, element_hints(node));
}

/* ---- The search ---- */

/* One element under the root, in document order (a parent's record comes
 * before its children's). Character counts cover the subtree once the
 * totals pass has run; before that, only the element's own text. */
struct rec {
    const GumboNode *node;
    size_t parent;                    /* record index; the root's is its own (0) */
    size_t owner;                     /* the nearest block record, which owns inline text */
    size_t size;                      /* records in the subtree, this one included */
    size_t text;                      /* characters */
    size_t link;                      /* characters inside links */
    size_t plain;                     /* characters neither in links nor in boilerplate */
    size_t inl, inl_link, inl_commas; /* the inline text this block owns */
    double para;                      /* paragraph score, when this is a paragraph */
    double content;                   /* paragraph scores given to this element */
    double score;                     /* as a candidate */
    double best;                      /* the best score in the subtree */
    double mass;                      /* the paragraph scores in the subtree */
    unsigned hints;
    unsigned char boiler, in_link;
};

struct search {
    struct rec *r;
    size_t n, cap;
};

/* Appends a record for 'node' under record 'parent'. RC_OK, or RC_ERROR
 * when out of memory (the array is left as it was). */
static int
add_rec(struct search *s, const GumboNode *node, size_t parent, unsigned hints)
{
    struct rec *r;
    size_t cap;

    if (s->n == s->cap) {
        cap = s->cap ? s->cap * 2 : 1024;
        if (cap > SIZE_MAX / sizeof *r || (r = realloc(s->r, cap * sizeof *r)) == NULL)
            return RC_ERROR;
        s->r = r;
        s->cap = cap;
    }
    r = &s->r[s->n];
    memset(r, 0, sizeof *r);
    r->node = node;
    r->parent = parent;
    r->size = 1;
    r->hints = hints;
    if (s->n == 0) {
        r->owner = 0;
        r->in_link = is_href_link(node);
    } else {
        r->owner = is_block(tag_of(node)) ? s->n : s->r[parent].owner;
        r->in_link = s->r[parent].in_link || is_href_link(node);
    }
    s->n++;
    return RC_OK;
}

/* Pass 1: one record per element that is not ignored, in document order;
 * a boilerplate element gets one record with its subtree's text, and
 * nothing inside it is looked at again. Text counts go to the element that
 * holds the text node, and inline text also to its block owner. RC_OK, or
 * RC_ERROR when out of memory. */
static int
collect(struct search *s, const GumboNode *root)
{
    const GumboNode *n, *next;
    size_t cur = 0, i, m, commas;
    struct rec *r, *o;
    struct scan sc;
    unsigned h;
    int descend;

    if (add_rec(s, root, 0, element_hints(root)) != RC_OK)
        return RC_ERROR;
    for (n = first_child(root); n != NULL; n = next) {
        descend = 0;
        switch (n->type) {
        case GUMBO_NODE_TEXT:
        case GUMBO_NODE_CDATA:
        case GUMBO_NODE_WHITESPACE:
            commas = 0;
            m = main_content_text_length(n->v.text.text, strlen(n->v.text.text), &commas);
            r = &s->r[cur];
            o = &s->r[r->owner];
            r->text += m;
            o->inl += m;
            o->inl_commas += commas;
            if (r->in_link) {
                r->link += m;
                o->inl_link += m;
            } else {
                r->plain += m;
            }
            break;
        case GUMBO_NODE_ELEMENT:
            if (is_ignored(n))
                break;
            h = element_hints(n);
            if (add_rec(s, n, cur, h) != RC_OK)
                return RC_ERROR;
            i = s->n - 1;
            if (is_boilerplate_hinted(n, h)) {
                scan_subtree(n, SIZE_MAX, SCAN_ALL, &sc);
                s->r[i].boiler = 1;
                s->r[i].text = sc.chars;
                s->r[i].link = sc.link_chars;
            } else if (first_child(n) != NULL) {
                cur = i;
                descend = 1;
            }
            break;
        default:
            break;
        }
        /* Next in document order; climbing out of an element closes its
         * record, so the current record follows the walk. */
        if (descend) {
            next = first_child(n);
            continue;
        }
        for (;;) {
            if ((next = next_sibling(n)) != NULL)
                break;
            n = n->parent;
            if (n == NULL || n == root)
                break;
            cur = s->r[cur].parent;
        }
        if (n == NULL || n == root)
            next = NULL;
    }
    return RC_OK;
}

/* Pass 2: subtree totals, children before parents (reverse document order
 * visits every child after all of its own descendants). */
static void
totals(struct search *s)
{
    size_t i;
    struct rec *r, *p;

    for (i = s->n; i-- > 1;) {
        r = &s->r[i];
        p = &s->r[r->parent];
        p->text += r->text;
        p->link += r->link;
        p->plain += r->plain;
        p->size += r->size;
    }
}

/* Pass 3: paragraphs give their score to the element holding them, half to
 * its parent, then a third, a sixth ... of it further up, as Readability
 * does: the element directly around the prose scores highest, a page
 * wrapper around everything only a little. */
static void
paragraphs(struct search *s)
{
    size_t i, at, level;
    struct rec *r;
    double give;

    for (i = 0; i < s->n; i++) {
        r = &s->r[i];
        if (r->boiler || r->inl < PARA_MIN_CHARS || is_heading(tag_of(r->node)))
            continue;
        r->para = main_content_paragraph_score(r->inl, r->inl_link, r->inl_commas);
        if (r->para <= 0)
            continue;
        at = (i == 0 || !is_paragraph_tag(tag_of(r->node))) ? i : r->parent;
        for (level = 0; level < PROPAGATE_LEVELS; level++) {
            give = level == 0 ? r->para : level == 1 ? r->para / 2 : r->para / (3.0 * level);
            s->r[at].content += give;
            if (at == 0)
                break;
            at = s->r[at].parent;
        }
    }
}

/* Whether an <article> is one of several siblings: a list of teasers. */
static int
is_listing(const GumboNode *n)
{
    const GumboNode *p = n->parent;
    const GumboVector *kids;
    size_t i, articles = 0;

    if (p == NULL || p->type != GUMBO_NODE_ELEMENT)
        return 0;
    kids = &p->v.element.children;
    for (i = 0; i < kids->length; i++) {
        const GumboNode *k = kids->data[i];
        if (k->type == GUMBO_NODE_ELEMENT && tag_of(k) == GUMBO_TAG_ARTICLE && ++articles >= 2)
            return 1;
    }
    return 0;
}

static double
weight(const struct rec *r)
{
    double w = 1.0;

    if (r->hints & H_ARTICLE_BODY)
        w *= WEIGHT_ARTICLE_BODY;
    else if (r->hints & H_MAIN)
        w *= WEIGHT_MAIN;
    if ((r->hints & H_ARTICLE) && !is_listing(r->node))
        w *= WEIGHT_ARTICLE;
    if (r->hints & H_POS)
        w *= WEIGHT_POSITIVE;
    if (r->hints & H_NEG)
        w *= WEIGHT_NEGATIVE;
    return w;
}

/* Pass 4: candidate scores, discounted by the share of the subtree's text
 * that is links or boilerplate (link density, widened); and each subtree's
 * best score and paragraph mass. Returns the best candidate, or SIZE_MAX
 * when none. */
static size_t
candidates(struct search *s)
{
    size_t i, top = SIZE_MAX;
    struct rec *r;
    double clean;

    for (i = 0; i < s->n; i++) {
        r = &s->r[i];
        r->mass = r->para;
        if (r->boiler || r->content <= 0 || r->text == 0)
            continue;
        clean = (double)r->plain / (double)r->text;
        r->score = r->content * clean * weight(r);
        r->best = r->score;
        if (top == SIZE_MAX || r->score > s->r[top].score)
            top = i;
    }
    for (i = s->n; i-- > 1;) {
        r = &s->r[i];
        if (r->best > s->r[r->parent].best)
            s->r[r->parent].best = r->best;
        s->r[r->parent].mass += r->mass;
    }
    return top;
}

/* What sibling 'c' brings to a merge into a winner holding 'mass' of
 * prose: its best score if that is a fair share of it, or its paragraph
 * score if it is a loose paragraph of prose (an article's tail after an ad
 * slot). */
static double
merge_value(const struct rec *c, double mass)
{
    if (c->boiler)
        return 0;
    if (c->best > 0 && c->best >= MERGE_EACH * mass)
        return c->best;
    if (c->para > 0 && c->inl >= LOOSE_PARA_CHARS &&
        (double)c->inl_link < LOOSE_PARA_LINK_DENSITY * (double)c->inl)
        return c->para;
    return 0;
}

/* The first token of a class attribute, as a pointer and length. */
static size_t
first_class(const GumboNode *n, const char **start)
{
    const char *c = html_attr(&n->v.element, "class"), *e;

    if (c == NULL)
        return 0;
    while (is_space((unsigned char)*c))
        c++;
    for (e = c; *e != '\0' && !is_space((unsigned char)*e); e++)
        ;
    *start = c;
    return (size_t)(e - c);
}

/* Whether two elements are shaped alike: the same tag and the same first
 * class (the posts of a thread: "post bg1", "post bg2"). */
static int
same_shape(const GumboNode *a, const GumboNode *b)
{
    const char *ca = NULL, *cb = NULL;
    size_t la, lb;

    if (tag_of(a) != tag_of(b))
        return 0;
    la = first_class(a, &ca);
    lb = first_class(b, &cb);
    return la > 0 && la == lb && memcmp(ca, cb, la) == 0;
}

/* The parent of 'at' (or of one of its ancestors up to MERGE_LEVELS up)
 * when that parent's other children hold a good share of prose: an article
 * split across sibling <div>s, a forum thread of posts. SIZE_MAX if none. */
static size_t
merge_siblings(const struct search *s, size_t at)
{
    size_t level, a, c;
    double mass = s->r[at].mass, sum;

    for (level = 0; level <= MERGE_LEVELS && at != 0; level++, at = a) {
        a = s->r[at].parent;
        sum = 0;
        for (c = a + 1; c < a + s->r[a].size; c += s->r[c].size)
            if (c != at &&
                (level <= MERGE_ANY_LEVELS || same_shape(s->r[c].node, s->r[at].node)))
                sum += merge_value(&s->r[c], mass);
        if (sum >= MERGE_MIN && sum >= MERGE_SUM * mass)
            return a;
    }
    return SIZE_MAX;
}

/* The enclosing <article> or schema.org article of 'at', if it is close and
 * 'at' has most of its plain text (the rest being the title and byline).
 * SIZE_MAX if none. */
static size_t
semantic_parent(const struct search *s, size_t at)
{
    size_t level, a;
    const struct rec *r;

    for (level = 0, a = at; level < SEMANTIC_LEVELS && a != 0; level++) {
        a = s->r[a].parent;
        r = &s->r[a];
        if ((r->hints & H_SCHEMA_ARTICLE) ||
            ((r->hints & H_ARTICLE) && !(r->hints & H_NEG) && !is_listing(r->node)))
            return (double)s->r[at].plain >= SEMANTIC_SHARE * (double)r->plain ? a : SIZE_MAX;
    }
    return SIZE_MAX;
}

const GumboNode *
main_content_find(const GumboNode *root)
{
    struct search s = {NULL, 0, 0};
    const GumboNode *found = root;
    size_t at, up;

    if (root == NULL || root->type != GUMBO_NODE_ELEMENT)
        return root;
    if (collect(&s, root) != RC_OK)
        goto done; /* out of memory: the whole page, boilerplate skipped */
    totals(&s);
    paragraphs(&s);
    if ((at = candidates(&s)) == SIZE_MAX)
        goto done;
    /* Grow the winner while that takes in more of the article. Each step
     * climbs, so this ends at the root at the latest. */
    for (;;) {
        if ((up = merge_siblings(&s, at)) == SIZE_MAX &&
            (up = semantic_parent(&s, at)) == SIZE_MAX)
            break;
        at = up;
    }
    found = s.r[at].node;
done:
    free(s.r);
    return found;
}
