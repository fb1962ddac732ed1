/* conf.c — the rendercgi.conf parser; see conf.h.
 *
 * Everything about a key lives in one row of the table below: its type, where
 * it is stored, its default, its range and its documentation. Parsing, the
 * defaults, command-line overrides, --print-config and the docs check all
 * read that table, so adding a key is adding a row.
 *
 * The parser collects every problem instead of stopping at the first one, so
 * an operator fixes a config in one round. Cross-key rules run in a separate
 * pass (conf_validate) that still knows the line each key was set on.
 *
 * A struct conf owns all its strings; the parser state below owns nothing
 * that outlives conf_load(). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "cidr.h"
#include "conf.h"
#include "rc.h"

#define GOFF(f) offsetof(struct conf_global, f)
#define POFF(f) offsetof(struct conf_pool, f)
#define G CONF_SCOPE_GLOBAL
#define P CONF_SCOPE_POOL
#define KIB ((int64_t)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

/* The key table. Order is the order of --print-config and --list-keys. */
static const struct conf_opt opts[] = {
    /* [global] */
    { "pid_file", CONF_PATH, G, GOFF(pid_file), "", 0, 0, NULL,
      "file the spawner writes its pid to (removed on exit); empty: none" },
    { "error_log", CONF_PATH, G, GOFF(error_log), "", 0, 0, NULL,
      "file the spawner and its workers append their logs to; empty: stderr" },
    { "log_level", CONF_ENUM, G, GOFF(log_level), "info", 0, 0, "error|warn|info|debug",
      "lowest level of message logged" },
    { "shutdown_timeout", CONF_MSEC, G, GOFF(shutdown_timeout), "30000", 0, 3600000, NULL,
      "on SIGTERM, time workers get to finish in-flight requests before SIGKILL" },
    { "daemonize", CONF_BOOL, G, GOFF(daemonize), "yes", 0, 1, NULL,
      "detach from the terminal at start (--foreground overrides)" },
    { "worker_binary", CONF_PATH, G, GOFF(worker_binary), "", 0, 0, NULL,
      "rendercgi-worker to run; empty: the one beside rendercgi-spawner "
      "(environment RENDERCGI_WORKER overrides both)" },
    { "emergency_restart_threshold", CONF_INT, G, GOFF(emergency_restart_threshold), "0", 0,
      100000, NULL, "this many workers crashing (SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE, "
      "SIGSYS) within emergency_restart_interval restart every worker, one at a time; 0: off" },
    { "emergency_restart_interval", CONF_MSEC, G, GOFF(emergency_restart_interval), "0", 0,
      86400000, NULL, "the window emergency_restart_threshold counts crashes in; 0: off" },

    /* pools: sockets and processes */
    { "listen", CONF_LISTEN, P, POFF(listen), "127.0.0.1:9000", 0, 0, NULL,
      "the pool's FastCGI socket: /abs/path.sock, host:port or [v6addr]:port" },
    { "listen_backlog", CONF_INT, P, POFF(listen_backlog), "511", 1, 65535, NULL,
      "connections the kernel queues before the workers accept them" },
    { "listen_mode", CONF_MODE, P, POFF(listen_mode), "0660", 0, 0777, NULL,
      "permissions of a unix socket file (octal); the web server needs read and write" },
    { "listen_owner", CONF_STRING, P, POFF(listen_owner), "", 0, 0, NULL,
      "owner (user name or uid) of a unix socket file; empty: the spawner's user" },
    { "listen_group", CONF_STRING, P, POFF(listen_group), "", 0, 0, NULL,
      "group (name or gid) of a unix socket file, e.g. the web server's; empty: the spawner's" },
    { "user", CONF_STRING, P, POFF(user), "", 0, 0, NULL,
      "user (name or uid) the workers and their browsers run as; empty: the spawner's user" },
    { "group", CONF_STRING, P, POFF(group), "", 0, 0, NULL,
      "group (name or gid) the workers run as; empty: the primary group of user" },
    { "workers", CONF_INT, P, POFF(workers), "2", 1, 1024, NULL,
      "worker processes in the pool, all accepting on its socket" },
    { "threads", CONF_INT, P, POFF(threads), "0", 0, 1024, NULL,
      "request threads per worker; 0: derived from browsers x pages_per_browser" },
    { "max_requests", CONF_INT, P, POFF(max_requests), "0", 0, INT_MAX, NULL,
      "a worker is drained and replaced after this many requests; 0: never" },
    { "max_memory", CONF_SIZE, P, POFF(max_memory), "0", 0, 1024 * GIB, NULL,
      "a worker is drained and replaced when it and its browsers use more (PSS); 0: never" },
    { "request_terminate_timeout", CONF_MSEC, P, POFF(request_terminate_timeout), "0", 0,
      3600000, NULL, "a request running longer gets its worker killed and replaced; 0: off; "
      "else above request_timeout" },
    { "liveness_timeout", CONF_MSEC, P, POFF(liveness_timeout), "30000", 0, 3600000, NULL,
      "a worker whose heartbeat is older than this is killed and replaced; 0: off" },
    { "ready_timeout", CONF_MSEC, P, POFF(ready_timeout), "60000", 1000, 3600000, NULL,
      "how long a new worker may take to be ready when it replaces another (reload, recycle)" },

    /* pools: browsers */
    { "chromium", CONF_PATH, P, POFF(chromium), "/usr/lib/chromium/chromium", 0, 0, NULL,
      "the Chromium binary (the real one, not Debian's /usr/bin/chromium wrapper)" },
    { "browsers", CONF_INT, P, POFF(browsers), "1", 0, 64, NULL,
      "Chromium processes per worker; 0: a fetch-only worker whose browser routes answer 404" },
    { "pages_per_browser", CONF_INT, P, POFF(pages_per_browser), "4", 0, 64, NULL,
      "pages (concurrent renders) per browser" },
    { "queue_max", CONF_INT, P, POFF(queue_max), "16", 0, 100000, NULL,
      "requests that may wait for a free page before the worker answers 503" },
    { "browser_max_pages", CONF_INT, P, POFF(browser_max_pages), "500", 0, INT_MAX, NULL,
      "a browser is replaced after rendering this many pages; 0: never" },
    { "browser_max_memory", CONF_SIZE, P, POFF(browser_max_memory), "1G", 0, 1024 * GIB, NULL,
      "a browser is replaced when its process tree's PSS exceeds this; 0: never" },

    /* pools: requests */
    { "request_timeout", CONF_MSEC, P, POFF(request_timeout), "30000", 100, 600000, NULL,
      "default and upper bound of a request's 'timeout' option" },
    { "max_body", CONF_SIZE, P, POFF(max_body), "10M", 0, GIB, NULL,
      "largest request body accepted (posted HTML, JSON, multipart)" },
    { "max_pdf_pages", CONF_INT, P, POFF(max_pdf_pages), "2000", 1, 1000000, NULL,
      "a PDF with more pages is refused with 413 output_too_large" },
    { "max_output_size", CONF_SIZE, P, POFF(max_output_size), "256M", 1024, 16 * GIB, NULL,
      "a PDF or image larger than this is refused with 413 output_too_large" },
    { "max_fetch_size", CONF_SIZE, P, POFF(max_fetch_size), "16M", 1024, 4 * GIB, NULL,
      "/extract's fetch engine refuses a page whose body (decompressed) is larger with 502 "
      "target_too_large" },
    { "max_screenshot_pixels", CONF_SIZE, P, POFF(max_screenshot_pixels), "16000000", 1,
      16000000, NULL, "a screenshot of more device pixels (width x height) is refused with 413;"
      " at most 16000000, as the image must fit one browser message" },
    { "extract_content_wait", CONF_MSEC, P, POFF(extract_content_wait), "2000", 0, 600000, NULL,
      "/extract through the browser: how long to wait after 'load' for a page whose body has"
      " no text yet (filled in by its scripts), when the request set no wait of its own; 0:"
      " never" },
    { "batch_max_items", CONF_INT, P, POFF(batch_max_items), "100", 1, 10000, NULL,
      "items one /batch request may hold; more is 400 invalid_option" },
    { "batch_concurrency", CONF_INT, P, POFF(batch_concurrency), "20", 1, 1000, NULL,
      "items of one /batch request run at once (browser items also wait for page slots)" },

    /* pools: URL policy */
    { "allow_networks", CONF_CIDRS, P, POFF(allow_networks), "", 0, 0, NULL,
      "CIDR list let through although private, loopback, link-local, ... (e.g. 10.1.0.0/16)" },
    { "deny_networks", CONF_CIDRS, P, POFF(deny_networks), "", 0, 0, NULL,
      "CIDR list refused in addition to the built-in blocked ranges" },
};

