/* check_fetch.c — tests of the fetch engine's pure parts: the JavaScript
 * heuristic of engine=auto (fcgi-worker/fetch.c), Content-Type handling, the
 * options only a browser honours (options_browser_only in options.c), the
 * CSS selector subset (fcgi-worker/css_select.c) and the converter's
 * selector and format=html on a parsed document (convert_doc). No network:
 * fetch_page() itself is tested through the real stack in
 * tests/integration/test_extract_fetch.py. Run under valgrind. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "convert.h"
#include "css_select.h"
#include "fetch.h"
#include "html_parse.h"
#include "options.h"
#include "rc.h"

/* ---- helpers ------------------------------------------------------------ */

static struct fetch_page_facts
facts_of(const char *html)
{
    struct html_doc doc = { 0 };
    struct fetch_page_facts f;

    ck_assert_int_eq(html_parse(html, strlen(html), "utf-8", &doc), RC_OK);
    fetch_page_facts(doc.output->root, &f);
    html_doc_free(&doc);
    return f;
}

static int
needs_browser(const char *html)
{
    struct fetch_page_facts f = facts_of(html);
    char why[256];
    return fetch_needs_browser(&f, why, sizeof why);
}

/* The id attribute of the first element matching 'sel' in 'html', or "" if
 * it has none, or NULL when nothing matches. Static buffer. */
static const char *
select_id(const char *html, const char *sel)
{
    static char out[128];
    struct html_doc doc = { 0 };
    struct css_selector *s = NULL;
    const GumboNode *n;
    char why[128];
    const char *res = NULL;

    ck_assert_int_eq(html_parse(html, strlen(html), "utf-8", &doc), RC_OK);
    ck_assert_msg(css_select_compile(sel, &s, why, sizeof why) == RC_OK, "%s: %s", sel, why);
    if ((n = css_select_first(s, doc.output->root)) != NULL) {
        const GumboAttribute *a = gumbo_get_attribute(&n->v.element.attributes, "id");
        snprintf(out, sizeof out, "%s", a != NULL ? a->value : "");
        res = out;
    }
    css_select_free(s);
    html_doc_free(&doc);
    return res;
}

static int
compile_rc(const char *sel)
{
    struct css_selector *s = NULL;
    char why[128];
    int rc = css_select_compile(sel, &s, why, sizeof why);

    if (rc == RC_OK)
        ck_assert_ptr_nonnull(s);
    else
        ck_assert_msg(why[0] != '\0', "no reason for %s", sel);
    css_select_free(s);
    return rc;
}

static char *
convert_with(const char *html, const char *sel, enum convert_format fmt, int *rc)
{
    struct html_doc doc = { 0 };
    struct css_selector *s = NULL;
    struct convert_opts o = { 0 };
    struct buf out;
    char why[128];
    char *text;

    buf_init(&out, 1 << 20);
    ck_assert_int_eq(html_parse(html, strlen(html), "utf-8", &doc), RC_OK);
    if (sel != NULL)
        ck_assert_int_eq(css_select_compile(sel, &s, why, sizeof why), RC_OK);
    o.format = fmt;
    o.selector = s;
    o.base_url = "http://example.test/dir/page.html";
    *rc = convert_doc(&doc, &o, &out, NULL);
    text = strdup(out.data != NULL ? out.data : "");
    css_select_free(s);
    html_doc_free(&doc);
    buf_free(&out);
    return text;
}

static const char static_page[] =
    "<!DOCTYPE html><html><head><title>T</title><script>var a = 1;</script></head><body>"
    "<nav><a href=/>Home</a></nav><main><h1>Heading</h1>"
    "<p>A paragraph of real prose that is long enough to be read on its own, with commas, "
    "clauses and enough words that nobody would call this page empty.</p>"
    "<p>And a second one, so the page clearly has more than two hundred characters of "
    "text before any script could run.</p></main></body></html>";

/* ---- the heuristic ------------------------------------------------------ */

START_TEST(static_page_with_a_script_stays_on_fetch)
{
    struct fetch_page_facts f = facts_of(static_page);
    ck_assert_uint_eq(f.scripts, 1);
    ck_assert_uint_ge(f.text_chars, FETCH_JS_TEXT_MIN);
    ck_assert_int_eq(f.empty_app_roots, 0);
    ck_assert_int_eq(needs_browser(static_page), 0);
}
END_TEST

