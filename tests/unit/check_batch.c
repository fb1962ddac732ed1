/* check_batch.c — the pure parts of /batch (fcgi-worker/batch.c): parsing
 * and validating the body, naming an item's options in its messages, the
 * NDJSON line; and the capture mode of respond.c and the item sub-request of
 * request.c that batch.c runs handlers with. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "buf.h"
#include "rc.h"
#include "request.h"
#include "respond.h"

/* Parse 'json' with 'max' items; the code (or NULL) and message. */
static int
parse(const char *json, int max, struct batch *b, const char **code, struct buf *msg)
{
    *code = NULL;
    buf_reset(msg);
    return batch_parse(json, strlen(json), max, b, code, msg);
}

static const char *
param(struct batch_item *it, const char *name)
{
    return request_param(&it->req, name);
}

START_TEST(long_form_gives_items_with_url_and_options_as_strings)
{
    struct batch b;
    struct buf msg;
    const char *code;

    buf_init(&msg, 4096);
    ck_assert_int_eq(parse("{\"requests\": [{\"route\": \"pdf\", \"url\": \"http://a/\", "
                           "\"options\": {\"landscape\": true, \"scale\": 1.5, \"headers\": "
                           "{\"A\": \"b\"}, \"wait_for\": null}}, {\"route\": \"extract\", "
                           "\"url\": \"http://b/\"}]}", 100, &b, &code, &msg),
                     RC_OK);
    ck_assert_uint_eq(b.nitems, 2);
    ck_assert_str_eq(b.items[0].route, "pdf");
    ck_assert_str_eq(param(&b.items[0], "url"), "http://a/");
    ck_assert_str_eq(param(&b.items[0], "landscape"), "true");
    ck_assert_str_eq(param(&b.items[0], "scale"), "1.5");
    ck_assert_str_eq(param(&b.items[0], "headers"), "{\"A\":\"b\"}");
    ck_assert_ptr_null(param(&b.items[0], "wait_for"));
    ck_assert_ptr_null(b.items[0].error_code);
    ck_assert_str_eq(b.items[0].url_field, "requests[0].url");
    ck_assert_str_eq(b.items[0].options_field, "requests[0].options.");
    ck_assert_str_eq(b.items[1].route, "extract");
    ck_assert_str_eq(param(&b.items[1], "url"), "http://b/");
    ck_assert_uint_eq(b.items[1].req.nparams, 1);
    batch_free(&b);
    buf_free(&msg);
}
END_TEST

START_TEST(short_form_gives_each_url_the_shared_options)
{
    struct batch b;
    struct buf msg;
    const char *code;

    buf_init(&msg, 4096);
    ck_assert_int_eq(parse("{\"route\": \"screenshot\", \"urls\": [\"http://a/\", \"http://b/\"], "
                           "\"options\": {\"type\": \"jpeg\"}}", 100, &b, &code, &msg),
                     RC_OK);
    ck_assert_uint_eq(b.nitems, 2);
    for (size_t i = 0; i < 2; i++) {
        ck_assert_str_eq(b.items[i].route, "screenshot");
        ck_assert_str_eq(param(&b.items[i], "type"), "jpeg");
    }
    ck_assert_str_eq(param(&b.items[1], "url"), "http://b/");
    ck_assert_str_eq(b.items[1].url_field, "urls[1]");
    ck_assert_str_eq(b.items[1].options_field, "options.");
    batch_free(&b);
    buf_free(&msg);
}
END_TEST

START_TEST(whole_body_errors_name_the_field)
{
    static const struct {
        const char *json;
        const char *code, *mentions;
    } cases[] = {
        { "{\"requests\": [", "invalid_json", "malformed" },
        { "[1, 2]", "invalid_json", "object" },
        { "{}", "invalid_option", "requests" },
        { "{\"requests\": []}", "invalid_option", "'requests' is empty" },
        { "{\"requests\": {\"route\": \"pdf\"}}", "invalid_option", "'requests' must be a list" },
        { "{\"requests\": [{\"route\": \"pdf\"}, 7]}", "invalid_option", "'requests[1]'" },
        { "{\"requests\": [{\"route\": \"pdf\"}, {\"route\": \"print\"}]}", "invalid_option",
          "requests[1].route" },
        { "{\"requests\": [{\"url\": \"http://a/\"}]}", "invalid_option", "requests[0].route" },
        { "{\"requests\": [{\"route\": 3}]}", "invalid_option", "requests[0].route" },
        { "{\"requests\": [{\"route\": \"pdf\"}, {\"route\": \"pdf\"}, {\"route\": \"pdf\"}]}",
          "invalid_option", "batch_max_items of 2" },
        { "{\"route\": \"pdf\", \"urls\": [\"a\", \"b\", \"c\"]}", "invalid_option",
          "batch_max_items" },
        { "{\"route\": \"pdf\"}", "invalid_option", "'urls' is missing" },
        { "{\"urls\": [\"http://a/\"]}", "invalid_option", "'route' is missing" },
        { "{\"route\": \"pdf\", \"urls\": []}", "invalid_option", "'urls' is empty" },
        { "{\"route\": \"pdf\", \"urls\": [\"a\"], \"options\": 5}", "invalid_option",
          "'options'" },
        { "{\"requests\": [{\"route\": \"pdf\"}], \"parallel\": 4}", "unknown_option",
          "'parallel'" },
        { "{\"requests\": [{\"route\": \"pdf\"}], \"route\": \"pdf\"}", "invalid_option",
          "mixed" },
    };
    struct batch b;
    struct buf msg;
    const char *code;

    buf_init(&msg, 4096);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert_msg(parse(cases[i].json, 2, &b, &code, &msg) == RC_INVALID, "%s",
                      cases[i].json);
        ck_assert_msg(code != NULL && strcmp(code, cases[i].code) == 0, "%s: %s", cases[i].json,
                      code ? code : "(null)");
        ck_assert_msg(strstr(msg.data, cases[i].mentions) != NULL, "%s: %s", cases[i].json,
                      msg.data);
        ck_assert_ptr_null(b.items);
        ck_assert_uint_eq(b.nitems, 0);
    }
    buf_free(&msg);
}
END_TEST

