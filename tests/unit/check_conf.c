/* check_conf.c — tests of common/conf.c: the rendercgi.conf parser.
 *
 * Each test writes a small config to a temporary file, loads it, and checks
 * either the values or the exact "FILE:LINE: KEY: message" lines. The
 * temporary path is replaced by "test.conf" in the error text so the
 * expectations read like what an operator sees. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "rc.h"

static char tmpdir[] = "/tmp/check_conf.XXXXXX";
static char path[256];
static struct buf errs;
static char errtext[8192];

static void
setup(void)
{
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(path, sizeof path, "%s/rendercgi.conf", tmpdir);
    buf_init(&errs, 1 << 16);
    errtext[0] = '\0';
}

static void
teardown(void)
{
    unlink(path);
    rmdir(tmpdir);
    buf_free(&errs);
    memcpy(tmpdir + strlen(tmpdir) - 6, "XXXXXX", 6);
}

/* Write 'text' to the temp file and load it; the error text, with the path
 * shortened to "test.conf", lands in errtext. */
static int
load(const char *text, struct conf *c)
{
    FILE *f = fopen(path, "w");
    const char *p;
    size_t n = 0;
    int rc;

    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    buf_reset(&errs);
    rc = conf_load(path, c, &errs);
    /* Shorten every occurrence of the path. */
    p = errs.data != NULL ? errs.data : "";
    while (*p != '\0' && n + 16 < sizeof errtext) {
        if (strncmp(p, path, strlen(path)) == 0) {
            n += (size_t)snprintf(errtext + n, sizeof errtext - n, "test.conf");
            p += strlen(path);
        } else {
            errtext[n++] = *p++;
        }
    }
    errtext[n] = '\0';
    return rc;
}

/* Load a config that must fail with exactly the error lines 'want'. */
static void
expect_errors(const char *text, const char *want)
{
    struct conf c;

    ck_assert_int_eq(load(text, &c), RC_INVALID);
    ck_assert_str_eq(errtext, want);
    /* A failed load leaves nothing behind. */
    ck_assert_ptr_null(c.pools);
    ck_assert_uint_eq(c.npools, 0);
    ck_assert_ptr_null(c.path);
}

/* Load a config that must fail with one error starting with 'prefix'. */
static void
expect_error_prefix(const char *text, const char *prefix)
{
    struct conf c;

    ck_assert_int_eq(load(text, &c), RC_INVALID);
    ck_assert_msg(strncmp(errtext, prefix, strlen(prefix)) == 0, "got: %s", errtext);
    ck_assert_msg(strchr(errtext, '\n') == errtext + strlen(errtext) - 1, "one line: %s",
                  errtext);
}

static void
expect_ok(const char *text, struct conf *c)
{
    int rc = load(text, c);
    ck_assert_msg(rc == RC_OK, "rc %d: %s", rc, errtext);
    ck_assert_str_eq(errtext, "");
}

/* ---- defaults and the table --------------------------------------------- */

START_TEST(defaults_are_the_documented_values)
{
    struct conf c;
    const struct conf_pool *p;

    ck_assert_int_eq(conf_defaults(&c), RC_OK);
    ck_assert_ptr_null(c.path);
    ck_assert_uint_eq(c.npools, 1);
    p = &c.pools[0];
    ck_assert_str_eq(p->name, "default");
    ck_assert_int_eq(p->line, 0);
    ck_assert_str_eq(p->listen, "127.0.0.1:9000");
    ck_assert_int_eq(p->listen_backlog, 511);
    ck_assert_int_eq(p->listen_mode, 0660);
    ck_assert_int_eq(p->workers, 2);
    ck_assert_int_eq(p->threads, 0);
    ck_assert_int_eq(p->max_requests, 0);
    ck_assert_str_eq(p->chromium, "/usr/lib/chromium/chromium");
    ck_assert_int_eq(p->browsers, 1);
    ck_assert_int_eq(p->pages_per_browser, 4);
    ck_assert_int_eq(p->queue_max, 16);
    ck_assert_int_eq(p->browser_max_pages, 500);
    ck_assert_int_eq(p->browser_max_memory, 1024LL * 1024 * 1024);
    ck_assert_int_eq(p->request_timeout, 30000);
    ck_assert_int_eq(p->max_body, 10LL * 1024 * 1024);
    ck_assert_str_eq(p->allow_networks, "");
    ck_assert_str_eq(p->deny_networks, "");
    ck_assert_str_eq(c.global.pid_file, "");
    ck_assert_str_eq(c.global.error_log, "");
    ck_assert_str_eq(c.global.log_level, "info");
    ck_assert_int_eq(c.global.shutdown_timeout, 30000);
    ck_assert_int_eq(c.global.daemonize, 1);
    ck_assert_str_eq(c.global.worker_binary, "");
    ck_assert_int_eq(c.global.emergency_restart_threshold, 0);
    ck_assert_int_eq(c.global.emergency_restart_interval, 0);
    ck_assert_str_eq(p->user, "");
    ck_assert_str_eq(p->group, "");
    ck_assert_str_eq(p->listen_owner, "");
    ck_assert_str_eq(p->listen_group, "");
    ck_assert_int_eq(p->max_memory, 0);
    ck_assert_int_eq(p->request_terminate_timeout, 0);
    ck_assert_int_eq(p->liveness_timeout, 30000);
    ck_assert_int_eq(p->ready_timeout, 60000);
    /* No file, no lines. */
    ck_assert_int_eq(conf_key_line(&c, p, "workers"), 0);
    ck_assert_int_eq(conf_key_line(&c, NULL, "pid_file"), 0);
    ck_assert_ptr_eq(conf_pool_find(&c, "default"), p);
    ck_assert_ptr_null(conf_pool_find(&c, "pdf"));
    conf_free(&c);
    ck_assert_ptr_null(c.pools);
    conf_free(NULL);
}
END_TEST

