/* check_convert.c — tests of fcgi-worker/convert.c and its two helpers,
 * html_input.c (encodings) and urljoin.c (making links absolute).
 *
 * The corpus in tests/fixtures/convert/ (listed in its CASES file) is
 * compared byte for byte with the expected Markdown and text. To look at
 * what the converter writes instead, run with CONVERT_ACTUAL_DIR=/some/dir:
 * every case's output is written there (NAME.md, NAME.txt), pass or fail.
 * The fuzz cases feed random bytes, tag soup and truncated corpus pages;
 * CONVERT_FUZZ_SEED and CONVERT_FUZZ_ROUNDS change the seed and the count,
 * CONVERT_FUZZ_DUMP=FILE keeps each document in FILE before converting it.
 * Run under valgrind or the sanitizer build to check memory. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "convert.h"
#include "html_input.h"
#include "rc.h"
#include "urljoin.h"

#define MAX_CASES 64

struct corpus_case {
    char name[64];
    char base[256];
    char charset[32];
};

static struct corpus_case cases[MAX_CASES];
static int ncases;

static char *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t cap = 0, n = 0, r;

    if (f == NULL)
        return NULL;
    for (;;) {
        if (n + 65536 + 1 > cap) {
            cap = (n + 65536 + 1) * 2;
            data = realloc(data, cap);
            ck_assert_ptr_nonnull(data);
        }
        if ((r = fread(data + n, 1, 65536, f)) == 0)
            break;
        n += r;
    }
    fclose(f);
    data[n] = '\0';
    *len = n;
    return data;
}

static char *
fixture(const char *name, const char *ext, size_t *len)
{
    char path[512];

    snprintf(path, sizeof path, "%s/%s.%s", CONVERT_FIXTURES, name, ext);
    return read_file(path, len);
}

static void
load_cases(void)
{
    char path[512], line[512];
    FILE *f;

    snprintf(path, sizeof path, "%s/CASES", CONVERT_FIXTURES);
    if ((f = fopen(path, "r")) == NULL) {
        fprintf(stderr, "cannot open %s: %s\n", path, strerror(errno));
        exit(EXIT_FAILURE);
    }
    while (fgets(line, sizeof line, f) != NULL && ncases < MAX_CASES) {
        struct corpus_case *c = &cases[ncases];
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (sscanf(line, "%63s %255s %31s", c->name, c->base, c->charset) != 3)
            continue;
        ncases++;
    }
    fclose(f);
}

/* Convert with the common options; returns the result code. */
static int
convert(const char *html, size_t len, enum convert_format format, const char *base,
        const char *charset, struct buf *out, struct convert_meta *meta)
{
    struct convert_opts o = {0};

    o.format = format;
    o.base_url = base;
    o.charset = charset;
    return convert_html(html, len, &o, out, meta);
}

static int
utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < n) {
        size_t k = s[i] < 0x80             ? 0
                   : (s[i] & 0xE0) == 0xC0 ? 1
                   : (s[i] & 0xF0) == 0xE0 ? 2
                   : (s[i] & 0xF8) == 0xF0 ? 3
                                           : 9;
        if (k == 9 || i + k >= n + (k == 0))
            return k == 0;
        for (size_t j = 1; j <= k; j++)
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
        i += k + 1;
    }
    return 1;
}

/* Fail with the first line that differs. */
static void
assert_same(const char *what, const char *expected, size_t elen, const char *actual,
            size_t alen)
{
    size_t i = 0, line = 1, ls = 0;

    if (elen == alen && memcmp(expected, actual, elen) == 0)
        return;
    while (i < elen && i < alen && expected[i] == actual[i]) {
        if (expected[i] == '\n') {
            line++;
            ls = i + 1;
        }
        i++;
    }
    const char *ee = memchr(expected + ls, '\n', elen - ls);
    const char *ae = memchr(actual + ls, '\n', alen - ls);
    int el = (int)((ee ? (size_t)(ee - expected) : elen) - ls);
    int al = (int)((ae ? (size_t)(ae - actual) : alen) - ls);
    ck_abort_msg("%s differs at line %zu (byte %zu):\n  expected: %.*s\n  actual:   %.*s", what,
                 line, i, el > 200 ? 200 : el, expected + ls, al > 200 ? 200 : al, actual + ls);
}

static void
write_actual(const char *name, const char *ext, const struct buf *b)
{
    const char *dir = getenv("CONVERT_ACTUAL_DIR");
    char path[512];
    FILE *f;

    if (dir == NULL)
        return;
    snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext);
    if ((f = fopen(path, "wb")) != NULL) {
        fwrite(b->data != NULL ? b->data : "", 1, b->len, f);
        fclose(f);
    }
}

