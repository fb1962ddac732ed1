/* policy.c — the URL and address policy of API.md §6; see policy.h for the
 * rule.
 *
 * A struct policy owns its two parsed CIDR lists and a parsed copy of the
 * default-deny table; nothing changes after policy_new(), so request threads
 * share one policy without locks. The only I/O is getaddrinfo(3) in
 * policy_resolve() (for policy_check_url() and the proxy); everything else is a pure
 * function of its arguments. */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "policy.h"
#include "rc.h"
#include "url.h"

/* How a default-deny row treats an address inside it. */
enum row_kind {
    ROW_BLOCK, /* refused unless allow_networks admits it */
    ROW_EMBED, /* carries an IPv4 address at 'offset': that address decides */
};

struct deny_row {
    const char *net;
    const char *name; /* reads as "<address> is <name>" */
    enum row_kind kind;
    int offset; /* ROW_EMBED: byte offset of the embedded IPv4 address */
};

/* The default-deny set (IANA special-purpose registries). Where rows
 * overlap the more specific comes first, since the first match names the
 * rule. ::ffff:0:0/96 (IPv4-mapped) has no row: such an address is judged
 * as the IPv4 address it maps, before this table is consulted. */
static const struct deny_row default_deny[] = {
    {"0.0.0.0/8", "unspecified", ROW_BLOCK, 0},
    {"10.0.0.0/8", "private", ROW_BLOCK, 0},
    {"100.64.0.0/10", "CGNAT", ROW_BLOCK, 0},
    {"127.0.0.0/8", "loopback", ROW_BLOCK, 0},
    {"169.254.0.0/16", "link-local", ROW_BLOCK, 0},
    {"172.16.0.0/12", "private", ROW_BLOCK, 0},
    {"192.0.0.0/24", "IETF-reserved", ROW_BLOCK, 0},
    {"192.0.2.0/24", "documentation", ROW_BLOCK, 0},
    {"192.88.99.0/24", "6to4 relay anycast", ROW_BLOCK, 0},
    {"192.168.0.0/16", "private", ROW_BLOCK, 0},
    {"198.18.0.0/15", "benchmarking", ROW_BLOCK, 0},
    {"198.51.100.0/24", "documentation", ROW_BLOCK, 0},
    {"203.0.113.0/24", "documentation", ROW_BLOCK, 0},
    {"224.0.0.0/4", "multicast", ROW_BLOCK, 0},
    {"255.255.255.255/32", "broadcast", ROW_BLOCK, 0},
    {"240.0.0.0/4", "reserved", ROW_BLOCK, 0},
    {"::/128", "unspecified", ROW_BLOCK, 0},
    {"::1/128", "loopback", ROW_BLOCK, 0},
    /* Deprecated "IPv4-compatible" addresses; Linux's sit0 can still
     * tunnel them to the embedded IPv4 address. */
    {"::/96", "IPv4-compatible (deprecated)", ROW_BLOCK, 0},
    {"::ffff:0:0:0/96", "IPv4-translated", ROW_BLOCK, 0},
    /* NAT64 is how IPv6-only hosts reach the IPv4 internet: judge the
     * IPv4 address behind it rather than refusing all of it. */
    {"64:ff9b::/96", "NAT64", ROW_EMBED, 12},
    {"64:ff9b:1::/48", "local-use NAT64", ROW_BLOCK, 0},
    {"100::/64", "discard-only", ROW_BLOCK, 0},
    /* Teredo tunnels to an obfuscated IPv4 client address; nothing one
     * renders lives there. The rest of 2001::/23 are protocol anycasts,
     * benchmarking and ORCHID ranges: no web pages either. */
    {"2001::/32", "Teredo", ROW_BLOCK, 0},
    {"2001::/23", "IETF-reserved", ROW_BLOCK, 0},
    {"2001:db8::/32", "documentation", ROW_BLOCK, 0},
    {"2002::/16", "6to4", ROW_EMBED, 2},
    {"3fff::/20", "documentation", ROW_BLOCK, 0},
    {"fc00::/7", "private", ROW_BLOCK, 0},
    {"fe80::/10", "link-local", ROW_BLOCK, 0},
    {"fec0::/10", "site-local (deprecated)", ROW_BLOCK, 0},
    {"ff00::/8", "multicast", ROW_BLOCK, 0},
};

#define N_DEFAULT (sizeof default_deny / sizeof default_deny[0])

struct policy {
    struct cidr *allow; /* owned; NULL when empty */
    size_t nallow;
    struct cidr *deny; /* owned; NULL when empty */
    size_t ndeny;
    struct cidr defaults[N_DEFAULT]; /* default_deny[i].net, parsed */
};

/* An address as bytes: 4 for AF_INET, 16 for AF_INET6. */
struct ipaddr {
    int family;
    unsigned char b[16];
};

static const unsigned char v4mapped_prefix[12] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
};

