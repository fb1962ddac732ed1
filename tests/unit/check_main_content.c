/* check_main_content.c — tests of fcgi-worker/main_content.c: the scoring
 * helpers, verdicts on small snippets, the fixture pages in
 * tests/fixtures/main-content/, a page nested 100000 levels deep and an
 * empty page.
 *
 * Each fixture NAME.html comes with NAME.expect: "+ sentence" lines must be
 * in the main content, "- sentence" lines must not ("#" starts a comment).
 * The main content is the text under the element main_content_find()
 * returns, leaving out ignored elements and every element main_content_skip()
 * drops, gathered by the small collector below (not by convert.c, so these
 * tests judge main_content.c alone). Set MAIN_CONTENT_DUMP=1 to print each
 * fixture's main content. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gumbo.h>

#include "main_content.h"

/* ---- Helpers ---- */

struct text {
    char *data;
    size_t len, cap;
};

static void
text_put(struct text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->len + n + 1)
            cap *= 2;
        t->data = realloc(t->data, cap);
        ck_assert_ptr_nonnull(t->data);
        t->cap = cap;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}

static int
is_inline(GumboTag tag)
{
    switch (tag) {
    case GUMBO_TAG_A:
    case GUMBO_TAG_ABBR:
    case GUMBO_TAG_B:
    case GUMBO_TAG_BDI:
    case GUMBO_TAG_BDO:
    case GUMBO_TAG_BIG:
    case GUMBO_TAG_CITE:
    case GUMBO_TAG_CODE:
    case GUMBO_TAG_DATA:
    case GUMBO_TAG_DEL:
    case GUMBO_TAG_DFN:
    case GUMBO_TAG_EM:
    case GUMBO_TAG_FONT:
    case GUMBO_TAG_I:
    case GUMBO_TAG_INS:
    case GUMBO_TAG_KBD:
    case GUMBO_TAG_LABEL:
    case GUMBO_TAG_MARK:
    case GUMBO_TAG_NOBR:
    case GUMBO_TAG_Q:
    case GUMBO_TAG_S:
    case GUMBO_TAG_SAMP:
    case GUMBO_TAG_SMALL:
    case GUMBO_TAG_SPAN:
    case GUMBO_TAG_STRIKE:
    case GUMBO_TAG_STRONG:
    case GUMBO_TAG_SUB:
    case GUMBO_TAG_SUP:
    case GUMBO_TAG_TIME:
    case GUMBO_TAG_TT:
    case GUMBO_TAG_U:
    case GUMBO_TAG_VAR:
        return 1;
    default:
        return 0;
    }
}

static int
is_invisible(GumboTag tag)
{
    switch (tag) {
    case GUMBO_TAG_HEAD:
    case GUMBO_TAG_SCRIPT:
    case GUMBO_TAG_STYLE:
    case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_TEMPLATE:
        return 1;
    default:
        return 0;
    }
}

/* One open element of the collector's walk. */
struct frame {
    const GumboNode *node;
    size_t next;
};

/* The text under 'top', whitespace collapsed, with a space at every block
 * boundary; with 'use_skip', leaving out what main_content_skip() drops.
 * Iterative with a heap stack, like the converter must be. Caller frees. */