START_TEST(page_without_scripts_never_needs_a_browser)
{
    ck_assert_int_eq(needs_browser("<p>short</p>"), 0);
    ck_assert_int_eq(needs_browser(""), 0);
    ck_assert_int_eq(needs_browser("<div id=root></div>"), 0);
}
END_TEST

START_TEST(empty_app_root_with_a_script_needs_a_browser)
{
    ck_assert_int_eq(needs_browser("<body><div id=\"root\"></div>"
                                   "<script src=/app.js></script>"), 1);
    ck_assert_int_eq(needs_browser("<div id=__next> <script>x()</script></div>"
                                   "<script type=module src=m.js></script>"), 1);
    ck_assert_int_eq(needs_browser("<app-root></app-root><script src=main.js></script>"), 1);
    /* The root is empty, but the page has plenty of text elsewhere. */
    struct fetch_page_facts f = facts_of("<div id=app></div><script src=a.js></script>");
    ck_assert_uint_eq(f.empty_app_roots, 1);
}
END_TEST

START_TEST(filled_app_root_with_enough_text_stays_on_fetch)
{
    char html[4096];
    snprintf(html, sizeof html, "<div id=root>%s</div><script src=a.js></script>",
             static_page);
    ck_assert_int_eq(needs_browser(html), 0);
}
END_TEST

START_TEST(little_text_and_a_script_needs_a_browser)
{
    ck_assert_int_eq(needs_browser("<div id=app><p>Loading…</p></div>"
                                   "<script>load()</script>"), 1);
}
END_TEST

START_TEST(data_scripts_do_not_count)
{
    struct fetch_page_facts f =
        facts_of("<script type=application/ld+json>{}</script>"
                 "<script type=\"text/template\"><p>x</p></script><p>short</p>");
    ck_assert_uint_eq(f.scripts, 0);
    ck_assert_int_eq(needs_browser("<script type=application/json>{}</script><p>short</p>"), 0);
    f = facts_of("<script type=\"text/javascript; charset=utf-8\"></script>"
                 "<script type=module></script><script></script>");
    ck_assert_uint_eq(f.scripts, 3);
}
END_TEST

START_TEST(noscript_asking_for_javascript)
{
    const char *page = "<body><noscript>Please enable JavaScript to use this site."
                       "</noscript><p>A little text.</p>";
    struct fetch_page_facts f = facts_of(page);
    ck_assert_int_eq(f.noscript_asks_js, 1);
    /* The noscript's own text is not the page's text. */
    ck_assert_uint_lt(f.text_chars, 20);
    ck_assert_int_eq(needs_browser(page), 1);
    /* A noscript about comments on a long article does not count. */
    char html[8192];
    snprintf(html, sizeof html, "%s%s%s%s<noscript>Enable JavaScript to see the comments."
             "</noscript>", static_page, static_page, static_page, static_page);
    ck_assert_int_eq(needs_browser(html), 0);
}
END_TEST

START_TEST(hidden_text_is_not_counted)
{
    struct fetch_page_facts f =
        facts_of("<div hidden>aaaaaaaaaa</div><div aria-hidden=true>bbbbbbbbbb</div>"
                 "<style>p{}</style><template>cccc</template><p>dd ee</p>");
    ck_assert_uint_eq(f.text_chars, 5);
}
END_TEST

START_TEST(deep_page_is_walked_without_recursion)
{
    size_t depth = 3000, len = depth * 5 + 64;
    char *html = malloc(len), *p = html;
    ck_assert_ptr_nonnull(html);
    for (size_t i = 0; i < depth; i++)
        p += sprintf(p, "<div>");
    sprintf(p, "x<script>1</script>");
    struct fetch_page_facts f = facts_of(html);
    ck_assert_uint_eq(f.scripts, 1);
    ck_assert_uint_eq(f.text_chars, 1);
    free(html);
}
END_TEST

