/* page.c — page slots: isolated contexts, navigation and lifecycle waiting;
 * see page.h.
 *
 * Locking: s->mu guards the event-fed fields (loader_id … closed) and is
 * never held across a CDP call, because the reader thread that answers the
 * call also takes it to deliver events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "browser.h"
#include "cdp.h"
#include "clock.h"
#include "fcgi.h"
#include "log.h"
#include "options.h"
#include "page.h"
#include "proxy.h"
#include "rc.h"
#include "serve.h"
#include "url.h"

int
page_slot_init(struct slot *s, struct browser *b, int index)
{
    memset(s, 0, sizeof *s);
    s->browser = b;
    s->index = index;
    s->client_fd = -1;
    if (pthread_mutex_init(&s->mu, NULL) != 0)
        return RC_ERROR;
    if (clock_cond_init(&s->cond) != 0) {
        pthread_mutex_destroy(&s->mu);
        return RC_ERROR;
    }
    return RC_OK;
}

void
page_slot_destroy(struct slot *s)
{
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cond);
}

int
page_call(struct slot *s, const char *method, const char *params, int64_t deadline_ms,
          yajl_val *result, struct buf *err)
{
    return cdp_call(s->browser->cdp, s->session_id, method, params, deadline_ms, result, err);
}

/* Copy the string at 'key' of 'v' into 'out'; RC_ERROR if absent. */
static int
copy_id(yajl_val v, const char *key, char *out, size_t len)
{
    const char *id = cdp_get_string(v, key, NULL);
    if (id == NULL || strlen(id) >= len)
        return RC_ERROR;
    memcpy(out, id, strlen(id) + 1);
    return RC_OK;
}

/* Permissions that only a person could grant. Left to prompt, a request
 * waits for ever, and each one the wipe leaves unanswered counts towards
 * Chromium's embargo of that permission for the origin, which no wipe
 * clears: after two, the next request's page of that origin saw
 * "denied" where a fresh one sees "prompt". Denied from the start, every
 * request answers at once and every page sees the same. */
static const char *const denied_permissions[] = {
    /* PermissionDescriptor objects */
    "{\"name\":\"geolocation\"}", "{\"name\":\"notifications\"}",
    "{\"name\":\"camera\"}", "{\"name\":\"microphone\"}",
    "{\"name\":\"midi\",\"sysex\":true}", "{\"name\":\"idle-detection\"}",
    "{\"name\":\"window-management\"}", "{\"name\":\"local-fonts\"}",
    "{\"name\":\"storage-access\"}", "{\"name\":\"top-level-storage-access\"}",
    "{\"name\":\"clipboard-read\"}", "{\"name\":\"keyboard-lock\"}",
    "{\"name\":\"pointer-lock\"}", "{\"name\":\"speaker-selection\"}",
    "{\"name\":\"captured-surface-control\"}", "{\"name\":\"display-capture\"}",
};

/* A name this Chromium does not know is an error reply: skipped. */
static int
page_deny_permissions(struct slot *s, int64_t deadline_ms, struct buf *err)
{
    struct buf p;
    int rc = RC_OK;

    buf_init(&p, 256);
    for (size_t i = 0; i < sizeof denied_permissions / sizeof *denied_permissions; i++) {
        buf_reset(&p);
        buf_printf(&p, "{\"permission\":%s,\"setting\":\"denied\",\"browserContextId\":",
                   denied_permissions[i]);
        buf_json_string(&p, s->context_id);
        buf_puts(&p, "}");
        rc = cdp_call(s->browser->cdp, NULL, "Browser.setPermission", p.data, deadline_ms, NULL,
                      NULL);
        if (rc == RC_ERROR)
            rc = RC_OK;
        if (rc != RC_OK) {
            buf_printf(err, "Browser.setPermission failed: %s", rc_name(rc));
            break;
        }
    }
    buf_free(&p);
    return rc;
}

int
page_prepare(struct slot *s, int64_t deadline_ms, struct buf *err)
{
    yajl_val v = NULL;
    int rc;

    s->context_id[0] = s->target_id[0] = s->session_id[0] = '\0';
    if ((rc = cdp_call(s->browser->cdp, NULL, "Target.createBrowserContext",
                       "{\"disposeOnDetach\":true}", deadline_ms, &v, err)) != RC_OK)
        return rc;
    rc = copy_id(v, "browserContextId", s->context_id, sizeof s->context_id);
    yajl_tree_free(v);
    if (rc != RC_OK) {
        buf_puts(err, "Target.createBrowserContext returned no browserContextId");
        return rc;
    }
    /* Pages never download files: a download is not a rendering. */
    struct buf p;
    buf_init(&p, 256);
    buf_puts(&p, "{\"behavior\":\"deny\",\"browserContextId\":");
    buf_json_string(&p, s->context_id);
    buf_puts(&p, "}");
    rc = cdp_call(s->browser->cdp, NULL, "Browser.setDownloadBehavior", p.data, deadline_ms, NULL,
                  err);
    buf_free(&p);
    if (rc == RC_OK)
        rc = page_deny_permissions(s, deadline_ms, err);
    if (rc != RC_OK)
        return rc;
    return page_open_target(s, deadline_ms, err);
}