static char *
collect_text(const GumboNode *top, int use_skip)
{
    struct frame *stack;
    size_t depth = 0, cap = 64, i, o;
    struct text t = {NULL, 0, 0};
    int space;

    stack = malloc(cap * sizeof *stack);
    ck_assert_ptr_nonnull(stack);
    text_put(&t, "", 0);
    stack[depth++] = (struct frame){top, 0};
    while (depth > 0) {
        struct frame *f = &stack[depth - 1];
        const GumboNode *kid;
        if (f->next == 0 && f->node->type == GUMBO_NODE_ELEMENT &&
            !is_inline(f->node->v.element.tag))
            text_put(&t, " ", 1);
        if (f->node->type != GUMBO_NODE_ELEMENT ||
            f->next >= f->node->v.element.children.length) {
            if (f->node->type == GUMBO_NODE_ELEMENT && !is_inline(f->node->v.element.tag))
                text_put(&t, " ", 1);
            depth--;
            continue;
        }
        kid = f->node->v.element.children.data[f->next++];
        switch (kid->type) {
        case GUMBO_NODE_TEXT:
        case GUMBO_NODE_WHITESPACE:
        case GUMBO_NODE_CDATA:
            text_put(&t, kid->v.text.text, strlen(kid->v.text.text));
            break;
        case GUMBO_NODE_ELEMENT:
            if (is_invisible(kid->v.element.tag))
                break;
            if (kid->v.element.tag == GUMBO_TAG_BR) {
                text_put(&t, " ", 1);
                break;
            }
            if (use_skip && main_content_skip(kid))
                break;
            if (depth == cap) {
                cap *= 2;
                stack = realloc(stack, cap * sizeof *stack);
                ck_assert_ptr_nonnull(stack);
            }
            stack[depth++] = (struct frame){kid, 0};
            break;
        default:
            break;
        }
    }
    free(stack);
    /* Collapse whitespace (and no-break spaces) to single spaces. */
    space = 1;
    for (i = 0, o = 0; i < t.len; i++) {
        unsigned char c = (unsigned char)t.data[i];
        int ws = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
        if (c == 0xC2 && i + 1 < t.len && (unsigned char)t.data[i + 1] == 0xA0) {
            ws = 1;
            i++;
        }
        if (ws) {
            if (!space)
                t.data[o++] = ' ';
            space = 1;
        } else {
            t.data[o++] = (char)c;
            space = 0;
        }
    }
    if (o > 0 && t.data[o - 1] == ' ')
        o--;
    t.data[o] = '\0';
    return t.data;
}

static char *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data;
    long size;

    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    ck_assert_int_ge(size, 0);
    rewind(f);
    data = malloc((size_t)size + 1);
    ck_assert_ptr_nonnull(data);
    ck_assert_uint_eq(fread(data, 1, (size_t)size, f), (size_t)size);
    data[size] = '\0';
    fclose(f);
    *len = (size_t)size;
    return data;
}

/* The first element with this tag, or with this id when 'id' is not NULL,
 * in document order. */
static const GumboNode *
find_element(const GumboNode *top, GumboTag tag, const char *id)
{
    const GumboNode **stack;
    size_t depth = 0, cap = 64, i;
    const GumboNode *found = NULL;

    stack = malloc(cap * sizeof *stack);
    ck_assert_ptr_nonnull(stack);
    stack[depth++] = top;
    while (depth > 0 && found == NULL) {
        const GumboNode *n = stack[--depth];
        const GumboVector *kids;
        if (n->type != GUMBO_NODE_ELEMENT)
            continue;
        if (id != NULL) {
            const GumboAttribute *a = gumbo_get_attribute(&n->v.element.attributes, "id");
            if (a != NULL && strcmp(a->value, id) == 0)
                found = n;
        } else if (n->v.element.tag == tag) {
            found = n;
        }
        kids = &n->v.element.children;
        for (i = kids->length; i-- > 0;) {
            if (depth == cap) {
                cap *= 2;
                stack = realloc(stack, cap * sizeof *stack);
                ck_assert_ptr_nonnull(stack);
            }
            stack[depth++] = kids->data[i];
        }
    }
    free(stack);
    return found;
}

static GumboOutput *
parse(const char *html)
{
    GumboOutput *out = gumbo_parse_with_options(&kGumboDefaultOptions, html, strlen(html));

    ck_assert_ptr_nonnull(out);
    return out;
}

static void
unparse(GumboOutput *out)
{
    gumbo_destroy_output(&kGumboDefaultOptions, out);
}

static const GumboNode *
by_id(GumboOutput *out, const char *id)
{
    const GumboNode *n = find_element(out->root, GUMBO_TAG_UNKNOWN, id);

    ck_assert_msg(n != NULL, "no element with id \"%s\"", id);
    return n;
}

static const GumboNode *
body_of(GumboOutput *out)
{
    const GumboNode *n = find_element(out->root, GUMBO_TAG_BODY, NULL);

    ck_assert_ptr_nonnull(n);
    return n;
}

/* Whether the main content of an HTML snippet contains 'sentence'. */
static int
main_text_has(const char *html, const char *sentence)
{
    GumboOutput *out = parse(html);
    char *text = collect_text(main_content_find(body_of(out)), 1);
    int has = strstr(text, sentence) != NULL;

    free(text);
    unparse(out);
    return has;
}

