/* url.c — a strict absolute-URL splitter that agrees with the browser on the
 * host, and %-decoding; see url.h for what is refused and what normalized.
 *
 * The host matters most: the URL policy judges the host this file returns,
 * and Chromium then fetches the host *it* parses out of the same string. So
 * the host rules below follow the WHATWG URL standard (which Chromium
 * implements) for the inputs we accept, and anything on which WHATWG and
 * RFC 3986 parsers (libcurl) could disagree is refused instead of guessed. */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rc.h"
#include "url.h"

/* Schemes the WHATWG standard calls "special" (minus file): they always
 * have a host, and these are their default ports. */
static const struct {
    const char *name;
    int port;
} special_schemes[] = {
    {"http", 80}, {"https", 443}, {"ws", 80}, {"wss", 443}, {"ftp", 21},
};

static int invalid(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
invalid(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;

    if (why != NULL && whylen > 0) {
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return RC_INVALID;
}

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int
is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int
lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* One part of a WHATWG IPv4 host: decimal, octal after a leading "0", hex
 * after "0x" ("0x" alone is 0). Values above 2^32 are clamped to 2^32,
 * which every caller rejects. Returns 0 and *out, or -1 if not a number. */
static int
ipv4_number(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    unsigned radix = 10;
    size_t i;

    if (len == 0)
        return -1;
    if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        len -= 2;
        radix = 16;
    } else if (len >= 2 && s[0] == '0') {
        s++;
        len--;
        radix = 8;
    }
    for (i = 0; i < len; i++) {
        int d = hexval((unsigned char)s[i]);

        if (d < 0 || (unsigned)d >= radix)
            return -1;
        v = v * radix + (unsigned)d;
        if (v > UINT64_C(0x100000000))
            v = UINT64_C(0x100000000);
    }
    *out = v;
    return 0;
}

/* The WHATWG "ends in a number" test: is the last label (ignoring one
 * trailing dot) all digits or a 0x number? Such a host must be an IPv4
 * address; a browser rejects it otherwise. */
static int
ends_in_number(const char *h, size_t len)
{
    const char *last;
    uint64_t v;
    size_t n, i;

    if (len > 0 && h[len - 1] == '.') {
        if (len == 1)
            return 0;
        len--;
    }
    last = h + len;
    while (last > h && last[-1] != '.')
        last--;
    n = (size_t)(h + len - last);
    if (n == 0)
        return 0;
    for (i = 0; i < n && is_digit((unsigned char)last[i]); i++)
        ;
    if (i == n)
        return 1;
    return n >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') &&
           ipv4_number(last, n, &v) == 0;
}

/* The WHATWG IPv4 parser: 1 to 4 dot-separated numbers, the last filling
 * the remaining bytes ("127.1" is 127.0.0.1, "2130706433" too). Returns 0
 * and the address in host order, or -1. */
static int
ipv4_parse(const char *h, size_t len, uint32_t *out)
{
    uint64_t num[4];
    size_t nparts = 0, i;
    const char *p = h, *end;
    uint64_t v;

    if (len > 0 && h[len - 1] == '.')
        len--;
    end = h + len;
    for (;;) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        const char *pe = dot != NULL ? dot : end;

        if (nparts == 4 || ipv4_number(p, (size_t)(pe - p), &num[nparts]) != 0)
            return -1;
        nparts++;
        if (dot == NULL)
            break;
        p = dot + 1;
    }
    for (i = 0; i + 1 < nparts; i++)
        if (num[i] > 255)
            return -1;
    if (num[nparts - 1] >= (UINT64_C(1) << (8 * (5 - nparts))))
        return -1;
    v = num[nparts - 1];
    for (i = 0; i + 1 < nparts; i++)
        v += num[i] << (8 * (3 - i));
    *out = (uint32_t)v;
    return 0;
}