START_TEST(a_bad_item_is_its_own_error_not_the_batch)
{
    struct batch b;
    struct buf msg;
    const char *code;

    buf_init(&msg, 4096);
    ck_assert_int_eq(parse("{\"requests\": [{\"route\": \"pdf\", \"url\": \"http://a/\", "
                           "\"colour\": 1}, {\"route\": \"pdf\", \"options\": [1]}, "
                           "{\"route\": \"pdf\", \"url\": \"http://c/\"}]}", 100, &b, &code,
                           &msg),
                     RC_OK);
    ck_assert_uint_eq(b.nitems, 3);
    ck_assert_str_eq(b.items[0].error_code, "unknown_option");
    ck_assert_ptr_nonnull(strstr(b.items[0].error_message, "requests[0].colour"));
    ck_assert_str_eq(b.items[1].error_code, "invalid_option");
    ck_assert_ptr_nonnull(strstr(b.items[1].error_message, "requests[1].options"));
    ck_assert_ptr_null(b.items[2].error_code);
    batch_free(&b);
    buf_free(&msg);
}
END_TEST

START_TEST(messages_name_options_by_their_place_in_the_body)
{
    struct batch_item it;
    struct buf out;

    memset(&it, 0, sizeof it);
    strcpy(it.url_field, "requests[3].url");
    strcpy(it.options_field, "requests[3].options.");
    buf_init(&out, 4096);
    batch_message("option 'scale' has the invalid value '9'; it takes a number", &it, &out);
    ck_assert_str_eq(out.data, "option 'requests[3].options.scale' has the invalid value '9'; "
                               "it takes a number");
    buf_reset(&out);
    batch_message("unknown option 'foo' for this route", &it, &out);
    ck_assert_str_eq(out.data, "unknown option 'requests[3].options.foo' for this route");
    buf_reset(&out);
    batch_message("option 'url' is not a valid http(s) URL: no host", &it, &out);
    ck_assert_str_eq(out.data, "option 'requests[3].url' is not a valid http(s) URL: no host");
    buf_reset(&out);
    batch_message("the target answered HTTP 404", &it, &out);
    ck_assert_str_eq(out.data, "the target answered HTTP 404");
    buf_reset(&out);
    batch_message("option '", &it, &out);
    ck_assert_str_eq(out.data, "option '");
    buf_free(&out);
}
END_TEST

START_TEST(lines_carry_text_as_body_and_binary_as_base64)
{
    struct batch_result res;
    struct buf line;

    buf_init(&line, 1 << 20);
    memset(&res, 0, sizeof res);
    res.index = 2;
    res.url = "http://a/\"q\"";
    res.request_id = "abc-2";
    res.status = 200;
    res.content_type = "text/plain; charset=utf-8";
    res.engine = "fetch";
    res.body = "line 1\nline \"2\"";
    res.len = strlen(res.body);
    ck_assert_int_eq(batch_line(&line, &res), RC_OK);
    ck_assert_str_eq(line.data,
                     "{\"index\":2,\"url\":\"http://a/\\\"q\\\"\",\"request_id\":\"abc-2\","
                     "\"status\":200,\"content_type\":\"text/plain; charset=utf-8\","
                     "\"engine\":\"fetch\",\"body\":\"line 1\\nline \\\"2\\\"\"}\n");

    buf_reset(&line);
    res.index = 0;
    res.url = NULL;
    res.request_id = NULL;
    res.engine = NULL;
    res.content_type = "image/png";
    res.body = "\x89PNG\0";
    res.len = 5;
    ck_assert_int_eq(batch_line(&line, &res), RC_OK);
    ck_assert_str_eq(line.data, "{\"index\":0,\"url\":null,\"status\":200,\"content_type\":"
                                "\"image/png\",\"body_base64\":\"iVBORwA=\"}\n");

    buf_reset(&line);
    res.content_type = "application/json";
    res.body = "{\"a\":1}";
    res.len = 7;
    ck_assert_int_eq(batch_line(&line, &res), RC_OK);
    ck_assert_ptr_nonnull(strstr(line.data, "\"body\":\"{\\\"a\\\":1}\""));
    buf_free(&line);
}
END_TEST