/* ---- Pure helpers ---- */

START_TEST(hint_words_read_class_names)
{
    ck_assert_uint_eq(main_content_hint_words("entry-content"), MAIN_CONTENT_HINT_POSITIVE);
    ck_assert_uint_eq(main_content_hint_words("articleBody"), MAIN_CONTENT_HINT_POSITIVE);
    ck_assert_uint_eq(main_content_hint_words("story"), MAIN_CONTENT_HINT_POSITIVE);
    ck_assert_uint_eq(main_content_hint_words("nav-menu"), MAIN_CONTENT_HINT_NEGATIVE);
    ck_assert_uint_eq(main_content_hint_words("mainNav"),
                      MAIN_CONTENT_HINT_POSITIVE | MAIN_CONTENT_HINT_NEGATIVE);
    ck_assert_uint_eq(main_content_hint_words("commentList"), MAIN_CONTENT_HINT_NEGATIVE);
    ck_assert_uint_eq(main_content_hint_words("ad300x250"), MAIN_CONTENT_HINT_NEGATIVE);
    ck_assert_uint_eq(main_content_hint_words("ADSlot"), MAIN_CONTENT_HINT_NEGATIVE);
    ck_assert_uint_eq(main_content_hint_words("cookie_banner"), MAIN_CONTENT_HINT_NEGATIVE);
    ck_assert_uint_eq(main_content_hint_words("wrapper  share-bar "),
                      MAIN_CONTENT_HINT_NEGATIVE);
    ck_assert_uint_eq(main_content_hint_words("site-header"), MAIN_CONTENT_HINT_HEADER);
    ck_assert_uint_eq(main_content_hint_words("masthead"), MAIN_CONTENT_HINT_HEADER);
}
END_TEST

START_TEST(hint_words_match_whole_words_only)
{
    /* "ad" is not in "address", "head" not in "headline", "nav" not in
     * "canvas", "tag" not in "vintage". */
    ck_assert_uint_eq(main_content_hint_words("address shadow badge download"), 0);
    ck_assert_uint_eq(main_content_hint_words("headline canvas vintage"), 0);
    ck_assert_uint_eq(main_content_hint_words("commentary"), 0);
    ck_assert_uint_eq(main_content_hint_words(""), 0);
    ck_assert_uint_eq(main_content_hint_words(NULL), 0);
    ck_assert_uint_eq(
        main_content_hint_words("x-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaad"), 0);
}
END_TEST

START_TEST(hint_words_modifiers_neutralize_their_token)
{
    ck_assert_uint_eq(main_content_hint_words("has-sidebar"), 0);
    ck_assert_uint_eq(main_content_hint_words("no-ads with-right-sidebar"), 0);
    ck_assert_uint_eq(main_content_hint_words("entry-content has-sidebar"),
                      MAIN_CONTENT_HINT_POSITIVE);
    /* Only within the token: the next class still counts. */
    ck_assert_uint_eq(main_content_hint_words("has-sidebar sidebar"),
                      MAIN_CONTENT_HINT_NEGATIVE);
    /* A negative word wins over a positive one in decisions, and both show. */
    ck_assert_uint_eq(main_content_hint_words("post-comments"),
                      MAIN_CONTENT_HINT_POSITIVE | MAIN_CONTENT_HINT_NEGATIVE);
}
END_TEST

START_TEST(text_length_counts_code_points_and_collapses_whitespace)
{
    size_t commas = 0;

    ck_assert_uint_eq(main_content_text_length("a  b\n\t c", 8, NULL), 5);
    ck_assert_uint_eq(main_content_text_length("h\xc3\xa9llo", 6, NULL), 5);
    /* Octal escapes: a hex escape would swallow the letter after it. */
    ck_assert_uint_eq(main_content_text_length("a\302\240\302\240b", 6, NULL), 3);
    ck_assert_uint_eq(main_content_text_length("", 0, &commas), 0);
    ck_assert_uint_eq(commas, 0);
    /* ',' U+FF0C U+3001 U+060C */
    ck_assert_uint_eq(
        main_content_text_length("a,b\357\274\214c\343\200\201d\330\214", 13, &commas), 8);
    ck_assert_uint_eq(commas, 4);
    /* Adds to what is there. */
    main_content_text_length("x, y", 4, &commas);
    ck_assert_uint_eq(commas, 5);
}
END_TEST