int
page_open_target(struct slot *s, int64_t deadline_ms, struct buf *err)
{
    struct cdp *c = s->browser->cdp;
    struct buf p;
    yajl_val v = NULL;
    int rc;

    buf_init(&p, 1024);
    buf_puts(&p, "{\"url\":\"about:blank\",\"browserContextId\":");
    buf_json_string(&p, s->context_id);
    buf_puts(&p, "}");
    if ((rc = cdp_call(c, NULL, "Target.createTarget", p.data, deadline_ms, &v, err)) != RC_OK)
        goto fail;
    rc = copy_id(v, "targetId", s->target_id, sizeof s->target_id);
    yajl_tree_free(v);
    v = NULL;
    if (rc != RC_OK)
        goto fail;

    buf_reset(&p);
    buf_puts(&p, "{\"flatten\":true,\"targetId\":");
    buf_json_string(&p, s->target_id);
    buf_puts(&p, "}");
    if ((rc = cdp_call(c, NULL, "Target.attachToTarget", p.data, deadline_ms, &v, err)) != RC_OK)
        goto fail;
    /* Events for the new session may arrive as soon as it exists, so the id is
     * published under the lock the event path reads it with. */
    pthread_mutex_lock(&s->mu);
    rc = copy_id(v, "sessionId", s->session_id, sizeof s->session_id);
    s->crashed = 0;
    s->closed = 0;
    s->norigins = 0;
    s->untracked = 0;
    s->emulated = 0;
    s->npending = 0;
    s->pending_more = 0;
    pthread_mutex_unlock(&s->mu);
    yajl_tree_free(v);
    v = NULL;
    if (rc != RC_OK)
        goto fail;

    if ((rc = page_call(s, "Page.enable", NULL, deadline_ms, NULL, err)) != RC_OK ||
        (rc = page_call(s, "Page.setLifecycleEventsEnabled", "{\"enabled\":true}", deadline_ms,
                        NULL, err)) != RC_OK ||
        (rc = page_call(s, "Network.enable", NULL, deadline_ms, NULL, err)) != RC_OK)
        goto fail;
    buf_free(&p);
    return RC_OK;
fail:
    if (rc == RC_OK)
        rc = RC_ERROR;
    if (err->len == 0)
        buf_printf(err, "preparing a page failed: %s", rc_name(rc));
    buf_free(&p);
    return rc;
}

void
page_dispose(struct slot *s, int64_t deadline_ms)
{
    struct buf p;

    if (s->context_id[0] == '\0' || s->browser->cdp == NULL)
        return;
    buf_init(&p, 256);
    buf_puts(&p, "{\"browserContextId\":");
    buf_json_string(&p, s->context_id);
    buf_puts(&p, "}");
    cdp_call(s->browser->cdp, NULL, "Target.disposeBrowserContext", p.data, deadline_ms, NULL,
             NULL);
    buf_free(&p);
    pthread_mutex_lock(&s->mu);
    s->context_id[0] = s->target_id[0] = s->session_id[0] = '\0';
    pthread_mutex_unlock(&s->mu);
}

/* Caller holds s->mu. Track a request in flight (a redirect keeps its id). */
static void
page_pending_add(struct slot *s, const char *id, const char *url)
{
    if (id == NULL || url == NULL)
        return;
    for (int i = 0; i < s->npending; i++)
        if (strcmp(s->pending[i].id, id) == 0)
            return;
    if (s->npending == PAGE_MAX_PENDING || strlen(id) >= sizeof s->pending[0].id) {
        s->pending_more++;
        return;
    }
    snprintf(s->pending[s->npending].id, sizeof s->pending[0].id, "%s", id);
    snprintf(s->pending[s->npending].url, sizeof s->pending[0].url, "%s", url);
    s->npending++;
}

/* Caller holds s->mu. */
static void
page_pending_end(struct slot *s, const char *id)
{
    if (id == NULL)
        return;
    for (int i = 0; i < s->npending; i++) {
        if (strcmp(s->pending[i].id, id) == 0) {
            s->pending[i] = s->pending[--s->npending];
            return;
        }
    }
    if (s->pending_more > 0)
        s->pending_more--;
}

