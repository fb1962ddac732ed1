/* request.c — parsing one FastCGI request's method, route, id and query
 * parameters; see request.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "body.h"
#include "clock.h"
#include "fcgi.h"
#include "rc.h"
#include "request.h"
#include "url.h"

void
request_route_of(const char *path, char *route, size_t len)
{
    const char *end, *start;
    size_t n;

    route[0] = '\0';
    if (path == NULL)
        return;
    end = path + strcspn(path, "?");
    while (end > path && end[-1] == '/')
        end--;
    start = end;
    while (start > path && start[-1] != '/')
        start--;
    n = (size_t)(end - start);
    if (n >= len)
        n = len - 1;
    memcpy(route, start, n);
    route[n] = '\0';
}

/* An incoming id is kept only if it is short and harmless in a header. */
static int
request_id_ok(const char *s)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++)
        if (n >= 64 || !(isalnum((unsigned char)s[n]) || strchr("-_.:", s[n]) != NULL))
            return 0;
    return n > 0;
}

static void
request_id_new(char *out)
{
    unsigned char raw[8];
    static const char hex[] = "0123456789abcdef";

    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        int64_t t = clock_ms();
        memcpy(raw, &t, sizeof raw);
    }
    for (size_t i = 0; i < sizeof raw; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[2 * sizeof raw] = '\0';
}

int
request_add_param(struct request *r, const char *name, size_t nlen, const char *value,
                  size_t vlen)
{
    struct param *pa;

    if (r->nparams == r->params_cap) {
        size_t cap = r->params_cap ? r->params_cap * 2 : 16;
        struct param *np = realloc(r->params, cap * sizeof *np);
        if (np == NULL)
            return RC_ERROR;
        r->params = np;
        r->params_cap = cap;
    }
    pa = &r->params[r->nparams];
    if ((pa->name = strndup(name, nlen)) == NULL)
        return RC_ERROR;
    if ((pa->value = strndup(value, vlen)) == NULL) {
        free(pa->name);
        return RC_ERROR;
    }
    pa->used = 0;
    r->nparams++;
    return RC_OK;
}

static int
request_parse_query(struct request *r, const char *query, char *why, size_t whylen)
{
    const char *p = query;

    while (p != NULL && *p != '\0') {
        const char *amp = strchr(p, '&');
        size_t n = amp != NULL ? (size_t)(amp - p) : strlen(p);
        if (n > 0) {
            const char *eq = memchr(p, '=', n);
            size_t nlen = eq != NULL ? (size_t)(eq - p) : n;
            if (request_add_param(r, p, nlen, eq != NULL ? eq + 1 : "",
                                  eq != NULL ? n - nlen - 1 : 0) != RC_OK)
                return RC_ERROR;
            struct param *pa = &r->params[r->nparams - 1];
            if (url_decode(pa->name, 1) < 0 || url_decode(pa->value, 1) < 0) {
                snprintf(why, whylen, "the query string has a malformed %%-escape near '%.40s'",
                         pa->name);
                return RC_INVALID;
            }
        }
        p = amp != NULL ? amp + 1 : NULL;
    }
    return RC_OK;
}

int
request_parse(struct request *r, struct fcgi_conn *conn, struct worker *w, char *why,
              size_t whylen)
{
    const char *path, *id;

    memset(r, 0, sizeof *r);
    r->conn = conn;
    r->worker = w;
    r->started_ms = clock_ms();
    r->method = fcgi_param(conn, "REQUEST_METHOD");
    if (r->method == NULL)
        r->method = "GET";
    id = fcgi_param(conn, "HTTP_X_REQUEST_ID");
    if (id != NULL && request_id_ok(id))
        snprintf(r->id, sizeof r->id, "%s", id);
    else
        request_id_new(r->id);

    /* API.md §3: PATH_INFO when non-empty, else DOCUMENT_URI, else
     * REQUEST_URI without its query. */
    path = fcgi_param(conn, "PATH_INFO");
    if (path == NULL || path[0] == '\0')
        path = fcgi_param(conn, "DOCUMENT_URI");
    if (path == NULL || path[0] == '\0')
        path = fcgi_param(conn, "REQUEST_URI");
    request_route_of(path, r->route, sizeof r->route);
    return request_parse_query(r, fcgi_param(conn, "QUERY_STRING"), why, whylen);
}

void
request_init_item(struct request *item, const struct request *batch, size_t index,
                  const char *route, struct respond_capture *capture)
{
    char suffix[24];
    int n = snprintf(suffix, sizeof suffix, "-%zu", index);

    item->conn = batch->conn;
    item->worker = batch->worker;
    item->method = "GET";
    snprintf(item->route, sizeof item->route, "%s", route);
    /* Keep the whole suffix: the batch id is cut short if both do not fit. */
    snprintf(item->id, sizeof item->id, "%.*s%s", (int)(sizeof item->id - 1) - n, batch->id,
             suffix);
    item->headers_sent = 0;
    item->status = 0;
    item->failed = 0;
    item->started_ms = clock_ms();
    item->slot = NULL;
    item->slot_healthy = 0;
    item->capture = capture;
}

void
request_free(struct request *r)
{
    for (size_t i = 0; i < r->nparams; i++) {
        free(r->params[i].name);
        free(r->params[i].value);
    }
    free(r->params);
    r->params = NULL;
    r->nparams = r->params_cap = 0;
    posted_page_free(r->page);
    r->page = NULL;
}

const char *
request_param(struct request *r, const char *name)
{
    const char *v = NULL;

    /* The last occurrence wins, as in most query-string parsers; all are
     * marked used so a repeated option is not reported as unknown. */
    for (size_t i = 0; i < r->nparams; i++) {
        if (strcmp(r->params[i].name, name) == 0) {
            r->params[i].used = 1;
            v = r->params[i].value;
        }
    }
    return v;
}
