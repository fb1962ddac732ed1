/* url.h — splitting absolute http(s) URLs into parts, and %-decoding.
 *
 * Pure functions. The parser is strict about what it accepts (RFC 3986
 * shape, http/https need a host) so that what we check is what the browser
 * will fetch. */
#ifndef RCGI_URL_H
#define RCGI_URL_H

#include <stddef.h>

struct url {
    char scheme[16];   /* lower-cased, e.g. "https" */
    char host[256];    /* lower-cased; IPv6 without brackets */
    int port;          /* explicit or the scheme's default; -1 if unknown */
    int host_is_ip;    /* 4 or 6 when host is a literal address, else 0 */
};

/* Parse an absolute URL. RC_OK, or RC_INVALID with 'why' saying what is wrong. */
int url_parse(const char *s, struct url *out, char *why, size_t whylen);
/* Decode %XX and (if 'plus' is non-zero) '+' as space, in place. Returns the
 * new length; RC_INVALID for a malformed escape or an embedded NUL. */
int url_decode(char *s, int plus);

#endif