START_TEST(reason_names_the_rule)
{
    struct fetch_page_facts f = { .text_chars = 10, .scripts = 2 };
    char why[128];
    ck_assert_int_eq(fetch_needs_browser(&f, why, sizeof why), 1);
    ck_assert_str_eq(why, "10 characters of text and 2 scripts");
    f.text_chars = FETCH_JS_TEXT_MIN;
    ck_assert_int_eq(fetch_needs_browser(&f, why, sizeof why), 0);
    ck_assert_str_eq(why, "");
}
END_TEST

/* ---- content types ------------------------------------------------------ */

START_TEST(content_types)
{
    char cs[48];
    ck_assert_int_eq(fetch_content_type_is_html("text/html", cs, sizeof cs), 1);
    ck_assert_str_eq(cs, "");
    ck_assert_int_eq(fetch_content_type_is_html("Text/HTML; Charset=\"ISO-8859-1\"", cs,
                                                sizeof cs), 1);
    ck_assert_str_eq(cs, "iso-8859-1");
    ck_assert_int_eq(fetch_content_type_is_html("application/xhtml+xml;charset=utf-8", cs,
                                                sizeof cs), 1);
    ck_assert_str_eq(cs, "utf-8");
    ck_assert_int_eq(fetch_content_type_is_html(NULL, cs, sizeof cs), 1);
    ck_assert_int_eq(fetch_content_type_is_html("", cs, sizeof cs), 1);
    ck_assert_int_eq(fetch_content_type_is_html("text/plain; charset=utf-8", cs, sizeof cs), 0);
    ck_assert_int_eq(fetch_content_type_is_html("application/pdf", cs, sizeof cs), 0);
    ck_assert_int_eq(fetch_content_type_is_html("image/png", cs, sizeof cs), 0);
    ck_assert_int_eq(fetch_content_type_is_html("text/htmlx", cs, sizeof cs), 0);
}
END_TEST

/* ---- options only a browser honours -------------------------------------- */

static void
defaults(struct render_opts *o)
{
    memset(o, 0, sizeof *o);
    o->width = 1280;
    o->height = 720;
    o->javascript = 1;
    o->wait_until = WAIT_LOAD;
}

START_TEST(browser_only_options)
{
    struct render_opts o;

    defaults(&o);
    ck_assert_ptr_null(options_browser_only(&o));
    o.javascript = 0;       /* the fetch engine never runs scripts anyway */
    o.fail_on_status = 0;
    o.user_agent = "x";
    o.headers = "{}";
    o.main_content = 1;
    o.selector = "p";
    ck_assert_ptr_null(options_browser_only(&o));
    defaults(&o);
    o.wait_for = "#x";
    ck_assert_str_eq(options_browser_only(&o), "wait_for");
    defaults(&o);
    o.wait_for_expression = "1";
    ck_assert_str_eq(options_browser_only(&o), "wait_for_expression");
    defaults(&o);
    o.wait_ms = 5;
    ck_assert_str_eq(options_browser_only(&o), "wait_ms");
    defaults(&o);
    o.scroll_page = 1;
    ck_assert_str_eq(options_browser_only(&o), "scroll_page");
    defaults(&o);
    o.width = 800;
    ck_assert_str_eq(options_browser_only(&o), "width");
    defaults(&o);
    o.height = 800;
    ck_assert_str_eq(options_browser_only(&o), "height");
    defaults(&o);
    o.media = 2;
    ck_assert_str_eq(options_browser_only(&o), "media");
    defaults(&o);
    o.wait_until = WAIT_NETWORKIDLE;
    ck_assert_str_eq(options_browser_only(&o), "wait_until");
}
END_TEST

/* ---- CSS selectors ------------------------------------------------------ */

static const char sel_page[] =
    "<html><body>"
    "<div id=a class=\"card big\"><p id=p1 lang=en-GB>one</p><p id=p2 data-x=\"Hello World\">"
    "two</p><span id=s1></span></div>"
    "<section id=b><div id=c><p id=p3 class=Note>three</p></div><p id=p4>four</p></section>"
    "<ul id=l><li id=i1>1</li><li id=i2>2</li><li id=i3>3</li></ul>"
    "<my-widget id=w></my-widget><a id=md class=\"md:flex\" href=\"/x.pdf\">x</a>"
    "<template id=t><p id=inside>t</p></template>"
    "</body></html>";