START_TEST(every_row_is_documented_unique_and_its_default_valid)
{
    size_t n;
    const struct conf_opt *o = conf_options(&n);
    struct conf c;

    ck_assert_uint_ge(n, 20);
    ck_assert_int_eq(conf_defaults(&c), RC_OK);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(o[i].doc != NULL && strlen(o[i].doc) > 10, "%s has no doc", o[i].name);
        ck_assert_ptr_nonnull(o[i].def);
        ck_assert_str_ne(conf_type_name(o[i].type), "?");
        ck_assert_ptr_eq(conf_option_find(o[i].name), &o[i]);
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(o[i].name, o[j].name);
        /* The default, read back through the parser, is accepted. */
        ck_assert_msg(conf_override(&c, o[i].name, o[i].def, "default", &errs) == RC_OK,
                      "%s: %s", o[i].name, errs.data);
        /* And it prints back as text that reads back to the same value
         * (numbers in canonical form: 16000000 bytes print as 15625K). */
        char v[256], again[256];
        conf_format_value(&c, &c.pools[0], &o[i], v, sizeof v);
        if (o[i].type != CONF_MSEC && o[i].type != CONF_INT && o[i].type != CONF_SIZE)
            ck_assert_str_eq(v, o[i].def);
        ck_assert_int_eq(conf_override(&c, o[i].name, v, "printed", &errs), RC_OK);
        conf_format_value(&c, &c.pools[0], &o[i], again, sizeof again);
        ck_assert_str_eq(again, v);
    }
    ck_assert_ptr_null(conf_option_find("nope"));
    conf_free(&c);
}
END_TEST

START_TEST(empty_file_gives_the_default_pool)
{
    struct conf c;

    expect_ok("", &c);
    ck_assert_str_eq(c.path, path);
    ck_assert_uint_eq(c.npools, 1);
    ck_assert_str_eq(c.pools[0].name, "default");
    ck_assert_int_eq(c.pools[0].workers, 2);
    conf_free(&c);
}
END_TEST

START_TEST(only_global_section_still_gives_the_default_pool)
{
    struct conf c;

    expect_ok("[global]\nlog_level = debug\n", &c);
    ck_assert_uint_eq(c.npools, 1);
    ck_assert_str_eq(c.pools[0].name, "default");
    ck_assert_str_eq(c.global.log_level, "debug");
    conf_free(&c);
}
END_TEST

START_TEST(keys_before_any_section_form_the_default_pool)
{
    struct conf c;

    expect_ok("workers = 5\nlisten = /run/rcgi.sock\n[global]\npid_file = /run/r.pid\n"
              "[pdf]\nlisten = 127.0.0.1:9001\n", &c);
    ck_assert_uint_eq(c.npools, 2);
    ck_assert_str_eq(c.pools[0].name, "default");
    ck_assert_int_eq(c.pools[0].line, 0);
    ck_assert_int_eq(c.pools[0].workers, 5);
    ck_assert_str_eq(c.pools[0].listen, "/run/rcgi.sock");
    ck_assert_str_eq(c.pools[1].name, "pdf");
    ck_assert_int_eq(c.pools[1].line, 5);
    ck_assert_int_eq(c.pools[1].workers, 2);
    ck_assert_str_eq(c.global.pid_file, "/run/r.pid");
    conf_free(&c);
}
END_TEST