/* ---- The corpus ------------------------------------------------------- */

START_TEST(corpus_case_converts_to_expected_markdown_and_text)
{
    const struct corpus_case *c = &cases[_i];
    const char *base = strcmp(c->base, "-") == 0 ? NULL : c->base;
    const char *charset = strcmp(c->charset, "-") == 0 ? NULL : c->charset;
    size_t hlen, mlen, tlen;
    char *html = fixture(c->name, "html", &hlen);
    char *md = fixture(c->name, "md", &mlen);
    char *txt = fixture(c->name, "txt", &tlen);
    struct buf out, text;
    char what[128];

    ck_assert_msg(html != NULL, "%s.html is missing", c->name);
    buf_init(&out, 64 << 20);
    buf_init(&text, 64 << 20);
    ck_assert_int_eq(convert(html, hlen, CONVERT_MARKDOWN, base, charset, &out, NULL), RC_OK);
    ck_assert_int_eq(convert(html, hlen, CONVERT_TEXT, base, charset, &text, NULL), RC_OK);
    write_actual(c->name, "md", &out);
    write_actual(c->name, "txt", &text);
    ck_assert_msg(md != NULL, "%s.md is missing", c->name);
    ck_assert_msg(txt != NULL, "%s.txt is missing", c->name);
    snprintf(what, sizeof what, "%s.md", c->name);
    assert_same(what, md, mlen, out.data, out.len);
    snprintf(what, sizeof what, "%s.txt", c->name);
    assert_same(what, txt, tlen, text.data, text.len);
    buf_free(&text);
    buf_free(&out);
    free(html);
    free(md);
    free(txt);
}
END_TEST

/* ---- Metadata --------------------------------------------------------- */

START_TEST(meta_has_title_and_absolute_links_in_order_without_duplicates)
{
    static const char html[] =
        "<title>  The\n  title </title>"
        "<p><a href='/b'>b</a> <a href='a.html'>a</a> <a href='/b'>b again</a>"
        " <a href='#top'>fragment</a> <a href='javascript:void(0)'>js</a>"
        " <span hidden><a href='/hidden'>hidden</a></span>"
        " <code><a href='/in-code'>code</a></code> <a href='mailto:x@example.com'>mail</a>"
        " <a href='https://example.com/b'>b absolute</a></p>";
    struct convert_meta meta;
    struct buf out;

    buf_init(&out, 1 << 20);
    ck_assert_int_eq(convert(html, strlen(html), CONVERT_TEXT, "https://example.com/dir/x",
                             NULL, &out, &meta),
                     RC_OK);
    ck_assert_str_eq(meta.title, "The title");
    ck_assert_uint_eq(meta.nlinks, 4);
    ck_assert_str_eq(meta.links[0], "https://example.com/b");
    ck_assert_str_eq(meta.links[1], "https://example.com/dir/a.html");
    ck_assert_str_eq(meta.links[2], "https://example.com/in-code");
    ck_assert_str_eq(meta.links[3], "mailto:x@example.com");
    convert_meta_free(&meta);
    ck_assert_ptr_null(meta.title);
    ck_assert_uint_eq(meta.nlinks, 0);
    buf_free(&out);
}
END_TEST

START_TEST(meta_title_is_null_without_title_and_links_follow_base_element)
{
    static const char html[] = "<base href='https://other.example/sub/'><a href='x'>x</a>";
    struct convert_meta meta;
    struct buf out;

    buf_init(&out, 1 << 20);
    ck_assert_int_eq(convert(html, strlen(html), CONVERT_MARKDOWN, NULL, NULL, &out, &meta),
                     RC_OK);
    ck_assert_ptr_null(meta.title);
    ck_assert_uint_eq(meta.nlinks, 1);
    ck_assert_str_eq(meta.links[0], "https://other.example/sub/x");
    ck_assert_str_eq(out.data, "[x](https://other.example/sub/x)\n");
    convert_meta_free(&meta);
    buf_free(&out);
}
END_TEST

START_TEST(relative_links_stay_as_written_without_any_base)
{
    static const char html[] = "<a href='../up?q=a b'>up</a> <img src='i.png' alt='i'>";
    struct buf out;

    buf_init(&out, 1 << 20);
    ck_assert_int_eq(convert(html, strlen(html), CONVERT_MARKDOWN, NULL, NULL, &out, NULL),
                     RC_OK);
    ck_assert_str_eq(out.data, "[up](../up?q=a%20b) ![i](i.png)\n");
    buf_free(&out);
}
END_TEST