START_TEST(selector_simple_forms)
{
    ck_assert_str_eq(select_id(sel_page, "p"), "p1");
    ck_assert_str_eq(select_id(sel_page, "#p3"), "p3");
    ck_assert_str_eq(select_id(sel_page, ".big"), "a");
    ck_assert_str_eq(select_id(sel_page, "div.card.big"), "a");
    ck_assert_ptr_null(select_id(sel_page, ".note"));        /* classes are case-sensitive */
    ck_assert_ptr_null(select_id(sel_page, "P#P2"));         /* so are ids */
    ck_assert_str_eq(select_id(sel_page, "SECTION"), "b");   /* tags are not */
    ck_assert_str_eq(select_id(sel_page, "*"), "");          /* <html> */
    ck_assert_str_eq(select_id(sel_page, "my-widget"), "w");
    ck_assert_str_eq(select_id(sel_page, ".md\\:flex"), "md");
    ck_assert_str_eq(select_id(sel_page, "#\\70 3"), "p3");  /* hex escape: "p3" */
}
END_TEST

START_TEST(selector_attributes)
{
    ck_assert_str_eq(select_id(sel_page, "[data-x]"), "p2");
    ck_assert_str_eq(select_id(sel_page, "[data-x=\"Hello World\"]"), "p2");
    ck_assert_ptr_null(select_id(sel_page, "[data-x='hello world']"));
    ck_assert_str_eq(select_id(sel_page, "[data-x='hello world' i]"), "p2");
    ck_assert_str_eq(select_id(sel_page, "[class~=big]"), "a");
    ck_assert_str_eq(select_id(sel_page, "[lang|=en]"), "p1");
    ck_assert_str_eq(select_id(sel_page, "a[href^='/x']"), "md");
    ck_assert_str_eq(select_id(sel_page, "a[href$=\".pdf\"]"), "md");
    ck_assert_str_eq(select_id(sel_page, "[data-x*=lo\\ W]"), "p2");
    ck_assert_ptr_null(select_id(sel_page, "[href^='']"));
}
END_TEST

START_TEST(selector_combinators_and_lists)
{
    ck_assert_str_eq(select_id(sel_page, "section p"), "p3");
    ck_assert_str_eq(select_id(sel_page, "section > p"), "p4");
    ck_assert_str_eq(select_id(sel_page, "section>p"), "p4");
    ck_assert_str_eq(select_id(sel_page, "#p1 + p"), "p2");
    ck_assert_str_eq(select_id(sel_page, "#p1 ~ span"), "s1");
    ck_assert_ptr_null(select_id(sel_page, "#p2 + #p1"));
    ck_assert_str_eq(select_id(sel_page, "body section div p"), "p3");
    ck_assert_ptr_null(select_id(sel_page, "body div div p"));
    ck_assert_str_eq(select_id(sel_page, "#nope, li"), "i1");
    ck_assert_str_eq(select_id(sel_page, "li:last-child"), "i3");
    ck_assert_str_eq(select_id(sel_page, "li:first-child + li"), "i2");
    ck_assert_str_eq(select_id(sel_page, "#c p:only-child"), "p3");
    ck_assert_str_eq(select_id(sel_page, ":root > body > ul"), "l");
    /* querySelector does not look into <template> contents. */
    ck_assert_ptr_null(select_id(sel_page, "#inside"));
    /* Document order, whatever the order of the list. */
    ck_assert_str_eq(select_id(sel_page, "#p4, #p3"), "p3");
}
END_TEST

START_TEST(selector_invalid_and_declined)
{
    ck_assert_int_eq(compile_rc("p["), RC_INVALID);
    ck_assert_int_eq(compile_rc(""), RC_INVALID);
    ck_assert_int_eq(compile_rc("p,"), RC_INVALID);
    ck_assert_int_eq(compile_rc(",p"), RC_INVALID);
    ck_assert_int_eq(compile_rc("p >"), RC_INVALID);
    ck_assert_int_eq(compile_rc("> p"), RC_INVALID);
    ck_assert_int_eq(compile_rc("1p"), RC_INVALID);
    ck_assert_int_eq(compile_rc("[a='x]"), RC_INVALID);
    ck_assert_int_eq(compile_rc("p!"), RC_INVALID);
    ck_assert_int_eq(compile_rc("a:hover"), RC_DECLINED);
    ck_assert_int_eq(compile_rc("li:nth-child(2)"), RC_DECLINED);
    ck_assert_int_eq(compile_rc("p::before"), RC_DECLINED);
    ck_assert_int_eq(compile_rc("svg|rect"), RC_DECLINED);
    ck_assert_int_eq(compile_rc("  div  p , a > b ~ c + d "), RC_OK);
}
END_TEST

