/* url.h — splitting absolute http(s) URLs into parts, and %-decoding.
 *
 * Pure functions, no global state (safe from any thread). The parser is
 * strict about what it accepts (RFC 3986 shape, http/https need a host) so
 * that what we check is what the browser will fetch. Where Chromium (which
 * follows the WHATWG URL standard) would read a URL differently from an
 * RFC 3986 parser such as libcurl's, we either compute the host Chromium
 * uses or refuse the URL:
 *
 *  - Refused (RC_INVALID): blanks and control characters anywhere (WHATWG
 *    strips tabs/newlines, libcurl does not); a backslash before the path
 *    ("http://evil.com\@127.0.0.1/": WHATWG ends the host at '\'); anything
 *    but "//" after "http:"/"https:" ("http:/x", "http:\\x", "http:x");
 *    more than one '@' in the authority; non-ASCII in the host (IDNA would
 *    map "127。0。0。1" to 127.0.0.1: send the xn-- form); host characters
 *    other than letters, digits, '-', '_', '.'; empty labels; a host that
 *    ends in a number but is not a valid IPv4 address ("1.2.3.4.5",
 *    "foo.09", "256.1.1.1"); port 0 or above 65535.
 *  - Normalized as the browser does: scheme and host lower-cased; %XX in
 *    the host decoded first ("%31%32%37.0.0.1"); IPv4 in the forms the
 *    WHATWG IPv4 parser accepts — 1 to 4 parts, each decimal, octal
 *    (leading 0) or hex (0x), one trailing dot allowed ("2130706433",
 *    "0x7f.1", "017700000001", "127.1", "127.0.0.1.") — rewritten to dotted
 *    decimal with host_is_ip = 4; IPv6 literals rewritten to inet_ntop form.
 *  - Kept as is: a trailing dot on a domain name ("example.com."); userinfo
 *    ("user:pw@host"), which browsers accept; it is flagged in has_userinfo
 *    and never stored.
 * Path, query and fragment are not stored (a backslash there is allowed). */
#ifndef RCGI_URL_H
#define RCGI_URL_H

#include <stddef.h>

struct url {
    char scheme[16];  /* lower-cased, e.g. "https" */
    char host[256];   /* lower-cased; IPv6 without brackets */
    int port;         /* explicit or the scheme's default; -1 if unknown */
    int host_is_ip;   /* 4 or 6 when host is a literal address, else 0 */
    int has_userinfo; /* 1 when the URL carried "user[:password]@" */
};

/* Parse an absolute URL. RC_OK, or RC_INVALID with 'why' saying what is wrong.
 * Schemes other than http/https/ws/wss/ftp without "//" ("mailto:x",
 * "javascript:...") parse with an empty host and port -1. */
int url_parse(const char *s, struct url *out, char *why, size_t whylen);
/* Decode %XX and (if 'plus' is non-zero) '+' as space, in place. Returns the
 * new length; RC_INVALID for a malformed escape or an embedded NUL (%00),
 * leaving 's' unchanged. */
int url_decode(char *s, int plus);

#endif
