/* check_worker.c — tests of the worker's pure pieces: routing by last path
 * segment (request.c), option validation (options.c), error statuses
 * (respond.c) and base64 (base64.c). */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "body.h"
#include "pdf_pages.h"
#include "serve.h"
#include "options.h"
#include "rc.h"
#include "request.h"
#include "respond.h"

START_TEST(route_is_the_last_path_segment_under_any_mount)
{
    static const char *const cases[][2] = {
        { "/pdf", "pdf" },
        { "/render/pdf", "pdf" },
        { "/tenant-a/render/pdf", "pdf" },
        { "/render/pdf/", "pdf" },
        { "/health?x=1", "health" },
        { "/", "" },
        { "", "" },
    };
    char route[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        request_route_of(cases[i][0], route, sizeof route);
        ck_assert_str_eq(route, cases[i][1]);
    }
    request_route_of(NULL, route, sizeof route);
    ck_assert_str_eq(route, "");
}
END_TEST

START_TEST(error_codes_map_to_the_statuses_of_the_contract)
{
    ck_assert_int_eq(respond_status_of("missing_url"), 400);
    ck_assert_int_eq(respond_status_of("unknown_option"), 400);
    ck_assert_int_eq(respond_status_of("url_blocked"), 403);
    ck_assert_int_eq(respond_status_of("not_found"), 404);
    ck_assert_int_eq(respond_status_of("method_not_allowed"), 405);
    ck_assert_int_eq(respond_status_of("output_too_large"), 413);
    ck_assert_int_eq(respond_status_of("unsupported_media_type"), 415);
    ck_assert_int_eq(respond_status_of("selector_not_found"), 422);
    ck_assert_int_eq(respond_status_of("render_failed"), 502);
    ck_assert_int_eq(respond_status_of("overloaded"), 503);
    ck_assert_int_eq(respond_status_of("timeout"), 504);
    ck_assert_int_eq(respond_status_of("internal"), 500);
    ck_assert_int_eq(respond_status_of("no_such_code"), 500);
}
END_TEST

START_TEST(lengths_take_px_in_cm_mm_and_bare_numbers_as_px)
{
    double in;
    ck_assert_int_eq(options_length_in("96", &in), RC_OK);
    ck_assert(fabs(in - 1) < 1e-9);
    ck_assert_int_eq(options_length_in("48px", &in), RC_OK);
    ck_assert(fabs(in - 0.5) < 1e-9);
    ck_assert_int_eq(options_length_in("2.54cm", &in), RC_OK);
    ck_assert(fabs(in - 1) < 1e-9);
    ck_assert_int_eq(options_length_in("25.4mm", &in), RC_OK);
    ck_assert(fabs(in - 1) < 1e-9);
    ck_assert_int_eq(options_length_in("1.5in", &in), RC_OK);
    ck_assert(fabs(in - 1.5) < 1e-9);
    ck_assert_int_eq(options_length_in("1.5pt", &in), RC_INVALID);
    ck_assert_int_eq(options_length_in("", &in), RC_INVALID);
    ck_assert_int_eq(options_length_in("in", &in), RC_INVALID);
    ck_assert_int_eq(options_length_in("nan", &in), RC_INVALID);
}
END_TEST

/* A request with the given parameters, as request_parse would leave it. */
static struct request *
fake_request(const char *const *kv, size_t n)
{
    struct request *r = calloc(1, sizeof *r);
    r->params = calloc(n ? n : 1, sizeof *r->params);
    for (size_t i = 0; i < n; i++) {
        r->params[i].name = (char *)kv[2 * i];
        r->params[i].value = (char *)kv[2 * i + 1];
    }
    r->nparams = n;
    return r;
}

static void
fake_request_free(struct request *r)
{
    free(r->params);
    free(r);
}

static int
parse(const char *const *kv, size_t n, struct render_opts *o, const char **code, struct buf *msg)
{
    struct request *r = fake_request(kv, n);
    int rc;
    buf_reset(msg);
    rc = options_parse(r, ROUTE_PDF, 30000, o, code, msg);
    fake_request_free(r);
    return rc;
}