START_TEST(selector_on_a_deep_page_is_bounded)
{
    size_t depth = 3000, len = depth * 5 + 16;
    char *html = malloc(len), *p = html;
    struct html_doc doc = { 0 };
    struct css_selector *s = NULL;
    char why[64];

    ck_assert_ptr_nonnull(html);
    for (size_t i = 0; i < depth; i++)
        p += sprintf(p, "<div>");
    strcpy(p, "x");
    ck_assert_int_eq(html_parse(html, strlen(html), "utf-8", &doc), RC_OK);
    ck_assert_int_eq(css_select_compile("p div div div div div div div", &s, why,
                                        sizeof why), RC_OK);
    ck_assert_ptr_null(css_select_first(s, doc.output->root));
    css_select_free(s);
    html_doc_free(&doc);
    free(html);
}
END_TEST

/* ---- the converter with a selector, and format=html ---------------------- */

START_TEST(convert_doc_selector_and_source)
{
    const char *page = "<!DOCTYPE html><title>T</title><div id=a><p>one <a href=x>link</a>"
                       "</p></div><section id=b><h2>Two</h2><p>two</section>";
    int rc;
    char *out = convert_with(page, "#a", CONVERT_MARKDOWN, &rc);
    ck_assert_int_eq(rc, RC_OK);
    ck_assert_str_eq(out, "one [link](http://example.test/dir/x)\n");
    free(out);
    out = convert_with(page, "#nope", CONVERT_TEXT, &rc);
    ck_assert_int_eq(rc, RC_NOT_FOUND);
    ck_assert_str_eq(out, "");
    free(out);
    out = convert_with(page, "#a", CONVERT_HTML, &rc);
    ck_assert_int_eq(rc, RC_OK);
    ck_assert_str_eq(out, "<div id=a><p>one <a href=x>link</a></p></div>");
    free(out);
    /* An element closed by the end of its parent ends there. */
    out = convert_with(page, "section p", CONVERT_HTML, &rc);
    ck_assert_int_eq(rc, RC_OK);
    ck_assert_str_eq(out, "<p>two");
    free(out);
    out = convert_with(page, NULL, CONVERT_HTML, &rc);
    ck_assert_int_eq(rc, RC_OK);
    ck_assert_str_eq(out, page);
    free(out);
}
END_TEST

static Suite *
fetch_suite(void)
{
    Suite *s = suite_create("fetch");
    TCase *t = tcase_create("heuristic");
    tcase_add_test(t, static_page_with_a_script_stays_on_fetch);
    tcase_add_test(t, page_without_scripts_never_needs_a_browser);
    tcase_add_test(t, empty_app_root_with_a_script_needs_a_browser);
    tcase_add_test(t, filled_app_root_with_enough_text_stays_on_fetch);
    tcase_add_test(t, little_text_and_a_script_needs_a_browser);
    tcase_add_test(t, data_scripts_do_not_count);
    tcase_add_test(t, noscript_asking_for_javascript);
    tcase_add_test(t, hidden_text_is_not_counted);
    tcase_add_test(t, deep_page_is_walked_without_recursion);
    tcase_add_test(t, reason_names_the_rule);
    suite_add_tcase(s, t);
    t = tcase_create("options");
    tcase_add_test(t, content_types);
    tcase_add_test(t, browser_only_options);
    suite_add_tcase(s, t);
    t = tcase_create("selector");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, selector_simple_forms);
    tcase_add_test(t, selector_attributes);
    tcase_add_test(t, selector_combinators_and_lists);
    tcase_add_test(t, selector_invalid_and_declined);
    tcase_add_test(t, selector_on_a_deep_page_is_bounded);
    tcase_add_test(t, convert_doc_selector_and_source);
    suite_add_tcase(s, t);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(fetch_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