START_TEST(paragraph_score_rewards_length_and_commas_not_links)
{
    ck_assert(main_content_paragraph_score(24, 0, 3) == 0);
    ck_assert(main_content_paragraph_score(100, 0, 0) == 2.0);
    ck_assert(main_content_paragraph_score(100, 0, 2) == 4.0);
    /* Length counts up to 300 characters, commas up to ten. */
    ck_assert(main_content_paragraph_score(1000, 0, 0) == 4.0);
    ck_assert(main_content_paragraph_score(300, 0, 50) ==
              main_content_paragraph_score(300, 0, 10));
    /* Links discount, and a mostly-linked block is no paragraph. */
    ck_assert(main_content_paragraph_score(200, 50, 0) == 3.0 * 0.75);
    ck_assert(main_content_paragraph_score(200, 101, 5) == 0);
}
END_TEST

START_TEST(link_block_is_mostly_links_with_little_else)
{
    ck_assert(main_content_is_link_block(60, 50, 5));      /* a menu */
    ck_assert(main_content_is_link_block(20, 12, 1));      /* "Read more" */
    ck_assert(!main_content_is_link_block(120, 100, 1));   /* a long linked sentence */
    ck_assert(!main_content_is_link_block(400, 100, 5));   /* prose with links */
    ck_assert(!main_content_is_link_block(1000, 700, 30)); /* headlines with summaries */
    ck_assert(!main_content_is_link_block(0, 0, 3));       /* linked images */
    ck_assert(!main_content_is_link_block(50, 0, 0));
}
END_TEST

/* ---- Verdicts on snippets ---- */

#define PROSE                                                                                  \
    "<p>This paragraph is ordinary prose, written in sentences, with commas, and long enough " \
    "to count as a paragraph of an article by any measure.</p>"

START_TEST(skip_drops_navigation_asides_footers_and_forms)
{
    GumboOutput *out = parse(
        "<body><nav id=n><a href=/>Home</a></nav><aside id=a>" PROSE "</aside>"
        "<footer id=f>" PROSE "</footer><div role=navigation id=r>x</div>"
        "<form id=s><input name=q><button>Search</button></form>"
        "<blockquote><p>Quoted words.</p><footer id=cite>Someone Famous</footer></blockquote>"
        "<div id=p>" PROSE "</div><span id=inl>text</span>"
        "<div itemtype='https://schema.org/WPSideBar' id=wp>x</div></body>");

    ck_assert(main_content_skip(by_id(out, "n")));
    ck_assert(main_content_skip(by_id(out, "a")));
    ck_assert(main_content_skip(by_id(out, "f")));
    ck_assert(main_content_skip(by_id(out, "r")));
    ck_assert(main_content_skip(by_id(out, "s")));
    ck_assert(main_content_skip(by_id(out, "wp")));
    ck_assert(!main_content_skip(by_id(out, "cite")));
    ck_assert(!main_content_skip(by_id(out, "p")));
    ck_assert(!main_content_skip(by_id(out, "inl")));
    ck_assert(!main_content_skip(body_of(out)));
    ck_assert(!main_content_skip(NULL));
    unparse(out);
}
END_TEST

START_TEST(skip_judges_headers_on_their_content)
{
    GumboOutput *out = parse(
        "<body><header id=site><a href=/><img alt=logo></a><nav><a href=/a>A</a></nav></header>"
        "<header id=logo><h1><a href=/>Example News</a></h1></header>"
        "<article><header id=title><h1>The article's title</h1><p>By A. "
        "Writer</p></header>" PROSE
        "</article><div class=entry-header id=eh><h2>Title</h2></div></body>");

    ck_assert(main_content_skip(by_id(out, "site")));
    ck_assert(main_content_skip(by_id(out, "logo")));
    ck_assert(!main_content_skip(by_id(out, "title")));
    ck_assert(!main_content_skip(by_id(out, "eh")));
    unparse(out);
}
END_TEST

