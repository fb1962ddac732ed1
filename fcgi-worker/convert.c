/* convert.c — HTML to readable text or Markdown (CommonMark, GFM tables).
 *
 * html_parse.c decodes the document to UTF-8 and has gumbo parse it; the
 * tree is walked once in document order with an explicit stack, so no
 * recursion follows the document's depth. The walk writes straight into the
 * caller's buffer through a small line writer:
 *
 *  - blocks never write their own newlines: they say how many they are owed
 *    (1: a new line, 2: a blank line) and the next content pays them, so
 *    empty elements leave no trace and breaks never pile up;
 *  - a stack of prefix levels (list items "- " / "3. " then their indent,
 *    block quotes "> ") is written at the start of every line;
 *  - whitespace collapses as in a browser's normal flow: a run becomes one
 *    space, owed until the next content on the same line;
 *  - inline markup (emphasis, links) is opened only when content arrives,
 *    closed at a block break and reopened after it, so it never spans
 *    blocks and is never empty.
 *
 * Ownership: convert_html() frees everything it allocates (the parsed
 * document, its stack, scratch buffers) before it returns. The caller owns
 * 'out' and 'meta'. Every decision about the output (escaping, tables,
 * links, hidden elements, limits) is listed in docs/extract.md, section
 * "Converter". */
#include "convert.h"

#include <gumbo.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "css_select.h"
#include "html_parse.h"
#include "main_content.h"
#include "rc.h"
#include "urljoin.h"

#define OUTPUT_MAX_DEFAULT ((size_t)64 << 20)
#define LEVELS_MAX 16 /* list and quote levels that indent */
#define COLS_MAX 256  /* columns of a Markdown table */

/* ---- What each element is -------------------------------------------- */

enum kind {
    K_INLINE = 0, /* default: phrasing and unknown elements */
    K_DROP,       /* never rendered */
    K_BLOCK,
    K_HEADING,
    K_LIST,
    K_LI,
    K_QUOTE,
    K_PRE,
    K_CODE,
    K_EM,
    K_STRONG,
    K_DEL,
    K_A,
    K_IMG,
    K_BR,
    K_HR,
    K_TABLE,
    K_DIALOG,
};

static const unsigned char tag_kind[GUMBO_TAG_LAST + 1] = {
    [GUMBO_TAG_HEAD] = K_DROP,      [GUMBO_TAG_TITLE] = K_DROP,
    [GUMBO_TAG_BASE] = K_DROP,      [GUMBO_TAG_LINK] = K_DROP,
    [GUMBO_TAG_META] = K_DROP,      [GUMBO_TAG_STYLE] = K_DROP,
    [GUMBO_TAG_SCRIPT] = K_DROP,    [GUMBO_TAG_NOSCRIPT] = K_DROP,
    [GUMBO_TAG_TEMPLATE] = K_DROP,  [GUMBO_TAG_IFRAME] = K_DROP,
    [GUMBO_TAG_EMBED] = K_DROP,     [GUMBO_TAG_OBJECT] = K_DROP,
    [GUMBO_TAG_PARAM] = K_DROP,     [GUMBO_TAG_VIDEO] = K_DROP,
    [GUMBO_TAG_AUDIO] = K_DROP,     [GUMBO_TAG_SOURCE] = K_DROP,
    [GUMBO_TAG_TRACK] = K_DROP,     [GUMBO_TAG_CANVAS] = K_DROP,
    [GUMBO_TAG_MAP] = K_DROP,       [GUMBO_TAG_AREA] = K_DROP,
    [GUMBO_TAG_SVG] = K_DROP,       [GUMBO_TAG_ANNOTATION_XML] = K_DROP,
    [GUMBO_TAG_INPUT] = K_DROP,     [GUMBO_TAG_SELECT] = K_DROP,
    [GUMBO_TAG_DATALIST] = K_DROP,  [GUMBO_TAG_OPTION] = K_DROP,
    [GUMBO_TAG_OPTGROUP] = K_DROP,  [GUMBO_TAG_KEYGEN] = K_DROP,
    [GUMBO_TAG_MENUITEM] = K_DROP,  [GUMBO_TAG_APPLET] = K_DROP,
    [GUMBO_TAG_BGSOUND] = K_DROP,   [GUMBO_TAG_FRAME] = K_DROP,
    [GUMBO_TAG_FRAMESET] = K_DROP,  [GUMBO_TAG_NOFRAMES] = K_DROP,
    [GUMBO_TAG_NOEMBED] = K_DROP,   [GUMBO_TAG_RP] = K_DROP,
    [GUMBO_TAG_COLGROUP] = K_DROP,  [GUMBO_TAG_COL] = K_DROP,
    [GUMBO_TAG_PROGRESS] = K_DROP,  [GUMBO_TAG_METER] = K_DROP,
    [GUMBO_TAG_BASEFONT] = K_DROP,  [GUMBO_TAG_ISINDEX] = K_DROP,
    [GUMBO_TAG_NEXTID] = K_DROP,

    [GUMBO_TAG_HTML] = K_BLOCK,     [GUMBO_TAG_BODY] = K_BLOCK,
    [GUMBO_TAG_ARTICLE] = K_BLOCK,  [GUMBO_TAG_SECTION] = K_BLOCK,
    [GUMBO_TAG_NAV] = K_BLOCK,      [GUMBO_TAG_ASIDE] = K_BLOCK,
    [GUMBO_TAG_HGROUP] = K_BLOCK,   [GUMBO_TAG_HEADER] = K_BLOCK,
    [GUMBO_TAG_FOOTER] = K_BLOCK,   [GUMBO_TAG_ADDRESS] = K_BLOCK,
    [GUMBO_TAG_P] = K_BLOCK,        [GUMBO_TAG_DL] = K_BLOCK,
    [GUMBO_TAG_DT] = K_BLOCK,       [GUMBO_TAG_DD] = K_BLOCK,
    [GUMBO_TAG_FIGURE] = K_BLOCK,   [GUMBO_TAG_FIGCAPTION] = K_BLOCK,
    [GUMBO_TAG_MAIN] = K_BLOCK,     [GUMBO_TAG_DIV] = K_BLOCK,
    [GUMBO_TAG_CAPTION] = K_BLOCK,  [GUMBO_TAG_TBODY] = K_BLOCK,
    [GUMBO_TAG_THEAD] = K_BLOCK,    [GUMBO_TAG_TFOOT] = K_BLOCK,
    [GUMBO_TAG_TR] = K_BLOCK,       [GUMBO_TAG_TD] = K_BLOCK,
    [GUMBO_TAG_TH] = K_BLOCK,       [GUMBO_TAG_FORM] = K_BLOCK,
    [GUMBO_TAG_FIELDSET] = K_BLOCK, [GUMBO_TAG_LEGEND] = K_BLOCK,
    [GUMBO_TAG_DETAILS] = K_BLOCK,  [GUMBO_TAG_SUMMARY] = K_BLOCK,
    [GUMBO_TAG_CENTER] = K_BLOCK,   [GUMBO_TAG_MULTICOL] = K_BLOCK,

    [GUMBO_TAG_H1] = K_HEADING,     [GUMBO_TAG_H2] = K_HEADING,
    [GUMBO_TAG_H3] = K_HEADING,     [GUMBO_TAG_H4] = K_HEADING,
    [GUMBO_TAG_H5] = K_HEADING,     [GUMBO_TAG_H6] = K_HEADING,
    [GUMBO_TAG_OL] = K_LIST,        [GUMBO_TAG_UL] = K_LIST,
    [GUMBO_TAG_MENU] = K_LIST,      [GUMBO_TAG_DIR] = K_LIST,
    [GUMBO_TAG_LI] = K_LI,          [GUMBO_TAG_BLOCKQUOTE] = K_QUOTE,
    [GUMBO_TAG_PRE] = K_PRE,        [GUMBO_TAG_LISTING] = K_PRE,
    [GUMBO_TAG_XMP] = K_PRE,        [GUMBO_TAG_PLAINTEXT] = K_PRE,
    [GUMBO_TAG_CODE] = K_CODE,      [GUMBO_TAG_KBD] = K_CODE,
    [GUMBO_TAG_SAMP] = K_CODE,      [GUMBO_TAG_TT] = K_CODE,
    [GUMBO_TAG_EM] = K_EM,          [GUMBO_TAG_I] = K_EM,
    [GUMBO_TAG_STRONG] = K_STRONG,  [GUMBO_TAG_B] = K_STRONG,
    [GUMBO_TAG_DEL] = K_DEL,        [GUMBO_TAG_S] = K_DEL,
    [GUMBO_TAG_STRIKE] = K_DEL,     [GUMBO_TAG_A] = K_A,
    [GUMBO_TAG_IMG] = K_IMG,        [GUMBO_TAG_IMAGE] = K_IMG,
    [GUMBO_TAG_BR] = K_BR,          [GUMBO_TAG_HR] = K_HR,
    [GUMBO_TAG_TABLE] = K_TABLE,
};

/* ---- Converter state ------------------------------------------------- */