START_TEST(multiple_pools_keep_their_own_values)
{
    struct conf c;
    const struct conf_pool *pdf, *ext;

    expect_ok("[pdf]\nlisten = /run/rcgi/pdf.sock\nworkers = 4\nbrowsers = 2\n"
              "\n[extract]\nlisten = 127.0.0.1:9002\nbrowsers = 0\npages_per_browser = 0\n"
              "[v6]\nlisten = [::1]:9003\n", &c);
    ck_assert_uint_eq(c.npools, 3);
    pdf = conf_pool_find(&c, "pdf");
    ext = conf_pool_find(&c, "extract");
    ck_assert_ptr_nonnull(pdf);
    ck_assert_ptr_nonnull(ext);
    ck_assert_int_eq(pdf->workers, 4);
    ck_assert_int_eq(pdf->browsers, 2);
    ck_assert_int_eq(pdf->line, 1);
    ck_assert_int_eq(ext->workers, 2);
    ck_assert_int_eq(ext->browsers, 0);
    ck_assert_int_eq(ext->pages_per_browser, 0);
    ck_assert_int_eq(ext->line, 6);
    ck_assert_str_eq(conf_pool_find(&c, "v6")->listen, "[::1]:9003");
    ck_assert_ptr_null(conf_pool_find(&c, "default"));
    conf_free(&c);
}
END_TEST

/* ---- comments and syntax ------------------------------------------------ */

START_TEST(comments_whole_line_and_trailing_are_ignored)
{
    struct conf c;

    expect_ok("; a comment\n# another\n   ; indented\n[global] ; trailing on a header\n"
              "log_level = warn ; trailing\n[p1] # pool\nworkers = 3 # three\n"
              "listen = /tmp/a#b;c.sock\nchromium = \"/opt/my chrome ;x\" ; quoted\n"
              "allow_networks = ; empty\n", &c);
    ck_assert_str_eq(c.global.log_level, "warn");
    ck_assert_int_eq(c.pools[0].workers, 3);
    /* ';' and '#' inside a word are part of it. */
    ck_assert_str_eq(c.pools[0].listen, "/tmp/a#b;c.sock");
    ck_assert_str_eq(c.pools[0].chromium, "/opt/my chrome ;x");
    ck_assert_str_eq(c.pools[0].allow_networks, "");
    conf_free(&c);
}
END_TEST

START_TEST(crlf_line_ends_blank_padding_and_a_bom_are_accepted)
{
    struct conf c;

    expect_ok("\xEF\xBB\xBFworkers=7\r\n  [ pdf ]  \r\n\tqueue_max\t=\t9\t\r\nlisten=/p.sock\r\n",
              &c);
    ck_assert_int_eq(c.pools[0].workers, 7);
    ck_assert_str_eq(c.pools[1].name, "pdf");
    ck_assert_int_eq(c.pools[1].queue_max, 9);
    conf_free(&c);
}
END_TEST

/* ---- every type --------------------------------------------------------- */

START_TEST(msec_takes_bare_ms_and_s)
{
    struct conf c;

    expect_ok("request_timeout = 2s\n[global]\nshutdown_timeout = 250ms\n", &c);
    ck_assert_int_eq(c.pools[0].request_timeout, 2000);
    ck_assert_int_eq(c.global.shutdown_timeout, 250);
    conf_free(&c);
    expect_ok("request_timeout = 1500\n[global]\nshutdown_timeout = 0\n", &c);
    ck_assert_int_eq(c.pools[0].request_timeout, 1500);
    ck_assert_int_eq(c.global.shutdown_timeout, 0);
    conf_free(&c);
}
END_TEST

START_TEST(size_takes_bytes_k_m_g)
{
    struct conf c;

    expect_ok("max_body = 64K\nbrowser_max_memory = 2G\n[b]\nlisten=/x.sock\nmax_body = 1000\n"
              "browser_max_memory = 512m\n", &c);
    ck_assert_int_eq(c.pools[0].max_body, 64 * 1024);
    ck_assert_int_eq(c.pools[0].browser_max_memory, 2LL << 30);
    ck_assert_int_eq(c.pools[1].max_body, 1000);
    ck_assert_int_eq(c.pools[1].browser_max_memory, 512LL << 20);
    conf_free(&c);
}
END_TEST

START_TEST(bool_mode_enum_and_int)
{
    struct conf c;

    expect_ok("[global]\ndaemonize = off\nlog_level = error\n[p]\nlisten_mode = 0600\n"
              "max_requests = 1000\nthreads = 8\n", &c);
    ck_assert_int_eq(c.global.daemonize, 0);
    ck_assert_str_eq(c.global.log_level, "error");
    ck_assert_int_eq(c.pools[0].listen_mode, 0600);
    ck_assert_int_eq(c.pools[0].max_requests, 1000);
    ck_assert_int_eq(c.pools[0].threads, 8);
    conf_free(&c);
    const char *yes[] = { "yes", "true", "On", "1" };
    for (size_t i = 0; i < 4; i++) {
        char text[64];
        snprintf(text, sizeof text, "[global]\ndaemonize = %s\n", yes[i]);
        expect_ok(text, &c);
        ck_assert_int_eq(c.global.daemonize, 1);
        conf_free(&c);
    }
}
END_TEST