START_TEST(skip_drops_negative_classes_unless_they_hold_the_article)
{
    GumboOutput *out =
        parse("<body><div class=share-bar id=share>" PROSE "</div>"
              "<div class='layout sidebar-right' id=wrap><main>" PROSE "</main></div>"
              "<div class=comments id=comments><div class=comment-body>" PROSE PROSE PROSE PROSE
              "</div></div>"
              "<div class='col sidebar' id=side><article class=teaser><p>A short teaser.</p>"
              "</article></div>"
              "<div class=has-sidebar id=layout>x</div></body>");

    ck_assert(main_content_skip(by_id(out, "share")));
    ck_assert(!main_content_skip(by_id(out, "wrap")));
    ck_assert(main_content_skip(by_id(out, "comments")));
    ck_assert(main_content_skip(by_id(out, "side")));
    ck_assert(!main_content_skip(by_id(out, "layout")));
    unparse(out);
}
END_TEST

START_TEST(skip_drops_link_lists_widgets_and_ad_labels)
{
    GumboOutput *out = parse(
        "<body><ul id=menu><li><a href=/1>World</a><li><a href=/2>Politics</a>"
        "<li><a href=/3>Business</a></ul>"
        "<p id=more><a href=/next>Read more</a></p>"
        "<div id=title><h2><a href=/story>A linked headline of a story</a></h2></div>"
        "<div id=ad><span>Advertisement</span></div>"
        "<div id=widget><label>Email</label><input type=email></div>"
        "<div id=hidden-input><input type=hidden name=t>" PROSE "</div>"
        "<ul id=list><li>Flour, two cups, sifted</li><li>Butter, soft, one stick</li></ul>"
        "<div id=prose>" PROSE "<p>See <a href=/x>this page</a> for more.</p></div></body>");

    ck_assert(main_content_skip(by_id(out, "menu")));
    ck_assert(main_content_skip(by_id(out, "more")));
    ck_assert(!main_content_skip(by_id(out, "title")));
    ck_assert(main_content_skip(by_id(out, "ad")));
    ck_assert(main_content_skip(by_id(out, "widget")));
    ck_assert(!main_content_skip(by_id(out, "hidden-input")));
    ck_assert(!main_content_skip(by_id(out, "list")));
    ck_assert(!main_content_skip(by_id(out, "prose")));
    unparse(out);
}
END_TEST

START_TEST(skip_keeps_words_of_a_sentence_whatever_their_class)
{
    GumboOutput *out =
        parse("<body><p>You can <a class=btn href=/d id=btn>download the report</a>"
              " or <span class=tag id=tag>read it</span> online.</p>"
              "<div><a class=skip-link href=#main id=skip>Skip to content</a></div>"
              "</body>");

    ck_assert(!main_content_skip(by_id(out, "btn")));
    ck_assert(!main_content_skip(by_id(out, "tag")));
    ck_assert(main_content_skip(by_id(out, "skip")));
    unparse(out);
}
END_TEST

START_TEST(find_prefers_article_body_over_teasers_and_wrappers)
{
    GumboOutput *out = parse(
        "<body><div id=page class=content><div class=links><a href=/a>One</a> "
        "<a href=/b>Two</a></div>"
        "<div id=body>" PROSE PROSE PROSE "</div>"
        "<div id=cards><article><h3>Teaser one</h3><p>A teaser that is long enough, sadly, "
        "to be a paragraph.</p></article><article><h3>Teaser two</h3><p>Another teaser that is"
        " long enough, sadly, to count.</p></article></div></div></body>");

    ck_assert_ptr_eq(main_content_find(body_of(out)), by_id(out, "body"));
    unparse(out);
}
END_TEST

START_TEST(find_merges_an_article_split_across_siblings)
{
    GumboOutput *out = parse("<body><div id=col><div id=wrap><div>" PROSE PROSE "</div>"
                             "<div class=ad>Advertisement</div><div>" PROSE PROSE "</div>"
                             "<div>" PROSE "</div></div><div><a href=/x>Other</a></div></div>"
                             "</body>");

    ck_assert_ptr_eq(main_content_find(body_of(out)), by_id(out, "wrap"));
    unparse(out);
}
END_TEST