#define NOPTS (sizeof opts / sizeof opts[0])

/* PHP-FPM spellings people will type, and ours. */
static const char *const aliases[][2] = {
    { "pm.max_children", "workers" },
    { "pm.max_requests", "max_requests" },
    { "pid", "pid_file" },
    { "listen.mode", "listen_mode" },
    { "process_control_timeout", "shutdown_timeout" },
    { "listen.owner", "listen_owner" },
    { "listen.group", "listen_group" },
    { "listen.backlog", "listen_backlog" },
};

/* ---- reporting ---------------------------------------------------------- */

static void __attribute__((format(printf, 5, 6)))
report(struct buf *errors, const char *file, int line, const char *key, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (errors == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* A full error buffer drops the rest: the first errors matter most. */
    if (line > 0)
        (void)buf_printf(errors, "%s:%d: %s%s%s\n", file, line, key ? key : "", key ? ": " : "",
                         msg);
    else
        (void)buf_printf(errors, "%s: %s%s%s\n", file, key ? key : "", key ? ": " : "", msg);
}

/* ---- values ------------------------------------------------------------- */

static int
parse_int64(const char *s, const char **end, int64_t *out)
{
    char *e;
    long long v;

    if (!isdigit((unsigned char)s[0]) && !(s[0] == '-' && isdigit((unsigned char)s[1])))
        return RC_INVALID;
    errno = 0;
    v = strtoll(s, &e, 10);
    if (errno == ERANGE)
        return RC_TOO_LARGE;
    *end = e;
    *out = v;
    return RC_OK;
}

/* Render a number in the unit the row's type reads back. */
static void
format_number(enum conf_type t, int64_t v, char *buf, size_t len)
{
    switch (t) {
    case CONF_SIZE:
        if (v != 0 && v % GIB == 0)
            snprintf(buf, len, "%" PRId64 "G", v / GIB);
        else if (v != 0 && v % MIB == 0)
            snprintf(buf, len, "%" PRId64 "M", v / MIB);
        else if (v != 0 && v % KIB == 0)
            snprintf(buf, len, "%" PRId64 "K", v / KIB);
        else
            snprintf(buf, len, "%" PRId64, v);
        break;
    case CONF_MODE:
        snprintf(buf, len, "%04" PRIo64, v);
        break;
    case CONF_BOOL:
        snprintf(buf, len, "%s", v ? "yes" : "no");
        break;
    default:
        snprintf(buf, len, "%" PRId64, v);
        break;
    }
}

static const char *
unit_of(enum conf_type t)
{
    return t == CONF_MSEC ? " ms" : t == CONF_SIZE ? " bytes" : "";
}

static bool
enum_has(const char *choices, const char *v)
{
    size_t n = strlen(v);
    const char *p = choices;

    while (n > 0 && *p != '\0') {
        const char *bar = strchr(p, '|');
        size_t len = bar != NULL ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, v, n) == 0)
            return true;
        p += len + (bar != NULL);
    }
    return false;
}