START_TEST(strings_paths_cidr_lists_and_listen_forms)
{
    struct conf c;

    expect_ok("[a]\nlisten = unix:/run/a.sock\nchromium = /opt/chrome/chrome\n"
              "allow_networks = 10.0.0.0/8, 192.168.1.0/24 ,::1/128\n"
              "deny_networks = 203.0.113.7\n"
              "[b]\nlisten = *:9100\n[c]\nlisten = localhost:9101\n[d]\nlisten = [::]:9102\n"
              "[global]\nworker_binary = /usr/local/bin/rendercgi-worker\n"
              "error_log = /var/log/rendercgi.log\n", &c);
    ck_assert_str_eq(c.pools[0].listen, "unix:/run/a.sock");
    ck_assert_str_eq(c.pools[0].chromium, "/opt/chrome/chrome");
    ck_assert_str_eq(c.pools[0].allow_networks, "10.0.0.0/8, 192.168.1.0/24 ,::1/128");
    ck_assert_str_eq(c.pools[0].deny_networks, "203.0.113.7");
    ck_assert_str_eq(c.global.worker_binary, "/usr/local/bin/rendercgi-worker");
    ck_assert_str_eq(c.global.error_log, "/var/log/rendercgi.log");
    conf_free(&c);
}
END_TEST

START_TEST(listen_parse_fills_the_socket_address)
{
    struct sockaddr_storage ss;
    socklen_t len;
    char err[256];

    ck_assert_int_eq(conf_listen_parse("/run/x.sock", &ss, &len, err, sizeof err), RC_OK);
    ck_assert_int_eq(ss.ss_family, AF_UNIX);
    ck_assert_int_eq(conf_listen_parse("127.0.0.1:9000", &ss, &len, err, sizeof err), RC_OK);
    ck_assert_int_eq(ss.ss_family, AF_INET);
    ck_assert_int_eq(len, sizeof(struct sockaddr_in));
    ck_assert_int_eq(conf_listen_parse("[::1]:9000", &ss, &len, err, sizeof err), RC_OK);
    ck_assert_int_eq(ss.ss_family, AF_INET6);
    ck_assert_int_eq(conf_listen_parse("127.0.0.1:0", &ss, &len, err, sizeof err), RC_INVALID);
    ck_assert_int_eq(conf_listen_parse("[::1]9000", &ss, &len, err, sizeof err), RC_INVALID);
    ck_assert_int_eq(conf_listen_parse("[zz]:9000", &ss, &len, err, sizeof err), RC_INVALID);
    ck_assert_str_eq(err, "'zz' is not an IPv6 address");
    ck_assert_int_eq(conf_listen_parse("", &ss, &len, err, sizeof err), RC_INVALID);
}
END_TEST

/* ---- every kind of error ------------------------------------------------ */

START_TEST(unknown_key_suggests_the_closest)
{
    expect_errors("worker = 3\n",
                  "test.conf:1: worker: unknown key (did you mean 'workers'?)\n");
    expect_errors("[p]\nlisten.mode = 0600\n",
                  "test.conf:2: listen.mode: unknown key (did you mean 'listen_mode'?)\n");
    expect_errors("pm.max_children = 5\n",
                  "test.conf:1: pm.max_children: unknown key (did you mean 'workers'?)\n");
    expect_errors("frobnicate = 1\n", "test.conf:1: frobnicate: unknown key\n");
}
END_TEST

START_TEST(bad_values_name_the_key_and_the_problem)
{
    expect_errors("workers = many\n", "test.conf:1: workers: 'many' is not a whole number\n");
    expect_errors("workers = 3x\n", "test.conf:1: workers: '3x' is not a whole number\n");
    expect_errors("workers =\n", "test.conf:1: workers: empty value\n");
    expect_errors("request_timeout = 5m\n",
                  "test.conf:1: request_timeout: '5m' is not a duration (milliseconds, or a "
                  "number with ms or s)\n");
    expect_errors("max_body = 10T\n",
                  "test.conf:1: max_body: '10T' is not a size (bytes, or a number with K, M or "
                  "G)\n");
    expect_errors("[global]\ndaemonize = maybe\n",
                  "test.conf:2: daemonize: 'maybe' is not a boolean (yes|no, true|false, on|off, "
                  "1|0)\n");
    expect_errors("[global]\nlog_level = loud\n",
                  "test.conf:2: log_level: 'loud' is not one of error|warn|info|debug\n");
    expect_errors("listen_mode = 0999\n",
                  "test.conf:1: listen_mode: '0999' is not an octal file mode such as 0660\n");
    expect_errors("chromium = chromium\n",
                  "test.conf:1: chromium: 'chromium' is not an absolute path\n");
    expect_errors("chromium = \"/usr/bin/x\n",
                  "test.conf:1: chromium: unterminated quoted value\n");
    expect_errors("chromium = \"/usr/bin/x\" junk\n",
                  "test.conf:1: chromium: unexpected text after the closing quote: 'junk'\n");
}
END_TEST