/* ---- Limits ----------------------------------------------------------- */

START_TEST(output_cap_returns_too_large_with_a_prefix_that_fits)
{
    static const char html[] = "<p>éééééééééé one</p><p>two</p>";
    struct convert_opts o = {.format = CONVERT_TEXT};
    struct buf full, out;
    size_t cap;

    buf_init(&full, 1 << 20);
    ck_assert_int_eq(convert_html(html, strlen(html), &o, &full, NULL), RC_OK);
    for (cap = 1; cap < full.len; cap++) {
        buf_init(&out, 1 << 20);
        o.max_output = cap;
        ck_assert_int_eq(convert_html(html, strlen(html), &o, &out, NULL), RC_TOO_LARGE);
        ck_assert_uint_le(out.len, cap);
        ck_assert_uint_ge(out.len + 1, cap); /* a cut é loses one byte at most */
        ck_assert(memcmp(out.data ? out.data : "", full.data, out.len) == 0);
        ck_assert(utf8_valid(out.data ? out.data : "", out.len));
        buf_free(&out);
    }
    o.max_output = full.len;
    buf_init(&out, 1 << 20);
    ck_assert_int_eq(convert_html(html, strlen(html), &o, &out, NULL), RC_OK);
    buf_free(&out);
    buf_free(&full);
}
END_TEST

START_TEST(output_appends_and_respects_the_buffers_own_cap)
{
    static const char html[] = "<p>hello world</p>";
    struct convert_opts o = {.format = CONVERT_TEXT, .max_output = 1000};
    struct buf out;

    buf_init(&out, 12);
    ck_assert_int_eq(buf_puts(&out, "pre:"), RC_OK);
    ck_assert_int_eq(convert_html(html, strlen(html), &o, &out, NULL), RC_TOO_LARGE);
    ck_assert_str_eq(out.data, "pre:hello wo");
    buf_free(&out);

    buf_init(&out, 100);
    ck_assert_int_eq(buf_puts(&out, "pre:"), RC_OK);
    ck_assert_int_eq(convert_html(html, strlen(html), &o, &out, NULL), RC_OK);
    ck_assert_str_eq(out.data, "pre:hello world\n");
    buf_free(&out);
}
END_TEST

START_TEST(empty_and_whitespace_documents_give_empty_output)
{
    static const char *const docs[] = {"", " \n\t ", "<html><body></body></html>",
                                       "<p> </p><div>&nbsp;</div><br><hr>",
                                       "<script>x</script>"};
    struct buf out;
    size_t i;

    for (i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        buf_init(&out, 1 << 20);
        ck_assert_int_eq(
            convert(docs[i], strlen(docs[i]), CONVERT_TEXT, NULL, NULL, &out, NULL), RC_OK);
        ck_assert_uint_eq(out.len, 0);
        buf_free(&out);
    }
}
END_TEST

START_TEST(pathological_nesting_finishes_within_the_parse_budget)
{
    /* Gumbo needs quadratic time for these; the converter gives up
     * (RC_TOO_LARGE) instead of spending minutes. */
    static const char *const units[] = {"<div>", "<b>", "<li><ul>", "<a><b>"};
    size_t n = 400000, i, k;
    struct buf out;

    for (i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t ul = strlen(units[i]);
        char *doc = malloc(n + 1);
        ck_assert_ptr_nonnull(doc);
        for (k = 0; k + ul <= n; k += ul)
            memcpy(doc + k, units[i], ul);
        buf_init(&out, 1 << 26);
        int rc = convert(doc, k, CONVERT_MARKDOWN, NULL, NULL, &out, NULL);
        ck_assert_msg(rc == RC_OK || rc == RC_TOO_LARGE, "%s: %d", units[i], rc);
        buf_free(&out);
        free(doc);
    }
}
END_TEST

START_TEST(moderate_nesting_converts_completely)
{
    size_t depth = 5000, k;
    char *doc = malloc(depth * 11 + 16), *p = doc;
    struct buf out;

    for (k = 0; k < depth; k++)
        p += sprintf(p, "<div>");
    p += sprintf(p, "bottom");
    for (k = 0; k < depth; k++)
        p += sprintf(p, "</div>");
    buf_init(&out, 1 << 20);
    ck_assert_int_eq(convert(doc, (size_t)(p - doc), CONVERT_TEXT, NULL, NULL, &out, NULL),
                     RC_OK);
    ck_assert_str_eq(out.data, "bottom\n");
    buf_free(&out);
    free(doc);
}
END_TEST