static bool
bool_parse(const char *s, int64_t *out)
{
    static const char *const yes[] = { "yes", "true", "on", "1" };
    static const char *const no[] = { "no", "false", "off", "0" };

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return true;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return true;
        }
    }
    return false;
}

/* Parse the numeric types. RC_OK, or RC_INVALID with 'err' set. */
static int
number_parse(const struct conf_opt *o, const char *s, int64_t *out, char *err, size_t errlen)
{
    const char *end = s;
    int64_t v = 0, mult = 1;
    int rc;

    if (*s == '\0') {
        snprintf(err, errlen, "empty value");
        return RC_INVALID;
    }
    switch (o->type) {
    case CONF_BOOL:
        if (!bool_parse(s, out)) {
            snprintf(err, errlen, "'%s' is not a boolean (yes|no, true|false, on|off, 1|0)", s);
            return RC_INVALID;
        }
        return RC_OK;
    case CONF_MODE:
        for (end = s; *end >= '0' && *end <= '7'; end++)
            v = v * 8 + (*end - '0');
        if (*end != '\0' || end - s > 4) {
            snprintf(err, errlen, "'%s' is not an octal file mode such as 0660", s);
            return RC_INVALID;
        }
        break;
    default:
        rc = parse_int64(s, &end, &v);
        if (rc == RC_TOO_LARGE)
            goto range;
        if (rc != RC_OK)
            goto syntax;
        if (o->type == CONF_MSEC) {
            if (strcmp(end, "s") == 0)
                mult = 1000;
            else if (*end != '\0' && strcmp(end, "ms") != 0)
                goto syntax;
        } else if (o->type == CONF_SIZE) {
            if (end[0] != '\0' && end[1] != '\0')
                goto syntax;
            switch (end[0]) {
            case '\0': break;
            case 'k': case 'K': mult = KIB; break;
            case 'm': case 'M': mult = MIB; break;
            case 'g': case 'G': mult = GIB; break;
            default: goto syntax;
            }
        } else if (*end != '\0') {
            goto syntax;
        }
        if (v > INT64_MAX / mult || v < INT64_MIN / mult)
            goto range;
        v *= mult;
        break;
    }
    if (v < o->min || v > o->max)
        goto range;
    *out = v;
    return RC_OK;
range: {
        char lo[32], hi[32];
        format_number(o->type, o->min, lo, sizeof lo);
        format_number(o->type, o->max, hi, sizeof hi);
        snprintf(err, errlen, "%s is out of range: must be between %s and %s%s", s, lo, hi,
                 unit_of(o->type));
        return RC_INVALID;
    }
syntax:
    switch (o->type) {
    case CONF_MSEC:
        snprintf(err, errlen, "'%s' is not a duration (milliseconds, or a number with ms or s)",
                 s);
        break;
    case CONF_SIZE:
        snprintf(err, errlen, "'%s' is not a size (bytes, or a number with K, M or G)", s);
        break;
    default:
        snprintf(err, errlen, "'%s' is not a whole number", s);
        break;
    }
    return RC_INVALID;
}

/* Check a text value for its type. RC_OK, or RC_INVALID with 'err' set. */
static int
text_check(const struct conf_opt *o, const char *s, char *err, size_t errlen)
{
    char cerr[128];
    struct cidr *list = NULL;
    size_t n = 0;
    struct sockaddr_storage ss;
    socklen_t sl;

    switch (o->type) {
    case CONF_PATH:
        if (*s != '\0' && *s != '/') {
            snprintf(err, errlen, "'%s' is not an absolute path", s);
            return RC_INVALID;
        }
        return RC_OK;
    case CONF_ENUM:
        if (!enum_has(o->choices, s)) {
            snprintf(err, errlen, "'%s' is not one of %s", s, o->choices);
            return RC_INVALID;
        }
        return RC_OK;
    case CONF_CIDRS:
        cerr[0] = '\0';
        if (cidr_list_parse(s, &list, &n, cerr, sizeof cerr) != RC_OK) {
            snprintf(err, errlen, "bad network list: %s", cerr[0] ? cerr : s);
            return RC_INVALID;
        }
        free(list);
        return RC_OK;
    case CONF_LISTEN:
        return conf_listen_parse(s, &ss, &sl, err, errlen);
    default:
        return RC_OK;
    }
}

static bool
is_text(enum conf_type t)
{
    return t == CONF_STRING || t == CONF_PATH || t == CONF_ENUM || t == CONF_CIDRS ||
           t == CONF_LISTEN;
}

/* Parse 'text' for row 'o' and store it in 'base' (a struct conf_global or
 * conf_pool). RC_OK; RC_INVALID with 'err'; RC_ERROR when out of memory. */