START_TEST(out_of_range_values_give_the_range_in_the_key_unit)
{
    expect_errors("request_timeout = 50\n",
                  "test.conf:1: request_timeout: 50 is out of range: must be between 100 and "
                  "600000 ms\n");
    expect_errors("request_timeout = 601s\n",
                  "test.conf:1: request_timeout: 601s is out of range: must be between 100 and "
                  "600000 ms\n");
    expect_errors("workers = 0\n",
                  "test.conf:1: workers: 0 is out of range: must be between 1 and 1024\n");
    expect_errors("queue_max = -1\n",
                  "test.conf:1: queue_max: -1 is out of range: must be between 0 and 100000\n");
    expect_errors("max_body = 2G\n",
                  "test.conf:1: max_body: 2G is out of range: must be between 0 and 1G bytes\n");
    expect_errors("workers = 99999999999999999999\n",
                  "test.conf:1: workers: 99999999999999999999 is out of range: must be between "
                  "1 and 1024\n");
    expect_errors("browser_max_memory = 9223372036854775807G\n",
                  "test.conf:1: browser_max_memory: 9223372036854775807G is out of range: must "
                  "be between 0 and 1024G bytes\n");
}
END_TEST

START_TEST(bad_cidr_list_is_reported)
{
    expect_error_prefix("allow_networks = 10.0.0.0/8, 10.0.0.0/33\n",
                        "test.conf:1: allow_networks: bad network list: ");
    expect_error_prefix("[p]\ndeny_networks = not-an-address\n",
                        "test.conf:2: deny_networks: bad network list: ");
}
END_TEST

START_TEST(bad_listen_addresses_are_explained)
{
    expect_errors("listen = 9000\n",
                  "test.conf:1: listen: '9000' has no host: write 127.0.0.1:9000 (or *:9000 for "
                  "every address)\n");
    expect_errors("listen = run/x.sock\n",
                  "test.conf:1: listen: 'run/x.sock': a unix socket path must be absolute\n");
    expect_errors("listen = ::1:9000\n",
                  "test.conf:1: listen: '::1:9000': write an IPv6 address as [addr]:port\n");
    expect_errors("listen = example.com:80\n",
                  "test.conf:1: listen: 'example.com' is not an IPv4 address (host names are not "
                  "resolved)\n");
    expect_errors("listen = 127.0.0.1:70000\n",
                  "test.conf:1: listen: '127.0.0.1:70000': port must be a number from 1 to "
                  "65535\n");
    expect_error_prefix("listen = /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n",
                        "test.conf:1: listen: unix socket path is longer than 107 bytes");
}
END_TEST

START_TEST(duplicate_key_in_a_section)
{
    expect_errors("workers = 1\nworkers = 2\n",
                  "test.conf:2: workers: duplicate key (first set at line 1)\n");
    expect_errors("[global]\nlog_level = info\n[p]\n[global]\nlog_level = debug\n",
                  "test.conf:4: [global]: duplicate section (first at line 1)\n"
                  "test.conf:5: log_level: duplicate key (first set at line 2)\n");
}
END_TEST

START_TEST(the_same_key_in_two_pools_is_not_a_duplicate)
{
    struct conf c;

    expect_ok("[a]\nworkers = 1\nlisten=/a.sock\n[b]\nworkers = 3\nlisten=/b.sock\n", &c);
    ck_assert_int_eq(c.pools[0].workers, 1);
    ck_assert_int_eq(c.pools[1].workers, 3);
    conf_free(&c);
}
END_TEST

START_TEST(duplicate_pool)
{
    expect_errors("[a]\nlisten = /a.sock\n[a]\nworkers = x\n",
                  "test.conf:3: a: duplicate pool (first defined at line 1)\n"
                  "test.conf:4: workers: 'x' is not a whole number\n");
    expect_errors("workers = 3\n[default]\n",
                  "test.conf:2: default: duplicate pool: the keys before the first section "
                  "already form the pool 'default'\n");
}
END_TEST

START_TEST(two_pools_on_one_address)
{
    expect_errors("[a]\nlisten = 127.0.0.1:9100\n[b]\nworkers = 1\nlisten = 127.0.0.1:9100\n",
                  "test.conf:5: listen: pool 'b' would listen on 127.0.0.1:9100, which pool 'a' "
                  "already uses; every pool needs its own address\n");
    expect_errors("[a]\nlisten = *:9100\n[b]\nlisten = 127.0.0.1:9100\n",
                  "test.conf:4: listen: pool 'b' would listen on 127.0.0.1:9100, which pool 'a' "
                  "already uses; every pool needs its own address\n");
    expect_errors("[a]\nlisten = /run/x.sock\n[b]\nlisten = unix:/run/x.sock\n",
                  "test.conf:4: listen: pool 'b' would listen on unix:/run/x.sock, which pool "
                  "'a' already uses; every pool needs its own address\n");
    /* Neither sets listen: the error points at the second section header. */
    expect_errors("[a]\n[b]\n",
                  "test.conf:2: listen: pool 'b' would listen on 127.0.0.1:9000, which pool 'a' "
                  "already uses; every pool needs its own address\n");
}
END_TEST