START_TEST(find_grows_into_the_enclosing_article_for_its_title)
{
    GumboOutput *out =
        parse("<body><div><article id=art><h1>Title</h1><div class=body>" PROSE PROSE PROSE
              "</div><footer>Tags</footer></article>"
              "<div class=comments>" PROSE PROSE PROSE PROSE "</div></div></body>");

    ck_assert_ptr_eq(main_content_find(body_of(out)), by_id(out, "art"));
    unparse(out);
}
END_TEST

START_TEST(find_returns_root_when_nothing_stands_out)
{
    GumboOutput *out = parse("");
    const GumboNode *body = body_of(out);

    ck_assert_ptr_eq(main_content_find(body), body);
    ck_assert_ptr_eq(main_content_find(out->root), out->root);
    unparse(out);
    out = parse("<html><body><nav><a href=/>Home</a></nav><p>Short.</p></body></html>");
    ck_assert_ptr_eq(main_content_find(body_of(out)), body_of(out));
    unparse(out);
    ck_assert_ptr_null(main_content_find(NULL));
}
END_TEST

START_TEST(find_keeps_prose_beside_an_unhinted_link_list_in_a_small_page)
{
    /* A small page whose wrapper is mostly links: the prose inside must
     * survive both the search and the skips. */
    ck_assert(main_text_has("<body><div><ul><li><a href=/1>Link number one</a><li><a href=/2>"
                            "Link number two</a><li><a href=/3>Link number three</a><li>"
                            "<a href=/4>Link number four</a></ul>" PROSE "</div></body>",
                            "written in sentences"));
}
END_TEST

/* ---- Deep and empty pages ---- */

#define DEEP_LEVELS 100000
#define DEEP_SENTENCE                                                                          \
    "The deepest paragraph, with commas, survives a walk through every level of the page."

/* A tree built by hand: html > body > (nav > a > text, div > div > ... >
 * p > text), DEEP_LEVELS divs deep. Parsing that with gumbo would take
 * minutes (its scope checks are quadratic in depth); the tree is the same. */
struct deep {
    GumboNode *nodes;
    void **kids; /* one or two child slots per node */
    GumboAttribute href;
    void *href_slot;
};

static void
deep_element(struct deep *d, size_t i, GumboTag tag, size_t parent, size_t index)
{
    GumboNode *n = &d->nodes[i];

    n->type = GUMBO_NODE_ELEMENT;
    n->parent = parent == SIZE_MAX ? NULL : &d->nodes[parent];
    n->index_within_parent = index;
    n->v.element.tag = tag;
    n->v.element.tag_namespace = GUMBO_NAMESPACE_HTML;
    n->v.element.children.data = &d->kids[2 * i];
    n->v.element.children.length = 0;
    n->v.element.children.capacity = 2;
    if (parent != SIZE_MAX) {
        GumboVector *pk = &d->nodes[parent].v.element.children;
        pk->data[pk->length++] = n;
    }
}

static void
deep_text(struct deep *d, size_t i, const char *text, size_t parent)
{
    GumboNode *n = &d->nodes[i];
    GumboVector *pk = &d->nodes[parent].v.element.children;

    n->type = GUMBO_NODE_TEXT;
    n->parent = &d->nodes[parent];
    n->index_within_parent = pk->length;
    n->v.text.text = text;
    pk->data[pk->length++] = n;
}

/* Returns the body. Node numbers: 0 html, 1 body, 2 nav, 3 a, 4 text,
 * 5 .. 5+DEEP_LEVELS-1 divs, then p, then its text. */
static const GumboNode *
deep_build(struct deep *d)
{
    size_t n = 5 + DEEP_LEVELS + 2, i, prev;

    d->nodes = calloc(n, sizeof *d->nodes);
    d->kids = calloc(2 * n, sizeof *d->kids);
    ck_assert_ptr_nonnull(d->nodes);
    ck_assert_ptr_nonnull(d->kids);
    deep_element(d, 0, GUMBO_TAG_HTML, SIZE_MAX, 0);
    deep_element(d, 1, GUMBO_TAG_BODY, 0, 0);
    deep_element(d, 2, GUMBO_TAG_NAV, 1, 0);
    deep_element(d, 3, GUMBO_TAG_A, 2, 0);
    d->href = (GumboAttribute){.name = "href", .value = "/"};
    d->href_slot = &d->href;
    d->nodes[3].v.element.attributes.data = &d->href_slot;
    d->nodes[3].v.element.attributes.length = 1;
    deep_text(d, 4, "Home, the navigation link that must not appear", 3);
    prev = 1;
    for (i = 5; i < 5 + DEEP_LEVELS; i++) {
        deep_element(d, i, GUMBO_TAG_DIV, prev, prev == 1 ? 1 : 0);
        prev = i;
    }
    deep_element(d, i, GUMBO_TAG_P, prev, 0);
    deep_text(d, i + 1, DEEP_SENTENCE, i);
    return &d->nodes[1];
}