static int
value_set(const struct conf_opt *o, void *base, const char *text, char *err, size_t errlen)
{
    char *field = (char *)base + o->offset;
    int64_t v;
    int rc;

    if (is_text(o->type)) {
        char *copy;
        if ((rc = text_check(o, text, err, errlen)) != RC_OK)
            return rc;
        if ((copy = strdup(text)) == NULL) {
            snprintf(err, errlen, "out of memory");
            return RC_ERROR;
        }
        free(*(char **)field);
        *(char **)field = copy;
        return RC_OK;
    }
    if ((rc = number_parse(o, text, &v, err, errlen)) != RC_OK)
        return rc;
    if (o->type == CONF_SIZE)
        *(int64_t *)field = v;
    else
        *(int *)field = (int)v;
    return RC_OK;
}

static void
fields_free(enum conf_scope scope, void *base)
{
    for (size_t i = 0; i < NOPTS; i++) {
        if (opts[i].scope == scope && is_text(opts[i].type)) {
            char **f = (char **)((char *)base + opts[i].offset);
            free(*f);
            *f = NULL;
        }
    }
}

/* Fill every field of 'scope' in 'base' with its default. */
static int
fields_default(enum conf_scope scope, void *base)
{
    char err[256];

    for (size_t i = 0; i < NOPTS; i++)
        if (opts[i].scope == scope &&
            value_set(&opts[i], base, opts[i].def, err, sizeof err) != RC_OK)
            return RC_ERROR;
    return RC_OK;
}

static void
pool_free(struct conf_pool *p)
{
    fields_free(P, p);
    free(p->key_lines);
    p->key_lines = NULL;
    free(p->name);
    p->name = NULL;
}

/* Initialise a pool called 'name' with the defaults. */
static int
pool_init(struct conf_pool *p, const char *name, int line)
{
    memset(p, 0, sizeof *p);
    p->line = line;
    if ((p->name = strdup(name)) == NULL || fields_default(P, p) != RC_OK) {
        pool_free(p);
        return RC_ERROR;
    }
    return RC_OK;
}

static int
pool_add(struct conf *c, const char *name, int line)
{
    struct conf_pool *pools = realloc(c->pools, (c->npools + 1) * sizeof *pools);

    if (pools == NULL)
        return RC_ERROR;
    c->pools = pools;
    if (pool_init(&c->pools[c->npools], name, line) != RC_OK)
        return RC_ERROR;
    c->npools++;
    return RC_OK;
}

/* ---- listen addresses --------------------------------------------------- */

int
conf_listen_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len, char *err,
                  size_t errlen)
{
    char host[64];
    const char *colon, *hs, *port_s;
    size_t hl;
    int64_t port;
    const char *end;

    memset(ss, 0, sizeof *ss);
    if (strncmp(s, "unix:", 5) == 0)
        s += 5;
    if (*s == '\0') {
        snprintf(err, errlen, "empty address");
        return RC_INVALID;
    }
    if (*s == '/') {
        struct sockaddr_un *sun = (struct sockaddr_un *)ss;
        if (strlen(s) >= sizeof sun->sun_path) {
            snprintf(err, errlen, "unix socket path is longer than %zu bytes",
                     sizeof sun->sun_path - 1);
            return RC_INVALID;
        }
        sun->sun_family = AF_UNIX;
        strcpy(sun->sun_path, s);
        *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(s) + 1);
        return RC_OK;
    }
    if (*s == '[') {
        const char *rb = strchr(s, ']');
        if (rb == NULL || rb[1] != ':') {
            snprintf(err, errlen, "'%s': write an IPv6 address as [addr]:port", s);
            return RC_INVALID;
        }
        hs = s + 1;
        hl = (size_t)(rb - hs);
        port_s = rb + 2;
    } else {
        if ((colon = strrchr(s, ':')) == NULL) {
            if (isdigit((unsigned char)*s))
                snprintf(err, errlen, "'%s' has no host: write 127.0.0.1:%s (or *:%s for every "
                         "address)", s, s, s);
            else
                snprintf(err, errlen, "'%s': a unix socket path must be absolute", s);
            return RC_INVALID;
        }
        if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
            snprintf(err, errlen, "'%s': write an IPv6 address as [addr]:port", s);
            return RC_INVALID;
        }
        hs = s;
        hl = (size_t)(colon - s);
        port_s = colon + 1;
    }
    if (parse_int64(port_s, &end, &port) != RC_OK || *end != '\0' || port < 1 || port > 65535) {
        snprintf(err, errlen, "'%s': port must be a number from 1 to 65535", s);
        return RC_INVALID;
    }
    if (hl == 0 || hl >= sizeof host) {
        snprintf(err, errlen, "'%s': missing or overlong host", s);
        return RC_INVALID;
    }
    memcpy(host, hs, hl);
    host[hl] = '\0';
    if (*s == '[') {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1) {
            snprintf(err, errlen, "'%s' is not an IPv6 address", host);
            return RC_INVALID;
        }
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *len = sizeof *in6;
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        if (strcmp(host, "*") == 0)
            in->sin_addr.s_addr = htonl(INADDR_ANY);
        else if (strcmp(host, "localhost") == 0)
            in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        else if (inet_pton(AF_INET, host, &in->sin_addr) != 1) {
            snprintf(err, errlen, "'%s' is not an IPv4 address (host names are not resolved)",
                     host);
            return RC_INVALID;
        }
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        *len = sizeof *in;
    }
    return RC_OK;
}