START_TEST(different_ports_or_families_do_not_clash)
{
    struct conf c;

    expect_ok("[a]\nlisten = 127.0.0.1:9100\n[b]\nlisten = 127.0.0.1:9101\n"
              "[c]\nlisten = [::1]:9100\n[d]\nlisten = 127.0.0.2:9100\n", &c);
    conf_free(&c);
}
END_TEST

START_TEST(malformed_lines_and_section_headers)
{
    expect_errors("workers 3\n",
                  "test.conf:1: workers 3: expected 'key = value', '[section]' or a comment\n");
    expect_errors("= 3\n", "test.conf:1: =: missing key before '='\n");
    expect_errors("[pdf\nworkers = 2\n",
                  "test.conf:1: [pdf: unterminated section header (missing ']')\n");
    expect_errors("[pdf] extra\n", "test.conf:1: pdf: unexpected text after ']': 'extra'\n");
    expect_errors("[my pool]\n",
                  "test.conf:1: my pool: a pool name is 1 to 64 letters, digits, '_', '.' or "
                  "'-'\n");
    expect_errors("[]\n",
                  "test.conf:1: []: a pool name is 1 to 64 letters, digits, '_', '.' or '-'\n");
}
END_TEST

START_TEST(keys_in_the_wrong_scope)
{
    expect_errors("[p]\npid_file = /run/x.pid\n",
                  "test.conf:2: pid_file: is a [global] key, not a pool key\n");
    expect_errors("[global]\nworkers = 2\n",
                  "test.conf:2: workers: is a pool key; [global] holds only spawner-wide "
                  "settings\n");
    expect_errors("log_level = debug\n",
                  "test.conf:1: log_level: is a [global] key, but keys before the first section "
                  "belong to the pool 'default'\n");
}
END_TEST

START_TEST(cross_key_pages_per_browser)
{
    struct conf c;

    expect_errors("browsers = 2\npages_per_browser = 0\n",
                  "test.conf:2: pages_per_browser: [default] must be at least 1 when browsers = "
                  "2 (or set browsers = 0 for a fetch-only pool)\n");
    /* The default browsers = 1 applies: the line of pages_per_browser is named. */
    expect_errors("[x]\nbrowsers = 2\n[y]\nlisten=/y.sock\npages_per_browser = 0\n",
                  "test.conf:5: pages_per_browser: [y] must be at least 1 when browsers = 1 (or "
                  "set browsers = 0 for a fetch-only pool)\n");
    expect_ok("browsers = 0\npages_per_browser = 0\n", &c);
    conf_free(&c);
}
END_TEST

START_TEST(cross_key_request_terminate_timeout_must_exceed_request_timeout)
{
    struct conf c;

    expect_errors("request_timeout = 30s\nrequest_terminate_timeout = 30s\n",
                  "test.conf:2: request_terminate_timeout: [default] 30000 ms must be above "
                  "request_timeout (30000 ms), or 0 (off): the worker itself ends a request at "
                  "request_timeout\n");
    /* With request_timeout at its default, the line of the key that is set. */
    expect_errors("[p]\nlisten = /p.sock\nrequest_terminate_timeout = 10s\n",
                  "test.conf:3: request_terminate_timeout: [p] 10000 ms must be above "
                  "request_timeout (30000 ms), or 0 (off): the worker itself ends a request at "
                  "request_timeout\n");
    expect_ok("request_terminate_timeout = 31s\n", &c);
    ck_assert_int_eq(c.pools[0].request_terminate_timeout, 31000);
    conf_free(&c);
    expect_ok("request_terminate_timeout = 0\nrequest_timeout = 100\n", &c);
    conf_free(&c);
}
END_TEST

START_TEST(cross_key_liveness_group_and_socket_owner)
{
    struct conf c;

    expect_errors("liveness_timeout = 1s\n",
                  "test.conf:1: liveness_timeout: [default] 1000 ms is too short: must be 0 "
                  "(off) or at least 3000 ms, as workers heartbeat once a second\n");
    expect_errors("[p]\nlisten = /p.sock\ngroup = www-data\n",
                  "test.conf:3: group: [p] group 'www-data' needs user: set the user the "
                  "workers run as too\n");
    expect_errors("listen = 127.0.0.1:9001\nlisten_owner = www-data\nlisten_group = www-data\n",
                  "test.conf:2: listen_owner: [default] applies to a unix socket file only, "
                  "and listen is 127.0.0.1:9001\n"
                  "test.conf:3: listen_group: [default] applies to a unix socket file only, "
                  "and listen is 127.0.0.1:9001\n");
    expect_ok("liveness_timeout = 0\nlisten = unix:/r.sock\nlisten_group = x\n"
              "user = nobody\ngroup = nogroup\nmax_memory = 2G\nready_timeout = 5s\n", &c);
    ck_assert_int_eq(c.pools[0].liveness_timeout, 0);
    ck_assert_str_eq(c.pools[0].listen_group, "x");
    ck_assert_str_eq(c.pools[0].user, "nobody");
    ck_assert_str_eq(c.pools[0].group, "nogroup");
    ck_assert_int_eq(c.pools[0].max_memory, 2LL << 30);
    ck_assert_int_eq(c.pools[0].ready_timeout, 5000);
    conf_free(&c);
}
END_TEST

