/* page.h — a page slot: one isolated browser context with one page in it.
 *
 * A slot belongs to one browser of the pool. While checked out it belongs to
 * one request thread, which drives it with page_navigate() and the render
 * functions; the CDP reader thread only feeds it events (page_on_event).
 * Isolation (docs/architecture.md, "Isolation"): after each response the
 * page is wiped in place (page_wipe), keeping its warm renderer; a page that
 * had child frames, timed out or crashed gets a whole new context instead. */
#ifndef RCGI_PAGE_H
#define RCGI_PAGE_H

#include <pthread.h>
#include <stdint.h>

#include <yajl/yajl_tree.h>

#include "buf.h"

struct browser;
struct cdp;
struct render_opts;
struct posted_page;
struct proxy;

#define PAGE_MAX_ORIGINS 8
#define PAGE_MAX_PAUSED 64
#define PAGE_MAX_PENDING 32

enum lifecycle_bit { LC_DOMCONTENTLOADED = 1, LC_LOAD = 2, LC_NETWORKIDLE = 4 };

struct slot {
    struct browser *browser;     /* borrowed; the pool owns both */
    struct proxy *proxy;         /* borrowed: the worker's policy proxy, or NULL */
    int index;                   /* within its browser */
    int ready;                   /* a fresh context and page are prepared (pool mutex) */
    int busy;                    /* checked out (pool mutex) */
    int uses;                    /* pages rendered in this slot */

    char context_id[64];
    char target_id[64];
    char session_id[64];

    /* Fed by the CDP reader thread, read by the request thread: under mu. */
    pthread_mutex_t mu;
    pthread_cond_t cond;
    char loader_id[64];          /* the navigation we wait for */
    unsigned lifecycle;          /* LC_* bits seen for loader_id */
    int main_status;             /* HTTP status of the last main-frame document */
    char status_loader[64];      /* the loader that main_status belongs to */
    char doc_request[64];        /* requestId of the main frame's document request */
    char nav_error[128];         /* its Network.loadingFailed errorText, "" if none */
    char doc_host[256];          /* host of its URL (the last redirect's), for the proxy */
    int crashed;                 /* Inspector.targetCrashed */
    int closed;                  /* the browser connection ended */

    /* A posted page being served to the browser (serve.c). The request
     * thread owns these; the paused queue is filled by the reader thread
     * under mu. */
    const struct posted_page *posted;
    char posted_url[2048];       /* the document's URL */
    int fetch_enabled;
    struct paused_request {
        char id[64];
        char url[1024];
    } paused[PAGE_MAX_PAUSED];
    int npaused;
    int paused_lost;             /* the queue overflowed: some request hangs */

    /* Requests in flight, to name them when a wait times out (under mu). */
    struct pending_request {
        char id[48];
        char url[200];
    } pending[PAGE_MAX_PENDING];
    int npending;
    int pending_more;            /* in flight but not listed (the list was full) */

    /* The client's FastCGI connection while a request holds the slot, to
     * notice that it went away (-1: none). client_gone is under mu. */
    int client_fd;
    int client_gone;

    /* What the page touched, so that page_wipe() knows what to clear. */
    char origins[PAGE_MAX_ORIGINS][160]; /* security origins of committed frames */
    int norigins;
    int untracked;               /* child frames or too many origins: wipe is not enough */
    unsigned emulated;           /* EMU_* overrides this request set */
};

enum emulation_bit { EMU_METRICS = 1, EMU_USER_AGENT = 2, EMU_NO_SCRIPT = 4, EMU_MEDIA = 8,
                      EMU_HEADERS = 16 };

/* Initialise the slot's lock and condition. */
int page_slot_init(struct slot *s, struct browser *b, int index);
void page_slot_destroy(struct slot *s);

/* Create a new browser context, a page in it, attach (flat session) and
 * enable the domains we listen to. RC_OK, RC_CLOSED (browser gone), or
 * RC_ERROR/RC_TIMEOUT with 'err' filled. */
int page_prepare(struct slot *s, int64_t deadline_ms, struct buf *err);
/* Open a new page in the slot's existing context and attach to it. */
int page_open_target(struct slot *s, int64_t deadline_ms, struct buf *err);
/* Make the slot's page fit for the next request without a new renderer:
 * navigate to about:blank, drop the history, and clear cookies, storage
 * (local, session, IndexedDB, cache storage, service workers …) of every
 * origin the page committed, the HTTP cache, permissions and emulation.
 * RC_OK; RC_DECLINED when the page had child frames or too many origins to
 * be sure of the wipe — the caller must then replace the context; other
 * codes when the browser failed ('err' says why). */
int page_wipe(struct slot *s, int64_t deadline_ms, struct buf *err);
/* Dispose of the slot's context (and its page). Best effort. */
void page_dispose(struct slot *s, int64_t deadline_ms);

/* Apply per-request emulation, navigate to o->url and wait for o->wait_until
 * until 'deadline_ms'. On failure returns the error code for respond_error
 * in *code ("target_unreachable", "timeout", "render_failed",
 * "target_http_status") and a sentence in 'msg'; *target_status gets the
 * main document's HTTP status (0 if none). */
int page_navigate(struct slot *s, const struct render_opts *o, int64_t deadline_ms,
                  const char **code, struct buf *msg, int *target_status);

/* Event hook, called on the CDP reader thread for every event of the slot's
 * browser. Returns 1 if the event belonged to this slot (its session, or a
 * browser-level event naming its session or target), else 0. */
int page_on_event(struct slot *s, const char *session_id, const char *method, yajl_val params);
/* The connection to the browser ended: wake any waiter. */
void page_on_closed(struct slot *s);

/* Caller holds s->mu. Wait on s->cond until 'ts' or at most 100 ms, first
 * answering a posted page's paused requests, and afterwards noting a client
 * that went away (s->client_gone). */
void page_cond_wait(struct slot *s, const struct timespec *ts);
/* Has the client of the request holding the slot gone away? */
int page_client_gone(struct slot *s);
/* Append ", still pending: URL, URL (+N more)" for the requests in flight. */
void page_describe_pending(struct slot *s, struct buf *msg);
/* After the lifecycle event: wait_for, wait_for_expression and scroll_page
 * (wait.c). Same contract as page_navigate. */
int page_wait_extra(struct slot *s, const struct render_opts *o, int64_t deadline_ms,
                    const char **code, struct buf *msg);
/* Wait until the element 'selector' (NULL: the body) shows text, or
 * 'until_ms' (wait.c). RC_OK when it does, RC_TIMEOUT when it did not by
 * then; other codes when the page went away. */
int page_wait_text(struct slot *s, const char *selector, int64_t until_ms);

/* A CDP call on the slot's session with a sentence-worthy failure in 'err'. */
int page_call(struct slot *s, const char *method, const char *params, int64_t deadline_ms,
              yajl_val *result, struct buf *err);

#endif