START_TEST(deeply_nested_page_is_walked_without_recursion)
{
    struct deep d;
    const GumboNode *body = deep_build(&d), *found;
    char *text;

    found = main_content_find(body);
    ck_assert_ptr_nonnull(found);
    text = collect_text(found, 1);
    ck_assert_msg(strstr(text, DEEP_SENTENCE) != NULL, "deep sentence missing");
    ck_assert_msg(strstr(text, "navigation link") == NULL, "navigation kept");
    free(text);
    /* From <html> too. */
    found = main_content_find(&d.nodes[0]);
    text = collect_text(found, 1);
    ck_assert(strstr(text, DEEP_SENTENCE) != NULL);
    free(text);
    free(d.nodes);
    free(d.kids);
}
END_TEST

START_TEST(deeply_nested_parsed_page_keeps_its_text)
{
    /* The same through the real parser, as deep as gumbo parses quickly. */
    const size_t levels = 5000;
    size_t i, len = 0;
    char *html = malloc(levels * 11 + 512), *text;
    GumboOutput *out;

    ck_assert_ptr_nonnull(html);
    len += (size_t)sprintf(html, "<body><nav><a href=/>Home page link</a></nav>");
    for (i = 0; i < levels; i++)
        len += (size_t)sprintf(html + len, "<div>");
    len += (size_t)sprintf(html + len, "<p>%s</p>", DEEP_SENTENCE);
    for (i = 0; i < levels; i++)
        len += (size_t)sprintf(html + len, "</div>");
    out = parse(html);
    text = collect_text(main_content_find(body_of(out)), 1);
    ck_assert(strstr(text, DEEP_SENTENCE) != NULL);
    ck_assert(strstr(text, "Home page link") == NULL);
    free(text);
    unparse(out);
    free(html);
}
END_TEST

/* ---- Fixture pages ---- */

#define MAX_FIXTURES 64
static char *fixtures[MAX_FIXTURES];
static int n_fixtures;

static int
by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every NAME.expect in the fixture directory, sorted. */
static void
list_fixtures(void)
{
    DIR *dir = opendir(MAIN_CONTENT_FIXTURES);
    struct dirent *e;
    size_t len;

    if (dir == NULL)
        return;
    while ((e = readdir(dir)) != NULL && n_fixtures < MAX_FIXTURES) {
        len = strlen(e->d_name);
        if (len > 7 && strcmp(e->d_name + len - 7, ".expect") == 0)
            fixtures[n_fixtures++] = strndup(e->d_name, len - 7);
    }
    closedir(dir);
    qsort(fixtures, (size_t)n_fixtures, sizeof fixtures[0], by_name);
}

/* Collapses the whitespace of an expect line in place. */
static void
collapse(char *s)
{
    char *o = s;
    int space = 1;

    for (; *s; s++) {
        if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') {
            if (!space)
                *o++ = ' ';
            space = 1;
        } else {
            *o++ = *s;
            space = 0;
        }
    }
    if (o > s && o[-1] == ' ')
        o--;
    *o = '\0';
}

START_TEST(there_are_enough_fixtures)
{
    ck_assert_int_ge(n_fixtures, 10);
}
END_TEST