/* One indenting level: a list item or a block quote. */
struct level {
    char mark[14]; /* first line: "- ", "12. ", "> " */
    char cont[14]; /* following lines: spaces, or "> " */
    unsigned char w;
    unsigned char pending; /* the mark is not written yet */
    unsigned char is_li;
};

struct list {
    long next; /* number of the next item */
    int step;  /* +1, or -1 for <ol reversed> */
    int ordered;
    char delim;   /* '-' or '*' after a bullet list; '.' or ')' after a number */
    int had_item; /* an item of this list has been written */
};

/* Inline markup, opened lazily. */
enum inl { INL_EM, INL_STRONG, INL_DEL, INL_LINK, INL_KINDS };

static const char *const inl_open[INL_KINDS] = {"*", "**", "~~", "["};
static const char *const inl_close[INL_KINDS] = {"*", "**", "~~", NULL};

/* What an element did on entry, undone when the walk leaves it. */
enum did { D_NONE, D_BLOCK, D_HEADING, D_LIST, D_LI, D_QUOTE, D_EM, D_STRONG, D_DEL, D_LINK };

struct frame {
    const GumboNode *node;
    unsigned next; /* the next child to visit */
    int did;
};

struct linkset {
    char **v;
    size_t n, cap;
    size_t *slot; /* open addressing: index + 1, 0 = free */
    size_t nslot;
    size_t bytes;
};

struct conv {
    const struct convert_opts *o;
    int md;
    struct buf *out;
    size_t limit; /* out->len must stay within */
    int rc;
    const GumboNode *root;
    char *base; /* absolute URL links resolve against, or NULL */

    /* Line writer. */
    int any;            /* something was written */
    int need;           /* newlines owed before the next line: 1 or 2 */
    int line_open;      /* the current line's prefix is written */
    int line_text;      /* and content after it */
    int space;          /* a collapsed space is owed */
    int brs;            /* <br>s owed */
    int col0;           /* the next character starts the line's text */
    int digits;         /* the line's text so far is digits only */
    unsigned char last; /* the last byte written */
    int flat;           /* > 0: inside a heading or table cell: one line */
    int in_cell;
    int heading; /* level of the heading being written */
    int heading_marked;
    size_t heading_at;

    struct level lv[LEVELS_MAX];
    int nlv, lv_over;

    struct list *lists;
    size_t nlists, caplists;
    char ended_delim; /* the list that ended last: its delimiter, */
    size_t ended_at;  /* where the output was, */
    int ended_nlv;    /* and its level */

    unsigned char inl[INL_KINDS * 2];
    int ninl, nshown, inl_base;
    int inl_openk[INL_KINDS]; /* an element of this kind is open */
    struct buf href;          /* the open link's destination */
    int merge_kind;           /* just closed, may be reopened as one */
    size_t merge_at;

    struct frame *stack;
    size_t nstack, capstack;

    struct buf scratch; /* text of a <pre> or <code> */
    struct buf url;     /* one resolved URL */

    /* Tables. */
    const GumboNode **rows;
    unsigned *sect;
    size_t caprows;
    int until[COLS_MAX]; /* last row (in its section) a cell covers */

    struct convert_meta *meta;
    struct linkset links;
};

/* ---- Output ------------------------------------------------------------ */

/* The longest prefix of 's' no longer than 'n' that does not cut a UTF-8
 * character. */
