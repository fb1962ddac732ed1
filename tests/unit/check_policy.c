/* check_policy.c — tests of common/cidr.c, fcgi-worker/url.c,
 * fcgi-worker/policy.c and fcgi-worker/proxy.c: the URL policy of API.md §6.
 *
 * Pure functions, and one proxy test that connects on 127.0.0.1 only (to a
 * listener of its own, through the proxy; 127.0.0.2 is denied before any
 * connection). Host names are limited to
 * "localhost"-style names (which the policy answers itself) and one name
 * glibc refuses before asking DNS; everything else is a literal address. */
#include <arpa/inet.h>
#include <check.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cidr.h"
#include "clock.h"
#include "policy.h"
#include "proxy.h"
#include "rc.h"
#include "url.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Fill 'ss' from an address in text; the test fails if it does not parse. */
static const struct sockaddr *
sockaddr_of(const char *text, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (strchr(text, ':') != NULL) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        sin6->sin6_family = AF_INET6;
        ck_assert_msg(inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1, "bad test address %s",
                      text);
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        ck_assert_msg(inet_pton(AF_INET, text, &sin->sin_addr) == 1, "bad test address %s",
                      text);
    }
    return (const struct sockaddr *)ss;
}

static struct policy *
make_policy(const char *allow, const char *deny)
{
    struct policy *p = NULL;
    char err[256] = "";
    int rc = policy_new(allow, deny, &p, err, sizeof err);

    ck_assert_msg(rc == RC_OK, "policy_new(%s, %s) = %d: %s", allow ? allow : "NULL",
                  deny ? deny : "NULL", rc, err);
    ck_assert_ptr_nonnull(p);
    return p;
}

static int
check_addr_text(const struct policy *p, const char *addr, char *why, size_t whylen)
{
    struct sockaddr_storage ss;

    return policy_check_addr(p, sockaddr_of(addr, &ss), why, whylen);
}

/* One expectation: 'why' (when not NULL) must occur in the message. */
struct addr_case {
    const char *addr;
    int rc;
    const char *why;
};

static void
run_addr_case(const struct policy *p, const struct addr_case *c, const char *label)
{
    char why[512];
    int rc = check_addr_text(p, c->addr, why, sizeof why);

    ck_assert_msg(rc == c->rc, "%s: %s gave %s (%s), expected %s", label, c->addr, rc_name(rc),
                  why, rc_name(c->rc));
    if (c->why != NULL)
        ck_assert_msg(strstr(why, c->why) != NULL, "%s: %s: message '%s' lacks '%s'", label,
                      c->addr, why, c->why);
    if (rc == RC_OK)
        ck_assert_str_eq(why, "");
}

/* ---- cidr ------------------------------------------------------------- */

static const struct {
    const char *in;
    int family;
    int prefix;
    const char *formatted;
} cidr_good[] = {
    {"10.0.0.0/8", AF_INET, 8, "10.0.0.0/8"},
    {"127.0.0.1", AF_INET, 32, "127.0.0.1/32"},
    {"0.0.0.0/0", AF_INET, 0, "0.0.0.0/0"},
    {"100.64.0.0/10", AF_INET, 10, "100.64.0.0/10"},
    {"172.16.0.0/012", AF_INET, 12, "172.16.0.0/12"},
    {"::1", AF_INET6, 128, "::1/128"},
    {"::/0", AF_INET6, 0, "::/0"},
    {"2001:DB8::/32", AF_INET6, 32, "2001:db8::/32"},
    {"2001::/23", AF_INET6, 23, "2001::/23"},
    {"::ffff:10.0.0.0/104", AF_INET6, 104, "::ffff:10.0.0.0/104"},
};

START_TEST(cidr_parse_accepts_prefixes_and_formats_them_back)
{
    struct cidr c;
    char buf[64];

    ck_assert_msg(cidr_parse(cidr_good[_i].in, &c) == RC_OK, "%s refused", cidr_good[_i].in);
    ck_assert_int_eq(c.family, cidr_good[_i].family);
    ck_assert_int_eq(c.prefix, cidr_good[_i].prefix);
    cidr_format(&c, buf, sizeof buf);
    ck_assert_str_eq(buf, cidr_good[_i].formatted);
}
END_TEST

static const char *const cidr_bad[] = {
    "",
    "10.0.0.1/8",     /* host bits set */
    "2001:db8::1/32", /* host bits set */
    "10.0.0.0/33",
    "::1/129",
    "10.0.0.0/1000",
    "10.0.0.0/",
    "/8",
    "10.0.0.0/8/8",
    "10.0.0.0/-1",
    "10.0.0.0/+8",
    "10.0.0.0/ 8",
    "10.0.0.0/0x8",
    " 10.0.0.0/8", /* blanks are for lists only */
    "10.1/16",     /* inet_aton shorthand */
    "010.0.0.0/8", /* octal-looking */
    "10.0.0.0.0/8",
    "256.0.0.0/8",
    "fe80::1%eth0",
    "example.com",
    "::1::2",
};

START_TEST(cidr_parse_refuses_malformed_prefixes)
{
    struct cidr c;

    ck_assert_msg(cidr_parse(cidr_bad[_i], &c) == RC_INVALID, "'%s' accepted", cidr_bad[_i]);
}
END_TEST