void
page_describe_pending(struct slot *s, struct buf *msg)
{
    pthread_mutex_lock(&s->mu);
    if (s->npending > 0 || s->pending_more > 0) {
        buf_puts(msg, "; still pending: ");
        for (int i = 0; i < s->npending && i < 5; i++)
            buf_printf(msg, "%s%s", i ? ", " : "", s->pending[i].url);
        if (s->npending + s->pending_more > 5)
            buf_printf(msg, " (+%d more)", s->npending + s->pending_more - 5);
    }
    pthread_mutex_unlock(&s->mu);
}

/* Caller holds s->mu. Remember a committed frame's origin for the wipe. */
static void
page_track_origin(struct slot *s, const char *origin)
{
    if (origin == NULL || origin[0] == '\0' || strcmp(origin, "null") == 0 ||
        strcmp(origin, "://") == 0)
        return;
    for (int i = 0; i < s->norigins; i++)
        if (strcmp(s->origins[i], origin) == 0)
            return;
    if (s->norigins == PAGE_MAX_ORIGINS || strlen(origin) >= sizeof s->origins[0]) {
        s->untracked = 1;
        return;
    }
    memcpy(s->origins[s->norigins++], origin, strlen(origin) + 1);
}

int
page_on_event(struct slot *s, const char *session_id, const char *method, yajl_val params)
{
    const char *frame = cdp_get_string(params, "frameId", NULL);
    const char *loader = cdp_get_string(params, "loaderId", NULL);

    pthread_mutex_lock(&s->mu);
    if (session_id == NULL) {
        /* Browser-level events that concern one of our targets. */
        const char *sid = cdp_get_string(params, "sessionId", NULL);
        const char *tid = cdp_get_string(params, "targetId", NULL);
        int mine = (sid != NULL && s->session_id[0] != '\0' && strcmp(sid, s->session_id) == 0) ||
                   (tid != NULL && s->target_id[0] != '\0' && strcmp(tid, s->target_id) == 0);
        if (mine && strcmp(method, "Target.detachedFromTarget") == 0)
            s->closed = 1;
        else if (mine && strcmp(method, "Target.targetCrashed") == 0)
            s->crashed = 1;
        if (mine)
            pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->mu);
        return mine;
    }
    if (s->session_id[0] == '\0' || strcmp(session_id, s->session_id) != 0) {
        pthread_mutex_unlock(&s->mu);
        return 0;
    }
    if (strcmp(method, "Page.lifecycleEvent") == 0) {
        const char *name = cdp_get_string(params, "name", NULL);
        /* The main frame's id is its target's id. */
        if (frame != NULL && loader != NULL && name != NULL &&
            strcmp(frame, s->target_id) == 0) {
            if (strcmp(name, "init") == 0) {
                if (strcmp(loader, s->loader_id) != 0) {
                    /* A new document (a first load or a script redirect):
                     * from now on, wait for this one. */
                    snprintf(s->loader_id, sizeof s->loader_id, "%s", loader);
                    s->lifecycle = 0;
                }
            } else if (strcmp(loader, s->loader_id) == 0) {
                if (strcmp(name, "DOMContentLoaded") == 0)
                    s->lifecycle |= LC_DOMCONTENTLOADED;
                else if (strcmp(name, "load") == 0)
                    s->lifecycle |= LC_LOAD;
                else if (strcmp(name, "networkIdle") == 0)
                    s->lifecycle |= LC_NETWORKIDLE | LC_LOAD;
            }
            pthread_cond_broadcast(&s->cond);
        }
    } else if (strcmp(method, "Network.responseReceived") == 0) {
        const char *type = cdp_get_string(params, "type", NULL);
        if (type != NULL && strcmp(type, "Document") == 0 && frame != NULL &&
            strcmp(frame, s->target_id) == 0) {
            /* The response precedes the document's "init" event, so the
             * status is kept with its loader and matched when waiting. */
            s->main_status = (int)cdp_get_number(params, 0, "response", "status", NULL);
            snprintf(s->status_loader, sizeof s->status_loader, "%s", loader ? loader : "");
        }
    } else if (strcmp(method, "Fetch.requestPaused") == 0) {
        const char *rid = cdp_get_string(params, "requestId", NULL);
        const char *url = cdp_get_string(params, "request", "url", NULL);
        if (rid != NULL && url != NULL && s->npaused < PAGE_MAX_PAUSED) {
            struct paused_request *q = &s->paused[s->npaused++];
            snprintf(q->id, sizeof q->id, "%s", rid);
            snprintf(q->url, sizeof q->url, "%s", url);
        } else {
            s->paused_lost = 1;
        }
        pthread_cond_broadcast(&s->cond);
    } else if (strcmp(method, "Page.javascriptDialogOpening") == 0) {
        /* Nobody is there to answer: dismiss alert/confirm/prompt, and let
         * beforeunload leave. A small send from the reader thread is safe:
         * it waits for no reply. */
        const char *type = cdp_get_string(params, "type", NULL);
        cdp_send(s->browser->cdp, s->session_id, "Page.handleJavaScriptDialog",
                 type != NULL && strcmp(type, "beforeunload") == 0 ? "{\"accept\":true}"
                                                                   : "{\"accept\":false}");
    } else if (strcmp(method, "Network.loadingFinished") == 0) {
        page_pending_end(s, cdp_get_string(params, "requestId", NULL));
    } else if (strcmp(method, "Network.requestWillBeSent") == 0) {
        const char *type = cdp_get_string(params, "type", NULL);
        const char *rid = cdp_get_string(params, "requestId", NULL);
        const char *url = cdp_get_string(params, "request", "url", NULL);
        page_pending_add(s, rid, url);
        if (type != NULL && strcmp(type, "Document") == 0 && frame != NULL && rid != NULL &&
            strcmp(frame, s->target_id) == 0) {
            struct url u;
            char why[64];
            snprintf(s->doc_request, sizeof s->doc_request, "%s", rid);
            s->nav_error[0] = '\0';
            s->doc_host[0] = '\0';
            if (url != NULL && url_parse(url, &u, why, sizeof why) == RC_OK)
                snprintf(s->doc_host, sizeof s->doc_host, "%s", u.host);
            pthread_cond_broadcast(&s->cond);
        }
    } else if (strcmp(method, "Network.loadingFailed") == 0) {
        const char *rid = cdp_get_string(params, "requestId", NULL);
        const char *etext = cdp_get_string(params, "errorText", NULL);
        page_pending_end(s, rid);
        if (rid != NULL && s->doc_request[0] != '\0' && strcmp(rid, s->doc_request) == 0) {
            snprintf(s->nav_error, sizeof s->nav_error, "%s",
                     etext != NULL && etext[0] != '\0' ? etext : "net::ERR_FAILED");
            pthread_cond_broadcast(&s->cond);
        }
    } else if (strcmp(method, "Page.frameNavigated") == 0) {
        const char *origin = cdp_get_string(params, "frame", "securityOrigin", NULL);
        page_track_origin(s, origin);
    } else if (strcmp(method, "Page.frameAttached") == 0) {
        /* A child frame may be cross-site (another renderer, another storage
         * partition) where our per-origin wipe cannot follow. */
        s->untracked = 1;
    } else if (strcmp(method, "Inspector.targetCrashed") == 0) {
        s->crashed = 1;
        pthread_cond_broadcast(&s->cond);
    } else if (strcmp(method, "Inspector.detached") == 0) {
        s->closed = 1;
        pthread_cond_broadcast(&s->cond);
    }
    pthread_mutex_unlock(&s->mu);
    return 1;
}

