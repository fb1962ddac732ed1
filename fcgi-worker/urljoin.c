/* urljoin.c — resolving links against a page's URL (RFC 3986 section 5.2).
 *
 * The algorithm is RFC 3986's: split base and reference into scheme,
 * authority, path, query and fragment, take each part from the one that
 * defines it, merge relative paths and remove dot segments. On top of that
 * come the few WHATWG URL behaviours that real pages rely on: whitespace
 * around and inside hrefs is ignored, '\' is a path separator in special
 * schemes, "%2e" is a dot segment, and an http(s) URL's path is never empty.
 * Hosts are not validated here (policy.c does that before anything is
 * fetched); the results are only written into the converter's output. */
#include "urljoin.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rc.h"

/* The parts of a URL reference, as offsets into one string. A part that
 * is absent has has_x == 0; a present but empty query is "?". */
struct parts {
    size_t scheme; /* length without ':'; 0: none */
    int has_auth;
    size_t auth_off, auth_len; /* after "//" */
    size_t path_off, path_len;
    int has_query;
    size_t query_off, query_len; /* with the '?' */
    int has_frag;
    size_t frag_off, frag_len; /* with the '#' */
};

static int
is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

size_t
urljoin_scheme_len(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || !is_alpha((unsigned char)s[0]))
        return 0;
    for (i = 1; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == ':')
            return i;
        if (!is_alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.')
            return 0;
    }
    return 0;
}

/* Whether the scheme is one the WHATWG standard calls special: these have
 * hosts, '\' works as '/', and paths are never empty. */
static int
scheme_is_special(const char *s, size_t n)
{
    static const char *const special[] = {"http", "https", "ws", "wss", "ftp", "file"};
    size_t i;

    for (i = 0; i < sizeof special / sizeof special[0]; i++)
        if (strlen(special[i]) == n && strncasecmp(s, special[i], n) == 0)
            return 1;
    return 0;
}

static void
split(const char *s, size_t n, struct parts *p)
{
    size_t i = 0, end;

    memset(p, 0, sizeof *p);
    p->scheme = urljoin_scheme_len(s, n);
    if (p->scheme)
        i = p->scheme + 1;
    if (n - i >= 2 && s[i] == '/' && s[i + 1] == '/') {
        p->has_auth = 1;
        p->auth_off = i + 2;
        for (end = i + 2; end < n && s[end] != '/' && s[end] != '?' && s[end] != '#'; end++)
            ;
        p->auth_len = end - p->auth_off;
        i = end;
    }
    p->path_off = i;
    for (end = i; end < n && s[end] != '?' && s[end] != '#'; end++)
        ;
    p->path_len = end - i;
    i = end;
    if (i < n && s[i] == '?') {
        p->has_query = 1;
        p->query_off = i;
        for (end = i; end < n && s[end] != '#'; end++)
            ;
        p->query_len = end - i;
        i = end;
    }
    if (i < n && s[i] == '#') {
        p->has_frag = 1;
        p->frag_off = i;
        p->frag_len = n - i;
    }
}

/* Append 's', percent-encoding what may not appear raw in a URL. */
static int
put_encoded(struct buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i, run = 0;
    int rc;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c > ' ' && c != 0x7f && c != '"' && c != '<' && c != '>')
            continue;
        if ((rc = buf_append(out, s + run, i - run)) != RC_OK)
            return rc;
        char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
        if ((rc = buf_append(out, esc, 3)) != RC_OK)
            return rc;
        run = i + 1;
    }
    return buf_append(out, s + run, n - run);
}

static int
is_dot(const char *s, size_t n)
{
    return (n == 1 && s[0] == '.') || (n == 3 && strncasecmp(s, "%2e", 3) == 0);
}

static int
is_dotdot(const char *s, size_t n)
{
    if (n == 2)
        return s[0] == '.' && s[1] == '.';
    if (n == 4)
        return (s[0] == '.' && strncasecmp(s + 1, "%2e", 3) == 0) ||
               (strncasecmp(s, "%2e", 3) == 0 && s[3] == '.');
    if (n == 6)
        return strncasecmp(s, "%2e%2e", 6) == 0;
    return 0;
}

/* Append the path 'a' followed by 'b' (either may be empty) with dot
 * segments removed. The path is taken as absolute: every segment is
 * written as "/seg", so ".." never climbs above the root. */
static int
put_path(struct buf *out, const char *a, size_t alen, const char *b, size_t blen)
{
    size_t root = out->len, i = 0, n = alen + blen;
    int rc;

    /* Walk the virtual concatenation a+b segment by segment. A leading '/'
     * is implied; skip it when present. */
#define AT(k) ((k) < alen ? a[(k)] : b[(k)-alen])
    if (n == 0)
        return RC_OK;
    if (AT(0) == '/')
        i = 1;
    while (i <= n) {
        size_t start = i, len;
        char seg[6];
        int last;

        while (i < n && AT(i) != '/')
            i++;
        len = i - start;
        last = (i >= n);
        for (size_t k = 0; k < len && k < sizeof seg; k++)
            seg[k] = AT(start + k);
        if (len <= sizeof seg && is_dot(seg, len)) {
            if (last && (rc = buf_append(out, "/", 1)) != RC_OK)
                return rc;
        } else if (len <= sizeof seg && is_dotdot(seg, len)) {
            while (out->len > root && out->data[out->len - 1] != '/')
                out->len--;
            if (out->len > root)
                out->len--;
            out->data[out->len] = '\0';
            if (last && (rc = buf_append(out, "/", 1)) != RC_OK)
                return rc;
        } else {
            if ((rc = buf_append(out, "/", 1)) != RC_OK)
                return rc;
            /* The segment may straddle a and b. */
            for (size_t k = start; k < start + len;) {
                size_t m;
                if (k < alen) {
                    m = (start + len < alen ? start + len : alen) - k;
                    rc = put_encoded(out, a + k, m);
                } else {
                    m = start + len - k;
                    rc = put_encoded(out, b + (k - alen), m);
                }
                if (rc != RC_OK)
                    return rc;
                k += m;
            }
        }
        i++; /* past the '/' (or past the end) */
    }
#undef AT
    return RC_OK;
}