START_TEST(main_content_mode_converts_without_crashing)
{
    static const char html[] =
        "<html><body><nav><a href='/'>Home</a> <a href='/about'>About</a></nav>"
        "<article><h1>Title</h1><p>The first paragraph of the article has enough words, "
        "commas, "
        "and length to look like prose, which is what the scoring looks for.</p>"
        "<p>A second paragraph, also long enough, with more text and more commas, to make the "
        "article the obvious main content of this small page.</p></article>"
        "<footer>Copyright</footer></body></html>";
    struct convert_opts o = {.format = CONVERT_MARKDOWN, .main_content = 1};
    struct convert_meta meta;
    struct buf out;

    buf_init(&out, 1 << 20);
    ck_assert_int_eq(convert_html(html, strlen(html), &o, &out, &meta), RC_OK);
    ck_assert_ptr_nonnull(out.data);
    ck_assert_ptr_nonnull(strstr(out.data, "The first paragraph"));
    convert_meta_free(&meta);
    buf_free(&out);
}
END_TEST

START_TEST(parser_crash_is_contained_and_the_next_conversion_works)
{
    /* gumbo 0.10.1 aborts on these (found by the fuzz test below). */
    static const char *const crashers[] = {
        "<table><svg><select><title><select><caption>",
        "<math><svg><input><b><hr><a></table><tbody><frameset></"
        "p><html><table><frameset><svg><col>"
        "<template><select><foreignObject><select></p><iframe><tbody></title><br></template>"
        "<template><table><keygen><select><tr><select><noscript><iframe></caption></"
        "caption><xmp>"
        "<noscript><annotation-xml encoding=text/html><td><td><frameset><math><mi>",
    };
    struct convert_meta meta;
    struct buf out;
    size_t i;

    for (i = 0; i < sizeof crashers / sizeof crashers[0]; i++) {
        buf_init(&out, 1 << 20);
        ck_assert_int_eq(convert(crashers[i], strlen(crashers[i]), CONVERT_MARKDOWN, NULL, NULL,
                                 &out, &meta),
                         RC_INVALID);
        ck_assert_uint_eq(out.len, 0);
        ck_assert_ptr_null(meta.title);
        convert_meta_free(&meta);
        ck_assert_int_eq(convert("<p>fine</p>", 11, CONVERT_TEXT, NULL, NULL, &out, NULL),
                         RC_OK);
        ck_assert_str_eq(out.data, "fine\n");
        buf_free(&out);
    }
}
END_TEST

/* ---- Charsets --------------------------------------------------------- */

START_TEST(unknown_transport_charset_is_invalid)
{
    struct buf out;

    buf_init(&out, 1 << 20);
    ck_assert_int_eq(
        convert("<p>x</p>", 8, CONVERT_TEXT, NULL, "x-no-such-charset", &out, NULL),
        RC_INVALID);
    ck_assert_int_eq(convert("<p>x</p>", 8, CONVERT_TEXT, NULL, "utf-8//TRANSLIT", &out, NULL),
                     RC_INVALID);
    ck_assert_uint_eq(out.len, 0);
    buf_free(&out);
}
END_TEST

START_TEST(unknown_meta_charset_is_ignored)
{
    static const char html[] = "<meta charset='x-bogus'><p>caf\xc3\xa9</p>";
    struct buf out;

    buf_init(&out, 1 << 20);
    ck_assert_int_eq(convert(html, strlen(html), CONVERT_TEXT, NULL, NULL, &out, NULL), RC_OK);
    ck_assert_str_eq(out.data, "caf\xc3\xa9\n");
    buf_free(&out);
}
END_TEST

START_TEST(byte_order_mark_wins_over_transport_and_meta)
{
    static const char html[] = "\xef\xbb\xbf<meta charset='koi8-r'><p>caf\xc3\xa9</p>";
    struct buf out;

    buf_init(&out, 1 << 20);
    ck_assert_int_eq(
        convert(html, strlen(html), CONVERT_TEXT, NULL, "windows-1252", &out, NULL), RC_OK);
    ck_assert_str_eq(out.data, "caf\xc3\xa9\n");
    buf_free(&out);
}
END_TEST