START_TEST(pdf_options_defaults_and_formats)
{
    static const char *const a4[] = { "url", "http://x/", "format", "a4", "landscape", "true",
                                      "margin", "1in", "margin_left", "2cm" };
    struct render_opts o;
    const char *code = NULL;
    struct buf msg;
    buf_init(&msg, 4096);
    ck_assert_int_eq(parse(a4, 1, &o, &code, &msg), RC_OK);
    ck_assert(fabs(o.paper_width_in - 8.5) < 1e-9);
    ck_assert_int_eq(o.timeout_ms, 30000);
    ck_assert_int_eq(o.fail_on_status, 1);
    ck_assert_int_eq(o.landscape, 0);
    ck_assert_int_eq(parse(a4, 5, &o, &code, &msg), RC_OK);
    ck_assert(fabs(o.paper_width_in - 8.2677) < 1e-3);
    ck_assert(fabs(o.paper_height_in - 11.6929) < 1e-3);
    ck_assert_int_eq(o.landscape, 1);
    ck_assert(fabs(o.margin_in[0] - 1) < 1e-9);
    ck_assert(fabs(o.margin_in[3] - 1 / 2.54 * 2) < 1e-9);
    buf_free(&msg);
}
END_TEST

START_TEST(invalid_values_name_the_option_and_what_it_takes)
{
    static const char *const bad[][4] = {
        { "format", "b7", "format", "letter, legal, tabloid, a3, a4 or a5" },
        { "landscape", "maybe", "landscape", "true, false, 1 or 0" },
        { "timeout", "-5", "timeout", "milliseconds" },
        { "timeout", "12.5", "timeout", "milliseconds" },
        { "scale", "3", "scale", "from 0.1 to 2" },
        { "margin", "1pt", "margin", "px, in, cm or mm" },
        { "wait_until", "never", "wait_until", "load, domcontentloaded or networkidle" },
        { "width", "0", "width", "integer" },
    };
    struct render_opts o;
    const char *code = NULL;
    struct buf msg;
    buf_init(&msg, 4096);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *kv[] = { "url", "http://x/", bad[i][0], bad[i][1] };
        ck_assert_int_eq(parse(kv, 2, &o, &code, &msg), RC_INVALID);
        ck_assert_str_eq(code, "invalid_option");
        ck_assert_msg(strstr(msg.data, bad[i][2]) && strstr(msg.data, bad[i][3]),
                      "message for %s=%s: %s", bad[i][0], bad[i][1], msg.data);
    }
    buf_free(&msg);
}
END_TEST

START_TEST(unknown_and_missing_options_are_refused)
{
    static const char *const unknown[] = { "url", "http://x/", "fromat", "a4" };
    static const char *const nourl[] = { "format", "a4" };
    static const char *const quality[] = { "url", "http://x/", "quality", "80" };
    struct render_opts o;
    const char *code = NULL;
    struct buf msg;
    buf_init(&msg, 4096);
    ck_assert_int_eq(parse(unknown, 2, &o, &code, &msg), RC_INVALID);
    ck_assert_str_eq(code, "unknown_option");
    ck_assert_ptr_nonnull(strstr(msg.data, "fromat"));
    ck_assert_int_eq(parse(nourl, 1, &o, &code, &msg), RC_INVALID);
    ck_assert_str_eq(code, "missing_url");
    /* A screenshot option is unknown to /pdf. */
    ck_assert_int_eq(parse(quality, 2, &o, &code, &msg), RC_INVALID);
    ck_assert_str_eq(code, "unknown_option");
    buf_free(&msg);
}
END_TEST

START_TEST(timeout_is_capped_by_the_configuration)
{
    static const char *const kv[] = { "url", "http://x/", "timeout", "90000" };
    struct render_opts o;
    const char *code = NULL;
    struct buf msg;
    buf_init(&msg, 4096);
    ck_assert_int_eq(parse(kv, 2, &o, &code, &msg), RC_OK);
    ck_assert_int_eq(o.timeout_ms, 30000);
    buf_free(&msg);
}
END_TEST

START_TEST(base64_decodes_and_rejects_garbage)
{
    unsigned char out[16];
    ck_assert_int_eq(base64_decode("JVBERi0=", 8, out), 5);
    ck_assert(memcmp(out, "%PDF-", 5) == 0);
    ck_assert_int_eq(base64_decode("aGk", 3, out), 2);
    ck_assert(memcmp(out, "hi", 2) == 0);
    ck_assert_int_eq(base64_decode("", 0, out), 0);
    ck_assert_int_eq(base64_decode("a*==", 4, out), -1);
    ck_assert_int_eq(base64_decode("a", 1, out), -1);
}
END_TEST


