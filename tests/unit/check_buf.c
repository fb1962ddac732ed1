/* check_buf.c — tests of common/buf.c: capped growth and JSON quoting. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "rc.h"

START_TEST(append_grows_until_cap_then_refuses_without_change)
{
    struct buf b;
    buf_init(&b, 10);
    ck_assert_int_eq(buf_puts(&b, "hello"), RC_OK);
    ck_assert_int_eq(buf_puts(&b, "world"), RC_OK);
    ck_assert_int_eq(buf_puts(&b, "!"), RC_TOO_LARGE);
    ck_assert_uint_eq(b.len, 10);
    ck_assert_str_eq(b.data, "helloworld");
    buf_free(&b);
}
END_TEST

START_TEST(json_string_escapes_quotes_controls_and_backslash)
{
    struct buf b;
    buf_init(&b, 1024);
    ck_assert_int_eq(buf_json_string(&b, "a\"b\\c\n\x01"), RC_OK);
    ck_assert_str_eq(b.data, "\"a\\\"b\\\\c\\n\\u0001\"");
    buf_free(&b);
}
END_TEST

START_TEST(json_string_over_cap_leaves_buffer_unchanged)
{
    struct buf b;
    buf_init(&b, 8);
    ck_assert_int_eq(buf_puts(&b, "ab"), RC_OK);
    ck_assert_int_eq(buf_json_string(&b, "0123456789"), RC_TOO_LARGE);
    ck_assert_str_eq(b.data, "ab");
    buf_free(&b);
}
END_TEST

START_TEST(consume_and_printf)
{
    struct buf b;
    buf_init(&b, 100);
    ck_assert_int_eq(buf_printf(&b, "%d-%s", 42, "x"), RC_OK);
    buf_consume(&b, 3);
    ck_assert_str_eq(b.data, "x");
    char *s = buf_steal(&b);
    ck_assert_str_eq(s, "x");
    free(s);
    ck_assert_ptr_null(b.data);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("buf");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, append_grows_until_cap_then_refuses_without_change);
    tcase_add_test(tc, json_string_escapes_quotes_controls_and_backslash);
    tcase_add_test(tc, json_string_over_cap_leaves_buffer_unchanged);
    tcase_add_test(tc, consume_and_printf);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