void
page_on_closed(struct slot *s)
{
    pthread_mutex_lock(&s->mu);
    s->closed = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
}

static const char *const wait_names[] = { "load", "DOMContentLoaded", "networkIdle" };
static const unsigned wait_bits[] = { LC_LOAD, LC_DOMCONTENTLOADED, LC_NETWORKIDLE };

/* Set the 'cookies' option (validated by options.c) in the slot's context.
 * A cookie without a domain belongs to the URL being rendered. */
static int
page_set_cookies(struct slot *s, const struct render_opts *o, int64_t deadline_ms,
                 struct buf *err)
{
    char perr[128];
    yajl_val list = yajl_tree_parse(o->cookies, perr, sizeof perr);
    const char *url = o->url != NULL ? o->url : SERVE_DEFAULT_URL;
    struct buf p;
    int rc;

    if (list == NULL || !YAJL_IS_ARRAY(list)) {
        yajl_tree_free(list);
        buf_puts(err, "cookies: not a JSON list");
        return RC_ERROR;
    }
    buf_init(&p, 1 << 20);
    buf_puts(&p, "{\"cookies\":[");
    for (size_t i = 0; i < list->u.array.len; i++) {
        yajl_val c = list->u.array.values[i];
        const char *domain = cdp_get_string(c, "domain", NULL);
        const char *path = cdp_get_string(c, "path", NULL);
        buf_puts(&p, i ? ",{\"name\":" : "{\"name\":");
        buf_json_string(&p, cdp_get_string(c, "name", NULL));
        buf_puts(&p, ",\"value\":");
        buf_json_string(&p, cdp_get_string(c, "value", NULL));
        if (domain != NULL) {
            buf_puts(&p, ",\"domain\":");
            buf_json_string(&p, domain);
        } else {
            buf_puts(&p, ",\"url\":");
            buf_json_string(&p, url);
        }
        buf_puts(&p, ",\"path\":");
        buf_json_string(&p, path != NULL ? path : "/");
        buf_puts(&p, "}");
    }
    buf_puts(&p, "]}");
    yajl_tree_free(list);
    rc = page_call(s, "Network.setCookies", p.data, deadline_ms, NULL, err);
    buf_free(&p);
    return rc;
}