START_TEST(fixture_main_content_has_the_article_and_not_the_boilerplate)
{
    const char *name = fixtures[_i];
    char path[4096], *html, *expect, *line, *save = NULL, *main_text, *page_text, *html_text;
    size_t len, elen;
    GumboOutput *out;
    const GumboNode *body, *found;
    int plus = 0, minus = 0;

    snprintf(path, sizeof path, "%s/%s.html", MAIN_CONTENT_FIXTURES, name);
    html = read_file(path, &len);
    snprintf(path, sizeof path, "%s/%s.expect", MAIN_CONTENT_FIXTURES, name);
    expect = read_file(path, &elen);
    out = gumbo_parse_with_options(&kGumboDefaultOptions, html, len);
    body = body_of(out);
    found = main_content_find(body);
    main_text = collect_text(found, 1);
    page_text = collect_text(body, 0);
    /* Starting from <html> finds the same (the head holds no prose). */
    html_text = collect_text(main_content_find(out->root), 1);
    if (getenv("MAIN_CONTENT_DUMP") != NULL)
        printf("== %s (<%s>)\n%s\n\n", name, gumbo_normalized_tagname(found->v.element.tag),
               main_text);
    ck_assert_msg(strcmp(main_text, html_text) == 0, "%s: <html> and <body> disagree", name);
    /* The converter never asks about the element found, but the verdicts
     * must agree all the same. */
    ck_assert_msg(found == body || !main_content_skip(found), "%s: found element is skipped",
                  name);
    for (line = strtok_r(expect, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        if ((line[0] != '+' && line[0] != '-') || line[1] != ' ')
            continue;
        collapse(line + 2);
        /* A fixture checks nothing if its sentence is not on the page. */
        ck_assert_msg(strstr(page_text, line + 2) != NULL, "%s: not on the page: \"%s\"", name,
                      line + 2);
        if (line[0] == '+') {
            plus++;
            ck_assert_msg(strstr(main_text, line + 2) != NULL,
                          "%s: article text missing: \"%s\"", name, line + 2);
        } else {
            minus++;
            ck_assert_msg(strstr(main_text, line + 2) == NULL, "%s: boilerplate kept: \"%s\"",
                          name, line + 2);
        }
    }
    ck_assert_msg(plus >= 3 && minus >= 3, "%s: too few expectations (%d +, %d -)", name, plus,
                  minus);
    free(html_text);
    free(page_text);
    free(main_text);
    gumbo_destroy_output(&kGumboDefaultOptions, out);
    free(expect);
    free(html);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("main_content");
    TCase *helpers = tcase_create("helpers");
    TCase *verdicts = tcase_create("verdicts");
    TCase *pages = tcase_create("pages");
    SRunner *sr;
    int failed, i;

    list_fixtures();
    tcase_add_test(helpers, hint_words_read_class_names);
    tcase_add_test(helpers, hint_words_match_whole_words_only);
    tcase_add_test(helpers, hint_words_modifiers_neutralize_their_token);
    tcase_add_test(helpers, text_length_counts_code_points_and_collapses_whitespace);
    tcase_add_test(helpers, paragraph_score_rewards_length_and_commas_not_links);
    tcase_add_test(helpers, link_block_is_mostly_links_with_little_else);
    suite_add_tcase(s, helpers);
    tcase_add_test(verdicts, skip_drops_navigation_asides_footers_and_forms);
    tcase_add_test(verdicts, skip_judges_headers_on_their_content);
    tcase_add_test(verdicts, skip_drops_negative_classes_unless_they_hold_the_article);
    tcase_add_test(verdicts, skip_drops_link_lists_widgets_and_ad_labels);
    tcase_add_test(verdicts, skip_keeps_words_of_a_sentence_whatever_their_class);
    tcase_add_test(verdicts, find_prefers_article_body_over_teasers_and_wrappers);
    tcase_add_test(verdicts, find_merges_an_article_split_across_siblings);
    tcase_add_test(verdicts, find_grows_into_the_enclosing_article_for_its_title);
    tcase_add_test(verdicts, find_returns_root_when_nothing_stands_out);
    tcase_add_test(verdicts, find_keeps_prose_beside_an_unhinted_link_list_in_a_small_page);
    suite_add_tcase(s, verdicts);
    /* Deep pages are slow under valgrind; give them room. */
    tcase_set_timeout(pages, 300);
    tcase_add_test(pages, deeply_nested_page_is_walked_without_recursion);
    tcase_add_test(pages, deeply_nested_parsed_page_keeps_its_text);
    tcase_add_test(pages, there_are_enough_fixtures);
    tcase_add_loop_test(pages, fixture_main_content_has_the_article_and_not_the_boilerplate, 0,
                        n_fixtures);
    suite_add_tcase(s, pages);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    for (i = 0; i < n_fixtures; i++)
        free(fixtures[i]);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