/* Judge and normalize the host part [h, h+len) into out->host. */
static int
parse_host(const char *h, size_t len, struct url *out, char *why, size_t whylen)
{
    char dec[sizeof out->host];
    size_t n = 0, i;
    uint32_t v4;

    if (h[0] == '[') {
        char lit[INET6_ADDRSTRLEN];
        unsigned char a6[16];

        /* An IPv6 literal; WHATWG does not %-decode it and has no zone ids,
         * and inet_pton refuses '%', so "[fe80::1%25eth0]" is refused. */
        if (len < 2 || h[len - 1] != ']')
            return invalid(why, whylen, "IPv6 literal '%.*s' has no closing ']'", (int)len, h);
        if (len - 2 >= sizeof lit)
            return invalid(why, whylen, "'%.*s' is not an IPv6 address", (int)len, h);
        memcpy(lit, h + 1, len - 2);
        lit[len - 2] = '\0';
        if (inet_pton(AF_INET6, lit, a6) != 1)
            return invalid(why, whylen, "'[%s]' is not an IPv6 address", lit);
        inet_ntop(AF_INET6, a6, out->host, sizeof out->host);
        out->host_is_ip = 6;
        return RC_OK;
    }

    /* WHATWG %-decodes the host before anything else, so "%31%32%37.0.0.1"
     * is 127.0.0.1 to the browser. Decode once, then judge the result. */
    for (i = 0; i < len; i++) {
        int c = (unsigned char)h[i];

        if (c == '%') {
            int hi = i + 1 < len ? hexval((unsigned char)h[i + 1]) : -1;
            int lo = i + 2 < len ? hexval((unsigned char)h[i + 2]) : -1;

            if (hi < 0 || lo < 0)
                return invalid(why, whylen, "bad %%-escape in host '%.*s'", (int)len, h);
            c = hi * 16 + lo;
            i += 2;
        }
        if (c == 0)
            return invalid(why, whylen, "host '%.*s' contains %%00", (int)len, h);
        if (c >= 0x80)
            return invalid(why, whylen,
                           "host '%.*s' is not ASCII (browsers map such names with IDNA; "
                           "use the xn-- form)",
                           (int)len, h);
        if (n + 1 >= sizeof dec)
            return invalid(why, whylen, "host is longer than %zu bytes", sizeof dec - 1);
        dec[n++] = (char)lower(c);
    }
    dec[n] = '\0';

    for (i = 0; i < n; i++) {
        int c = (unsigned char)dec[i];

        if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '_' && c != '.') {
            if (c < 0x21 || c == 0x7f)
                return invalid(why, whylen, "host '%.*s' contains a control character",
                               (int)len, h);
            return invalid(why, whylen,
                           "host '%s' contains '%c', which is not allowed in a host name", dec,
                           c);
        }
    }

    if (ends_in_number(dec, n)) {
        if (ipv4_parse(dec, n, &v4) != 0)
            return invalid(why, whylen,
                           "host '%s' ends in a number but is not a valid IPv4 address", dec);
        snprintf(out->host, sizeof out->host, "%u.%u.%u.%u", (unsigned)(v4 >> 24),
                 (unsigned)(v4 >> 16) & 0xff, (unsigned)(v4 >> 8) & 0xff, (unsigned)v4 & 0xff);
        out->host_is_ip = 4;
        return RC_OK;
    }

    /* One trailing dot is a fully qualified name and harmless; other empty
     * labels are something resolvers and browsers treat differently. */
    if (dec[0] == '.' || strstr(dec, "..") != NULL)
        return invalid(why, whylen, "host '%s' has an empty label", dec);
    memcpy(out->host, dec, n + 1);
    return RC_OK;
}

/* Parse "[userinfo@]host[:port]" in [a, end). */
static int
parse_authority(const char *a, const char *end, int default_port, int needs_host,
                struct url *out, char *why, size_t whylen)
{
    const char *at = NULL, *hp, *hend, *colon = NULL, *p;
    int rc;

    /* WHATWG ends the authority of an http(s) URL at '\' too, RFC 3986
     * parsers do not: "http://evil.com\@127.0.0.1/" is evil.com to Chromium
     * and 127.0.0.1 to libcurl. Refuse rather than pick one. */
    if (memchr(a, '\\', (size_t)(end - a)) != NULL)
        return invalid(why, whylen, "backslash before the path (browsers read '\\' as '/')");

    /* Userinfo ends at the last '@' for WHATWG but at the first for some
     * RFC parsers; with only one allowed, both agree. */
    for (p = a; p < end; p++) {
        if (*p == '@') {
            if (at != NULL)
                return invalid(why, whylen, "more than one '@' before the path");
            at = p;
        }
    }
    hp = at != NULL ? at + 1 : a;
    out->has_userinfo = at != NULL;

    if (hp < end && *hp == '[') {
        const char *close = memchr(hp, ']', (size_t)(end - hp));

        if (close == NULL)
            return invalid(why, whylen, "IPv6 literal '%.*s' has no closing ']'",
                           (int)(end - hp), hp);
        hend = close + 1;
        if (hend < end && *hend != ':')
            return invalid(why, whylen, "unexpected '%c' after the IPv6 literal", *hend);
        if (hend < end)
            colon = hend;
    } else {
        colon = memchr(hp, ':', (size_t)(end - hp));
        hend = colon != NULL ? colon : end;
    }