/* Per-request emulation on the fresh page. */
static int
page_emulate(struct slot *s, const struct render_opts *o, int64_t deadline_ms, struct buf *err)
{
    struct buf p;
    int rc = RC_OK;

    buf_init(&p, 4096);
    /* Always: headless Chromium's window leaves a 1280x633 viewport, and
     * the scale factor must be right before the page lays out. The next
     * request sets its own, so the wipe need not clear it. */
    buf_printf(&p, "{\"width\":%d,\"height\":%d,\"deviceScaleFactor\":%g,\"mobile\":false}",
               o->width, o->height, o->device_scale_factor);
    rc = page_call(s, "Emulation.setDeviceMetricsOverride", p.data, deadline_ms, NULL, err);
    if (rc == RC_OK && o->user_agent != NULL) {
        buf_reset(&p);
        buf_puts(&p, "{\"userAgent\":");
        buf_json_string(&p, o->user_agent);
        buf_puts(&p, "}");
        rc = page_call(s, "Emulation.setUserAgentOverride", p.data, deadline_ms, NULL, err);
        s->emulated |= EMU_USER_AGENT;
    }
    if (rc == RC_OK && !o->javascript) {
        rc = page_call(s, "Emulation.setScriptExecutionDisabled", "{\"value\":true}",
                       deadline_ms, NULL, err);
        s->emulated |= EMU_NO_SCRIPT;
    }
    if (rc == RC_OK && o->headers != NULL) {
        buf_reset(&p);
        buf_printf(&p, "{\"headers\":%s}", o->headers);
        rc = page_call(s, "Network.setExtraHTTPHeaders", p.data, deadline_ms, NULL, err);
        s->emulated |= EMU_HEADERS;
    }
    if (rc == RC_OK && o->cookies != NULL)
        rc = page_set_cookies(s, o, deadline_ms, err);
    if (rc == RC_OK && o->media != 0) {
        rc = page_call(s, "Emulation.setEmulatedMedia",
                       o->media == 1 ? "{\"media\":\"print\"}" : "{\"media\":\"screen\"}",
                       deadline_ms, NULL, err);
        s->emulated |= EMU_MEDIA;
    }
    buf_free(&p);
    return rc;
}

void
page_cond_wait(struct slot *s, const struct timespec *ts)
{
    struct timespec cap;
    int64_t soon = clock_ms() + 100;

    if (s->npaused > 0) {
        /* Answered without the lock: serving takes CDP calls whose replies
         * the reader thread delivers, and it takes the lock for events. */
        pthread_mutex_unlock(&s->mu);
        serve_paused(s);
        pthread_mutex_lock(&s->mu);
        return;
    }
    clock_deadline_timespec(soon, &cap);
    if (cap.tv_sec < ts->tv_sec || (cap.tv_sec == ts->tv_sec && cap.tv_nsec < ts->tv_nsec))
        ts = &cap;
    pthread_cond_timedwait(&s->cond, &s->mu, ts);
    /* The web server closes its FastCGI connection when the client hangs up
     * (nginx: fastcgi_ignore_client_abort off, the default). */
    if (!s->client_gone && fcgi_fd_closed(s->client_fd))
        s->client_gone = 1;
}

/* How long a navigation that was aborted (net::ERR_ABORTED: a download, a
 * 204, or a script starting another navigation) may take to be replaced by
 * a new one before the abort counts as the answer. */
#define ABORT_GRACE_MS 500

/* Wait until the main frame's new document reaches a lifecycle state in
 * 'want', its document request fails, the page crashes or the connection
 * ends. 'loader' (from Page.navigate) names the document if known; NULL
 * waits for whichever new document commits. RC_OK or RC_TIMEOUT;
 * *crashed, *closed, the document's *status and its failure 'nav_error'
 * (of 'errlen' bytes, "" if none) are reported either way. */