START_TEST(meta_prescan_reads_charset_and_content_type_forms)
{
    char label[64];

    ck_assert_int_eq(
        html_input_meta_charset("<meta charset=\"ISO-8859-2\">", 27, label, sizeof label), 1);
    ck_assert_str_eq(label, "iso-8859-2");
    static const char ct[] =
        "<META HTTP-EQUIV='Content-Type' CONTENT='text/html; charset=EUC-JP'>";
    ck_assert_int_eq(html_input_meta_charset(ct, strlen(ct), label, sizeof label), 1);
    ck_assert_str_eq(label, "euc-jp");
    /* content= without http-equiv does not count. */
    static const char nopragma[] = "<meta content='text/html; charset=euc-jp'>";
    ck_assert_int_eq(html_input_meta_charset(nopragma, strlen(nopragma), label, sizeof label),
                     0);
    static const char comment[] = "<!-- <meta charset=koi8-r> --><meta charset=utf-8>";
    ck_assert_int_eq(html_input_meta_charset(comment, strlen(comment), label, sizeof label), 1);
    ck_assert_str_eq(label, "utf-8");
    static const char attr[] = "<p title='<meta charset=koi8-r>'><meta charset=gbk>";
    ck_assert_int_eq(html_input_meta_charset(attr, strlen(attr), label, sizeof label), 1);
    ck_assert_str_eq(label, "gbk");
    static const char utf16[] = "<meta charset=utf-16le>";
    ck_assert_int_eq(html_input_meta_charset(utf16, strlen(utf16), label, sizeof label), 1);
    ck_assert_str_eq(label, "utf-8");
    /* Only the first 1024 bytes are looked at. */
    char late[1200];
    memset(late, ' ', sizeof late);
    memcpy(late + 1100, "<meta charset=gbk>", 18);
    ck_assert_int_eq(html_input_meta_charset(late, sizeof late, label, sizeof label), 0);
}
END_TEST

START_TEST(decode_picks_encodings_like_a_browser)
{
    struct html_input in;

    ck_assert_int_eq(html_input_decode("plain ascii", 11, NULL, &in), RC_OK);
    ck_assert_str_eq(in.encoding, "UTF-8");
    ck_assert_ptr_null(in.owned); /* borrowed, not copied */
    html_input_free(&in);
    ck_assert_int_eq(html_input_decode("caf\xe9!", 5, NULL, &in), RC_OK);
    ck_assert_str_eq(in.encoding, "WINDOWS-1252");
    ck_assert_uint_eq(in.len, 6);
    ck_assert(memcmp(in.data, "caf\xc3\xa9!", 6) == 0);
    html_input_free(&in);
    /* A UTF-8 sequence cut by the end of the input is still UTF-8. */
    ck_assert_int_eq(html_input_decode("caf\xc3", 4, NULL, &in), RC_OK);
    ck_assert_str_eq(in.encoding, "UTF-8");
    html_input_free(&in);
    ck_assert_int_eq(html_input_decode("\x80", 1, "latin1", &in), RC_OK);
    ck_assert_str_eq(in.encoding, "WINDOWS-1252");
    ck_assert(memcmp(in.data, "\xe2\x82\xac", 3) == 0); /* € */
    html_input_free(&in);
    ck_assert_int_eq(html_input_decode("\xff\xfex\x00\x00\xd8", 6, NULL, &in), RC_OK);
    ck_assert_str_eq(in.encoding, "UTF-16LE");
    ck_assert_uint_eq(in.len, 4);
    ck_assert(memcmp(in.data, "x\xef\xbf\xbd", 4) == 0);
    html_input_free(&in);
    ck_assert_int_eq(html_input_decode("\x82\xa0", 2, "Shift_JIS", &in), RC_OK);
    ck_assert_str_eq(in.encoding, "CP932");
    ck_assert(memcmp(in.data, "\xe3\x81\x82", 3) == 0); /* あ */
    html_input_free(&in);
}
END_TEST

/* ---- URL resolution --------------------------------------------------- */

static const char *
join(const char *base, const char *ref, int *rc)
{
    static struct buf out;

    buf_free(&out);
    buf_init(&out, 4096);
    *rc = urljoin(base, ref, strlen(ref), &out);
    return out.data != NULL ? out.data : "";
}