/* Remove tabs and newlines, trim spaces and controls at both ends, and
 * turn '\' into '/' before the query when 'special'. Writes into 'dst'
 * (at least 'n' bytes); returns the new length. */
static size_t
clean(const char *s, size_t n, char *dst)
{
    size_t i = 0, k = 0;

    while (n > 0 && (unsigned char)s[n - 1] <= ' ')
        n--;
    while (i < n && (unsigned char)s[i] <= ' ')
        i++;
    for (; i < n; i++)
        if (s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            dst[k++] = s[i];
    return k;
}

static void
backslashes(char *s, size_t n)
{
    for (size_t i = 0; i < n && s[i] != '?' && s[i] != '#'; i++)
        if (s[i] == '\\')
            s[i] = '/';
}

int
urljoin(const char *base, const char *ref, size_t reflen, struct buf *out)
{
    char small[512], *r = small;
    struct parts b, p;
    size_t blen = 0, n, i;
    int rc, special;

    if (reflen > sizeof small && (r = malloc(reflen)) == NULL)
        return RC_ERROR;
    n = clean(ref, reflen, r);
    split(r, n, &p);
    if (base != NULL) {
        blen = strlen(base);
        split(base, blen, &b);
    }
    if (p.scheme) {
        special = scheme_is_special(r, p.scheme);
    } else if (base != NULL && b.scheme &&
               (b.has_auth || (b.path_len && base[b.path_off] == '/'))) {
        special = scheme_is_special(base, b.scheme);
    } else {
        /* Nothing to resolve against: keep the reference as written. */
        rc = put_encoded(out, r, n);
        rc = rc == RC_OK ? RC_DECLINED : rc;
        goto done;
    }
    if (special) {
        backslashes(r, n);
        split(r, n, &p); /* "\\host" may now be an authority */
    }

    /* Scheme, lower-cased. */
    const char *sch = p.scheme ? r : base;
    size_t schlen = p.scheme ? p.scheme : b.scheme;
    for (i = 0; i < schlen; i++) {
        char c = sch[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((rc = buf_append(out, &c, 1)) != RC_OK)
            goto done;
    }
    if ((rc = buf_append(out, ":", 1)) != RC_OK)
        goto done;

    if (p.scheme || p.has_auth) {
        /* The reference brings its own authority (or is absolute): only the
         * scheme may come from the base. */
        if (p.has_auth) {
            if ((rc = buf_append(out, "//", 2)) != RC_OK ||
                (rc = put_encoded(out, r + p.auth_off, p.auth_len)) != RC_OK)
                goto done;
        }
        if (p.has_auth || (p.path_len && r[p.path_off] == '/'))
            rc = put_path(out, "", 0, r + p.path_off, p.path_len);
        else /* "mailto:x", "tel:1": an opaque path, copied */
            rc = put_encoded(out, r + p.path_off, p.path_len);
        if (rc != RC_OK)
            goto done;
        if (p.has_auth && special && p.path_len == 0 && (rc = buf_append(out, "/", 1)) != RC_OK)
            goto done;
        if (p.has_query && (rc = put_encoded(out, r + p.query_off, p.query_len)) != RC_OK)
            goto done;
    } else {
        if (b.has_auth) {
            if ((rc = buf_append(out, "//", 2)) != RC_OK ||
                (rc = put_encoded(out, base + b.auth_off, b.auth_len)) != RC_OK)
                goto done;
        }
        if (p.path_len == 0) {
            rc = put_path(out, base + b.path_off, b.path_len, "", 0);
            if (rc == RC_OK && b.path_len == 0 && (b.has_auth || special))
                rc = buf_append(out, "/", 1);
            if (rc != RC_OK)
                goto done;
            if (p.has_query)
                rc = put_encoded(out, r + p.query_off, p.query_len);
            else if (b.has_query)
                rc = put_encoded(out, base + b.query_off, b.query_len);
        } else if (r[p.path_off] == '/') {
            rc = put_path(out, "", 0, r + p.path_off, p.path_len);
            if (rc == RC_OK && p.has_query)
                rc = put_encoded(out, r + p.query_off, p.query_len);
        } else {
            /* Merge: the base path up to its last '/', then the reference. */
            size_t keep = b.path_len;
            while (keep > 0 && base[b.path_off + keep - 1] != '/')
                keep--;
            rc = put_path(out, base + b.path_off, keep, r + p.path_off, p.path_len);
            if (rc == RC_OK && p.has_query)
                rc = put_encoded(out, r + p.query_off, p.query_len);
        }
        if (rc != RC_OK)
            goto done;
    }
    if (p.has_frag)
        rc = put_encoded(out, r + p.frag_off, p.frag_len);
done:
    if (r != small)
        free(r);
    return rc;
}