static size_t
utf8_fit(const char *s, size_t n)
{
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

static void
emit(struct conv *cv, const void *s, size_t n)
{
    if (cv->rc != RC_OK || n == 0)
        return;
    if (n > cv->limit - cv->out->len) {
        n = utf8_fit(s, cv->limit - cv->out->len);
        cv->rc = RC_TOO_LARGE;
        if (n == 0)
            return;
    }
    if (buf_append(cv->out, s, n) != RC_OK) {
        cv->rc = RC_ERROR;
        return;
    }
    cv->last = ((const unsigned char *)s)[n - 1];
}

static void
emits(struct conv *cv, const char *s)
{
    emit(cv, s, strlen(s));
}

static void
truncate_out(struct conv *cv, size_t len)
{
    if (cv->out->data == NULL)
        return;
    cv->out->len = len;
    cv->out->data[len] = '\0';
    cv->last = len > 0 ? (unsigned char)cv->out->data[len - 1] : 0;
}

static void
write_prefix(struct conv *cv, int blank)
{
    size_t start = cv->out->len;
    int i;

    for (i = 0; i < cv->nlv; i++) {
        struct level *l = &cv->lv[i];

        if (l->pending) {
            if (blank)
                break;
            emit(cv, l->mark, l->w);
            l->pending = 0;
        } else {
            emit(cv, l->cont, l->w);
        }
    }
    if (blank && cv->rc == RC_OK) {
        size_t len = cv->out->len;
        while (len > start && cv->out->data[len - 1] == ' ')
            len--;
        truncate_out(cv, len);
    }
}

static void close_inline(struct conv *cv);

/* Begin a new output line: end the current one (closing inline markup
 * first, unless a hard break keeps it open), write the blank line owed,
 * then the prefix. 'blank': the line will stay empty (inside <pre>). */
static void
start_line(struct conv *cv, int keep_inline, int blank)
{
    if (cv->any) {
        if (!keep_inline)
            close_inline(cv);
        emit(cv, "\n", 1);
        if (cv->need >= 2) {
            write_prefix(cv, 1);
            emit(cv, "\n", 1);
        }
    }
    write_prefix(cv, blank);
    cv->any = 1;
    cv->need = 0;
    cv->brs = 0;
    cv->space = 0;
    cv->line_open = 1;
    cv->line_text = 0;
    cv->col0 = cv->md;
    cv->digits = 0;
    if (cv->heading && !cv->heading_marked) {
        if (cv->md) {
            emit(cv, "######", (size_t)cv->heading);
            emit(cv, " ", 1);
        }
        cv->heading_marked = 1;
        cv->heading_at = cv->out->len;
        cv->col0 = 0;
    }
}

/* A block boundary: 'n' newlines (1 or 2) before whatever comes next. */
static void
block(struct conv *cv, int n)
{
    if (cv->flat) {
        if (cv->line_text)
            cv->space = 1;
        return;
    }
    /* Before the first line of a list item or quote, the break owed is
     * the one that separates the item; blocks inside it add nothing. */
    if (n > cv->need && !(cv->nlv > 0 && cv->lv[cv->nlv - 1].pending && cv->lv_over == 0))
        cv->need = n;
    cv->line_open = 0;
    cv->line_text = 0;
    cv->space = 0;
    cv->brs = 0;
}

static void
flush_openers(struct conv *cv)
{
    for (; cv->nshown < cv->ninl; cv->nshown++) {
        int k = cv->inl[cv->nshown];

        if (k == INL_LINK && cv->last == '!' && cv->line_text) {
            /* "![" would make the link an image: escape the '!'. */
            cv->out->data[cv->out->len - 1] = '\\';
            emit(cv, "!", 1);
        }
        emits(cv, inl_open[k]);
    }
    cv->col0 = 0;
    cv->digits = 0;
}

static void put_destination(struct conv *cv, const char *s, size_t n);

static void
write_closer(struct conv *cv, int k)
{
    if (k == INL_LINK) {
        emit(cv, "](", 2);
        put_destination(cv, cv->href.data, cv->href.len);
        emit(cv, ")", 1);
    } else {
        emits(cv, inl_close[k]);
    }
}

static void
close_inline(struct conv *cv)
{
    while (cv->nshown > cv->inl_base)
        write_closer(cv, cv->inl[--cv->nshown]);
    cv->merge_kind = -1;
}

static void
hard_break(struct conv *cv)
{
    if (cv->brs >= 2) {
        cv->need = 2;
        start_line(cv, 0, 0);
        return;
    }
    if (cv->md)
        emit(cv, "\\", 1);
    cv->need = 1;
    start_line(cv, 1, 0);
}

/* Everything owed before content: line breaks and prefix, a collapsed
 * space, inline openers. */
static int
begin_inline(struct conv *cv)
{
    if (!cv->line_open)
        start_line(cv, 0, 0);
    else if (cv->brs)
        hard_break(cv);
    if (cv->space) {
        emit(cv, " ", 1);
        cv->space = 0;
    }
    if (cv->nshown < cv->ninl)
        flush_openers(cv);
    cv->line_text = 1;
    return cv->rc == RC_OK;
}

static void
owe_space(struct conv *cv)
{
    if (cv->line_text)
        cv->space = 1;
}

static void
push_inline(struct conv *cv, int k)
{
    cv->inl_openk[k] = 1;
    if (k != INL_LINK && cv->merge_kind == k && cv->merge_at == cv->out->len && cv->line_open &&
        !cv->brs && cv->nshown == cv->ninl) {
        /* "**a**" then "**b**": reopen the same run instead, "**a b**". */
        truncate_out(cv, cv->out->len - strlen(inl_close[k]));
        cv->inl[cv->ninl++] = (unsigned char)k;
        cv->nshown = cv->ninl;
        cv->merge_kind = -1;
        return;
    }
    cv->inl[cv->ninl++] = (unsigned char)k;
}

static void
pop_inline(struct conv *cv, int k)
{
    cv->inl_openk[k] = 0;
    cv->ninl--;
    if (cv->nshown > cv->ninl) {
        cv->nshown = cv->ninl;
        write_closer(cv, k);
        cv->merge_kind = k;
        cv->merge_at = cv->out->len;
    }
}

/* ---- Text ----------------------------------------------------------------- */

enum { C_PLAIN, C_WS, C_CTRL, C_C2, C_SPECIAL };

/* Byte classes: whitespace collapses, C0 controls are dropped, 0xC2 may
 * start U+00A0 (a space to us) or U+00AD (dropped), specials may need a
 * backslash in Markdown. */
static unsigned char cls_text[256], cls_md[256];

static void
init_classes(void)
{
    static const char specials[] = "\\`*_[]<&~|";
    int c;

    for (c = 0; c < 256; c++) {
        unsigned char k = C_PLAIN;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f')
            k = C_WS;
        else if (c < 0x20 || c == 0x7f)
            k = C_CTRL;
        else if (c == 0xC2)
            k = C_C2;
        cls_text[c] = k;
        cls_md[c] = (k == C_PLAIN && c != 0 && strchr(specials, c) != NULL) ? C_SPECIAL : k;
    }
}

static int
is_word(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c >= 0x80;
}

/* The first characters of a line's text, which could start a Markdown
 * block: a heading, quote, list item, thematic break or setext underline.
 * Returns 1 when it wrote 'c'. */
static int
line_start(struct conv *cv, unsigned char c)
{
    if (cv->col0) {
        cv->col0 = 0;
        if (c == '#' || c == '>' || c == '-' || c == '+' || c == '=') {
            char esc[2] = {'\\', (char)c};
            emit(cv, esc, 2);
            return 1;
        }
        if (c >= '0' && c <= '9') {
            cv->digits = 1;
            emit(cv, &c, 1);
            return 1;
        }
        return 0;
    }
    /* cv->digits */
    if (c >= '0' && c <= '9' && cv->digits < 9) {
        cv->digits++;
        emit(cv, &c, 1);
        return 1;
    }
    cv->digits = 0;
    if (c == '.' || c == ')') {
        char esc[2] = {'\\', (char)c};
        emit(cv, esc, 2);
        return 1;
    }
    return 0;
}

/* Whether '&' followed by 'rest' could be read as an entity reference:
 * "&name;" or "&#123;". 'open': the text may continue past 'rest'. */
static int
entity_like(const unsigned char *rest, size_t n, int open)
{
    size_t j = 0;

    if (n > 0 && rest[0] == '#')
        j++;
    while (j < n && j < 40 &&
           ((rest[j] >= '0' && rest[j] <= '9') ||
            ((rest[j] | 0x20) >= 'a' && (rest[j] | 0x20) <= 'z')))
        j++;
    if (j == n)
        return open;
    return j > 0 && rest[j] == ';';
}

/* A Markdown metacharacter in text, escaped when it could mean markup.
 * 'rest' is what follows it in the same text; 'open' says the text may
 * continue after that (the next node could continue anything, so assume
 * the worst). */
static void
put_special(struct conv *cv, unsigned char c, const unsigned char *rest, size_t n, int open)
{
    int next = n > 0 ? rest[0] : open ? -1 : ' ';
    int esc;

    switch (c) {
    case '_':
        /* Intraword underscores never make emphasis: snake_case stays. */
        esc = !(is_word(cv->last) && next >= 0 && is_word((unsigned char)next));
        break;
    case '<':
        /* Only "<x", "</", "<!", "<?" can start a tag or an autolink. */
        esc = next < 0 || ((next | 0x20) >= 'a' && (next | 0x20) <= 'z') || next == '/' ||
              next == '!' || next == '?';
        break;
    case '&':
        esc = entity_like(rest, n, open);
        break;
    case '|':
        esc = cv->in_cell;
        break;
    default:
        esc = 1;
    }
    if (esc) {
        char e[2] = {'\\', (char)c};
        emit(cv, e, 2);
    } else {
        emit(cv, &c, 1);
    }
}

/* Text from the document: whitespace collapsed, Markdown escaped. */
static void
put_text(struct conv *cv, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    const unsigned char *cls = cv->md ? cls_md : cls_text;
    size_t i = 0, j;

    while (i < n && cv->rc == RC_OK) {
        unsigned char c = s[i], k = cls[c];

        if (k == C_WS) {
            owe_space(cv);
            i++;
            continue;
        }
        if (k == C_CTRL) {
            i++;
            continue;
        }
        if (k == C_C2 && i + 1 < n && (s[i + 1] == 0xA0 || s[i + 1] == 0xAD)) {
            if (s[i + 1] == 0xA0)
                owe_space(cv);
            i += 2;
            continue;
        }
        if (!begin_inline(cv))
            return;
        if ((cv->col0 || cv->digits) && line_start(cv, c)) {
            i++;
            continue;
        }
        if (k == C_SPECIAL) {
            put_special(cv, c, s + i + 1, n - i - 1, 1);
            i++;
            continue;
        }
        /* A run of plain bytes; single spaces between words are already
         * collapsed and can go with it. */
        for (j = i + 1; j < n; j++) {
            if (cls[s[j]] == C_PLAIN)
                continue;
            if (s[j] == ' ' && j + 1 < n && cls[s[j + 1]] == C_PLAIN) {
                j++;
                continue;
            }
            break;
        }
        emit(cv, s + i, j - i);
        i = j;
    }
}

/* Already collapsed text inside Markdown syntax (an image's alt): escaped
 * but never at a line start. */
static void
put_escaped(struct conv *cv, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i, run = 0;

    if (n == 0)
        return;
    for (i = 0; i < n; i++) {
        if (cls_md[s[i]] != C_SPECIAL)
            continue;
        emit(cv, s + run, i - run);
        put_special(cv, s[i], s + i + 1, n - i - 1, 0);
        run = i + 1;
    }
    emit(cv, s + run, n - run);
}

/* A link destination: no spaces (urljoin encoded them); parentheses and
 * backslashes escaped. */
static void
put_destination(struct conv *cv, const char *s, size_t n)
{
    size_t i, run = 0;

    for (i = 0; i < n; i++) {
        if (s[i] != '(' && s[i] != ')' && s[i] != '\\')
            continue;
        emit(cv, s + run, i - run);
        char e[2] = {'\\', s[i]};
        emit(cv, e, 2);
        run = i + 1;
    }
    emit(cv, s + run, n - run);
}

/* Append 's' to 'b' with whitespace (and U+00A0) collapsed to single
 * spaces, controls and soft hyphens dropped. *ws says whether whitespace
 * is pending; the caller decides what to do with it at both ends. */
static void
collapse_into(struct buf *b, const char *str, int *ws, int *lead)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i, n = strlen(str);

    for (i = 0; i < n; i++) {
        unsigned char c = s[i], k = cls_text[c];

        if (k == C_WS || (k == C_C2 && s[i + 1] == 0xA0)) {
            *ws = 1;
            i += k == C_C2;
            continue;
        }
        if (k == C_CTRL)
            continue;
        if (k == C_C2 && s[i + 1] == 0xAD) {
            i++;
            continue;
        }
        if (*ws && b->len > 0)
            buf_append(b, " ", 1);
        else if (*ws && lead != NULL)
            *lead = 1;
        *ws = 0;
        buf_append(b, s + i, 1);
    }
}

/* ---- Elements ------------------------------------------------------------ */

/* HTML's rules for parsing integers: leading spaces, a sign, digits, and
 * whatever follows ignored. Clamped to +-1e9. 0 when there are no digits. */
static int
parse_int(const char *s, long *out)
{
    long v = 0;
    int neg = 0, any = 0;

    if (s == NULL)
        return 0;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f')
        s++;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    for (; *s >= '0' && *s <= '9'; s++) {
        any = 1;
        if (v < 1000000000L)
            v = v * 10 + (*s - '0');
    }
    if (v > 1000000000L)
        v = 1000000000L;
    *out = neg ? -v : v;
    return any;
}

static int
ieq_trimmed(const char *s, size_t n, const char *word)
{
    while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' ||
                     s[n - 1] == '\r' || s[n - 1] == '\f'))
        n--;
    return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

/* Whether an inline style hides the element: display:none or
 * visibility:hidden|collapse, with or without !important. */
static int
style_hides(const char *s)
{
    while (*s != '\0') {
        const char *name = s, *colon, *value, *end;

        while (*s != '\0' && *s != ';' && *s != ':')
            s++;
        if (*s != ':') {
            if (*s == ';')
                s++;
            continue;
        }
        colon = s;
        value = s + 1;
        while (*s != '\0' && *s != ';')
            s++;
        end = s;
        if (*s == ';')
            s++;
        /* Strip "!important". */
        const char *bang = memchr(value, '!', (size_t)(end - value));
        if (bang != NULL && ieq_trimmed(bang + 1, (size_t)(end - bang - 1), "important"))
            end = bang;
        if (ieq_trimmed(name, (size_t)(colon - name), "display")) {
            if (ieq_trimmed(value, (size_t)(end - value), "none"))
                return 1;
        } else if (ieq_trimmed(name, (size_t)(colon - name), "visibility")) {
            if (ieq_trimmed(value, (size_t)(end - value), "hidden") ||
                ieq_trimmed(value, (size_t)(end - value), "collapse"))
                return 1;
        }
    }
    return 0;
}