START_TEST(cross_key_emergency_restart_needs_both_keys)
{
    struct conf c;

    expect_errors("[global]\nemergency_restart_threshold = 10\n",
                  "test.conf:2: emergency_restart_threshold: needs emergency_restart_interval "
                  "too (set both, or neither to leave the emergency restart off)\n");
    expect_errors("[global]\nlog_level = info\nemergency_restart_interval = 1s\n",
                  "test.conf:3: emergency_restart_interval: needs emergency_restart_threshold "
                  "too (set both, or neither to leave the emergency restart off)\n");
    expect_ok("[global]\nemergency_restart_threshold = 10\nemergency_restart_interval = 60s\n",
              &c);
    ck_assert_int_eq(c.global.emergency_restart_threshold, 10);
    ck_assert_int_eq(c.global.emergency_restart_interval, 60000);
    conf_free(&c);
}
END_TEST

START_TEST(key_lines_name_where_a_key_was_set)
{
    struct conf c;

    expect_ok("workers = 3\n\n[global]\nlog_level = debug\n[b]\nlisten = /b.sock\n"
              "; a comment\nqueue_max = 4\n", &c);
    ck_assert_int_eq(conf_key_line(&c, &c.pools[0], "workers"), 1);
    /* Not set: the implicit pool has no header line; [b] has one. */
    ck_assert_int_eq(conf_key_line(&c, &c.pools[0], "listen"), 0);
    ck_assert_int_eq(conf_key_line(&c, &c.pools[1], "queue_max"), 8);
    ck_assert_int_eq(conf_key_line(&c, &c.pools[1], "user"), 5);
    ck_assert_int_eq(conf_key_line(&c, NULL, "log_level"), 4);
    ck_assert_int_eq(conf_key_line(&c, NULL, "pid_file"), 0);
    conf_free(&c);
}
END_TEST

START_TEST(all_errors_are_collected_in_file_order)
{
    expect_errors("[global]\nlog_level = loud\nworkers = 1\n"
                  "[a]\nworkers = 0\nworkers = 2\nbogus = 1\nthis is junk\n"
                  "[a b]\nqueue_max = x\n",
                  "test.conf:2: log_level: 'loud' is not one of error|warn|info|debug\n"
                  "test.conf:3: workers: is a pool key; [global] holds only spawner-wide "
                  "settings\n"
                  "test.conf:5: workers: 0 is out of range: must be between 1 and 1024\n"
                  "test.conf:6: workers: duplicate key (first set at line 5)\n"
                  "test.conf:7: bogus: unknown key\n"
                  "test.conf:8: this is junk: expected 'key = value', '[section]' or a comment\n"
                  "test.conf:9: a b: a pool name is 1 to 64 letters, digits, '_', '.' or '-'\n"
                  "test.conf:10: queue_max: 'x' is not a whole number\n");
}
END_TEST

START_TEST(missing_file_is_an_error_not_an_invalid_config)
{
    struct conf c;

    buf_reset(&errs);
    ck_assert_int_eq(conf_load("/nonexistent/rendercgi.conf", &c, &errs), RC_ERROR);
    ck_assert_str_eq(errs.data, "/nonexistent/rendercgi.conf: cannot open: No such file or "
                                "directory\n");
    ck_assert_ptr_null(c.pools);
    buf_reset(&errs);
    ck_assert_int_eq(conf_load(tmpdir, &c, &errs), RC_ERROR);
    ck_assert_ptr_nonnull(strstr(errs.data, "Is a directory"));
}
END_TEST

/* ---- overrides and printing --------------------------------------------- */

START_TEST(override_sets_every_pool_and_checks_the_value)
{
    struct conf c;

    expect_ok("[a]\nlisten=/a.sock\n[b]\nlisten=/b.sock\n", &c);
    ck_assert_int_eq(conf_override(&c, "workers", "7", "command line", &errs), RC_OK);
    ck_assert_int_eq(c.pools[0].workers, 7);
    ck_assert_int_eq(c.pools[1].workers, 7);
    ck_assert_int_eq(conf_override(&c, "pid_file", "/run/x.pid", "command line", &errs), RC_OK);
    ck_assert_str_eq(c.global.pid_file, "/run/x.pid");
    buf_reset(&errs);
    ck_assert_int_eq(conf_override(&c, "workers", "0", "command line", &errs), RC_INVALID);
    ck_assert_str_eq(errs.data,
                     "command line: workers: 0 is out of range: must be between 1 and 1024\n");
    ck_assert_int_eq(c.pools[0].workers, 7);
    buf_reset(&errs);
    /* One address for two pools breaks the cross-key rule. */
    ck_assert_int_eq(conf_override(&c, "listen", "/c.sock", "command line", &errs), RC_INVALID);
    ck_assert_str_eq(errs.data, "command line: listen: pool 'b' would listen on /c.sock, which "
                                "pool 'a' already uses; every pool needs its own address\n");
    buf_reset(&errs);
    ck_assert_int_eq(conf_override(&c, "nope", "1", "command line", &errs), RC_INVALID);
    ck_assert_str_eq(errs.data, "command line: nope: unknown key\n");
    conf_free(&c);
}
END_TEST