    if (hend == hp) {
        if (needs_host)
            return invalid(why, whylen, "empty host");
    } else if ((rc = parse_host(hp, (size_t)(hend - hp), out, why, whylen)) != RC_OK) {
        return rc;
    }

    out->port = default_port;
    if (colon != NULL && colon + 1 < end) {
        long port = 0;

        /* Browsers accept leading zeros ("08080" is 8080); so do we. */
        for (p = colon + 1; p < end; p++) {
            if (!is_digit((unsigned char)*p))
                return invalid(why, whylen, "port '%.*s' is not a number",
                               (int)(end - colon - 1), colon + 1);
            if (port <= 65535)
                port = port * 10 + (*p - '0');
        }
        if (port < 1 || port > 65535)
            return invalid(why, whylen, "port '%.*s' is not in 1..65535",
                           (int)(end - colon - 1), colon + 1);
        out->port = (int)port;
    }
    return RC_OK;
}

int
url_parse(const char *s, struct url *out, char *why, size_t whylen)
{
    const char *p, *rest, *end;
    int default_port = -1, special = 0;
    size_t i;

    memset(out, 0, sizeof *out);
    out->port = -1;
    if (why != NULL && whylen > 0)
        why[0] = '\0';
    if (s == NULL || *s == '\0')
        return invalid(why, whylen, "empty URL");

    /* WHATWG silently drops tabs and newlines anywhere and blanks at the
     * ends; libcurl does not. Refusing them keeps both parsers in step. */
    for (p = s; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;

        if (c <= 0x20 || c == 0x7f)
            return invalid(why, whylen, "URL contains a %s (byte 0x%02x at offset %zu)",
                           c == ' ' ? "space" : "control character", c, (size_t)(p - s));
    }

    /* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
    if (!is_alpha((unsigned char)s[0]))
        return invalid(why, whylen,
                       "not an absolute URL (it must start with a scheme, "
                       "e.g. https://)");
    for (p = s + 1; is_alpha((unsigned char)*p) || is_digit((unsigned char)*p) || *p == '+' ||
                    *p == '-' || *p == '.';
         p++)
        ;
    if (*p != ':')
        return invalid(why, whylen,
                       "not an absolute URL (it must start with a scheme, "
                       "e.g. https://)");
    if ((size_t)(p - s) >= sizeof out->scheme)
        return invalid(why, whylen, "scheme '%.*s' is too long", (int)(p - s), s);
    for (i = 0; s + i < p; i++)
        out->scheme[i] = (char)lower((unsigned char)s[i]);
    out->scheme[i] = '\0';
    rest = p + 1;

    for (i = 0; i < sizeof special_schemes / sizeof special_schemes[0]; i++) {
        if (strcmp(out->scheme, special_schemes[i].name) == 0) {
            special = 1;
            default_port = special_schemes[i].port;
        }
    }

    if (rest[0] != '/' || rest[1] != '/') {
        /* Browsers read "http:x", "http:/x" and "http:\\x" as http://x/;
         * RFC 3986 reads them as a path. Refuse the ambiguity. */
        if (special)
            return invalid(why, whylen, "'%s:' must be followed by '//'", out->scheme);
        return RC_OK;
    }
    rest += 2;
    end = rest + strcspn(rest, "/?#");
    return parse_authority(rest, end, default_port, special, out, why, whylen);
}

int
url_decode(char *s, int plus)
{
    size_t i, n;

    /* Validate first so that a bad escape leaves the string unchanged. */
    for (i = 0; s[i] != '\0'; i++) {
        if (s[i] != '%')
            continue;
        if (hexval((unsigned char)s[i + 1]) < 0 || hexval((unsigned char)s[i + 2]) < 0)
            return RC_INVALID;
        if (s[i + 1] == '0' && s[i + 2] == '0')
            return RC_INVALID;
        i += 2;
    }
    if (i > INT_MAX)
        return RC_TOO_LARGE;

    for (i = 0, n = 0; s[i] != '\0'; i++, n++) {
        if (s[i] == '%') {
            s[n] =
                (char)(hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]));
            i += 2;
        } else if (plus && s[i] == '+') {
            s[n] = ' ';
        } else {
            s[n] = s[i];
        }
    }
    s[n] = '\0';
    return (int)n;
}