START_TEST(pdf_pages_counts_page_objects_across_chunk_seams)
{
    static const char pdf[] = "1 0 obj <</Type /Pages /Count 3>> 2 0 obj <</Type /Page>> "
                              "3 0 obj <</Type /Page\n/Parent 1 0 R>> /Type /Type /Page/x "
                              "/Type /Pages";
    size_t n = strlen(pdf);
    for (size_t cut = 1; cut < n; cut++) {
        struct pdf_pages st;
        pdf_pages_init(&st);
        pdf_pages_feed(&st, (const unsigned char *)pdf, cut);
        pdf_pages_feed(&st, (const unsigned char *)pdf + cut, n - cut);
        pdf_pages_feed(&st, (const unsigned char *)" ", 1);
        ck_assert_msg(st.pages == 3, "cut at %zu: %d pages", cut, st.pages);
    }
}
END_TEST

START_TEST(page_ranges_are_validated)
{
    static const char *const good[] = { "1", "1-3", "1-3,5", " 2 - 4 , 8-", "-5", "3-3" };
    static const char *const bad[] = { "0", "3-1", "a", "1,,2", "-", "1-2-3", "" };
    struct render_opts o;
    const char *code = NULL;
    struct buf msg;
    buf_init(&msg, 4096);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        const char *kv[] = { "url", "http://x/", "page_ranges", good[i] };
        ck_assert_msg(parse(kv, 2, &o, &code, &msg) == RC_OK, "%s: %s", good[i], msg.data);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *kv[] = { "url", "http://x/", "page_ranges", bad[i] };
        ck_assert_msg(parse(kv, 2, &o, &code, &msg) == RC_INVALID, "%s accepted", bad[i]);
        ck_assert_str_eq(code, "invalid_option");
    }
    buf_free(&msg);
}
END_TEST

START_TEST(headers_and_cookies_options_are_checked_json)
{
    char why[256];
    ck_assert_int_eq(options_check_headers("{\"X-A\":\"b\"}", why, sizeof why), RC_OK);
    ck_assert_int_eq(options_check_headers("{}", why, sizeof why), RC_OK);
    ck_assert_int_eq(options_check_headers("[1]", why, sizeof why), RC_INVALID);
    ck_assert_int_eq(options_check_headers("{\"X A\":\"b\"}", why, sizeof why), RC_INVALID);
    ck_assert_int_eq(options_check_headers("{\"X-A\":1}", why, sizeof why), RC_INVALID);
    ck_assert_int_eq(options_check_headers("{\"X-A\":\"a\\r\\nB: c\"}", why, sizeof why),
                     RC_INVALID);
    ck_assert_int_eq(options_check_cookies("[{\"name\":\"a\",\"value\":\"b\"}]", why,
                                           sizeof why), RC_OK);
    ck_assert_int_eq(options_check_cookies("[{\"name\":\"a\",\"value\":\"b\",\"domain\":"
                                           "\"x\",\"path\":\"/\"}]", why, sizeof why), RC_OK);
    ck_assert_int_eq(options_check_cookies("[{\"name\":\"a\"}]", why, sizeof why), RC_INVALID);
    ck_assert_int_eq(options_check_cookies("[{\"name\":\"a\",\"value\":\"b\",\"x\":\"y\"}]",
                                           why, sizeof why), RC_INVALID);
    ck_assert_ptr_nonnull(strstr(why, "'x'"));
    ck_assert_int_eq(options_check_cookies("{}", why, sizeof why), RC_INVALID);
}
END_TEST

START_TEST(posted_assets_resolve_below_the_document)
{
    ck_assert_str_eq(serve_relative_name("https://h/d/i.html", "https://h/d/x.png"), "x.png");
    ck_assert_str_eq(serve_relative_name("https://h/d/i.html", "https://h/d/img/x.png"),
                     "img/x.png");
    ck_assert_ptr_null(serve_relative_name("https://h/d/i.html", "https://h/e/x.png"));
    ck_assert_ptr_null(serve_relative_name("https://h/d/i.html", "https://h/d/"));
    ck_assert_ptr_null(serve_relative_name("https://h/d/i.html", "https://g/d/x.png"));
}
END_TEST

