/* serve.c — answering a posted page's requests from memory; see serve.h. */
#include <stdio.h>
#include <string.h>

#include "base64.h"
#include "body.h"
#include "browser.h"
#include "cdp.h"
#include "log.h"
#include "page.h"
#include "rc.h"
#include "serve.h"

#define SERVE_DEFAULT_ORIGIN "https://rendercgi.invalid/"

const char *
serve_relative_name(const char *doc_url, const char *url)
{
    const char *slash = strrchr(doc_url, '/');
    size_t dir;

    if (slash == NULL)
        return NULL;
    dir = (size_t)(slash - doc_url) + 1;
    if (strncmp(url, doc_url, dir) != 0 || url[dir] == '\0')
        return NULL;
    return url + dir;
}

/* Append a Fetch urlPattern for exactly 'url' ('*', '?' and '\' escaped). */
static void
pattern_exact(struct buf *p, const char *url)
{
    struct buf esc;

    buf_init(&esc, 8192);
    for (const char *c = url; *c != '\0' && *c != '#'; c++) {
        if (*c == '*' || *c == '?' || *c == '\\')
            buf_append(&esc, "\\", 1);
        buf_append(&esc, c, 1);
    }
    buf_puts(p, "{\"requestStage\":\"Request\",\"urlPattern\":");
    buf_json_string(p, esc.data ? esc.data : "");
    buf_puts(p, "}");
    buf_free(&esc);
}

int
serve_begin(struct slot *s, const struct posted_page *pg, const char *base_url,
            int64_t deadline_ms, struct buf *err)
{
    struct buf p;
    int rc;

    snprintf(s->posted_url, sizeof s->posted_url, "%.*s",
             (int)strcspn(base_url ? base_url : SERVE_DEFAULT_URL, "#"),
             base_url ? base_url : SERVE_DEFAULT_URL);
    buf_init(&p, 1 << 20);
    buf_puts(&p, "{\"patterns\":[");
    if (base_url == NULL) {
        buf_puts(&p, "{\"requestStage\":\"Request\",\"urlPattern\":\"" SERVE_DEFAULT_ORIGIN
                     "*\"}");
    } else {
        const char *slash = strrchr(s->posted_url, '/');
        pattern_exact(&p, s->posted_url);
        for (size_t i = 0; i < pg->nassets && slash != NULL; i++) {
            char url[4096];
            snprintf(url, sizeof url, "%.*s%s", (int)(slash - s->posted_url + 1),
                     s->posted_url, pg->assets[i].name);
            buf_puts(&p, ",");
            pattern_exact(&p, url);
        }
    }
    buf_puts(&p, "]}");
    rc = page_call(s, "Fetch.enable", p.data, deadline_ms, NULL, err);
    buf_free(&p);
    if (rc == RC_OK) {
        s->posted = pg;
        s->fetch_enabled = 1;
    }
    return rc;
}

/* Fulfil one paused request with a status, a content type and a body. */
static void
fulfil(struct slot *s, const char *id, int status, const char *type, const char *data,
       size_t len)
{
    struct buf p;

    buf_init(&p, 96u << 20);
    buf_puts(&p, "{\"requestId\":");
    buf_json_string(&p, id);
    buf_printf(&p, ",\"responseCode\":%d,\"responseHeaders\":[{\"name\":\"Content-Type\","
                   "\"value\":", status);
    buf_json_string(&p, type);
    buf_puts(&p, "},{\"name\":\"Cache-Control\",\"value\":\"no-store\"}],\"body\":\"");
    if (base64_encode(data, len, &p) == RC_OK && buf_puts(&p, "\"}") == RC_OK)
        cdp_send(s->browser->cdp, s->session_id, "Fetch.fulfillRequest", p.data);
    else
        log_msg(LOG_WARN, "[browser %d] posted asset too large to serve", s->browser->id);
    buf_free(&p);
}

static void
answer(struct slot *s, const char *id, const char *url)
{
    const struct posted_page *pg = s->posted;
    char bare[1024];
    const char *name;
    const struct asset *a;

    /* Match without query or fragment. */
    snprintf(bare, sizeof bare, "%.*s", (int)strcspn(url, "?#"), url);
    if (pg != NULL && strcmp(bare, s->posted_url) == 0) {
        fulfil(s, id, 200, "text/html; charset=utf-8", pg->html, pg->html_len);
        return;
    }
    if (pg != NULL && (name = serve_relative_name(s->posted_url, bare)) != NULL &&
        (a = posted_page_asset(pg, name)) != NULL) {
        fulfil(s, id, 200, a->content_type, a->data, a->len);
        return;
    }
    if (strncmp(url, SERVE_DEFAULT_ORIGIN, strlen(SERVE_DEFAULT_ORIGIN)) == 0) {
        static const char nf[] = "not found: no such asset was posted";
        fulfil(s, id, 404, "text/plain", nf, sizeof nf - 1);
        return;
    }
    /* Matched a pattern but is not ours to answer (e.g. after the posted
     * page's request ended): let it go to the network. */
    struct buf p;
    buf_init(&p, 256);
    buf_puts(&p, "{\"requestId\":");
    buf_json_string(&p, id);
    buf_puts(&p, "}");
    cdp_send(s->browser->cdp, s->session_id, "Fetch.continueRequest", p.data);
    buf_free(&p);
}

void
serve_paused(struct slot *s)
{
    struct paused_request q[PAGE_MAX_PAUSED];
    int n;

    pthread_mutex_lock(&s->mu);
    n = s->npaused;
    memcpy(q, s->paused, (size_t)n * sizeof q[0]);
    s->npaused = 0;
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < n; i++)
        answer(s, q[i].id, q[i].url);
}

int
serve_end(struct slot *s, int64_t deadline_ms, struct buf *err)
{
    int rc = RC_OK;

    if (s->fetch_enabled)
        rc = page_call(s, "Fetch.disable", NULL, deadline_ms, NULL, err);
    s->fetch_enabled = 0;
    s->posted = NULL;
    pthread_mutex_lock(&s->mu);
    s->npaused = 0;
    s->paused_lost = 0;
    pthread_mutex_unlock(&s->mu);
    return rc;
}