static int
page_wait_lifecycle(struct slot *s, const char *loader, unsigned want, int64_t deadline_ms,
                    int *crashed, int *closed, int *status, char *nav_error, size_t errlen)
{
    struct timespec ts;
    int64_t aborted_at = 0;
    int rc = RC_OK;

    pthread_mutex_lock(&s->mu);
    /* The document's "init" event may already have named the loader. */
    if (loader != NULL && s->loader_id[0] == '\0')
        snprintf(s->loader_id, sizeof s->loader_id, "%s", loader);
    for (;;) {
        int64_t until = deadline_ms;
        if ((s->lifecycle & want) != 0 || s->crashed || s->closed || s->client_gone)
            break;
        if (s->nav_error[0] != '\0') {
            if (strcmp(s->nav_error, "net::ERR_ABORTED") != 0)
                break;
            if (aborted_at == 0)
                aborted_at = clock_ms();
            if (clock_ms() >= aborted_at + ABORT_GRACE_MS)
                break;
            if (aborted_at + ABORT_GRACE_MS < until)
                until = aborted_at + ABORT_GRACE_MS;
        } else {
            aborted_at = 0;
        }
        if (clock_ms() >= deadline_ms) {
            rc = RC_TIMEOUT;
            break;
        }
        clock_deadline_timespec(until, &ts);
        page_cond_wait(s, &ts);
    }
    *crashed = s->crashed;
    *closed = s->closed || s->client_gone;
    *status = strcmp(s->status_loader, s->loader_id) == 0 ? s->main_status : 0;
    snprintf(nav_error, errlen, "%s", (s->lifecycle & want) != 0 ? "" : s->nav_error);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int
page_client_gone(struct slot *s)
{
    int gone;

    pthread_mutex_lock(&s->mu);
    gone = s->client_gone;
    pthread_mutex_unlock(&s->mu);
    return gone;
}

/* Wait until the page crashes or the browser connection ends, or until
 * 'deadline_ms'. Returns 1 if it did. */
static int
page_wait_gone(struct slot *s, int64_t deadline_ms)
{
    struct timespec ts;
    int gone;

    clock_deadline_timespec(deadline_ms, &ts);
    pthread_mutex_lock(&s->mu);
    while (!s->crashed && !s->closed && clock_ms() < deadline_ms)
        page_cond_wait(s, &ts);
    gone = s->crashed || s->closed;
    pthread_mutex_unlock(&s->mu);
    return gone;
}

/* Reset the navigation tracking before a new Page.navigate. */
static void
page_expect_navigation(struct slot *s)
{
    pthread_mutex_lock(&s->mu);
    s->loader_id[0] = '\0';
    s->lifecycle = 0;
    s->main_status = 0;
    s->status_loader[0] = '\0';
    s->doc_request[0] = '\0';
    s->nav_error[0] = '\0';
    s->doc_host[0] = '\0';
    s->npending = 0;
    s->pending_more = 0;
    pthread_mutex_unlock(&s->mu);
}

/* Map a failed CDP call during navigation to an error code. */
static const char *
call_failure(int rc, struct slot *s)
{
    if (rc == RC_TIMEOUT)
        return "timeout";
    (void)s;
    return "render_failed";
}

/* Did the policy proxy refuse a connection to the main document's host (the
 * last redirect's) since 'since_ms'? Then 'why' holds the rule. A refused
 * connection reaches the page as a SOCKS error, nothing more. */
static int
page_proxy_refused(struct slot *s, int64_t since_ms, struct buf *why)
{
    char host[256], rule[600];

    pthread_mutex_lock(&s->mu);
    snprintf(host, sizeof host, "%s", s->doc_host);
    pthread_mutex_unlock(&s->mu);
    if (s->proxy == NULL || host[0] == '\0' ||
        proxy_refusal(s->proxy, host, since_ms, rule, sizeof rule) != RC_OK)
        return 0;
    buf_reset(why);
    buf_puts(why, rule);
    return 1;
}

int
page_navigate(struct slot *s, const struct render_opts *o, int64_t deadline_ms,
              const char **code, struct buf *msg, int *target_status)
{
    struct buf p, err, js;
    yajl_val v = NULL;
    const char *etext;
    char nav_error[128];
    const char *target;
    unsigned want = wait_bits[o->wait_until];
    int rc, crashed, closed, status = 0;
    int64_t nav_started;
    struct timespec ts;

    *target_status = 0;
    buf_init(&p, 32768);
    buf_init(&js, 16384);
    buf_init(&err, 1024);
    if ((rc = page_emulate(s, o, deadline_ms, &err)) != RC_OK) {
        *code = call_failure(rc, s);
        buf_printf(msg, "setting up the page failed: %s", err.len ? err.data : rc_name(rc));
        goto out;
    }
    /* location.replace() on the slot's about:blank, not Page.navigate: the
     * new document takes the place of about:blank in the session history,
     * so that history.length is 1 and history.back() leads nowhere, on a
     * fresh page and on a wiped one alike. */
    target = o->url;
    if (o->page != NULL) {
        if ((rc = serve_begin(s, o->page, o->url, deadline_ms, &err)) != RC_OK) {
            *code = call_failure(rc, s);
            buf_printf(msg, "setting up the posted page failed: %s",
                       err.len ? err.data : rc_name(rc));
            goto out;
        }
        target = s->posted_url;
    }
    page_expect_navigation(s);
    nav_started = clock_ms();
    buf_puts(&p, "{\"returnByValue\":true,\"expression\":");
    /* window.name belongs to the tab, not the document: it outlives the
     * wipe's navigation (and a leaving page's handlers may have set it), so
     * it is emptied here, in the same call (evaluating anything on the
     * wipe's about:blank would build a script context there for nothing). */
    buf_puts(&js, "window.name='';location.replace(");
    buf_json_string(&js, target);
    buf_puts(&js, ")");
    buf_json_string(&p, js.data);
    buf_puts(&p, "}");
    if ((rc = page_call(s, "Runtime.evaluate", p.data, deadline_ms, &v, &err)) != RC_OK) {
        *code = call_failure(rc, s);
        if (rc == RC_TIMEOUT)
            buf_printf(msg, "timed out after %d ms waiting for the navigation to %s to start",
                       o->timeout_ms, target);
        else if (rc == RC_CLOSED)
            buf_printf(msg, "the browser went away while loading %s", target);
        else
            buf_printf(msg, "navigating to %s failed: %s", target,
                       err.len ? err.data : rc_name(rc));
        goto out;
    }
    if ((etext = cdp_get_string(v, "exceptionDetails", "text", NULL)) != NULL) {
        *code = "render_failed";
        buf_printf(msg, "navigating to %s failed: %s", target, etext);
        rc = RC_ERROR;
        goto out;
    }

    rc = page_wait_lifecycle(s, NULL, want, deadline_ms, &crashed, &closed, &status, nav_error,
                             sizeof nav_error);
    *target_status = status;

    if (page_client_gone(s)) {
        *code = "client_gone";
        buf_printf(msg, "the client went away while %s was loading", target);
        rc = RC_ERROR;
        goto out;
    }
    if (crashed || closed) {
        *code = "render_failed";
        buf_printf(msg, "the browser %s while loading %s",
                   crashed ? "page crashed" : "went away", target);
        rc = RC_ERROR;
        goto out;
    }
    if (nav_error[0] != '\0') {
        /* A browser going down aborts its navigations just before the pipe
         * closes: that is our failure, not the target's. */
        rc = RC_ERROR;
        if (strcmp(nav_error, "net::ERR_ABORTED") == 0 && page_wait_gone(s, clock_ms() + 1000)) {
            *code = "render_failed";
            buf_printf(msg, "the browser went away while loading %s", target);
        } else if (page_proxy_refused(s, nav_started, &err)) {
            *code = "url_blocked";
            buf_printf(msg, "loading %s was blocked by the URL policy: %s", target, err.data);
        } else {
            *code = "target_unreachable";
            buf_printf(msg, "could not load %s: %s", target, nav_error);
        }
        goto out;
    }
    if (rc == RC_TIMEOUT) {
        *code = "timeout";
        buf_printf(msg, "timed out after %d ms waiting for the '%s' event of %s", o->timeout_ms,
                   wait_names[o->wait_until], target);
        page_describe_pending(s, msg);
        goto out;
    }
    if (o->fail_on_status && status >= 400) {
        *code = "target_http_status";
        buf_printf(msg, "the target %s answered HTTP %d", target, status);
        rc = RC_ERROR;
        goto out;
    }
    if ((rc = page_wait_extra(s, o, deadline_ms, code, msg)) != RC_OK)
        goto out;
    if (o->wait_ms > 0) {
        /* A user-requested settle delay, cut short by a crash or the deadline. */
        int64_t until = clock_ms() + o->wait_ms;
        if (until > deadline_ms)
            until = deadline_ms;
        clock_deadline_timespec(until, &ts);
        pthread_mutex_lock(&s->mu);
        while (!s->crashed && !s->closed && !s->client_gone && clock_ms() < until)
            page_cond_wait(s, &ts);
        pthread_mutex_unlock(&s->mu);
        if (page_client_gone(s)) {
            *code = "client_gone";
            buf_puts(msg, "the client went away");
            rc = RC_ERROR;
        }
    }
out:
    if (rc != RC_OK && *code != NULL &&
        (strcmp(*code, "timeout") == 0 || strcmp(*code, "client_gone") == 0)) {
        /* The page may still be busy (a script that never yields): give
         * the slot a new context rather than wiping a page that may not
         * answer. */
        pthread_mutex_lock(&s->mu);
        s->untracked = 1;
        pthread_mutex_unlock(&s->mu);
    }
    yajl_tree_free(v);
    buf_free(&p);
    buf_free(&js);
    buf_free(&err);
    return rc;
}

/* Clear the storage of one origin the page committed ("all" covers local
 * storage, IndexedDB, cache storage, service workers, file systems …). */
static int
page_clear_origin(struct slot *s, const char *origin, int64_t deadline_ms, struct buf *err)
{
    struct buf p;
    int rc;

    buf_init(&p, 1024);
    buf_puts(&p, "{\"storageTypes\":\"all\",\"origin\":");
    buf_json_string(&p, origin);
    buf_puts(&p, "}");
    rc = page_call(s, "Storage.clearDataForOrigin", p.data, deadline_ms, NULL, err);
    buf_free(&p);
    return rc;
}

/* sessionStorage lives with the tab, not the origin's storage, and
 * DOMStorage.clear only finds it while a frame of that origin is shown: so
 * it is cleared before the page is left. An origin no longer shown (the page
 * navigated on) answers with an error, which is harmless here. */
static int
page_clear_session_storage(struct slot *s, const char *origin, int64_t deadline_ms)
{
    struct buf p;
    int rc;

    buf_init(&p, 1024);
    buf_puts(&p, "{\"storageId\":{\"isLocalStorage\":false,\"securityOrigin\":");
    buf_json_string(&p, origin);
    buf_puts(&p, "}}");
    rc = page_call(s, "DOMStorage.clear", p.data, deadline_ms, NULL, NULL);
    buf_free(&p);
    return rc == RC_ERROR ? RC_OK : rc;
}

int
page_wipe(struct slot *s, int64_t deadline_ms, struct buf *err)
{
    char origins[PAGE_MAX_ORIGINS][160];
    struct buf p;
    yajl_val v = NULL;
    unsigned emulated;
    char nav_error[128];
    int n, untracked, rc, crashed, closed, status;

    pthread_mutex_lock(&s->mu);
    untracked = s->untracked || s->crashed;
    pthread_mutex_unlock(&s->mu);
    if (untracked)
        return RC_DECLINED;
    if ((rc = serve_end(s, deadline_ms, err)) != RC_OK)
        return rc;
    pthread_mutex_lock(&s->mu);
    n = s->norigins;
    memcpy(origins, s->origins, sizeof origins);
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < n; i++)
        if ((rc = page_clear_session_storage(s, origins[i], deadline_ms)) != RC_OK)
            return rc;

    /* Leave the document: its scripts, timers and workers end here. The
     * history can only be reset once about:blank has committed. */
    page_expect_navigation(s);
    if ((rc = page_call(s, "Page.navigate", "{\"url\":\"about:blank\"}", deadline_ms, &v,
                        err)) != RC_OK)
        return rc;
    if (cdp_get_string(v, "loaderId", NULL) != NULL)
        rc = page_wait_lifecycle(s, cdp_get_string(v, "loaderId", NULL), LC_LOAD, deadline_ms,
                                 &crashed, &closed, &status, nav_error, sizeof nav_error);
    else
        crashed = closed = 0;
    yajl_tree_free(v);
    if (rc != RC_OK || closed)
        return rc != RC_OK ? rc : RC_CLOSED;
    if (crashed)
        return RC_DECLINED;
    if ((rc = page_call(s, "Page.resetNavigationHistory", NULL, deadline_ms, NULL, err)) != RC_OK)
        return rc;
    pthread_mutex_lock(&s->mu);
    n = s->norigins;
    memcpy(origins, s->origins, sizeof origins);
    untracked = s->untracked || s->crashed;
    emulated = s->emulated;
    s->norigins = 0;
    s->untracked = 0;
    s->emulated = 0;
    pthread_mutex_unlock(&s->mu);
    if (untracked)
        return RC_DECLINED;

    buf_init(&p, 256);
    buf_puts(&p, "{\"browserContextId\":");
    buf_json_string(&p, s->context_id);
    buf_puts(&p, "}");
    /* No Browser.resetPermissions: it removes only DevTools overrides, the
     * denials page_prepare set and nothing else (docs/architecture.md). */
    rc = cdp_call(s->browser->cdp, NULL, "Storage.clearCookies", p.data, deadline_ms, NULL, err);
    buf_free(&p);
    for (int i = 0; i < n && rc == RC_OK; i++)
        rc = page_clear_origin(s, origins[i], deadline_ms, err);
    if (rc == RC_OK)
        rc = page_call(s, "Network.clearBrowserCache", NULL, deadline_ms, NULL, err);
    if (rc == RC_OK && (emulated & EMU_USER_AGENT))
        rc = page_call(s, "Emulation.setUserAgentOverride", "{\"userAgent\":\"\"}", deadline_ms,
                       NULL, err);
    if (rc == RC_OK && (emulated & EMU_NO_SCRIPT))
        rc = page_call(s, "Emulation.setScriptExecutionDisabled", "{\"value\":false}",
                       deadline_ms, NULL, err);
    if (rc == RC_OK && (emulated & EMU_HEADERS))
        rc = page_call(s, "Network.setExtraHTTPHeaders", "{\"headers\":{}}", deadline_ms, NULL,
                       err);
    if (rc == RC_OK && (emulated & EMU_MEDIA))
        rc = page_call(s, "Emulation.setEmulatedMedia", "{\"media\":\"\"}", deadline_ms, NULL,
                       err);
    return rc;
}