START_TEST(urljoin_resolves_the_rfc_3986_examples)
{
    static const char *const t[][2] = {
        {"g:h", "g:h"},
        {"g", "http://a/b/c/g"},
        {"./g", "http://a/b/c/g"},
        {"g/", "http://a/b/c/g/"},
        {"/g", "http://a/g"},
        {"//g", "http://g/"},
        {"?y", "http://a/b/c/d;p?y"},
        {"g?y", "http://a/b/c/g?y"},
        {"#s", "http://a/b/c/d;p?q#s"},
        {"g#s", "http://a/b/c/g#s"},
        {"g?y#s", "http://a/b/c/g?y#s"},
        {";x", "http://a/b/c/;x"},
        {"g;x", "http://a/b/c/g;x"},
        {"g;x?y#s", "http://a/b/c/g;x?y#s"},
        {"", "http://a/b/c/d;p?q"},
        {".", "http://a/b/c/"},
        {"./", "http://a/b/c/"},
        {"..", "http://a/b/"},
        {"../", "http://a/b/"},
        {"../g", "http://a/b/g"},
        {"../..", "http://a/"},
        {"../../", "http://a/"},
        {"../../g", "http://a/g"},
        {"../../../g", "http://a/g"},
        {"../../../../g", "http://a/g"},
        {"/./g", "http://a/g"},
        {"/../g", "http://a/g"},
        {"g.", "http://a/b/c/g."},
        {".g", "http://a/b/c/.g"},
        {"g..", "http://a/b/c/g.."},
        {"..g", "http://a/b/c/..g"},
        {"./../g", "http://a/b/g"},
        {"./g/.", "http://a/b/c/g/"},
        {"g/./h", "http://a/b/c/g/h"},
        {"g/../h", "http://a/b/c/h"},
        {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
        {"g;x=1/../y", "http://a/b/c/y"},
        {"g?y/./x", "http://a/b/c/g?y/./x"},
        {"g?y/../x", "http://a/b/c/g?y/../x"},
        {"g#s/./x", "http://a/b/c/g#s/./x"},
        {"g#s/../x", "http://a/b/c/g#s/../x"},
    };
    size_t i;
    int rc;

    for (i = 0; i < sizeof t / sizeof t[0]; i++) {
        const char *got = join("http://a/b/c/d;p?q", t[i][0], &rc);
        ck_assert_msg(rc == RC_OK && strcmp(got, t[i][1]) == 0,
                      "'%s': got '%s' (%d), want '%s'", t[i][0], got, rc, t[i][1]);
    }
}
END_TEST

START_TEST(urljoin_cleans_like_a_browser)
{
    int rc;

    ck_assert_str_eq(join("https://h/d/", "  a b.html\n", &rc), "https://h/d/a%20b.html");
    ck_assert_str_eq(join("https://h/d/", "x\t\ny", &rc), "https://h/d/xy");
    ck_assert_str_eq(join("https://h/d/", "\\\\other\\p\\q?a\\b", &rc),
                     "https://other/p/q?a\\b");
    ck_assert_str_eq(join("https://h/d/", "%2e%2E/up", &rc), "https://h/up");
    ck_assert_str_eq(join("https://h/d/", "HTTPS://X.example/P", &rc), "https://X.example/P");
    ck_assert_str_eq(join("https://h", "?q", &rc), "https://h/?q");
    ck_assert_str_eq(join("https://h/d/", "\"<>", &rc), "https://h/d/%22%3C%3E");
    ck_assert_str_eq(join("https://h/d/", "caf\xc3\xa9", &rc), "https://h/d/caf\xc3\xa9");
    ck_assert_int_eq(rc, RC_OK);
    ck_assert_str_eq(join(NULL, "rel/x", &rc), "rel/x");
    ck_assert_int_eq(rc, RC_DECLINED);
    ck_assert_str_eq(join("mailto:a@b", "rel", &rc), "rel");
    ck_assert_int_eq(rc, RC_DECLINED);
    ck_assert_str_eq(join(NULL, "https://abs/x", &rc), "https://abs/x");
    ck_assert_int_eq(rc, RC_OK);
    ck_assert_uint_eq(urljoin_scheme_len("mailto:x", 8), 6);
    ck_assert_uint_eq(urljoin_scheme_len("a/b:c", 5), 0);
    ck_assert_uint_eq(urljoin_scheme_len("1x:y", 4), 0);
    join(NULL, "", &rc); /* frees the static buffer */
}
END_TEST

/* ---- Fuzz ------------------------------------------------------------- */

static uint64_t rng;

static uint64_t
next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static const char *const soup[] = {
    "<p>",
    "</p>",
    "<div>",
    "</div>",
    "<ul>",
    "<ol start=999999999999>",
    "<ol reversed>",
    "<li>",
    "<li value=-3>",
    "</li>",
    "</ul>",
    "<table>",
    "<tr>",
    "<td>",
    "<td colspan=1000>",
    "<td rowspan=0>",
    "<th>",
    "</td>",
    "</table>",
    "<caption>",
    "<thead>",
    "<tfoot>",
    "<pre>",
    "</pre>",
    "<code>",
    "</code>",
    "<a href='x y'>",
    "<a href='javascript:x'>",
    "<a href=#f>",
    "</a>",
    "<b>",
    "</b>",
    "<i>",
    "</i>",
    "<em>",
    "<del>",
    "<h1>",
    "<h6>",
    "</h1>",
    "<blockquote>",
    "</blockquote>",
    "<br>",
    "<hr>",
    "<img src=a.png alt='a]b'>",
    "<img>",
    "<script>",
    "</script>",
    "<style>",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "<svg>",
    "<math>",
    "<div hidden>",
    "<span style='display:none'>",
    "<base href='/b/'>",
    "<title>",
    "<meta charset=koi8-r>",
    "<select>",
    "<option>",
    "<dialog open>",
    "<template>",
    "<xmp>",
    "<plaintext>",
    "&amp;",
    "&#x1F600;",
    "&nbsp;",
    "&",
    "&#",
    "`",
    "``",
    "```",
    "*",
    "_",
    "[",
    "]",
    "\\",
    "|",
    "#",
    "- ",
    "1. ",
    "> ",
    "~~",
    "!",
    "<",
    ">",
    "text",
    " words and more words ",
    "\n",
    "\t",
    "  ",
    "\xc3\xa9",
    "\xc3",
    "\xa0",
    "\xc2\xa0",
    "\xc2\xad",
    "\xff",
    "\x00",
    "\xe2\x80\xae",
    "=",
};

static char *
fuzz_doc(size_t *len, char **corpus, size_t *corpus_len, int ncorpus)
{
    size_t cap = 4096, n = 0, i, count;
    char *d = malloc(cap);
    int kind = (int)(next_rand() % 3);

    if (kind == 0) {
        /* Random bytes, mostly markup-ish. */
        count = next_rand() % 2000;
        for (i = 0; i < count; i++) {
            static const char pick[] = "<>/=\"' &#;abcdefghijklmnopqrstuvwxyz\n`*_[]|";
            d[n++] = next_rand() % 4 == 0 ? (char)(next_rand() & 0xff)
                                          : pick[next_rand() % (sizeof pick - 1)];
            if (n + 1 >= cap)
                break;
        }
    } else if (kind == 1 || ncorpus == 0) {
        /* Tag soup. */
        count = next_rand() % 400;
        for (i = 0; i < count; i++) {
            const char *s = soup[next_rand() % (sizeof soup / sizeof soup[0])];
            size_t sl = s[0] == '\0' ? 1 : strlen(s); /* "\x00" is one NUL byte */
            if (n + sl + 1 >= cap)
                d = realloc(d, cap *= 2);
            memcpy(d + n, s, sl);
            n += sl;
        }
    } else {
        /* A corpus page cut at a random place. */
        int c = (int)(next_rand() % (uint64_t)ncorpus);
        size_t cut = corpus_len[c] ? next_rand() % corpus_len[c] : 0;
        free(d);
        d = malloc(cut + 1);
        memcpy(d, corpus[c], cut);
        n = cut;
    }
    *len = n;
    return d;
}

START_TEST(fuzz_random_and_truncated_html_never_crashes_and_output_is_bounded)
{
    char *corpus[MAX_CASES];
    size_t corpus_len[MAX_CASES], len;
    int i, rounds = getenv("CONVERT_FUZZ_ROUNDS") ? atoi(getenv("CONVERT_FUZZ_ROUNDS")) : 300;
    const char *seed = getenv("CONVERT_FUZZ_SEED");

    rng = seed != NULL ? strtoull(seed, NULL, 0) : 0x9E3779B97F4A7C15ULL;
    if (rng == 0)
        rng = 1;
    for (i = 0; i < ncases; i++)
        corpus[i] = fixture(cases[i].name, "html", &corpus_len[i]);
    for (i = 0; i < rounds; i++) {
        char *doc = fuzz_doc(&len, corpus, corpus_len, ncases);
        struct convert_opts o = {0};
        struct convert_meta meta;
        struct buf out;
        int rc;

        o.format = next_rand() % 2 ? CONVERT_MARKDOWN : CONVERT_TEXT;
        o.base_url = next_rand() % 2 ? "http://h/d/" : NULL;
        o.max_output = next_rand() % 4 == 0 ? next_rand() % 300 : 0;
        o.main_content = next_rand() % 8 == 0;
        if (getenv("CONVERT_FUZZ_DUMP") != NULL) {
            /* Keep the document about to be converted, to reproduce a crash. */
            FILE *f = fopen(getenv("CONVERT_FUZZ_DUMP"), "wb");
            if (f != NULL) {
                fwrite(doc, 1, len, f);
                fclose(f);
            }
        }
        buf_init(&out, 64 << 20);
        rc = convert_html(doc, len, &o, &out, &meta);
        /* RC_INVALID: gumbo crashed, and the crash was contained. */
        ck_assert_msg(rc == RC_OK || rc == RC_TOO_LARGE || rc == RC_INVALID, "round %d: rc %d",
                      i, rc);
        if (o.max_output)
            ck_assert_uint_le(out.len, o.max_output);
        /* Bounded by the input: markup can only expand so much (table
         * delimiter rows, list indents, escapes, resolved URLs). */
        ck_assert_msg(out.len <= 64 * len + 4096, "round %d: %zu bytes from %zu", i, out.len,
                      len);
        ck_assert_msg(utf8_valid(out.data ? out.data : "", out.len), "round %d: invalid UTF-8",
                      i);
        convert_meta_free(&meta);
        buf_free(&out);
        free(doc);
    }
    for (i = 0; i < ncases; i++)
        free(corpus[i]);
}
END_TEST

/* ---- Speed (reported, never failing) ---------------------------------- */

START_TEST(report_speed_on_article)
{
    size_t len, i, rounds = 20;
    char *html = fixture("article", "html", &len);
    struct timespec t0, t1;
    struct buf out;

    ck_assert_ptr_nonnull(html);
    buf_init(&out, 64 << 20);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    for (i = 0; i < rounds; i++) {
        buf_reset(&out);
        ck_assert_int_eq(convert(html, len, CONVERT_MARKDOWN, NULL, NULL, &out, NULL), RC_OK);
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("convert: article.html %zu bytes, %.1f MB/s (CPU time, markdown; "
           "tests/unit/bench_convert measures properly)\n",
           len, (double)len * (double)rounds / s / 1e6);
    buf_free(&out);
    free(html);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("convert");
    TCase *corpus = tcase_create("corpus");
    TCase *api = tcase_create("api");
    TCase *cs = tcase_create("charset");
    TCase *url = tcase_create("urljoin");
    TCase *fuzz = tcase_create("fuzz");

    load_cases();
    tcase_add_loop_test(corpus, corpus_case_converts_to_expected_markdown_and_text, 0, ncases);
    tcase_set_timeout(corpus, 60);
    tcase_add_test(api, meta_has_title_and_absolute_links_in_order_without_duplicates);
    tcase_add_test(api, meta_title_is_null_without_title_and_links_follow_base_element);
    tcase_add_test(api, relative_links_stay_as_written_without_any_base);
    tcase_add_test(api, output_cap_returns_too_large_with_a_prefix_that_fits);
    tcase_add_test(api, output_appends_and_respects_the_buffers_own_cap);
    tcase_add_test(api, empty_and_whitespace_documents_give_empty_output);
    tcase_add_test(api, pathological_nesting_finishes_within_the_parse_budget);
    tcase_add_test(api, moderate_nesting_converts_completely);
    tcase_add_test(api, main_content_mode_converts_without_crashing);
    tcase_add_test(api, parser_crash_is_contained_and_the_next_conversion_works);
    tcase_add_test(api, report_speed_on_article);
    tcase_set_timeout(api, 120);
    tcase_add_test(cs, unknown_transport_charset_is_invalid);
    tcase_add_test(cs, unknown_meta_charset_is_ignored);
    tcase_add_test(cs, byte_order_mark_wins_over_transport_and_meta);
    tcase_add_test(cs, meta_prescan_reads_charset_and_content_type_forms);
    tcase_add_test(cs, decode_picks_encodings_like_a_browser);
    tcase_add_test(url, urljoin_resolves_the_rfc_3986_examples);
    tcase_add_test(url, urljoin_cleans_like_a_browser);
    tcase_add_test(fuzz, fuzz_random_and_truncated_html_never_crashes_and_output_is_bounded);
    tcase_set_timeout(fuzz, 300);
    suite_add_tcase(s, corpus);
    suite_add_tcase(s, api);
    suite_add_tcase(s, cs);
    suite_add_tcase(s, url);
    suite_add_tcase(s, fuzz);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