START_TEST(printed_config_reads_back_identically)
{
    struct conf a, b;
    struct buf out;
    size_t n;
    const struct conf_opt *o = conf_options(&n);

    buf_init(&out, 1 << 20);
    expect_ok("[global]\nlog_level = debug\npid_file = /run/p.pid\ndaemonize = no\n"
              "[pdf]\nlisten = /run/pdf.sock\nlisten_mode = 0600\nmax_body = 3M\n"
              "chromium = \"/opt/odd ;path \"\nrequest_timeout = 2s\n"
              "[ext]\nbrowsers = 0\nallow_networks = 10.0.0.0/8\n", &a);
    ck_assert_int_eq(conf_print(&a, &out), RC_OK);
    expect_ok(out.data, &b);
    ck_assert_uint_eq(a.npools, b.npools);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < a.npools; k++) {
            char va[512], vb[512];
            conf_format_value(&a, &a.pools[k], &o[i], va, sizeof va);
            conf_format_value(&b, &b.pools[k], &o[i], vb, sizeof vb);
            ck_assert_str_eq(va, vb);
        }
    }
    ck_assert_str_eq(b.pools[0].chromium, "/opt/odd ;path ");
    ck_assert_ptr_nonnull(strstr(out.data, "listen_mode = 0600\n"));
    ck_assert_ptr_nonnull(strstr(out.data, "max_body = 3M\n"));
    ck_assert_ptr_nonnull(strstr(out.data, "daemonize = no\n"));
    conf_free(&a);
    conf_free(&b);
    buf_free(&out);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("conf");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, defaults_are_the_documented_values);
    tcase_add_test(tc, every_row_is_documented_unique_and_its_default_valid);
    tcase_add_test(tc, empty_file_gives_the_default_pool);
    tcase_add_test(tc, only_global_section_still_gives_the_default_pool);
    tcase_add_test(tc, keys_before_any_section_form_the_default_pool);
    tcase_add_test(tc, multiple_pools_keep_their_own_values);
    tcase_add_test(tc, comments_whole_line_and_trailing_are_ignored);
    tcase_add_test(tc, crlf_line_ends_blank_padding_and_a_bom_are_accepted);
    tcase_add_test(tc, msec_takes_bare_ms_and_s);
    tcase_add_test(tc, size_takes_bytes_k_m_g);
    tcase_add_test(tc, bool_mode_enum_and_int);
    tcase_add_test(tc, strings_paths_cidr_lists_and_listen_forms);
    tcase_add_test(tc, listen_parse_fills_the_socket_address);
    tcase_add_test(tc, unknown_key_suggests_the_closest);
    tcase_add_test(tc, bad_values_name_the_key_and_the_problem);
    tcase_add_test(tc, out_of_range_values_give_the_range_in_the_key_unit);
    tcase_add_test(tc, bad_cidr_list_is_reported);
    tcase_add_test(tc, bad_listen_addresses_are_explained);
    tcase_add_test(tc, duplicate_key_in_a_section);
    tcase_add_test(tc, the_same_key_in_two_pools_is_not_a_duplicate);
    tcase_add_test(tc, duplicate_pool);
    tcase_add_test(tc, two_pools_on_one_address);
    tcase_add_test(tc, different_ports_or_families_do_not_clash);
    tcase_add_test(tc, malformed_lines_and_section_headers);
    tcase_add_test(tc, keys_in_the_wrong_scope);
    tcase_add_test(tc, cross_key_pages_per_browser);
    tcase_add_test(tc, cross_key_request_terminate_timeout_must_exceed_request_timeout);
    tcase_add_test(tc, cross_key_liveness_group_and_socket_owner);
    tcase_add_test(tc, cross_key_emergency_restart_needs_both_keys);
    tcase_add_test(tc, key_lines_name_where_a_key_was_set);
    tcase_add_test(tc, all_errors_are_collected_in_file_order);
    tcase_add_test(tc, missing_file_is_an_error_not_an_invalid_config);
    tcase_add_test(tc, override_sets_every_pool_and_checks_the_value);
    tcase_add_test(tc, printed_config_reads_back_identically);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