START_TEST(multipart_gives_page_assets_and_options)
{
    static const char body[] =
        "--B\r\nContent-Disposition: form-data; name=\"index.html\"; filename=\"index.html\"\r\n"
        "Content-Type: text/html\r\n\r\n<p>hi</p>\r\n"
        "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"img/a.png\"\r\n\r\n"
        "\x89PNG\x00\x01\r\n"
        "--B\r\nContent-Disposition: form-data; name=\"format\"\r\n\r\na4\r\n--B--\r\n";
    static const char evil[] =
        "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"../etc/passwd\"\r\n\r\n"
        "x\r\n--B--\r\n";
    static const char nopage[] =
        "--B\r\nContent-Disposition: form-data; name=\"format\"\r\n\r\na4\r\n--B--\r\n";
    struct request *r = calloc(1, sizeof *r);
    const char *code = NULL;
    struct buf msg;
    buf_init(&msg, 4096);
    ck_assert_int_eq(body_parse_multipart(r, "B", body, sizeof body - 1, &code, &msg), RC_OK);
    ck_assert_str_eq(r->page->html, "<p>hi</p>");
    ck_assert_uint_eq(r->page->nassets, 1);
    ck_assert_str_eq(r->page->assets[0].name, "img/a.png");
    ck_assert_str_eq(r->page->assets[0].content_type, "image/png");
    ck_assert_uint_eq(r->page->assets[0].len, 6);
    ck_assert_str_eq(request_param(r, "format"), "a4");
    request_free(r);
    memset(r, 0, sizeof *r);
    ck_assert_int_eq(body_parse_multipart(r, "B", evil, sizeof evil - 1, &code, &msg),
                     RC_INVALID);
    request_free(r);
    memset(r, 0, sizeof *r);
    ck_assert_int_eq(body_parse_multipart(r, "B", nopage, sizeof nopage - 1, &code, &msg),
                     RC_INVALID);
    ck_assert_ptr_nonnull(strstr(msg.data, "index.html"));
    request_free(r);
    memset(r, 0, sizeof *r);
    ck_assert_int_eq(body_parse_multipart(r, "B", "--B\r\ngarbage", 12, &code, &msg),
                     RC_INVALID);
    request_free(r);
    free(r);
    buf_free(&msg);
}
END_TEST

START_TEST(json_body_gives_options_at_top_level_and_under_options)
{
    static const char ok[] = "{\"url\":\"http://x/\",\"options\":{\"landscape\":true,"
                             "\"scale\":1.5,\"headers\":{\"A\":\"b\"}},\"format\":\"a4\"}";
    struct request *r = calloc(1, sizeof *r);
    const char *code = NULL;
    struct buf msg;
    buf_init(&msg, 4096);
    ck_assert_int_eq(body_parse_json(r, ok, sizeof ok - 1, &code, &msg), RC_OK);
    ck_assert_str_eq(request_param(r, "url"), "http://x/");
    ck_assert_str_eq(request_param(r, "landscape"), "true");
    ck_assert_str_eq(request_param(r, "scale"), "1.5");
    ck_assert_str_eq(request_param(r, "headers"), "{\"A\":\"b\"}");
    ck_assert_str_eq(request_param(r, "format"), "a4");
    request_free(r);
    memset(r, 0, sizeof *r);
    buf_reset(&msg);
    ck_assert_int_eq(body_parse_json(r, "{\"url\": tru}", 13, &code, &msg), RC_INVALID);
    ck_assert_str_eq(code, "invalid_json");
    ck_assert_ptr_nonnull(strstr(msg.data, "at byte"));
    request_free(r);
    memset(r, 0, sizeof *r);
    ck_assert_int_eq(body_parse_json(r, "[1]", 3, &code, &msg), RC_INVALID);
    ck_assert_str_eq(code, "invalid_json");
    request_free(r);
    free(r);
    buf_free(&msg);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("worker");
    TCase *tc = tcase_create("pure");
    tcase_add_test(tc, route_is_the_last_path_segment_under_any_mount);
    tcase_add_test(tc, error_codes_map_to_the_statuses_of_the_contract);
    tcase_add_test(tc, lengths_take_px_in_cm_mm_and_bare_numbers_as_px);
    tcase_add_test(tc, pdf_options_defaults_and_formats);
    tcase_add_test(tc, invalid_values_name_the_option_and_what_it_takes);
    tcase_add_test(tc, unknown_and_missing_options_are_refused);
    tcase_add_test(tc, timeout_is_capped_by_the_configuration);
    tcase_add_test(tc, base64_decodes_and_rejects_garbage);
    tcase_add_test(tc, pdf_pages_counts_page_objects_across_chunk_seams);
    tcase_add_test(tc, page_ranges_are_validated);
    tcase_add_test(tc, headers_and_cookies_options_are_checked_json);
    tcase_add_test(tc, posted_assets_resolve_below_the_document);
    tcase_add_test(tc, multipart_gives_page_assets_and_options);
    tcase_add_test(tc, json_body_gives_options_at_top_level_and_under_options);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