START_TEST(cidr_list_with_blanks_parses_every_item)
{
    struct cidr *list = NULL;
    size_t n = 99;
    char err[128] = "x";
    char buf[64];

    ck_assert_int_eq(
        cidr_list_parse(" 10.0.0.0/8 ,\t::1 ,192.168.0.0/16\t", &list, &n, err, sizeof err),
        RC_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(err, "");
    cidr_format(&list[0], buf, sizeof buf);
    ck_assert_str_eq(buf, "10.0.0.0/8");
    cidr_format(&list[1], buf, sizeof buf);
    ck_assert_str_eq(buf, "::1/128");
    cidr_format(&list[2], buf, sizeof buf);
    ck_assert_str_eq(buf, "192.168.0.0/16");
    free(list);
}
END_TEST

START_TEST(cidr_empty_or_blank_list_is_valid_and_null)
{
    const char *empties[] = {NULL, "", "   ", "\t"};
    size_t i;

    for (i = 0; i < N(empties); i++) {
        struct cidr *list = (struct cidr *)1;
        size_t n = 99;

        ck_assert_int_eq(cidr_list_parse(empties[i], &list, &n, NULL, 0), RC_OK);
        ck_assert_ptr_null(list);
        ck_assert_uint_eq(n, 0);
    }
}
END_TEST

static const struct {
    const char *list;
    const char *err;
} cidr_list_bad[] = {
    {"10.0.0.0/8, bogus", "'bogus': 'bogus' is not an IPv4 address"},
    {"10.0.0.1/8", "'10.0.0.1/8': host bits are set (did you mean 10.0.0.0/8?)"},
    {"::1, 2001:db8::1/32",
     "'2001:db8::1/32': host bits are set (did you mean 2001:db8::/32?)"},
    {"10.0.0.0/8,,::1", "empty item"},
    {"10.0.0.0/8,", "empty item"},
    {",10.0.0.0/8", "empty item"},
    {"10.0.0.0/33", "'10.0.0.0/33': prefix length 33 is over 32"},
    {"10.0.0.0/x", "'10.0.0.0/x': prefix length 'x' is not a number 0..32"},
    {"fe80::1%eth0", "'fe80::1%eth0': 'fe80::1%eth0' is not an IPv6 address"},
    {"10.0.0.0 /8", "is not an IPv4 address"},
};

START_TEST(cidr_list_names_the_bad_item)
{
    struct cidr *list = (struct cidr *)1;
    size_t n = 99;
    char err[160] = "";

    ck_assert_int_eq(cidr_list_parse(cidr_list_bad[_i].list, &list, &n, err, sizeof err),
                     RC_INVALID);
    ck_assert_ptr_null(list);
    ck_assert_uint_eq(n, 0);
    ck_assert_msg(strstr(err, cidr_list_bad[_i].err) != NULL, "'%s': error '%s' lacks '%s'",
                  cidr_list_bad[_i].list, err, cidr_list_bad[_i].err);
}
END_TEST

static const struct {
    const char *net;
    const char *addr;
    int match;
} cidr_matches[] = {
    {"10.0.0.0/8", "10.1.2.3", 1},
    {"10.0.0.0/8", "11.0.0.0", 0},
    {"10.0.0.0/8", "::ffff:10.1.2.3", 1}, /* IPv4-mapped is IPv4 */
    {"10.0.0.0/8", "::ffff:11.1.2.3", 0},
    {"10.0.0.0/8", "::a01:203", 0},        /* IPv4-compatible is not */
    {"10.0.0.0/8", "64:ff9b::a01:203", 0}, /* nor NAT64: that is policy */
    {"100.64.0.0/10", "100.127.255.255", 1},
    {"100.64.0.0/10", "100.128.0.0", 0},
    {"100.64.0.0/10", "100.63.255.255", 0},
    {"0.0.0.0/0", "255.255.255.255", 1},
    {"0.0.0.0/0", "::ffff:8.8.8.8", 1},
    {"0.0.0.0/0", "2001:db8::1", 0},
    {"::/0", "2001:db8::1", 1},
    {"::/0", "8.8.8.8", 0}, /* "all IPv6" is not "all IPv4" */
    {"::/0", "::ffff:127.0.0.1", 0},
    {"::ffff:0:0/96", "8.8.8.8", 1},
    {"::ffff:10.0.0.0/104", "10.9.9.9", 1},
    {"::ffff:10.0.0.0/104", "::ffff:10.9.9.9", 1},
    {"::ffff:10.0.0.0/104", "11.0.0.0", 0},
    {"2001::/23", "2001:1ff:ffff::1", 1},
    {"2001::/23", "2001:200::", 0},
    {"::1", "::1", 1},
    {"::1", "::2", 0},
    {"127.0.0.1", "127.0.0.1", 1},
    {"127.0.0.1", "127.0.0.2", 0},
};

START_TEST(cidr_match_follows_prefix_and_mapped_rules)
{
    struct cidr c;
    struct sockaddr_storage ss;
    const struct sockaddr *sa;

    ck_assert_int_eq(cidr_parse(cidr_matches[_i].net, &c), RC_OK);
    sa = sockaddr_of(cidr_matches[_i].addr, &ss);
    ck_assert_msg(cidr_match(&c, sa) == (cidr_matches[_i].match != 0), "%s in %s should be %d",
                  cidr_matches[_i].addr, cidr_matches[_i].net, cidr_matches[_i].match);
}
END_TEST

START_TEST(cidr_match_refuses_other_families)
{
    struct cidr c;
    struct sockaddr_un sun;

    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    ck_assert_int_eq(cidr_parse("0.0.0.0/0", &c), RC_OK);
    ck_assert(!cidr_match(&c, (struct sockaddr *)&sun));
    ck_assert(!cidr_match(&c, NULL));
}
END_TEST

/* ---- url -------------------------------------------------------------- */

struct url_case {
    const char *in;
    int rc;
    const char *scheme;
    const char *host; /* on RC_OK; on RC_INVALID a substring of 'why' */
    int port;
    int ip;
    int userinfo;
};

static const struct url_case url_cases[] = {
    /* Plain shapes. */
    {"http://example.com/", RC_OK, "http", "example.com", 80, 0, 0},
    {"https://example.com", RC_OK, "https", "example.com", 443, 0, 0},
    {"HTTPS://EXAMPLE.COM:8443/a?b#c", RC_OK, "https", "example.com", 8443, 0, 0},
    {"http://example.com:/", RC_OK, "http", "example.com", 80, 0, 0},
    {"http://example.com:08080/", RC_OK, "http", "example.com", 8080, 0, 0},
    {"http://example.com:65535/", RC_OK, "http", "example.com", 65535, 0, 0},
    {"http://example.com?q", RC_OK, "http", "example.com", 80, 0, 0},
    {"http://example.com#f", RC_OK, "http", "example.com", 80, 0, 0},
    {"http://a_b-c.example.com/", RC_OK, "http", "a_b-c.example.com", 80, 0, 0},
    {"http://xn--nxasmq6b.example/", RC_OK, "http", "xn--nxasmq6b.example", 80, 0, 0},
    {"http://example.com/a\\b", RC_OK, "http", "example.com", 80, 0, 0},
    {"ftp://example.com/", RC_OK, "ftp", "example.com", 21, 0, 0},
    {"wss://example.com/", RC_OK, "wss", "example.com", 443, 0, 0},
    {"file:///etc/passwd", RC_OK, "file", "", -1, 0, 0},
    {"javascript:alert(1)", RC_OK, "javascript", "", -1, 0, 0},
    {"view-source:http://x/", RC_OK, "view-source", "", -1, 0, 0},
    /* Userinfo is allowed, flagged, not stored. */
    {"http://user:pw@example.com/", RC_OK, "http", "example.com", 80, 0, 1},
    {"http://@example.com/", RC_OK, "http", "example.com", 80, 0, 1},
    {"http://127.0.0.1:80@example.com/", RC_OK, "http", "example.com", 80, 0, 1},
    {"http://[::1]@example.com/", RC_OK, "http", "example.com", 80, 0, 1},
    {"http://example.com#@127.0.0.1/", RC_OK, "http", "example.com", 80, 0, 0},
    {"http://example.com?@127.0.0.1/", RC_OK, "http", "example.com", 80, 0, 0},
    /* IPv4 in every form a browser reads as IPv4 becomes dotted decimal. */
    {"http://127.0.0.1/", RC_OK, "http", "127.0.0.1", 80, 4, 0},
    {"http://2130706433/", RC_OK, "http", "127.0.0.1", 80, 4, 0},
    {"http://0x7f.1/", RC_OK, "http", "127.0.0.1", 80, 4, 0},
    {"http://0X7F000001/", RC_OK, "http", "127.0.0.1", 80, 4, 0},
    {"http://017700000001/", RC_OK, "http", "127.0.0.1", 80, 4, 0},
    {"http://0177.0.0.01/", RC_OK, "http", "127.0.0.1", 80, 4, 0},
    {"http://127.1/", RC_OK, "http", "127.0.0.1", 80, 4, 0},
    {"http://127.0.1/", RC_OK, "http", "127.0.0.1", 80, 4, 0},
    {"http://127.0.0.1./", RC_OK, "http", "127.0.0.1", 80, 4, 0},
    {"http://0x00000000000000000000007f.1/", RC_OK, "http", "127.0.0.1", 80, 4, 0},
    {"http://%31%32%37.0.0.1/", RC_OK, "http", "127.0.0.1", 80, 4, 0},
    {"http://127%2e0%2E0%2e1:8080/", RC_OK, "http", "127.0.0.1", 8080, 4, 0},
    {"http://0xa9fea9fe/", RC_OK, "http", "169.254.169.254", 80, 4, 0},
    {"http://0/", RC_OK, "http", "0.0.0.0", 80, 4, 0},
    {"http://0x/", RC_OK, "http", "0.0.0.0", 80, 4, 0},
    {"http://1.16777215/", RC_OK, "http", "1.255.255.255", 80, 4, 0},
    {"http://4294967295/", RC_OK, "http", "255.255.255.255", 80, 4, 0},
    {"http://1.2.3.4.example/", RC_OK, "http", "1.2.3.4.example", 80, 0, 0},
    {"http://0x7g/", RC_OK, "http", "0x7g", 80, 0, 0},
    /* IPv6 literals are canonicalized, brackets dropped. */
    {"http://[::1]/", RC_OK, "http", "::1", 80, 6, 0},
    {"http://[::FFFF:7F00:1]:8080/", RC_OK, "http", "::ffff:127.0.0.1", 8080, 6, 0},
    {"http://[0:0:0:0:0:0:0:1]/", RC_OK, "http", "::1", 80, 6, 0},
    {"http://[2606:2800:220:1::1]/", RC_OK, "http", "2606:2800:220:1::1", 80, 6, 0},
    /* Names: lower-cased, %-decoded, a trailing dot kept. */
    {"http://LOCALHOST/", RC_OK, "http", "localhost", 80, 0, 0},
    {"http://%6c%6F%63alhost/", RC_OK, "http", "localhost", 80, 0, 0},
    {"http://example.com./", RC_OK, "http", "example.com.", 80, 0, 0},

    /* Refused: the browser would read these differently from libcurl. */
    {"http://evil.com\\@127.0.0.1/", RC_INVALID, NULL, "backslash", 0, 0, 0},
    {"http://example.com\\path", RC_INVALID, NULL, "backslash", 0, 0, 0},
    {"http:\\\\127.0.0.1/", RC_INVALID, NULL, "must be followed by '//'", 0, 0, 0},
    {"http:/\\127.0.0.1/", RC_INVALID, NULL, "must be followed by '//'", 0, 0, 0},
    {"http://\\127.0.0.1/", RC_INVALID, NULL, "backslash", 0, 0, 0},
    {"http:/example.com/", RC_INVALID, NULL, "must be followed by '//'", 0, 0, 0},
    {"http:example.com", RC_INVALID, NULL, "must be followed by '//'", 0, 0, 0},
    {"http:///example.com/", RC_INVALID, NULL, "empty host", 0, 0, 0},
    {"http:////127.0.0.1/", RC_INVALID, NULL, "empty host", 0, 0, 0},
    {"http://", RC_INVALID, NULL, "empty host", 0, 0, 0},
    {"http://user@/", RC_INVALID, NULL, "empty host", 0, 0, 0},
    {"http://:80/", RC_INVALID, NULL, "empty host", 0, 0, 0},
    {"http://a@evil.com@127.0.0.1/", RC_INVALID, NULL, "more than one '@'", 0, 0, 0},
    {"http://127.0.0.1\t/", RC_INVALID, NULL, "control character", 0, 0, 0},
    {"http://ev\nil.com/", RC_INVALID, NULL, "control character", 0, 0, 0},
    {"http://evil.com/\r", RC_INVALID, NULL, "control character", 0, 0, 0},
    {" http://example.com/", RC_INVALID, NULL, "space", 0, 0, 0},
    {"http://example.com/ ", RC_INVALID, NULL, "space", 0, 0, 0},
    {"http://ex ample.com/", RC_INVALID, NULL, "space", 0, 0, 0},
    {"http://example.com/\x7f", RC_INVALID, NULL, "control character", 0, 0, 0},
    /* Refused: hosts that are not plain ASCII names or valid IPv4. */
    {"http://127\xe3\x80\x82"
     "0\xe3\x80\x82"
     "0\xe3\x80\x82"
     "1/",
     RC_INVALID, NULL, "not ASCII", 0, 0, 0},
    {"http://%ef%bc%8e/", RC_INVALID, NULL, "not ASCII", 0, 0, 0},
    {"http://exa%zzmple.com/", RC_INVALID, NULL, "bad %-escape", 0, 0, 0},
    {"http://example.com%/", RC_INVALID, NULL, "bad %-escape", 0, 0, 0},
    {"http://example.com%4/", RC_INVALID, NULL, "bad %-escape", 0, 0, 0},
    {"http://exa%00mple.com/", RC_INVALID, NULL, "%00", 0, 0, 0},
    {"http://exa%2fmple.com/", RC_INVALID, NULL, "contains '/'", 0, 0, 0},
    {"http://127.0.0.1%3a80/", RC_INVALID, NULL, "contains ':'", 0, 0, 0},
    {"http://evil.com%40127.0.0.1/", RC_INVALID, NULL, "contains '@'", 0, 0, 0},
    {"http://exa%09mple.com/", RC_INVALID, NULL, "control character", 0, 0, 0},
    {"http://%2525/", RC_INVALID, NULL, "contains '%'", 0, 0, 0},
    {"http://exa!mple.com/", RC_INVALID, NULL, "contains '!'", 0, 0, 0},
    {"http://a[::1]/", RC_INVALID, NULL, "contains '['", 0, 0, 0},
    {"http://1.2.3.4.5/", RC_INVALID, NULL, "not a valid IPv4", 0, 0, 0},
    {"http://256.0.0.1/", RC_INVALID, NULL, "not a valid IPv4", 0, 0, 0},
    {"http://1.2.3.256/", RC_INVALID, NULL, "not a valid IPv4", 0, 0, 0},
    {"http://1.16777216/", RC_INVALID, NULL, "not a valid IPv4", 0, 0, 0},
    {"http://4294967296/", RC_INVALID, NULL, "not a valid IPv4", 0, 0, 0},
    {"http://99999999999999999999999999/", RC_INVALID, NULL, "not a valid IPv4", 0, 0, 0},
    {"http://08/", RC_INVALID, NULL, "not a valid IPv4", 0, 0, 0},
    {"http://foo.09/", RC_INVALID, NULL, "not a valid IPv4", 0, 0, 0},
    {"http://foo.0x1/", RC_INVALID, NULL, "not a valid IPv4", 0, 0, 0},
    {"http://1..2/", RC_INVALID, NULL, "not a valid IPv4", 0, 0, 0},
    {"http://example..com/", RC_INVALID, NULL, "empty label", 0, 0, 0},
    {"http://.example.com/", RC_INVALID, NULL, "empty label", 0, 0, 0},
    {"http://example.com../", RC_INVALID, NULL, "empty label", 0, 0, 0},
    {"http://./", RC_INVALID, NULL, "empty label", 0, 0, 0},
    /* Refused: bad IPv6 literals and ports. */
    {"http://[fe80::1%25eth0]/", RC_INVALID, NULL, "not an IPv6 address", 0, 0, 0},
    {"http://[::1/", RC_INVALID, NULL, "no closing ']'", 0, 0, 0},
    {"http://[::1]x/", RC_INVALID, NULL, "after the IPv6 literal", 0, 0, 0},
    {"http://[::1]]/", RC_INVALID, NULL, "after the IPv6 literal", 0, 0, 0},
    {"http://[v1.x]/", RC_INVALID, NULL, "not an IPv6 address", 0, 0, 0},
    {"http://[127.0.0.1]/", RC_INVALID, NULL, "not an IPv6 address", 0, 0, 0},
    {"http://::1/", RC_INVALID, NULL, "empty host", 0, 0, 0},
    {"http://example.com:0/", RC_INVALID, NULL, "not in 1..65535", 0, 0, 0},
    {"http://example.com:65536/", RC_INVALID, NULL, "not in 1..65535", 0, 0, 0},
    {"http://example.com:99999999999999999999/", RC_INVALID, NULL, "not in 1..65535", 0, 0, 0},
    {"http://example.com:80a/", RC_INVALID, NULL, "not a number", 0, 0, 0},
    {"http://example.com:+80/", RC_INVALID, NULL, "not a number", 0, 0, 0},
    {"http://example.com:80:80/", RC_INVALID, NULL, "not a number", 0, 0, 0},
    /* Refused: not absolute URLs. */
    {"", RC_INVALID, NULL, "empty URL", 0, 0, 0},
    {"example.com", RC_INVALID, NULL, "not an absolute URL", 0, 0, 0},
    {"//example.com/", RC_INVALID, NULL, "not an absolute URL", 0, 0, 0},
    {"1http://example.com/", RC_INVALID, NULL, "not an absolute URL", 0, 0, 0},
    {"ht_tp://example.com/", RC_INVALID, NULL, "not an absolute URL", 0, 0, 0},
    {"averyveryverylongscheme://x/", RC_INVALID, NULL, "too long", 0, 0, 0},
};

START_TEST(url_parse_agrees_with_the_browser_or_refuses)
{
    const struct url_case *c = &url_cases[_i];
    struct url u;
    char why[256];
    int rc = url_parse(c->in, &u, why, sizeof why);

    ck_assert_msg(rc == c->rc, "url_parse(\"%s\") = %s (%s), expected %s", c->in, rc_name(rc),
                  why, rc_name(c->rc));
    if (rc != RC_OK) {
        ck_assert_msg(strstr(why, c->host) != NULL, "url_parse(\"%s\"): '%s' lacks '%s'", c->in,
                      why, c->host);
        return;
    }
    ck_assert_str_eq(u.scheme, c->scheme);
    ck_assert_msg(strcmp(u.host, c->host) == 0, "url_parse(\"%s\"): host '%s', expected '%s'",
                  c->in, u.host, c->host);
    ck_assert_int_eq(u.port, c->port);
    ck_assert_int_eq(u.host_is_ip, c->ip);
    ck_assert_int_eq(u.has_userinfo, c->userinfo);
}
END_TEST

START_TEST(url_parse_refuses_overlong_hosts)
{
    char in[600], why[256];
    struct url u;

    strcpy(in, "http://");
    memset(in + 7, 'a', 300);
    strcpy(in + 307, ".com/");
    ck_assert_int_eq(url_parse(in, &u, why, sizeof why), RC_INVALID);
    ck_assert_ptr_nonnull(strstr(why, "longer than 255"));
}
END_TEST

static const struct {
    const char *in;
    int plus;
    int rc;
    const char *out;
} decode_cases[] = {
    {"a%20b", 0, 3, "a b"},
    {"a+b", 1, 3, "a b"},
    {"a+b", 0, 3, "a+b"},
    {"%41%4a%4A", 0, 3, "AJJ"},
    {"%2B+", 1, 2, "+ "},
    {"", 0, 0, ""},
    {"%e2%82%ac", 0, 3, "\xe2\x82\xac"},
    {"100%", 0, RC_INVALID, "100%"},
    {"a%4", 0, RC_INVALID, "a%4"},
    {"a%zz+", 1, RC_INVALID, "a%zz+"},
    {"a+%00", 1, RC_INVALID, "a+%00"},
};

START_TEST(url_decode_decodes_or_leaves_the_string_alone)
{
    char buf[64];

    strcpy(buf, decode_cases[_i].in);
    ck_assert_int_eq(url_decode(buf, decode_cases[_i].plus), decode_cases[_i].rc);
    ck_assert_str_eq(buf, decode_cases[_i].out);
}
END_TEST

/* ---- policy: addresses ------------------------------------------------- */

/* Every default-deny range: its edges inside, and the addresses just
 * outside (allowed unless a neighbouring range claims them). */
static const struct addr_case default_cases[] = {
    {"0.0.0.0", RC_BLOCKED, "0.0.0.0 is unspecified (0.0.0.0/8); not in allow_networks"},
    {"0.255.255.255", RC_BLOCKED, "unspecified (0.0.0.0/8)"},
    {"1.0.0.0", RC_OK, NULL},
    {"9.255.255.255", RC_OK, NULL},
    {"10.0.0.0", RC_BLOCKED, "10.0.0.0 is private (10.0.0.0/8); not in allow_networks"},
    {"10.255.255.255", RC_BLOCKED, "private (10.0.0.0/8)"},
    {"11.0.0.0", RC_OK, NULL},
    {"100.63.255.255", RC_OK, NULL},
    {"100.64.0.0", RC_BLOCKED, "100.64.0.0 is CGNAT (100.64.0.0/10)"},
    {"100.127.255.255", RC_BLOCKED, "CGNAT (100.64.0.0/10)"},
    {"100.128.0.0", RC_OK, NULL},
    {"126.255.255.255", RC_OK, NULL},
    {"127.0.0.0", RC_BLOCKED, "loopback (127.0.0.0/8)"},
    {"127.0.0.1", RC_BLOCKED, "127.0.0.1 is loopback (127.0.0.0/8); not in allow_networks"},
    {"127.255.255.255", RC_BLOCKED, "loopback (127.0.0.0/8)"},
    {"128.0.0.0", RC_OK, NULL},
    {"169.253.255.255", RC_OK, NULL},
    {"169.254.0.0", RC_BLOCKED, "link-local (169.254.0.0/16)"},
    {"169.254.169.254", RC_BLOCKED,
     "169.254.169.254 is link-local (169.254.0.0/16); not in allow_networks"},
    {"169.254.255.255", RC_BLOCKED, "link-local (169.254.0.0/16)"},
    {"169.255.0.0", RC_OK, NULL},
    {"172.15.255.255", RC_OK, NULL},
    {"172.16.0.0", RC_BLOCKED, "private (172.16.0.0/12)"},
    {"172.31.255.255", RC_BLOCKED, "private (172.16.0.0/12)"},
    {"172.32.0.0", RC_OK, NULL},
    {"191.255.255.255", RC_OK, NULL},
    {"192.0.0.0", RC_BLOCKED, "IETF-reserved (192.0.0.0/24)"},
    {"192.0.0.255", RC_BLOCKED, "IETF-reserved (192.0.0.0/24)"},
    {"192.0.1.0", RC_OK, NULL},
    {"192.0.1.255", RC_OK, NULL},
    {"192.0.2.0", RC_BLOCKED, "documentation (192.0.2.0/24)"},
    {"192.0.2.255", RC_BLOCKED, "documentation (192.0.2.0/24)"},
    {"192.0.3.0", RC_OK, NULL},
    {"192.88.98.255", RC_OK, NULL},
    {"192.88.99.0", RC_BLOCKED, "6to4 relay anycast (192.88.99.0/24)"},
    {"192.88.99.255", RC_BLOCKED, "6to4 relay anycast (192.88.99.0/24)"},
    {"192.88.100.0", RC_OK, NULL},
    {"192.167.255.255", RC_OK, NULL},
    {"192.168.0.0", RC_BLOCKED, "private (192.168.0.0/16)"},
    {"192.168.255.255", RC_BLOCKED, "private (192.168.0.0/16)"},
    {"192.169.0.0", RC_OK, NULL},
    {"198.17.255.255", RC_OK, NULL},
    {"198.18.0.0", RC_BLOCKED, "benchmarking (198.18.0.0/15)"},
    {"198.19.255.255", RC_BLOCKED, "benchmarking (198.18.0.0/15)"},
    {"198.20.0.0", RC_OK, NULL},
    {"198.51.99.255", RC_OK, NULL},
    {"198.51.100.0", RC_BLOCKED, "documentation (198.51.100.0/24)"},
    {"198.51.100.255", RC_BLOCKED, "documentation (198.51.100.0/24)"},
    {"198.51.101.0", RC_OK, NULL},
    {"203.0.112.255", RC_OK, NULL},
    {"203.0.113.0", RC_BLOCKED, "documentation (203.0.113.0/24)"},
    {"203.0.113.255", RC_BLOCKED, "documentation (203.0.113.0/24)"},
    {"203.0.114.0", RC_OK, NULL},
    {"223.255.255.255", RC_OK, NULL},
    {"224.0.0.0", RC_BLOCKED, "multicast (224.0.0.0/4)"},
    {"239.255.255.255", RC_BLOCKED, "multicast (224.0.0.0/4)"},
    {"240.0.0.0", RC_BLOCKED, "reserved (240.0.0.0/4)"},
    {"255.255.255.254", RC_BLOCKED, "reserved (240.0.0.0/4)"},
    {"255.255.255.255", RC_BLOCKED, "broadcast (255.255.255.255/32)"},
    /* Public IPv4. */
    {"93.184.216.34", RC_OK, NULL},
    {"8.8.8.8", RC_OK, NULL},
    {"1.1.1.1", RC_OK, NULL},

    {"::", RC_BLOCKED, ":: is unspecified (::/128)"},
    {"::1", RC_BLOCKED, "::1 is loopback (::1/128); not in allow_networks"},
    {"::2", RC_BLOCKED, "IPv4-compatible (deprecated) (::/96)"},
    {"::a00:1", RC_BLOCKED, "IPv4-compatible (deprecated) (::/96)"},
    {"::1:0:0:0", RC_OK, NULL},
    {"::ffff:0:a00:1", RC_BLOCKED, "IPv4-translated (::ffff:0:0:0/96)"},
    /* IPv4-mapped: judged as the IPv4 address. */
    {"::ffff:10.0.0.1", RC_BLOCKED, "::ffff:10.0.0.1 is private (10.0.0.0/8)"},
    {"::ffff:127.0.0.1", RC_BLOCKED, "::ffff:127.0.0.1 is loopback (127.0.0.0/8)"},
    {"::ffff:169.254.169.254", RC_BLOCKED, "link-local (169.254.0.0/16)"},
    {"::ffff:0.0.0.0", RC_BLOCKED, "unspecified (0.0.0.0/8)"},
    {"::ffff:8.8.8.8", RC_OK, NULL},
    {"::ffff:93.184.216.34", RC_OK, NULL},
    /* NAT64: the embedded IPv4 address decides. */
    {"64:ff9b::10.0.0.1", RC_BLOCKED,
     "64:ff9b::a00:1 (NAT64 for 10.0.0.1) is private (10.0.0.0/8); not in allow_networks"},
    {"64:ff9b::127.0.0.1", RC_BLOCKED, "(NAT64 for 127.0.0.1) is loopback (127.0.0.0/8)"},
    {"64:ff9b::169.254.169.254", RC_BLOCKED, "link-local (169.254.0.0/16)"},
    {"64:ff9b::8.8.8.8", RC_OK, NULL},
    {"64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff", RC_OK, NULL},
    {"64:ff9b::1:0:0", RC_OK, NULL},
    {"64:ff9b:1::", RC_BLOCKED, "local-use NAT64 (64:ff9b:1::/48)"},
    {"64:ff9b:1:ffff:ffff:ffff:ffff:ffff", RC_BLOCKED, "local-use NAT64 (64:ff9b:1::/48)"},
    {"64:ff9b:2::", RC_OK, NULL},
    {"ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", RC_OK, NULL},
    {"100::", RC_BLOCKED, "discard-only (100::/64)"},
    {"100::ffff:ffff:ffff:ffff", RC_BLOCKED, "discard-only (100::/64)"},
    {"100:0:0:1::", RC_OK, NULL},
    {"2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", RC_OK, NULL},
    {"2001::", RC_BLOCKED, "Teredo (2001::/32)"},
    {"2001:0:4136:e378:8000:63bf:3fff:fdd2", RC_BLOCKED, "Teredo (2001::/32)"},
    {"2001:1::1", RC_BLOCKED, "IETF-reserved (2001::/23)"},
    {"2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", RC_BLOCKED, "IETF-reserved (2001::/23)"},
    {"2001:200::", RC_OK, NULL},
    {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", RC_OK, NULL},
    {"2001:db8::", RC_BLOCKED, "documentation (2001:db8::/32)"},
    {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", RC_BLOCKED, "documentation (2001:db8::/32)"},
    {"2001:db9::", RC_OK, NULL},
    /* 6to4: the embedded IPv4 address decides. */
    {"2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", RC_OK, NULL},
    {"2002:a00:1::", RC_BLOCKED, "2002:a00:1:: (6to4 for 10.0.0.1) is private (10.0.0.0/8)"},
    {"2002:7f00:1::1", RC_BLOCKED, "(6to4 for 127.0.0.1) is loopback"},
    {"2002:a9fe:a9fe::1", RC_BLOCKED, "(6to4 for 169.254.169.254) is link-local"},
    {"2002:5db8:d822::1", RC_OK, NULL},
    {"2003::", RC_OK, NULL},
    {"3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", RC_OK, NULL},
    {"3fff::", RC_BLOCKED, "documentation (3fff::/20)"},
    {"3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", RC_BLOCKED, "documentation (3fff::/20)"},
    {"3fff:1000::", RC_OK, NULL},
    {"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", RC_OK, NULL},
    {"fc00::", RC_BLOCKED, "private (fc00::/7)"},
    {"fd12:3456::1", RC_BLOCKED, "private (fc00::/7)"},
    {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", RC_BLOCKED, "private (fc00::/7)"},
    {"fe00::", RC_OK, NULL},
    {"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", RC_OK, NULL},
    {"fe80::", RC_BLOCKED, "link-local (fe80::/10)"},
    {"fe80::1", RC_BLOCKED, "link-local (fe80::/10)"},
    {"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", RC_BLOCKED, "link-local (fe80::/10)"},
    {"fec0::", RC_BLOCKED, "site-local (deprecated) (fec0::/10)"},
    {"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", RC_BLOCKED, "site-local"},
    {"ff00::", RC_BLOCKED, "multicast (ff00::/8)"},
    {"ff02::1", RC_BLOCKED, "multicast (ff00::/8)"},
    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", RC_BLOCKED, "multicast (ff00::/8)"},
    /* Public IPv6. */
    {"2606:2800:220:1::1", RC_OK, NULL},
    {"2001:4860:4860::8888", RC_OK, NULL},
    {"2a00:1450:4001::1", RC_OK, NULL},
};

START_TEST(default_policy_blocks_special_ranges_and_allows_public)
{
    struct policy *p = make_policy(NULL, NULL);

    run_addr_case(p, &default_cases[_i], "default");
    policy_free(p);
}
END_TEST

START_TEST(empty_lists_are_the_default_policy)
{
    struct policy *p = make_policy("", "  ");

    run_addr_case(p, &(struct addr_case){"127.0.0.1", RC_BLOCKED, "loopback"}, "empty");
    run_addr_case(p, &(struct addr_case){"93.184.216.34", RC_OK, NULL}, "empty");
    policy_free(p);
}
END_TEST

START_TEST(other_address_families_are_blocked)
{
    struct policy *p = make_policy("0.0.0.0/0, ::/0", NULL);
    struct sockaddr_un sun;
    char why[128];

    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    ck_assert_int_eq(policy_check_addr(p, (struct sockaddr *)&sun, why, sizeof why),
                     RC_BLOCKED);
    ck_assert_ptr_nonnull(strstr(why, "neither IPv4 nor IPv6"));
    ck_assert_int_eq(policy_check_addr(p, NULL, why, sizeof why), RC_BLOCKED);
    policy_free(p);
}
END_TEST

/* Policies with lists, and what they decide. */
static const struct {
    const char *allow, *deny;
    struct addr_case c;
} list_cases[] = {
    /* allow_networks = 127.0.0.0/8 (quickstart's RENDERCGI_ALLOW_LOOPBACK) admits
     * IPv4 loopback, also IPv4-mapped, but never ::1. */
    {"127.0.0.0/8", NULL, {"127.0.0.1", RC_OK, NULL}},
    {"127.0.0.0/8", NULL, {"127.255.255.254", RC_OK, NULL}},
    {"127.0.0.0/8", NULL, {"::ffff:127.0.0.1", RC_OK, NULL}},
    {"127.0.0.0/8",
     NULL,
     {"::1", RC_BLOCKED, "::1 is loopback (::1/128); not in allow_networks"}},
    {"127.0.0.0/8", NULL, {"10.0.0.1", RC_BLOCKED, "private"}},
    {"127.0.0.0/8", NULL, {"169.254.169.254", RC_BLOCKED, "link-local"}},
    /* "All IPv6" does not admit IPv4 through the mapped form. */
    {"::/0", NULL, {"::1", RC_OK, NULL}},
    {"::/0", NULL, {"fd00::1", RC_OK, NULL}},
    {"::/0", NULL, {"::ffff:127.0.0.1", RC_BLOCKED, "loopback (127.0.0.0/8)"}},
    {"::/0", NULL, {"127.0.0.1", RC_BLOCKED, "loopback (127.0.0.0/8)"}},
    {"0.0.0.0/0", NULL, {"10.0.0.1", RC_OK, NULL}},
    {"0.0.0.0/0", NULL, {"::ffff:10.0.0.1", RC_OK, NULL}},
    {"0.0.0.0/0", NULL, {"::1", RC_BLOCKED, "loopback (::1/128)"}},
    {"::ffff:10.0.0.0/104", NULL, {"10.1.2.3", RC_OK, NULL}},
    {"::ffff:10.0.0.0/104", NULL, {"::ffff:10.1.2.3", RC_OK, NULL}},
    {"::ffff:10.0.0.0/104", NULL, {"172.16.0.1", RC_BLOCKED, "private"}},
    {"fc00::/7", NULL, {"fd00::1", RC_OK, NULL}},
    {"fc00::/7", NULL, {"fe80::1", RC_BLOCKED, "link-local"}},
    /* An allowed IPv4 network is allowed behind NAT64/6to4 too. */
    {"10.0.0.0/8", NULL, {"64:ff9b::10.0.0.1", RC_OK, NULL}},
    {"10.0.0.0/8", NULL, {"2002:a00:1::", RC_OK, NULL}},
    {"64:ff9b::/96", NULL, {"64:ff9b::10.0.0.1", RC_OK, NULL}},
    /* deny_networks wins over allow_networks... */
    {"10.0.0.0/8",
     "10.1.0.0/16",
     {"10.1.2.3", RC_BLOCKED, "10.1.2.3 is in deny_networks (10.1.0.0/16)"}},
    {"10.0.0.0/8", "10.1.0.0/16", {"10.2.0.1", RC_OK, NULL}},
    {"10.0.0.0/8",
     "10.1.0.0/16",
     {"::ffff:10.1.2.3", RC_BLOCKED, "::ffff:10.1.2.3 is in deny_networks (10.1.0.0/16)"}},
    {"127.0.0.0/8", "127.0.0.0/8", {"127.0.0.1", RC_BLOCKED, "in deny_networks (127.0.0.0/8)"}},
    {"64:ff9b::/96",
     "10.0.0.0/8",
     {"64:ff9b::10.0.0.1", RC_BLOCKED,
      "64:ff9b::a00:1 (NAT64 for 10.0.0.1) is in deny_networks "
      "(10.0.0.0/8)"}},
    {"0.0.0.0/0, ::/0", "fd00::/8", {"fd00::1", RC_BLOCKED, "in deny_networks (fd00::/8)"}},
    /* ...and refuses public addresses, in every form. */
    {NULL,
     "93.184.216.0/24, 2606:2800:220::/48",
     {"93.184.216.34", RC_BLOCKED,
      "93.184.216.34 is in deny_networks "
      "(93.184.216.0/24)"}},
    {NULL, "93.184.216.0/24", {"::ffff:93.184.216.34", RC_BLOCKED, "in deny_networks"}},
    {NULL,
     "93.184.216.0/24",
     {"64:ff9b::93.184.216.34", RC_BLOCKED,
      "64:ff9b::5db8:d822 (NAT64 for 93.184.216.34) is in "
      "deny_networks (93.184.216.0/24)"}},
    {NULL, "93.184.216.0/24", {"2002:5db8:d822::1", RC_BLOCKED, "in deny_networks"}},
    {NULL, "93.184.216.0/24", {"93.184.217.1", RC_OK, NULL}},
    {NULL,
     "2606:2800:220::/48",
     {"2606:2800:220:1::1", RC_BLOCKED,
      "2606:2800:220:1::1 is in deny_networks "
      "(2606:2800:220::/48)"}},
    {NULL, "2606:2800:220::/48", {"2606:2800:221::1", RC_OK, NULL}},
};

START_TEST(allow_and_deny_lists_decide_in_order)
{
    struct policy *p = make_policy(list_cases[_i].allow, list_cases[_i].deny);
    char label[256];

    snprintf(label, sizeof label, "allow=%s deny=%s",
             list_cases[_i].allow ? list_cases[_i].allow : "-",
             list_cases[_i].deny ? list_cases[_i].deny : "-");
    run_addr_case(p, &list_cases[_i].c, label);
    policy_free(p);
}
END_TEST

static const struct {
    const char *allow, *deny;
    const char *err;
} policy_bad[] = {
    {"10.0.0.1/8", NULL,
     "allow_networks: '10.0.0.1/8': host bits are set (did you mean 10.0.0.0/8?)"},
    {"10.0.0.0/8, bogus", NULL, "allow_networks: 'bogus'"},
    {NULL, "bogus", "deny_networks: 'bogus'"},
    {"127.0.0.0/8", "::1/129", "deny_networks: '::1/129': prefix length 129 is over 128"},
    {"localhost", NULL, "allow_networks: 'localhost'"},
    {"10.0.0.0/8,,::1", NULL, "allow_networks: empty item"},
};

START_TEST(bad_network_entries_are_refused_by_name)
{
    struct policy *p = (struct policy *)1;
    char err[256] = "";

    ck_assert_int_eq(policy_new(policy_bad[_i].allow, policy_bad[_i].deny, &p, err, sizeof err),
                     RC_INVALID);
    ck_assert_ptr_null(p);
    ck_assert_msg(strstr(err, policy_bad[_i].err) != NULL, "error '%s' lacks '%s'", err,
                  policy_bad[_i].err);
}
END_TEST

/* ---- policy: schemes and URLs ----------------------------------------- */

static const struct {
    const char *url;
    int rc;
    const char *why;
} scheme_cases[] = {
    {"http://example.com/", RC_OK, NULL},
    {"https://example.com/", RC_OK, NULL},
    {"HTTPS://example.com/", RC_OK, NULL},
    {"file:///etc/passwd", RC_BLOCKED, "scheme 'file' is not allowed (only http and https)"},
    {"FILE:///etc/passwd", RC_BLOCKED, "scheme 'file'"},
    {"chrome://settings", RC_BLOCKED, "scheme 'chrome'"},
    {"chrome-extension://abc/x.html", RC_BLOCKED, "scheme 'chrome-extension'"},
    {"view-source:http://example.com/", RC_BLOCKED, "scheme 'view-source'"},
    {"javascript:alert(1)", RC_BLOCKED, "scheme 'javascript'"},
    {"data:text/html,<h1>x</h1>", RC_BLOCKED, "scheme 'data'"},
    {"ftp://example.com/", RC_BLOCKED, "scheme 'ftp'"},
    {"about:blank", RC_BLOCKED, "scheme 'about'"},
    {"blob:http://example.com/uuid", RC_BLOCKED, "scheme 'blob'"},
    {"filesystem:http://example.com/temporary/x", RC_BLOCKED, "scheme 'filesystem'"},
    {"ws://example.com/", RC_BLOCKED, "scheme 'ws'"},
    {"wss://example.com/", RC_BLOCKED, "scheme 'wss'"},
    {"devtools://devtools/bundled/inspector.html", RC_BLOCKED, "scheme 'devtools'"},
    {"mailto:a@example.com", RC_BLOCKED, "scheme 'mailto'"},
    {"localhost:8080", RC_BLOCKED, "scheme 'localhost'"},
    {"", RC_INVALID, "not an absolute URL"},
    {"example.com/x", RC_INVALID, "not an absolute URL"},
    {" javascript:alert(1)", RC_INVALID, "not an absolute URL"},
    {"jav\tascript:alert(1)", RC_INVALID, "not an absolute URL"},
    {"127.0.0.1:8080", RC_INVALID, "not an absolute URL"},
    {"//example.com/", RC_INVALID, "not an absolute URL"},
};

START_TEST(only_http_and_https_schemes_pass)
{
    char why[256];
    int rc = policy_check_scheme(scheme_cases[_i].url, why, sizeof why);

    ck_assert_msg(rc == scheme_cases[_i].rc, "%s: %s (%s)", scheme_cases[_i].url, rc_name(rc),
                  why);
    if (scheme_cases[_i].why != NULL)
        ck_assert_msg(strstr(why, scheme_cases[_i].why) != NULL, "%s: '%s' lacks '%s'",
                      scheme_cases[_i].url, why, scheme_cases[_i].why);
}
END_TEST

static const struct {
    const char *allow;
    const char *url;
    int rc;
    const char *why;
} url_policy_cases[] = {
    {NULL, "http://127.0.0.1/", RC_BLOCKED,
     "127.0.0.1 is loopback (127.0.0.0/8); not in allow_networks"},
    {NULL, "http://localhost/", RC_BLOCKED,
     "host localhost: ::1 is loopback (::1/128); not in allow_networks"},
    {NULL, "http://LOCALHOST:8080/x", RC_BLOCKED, "host localhost: "},
    {NULL, "http://localhost./", RC_BLOCKED, "host localhost.: ::1 is loopback"},
    {NULL, "http://foo.localhost/", RC_BLOCKED, "host foo.localhost: ::1 is loopback"},
    {NULL, "http://a.b.localhost./", RC_BLOCKED, "loopback"},
    {NULL, "http://%6cocalhost/", RC_BLOCKED, "host localhost: "},
    {NULL, "http://2130706433/", RC_BLOCKED, "127.0.0.1 is loopback"},
    {NULL, "http://0x7f.1/", RC_BLOCKED, "127.0.0.1 is loopback"},
    {NULL, "http://017700000001/", RC_BLOCKED, "127.0.0.1 is loopback"},
    {NULL, "http://127.1:8080/", RC_BLOCKED, "127.0.0.1 is loopback"},
    {NULL, "http://127.0.0.1./", RC_BLOCKED, "127.0.0.1 is loopback"},
    {NULL, "http://%31%32%37.0.0.1/", RC_BLOCKED, "127.0.0.1 is loopback"},
    {NULL, "http://0/", RC_BLOCKED, "0.0.0.0 is unspecified"},
    {NULL, "http://169.254.169.254/latest/meta-data/", RC_BLOCKED,
     "169.254.169.254 is link-local (169.254.0.0/16); not in allow_networks"},
    {NULL, "http://0xa9fea9fe/", RC_BLOCKED, "169.254.169.254 is link-local"},
    {NULL, "http://user:pw@10.0.0.1/", RC_BLOCKED, "10.0.0.1 is private"},
    {NULL, "http://[::1]/", RC_BLOCKED, "::1 is loopback"},
    {NULL, "http://[::ffff:127.0.0.1]/", RC_BLOCKED, "::ffff:127.0.0.1 is loopback"},
    {NULL, "http://[::ffff:10.0.0.1]:8080/", RC_BLOCKED, "::ffff:10.0.0.1 is private"},
    {NULL, "http://[64:ff9b::10.0.0.1]/", RC_BLOCKED, "(NAT64 for 10.0.0.1) is private"},
    {NULL, "http://[2002:a00:1::1]/", RC_BLOCKED, "(6to4 for 10.0.0.1) is private"},
    {NULL, "http://[fe80::1]/", RC_BLOCKED, "link-local"},
    {NULL, "http://93.184.216.34/", RC_OK, NULL},
    {NULL, "https://[2606:2800:220:1::1]:443/", RC_OK, NULL},
    {NULL, "https://[64:ff9b::93.184.216.34]/", RC_OK, NULL},
    {NULL, "file:///etc/passwd", RC_BLOCKED, "scheme 'file'"},
    {NULL, "javascript:fetch('http://127.0.0.1/')", RC_BLOCKED, "scheme 'javascript'"},
    {NULL, "view-source:http://93.184.216.34/", RC_BLOCKED, "scheme 'view-source'"},
    {NULL, "http://evil.com\\@127.0.0.1/", RC_INVALID, "backslash"},
    {NULL, "http:\\\\127.0.0.1/", RC_INVALID, "'//'"},
    {NULL, "http:127.0.0.1/", RC_INVALID, "'//'"},
    {NULL, "http://127.0.0.1\t/", RC_INVALID, "control character"},
    {NULL, " http://127.0.0.1/", RC_INVALID, "not an absolute URL"},
    {NULL, "http://1.2.3.4.5/", RC_INVALID, "not a valid IPv4"},
    {NULL, "not a url", RC_INVALID, "not an absolute URL"},
    /* Only IPv4 loopback allowed: literal 127.x passes, localhost does not
     * (Chromium may connect to ::1), nor does [::1]. */
    {"127.0.0.0/8", "http://127.0.0.1:8080/", RC_OK, NULL},
    {"127.0.0.0/8", "http://2130706433:8080/", RC_OK, NULL},
    {"127.0.0.0/8", "http://localhost:8080/", RC_BLOCKED,
     "host localhost: ::1 is loopback (::1/128); not in allow_networks"},
    {"127.0.0.0/8", "http://[::1]:8080/", RC_BLOCKED, "::1 is loopback"},
    {"127.0.0.0/8", "http://10.0.0.1/", RC_BLOCKED, "private"},
    {"::1", "http://localhost/", RC_BLOCKED,
     "host localhost: 127.0.0.1 is loopback (127.0.0.0/8)"},
    {"127.0.0.0/8, ::1", "http://localhost:8080/", RC_OK, NULL},
    {"127.0.0.0/8, ::1", "http://x.localhost/", RC_OK, NULL},
};

START_TEST(url_policy_checks_scheme_shape_and_every_address)
{
    struct policy *p = make_policy(url_policy_cases[_i].allow, NULL);
    char why[512];
    int rc = policy_check_url(p, url_policy_cases[_i].url, why, sizeof why);

    ck_assert_msg(rc == url_policy_cases[_i].rc, "%s (allow %s): %s (%s), expected %s",
                  url_policy_cases[_i].url,
                  url_policy_cases[_i].allow ? url_policy_cases[_i].allow : "-", rc_name(rc),
                  why, rc_name(url_policy_cases[_i].rc));
    if (url_policy_cases[_i].why != NULL)
        ck_assert_msg(strstr(why, url_policy_cases[_i].why) != NULL, "%s: '%s' lacks '%s'",
                      url_policy_cases[_i].url, why, url_policy_cases[_i].why);
    policy_free(p);
}
END_TEST

START_TEST(unresolvable_host_is_not_found)
{
    /* glibc refuses a 64-byte DNS label before sending any query, so this
     * name fails to resolve without network traffic. */
    struct policy *p = make_policy(NULL, NULL);
    char url[128], why[512];

    strcpy(url, "http://");
    memset(url + 7, 'a', 64);
    strcpy(url + 71, ".invalid/");
    ck_assert_int_eq(policy_check_url(p, url, why, sizeof why), RC_NOT_FOUND);
    ck_assert_msg(strncmp(why, "cannot resolve host aaaa", 24) == 0, "why: %s", why);
    policy_free(p);
}
END_TEST

/* A resolved list on the stack: addresses in text. */
struct fake_list {
    struct addrinfo ai[4];
    struct sockaddr_storage ss[4];
};

static const struct addrinfo *
fake_resolve(struct fake_list *l, const char *const *addrs, size_t n)
{
    size_t i;

    memset(l, 0, sizeof *l);
    for (i = 0; i < n; i++) {
        const struct sockaddr *sa = sockaddr_of(addrs[i], &l->ss[i]);

        l->ai[i].ai_family = sa->sa_family;
        l->ai[i].ai_socktype = SOCK_STREAM;
        l->ai[i].ai_addr = (struct sockaddr *)&l->ss[i];
        l->ai[i].ai_addrlen =
            sa->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
        l->ai[i].ai_next = i + 1 < n ? &l->ai[i + 1] : NULL;
    }
    return n > 0 ? &l->ai[0] : NULL;
}

START_TEST(every_resolved_address_must_be_allowed)
{
    struct policy *p = make_policy(NULL, NULL);
    struct fake_list l;
    char why[512];
    const char *public[] = {"93.184.216.34", "2606:2800:220:1::1"};
    const char *mixed[] = {"93.184.216.34", "2606:2800:220:1::1", "10.0.0.5"};
    const char *rebind[] = {"::ffff:93.184.216.34", "::ffff:192.168.1.1"};

    ck_assert_int_eq(
        policy_check_addrinfo(p, "www.example", fake_resolve(&l, public, 2), why, sizeof why),
        RC_OK);
    ck_assert_int_eq(
        policy_check_addrinfo(p, "mixed.example", fake_resolve(&l, mixed, 3), why, sizeof why),
        RC_BLOCKED);
    ck_assert_str_eq(
        why, "host mixed.example: 10.0.0.5 is private (10.0.0.0/8); not in allow_networks");
    ck_assert_int_eq(
        policy_check_addrinfo(p, "r.example", fake_resolve(&l, rebind, 2), why, sizeof why),
        RC_BLOCKED);
    ck_assert_ptr_nonnull(strstr(why, "::ffff:192.168.1.1 is private (192.168.0.0/16)"));
    ck_assert_int_eq(policy_check_addrinfo(p, "none.example", NULL, why, sizeof why),
                     RC_NOT_FOUND);
    ck_assert_str_eq(why, "cannot resolve host none.example: no addresses");
    policy_free(p);
}
END_TEST

/* ---- thread safety ------------------------------------------------------ */

struct worker_arg {
    const struct policy *p;
    int failures;
};

static void *
hammer(void *arg)
{
    struct worker_arg *w = arg;
    char why[256];
    int i;

    for (i = 0; i < 2000; i++) {
        if (policy_check_url(w->p, "http://0x7f.1/", why, sizeof why) != RC_BLOCKED ||
            strstr(why, "loopback") == NULL)
            w->failures++;
        if (policy_check_url(w->p, "https://93.184.216.34/", why, sizeof why) != RC_OK)
            w->failures++;
        if (policy_check_url(w->p, "http://x.localhost/", why, sizeof why) != RC_BLOCKED)
            w->failures++;
        if (policy_check_url(w->p, "http://10.1.2.3/", why, sizeof why) != RC_BLOCKED ||
            strstr(why, "deny_networks (10.1.0.0/16)") == NULL)
            w->failures++;
    }
    return NULL;
}

START_TEST(one_policy_serves_many_threads)
{
    struct policy *p = make_policy("10.0.0.0/8", "10.1.0.0/16");
    pthread_t t[8];
    struct worker_arg w[8];
    size_t i;

    for (i = 0; i < N(t); i++) {
        w[i].p = p;
        w[i].failures = 0;
        ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, &w[i]), 0);
    }
    for (i = 0; i < N(t); i++) {
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
        ck_assert_int_eq(w[i].failures, 0);
    }
    policy_free(p);
}
END_TEST

/* --- the policy proxy (fcgi-worker/proxy.c) --- */

static const struct connect_case {
    const char *name;
    const char *bytes;
    size_t len;
    int rc;
    const char *host;
    int port;
    int reply;
} connect_cases[] = {
    { "ipv4", "\x05\x01\x00\x01\x7f\x00\x00\x01\x1f\x90", 10, RC_OK, "127.0.0.1", 8080, 0 },
    { "ipv6", "\x05\x01\x00\x04\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\x00\x50", 22, RC_OK, "::1",
      80, 0 },
    { "name", "\x05\x01\x00\x03\x0b" "example.org\x01\xbb", 18, RC_OK, "example.org", 443, 0 },
    { "bracketed v6 name", "\x05\x01\x00\x03\x05[::1]\x00\x50", 12, RC_OK, "::1", 80, 0 },
    { "short header", "\x05\x01\x00", 3, RC_DECLINED, NULL, 0, 1 },
    { "short name", "\x05\x01\x00\x03\x0b" "example", 12, RC_DECLINED, NULL, 0, 1 },
    { "bind", "\x05\x02\x00\x01\x7f\x00\x00\x01\x1f\x90", 10, RC_INVALID, NULL, 0, 7 },
    { "udp associate", "\x05\x03\x00\x01\x7f\x00\x00\x01\x1f\x90", 10, RC_INVALID, NULL, 0, 7 },
    { "bad address type", "\x05\x01\x00\x09\x7f\x00\x00\x01\x1f\x90", 10, RC_INVALID, NULL, 0,
      8 },
    { "socks4", "\x04\x01\x00\x50\x7f\x00\x00\x01\x00", 9, RC_INVALID, NULL, 0, 1 },
    { "empty name", "\x05\x01\x00\x03\x00\x00\x50", 7, RC_INVALID, NULL, 0, 1 },
    { "nul in name", "\x05\x01\x00\x03\x03" "a\0b\x00\x50", 10, RC_INVALID, NULL, 0, 1 },
};

START_TEST(proxy_parses_socks5_connect_requests)
{
    const struct connect_case *c = &connect_cases[_i];
    char host[256] = "";
    int port = -1, reply = -1;
    size_t used = 0;
    int rc = proxy_parse_connect((const unsigned char *)c->bytes, c->len, host, sizeof host,
                                 &port, &used, &reply);

    ck_assert_msg(rc == c->rc, "%s: rc %d, want %d", c->name, rc, c->rc);
    if (c->rc == RC_OK) {
        ck_assert_str_eq(host, c->host);
        ck_assert_int_eq(port, c->port);
        ck_assert_uint_eq(used, c->len);
    }
    if (c->rc == RC_INVALID)
        ck_assert_msg(reply == c->reply, "%s: reply %d, want %d", c->name, reply, c->reply);
}
END_TEST

/* A loopback listener that echoes one connection. */
struct echo {
    int fd, port;
    pthread_t t;
};

static void *
echo_main(void *arg)
{
    struct echo *e = arg;
    char buf[256];
    ssize_t n;
    int c = accept(e->fd, NULL, NULL);

    if (c < 0)
        return NULL;
    while ((n = read(c, buf, sizeof buf)) > 0)
        if (write(c, buf, (size_t)n) != n)
            break;
    close(c);
    return NULL;
}

static void
echo_start(struct echo *e)
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    socklen_t len = sizeof sin;

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    e->fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(e->fd, 0);
    ck_assert_int_eq(bind(e->fd, (struct sockaddr *)&sin, sizeof sin), 0);
    ck_assert_int_eq(listen(e->fd, 4), 0);
    ck_assert_int_eq(getsockname(e->fd, (struct sockaddr *)&sin, &len), 0);
    e->port = ntohs(sin.sin_port);
    ck_assert_int_eq(pthread_create(&e->t, NULL, echo_main, e), 0);
}

/* SOCKS5 handshake to the proxy for host:port; returns the connected
 * socket and the reply code in *reply. */
static int
socks_connect(int proxy_port, const char *host, int port, int *reply)
{
    struct sockaddr_in sin = { .sin_family = AF_INET };
    unsigned char req[300], rep[10];
    size_t n = strlen(host), got = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons((uint16_t)proxy_port);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    ck_assert_int_eq(write(fd, "\x05\x01\x00", 3), 3);
    ck_assert_int_eq(read(fd, rep, 2), 2);
    ck_assert_int_eq(rep[0], 5);
    ck_assert_int_eq(rep[1], 0);
    memcpy(req, "\x05\x01\x00\x03", 4);
    req[4] = (unsigned char)n;
    memcpy(req + 5, host, n);
    req[5 + n] = (unsigned char)(port >> 8);
    req[6 + n] = (unsigned char)(port & 0xff);
    ck_assert_int_eq(write(fd, req, 7 + n), (ssize_t)(7 + n));
    while (got < sizeof rep) {
        ssize_t r = read(fd, rep + got, sizeof rep - got);
        ck_assert_int_gt(r, 0);
        got += (size_t)r;
    }
    *reply = rep[1];
    return fd;
}

START_TEST(proxy_relays_allowed_and_refuses_denied_connections)
{
    struct policy *p;
    struct proxy *px;
    struct echo e;
    char err[256], why[600], buf[16];
    int fd, reply;
    int64_t t0 = clock_ms();

    ck_assert_int_eq(policy_new("127.0.0.0/8", "127.0.0.2/32", &p, err, sizeof err), RC_OK);
    ck_assert_int_eq(proxy_start(p, &px, err, sizeof err), RC_OK);
    echo_start(&e);

    /* Denied, as an address and as a name that resolves there. */
    fd = socks_connect(proxy_port(px), "127.0.0.2", e.port, &reply);
    ck_assert_int_eq(reply, 2);
    close(fd);
    ck_assert_int_eq(proxy_refusal(px, "127.0.0.2", t0, why, sizeof why), RC_OK);
    ck_assert_msg(strstr(why, "deny_networks") != NULL, "%s", why);
    ck_assert_int_eq(proxy_refusal(px, "127.0.0.2", clock_ms() + 1000, why, sizeof why),
                     RC_NOT_FOUND);
    ck_assert_int_eq(proxy_refusal(px, "127.0.0.1", t0, why, sizeof why), RC_NOT_FOUND);
    /* localhost is ::1 too, which 127.0.0.0/8 does not admit. */
    fd = socks_connect(proxy_port(px), "localhost", e.port, &reply);
    ck_assert_int_eq(reply, 2);
    close(fd);

    /* A client that sends its request right behind a two-method greeting,
     * without waiting for the method reply: the proxy reads both. */
    {
        struct sockaddr_in sin = { .sin_family = AF_INET };
        unsigned char rep[12];
        size_t got = 0;
        const unsigned char msg[] = { 5, 2, 2, 0, 5, 1, 0, 1, 127, 0, 0, 2,
                                      (unsigned char)(e.port >> 8), (unsigned char)e.port };

        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sin.sin_port = htons((uint16_t)proxy_port(px));
        fd = socket(AF_INET, SOCK_STREAM, 0);
        ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
        ck_assert_int_eq(write(fd, msg, sizeof msg), (ssize_t)sizeof msg);
        while (got < sizeof rep) {
            ssize_t r = read(fd, rep + got, sizeof rep - got);
            ck_assert_msg(r > 0, "the proxy closed after %zu reply bytes", got);
            got += (size_t)r;
        }
        ck_assert_int_eq(rep[0], 5);
        ck_assert_int_eq(rep[1], 0);   /* method: no authentication */
        ck_assert_int_eq(rep[3], 2);   /* CONNECT: not allowed by ruleset */
        close(fd);
    }

    /* Allowed: relayed both ways; left open for proxy_stop to end. */
    fd = socks_connect(proxy_port(px), "127.0.0.1", e.port, &reply);
    ck_assert_int_eq(reply, 0);
    ck_assert_int_eq(write(fd, "ping", 4), 4);
    ck_assert_int_eq(read(fd, buf, 4), 4);
    ck_assert_int_eq(memcmp(buf, "ping", 4), 0);

    proxy_stop(px);
    ck_assert_int_eq(read(fd, buf, sizeof buf), 0);
    close(fd);
    pthread_join(e.t, NULL);
    close(e.fd);
    policy_free(p);
}
END_TEST

int
main(void)
{
    Suite *s;
    TCase *tc;
    SRunner *sr;
    int failed;

    s = suite_create("policy");

    tc = tcase_create("cidr");
    tcase_add_loop_test(tc, cidr_parse_accepts_prefixes_and_formats_them_back, 0,
                        (int)N(cidr_good));
    tcase_add_loop_test(tc, cidr_parse_refuses_malformed_prefixes, 0, (int)N(cidr_bad));
    tcase_add_test(tc, cidr_list_with_blanks_parses_every_item);
    tcase_add_test(tc, cidr_empty_or_blank_list_is_valid_and_null);
    tcase_add_loop_test(tc, cidr_list_names_the_bad_item, 0, (int)N(cidr_list_bad));
    tcase_add_loop_test(tc, cidr_match_follows_prefix_and_mapped_rules, 0,
                        (int)N(cidr_matches));
    tcase_add_test(tc, cidr_match_refuses_other_families);
    suite_add_tcase(s, tc);

    tc = tcase_create("url");
    tcase_add_loop_test(tc, url_parse_agrees_with_the_browser_or_refuses, 0, (int)N(url_cases));
    tcase_add_test(tc, url_parse_refuses_overlong_hosts);
    tcase_add_loop_test(tc, url_decode_decodes_or_leaves_the_string_alone, 0,
                        (int)N(decode_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("policy");
    tcase_add_loop_test(tc, default_policy_blocks_special_ranges_and_allows_public, 0,
                        (int)N(default_cases));
    tcase_add_test(tc, empty_lists_are_the_default_policy);
    tcase_add_test(tc, other_address_families_are_blocked);
    tcase_add_loop_test(tc, allow_and_deny_lists_decide_in_order, 0, (int)N(list_cases));
    tcase_add_loop_test(tc, bad_network_entries_are_refused_by_name, 0, (int)N(policy_bad));
    tcase_add_loop_test(tc, only_http_and_https_schemes_pass, 0, (int)N(scheme_cases));
    tcase_add_loop_test(tc, url_policy_checks_scheme_shape_and_every_address, 0,
                        (int)N(url_policy_cases));
    tcase_add_test(tc, unresolvable_host_is_not_found);
    tcase_add_test(tc, every_resolved_address_must_be_allowed);
    tcase_add_test(tc, one_policy_serves_many_threads);
    suite_add_tcase(s, tc);

    tc = tcase_create("proxy");
    tcase_add_loop_test(tc, proxy_parses_socks5_connect_requests, 0, (int)N(connect_cases));
    tcase_add_test(tc, proxy_relays_allowed_and_refuses_denied_connections);
    suite_add_tcase(s, tc);

    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