static void say(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;

    if (why == NULL || whylen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

int
policy_new(const char *allow_networks, const char *deny_networks, struct policy **out,
           char *err, size_t errlen)
{
    struct policy *p = NULL;
    char cerr[256];
    size_t i;
    int rc = RC_ERROR;

    *out = NULL;
    say(err, errlen, "%s", "");
    if ((p = calloc(1, sizeof *p)) == NULL) {
        say(err, errlen, "out of memory");
        goto fail;
    }
    for (i = 0; i < N_DEFAULT; i++) {
        if (cidr_parse(default_deny[i].net, &p->defaults[i]) != RC_OK) {
            /* A bug in the table above, caught by the first unit test. */
            say(err, errlen, "built-in range %s does not parse", default_deny[i].net);
            goto fail;
        }
    }
    if (cidr_list_parse(allow_networks, &p->allow, &p->nallow, cerr, sizeof cerr) != RC_OK) {
        say(err, errlen, "allow_networks: %s", cerr);
        rc = RC_INVALID;
        goto fail;
    }
    if (cidr_list_parse(deny_networks, &p->deny, &p->ndeny, cerr, sizeof cerr) != RC_OK) {
        say(err, errlen, "deny_networks: %s", cerr);
        rc = RC_INVALID;
        goto fail;
    }
    *out = p;
    return RC_OK;
fail:
    policy_free(p);
    return rc;
}

void
policy_free(struct policy *p)
{
    if (p == NULL)
        return;
    free(p->allow);
    free(p->deny);
    free(p);
}

static const struct cidr *
list_find(const struct cidr *list, size_t n, const struct ipaddr *a)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (cidr_contains(&list[i], a->family, a->b))
            return &list[i];
    return NULL;
}

/* The first default-deny row of 'kind' holding 'a', or -1. */
static int
default_find(const struct policy *p, enum row_kind kind, const struct ipaddr *a)
{
    size_t i;

    for (i = 0; i < N_DEFAULT; i++)
        if (default_deny[i].kind == kind && cidr_contains(&p->defaults[i], a->family, a->b))
            return (int)i;
    return -1;
}

int
policy_check_addr(const struct policy *p, const struct sockaddr *sa, char *why, size_t whylen)
{
    char text[INET6_ADDRSTRLEN], etext[INET_ADDRSTRLEN], net[INET6_ADDRSTRLEN + 8];
    char subject[INET6_ADDRSTRLEN + INET_ADDRSTRLEN + 64];
    struct ipaddr a, e;
    const struct cidr *hit;
    int row, embed = -1;

    say(why, whylen, "%s", "");
    if (p == NULL || sa == NULL) {
        say(why, whylen, "no address or no policy");
        return RC_BLOCKED;
    }
    memset(&a, 0, sizeof a);
    if (sa->sa_family == AF_INET) {
        a.family = AF_INET;
        memcpy(a.b, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        a.family = AF_INET6;
        memcpy(a.b, ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr, 16);
    } else {
        say(why, whylen, "address family %d is neither IPv4 nor IPv6", (int)sa->sa_family);
        return RC_BLOCKED;
    }
    inet_ntop(a.family, a.b, text, sizeof text);
    snprintf(subject, sizeof subject, "%s", text);

    /* ::ffff:a.b.c.d goes out as IPv4: it is that address, nothing else. */
    if (a.family == AF_INET6 && memcmp(a.b, v4mapped_prefix, sizeof v4mapped_prefix) == 0) {
        a.family = AF_INET;
        memmove(a.b, a.b + 12, 4);
        memset(a.b + 4, 0, 12);
    }

    if (a.family == AF_INET6 && (embed = default_find(p, ROW_EMBED, &a)) >= 0) {
        memset(&e, 0, sizeof e);
        e.family = AF_INET;
        memcpy(e.b, a.b + default_deny[embed].offset, 4);
        inet_ntop(AF_INET, e.b, etext, sizeof etext);
        snprintf(subject, sizeof subject, "%s (%s for %s)", text, default_deny[embed].name,
                 etext);
    }

    /* deny_networks wins over everything, for either form of the address. */
    if ((hit = list_find(p->deny, p->ndeny, &a)) != NULL ||
        (embed >= 0 && (hit = list_find(p->deny, p->ndeny, &e)) != NULL)) {
        cidr_format(hit, net, sizeof net);
        say(why, whylen, "%s is in deny_networks (%s)", subject, net);
        return RC_BLOCKED;
    }
    if (list_find(p->allow, p->nallow, &a) != NULL ||
        (embed >= 0 && list_find(p->allow, p->nallow, &e) != NULL))
        return RC_OK;

    if ((row = default_find(p, ROW_BLOCK, &a)) < 0 && embed >= 0)
        row = default_find(p, ROW_BLOCK, &e);
    if (row >= 0) {
        cidr_format(&p->defaults[row], net, sizeof net);
        say(why, whylen, "%s is %s (%s); not in allow_networks", subject,
            default_deny[row].name, net);
        return RC_BLOCKED;
    }
    return RC_OK;
}

int
policy_check_addrinfo(const struct policy *p, const char *host, const struct addrinfo *ai,
                      char *why, size_t whylen)
{
    char one[512];
    size_t n = 0;

    say(why, whylen, "%s", "");
    for (; ai != NULL; ai = ai->ai_next) {
        if (ai->ai_addr == NULL)
            continue;
        n++;
        if (policy_check_addr(p, ai->ai_addr, one, sizeof one) != RC_OK) {
            say(why, whylen, "host %s: %s", host, one);
            return RC_BLOCKED;
        }
    }
    if (n == 0) {
        say(why, whylen, "cannot resolve host %s: no addresses", host);
        return RC_NOT_FOUND;
    }
    return RC_OK;
}

int
policy_check_scheme(const char *url, char *why, size_t whylen)
{
    char scheme[33];
    const char *p;
    size_t n, i;

    say(why, whylen, "%s", "");
    if (url == NULL || !((*url >= 'a' && *url <= 'z') || (*url >= 'A' && *url <= 'Z')))
        goto not_absolute;
    for (p = url + 1; (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.';
         p++)
        ;
    if (*p != ':')
        goto not_absolute;
    n = (size_t)(p - url);
    for (i = 0; i < n && i < sizeof scheme - 1; i++)
        scheme[i] = (char)((url[i] >= 'A' && url[i] <= 'Z') ? url[i] - 'A' + 'a' : url[i]);
    scheme[i] = '\0';
    if (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0)
        return RC_OK;
    say(why, whylen, "scheme '%s%s' is not allowed (only http and https)", scheme,
        n > i ? "..." : "");
    return RC_BLOCKED;
not_absolute:
    say(why, whylen, "not an absolute URL (it must start with a scheme, e.g. https://)");
    return RC_INVALID;
}

int
policy_is_localhost(const char *host)
{
    size_t n = strlen(host);
    static const char suffix[] = ".localhost";

    if (n > 0 && host[n - 1] == '.')
        n--;
    if (n == 9 && memcmp(host, "localhost", 9) == 0)
        return 1;
    return n > sizeof suffix - 1 &&
           memcmp(host + n - (sizeof suffix - 1), suffix, sizeof suffix - 1) == 0;
}

int
policy_resolve(const char *host, struct policy_addrs *out, char *why, size_t whylen)
{
    struct addrinfo hints;
    int gai;

    memset(out, 0, sizeof *out);
    say(why, whylen, "%s", "");
    if (policy_is_localhost(host)) {
        out->six.sin6_family = AF_INET6;
        out->six.sin6_addr = in6addr_loopback;
        out->four.sin_family = AF_INET;
        out->four.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        out->local[0].ai_family = AF_INET6;
        out->local[0].ai_addr = (struct sockaddr *)&out->six;
        out->local[0].ai_addrlen = sizeof out->six;
        out->local[0].ai_next = &out->local[1];
        out->local[1].ai_family = AF_INET;
        out->local[1].ai_addr = (struct sockaddr *)&out->four;
        out->local[1].ai_addrlen = sizeof out->four;
        out->list = &out->local[0];
        return RC_OK;
    }
    /* No AI_ADDRCONFIG: judge every address the name has, not only those
     * this machine could use today. */
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if ((gai = getaddrinfo(host, NULL, &hints, &out->res)) != 0) {
        out->res = NULL;
        if (gai == EAI_SYSTEM)
            say(why, whylen, "cannot resolve host %s: %m", host);
        else
            say(why, whylen, "cannot resolve host %s: %s", host, gai_strerror(gai));
        return RC_NOT_FOUND;
    }
    out->list = out->res;
    return RC_OK;
}

void
policy_addrs_free(struct policy_addrs *a)
{
    if (a->res != NULL)
        freeaddrinfo(a->res);
    a->res = NULL;
    a->list = NULL;
}

static int
check_literal(const struct policy *p, const struct url *u, char *why, size_t whylen)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    int ok;

    memset(&ss, 0, sizeof ss);
    if (u->host_is_ip == 4) {
        sin->sin_family = AF_INET;
        ok = inet_pton(AF_INET, u->host, &sin->sin_addr);
    } else {
        sin6->sin6_family = AF_INET6;
        ok = inet_pton(AF_INET6, u->host, &sin6->sin6_addr);
    }
    if (ok != 1) {
        /* url_parse wrote this text itself; it always parses. */
        say(why, whylen, "host '%s' is not an IP address", u->host);
        return RC_INVALID;
    }
    return policy_check_addr(p, (struct sockaddr *)&ss, why, whylen);
}

int
policy_check_url(const struct policy *p, const char *url, char *why, size_t whylen)
{
    struct policy_addrs a;
    struct url u;
    int rc;

    if ((rc = policy_check_scheme(url, why, whylen)) != RC_OK)
        return rc;
    if ((rc = url_parse(url, &u, why, whylen)) != RC_OK)
        return rc;
    if (u.host_is_ip != 0)
        return check_literal(p, &u, why, whylen);
    if ((rc = policy_resolve(u.host, &a, why, whylen)) != RC_OK)
        return rc;
    rc = policy_check_addrinfo(p, u.host, a.list, why, whylen);
    policy_addrs_free(&a);
    return rc;
}