/* Would binding both addresses collide? Equal addresses do, and so does a
 * wildcard and any address of the same family on the same port. */
static bool
listen_conflict(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_UNIX)
        return strcmp(((const struct sockaddr_un *)a)->sun_path,
                      ((const struct sockaddr_un *)b)->sun_path) == 0;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port &&
               (x->sin_addr.s_addr == y->sin_addr.s_addr || x->sin_addr.s_addr == 0 ||
                y->sin_addr.s_addr == 0);
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port &&
           (memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0 ||
            IN6_IS_ADDR_UNSPECIFIED(&x->sin6_addr) || IN6_IS_ADDR_UNSPECIFIED(&y->sin6_addr));
}

/* ---- table access ------------------------------------------------------- */

const struct conf_opt *
conf_options(size_t *n)
{
    *n = NOPTS;
    return opts;
}

static int
opt_index(const char *key)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (strcmp(opts[i].name, key) == 0)
            return (int)i;
    return -1;
}

const struct conf_opt *
conf_option_find(const char *key)
{
    int i = opt_index(key);
    return i < 0 ? NULL : &opts[i];
}

const char *
conf_type_name(enum conf_type t)
{
    switch (t) {
    case CONF_INT: return "int";
    case CONF_MSEC: return "msec";
    case CONF_SIZE: return "size";
    case CONF_MODE: return "mode";
    case CONF_BOOL: return "bool";
    case CONF_STRING: return "string";
    case CONF_PATH: return "path";
    case CONF_ENUM: return "enum";
    case CONF_CIDRS: return "cidr-list";
    case CONF_LISTEN: return "address";
    }
    return "?";
}

/* Edit distance, for "did you mean". Keys are short; a 2-row table is plenty. */
static size_t
distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t row[2][64];

    if (la >= 63 || lb >= 63)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t *cur = row[i % 2], *prev = row[(i - 1) % 2];
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (tolower((unsigned char)a[i - 1]) !=
                                        tolower((unsigned char)b[j - 1]));
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
    }
    return row[la % 2][lb];
}

/* The known key closest to 'key', or NULL when nothing is close. */
static const char *
suggest(const char *key)
{
    const char *best = NULL;
    size_t best_d = 3;

    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcasecmp(aliases[i][0], key) == 0)
            return aliases[i][1];
    for (size_t i = 0; i < NOPTS; i++) {
        size_t d = distance(key, opts[i].name);
        if (d < best_d) {
            best_d = d;
            best = opts[i].name;
        }
    }
    if (best == NULL && strlen(key) >= 4)
        for (size_t i = 0; i < NOPTS && best == NULL; i++)
            if (strstr(opts[i].name, key) != NULL)
                best = opts[i].name;
    return best;
}

/* ---- cross-key rules ---------------------------------------------------- */

/* Where a pool's key was set: its line, else the section header, else 0. */
static int
key_line(const int *lines, const struct conf_pool *p, const char *key)
{
    int i = opt_index(key);

    if (lines != NULL && i >= 0 && lines[i] > 0)
        return lines[i];
    return lines != NULL ? p->line : 0;
}

int
conf_key_line(const struct conf *c, const struct conf_pool *p, const char *key)
{
    int i = opt_index(key);

    if (p == NULL)
        return c->global_lines != NULL && i >= 0 ? c->global_lines[i] : 0;
    return p->key_lines != NULL ? key_line(p->key_lines, p, key) : p->line;
}

/* Is the pool's address a unix socket path? */
static bool
listen_is_unix(const char *listen)
{
    return listen[0] == '/' || strncmp(listen, "unix:", 5) == 0;
}

/* The rules that tie one pool's keys together. Returns the number of
 * problems reported. */
static int
validate_pool(const struct conf_pool *p, const char *file, const int *pl, struct buf *errors)
{
    int nerr = 0;

    if (p->browsers > 0 && p->pages_per_browser < 1) {
        report(errors, file, key_line(pl, p, "pages_per_browser"), "pages_per_browser",
               "[%s] must be at least 1 when browsers = %d (or set browsers = 0 for a "
               "fetch-only pool)", p->name, p->browsers);
        nerr++;
    }
    /* The worker ends a request itself at request_timeout; the spawner's
     * kill is the last resort for a worker that failed to, so it must come
     * later or it would cut short requests the worker still handles. */
    if (p->request_terminate_timeout > 0 && p->request_terminate_timeout <= p->request_timeout) {
        report(errors, file, key_line(pl, p, "request_terminate_timeout"),
               "request_terminate_timeout", "[%s] %d ms must be above request_timeout (%d ms), "
               "or 0 (off): the worker itself ends a request at request_timeout", p->name,
               p->request_terminate_timeout, p->request_timeout);
        nerr++;
    }
    /* Workers heartbeat once a second; a shorter window kills healthy ones. */
    if (p->liveness_timeout > 0 && p->liveness_timeout < 3000) {
        report(errors, file, key_line(pl, p, "liveness_timeout"), "liveness_timeout",
               "[%s] %d ms is too short: must be 0 (off) or at least 3000 ms, as workers "
               "heartbeat once a second", p->name, p->liveness_timeout);
        nerr++;
    }
    if (p->group[0] != '\0' && p->user[0] == '\0') {
        report(errors, file, key_line(pl, p, "group"), "group",
               "[%s] group '%s' needs user: set the user the workers run as too", p->name,
               p->group);
        nerr++;
    }
    if (!listen_is_unix(p->listen)) {
        static const char *const unix_only[] = { "listen_owner", "listen_group" };
        for (size_t k = 0; k < 2; k++) {
            const char *v = k == 0 ? p->listen_owner : p->listen_group;
            if (v[0] == '\0')
                continue;
            report(errors, file, key_line(pl, p, unix_only[k]), unix_only[k],
                   "[%s] applies to a unix socket file only, and listen is %s", p->name,
                   p->listen);
            nerr++;
        }
    }
    return nerr;
}

