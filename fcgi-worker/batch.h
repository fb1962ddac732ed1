/* batch.h — POST /batch (API.md §3): many /pdf, /screenshot and /extract
 * requests in one call, answered with one NDJSON line per item as each
 * completes.
 *
 * Each item runs through the route's own handler (handle_pdf, …) on a
 * sub-request of its own (request_init_item) whose response is captured in
 * memory (respond.h, struct respond_capture); the line is then encoded here
 * and written to the client under a lock. The whole body is validated
 * before any item starts; a bad option of one item is that item's error
 * line, never the batch's. docs/api.md and docs/architecture.md describe the
 * design. */
#ifndef RCGI_BATCH_H
#define RCGI_BATCH_H

#include <stddef.h>

#include "buf.h"
#include "request.h"

/* One item of a parsed batch. Its url and options are already parameters of
 * 'req' (converted as a JSON body's are, body.h); batch_free() frees them. */
struct batch_item {
    struct request req;
    const char *route;          /* "extract", "pdf" or "screenshot"; static */
    char url_field[48];         /* where its url came from: "requests[3].url" or "urls[3]" */
    char options_field[56];     /* prefix of its options: "requests[3].options." or "options." */
    const char *error_code;     /* an error of the item itself (e.g. an unknown key), or NULL */
    char error_message[256];
};

/* A parsed /batch body; owns its items. */
struct batch {
    struct batch_item *items;
    size_t nitems;
};

/* What one item's line says. A success has 'content_type' and 'body'; a
 * failure has 'error_code' (non-NULL) and 'error_message'. Strings are
 * borrowed; 'url', 'request_id' and 'engine' may be NULL. */
struct batch_result {
    size_t index;
    const char *url;
    const char *request_id;
    int status;
    const char *content_type;
    const char *engine;         /* X-Render-Engine of an /extract item */
    const void *body;
    size_t len;
    const char *error_code;
    const char *error_message;
};

/* The /batch route handler (route.c). */
void handle_batch(struct request *r);

/* Parse and validate a /batch body (pure). RC_OK and *b (free it with
 * batch_free); RC_INVALID with *code ("invalid_json", "invalid_option",
 * "unknown_option") and 'msg' naming the field, e.g. requests[3].route;
 * RC_ERROR when out of memory. At most 'max_items' items. */
int batch_parse(const char *data, size_t len, int max_items, struct batch *b, const char **code,
                struct buf *msg);
/* Free what batch_parse() allocated. Safe on an empty struct batch. */
void batch_free(struct batch *b);
/* An item's error message with the options it names given their place in
 * the batch body: "option 'scale' …" becomes "option
 * 'requests[3].options.scale' …" and "option 'url' …" "option
 * 'requests[3].url' …". Appends to 'out'. Pure. */
void batch_message(const char *msg, const struct batch_item *it, struct buf *out);
/* Append the NDJSON line of 'res', newline included: {"index", "url",
 * "request_id", "status", "content_type", "engine"?, "body" | "body_base64"}
 * or {"index", "url", "request_id", "status", "error": {"code",
 * "message"}}. Text (text/ types, application/json) goes as "body", anything
 * else base64-encoded as "body_base64". RC_OK, RC_TOO_LARGE or RC_ERROR;
 * on failure 'line' is left as it was. Pure. */
int batch_line(struct buf *line, const struct batch_result *res);

#endif
