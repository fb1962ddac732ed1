/* request.h — one FastCGI request as the handlers see it: method, route,
 * options (from the query string), request id, and the response latch.
 *
 * A struct request lives on its request thread's stack for one request;
 * request_free() releases what request_parse() allocated. */
#ifndef RCGI_REQUEST_H
#define RCGI_REQUEST_H

#include <stddef.h>
#include <stdint.h>

struct fcgi_conn;
struct slot;
struct worker;

struct param {
    char *name;   /* %-decoded; owned by the request */
    char *value;
    int used;     /* set when a handler read it; unread ones are unknown_option */
};

struct posted_page;
struct respond_capture;

struct request {
    struct fcgi_conn *conn;
    struct worker *worker;
    const char *method;       /* borrowed from the FastCGI params */
    char route[64];           /* the last path segment, e.g. "pdf" */
    char id[65];              /* X-Request-Id: the incoming one or generated */
    struct param *params;     /* from the query string, then the body */
    size_t nparams, params_cap;
    struct posted_page *page; /* a page posted as text/html or multipart, or NULL */
    int headers_sent;         /* latched by respond_start() */
    int status;               /* the status sent, for counters and logs */
    int failed;               /* answered with a 5xx error body (health's 503 is not one) */
    int64_t started_ms;
    struct slot *slot;        /* a page slot to give back after finishing */
    int slot_healthy;         /* 0 if the browser misbehaved during the request */
    struct respond_capture *capture; /* a /batch item: the response goes here (respond.h),
                                        not to 'conn'; borrowed */
};

/* Read method, route, request id and query parameters of the current request
 * on 'conn'. RC_OK, or RC_INVALID with r->route set and 'why' filled when the
 * query string is malformed (the caller answers invalid_option). */
int request_parse(struct request *r, struct fcgi_conn *conn, struct worker *w, char *why,
                  size_t whylen);
void request_free(struct request *r);
/* Make 'item' item 'index' of /batch request 'batch', for 'route' ("pdf",
 * …), answering into 'capture'. Parameters already added to 'item' (the
 * item's url and options) are kept; the rest is set as request_parse would:
 * worker, method GET (so that no body is read: the parameters are the whole
 * request), the id "<batch id>-<index>" and the start time, now. 'item'
 * borrows batch's connection only so that the client-gone checks (the
 * connection's fd) see the batch's client; its response never touches it. */
void request_init_item(struct request *item, const struct request *batch, size_t index,
                       const char *route, struct respond_capture *capture);
/* Add a parameter, copying both strings. RC_OK or RC_ERROR (ENOMEM). */
int request_add_param(struct request *r, const char *name, size_t nlen, const char *value,
                      size_t vlen);
/* The value of parameter 'name' (marking it used), or NULL. Borrowed. */
const char *request_param(struct request *r, const char *name);
/* The route name for a request path: its last non-empty segment, without the
 * query. Pure; exported for tests. */
void request_route_of(const char *path, char *route, size_t len);

#endif