/* With 'use_lines', problems name the lines kept in 'c' (conf_load);
 * otherwise they are reported against 'file' alone (overrides). */
static int
validate(const struct conf *c, const char *file, bool use_lines, struct buf *errors)
{
    const int *gl = use_lines ? c->global_lines : NULL;
    const struct conf_global *g = &c->global;
    int nerr = 0;

    /* PHP-FPM needs both to turn the emergency restart on; so do we, and
     * say so instead of silently leaving it off. */
    if ((g->emergency_restart_threshold > 0) != (g->emergency_restart_interval > 0)) {
        const char *set = g->emergency_restart_threshold > 0 ? "emergency_restart_threshold"
                                                             : "emergency_restart_interval";
        const char *unset = g->emergency_restart_threshold > 0 ? "emergency_restart_interval"
                                                               : "emergency_restart_threshold";
        int i = opt_index(set);
        report(errors, file, gl != NULL && i >= 0 ? gl[i] : 0, set,
               "needs %s too (set both, or neither to leave the emergency restart off)", unset);
        nerr++;
    }
    for (size_t i = 0; i < c->npools; i++) {
        const struct conf_pool *p = &c->pools[i];
        const int *pl = use_lines ? p->key_lines : NULL;
        struct sockaddr_storage a, b;
        socklen_t al, bl;
        char err[256];

        nerr += validate_pool(p, file, pl, errors);
        if (conf_listen_parse(p->listen, &a, &al, err, sizeof err) != RC_OK)
            continue; /* Already reported where it was set. */
        for (size_t j = 0; j < i; j++) {
            const struct conf_pool *q = &c->pools[j];
            if (conf_listen_parse(q->listen, &b, &bl, err, sizeof err) != RC_OK ||
                !listen_conflict(&a, &b))
                continue;
            report(errors, file, key_line(pl, p, "listen"), "listen",
                   "pool '%s' would listen on %s, which pool '%s' already uses; every pool "
                   "needs its own address", p->name, p->listen, q->name);
            nerr++;
            break;
        }
    }
    return nerr == 0 ? RC_OK : RC_INVALID;
}

int
conf_validate(const struct conf *c, const char *origin, struct buf *errors)
{
    return validate(c, origin, false, errors);
}

/* ---- the file parser ---------------------------------------------------- */

enum section { SEC_NONE, SEC_GLOBAL, SEC_POOL, SEC_SCRATCH };

struct parse {
    const char *file;
    int lineno;
    struct conf *c;
    struct buf *errors;
    int nerr;
    bool oom;
    enum section sec;
    size_t cur;            /* pool index when sec == SEC_POOL */
    int global_line;       /* line of [global], 0 if none yet */
    int glines[NOPTS];     /* line each [global] key was set on */
    int **plines;          /* per pool, NOPTS lines each; parallel to c->pools */
    struct conf_pool scratch; /* where keys of a rejected section go to be checked */
    int slines[NOPTS];
};

static void __attribute__((format(printf, 3, 4)))
parse_error(struct parse *ps, const char *key, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    report(ps->errors, ps->file, ps->lineno, key, "%s", msg);
    ps->nerr++;
}

static char *
trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* Cut a trailing comment: ';' or '#' at the start or after a blank. */
static void
cut_comment(char *s)
{
    for (char *p = s; *p != '\0'; p++) {
        if ((*p == ';' || *p == '#') && (p == s || isspace((unsigned char)p[-1]))) {
            *p = '\0';
            return;
        }
    }
}

static int
pool_new_parsed(struct parse *ps, const char *name, int line)
{
    int **pl = realloc(ps->plines, (ps->c->npools + 1) * sizeof *pl);

    if (pl == NULL)
        return RC_ERROR;
    ps->plines = pl;
    if ((pl[ps->c->npools] = calloc(NOPTS, sizeof(int))) == NULL)
        return RC_ERROR;
    if (pool_add(ps->c, name, line) != RC_OK) {
        free(pl[ps->c->npools]);
        pl[ps->c->npools] = NULL;
        return RC_ERROR;
    }
    return RC_OK;
}

static bool
pool_name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && strchr("_.-", name[i]) == NULL)
            return false;
    return true;
}

static void
enter_scratch(struct parse *ps)
{
    ps->sec = SEC_SCRATCH;
    memset(ps->slines, 0, sizeof ps->slines);
}

