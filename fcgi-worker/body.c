/* body.c — reading and parsing POST bodies; see body.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>

#include "body.h"
#include "fcgi.h"
#include "rc.h"
#include "request.h"

void
posted_page_free(struct posted_page *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->nassets; i++) {
        free(p->assets[i].name);
        free(p->assets[i].content_type);
        free(p->assets[i].data);
    }
    free(p->assets);
    free(p->html);
    free(p);
}

const struct asset *
posted_page_asset(const struct posted_page *p, const char *name)
{
    for (size_t i = 0; p != NULL && i < p->nassets; i++)
        if (strcmp(p->assets[i].name, name) == 0)
            return &p->assets[i];
    return NULL;
}

/* ---- JSON ---------------------------------------------------------------- */

/* Write a yajl tree back as JSON text (for nested option values). */
static yajl_gen_status
json_dump(yajl_gen g, yajl_val v)
{
    if (YAJL_IS_STRING(v))
        return yajl_gen_string(g, (const unsigned char *)v->u.string, strlen(v->u.string));
    if (YAJL_IS_NUMBER(v))
        return yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
    if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
        return yajl_gen_bool(g, YAJL_IS_TRUE(v));
    if (YAJL_IS_NULL(v))
        return yajl_gen_null(g);
    if (YAJL_IS_OBJECT(v)) {
        yajl_gen_status st = yajl_gen_map_open(g);
        for (size_t i = 0; st == yajl_gen_status_ok && i < v->u.object.len; i++) {
            const char *k = v->u.object.keys[i];
            st = yajl_gen_string(g, (const unsigned char *)k, strlen(k));
            if (st == yajl_gen_status_ok)
                st = json_dump(g, v->u.object.values[i]);
        }
        return st == yajl_gen_status_ok ? yajl_gen_map_close(g) : st;
    }
    yajl_gen_status st = yajl_gen_array_open(g);
    for (size_t i = 0; st == yajl_gen_status_ok && i < v->u.array.len; i++)
        st = json_dump(g, v->u.array.values[i]);
    return st == yajl_gen_status_ok ? yajl_gen_array_close(g) : st;
}

/* One option from a JSON member: strings as they are, numbers as written,
 * booleans as true/false, objects and lists as JSON text; null is absent. */
static int
json_option(struct request *r, const char *name, yajl_val v)
{
    const unsigned char *text;
    size_t len;
    yajl_gen g;
    int rc;

    if (YAJL_IS_NULL(v))
        return RC_OK;
    if (YAJL_IS_STRING(v))
        return request_add_param(r, name, strlen(name), v->u.string, strlen(v->u.string));
    if (YAJL_IS_NUMBER(v))
        return request_add_param(r, name, strlen(name), v->u.number.r, strlen(v->u.number.r));
    if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
        return request_add_param(r, name, strlen(name), YAJL_IS_TRUE(v) ? "true" : "false",
                                 YAJL_IS_TRUE(v) ? 4 : 5);
    if ((g = yajl_gen_alloc(NULL)) == NULL)
        return RC_ERROR;
    rc = RC_ERROR;
    if (json_dump(g, v) == yajl_gen_status_ok && yajl_gen_get_buf(g, &text, &len) ==
                                                     yajl_gen_status_ok)
        rc = request_add_param(r, name, strlen(name), (const char *)text, len);
    yajl_gen_free(g);
    return rc;
}

int
body_parse_json(struct request *r, const char *data, size_t len, const char **code,
                struct buf *msg)
{
    char *text = NULL, err[256];
    yajl_handle h;
    yajl_val root = NULL;
    int rc = RC_INVALID;

