/* render.c — shared steps of the rendering routes; see render.h. */
#include <stdio.h>
#include <string.h>

#include "body.h"
#include "clock.h"
#include "fcgi.h"
#include "log.h"
#include "options.h"
#include "page.h"
#include "policy.h"
#include "pool.h"
#include "rc.h"
#include "render.h"
#include "request.h"
#include "respond.h"
#include "worker.h"

int
render_begin(struct request *r, enum route_id route, struct render_opts *o, struct slot **slot,
             int64_t *deadline_ms)
{
    *slot = NULL;
    if (render_prepare(r, route, o) != RC_OK)
        return RC_ERROR;
    *deadline_ms = r->started_ms + o->timeout_ms;
    return render_checkout(r, o, *deadline_ms, slot);
}

int
render_prepare(struct request *r, enum route_id route, struct render_opts *o)
{
    struct worker *w = r->worker;
    struct buf msg;
    const char *code = NULL;
    char why[512];

    buf_init(&msg, 2048);
    if (strcmp(r->method, "POST") == 0 &&
        body_parse(r, (size_t)w->conf->max_body, &code, &msg) != RC_OK) {
        respond_error(r, code, "%s", msg.data);
        buf_free(&msg);
        return RC_ERROR;
    }
    if (options_parse(r, route, w->conf->request_timeout, o, &code, &msg) != RC_OK) {
        respond_error(r, code, "%s", msg.data);
        buf_free(&msg);
        return RC_ERROR;
    }
    buf_free(&msg);
    why[0] = '\0';
    if (o->url != NULL && o->url[0] == '\0')
        o->url = NULL;
    /* A posted page without a base URL reaches the network only for the
     * absolute URLs it names itself. */
    switch (o->url == NULL ? RC_OK : policy_check_url(w->policy, o->url, why, sizeof why)) {
    case RC_OK:
        break;
    case RC_INVALID:
        respond_error(r, "bad_url", "option 'url' is not a valid http(s) URL: %s", why);
        return RC_ERROR;
    case RC_BLOCKED:
        respond_error(r, "url_blocked", "option 'url' is refused by the URL policy: %s", why);
        return RC_ERROR;
    case RC_NOT_FOUND:
        respond_error(r, "target_unreachable", "%s", why);
        return RC_ERROR;
    default:
        respond_error(r, "internal", "checking the URL failed: %s", why);
        return RC_ERROR;
    }
    return RC_OK;
}

int
render_checkout(struct request *r, const struct render_opts *o, int64_t deadline_ms,
                struct slot **slot)
{
    struct worker *w = r->worker;
    int rc;

    *slot = NULL;
    rc = pool_checkout(w->pool, deadline_ms, fcgi_conn_fd(r->conn), slot);
    switch (rc) {
    case RC_OK:
        r->slot = *slot;
        r->slot_healthy = 1;
        (*slot)->client_fd = fcgi_conn_fd(r->conn);
        return RC_OK;
    case RC_BUSY:
        respond_error_h(r, "overloaded", "Retry-After: 1\r\n",
                        "all %d page slots are busy and %d requests are already queued",
                        w->conf->browsers * w->conf->pages_per_browser, w->conf->queue_max);
        return RC_ERROR;
    case RC_TIMEOUT:
        respond_error(r, "timeout", "timed out after %d ms waiting for a free page slot",
                      o->timeout_ms);
        return RC_ERROR;
    case RC_NOT_FOUND: {
        struct pool_stats st;
        pool_get_stats(w->pool, &st);
        respond_error_h(r, "starting", "Retry-After: 2\r\n", "no browser is running yet: %s",
                        st.error[0] ? st.error : "still starting");
        return RC_ERROR;
    }
    default:
        if (!w->stopping) {
            /* The client left while waiting for a slot: nobody to answer. */
            log_msg(LOG_INFO, "[request %s] the client went away while queued", r->id);
            r->headers_sent = 1;
            r->status = 499;
            return RC_ERROR;
        }
        respond_error(r, "overloaded", "the worker is shutting down");
        return RC_ERROR;
    }
}

const char *
render_target(const struct render_opts *o)
{
    return o->url != NULL ? o->url : "the posted page";
}

void
render_fail(struct request *r, struct slot *s, const char *code, const struct buf *msg,
            int target_status)
{
    char hdr[64];

    /* A crashed page only loses its context; a browser that went away was
     * already marked dead by the pool's on_closed. */
    if (strcmp(code, "client_gone") == 0) {
        /* Nobody to answer: end the FastCGI request without a response. */
        log_msg(LOG_INFO, "[request %s] %s", r->id, msg->data);
        r->headers_sent = 1;
        r->status = 499;
        return;
    }
    if (strcmp(code, "target_http_status") == 0) {
        snprintf(hdr, sizeof hdr, "X-Target-Status: %d\r\n", target_status);
        respond_error_h(r, code, hdr, "%s", msg->data);
        return;
    }
    (void)s;
    respond_error(r, code, "%s", msg->data);
}

void
render_call_failed(struct request *r, struct slot *s, int rc, const char *what,
                   const struct render_opts *o, const struct buf *err)
{
    (void)s;
    switch (rc) {
    case RC_TIMEOUT:
        respond_error(r, "timeout", "timed out after %d ms waiting for %s of %s", o->timeout_ms,
                      what, render_target(o));
        return;
    case RC_CLOSED:
        r->slot_healthy = 0;
        respond_error(r, "render_failed", "the browser went away during %s of %s", what,
                      render_target(o));
        return;
    default:
        respond_error(r, "render_failed", "%s failed for %s: %s", what, render_target(o),
                      err->len ? err->data : rc_name(rc));
        return;
    }
}