static void
parse_section(struct parse *ps, char *line)
{
    char *rb = strchr(line, ']'), *name, *rest;

    if (rb == NULL) {
        cut_comment(line);
        parse_error(ps, trim(line), "unterminated section header (missing ']')");
        enter_scratch(ps);
        return;
    }
    *rb = '\0';
    name = trim(line + 1);
    rest = rb + 1;
    cut_comment(rest);
    if (*trim(rest) != '\0') {
        parse_error(ps, name, "unexpected text after ']': '%s'", trim(rest));
        enter_scratch(ps);
        return;
    }
    if (strcmp(name, "global") == 0) {
        if (ps->global_line > 0)
            parse_error(ps, "[global]", "duplicate section (first at line %d)", ps->global_line);
        else
            ps->global_line = ps->lineno;
        ps->sec = SEC_GLOBAL;
        return;
    }
    if (!pool_name_ok(name)) {
        parse_error(ps, name[0] ? name : "[]",
                    "a pool name is 1 to 64 letters, digits, '_', '.' or '-'");
        enter_scratch(ps);
        return;
    }
    for (size_t i = 0; i < ps->c->npools; i++) {
        const struct conf_pool *p = &ps->c->pools[i];
        if (strcmp(p->name, name) != 0)
            continue;
        if (p->line > 0)
            parse_error(ps, name, "duplicate pool (first defined at line %d)", p->line);
        else
            parse_error(ps, name, "duplicate pool: the keys before the first section "
                        "already form the pool 'default'");
        enter_scratch(ps);
        return;
    }
    if (pool_new_parsed(ps, name, ps->lineno) != RC_OK) {
        ps->oom = true;
        return;
    }
    ps->sec = SEC_POOL;
    ps->cur = ps->c->npools - 1;
}

/* Take the value text after '=': unquote it or cut its trailing comment.
 * Returns NULL (and reports) when malformed. */
static char *
value_text(struct parse *ps, const char *key, char *v)
{
    v = trim(v);
    if (*v == '"') {
        char *close = strchr(v + 1, '"'), *rest;
        if (close == NULL) {
            parse_error(ps, key, "unterminated quoted value");
            return NULL;
        }
        *close = '\0';
        rest = close + 1;
        cut_comment(rest);
        if (*trim(rest) != '\0') {
            parse_error(ps, key, "unexpected text after the closing quote: '%s'", trim(rest));
            return NULL;
        }
        return v + 1;
    }
    cut_comment(v);
    return trim(v);
}

static void
parse_key(struct parse *ps, char *line, char *eq)
{
    char *key, *value, err[256];
    const struct conf_opt *o;
    int idx, *lines;
    void *base;
    int rc;

    *eq = '\0';
    key = trim(line);
    if (*key == '\0') {
        parse_error(ps, "=", "missing key before '='");
        return;
    }
    if ((value = value_text(ps, key, eq + 1)) == NULL)
        return;
    if ((idx = opt_index(key)) < 0) {
        const char *s = suggest(key);
        if (s != NULL)
            parse_error(ps, key, "unknown key (did you mean '%s'?)", s);
        else
            parse_error(ps, key, "unknown key");
        return;
    }
    o = &opts[idx];
    if (ps->sec == SEC_NONE) {
        if (o->scope == G) {
            parse_error(ps, key, "is a [global] key, but keys before the first section "
                        "belong to the pool 'default'");
            return;
        }
        /* Keys before any section form the pool "default". */
        if (pool_new_parsed(ps, "default", 0) != RC_OK) {
            ps->oom = true;
            return;
        }
        ps->sec = SEC_POOL;
        ps->cur = ps->c->npools - 1;
    }
    if (o->scope == G && ps->sec != SEC_GLOBAL) {
        parse_error(ps, key, "is a [global] key, not a pool key");
        return;
    }
    if (o->scope == P && ps->sec == SEC_GLOBAL) {
        parse_error(ps, key, "is a pool key; [global] holds only spawner-wide settings");
        return;
    }
    switch (ps->sec) {
    case SEC_GLOBAL:
        base = &ps->c->global;
        lines = ps->glines;
        break;
    case SEC_POOL:
        base = &ps->c->pools[ps->cur];
        lines = ps->plines[ps->cur];
        break;
    default:
        base = &ps->scratch;
        lines = ps->slines;
        break;
    }
    if (lines[idx] > 0) {
        parse_error(ps, key, "duplicate key (first set at line %d)", lines[idx]);
        return;
    }
    lines[idx] = ps->lineno;
    rc = value_set(o, base, value, err, sizeof err);
    if (rc == RC_ERROR)
        ps->oom = true;
    else if (rc != RC_OK)
        parse_error(ps, key, "%s", err);
}

static void
parse_line(struct parse *ps, char *line)
{
    char *eq;

    line = trim(line);
    if (*line == '\0' || *line == ';' || *line == '#')
        return;
    if (*line == '[') {
        parse_section(ps, line);
        return;
    }
    if ((eq = strchr(line, '=')) == NULL) {
        char word[48];
        cut_comment(line);
        snprintf(word, sizeof word, "%s", trim(line));
        parse_error(ps, word, "expected 'key = value', '[section]' or a comment");
        return;
    }
    parse_key(ps, line, eq);
}

static void
parse_free(struct parse *ps)
{
    if (ps->plines != NULL)
        for (size_t i = 0; i < ps->c->npools; i++)
            free(ps->plines[i]);
    free(ps->plines);
    ps->plines = NULL;
    pool_free(&ps->scratch);
}

