/* urljoin.h — making a link found in a page absolute: resolving an href or
 * src against the page's URL (RFC 3986 section 5.2), with the leniencies of
 * the WHATWG URL standard that matter for links written in HTML.
 *
 * Pure, no allocation of its own (results are appended to a caller's buf),
 * thread-safe. The converter (convert.c) is its user. */
#ifndef RCGI_URLJOIN_H
#define RCGI_URLJOIN_H

#include <stddef.h>

#include "buf.h"

/* Resolve 'ref' ('reflen' bytes, as written in an attribute) against 'base'
 * and append the result to 'out'. As browsers do, leading and trailing
 * spaces and C0 controls are trimmed, tabs and newlines inside are removed,
 * and for http(s), ws(s), ftp and file '\' counts as '/' before the query.
 * Dot segments are removed. Spaces, controls, '"', '<' and '>' are
 * percent-encoded; other non-ASCII bytes are kept (an IRI, as written).
 * The fragment is kept.
 *
 * RC_OK when the result is absolute. RC_DECLINED when it could not be made
 * absolute ('base' NULL or not an absolute hierarchical URL, and 'ref'
 * relative): the cleaned 'ref' was appended as written. RC_TOO_LARGE or
 * RC_ERROR when 'out' could not grow. */
int urljoin(const char *base, const char *ref, size_t reflen, struct buf *out);

/* The length of the URL scheme that 's' ('n' bytes) starts with, without
 * the ':' ("mailto:x" → 6), or 0 when it has none. */
size_t urljoin_scheme_len(const char *s, size_t n);

#endif