START_TEST(error_lines_have_code_message_and_the_item_status)
{
    struct batch_result res;
    struct buf line;

    buf_init(&line, 4096);
    memset(&res, 0, sizeof res);
    res.index = 7;
    res.url = "http://a/";
    res.request_id = "r-7";
    res.status = 502;
    res.error_code = "target_http_status";
    res.error_message = "the target answered HTTP 404";
    ck_assert_int_eq(batch_line(&line, &res), RC_OK);
    ck_assert_str_eq(line.data, "{\"index\":7,\"url\":\"http://a/\",\"request_id\":\"r-7\","
                                "\"status\":502,\"error\":{\"code\":\"target_http_status\","
                                "\"message\":\"the target answered HTTP 404\"}}\n");
    buf_free(&line);
}
END_TEST

START_TEST(a_line_over_the_cap_leaves_the_buffer_as_it_was)
{
    struct batch_result res;
    struct buf line;
    char big[300];

    memset(big, 'x', sizeof big);
    buf_init(&line, 256);
    buf_puts(&line, "kept\n");
    memset(&res, 0, sizeof res);
    res.status = 200;
    res.content_type = "application/pdf";
    res.body = big;
    res.len = sizeof big;
    ck_assert_int_eq(batch_line(&line, &res), RC_TOO_LARGE);
    ck_assert_str_eq(line.data, "kept\n");
    buf_free(&line);
}
END_TEST

START_TEST(a_captured_response_stays_in_memory)
{
    struct request batch, item;
    struct respond_capture cap;

    memset(&batch, 0, sizeof batch);
    memset(&item, 0, sizeof item);
    strcpy(batch.id, "b1");
    request_init_item(&item, &batch, 12, "pdf", &cap);
    ck_assert_str_eq(item.id, "b1-12");
    ck_assert_str_eq(item.method, "GET");
    ck_assert_str_eq(item.route, "pdf");

    respond_capture_init(&cap, 8);
    ck_assert_int_eq(respond_start(&item, 200, "application/pdf", "X-Render-Engine: fetch\r\n"),
                     RC_OK);
    ck_assert_int_eq(respond_start(&item, 200, "text/plain", NULL), RC_CLOSED);
    ck_assert_int_eq(respond_body(&item, "%PDF-", 5), RC_OK);
    ck_assert_int_eq(respond_flush(&item), RC_OK);
    ck_assert_str_eq(cap.body.data, "%PDF-");
    ck_assert_str_eq(cap.content_type, "application/pdf");
    ck_assert_str_eq(cap.extra_headers, "X-Render-Engine: fetch\r\n");
    ck_assert_int_eq(item.status, 200);
    /* Past the cap the handler is told the response is closed. */
    ck_assert_int_eq(respond_body(&item, "12345", 5), RC_CLOSED);
    ck_assert_int_eq(cap.too_large, 1);
    respond_capture_free(&cap);

    respond_capture_init(&cap, 1024);
    request_init_item(&item, &batch, 0, "pdf", &cap);
    ck_assert_int_eq(respond_error(&item, "timeout", "waited %d ms", 5), RC_OK);
    ck_assert_int_eq(item.headers_sent, 1);
    ck_assert_int_eq(item.status, 504);
    ck_assert_int_eq(item.failed, 1);
    ck_assert_str_eq(cap.error_code, "timeout");
    ck_assert_str_eq(cap.error_message, "waited 5 ms");
    ck_assert_uint_eq(cap.body.len, 0);
    respond_capture_free(&cap);
}
END_TEST

START_TEST(item_ids_keep_their_index_when_the_batch_id_is_long)
{
    struct request batch, item;
    struct respond_capture cap;

    memset(&batch, 0, sizeof batch);
    memset(&item, 0, sizeof item);
    memset(batch.id, 'a', 64);
    batch.id[64] = '\0';
    request_init_item(&item, &batch, 99, "extract", &cap);
    ck_assert_uint_eq(strlen(item.id), 64);
    ck_assert_str_eq(item.id + 61, "-99");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("batch");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, long_form_gives_items_with_url_and_options_as_strings);
    tcase_add_test(tc, short_form_gives_each_url_the_shared_options);
    tcase_add_test(tc, whole_body_errors_name_the_field);
    tcase_add_test(tc, a_bad_item_is_its_own_error_not_the_batch);
    tcase_add_test(tc, messages_name_options_by_their_place_in_the_body);
    tcase_add_test(tc, lines_carry_text_as_body_and_binary_as_base64);
    tcase_add_test(tc, error_lines_have_code_message_and_the_item_status);
    tcase_add_test(tc, a_line_over_the_cap_leaves_the_buffer_as_it_was);
    tcase_add_test(tc, a_captured_response_stays_in_memory);
    tcase_add_test(tc, item_ids_keep_their_index_when_the_batch_id_is_long);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