int
conf_load(const char *path, struct conf *c, struct buf *errors)
{
    struct parse ps;
    FILE *f = NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = RC_ERROR;

    memset(c, 0, sizeof *c);
    memset(&ps, 0, sizeof ps);
    ps.file = path;
    ps.c = c;
    ps.errors = errors;
    if ((f = fopen(path, "re")) == NULL) {
        report(errors, path, 0, NULL, "cannot open: %s", strerror(errno));
        return RC_ERROR;
    }
    if ((c->path = strdup(path)) == NULL || fields_default(G, &c->global) != RC_OK ||
        pool_init(&ps.scratch, "-", 0) != RC_OK)
        goto oom;
    while ((n = getline(&line, &cap, f)) >= 0) {
        char *s = line;
        ps.lineno++;
        if (ps.lineno == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
            s += 3; /* A UTF-8 byte order mark some editors add. */
        if ((size_t)n != strlen(line)) {
            parse_error(&ps, NULL, "line contains a NUL byte");
            continue;
        }
        parse_line(&ps, s);
        if (ps.oom)
            goto oom;
    }
    if (ferror(f)) {
        report(errors, path, 0, NULL, "cannot read: %s", strerror(errno));
        goto fail;
    }
    if (c->npools == 0 && pool_new_parsed(&ps, "default", 0) != RC_OK)
        goto oom;
    /* The lines move into the conf, for conf_key_line() and the rules. */
    if ((c->global_lines = malloc(sizeof ps.glines)) == NULL)
        goto oom;
    memcpy(c->global_lines, ps.glines, sizeof ps.glines);
    for (size_t i = 0; i < c->npools; i++) {
        c->pools[i].key_lines = ps.plines[i];
        ps.plines[i] = NULL;
    }
    if (validate(c, path, true, errors) != RC_OK)
        ps.nerr++;
    if (ps.nerr > 0) {
        rc = RC_INVALID;
        goto fail;
    }
    free(line);
    fclose(f);
    parse_free(&ps);
    return RC_OK;
oom:
    report(errors, path, ps.lineno, NULL, "out of memory");
fail:
    free(line);
    if (f != NULL)
        fclose(f);
    parse_free(&ps);
    conf_free(c);
    return rc;
}

/* ---- the rest of the API ------------------------------------------------ */

int
conf_defaults(struct conf *c)
{
    memset(c, 0, sizeof *c);
    if (fields_default(G, &c->global) != RC_OK || pool_add(c, "default", 0) != RC_OK) {
        conf_free(c);
        return RC_ERROR;
    }
    return RC_OK;
}

void
conf_free(struct conf *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->npools; i++)
        pool_free(&c->pools[i]);
    free(c->pools);
    fields_free(G, &c->global);
    free(c->global_lines);
    free(c->path);
    memset(c, 0, sizeof *c);
}

const struct conf_pool *
conf_pool_find(const struct conf *c, const char *name)
{
    for (size_t i = 0; i < c->npools; i++)
        if (strcmp(c->pools[i].name, name) == 0)
            return &c->pools[i];
    return NULL;
}

int
conf_override(struct conf *c, const char *key, const char *value, const char *origin,
              struct buf *errors)
{
    const struct conf_opt *o = conf_option_find(key);
    char err[256];
    int rc;

    if (o == NULL) {
        report(errors, origin, 0, key, "unknown key");
        return RC_INVALID;
    }
    if (o->scope == G) {
        rc = value_set(o, &c->global, value, err, sizeof err);
    } else {
        /* Check the text once, then store it everywhere. */
        rc = RC_OK;
        for (size_t i = 0; i < c->npools && rc == RC_OK; i++)
            rc = value_set(o, &c->pools[i], value, err, sizeof err);
    }
    if (rc != RC_OK) {
        report(errors, origin, 0, key, "%s", err);
        return RC_INVALID;
    }
    return validate(c, origin, false, errors);
}

void
conf_format_value(const struct conf *c, const struct conf_pool *p, const struct conf_opt *o,
                  char *buf, size_t len)
{
    const char *base = o->scope == G ? (const char *)&c->global : (const char *)p;
    const char *field = base + o->offset;

    if (is_text(o->type))
        snprintf(buf, len, "%s", *(char *const *)field);
    else if (o->type == CONF_SIZE)
        format_number(o->type, *(const int64_t *)field, buf, len);
    else
        format_number(o->type, *(const int *)field, buf, len);
}

/* Does 's' need quotes to read back the same? */
static bool
needs_quotes(const char *s)
{
    size_t n = strlen(s);

    if (n == 0)
        return false;
    if (isspace((unsigned char)s[0]) || isspace((unsigned char)s[n - 1]) || s[0] == '"' ||
        s[0] == ';' || s[0] == '#')
        return true;
    for (size_t i = 1; i < n; i++)
        if ((s[i] == ';' || s[i] == '#') && isspace((unsigned char)s[i - 1]))
            return true;
    return false;
}

static int
print_scope(const struct conf *c, const struct conf_pool *p, enum conf_scope scope,
            struct buf *out)
{
    char v[4096];
    int rc = RC_OK;

    for (size_t i = 0; i < NOPTS && rc == RC_OK; i++) {
        if (opts[i].scope != scope)
            continue;
        conf_format_value(c, p, &opts[i], v, sizeof v);
        rc = buf_printf(out, "; %s\n%s =%s%s%s%s\n", opts[i].doc, opts[i].name,
                        v[0] != '\0' ? " " : "", needs_quotes(v) ? "\"" : "", v,
                        needs_quotes(v) ? "\"" : "");
    }
    return rc;
}

int
conf_print(const struct conf *c, struct buf *out)
{
    int rc;

    rc = buf_printf(out, "; effective configuration: %s\n\n[global]\n",
                    c->path != NULL ? c->path : "built-in defaults");
    if (rc == RC_OK)
        rc = print_scope(c, NULL, G, out);
    for (size_t i = 0; i < c->npools && rc == RC_OK; i++) {
        rc = buf_printf(out, "\n[%s]\n", c->pools[i].name);
        if (rc == RC_OK)
            rc = print_scope(c, &c->pools[i], P, out);
    }
    return rc;
}