static int
is_hidden(const GumboElement *e)
{
    unsigned i;

    for (i = 0; i < e->attributes.length; i++) {
        const GumboAttribute *a = e->attributes.data[i];
        const char *v = a->value;

        switch (a->name[0]) {
        case 'h':
            if (strcmp(a->name, "hidden") == 0)
                return 1;
            break;
        case 'a':
            /* A modal dialog sets aria-hidden on everything else, <body>
             * included; the page is still there to read. */
            if (strcmp(a->name, "aria-hidden") == 0 && ieq_trimmed(v, strlen(v), "true") &&
                e->tag != GUMBO_TAG_BODY && e->tag != GUMBO_TAG_HTML)
                return 1;
            break;
        case 'd':
            if (strcmp(a->name, "data-rcgi-hidden") == 0 && strcmp(v, "0") != 0)
                return 1;
            break;
        case 's':
            if (strcmp(a->name, "style") == 0 && style_hides(v))
                return 1;
            break;
        }
    }
    return 0;
}

static int
kind_of(const GumboElement *e)
{
    GumboStringPiece name;

    if (e->tag != GUMBO_TAG_UNKNOWN)
        return e->tag < GUMBO_TAG_LAST ? tag_kind[e->tag] : K_INLINE;
    /* Elements newer than gumbo 0.10 have no tag of their own. */
    name = e->original_tag;
    if (name.data == NULL || name.length < 2)
        return K_INLINE;
    gumbo_tag_from_original_text(&name);
    if (name.length == 6 && strncasecmp(name.data, "dialog", 6) == 0)
        return K_DIALOG;
    if (name.length == 6 && strncasecmp(name.data, "search", 6) == 0)
        return K_BLOCK;
    return K_INLINE;
}

/* Whether an element is left out with everything inside it. */
static int
dropped(const struct conv *cv, const GumboNode *n)
{
    const GumboElement *e = &n->v.element;
    int k = kind_of(e);

    if (k == K_DROP || (k == K_DIALOG && html_attr(e, "open") == NULL))
        return 1;
    if (is_hidden(e))
        return 1;
    return cv->o->main_content && n != cv->root && main_content_skip(n);
}

/* ---- Walking ------------------------------------------------------------ */

typedef int (*enter_fn)(struct conv *cv, const GumboNode *n, void *ctx);
typedef void (*leave_fn)(struct conv *cv, const GumboNode *n, int did, void *ctx);

static int
push_frame(struct conv *cv, const GumboNode *n, int did)
{
    if (cv->nstack == cv->capstack) {
        size_t cap = cv->capstack ? cv->capstack * 2 : 64;
        struct frame *f = realloc(cv->stack, cap * sizeof *f);
        if (f == NULL) {
            cv->rc = RC_ERROR;
            return RC_ERROR;
        }
        cv->stack = f;
        cv->capstack = cap;
    }
    cv->stack[cv->nstack].node = n;
    cv->stack[cv->nstack].next = 0;
    cv->stack[cv->nstack].did = did;
    cv->nstack++;
    return RC_OK;
}

/* Visit the subtree under 'root' in document order. 'enter' returns < 0
 * not to descend, else a value handed back to 'leave' (may be NULL). The
 * stack is shared: a visit may start another (a table cell's), which uses
 * the stack above its caller's part. */
static void
iterate(struct conv *cv, const GumboNode *root, enter_fn enter, leave_fn leave, void *ctx)
{
    size_t base = cv->nstack;
    int did;

    if ((did = enter(cv, root, ctx)) < 0 || push_frame(cv, root, did) != RC_OK)
        return;
    while (cv->nstack > base && cv->rc == RC_OK) {
        struct frame *f = &cv->stack[cv->nstack - 1];
        const GumboNode *n = f->node;

        if (f->next < n->v.element.children.length) {
            const GumboNode *c = n->v.element.children.data[f->next++];
            if ((did = enter(cv, c, ctx)) >= 0)
                push_frame(cv, c, did);
        } else {
            did = f->did;
            cv->nstack--;
            if (leave != NULL)
                leave(cv, n, did, ctx);
        }
    }
    cv->nstack = base;
}

static int
is_text(const GumboNode *n)
{
    return n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE ||
           n->type == GUMBO_NODE_CDATA;
}

static int
is_blockish(int k)
{
    return k == K_BLOCK || k == K_HEADING || k == K_LIST || k == K_LI || k == K_QUOTE ||
           k == K_PRE || k == K_TABLE || k == K_HR || k == K_DIALOG;
}

/* ---- Links, images, metadata ------------------------------------------ */