    /* A first pass with the streaming parser gives the byte offset of an
     * error, which yajl_tree_parse does not. */
    if ((h = yajl_alloc(NULL, NULL, NULL)) == NULL)
        return RC_ERROR;
    int in_text = yajl_parse(h, (const unsigned char *)data, len) != yajl_status_ok;
    if (in_text || yajl_complete_parse(h) != yajl_status_ok) {
        unsigned char *e = yajl_get_error(h, 0, (const unsigned char *)data, len);
        /* An error found only at the end (a truncated body) is at its end. */
        size_t at = in_text ? yajl_get_bytes_consumed(h) : len;
        size_t elen = e != NULL ? strlen((const char *)e) : 0;
        while (elen > 0 && isspace(e[elen - 1]))
            elen--;
        *code = "invalid_json";
        buf_printf(msg, "the JSON body is malformed at byte %zu: %.*s", at, (int)elen,
                   e != NULL ? (const char *)e : "parse error");
        if (e != NULL)
            yajl_free_error(h, e);
        yajl_free(h);
        return RC_INVALID;
    }
    yajl_free(h);
    if ((text = strndup(data, len)) == NULL)
        return RC_ERROR;
    root = yajl_tree_parse(text, err, sizeof err);
    free(text);
    if (root == NULL || !YAJL_IS_OBJECT(root)) {
        *code = "invalid_json";
        buf_puts(msg, "the JSON body must be an object: {\"url\": \"...\", \"options\": {...}}");
        goto out;
    }
    for (size_t i = 0; i < root->u.object.len; i++) {
        const char *k = root->u.object.keys[i];
        yajl_val v = root->u.object.values[i];
        if (strcmp(k, "options") == 0) {
            if (!YAJL_IS_OBJECT(v)) {
                *code = "invalid_option";
                buf_puts(msg, "'options' must be a JSON object of option names to values");
                goto out;
            }
            for (size_t j = 0; j < v->u.object.len; j++)
                if (json_option(r, v->u.object.keys[j], v->u.object.values[j]) != RC_OK) {
                    rc = RC_ERROR;
                    goto out;
                }
        } else if (json_option(r, k, v) != RC_OK) {
            rc = RC_ERROR;
            goto out;
        }
    }
    rc = RC_OK;
out:
    yajl_tree_free(root);
    return rc;
}

int
body_json_option(struct request *r, const char *name, yajl_val v)
{
    return json_option(r, name, v);
}

/* ---- multipart/form-data -------------------------------------------------- */

/* The value of parameter 'param' (e.g. "boundary", "filename") in a header
 * value such as 'form-data; name="x"; filename="y"', unquoted, into out. */
static int
header_param(const char *h, size_t hlen, const char *param, char *out, size_t outlen)
{
    size_t plen = strlen(param);
    const char *end = h + hlen;

    for (const char *p = h; p < end; p++) {
        const char *v;
        size_t n = 0;
        if ((p != h && p[-1] != ';' && p[-1] != ' ') || (size_t)(end - p) <= plen ||
            strncasecmp(p, param, plen) != 0 || p[plen] != '=')
            continue;
        v = p + plen + 1;
        if (v < end && *v == '"') {
            v++;
            while (v + n < end && v[n] != '"' && n + 1 < outlen) {
                if (v[n] == '\\' && v + n + 1 < end)
                    v++;
                out[n] = v[n];
                n++;
            }
        } else {
            while (v + n < end && v[n] != ';' && v[n] != ' ' && n + 1 < outlen) {
                out[n] = v[n];
                n++;
            }
        }
        out[n] = '\0';
        return RC_OK;
    }
    return RC_NOT_FOUND;
}

/* The value of header 'name' within a part's header block, or NULL. */
static const char *
part_header(const char *hdrs, size_t hlen, const char *name, size_t *vlen)
{
    size_t nlen = strlen(name);
    const char *p = hdrs, *end = hdrs + hlen;

    while (p < end) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (eol == NULL)
            eol = end;
        if ((size_t)(eol - p) > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            *vlen = (size_t)(eol - v);
            return v;
        }
        p = eol + 2;
    }
    return NULL;
}

/* Asset names are paths below the page: no absolute paths, no "..". */
static int
asset_name_ok(const char *n)
{
    if (n[0] == '\0' || n[0] == '/' || strchr(n, '\\') != NULL || strstr(n, "..") != NULL)
        return 0;
    for (const char *c = n; *c != '\0'; c++)
        if ((unsigned char)*c < 0x20 || *c == '?' || *c == '#')
            return 0;
    return 1;
}

