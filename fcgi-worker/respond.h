/* respond.h — writing responses: the one place that picks HTTP statuses.
 *
 * Handlers never write a status number for an error: they name a stable
 * error code ("missing_url", "timeout", …) and respond_error() looks up its
 * status and writes the JSON body of API.md §3. Headers are latched: once
 * respond_start() has sent them, an error can only be logged and the
 * response cut short; there is never a second header block. */
#ifndef RCGI_RESPOND_H
#define RCGI_RESPOND_H

#include <stddef.h>

#include "buf.h"

struct request;

/* A response captured into memory instead of written to FastCGI: a /batch
 * item (batch.c) runs the route's own handler on a request whose 'capture'
 * points here. respond_start() records the status line's parts,
 * respond_body() appends to 'body' (capped: past the cap 'too_large' is set
 * and the handler sees RC_CLOSED), respond_error() records the code and
 * message instead of a JSON body. Owned by whoever runs the sub-request. */
struct respond_capture {
    struct buf body;
    char content_type[128];
    char extra_headers[512];   /* "Name: value\r\n" lines, as the handler gave them */
    char error_code[48];       /* "" unless respond_error() was called */
    char error_message[1024];
    int too_large;             /* the body went past its cap */
};

/* An empty capture whose body may grow to 'max' bytes. Allocates nothing. */
void respond_capture_init(struct respond_capture *c, size_t max);
/* Free the body; the capture is empty and reusable afterwards. */
void respond_capture_free(struct respond_capture *c);

/* The HTTP status of an error code of API.md §3; 500 for an unknown code. */
int respond_status_of(const char *code);
/* Write the error response for 'code' with a message (printf-style), plus
 * 'extra_headers' ("Name: value\r\n" lines, or NULL). After headers were
 * sent, logs instead. Returns RC_OK when written, RC_CLOSED otherwise. */
int respond_error_h(struct request *r, const char *code, const char *extra_headers,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
#define respond_error(r, code, ...) respond_error_h((r), (code), NULL, __VA_ARGS__)
/* Send the status line and headers (Content-Type, X-Request-Id, extra).
 * RC_OK, or RC_CLOSED when the client has gone or headers were already sent. */
int respond_start(struct request *r, int status, const char *content_type,
                  const char *extra_headers);
/* Body bytes after respond_start(). RC_OK or RC_CLOSED. */
int respond_body(struct request *r, const void *data, size_t len);
/* Push what was written so far to the web server now (a streamed response
 * such as /batch's lines). RC_OK, or RC_CLOSED when the client has gone.
 * A no-op for a captured response. */
int respond_flush(struct request *r);
/* A whole JSON response. */
int respond_json(struct request *r, int status, const struct buf *body);

#endif