static int
linkset_add(struct linkset *ls, const char *s, size_t n, size_t max_bytes)
{
    uint64_t h = 1469598103934665603ULL;
    size_t i, at;
    char *copy;

    for (i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    if (ls->nslot > 0) {
        for (at = h & (ls->nslot - 1); ls->slot[at] != 0; at = (at + 1) & (ls->nslot - 1)) {
            const char *o = ls->v[ls->slot[at] - 1];
            if (strlen(o) == n && memcmp(o, s, n) == 0)
                return RC_OK;
        }
    }
    if (ls->bytes + n > max_bytes)
        return RC_OK; /* bounded like the output; the rest is left out */
    if (ls->n == ls->cap) {
        size_t cap = ls->cap ? ls->cap * 2 : 16;
        char **v = realloc(ls->v, cap * sizeof *v);
        if (v == NULL)
            return RC_ERROR;
        ls->v = v;
        ls->cap = cap;
    }
    if ((ls->n + 1) * 2 > ls->nslot) {
        size_t nslot = ls->nslot ? ls->nslot * 2 : 64;
        size_t *slot = calloc(nslot, sizeof *slot);
        if (slot == NULL)
            return RC_ERROR;
        for (i = 0; i < ls->n; i++) {
            uint64_t g = 1469598103934665603ULL;
            for (const char *p = ls->v[i]; *p; p++)
                g = (g ^ (unsigned char)*p) * 1099511628211ULL;
            for (at = g & (nslot - 1); slot[at] != 0; at = (at + 1) & (nslot - 1))
                ;
            slot[at] = i + 1;
        }
        free(ls->slot);
        ls->slot = slot;
        ls->nslot = nslot;
    }
    if ((copy = strndup(s, n)) == NULL)
        return RC_ERROR;
    for (at = h & (ls->nslot - 1); ls->slot[at] != 0; at = (at + 1) & (ls->nslot - 1))
        ;
    ls->slot[at] = ls->n + 1;
    ls->v[ls->n++] = copy;
    ls->bytes += n;
    return RC_OK;
}

static void
linkset_free(struct linkset *ls)
{
    size_t i;

    for (i = 0; i < ls->n; i++)
        free(ls->v[i]);
    free(ls->v);
    free(ls->slot);
    memset(ls, 0, sizeof *ls);
}

/* Whether a URL's scheme makes it useless or harmful as a link target. */
static int
scheme_refused(const char *s, size_t n)
{
    size_t k = urljoin_scheme_len(s, n);

    return (k == 10 && strncasecmp(s, "javascript", 10) == 0) ||
           (k == 8 && strncasecmp(s, "vbscript", 8) == 0) ||
           (k == 4 && strncasecmp(s, "data", 4) == 0);
}

/* Resolve an href or src into cv->url. Returns 0 when the URL is to be
 * dropped (javascript:, vbscript:, data:), 1 when absolute (or as written
 * when it could not be resolved), 2 for a fragment-only link, kept as
 * written: it points into the page being converted. */
static int
resolve(struct conv *cv, const char *ref)
{
    size_t n = strlen(ref);
    const char *p = ref;
    int rc;

    while (n > 0 && (unsigned char)*p <= ' ')
        p++, n--;
    buf_reset(&cv->url);
    if (scheme_refused(p, n))
        return 0;
    rc = urljoin(*p == '#' ? NULL : cv->base, p, n, &cv->url);
    if (rc != RC_OK && rc != RC_DECLINED) {
        cv->rc = rc;
        return 0;
    }
    return *p == '#' ? 2 : 1;
}

static int
link_enter(struct conv *cv, const GumboNode *n)
{
    const char *href = html_attr(&n->v.element, "href");
    int r;

    if (href == NULL || (r = resolve(cv, href)) == 0)
        return D_NONE;
    if (r == 1 && cv->meta != NULL &&
        linkset_add(&cv->links, cv->url.data, cv->url.len, cv->limit) != RC_OK) {
        cv->rc = RC_ERROR;
        return D_NONE;
    }
    if (!cv->md || cv->inl_openk[INL_LINK])
        return D_NONE;
    buf_reset(&cv->href);
    if (buf_append(&cv->href, cv->url.data, cv->url.len) != RC_OK) {
        cv->rc = RC_ERROR;
        return D_NONE;
    }
    push_inline(cv, INL_LINK);
    return D_LINK;
}

/* The first URL of a srcset ("a.jpg 1x, b.jpg 2x"), into 'buf'. */
static const char *
srcset_first(const char *s, char *buf, size_t size)
{
    size_t n = 0;

    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == ',')
        s++;
    while (s[n] != '\0' && s[n] != ' ' && s[n] != '\t' && s[n] != '\n' && s[n] != ',' &&
           n + 1 < size)
        n++;
    if (n == 0 || n + 1 >= size)
        return NULL;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

static void
image(struct conv *cv, const GumboNode *n)
{
    const GumboElement *e = &n->v.element;
    const char *alt = html_attr(e, "alt"), *src = html_attr(e, "src");
    char first[2048];
    long w, h;
    int ws = 0;

    /* Tracking pixels. */
    if (parse_int(html_attr(e, "width"), &w) && parse_int(html_attr(e, "height"), &h) &&
        w <= 1 && h <= 1)
        return;
    /* Lazy loading leaves a placeholder in src and the image elsewhere. */
    while (src != NULL && *src != '\0' && (unsigned char)*src <= ' ')
        src++;
    if (src == NULL || *src == '\0' || scheme_refused(src, strlen(src))) {
        const char *lazy = html_attr(e, "data-src"), *set = html_attr(e, "srcset");
        if (lazy != NULL && *lazy != '\0')
            src = lazy;
        else if (set != NULL && (set = srcset_first(set, first, sizeof first)) != NULL)
            src = set;
    }
    buf_reset(&cv->scratch);
    if (alt != NULL)
        collapse_into(&cv->scratch, alt, &ws, NULL);
    if (cv->md && src != NULL && *src != '\0' && resolve(cv, src) != 0) {
        if (!begin_inline(cv))
            return;
        emit(cv, "![", 2);
        put_escaped(cv, cv->scratch.data, cv->scratch.len);
        emit(cv, "](", 2);
        put_destination(cv, cv->url.data, cv->url.len);
        emit(cv, ")", 1);
        return;
    }
    if (cv->scratch.len > 0)
        put_text(cv, cv->scratch.data, cv->scratch.len);
}

/* The document's <title> and the first <base href>, in one walk that
 * stops when both are found. */
struct head_find {
    const GumboNode *title, *base;
};

static int
head_enter(struct conv *cv, const GumboNode *n, void *ctx)
{
    struct head_find *hf = ctx;

    if (n->type != GUMBO_NODE_ELEMENT)
        return -1;
    if (n->v.element.tag_namespace != GUMBO_NAMESPACE_HTML)
        return -1;
    if (n->v.element.tag == GUMBO_TAG_TITLE && hf->title == NULL)
        hf->title = n;
    else if (n->v.element.tag == GUMBO_TAG_BASE && hf->base == NULL &&
             html_attr(&n->v.element, "href"))
        hf->base = n;
    if (hf->title != NULL && hf->base != NULL)
        cv->rc = RC_DECLINED; /* stops the walk; reset by the caller */
    return 0;
}

static int
find_head(struct conv *cv, const GumboNode *html, const char *base_url)
{
    struct head_find hf = {NULL, NULL};
    unsigned i;
    int ws = 0;

    iterate(cv, html, head_enter, NULL, &hf);
    if (cv->rc == RC_DECLINED)
        cv->rc = RC_OK;
    if (cv->rc != RC_OK)
        return cv->rc;
    if (hf.base != NULL) {
        const char *href = html_attr(&hf.base->v.element, "href");
        buf_reset(&cv->url);
        if (urljoin(base_url, href, strlen(href), &cv->url) == RC_OK)
            base_url = cv->url.data;
    }
    if (base_url != NULL && urljoin_scheme_len(base_url, strlen(base_url)) > 0 &&
        (cv->base = strdup(base_url)) == NULL)
        return RC_ERROR;
    if (hf.title != NULL && cv->meta != NULL) {
        struct buf t;
        buf_init(&t, cv->limit);
        for (i = 0; i < hf.title->v.element.children.length; i++) {
            const GumboNode *c = hf.title->v.element.children.data[i];
            if (is_text(c))
                collapse_into(&t, c->v.text.text, &ws, NULL);
        }
        if (t.data == NULL || t.len == 0)
            buf_free(&t);
        else
            cv->meta->title = buf_steal(&t);
    }
    return RC_OK;
}

/* ---- <pre> and <code> ---------------------------------------------------- */

/* Collect the text of a subtree into cv->scratch. For <pre>: as is, with
 * <br> and block boundaries as newlines. For <code>: collapsed. */
struct collect {
    int pre;
    int ws, lead;
};

static void
collect_newline(struct conv *cv)
{
    if (cv->scratch.len > 0 && cv->scratch.data[cv->scratch.len - 1] != '\n')
        buf_append(&cv->scratch, "\n", 1);
}

static int
collect_enter(struct conv *cv, const GumboNode *n, void *ctx)
{
    struct collect *c = ctx;
    int k;

    if (is_text(n)) {
        if (c->pre) {
            const unsigned char *s = (const unsigned char *)n->v.text.text;
            size_t i, run = 0, len = strlen(n->v.text.text);
            for (i = 0; i < len; i++) {
                if (cls_text[s[i]] != C_CTRL || s[i] == '\t' || s[i] == '\n')
                    continue;
                buf_append(&cv->scratch, s + run, i - run);
                run = i + 1;
            }
            buf_append(&cv->scratch, s + run, len - run);
        } else {
            collapse_into(&cv->scratch, n->v.text.text, &c->ws, &c->lead);
        }
        return -1;
    }
    if (n->type != GUMBO_NODE_ELEMENT || dropped(cv, n))
        return -1;
    k = kind_of(&n->v.element);
    if (k == K_A && cv->meta != NULL) {
        /* Links inside code are text here, but still links of the page. */
        const char *href = html_attr(&n->v.element, "href");
        if (href != NULL && resolve(cv, href) == 1 &&
            linkset_add(&cv->links, cv->url.data, cv->url.len, cv->limit) != RC_OK)
            cv->rc = RC_ERROR;
    }
    if (k == K_BR || is_blockish(k)) {
        if (c->pre)
            collect_newline(cv);
        else
            c->ws = 1;
    }
    return k;
}

static void
collect_leave(struct conv *cv, const GumboNode *n, int k, void *ctx)
{
    struct collect *c = ctx;

    if (is_blockish(k)) {
        if (c->pre)
            collect_newline(cv);
        else
            c->ws = 1;
    }
}

/* The language of a code block: "language-x" or "lang-x" in the class of
 * the <pre> or of its <code>, or GitHub's "highlight-source-x" around it. */
static void
code_language(const GumboNode *pre, char *lang, size_t size)
{
    const GumboNode *cands[3] = {pre, NULL, NULL};
    const GumboVector *kids = &pre->v.element.children;
    unsigned i;

    lang[0] = '\0';
    for (i = 0; i < kids->length; i++) {
        const GumboNode *c = kids->data[i];
        if (c->type == GUMBO_NODE_ELEMENT && c->v.element.tag == GUMBO_TAG_CODE) {
            cands[1] = c;
            break;
        }
    }
    if (pre->parent != NULL && pre->parent->type == GUMBO_NODE_ELEMENT)
        cands[2] = pre->parent;
    for (i = 0; i < 3; i++) {
        const char *cl, *p;
        static const char *const prefixes[] = {"language-", "lang-", "highlight-source-"};

        if (cands[i] == NULL || (cl = html_attr(&cands[i]->v.element, "class")) == NULL)
            continue;
        for (unsigned k = i == 2 ? 2 : 0; k < (i == 2 ? 3u : 2u); k++) {
            size_t plen = strlen(prefixes[k]), n = 0;
            for (p = cl; (p = strstr(p, prefixes[k])) != NULL; p += plen) {
                if (p != cl && p[-1] != ' ' && p[-1] != '\t' && p[-1] != '\n')
                    continue;
                p += plen;
                while (n + 1 < size && p[n] != '\0' &&
                       (is_word((unsigned char)p[n]) || strchr("+#.-_", p[n]) != NULL) &&
                       (unsigned char)p[n] < 0x80)
                    n++;
                memcpy(lang, p, n);
                lang[n] = '\0';
                if (n > 0)
                    return;
                break;
            }
        }
    }
}

static size_t
longest_run(const char *s, size_t n, char c)
{
    size_t best = 0, cur = 0, i;

    for (i = 0; i < n; i++) {
        cur = s[i] == c ? cur + 1 : 0;
        if (cur > best)
            best = cur;
    }
    return best;
}

static void code_span(struct conv *cv, const GumboNode *n);

static void
pre_block(struct conv *cv, const GumboNode *n)
{
    struct collect c = {1, 0, 0};
    char lang[33], fence[64];
    size_t len, start, i, flen = 0;

    if (cv->flat) {
        code_span(cv, n);
        return;
    }
    buf_reset(&cv->scratch);
    iterate(cv, n, collect_enter, collect_leave, &c);
    len = cv->scratch.len;
    while (len > 0 && strchr(" \t\n", cv->scratch.data[len - 1]) != NULL)
        len--;
    for (start = 0; start < len && cv->scratch.data[start] == '\n'; start++)
        ;
    block(cv, 2);
    if (start >= len)
        return;
    if (cv->md) {
        flen = longest_run(cv->scratch.data + start, len - start, '`') + 1;
        if (flen < 3)
            flen = 3;
        if (flen > sizeof fence)
            flen = sizeof fence; /* a run that long cannot be fenced: let it be */
        memset(fence, '`', flen);
        code_language(n, lang, sizeof lang);
        start_line(cv, 0, 0);
        emit(cv, fence, flen);
        emits(cv, lang);
        cv->need = 1;
    }
    for (i = start; i <= len && cv->rc == RC_OK;) {
        const char *line = cv->scratch.data + i;
        const char *nl = memchr(line, '\n', len - i);
        size_t ll = nl != NULL ? (size_t)(nl - line) : len - i;

        if (i > start || cv->md)
            cv->need = 1;
        start_line(cv, 0, ll == 0);
        emit(cv, line, ll);
        i += ll + 1;
    }
    if (cv->md) {
        cv->need = 1;
        start_line(cv, 0, 0);
        emit(cv, fence, flen);
    }
    cv->line_text = 1;
    block(cv, 2);
}

static void
code_span(struct conv *cv, const GumboNode *n)
{
    struct collect c = {0, 0, 0};
    char ticks[64];
    size_t run, pad, i, at;

    buf_reset(&cv->scratch);
    iterate(cv, n, collect_enter, collect_leave, &c);
    if (cv->scratch.len == 0) {
        if (c.ws || c.lead)
            owe_space(cv);
        return;
    }
    if (c.lead)
        owe_space(cv);
    if (!begin_inline(cv))
        return;
    if (!cv->md) {
        put_text(cv, cv->scratch.data, cv->scratch.len);
    } else {
        run = longest_run(cv->scratch.data, cv->scratch.len, '`') + 1;
        if (run > sizeof ticks)
            run = sizeof ticks;
        memset(ticks, '`', run);
        pad = cv->scratch.data[0] == '`' || cv->scratch.data[cv->scratch.len - 1] == '`';
        emit(cv, ticks, run);
        if (pad)
            emit(cv, " ", 1);
        /* Inside a table cell, even a code span's '|' ends the cell. */
        for (i = 0, at = 0; cv->in_cell && i < cv->scratch.len; i++) {
            if (cv->scratch.data[i] == '|') {
                emit(cv, cv->scratch.data + at, i - at);
                emit(cv, "\\|", 2);
                at = i + 1;
            }
        }
        emit(cv, cv->scratch.data + at, cv->scratch.len - at);
        if (pad)
            emit(cv, " ", 1);
        emit(cv, ticks, run);
        cv->col0 = 0;
        cv->digits = 0;
    }
    if (c.ws)
        cv->space = 1;
}

/* ---- Lists, quotes, headings, breaks ---------------------------------- */

static void
push_level(struct conv *cv, const char *mark, int is_li)
{
    struct level *l;
    size_t w = strlen(mark);

    if (cv->nlv == LEVELS_MAX) {
        /* Deeper levels do not indent further: the output stays bounded. */
        cv->lv_over++;
        return;
    }
    l = &cv->lv[cv->nlv++];
    memcpy(l->mark, mark, w);
    if (is_li)
        memset(l->cont, ' ', w);
    else
        memcpy(l->cont, mark, w);
    l->w = (unsigned char)w;
    l->pending = 1;
    l->is_li = (unsigned char)is_li;
}

/* Pop a level; returns whether its mark was written. */
static int
pop_level(struct conv *cv)
{
    if (cv->lv_over > 0) {
        cv->lv_over--;
        return 1;
    }
    cv->nlv--;
    return !cv->lv[cv->nlv].pending;
}

static int
list_enter(struct conv *cv, const GumboNode *n)
{
    const GumboElement *e = &n->v.element;
    struct list *l;
    long start;
    unsigned i;

    if (cv->flat) {
        block(cv, 2);
        return D_BLOCK;
    }
    /* A list right inside an item continues it on the next line. */
    block(cv, cv->nlv > 0 && cv->lv_over == 0 && cv->lv[cv->nlv - 1].is_li ? 1 : 2);
    if (cv->nlists == cv->caplists) {
        size_t cap = cv->caplists ? cv->caplists * 2 : 8;
        if ((l = realloc(cv->lists, cap * sizeof *l)) == NULL) {
            cv->rc = RC_ERROR;
            return D_NONE;
        }
        cv->lists = l;
        cv->caplists = cap;
    }
    l = &cv->lists[cv->nlists++];
    l->ordered = e->tag == GUMBO_TAG_OL;
    l->delim = l->ordered ? '.' : '-';
    /* Two lists of the same kind in a row would read as one in Markdown:
     * the second one uses the other delimiter. */
    if (cv->ended_at == cv->out->len && cv->ended_nlv == cv->nlv && cv->ended_delim != 0 &&
        (cv->ended_delim == '.' || cv->ended_delim == ')') == l->ordered)
        l->delim = cv->ended_delim == '.'   ? ')'
                   : cv->ended_delim == ')' ? '.'
                   : cv->ended_delim == '-' ? '*'
                                            : '-';
    l->step = l->ordered && html_attr(e, "reversed") != NULL ? -1 : 1;
    l->had_item = 0;
    if (!parse_int(html_attr(e, "start"), &start)) {
        start = 1;
        if (l->step < 0) {
            for (start = 0, i = 0; i < e->children.length; i++) {
                const GumboNode *c = e->children.data[i];
                if (c->type == GUMBO_NODE_ELEMENT && c->v.element.tag == GUMBO_TAG_LI &&
                    !dropped(cv, c))
                    start++;
            }
        }
    }
    l->next = start;
    return D_LIST;
}

static int
li_enter(struct conv *cv, const GumboNode *n)
{
    struct list *l = cv->nlists > 0 ? &cv->lists[cv->nlists - 1] : NULL;
    char mark[16];
    long v;

    if (cv->flat) {
        block(cv, 2);
        return D_BLOCK;
    }
    block(cv, 1);
    /* Items follow each other on the next line, even when the previous
     * one ended with a paragraph. */
    if (l != NULL && l->had_item && cv->need > 1)
        cv->need = 1;
    if (l != NULL && l->ordered) {
        if (parse_int(html_attr(&n->v.element, "value"), &v))
            l->next = v;
        v = l->next < 0 ? 0 : l->next > 999999999L ? 999999999L : l->next;
        snprintf(mark, sizeof mark, "%ld%c ", v, cv->md ? l->delim : '.');
        l->next += l->step;
    } else {
        snprintf(mark, sizeof mark, "%c ", cv->md && l != NULL ? l->delim : '-');
    }
    push_level(cv, mark, 1);
    return D_LI;
}

static void
heading_leave(struct conv *cv)
{
    cv->flat--;
    if (cv->md && cv->heading_marked && cv->rc == RC_OK) {
        /* A heading ending in " #" would lose the '#' as a closing
         * sequence: escape it. */
        size_t len = cv->out->len, k = len;
        while (k > cv->heading_at && cv->out->data[k - 1] == '#')
            k--;
        if (k < len && cv->out->data[k - 1] == ' ') {
            emit(cv, "#", 1);
            if (cv->rc == RC_OK) {
                memmove(cv->out->data + k + 1, cv->out->data + k, len - k);
                cv->out->data[k] = '\\';
            }
        }
    }
    cv->heading = 0;
    cv->heading_marked = 0;
    block(cv, 2);
}

static void
br(struct conv *cv)
{
    if (cv->flat)
        owe_space(cv);
    else if (cv->line_text)
        cv->brs++;
}

static void
hr(struct conv *cv)
{
    block(cv, 2);
    if (cv->flat || !cv->md)
        return;
    start_line(cv, 0, 0);
    emit(cv, "* * *", 5);
    cv->line_text = 1;
    block(cv, 2);
}

/* ---- Tables --------------------------------------------------------------
 * A table is laid out on a grid as the HTML table model does (rowspan and
 * colspan, rows of <thead> first and of <tfoot> last). It becomes a GFM
 * pipe table when it looks like data; otherwise (layout tables) its cells
 * are walked as ordinary blocks. */

struct table_scan {
    const GumboNode *table;
    int nested, content;
};

static int
scan_enter(struct conv *cv, const GumboNode *n, void *ctx)
{
    struct table_scan *ts = ctx;

    if (is_text(n)) {
        const unsigned char *s = (const unsigned char *)n->v.text.text;
        for (; *s && !ts->content; s++) {
            if (cls_text[*s] == C_WS || cls_text[*s] == C_CTRL)
                continue;
            if (*s == 0xC2 && (s[1] == 0xA0 || s[1] == 0xAD)) {
                s++;
                continue;
            }
            ts->content = 1;
        }
        return -1;
    }
    if (n->type != GUMBO_NODE_ELEMENT || dropped(cv, n))
        return -1;
    if (n != ts->table && n->v.element.tag == GUMBO_TAG_TABLE) {
        ts->nested = 1;
        cv->rc = RC_DECLINED; /* stop here: it is a layout table */
        return -1;
    }
    if (kind_of(&n->v.element) == K_IMG)
        ts->content = 1;
    return 0;
}

static int
add_row(struct conv *cv, size_t *nrows, const GumboNode *tr, unsigned sect)
{
    if (*nrows == cv->caprows) {
        size_t cap = cv->caprows ? cv->caprows * 2 : 32;
        const GumboNode **r = realloc(cv->rows, cap * sizeof *r);
        unsigned *s;
        if (r == NULL)
            return RC_ERROR;
        cv->rows = r;
        if ((s = realloc(cv->sect, cap * sizeof *s)) == NULL)
            return RC_ERROR;
        cv->sect = s;
        cv->caprows = cap;
    }
    cv->rows[*nrows] = tr;
    cv->sect[*nrows] = sect;
    (*nrows)++;
    return RC_OK;
}

static int
is_cell(const struct conv *cv, const GumboNode *c)
{
    return c->type == GUMBO_NODE_ELEMENT &&
           (c->v.element.tag == GUMBO_TAG_TD || c->v.element.tag == GUMBO_TAG_TH) &&
           !dropped(cv, c);
}

struct grid {
    size_t cells, th, slots;
    unsigned ncols;
};

static void cell(struct conv *cv, const GumboNode *td);

static void
empty_cells(struct conv *cv, unsigned n)
{
    while (n-- > 0)
        emits(cv, cv->md ? "|  " : "\t");
}

/* One pass over the rows: lay them out and count (emit == 0), or write
 * them (emit == 1). */
static void
table_pass(struct conv *cv, size_t nrows, struct grid *g, int emit_rows)
{
    size_t r, secstart = 0, secend = 0, row_at = 0;
    unsigned i;
    int row_text = 0;

    for (r = 0; r < nrows && cv->rc == RC_OK; r++) {
        const GumboVector *kids = &cv->rows[r]->v.element.children;
        unsigned col = 0, written = 0;
        int rix;

        if (r == 0 || cv->sect[r] != cv->sect[r - 1]) {
            for (i = 0; i < COLS_MAX; i++)
                cv->until[i] = -1;
            secstart = r;
            for (secend = r; secend < nrows && cv->sect[secend] == cv->sect[r]; secend++)
                ;
        }
        rix = (int)(r - secstart);
        if (emit_rows) {
            block(cv, 1);
            row_at = cv->out->len;
            row_text = 0;
            start_line(cv, 0, 0);
        }
        for (i = 0; i < kids->length; i++) {
            const GumboNode *c = kids->data[i];
            long cs = 1, rs = 1;

            if (!is_cell(cv, c))
                continue;
            while (col < COLS_MAX && cv->until[col] >= rix)
                col++;
            if (col >= COLS_MAX)
                break;
            if (!parse_int(html_attr(&c->v.element, "colspan"), &cs) || cs < 1)
                cs = 1;
            if (cs > (long)(COLS_MAX - col))
                cs = (long)(COLS_MAX - col);
            if (!parse_int(html_attr(&c->v.element, "rowspan"), &rs) || rs < 0)
                rs = 1;
            if (rs == 0 || rs > (long)(secend - r))
                rs = (long)(secend - r);
            for (long k = 0; k < cs; k++)
                cv->until[col + k] = rix + (int)rs - 1;
            if (emit_rows) {
                /* Cells covered by a rowspan from above are left empty. */
                if (!cv->md && written > 0)
                    emit(cv, "\t", 1);
                empty_cells(cv, col - written);
                if (cv->md)
                    emit(cv, "| ", 2);
                cell(cv, c);
                row_text |= cv->line_text;
                if (cv->md) {
                    /* A colspan is its content then empty cells. */
                    emit(cv, " ", 1);
                    empty_cells(cv, (unsigned)cs - 1);
                    written = col + (unsigned)cs;
                } else {
                    /* In text, only before a following cell. */
                    written = col + 1;
                }
            } else {
                g->cells++;
                g->th += c->v.element.tag == GUMBO_TAG_TH;
            }
            col += (unsigned)cs;
        }
        if (!emit_rows) {
            g->slots += col;
            if (col > g->ncols)
                g->ncols = col;
            continue;
        }
        if (r > 0 && !row_text && cv->rc == RC_OK) {
            /* A row with nothing in it (spacer rows) is left out. */
            truncate_out(cv, row_at);
            cv->need = 1;
            cv->line_open = 0;
            continue;
        }
        if (r == 0 && cv->md) {
            /* The header row sets the number of columns. */
            empty_cells(cv, g->ncols - written);
            emit(cv, "|", 1);
            cv->need = 1;
            start_line(cv, 0, 0);
            emit(cv, "|", 1);
            for (i = 0; i < g->ncols; i++)
                emit(cv, " --- |", 6);
        } else if (cv->md) {
            emit(cv, "|", 1);
        }
        cv->line_text = 1;
    }
}

static int walk_enter(struct conv *cv, const GumboNode *n, void *ctx);
static void walk_leave(struct conv *cv, const GumboNode *n, int did, void *ctx);

/* A cell's content on the row's line: flattened, with its own inline
 * markup. */
static void
cell(struct conv *cv, const GumboNode *td)
{
    int saved[INL_KINDS];

    memcpy(saved, cv->inl_openk, sizeof saved);
    memset(cv->inl_openk, 0, sizeof cv->inl_openk);
    cv->flat++;
    cv->in_cell = cv->md;
    cv->line_text = 0;
    cv->space = 0;
    cv->col0 = 0;
    cv->digits = 0;
    iterate(cv, td, walk_enter, walk_leave, NULL);
    cv->space = 0;
    cv->in_cell = 0;
    cv->flat--;
    memcpy(cv->inl_openk, saved, sizeof saved);
}

/* Returns < 0 when the table was written (or had nothing to write), or
 * D_BLOCK to walk it as blocks. */
static int
table(struct conv *cv, const GumboNode *t)
{
    const GumboElement *e = &t->v.element;
    const GumboNode *caption = NULL;
    struct table_scan ts = {t, 0, 0};
    struct grid g = {0, 0, 0, 0};
    const char *role = html_attr(e, "role");
    size_t nrows = 0, saved_nrows;
    unsigned i, j, sect = 0, pass;
    int marked = html_attr(e, "summary") != NULL, saved_base, saved_shown;

    block(cv, 2);
    if (cv->flat || (role != NULL &&
                     (strcasecmp(role, "presentation") == 0 || strcasecmp(role, "none") == 0)))
        return D_BLOCK;
    iterate(cv, t, scan_enter, NULL, &ts);
    if (cv->rc == RC_DECLINED)
        cv->rc = RC_OK;
    if (cv->rc != RC_OK)
        return -1;

    /* Rows in rendering order: <thead>, then <tbody> and bare rows, then
     * <tfoot>. Each group is a section: rowspans stop at its end. */
    for (pass = 0; pass < 3; pass++) {
        int bare = 0;
        for (i = 0; i < e->children.length; i++) {
            const GumboNode *c = e->children.data[i];
            GumboTag tag;

            if (c->type != GUMBO_NODE_ELEMENT || dropped(cv, c))
                continue;
            tag = c->v.element.tag;
            if (pass == 0 && tag == GUMBO_TAG_CAPTION && caption == NULL)
                caption = c;
            if ((pass == 0 && tag == GUMBO_TAG_THEAD) ||
                (pass == 1 && tag == GUMBO_TAG_TBODY) ||
                (pass == 2 && tag == GUMBO_TAG_TFOOT)) {
                sect++;
                bare = 0;
                marked |= tag != GUMBO_TAG_TBODY;
                for (j = 0; j < c->v.element.children.length; j++) {
                    const GumboNode *tr = c->v.element.children.data[j];
                    if (tr->type == GUMBO_NODE_ELEMENT && tr->v.element.tag == GUMBO_TAG_TR &&
                        !dropped(cv, tr) && add_row(cv, &nrows, tr, sect) != RC_OK)
                        goto nomem;
                }
            } else if (pass == 1 && tag == GUMBO_TAG_TR) {
                if (!bare)
                    sect++;
                bare = 1;
                if (add_row(cv, &nrows, c, sect) != RC_OK)
                    goto nomem;
            } else if (tag == GUMBO_TAG_COLGROUP || tag == GUMBO_TAG_COL) {
                marked = 1;
            }
        }
    }
    marked |= caption != NULL;
    table_pass(cv, nrows, &g, 0);
    marked |= g.th > 0;

    /* Data or layout? Mozilla Readability's test: markup that only data
     * tables have, else no nested table and enough rows and columns. A
     * grid far sparser than its cells (a huge colspan or rowspan) would
     * only write empty cells. */
    if (nrows == 0 || g.cells <= 1 || ts.nested)
        return D_BLOCK;
    if (!marked &&
        (nrows == 1 || g.ncols == 1 || !(nrows >= 10 || g.ncols > 4 || nrows * g.ncols > 10)))
        return D_BLOCK;
    if (g.slots + 2 * (size_t)g.ncols > 8 * g.cells + 64)
        return D_BLOCK;
    if (!ts.content)
        return -1;

    if (caption != NULL) {
        cv->flat++;
        iterate(cv, caption, walk_enter, walk_leave, NULL);
        cv->flat--;
        block(cv, 2);
    }
    /* Inline markup open around the table stays outside it. */
    close_inline(cv);
    saved_base = cv->inl_base;
    saved_shown = cv->nshown;
    cv->inl_base = cv->ninl;
    cv->nshown = cv->ninl;
    saved_nrows = nrows;
    table_pass(cv, saved_nrows, &g, 1);
    cv->inl_base = saved_base;
    cv->nshown = saved_shown;
    block(cv, 2);
    return -1;
nomem:
    cv->rc = RC_ERROR;
    return -1;
}

/* ---- The walk --------------------------------------------------------- */

static int
inline_enter(struct conv *cv, int k)
{
    if (!cv->md || cv->inl_openk[k])
        return D_NONE;
    push_inline(cv, k);
    return D_EM + k;
}

static int
walk_enter(struct conv *cv, const GumboNode *n, void *ctx)
{
    const GumboElement *e;

    if (is_text(n)) {
        put_text(cv, n->v.text.text, strlen(n->v.text.text));
        return -1;
    }
    if (n->type != GUMBO_NODE_ELEMENT || dropped(cv, n))
        return -1;
    e = &n->v.element;
    switch (kind_of(e)) {
    case K_BLOCK:
    case K_DIALOG:
        block(cv, 2);
        return D_BLOCK;
    case K_HEADING:
        block(cv, 2);
        if (cv->flat)
            return D_BLOCK;
        cv->heading = (int)(e->tag - GUMBO_TAG_H1) + 1;
        cv->heading_marked = 0;
        cv->flat++;
        return D_HEADING;
    case K_LIST:
        return list_enter(cv, n);
    case K_LI:
        return li_enter(cv, n);
    case K_QUOTE:
        block(cv, 2);
        if (cv->flat)
            return D_BLOCK;
        push_level(cv, "> ", 0);
        return D_QUOTE;
    case K_PRE:
        pre_block(cv, n);
        return -1;
    case K_CODE:
        code_span(cv, n);
        return -1;
    case K_EM:
        return inline_enter(cv, INL_EM);
    case K_STRONG:
        return inline_enter(cv, INL_STRONG);
    case K_DEL:
        return inline_enter(cv, INL_DEL);
    case K_A:
        return link_enter(cv, n);
    case K_IMG:
        image(cv, n);
        return -1;
    case K_BR:
        br(cv);
        return -1;
    case K_HR:
        hr(cv);
        return -1;
    case K_TABLE:
        return table(cv, n);
    default:
        return D_NONE;
    }
}

static void
walk_leave(struct conv *cv, const GumboNode *n, int did, void *ctx)
{
    struct list *l;

    switch (did) {
    case D_BLOCK:
        block(cv, 2);
        break;
    case D_HEADING:
        heading_leave(cv);
        break;
    case D_LIST:
        cv->nlists--;
        block(cv, 2);
        cv->ended_delim = cv->lists[cv->nlists].delim;
        cv->ended_at = cv->out->len;
        cv->ended_nlv = cv->nlv;
        break;
    case D_LI:
        l = cv->nlists > 0 ? &cv->lists[cv->nlists - 1] : NULL;
        if (pop_level(cv) && l != NULL)
            l->had_item = 1;
        block(cv, 1);
        break;
    case D_QUOTE:
        pop_level(cv);
        block(cv, 2);
        break;
    case D_EM:
    case D_STRONG:
    case D_DEL:
    case D_LINK:
        pop_inline(cv, did - D_EM);
        break;
    default:
        break;
    }
}

/* ---- Entry point ------------------------------------------------------ */

static const GumboNode *
child_element(const GumboNode *n, GumboTag tag)
{
    unsigned i;

    for (i = 0; i < n->v.element.children.length; i++) {
        const GumboNode *c = n->v.element.children.data[i];
        if (c->type == GUMBO_NODE_ELEMENT && c->v.element.tag == tag)
            return c;
    }
    return NULL;
}

/* format=html: the chosen part's source, from the decoded input. An
 * element's extent is its start tag to the end of its end tag; one closed
 * implicitly ends where the parser closed it. */
static int
source_of(struct conv *cv, const struct html_doc *doc, const GumboNode *root)
{
    size_t from = 0, to = doc->input.len, n;

    if (root->type == GUMBO_NODE_ELEMENT && root != doc->output->root) {
        const GumboElement *e = &root->v.element;
        GumboStringPiece start = e->original_tag, end = e->original_end_tag;
        from = e->start_pos.offset;
        to = e->end_pos.offset;
        /* gumbo records the end tag that closed the element, which may be
         * an ancestor's ("<p>two</section>"): only its own is included. */
        gumbo_tag_from_original_text(&start);
        gumbo_tag_from_original_text(&end);
        if (end.length > 0 && end.length == start.length &&
            strncasecmp(end.data, start.data, end.length) == 0)
            to += e->original_end_tag.length;
        if (to < from + e->original_tag.length) /* a void element: its tag */
            to = from + e->original_tag.length;
        if (to > doc->input.len)
            to = doc->input.len;
        if (from > to)
            from = to;
    }
    n = to - from;
    if (n > cv->limit - cv->out->len) {
        n = utf8_fit(doc->input.data + from, cv->limit - cv->out->len);
        if (buf_append(cv->out, doc->input.data + from, n) != RC_OK)
            return RC_ERROR;
        return RC_TOO_LARGE;
    }
    if (n > 0 && buf_append(cv->out, doc->input.data + from, n) != RC_OK)
        return RC_ERROR;
    return RC_OK;
}

int
convert_doc(const struct html_doc *doc, const struct convert_opts *o, struct buf *out,
            struct convert_meta *meta)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    struct conv cv;
    const GumboNode *body, *root;
    size_t max = o->max_output ? o->max_output : OUTPUT_MAX_DEFAULT;
    int rc;

    pthread_once(&once, init_classes);
    memset(&cv, 0, sizeof cv);
    cv.o = o;
    cv.md = o->format == CONVERT_MARKDOWN;
    cv.out = out;
    cv.limit = out->len + (max < out->max - out->len ? max : out->max - out->len);
    cv.merge_kind = -1;
    cv.meta = meta;
    buf_init(&cv.href, SIZE_MAX / 2);
    buf_init(&cv.scratch, SIZE_MAX / 2);
    buf_init(&cv.url, SIZE_MAX / 2);
    if (meta != NULL)
        memset(meta, 0, sizeof *meta);

    if ((rc = find_head(&cv, doc->output->root, o->base_url)) != RC_OK)
        goto done;
    if (o->selector != NULL) {
        if ((root = css_select_first(o->selector, doc->output->root)) == NULL) {
            rc = RC_NOT_FOUND;
            goto done;
        }
    } else {
        body = child_element(doc->output->root, GUMBO_TAG_BODY);
        root = body != NULL ? body : doc->output->root;
        if (o->format == CONVERT_HTML)
            root = doc->output->root;
    }
    if (o->format == CONVERT_HTML) {
        rc = source_of(&cv, doc, root);
        goto done;
    }
    if (o->main_content)
        root = main_content_find(root);
    cv.root = root;
    iterate(&cv, root, walk_enter, walk_leave, NULL);
    if (cv.any)
        emit(&cv, "\n", 1);
    rc = cv.rc;
    if (meta != NULL && rc != RC_ERROR) {
        meta->links = cv.links.v;
        meta->nlinks = cv.links.n;
        cv.links.v = NULL;
        cv.links.n = 0;
    }
done:
    if (rc != RC_OK && rc != RC_TOO_LARGE && meta != NULL)
        convert_meta_free(meta);
    linkset_free(&cv.links);
    free(cv.stack);
    free(cv.lists);
    free(cv.rows);
    free(cv.sect);
    free(cv.base);
    buf_free(&cv.href);
    buf_free(&cv.scratch);
    buf_free(&cv.url);
    return rc;
}

int
convert_html(const char *html, size_t len, const struct convert_opts *o, struct buf *out,
             struct convert_meta *meta)
{
    struct html_doc doc = {0};
    int rc;

    if (meta != NULL)
        memset(meta, 0, sizeof *meta);
    if ((rc = html_parse(html, len, o->charset, &doc)) == RC_OK)
        rc = convert_doc(&doc, o, out, meta);
    html_doc_free(&doc);
    return rc;
}

void
convert_meta_free(struct convert_meta *meta)
{
    size_t i;

    if (meta == NULL)
        return;
    free(meta->title);
    for (i = 0; i < meta->nlinks; i++)
        free(meta->links[i]);
    free(meta->links);
    memset(meta, 0, sizeof *meta);
}