static const char *
guess_type(const char *name)
{
    static const struct { const char *ext, *type; } types[] = {
        { ".html", "text/html; charset=utf-8" }, { ".htm", "text/html; charset=utf-8" },
        { ".css", "text/css" }, { ".js", "text/javascript" }, { ".png", "image/png" },
        { ".jpg", "image/jpeg" }, { ".jpeg", "image/jpeg" }, { ".gif", "image/gif" },
        { ".svg", "image/svg+xml" }, { ".webp", "image/webp" }, { ".woff", "font/woff" },
        { ".woff2", "font/woff2" }, { ".ttf", "font/ttf" }, { ".otf", "font/otf" },
        { ".json", "application/json" },
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot != NULL && i < sizeof types / sizeof types[0]; i++)
        if (strcasecmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

static int
add_asset(struct posted_page *pg, const char *name, const char *type, size_t tlen,
          const char *data, size_t len)
{
    struct asset *a, *na;

    na = realloc(pg->assets, (pg->nassets + 1) * sizeof *na);
    if (na == NULL)
        return RC_ERROR;
    pg->assets = na;
    a = &pg->assets[pg->nassets];
    a->name = strdup(name);
    a->content_type = type != NULL ? strndup(type, tlen) : strdup(guess_type(name));
    a->data = malloc(len ? len : 1);
    if (a->name == NULL || a->content_type == NULL || a->data == NULL) {
        free(a->name);
        free(a->content_type);
        free(a->data);
        return RC_ERROR;
    }
    memcpy(a->data, data, len);
    a->len = len;
    pg->nassets++;
    return RC_OK;
}

int
body_parse_multipart(struct request *r, const char *boundary, const char *data, size_t len,
                     const char **code, struct buf *msg)
{
    char delim[80], name[256], filename[256];
    size_t dlen;
    const char *p, *end = data + len;
    struct posted_page *pg;

    *code = "invalid_option";
    dlen = (size_t)snprintf(delim, sizeof delim, "\r\n--%s", boundary);
    if (boundary[0] == '\0' || dlen >= sizeof delim) {
        buf_puts(msg, "the multipart boundary is missing or longer than 70 characters");
        return RC_INVALID;
    }
    if ((pg = calloc(1, sizeof *pg)) == NULL)
        return RC_ERROR;
    posted_page_free(r->page);
    r->page = pg;
    /* The first delimiter may open the body without the leading CRLF. */
    if (len >= dlen - 2 && memcmp(data, delim + 2, dlen - 2) == 0)
        p = data + dlen - 2;
    else if ((p = memmem(data, len, delim, dlen)) != NULL)
        p += dlen;
    else
        goto malformed;
    for (;;) {
        const char *hdr_end, *part_end, *cd, *ct;
        size_t cdlen = 0, ctlen = 0;

        if (end - p >= 2 && p[0] == '-' && p[1] == '-')
            break; /* the closing delimiter */
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
            goto malformed;
        p += 2;
        if ((hdr_end = memmem(p, (size_t)(end - p), "\r\n\r\n", 4)) == NULL ||
            (part_end = memmem(hdr_end + 4, (size_t)(end - hdr_end - 4), delim, dlen)) == NULL)
            goto malformed;
        cd = part_header(p, (size_t)(hdr_end - p), "Content-Disposition", &cdlen);
        ct = part_header(p, (size_t)(hdr_end - p), "Content-Type", &ctlen);
        if (cd == NULL || header_param(cd, cdlen, "name", name, sizeof name) != RC_OK) {
            buf_puts(msg, "a multipart part has no Content-Disposition name");
            return RC_INVALID;
        }
        const char *content = hdr_end + 4;
        size_t clen = (size_t)(part_end - content);
        int is_file = header_param(cd, cdlen, "filename", filename, sizeof filename) == RC_OK;
        if (!is_file && strcmp(name, "index.html") == 0) {
            is_file = 1;
            strcpy(filename, name);
        }
        if (is_file && strcmp(filename, "index.html") == 0) {
            free(pg->html);
            if ((pg->html = strndup(content, clen)) == NULL)
                return RC_ERROR;
            pg->html_len = clen;
        } else if (is_file) {
            if (!asset_name_ok(filename)) {
                buf_printf(msg, "the asset name '%.80s' must be a relative path without '..'",
                           filename);
                return RC_INVALID;
            }
            if (pg->nassets >= BODY_MAX_ASSETS) {
                buf_printf(msg, "more than %d assets in one request", BODY_MAX_ASSETS);
                return RC_INVALID;
            }
            if (add_asset(pg, filename, ct, ctlen, content, clen) != RC_OK)
                return RC_ERROR;
        } else if (request_add_param(r, name, strlen(name), content, clen) != RC_OK) {
            return RC_ERROR;
        }
        p = part_end + dlen;
    }
    if (pg->html == NULL) {
        buf_puts(msg, "the multipart body has no index.html part (the page to render)");
        return RC_INVALID;
    }
    return RC_OK;
malformed:
    buf_puts(msg, "the multipart body is malformed: a part or the closing boundary is missing");
    return RC_INVALID;
}

/* ---- reading --------------------------------------------------------------- */

int
body_read(struct request *r, size_t max, struct buf *out, const char **code, struct buf *msg)
{
    const char *cl = fcgi_param(r->conn, "CONTENT_LENGTH");
    char chunk[65536];
    size_t n;

    /* Initialised first: the caller frees 'out' on every return. */
    buf_init(out, max);
    if (cl != NULL && cl[0] != '\0' && strtoull(cl, NULL, 10) > max) {
        *code = "body_too_large";
        buf_printf(msg, "the request body of %s bytes is over this server's max_body of %zu bytes",
                   cl, max);
        return RC_INVALID;
    }
    while ((n = fcgi_read(r->conn, chunk, sizeof chunk)) > 0) {
        if (buf_append(out, chunk, n) != RC_OK) {
            *code = "body_too_large";
            buf_printf(msg, "the request body is over this server's max_body of %zu bytes", max);
            return RC_INVALID;
        }
    }
    return RC_OK;
}

int
body_parse(struct request *r, size_t max_body, const char **code, struct buf *msg)
{
    const char *ct = fcgi_param(r->conn, "CONTENT_TYPE");
    char media[128], boundary[128];
    struct buf body;
    size_t n = 0;
    int rc;

    if (ct == NULL)
        ct = "";
    while (ct[n] != '\0' && ct[n] != ';' && ct[n] != ' ' && n + 1 < sizeof media) {
        media[n] = (char)tolower((unsigned char)ct[n]);
        n++;
    }
    media[n] = '\0';
    if (strcmp(media, "application/json") != 0 && strcmp(media, "text/html") != 0 &&
        strcmp(media, "multipart/form-data") != 0) {
        *code = "unsupported_media_type";
        buf_printf(msg, "a POST body must be application/json, text/html or multipart/form-data, "
                        "not '%.80s'", ct[0] ? ct : "(none)");
        return RC_INVALID;
    }
    if ((rc = body_read(r, max_body, &body, code, msg)) != RC_OK) {
        buf_free(&body);
        return rc;
    }
    if (strcmp(media, "application/json") == 0) {
        rc = body_parse_json(r, body.data ? body.data : "", body.len, code, msg);
    } else if (strcmp(media, "text/html") == 0) {
        struct posted_page *pg = calloc(1, sizeof *pg);
        if (pg == NULL) {
            rc = RC_ERROR;
        } else {
            pg->html = buf_steal(&body);
            if (pg->html == NULL)
                pg->html = strdup("");
            pg->html_len = strlen(pg->html);
            posted_page_free(r->page);
            r->page = pg;
            rc = pg->html != NULL ? RC_OK : RC_ERROR;
        }
    } else if (header_param(ct, strlen(ct), "boundary", boundary, sizeof boundary) != RC_OK) {
        *code = "invalid_option";
        buf_puts(msg, "multipart/form-data needs a boundary parameter in Content-Type");
        rc = RC_INVALID;
    } else {
        rc = body_parse_multipart(r, boundary, body.data ? body.data : "", body.len, code, msg);
    }
    buf_free(&body);
    if (rc == RC_ERROR) {
        *code = "internal";
        buf_puts(msg, "out of memory reading the request body");
    }
    return rc;
}
