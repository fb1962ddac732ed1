/* body.h — a POST request's body: read under a cap, then one of the three
 * forms of API.md §3 turned into options and, for a posted page, the page:
 *   application/json     {"url": …, "options": {…}} (options may also sit at the
 *                        top level); nested values (headers, cookies) stay JSON
 *   text/html            the page itself; options from the query string
 *   multipart/form-data  an index.html part, its assets (parts with a
 *                        filename) and options (parts without one)
 * The posted page belongs to the request and is freed with it. */
#ifndef RCGI_BODY_H
#define RCGI_BODY_H

#include <stddef.h>

#include "buf.h"

struct request;

struct asset {
    char *name;          /* path relative to the page, e.g. "img/logo.png" */
    char *content_type;  /* from the part, or guessed from the name */
    char *data;
    size_t len;
};

struct posted_page {
    char *html;
    size_t html_len;
    struct asset *assets;
    size_t nassets;
};

#define BODY_MAX_ASSETS 256

/* Read and parse the body of r. RC_OK; otherwise the error response is
 * described by *code ("body_too_large", "unsupported_media_type",
 * "invalid_json", "invalid_option") and 'msg'. */
int body_parse(struct request *r, size_t max_body, const char **code, struct buf *msg);
/* Free a posted page. NULL-safe. */
void posted_page_free(struct posted_page *p);
/* The asset called 'name', or NULL. */
const struct asset *posted_page_asset(const struct posted_page *p, const char *name);
/* Pure parsers, for tests: a multipart body with its boundary, and a JSON
 * body, adding parameters (and the page) to r. */
int body_parse_multipart(struct request *r, const char *boundary, const char *data, size_t len,
                         const char **code, struct buf *msg);
int body_parse_json(struct request *r, const char *data, size_t len, const char **code,
                    struct buf *msg);
/* Read the raw body of r into 'out' (initialised here, capped at 'max'; the
 * caller frees it). RC_OK, or RC_INVALID with *code "body_too_large" and
 * 'msg'. For a route with a body of its own shape (/batch). */
int body_read(struct request *r, size_t max, struct buf *out, const char **code,
              struct buf *msg);
/* Add option 'name' with the JSON value 'v' to r, converted as a JSON body's
 * options are: strings as they are, numbers as written, booleans as
 * true/false, objects and lists as JSON text, null as absent. RC_OK or
 * RC_ERROR (ENOMEM). */
struct yajl_val_s;
int body_json_option(struct request *r, const char *name, struct yajl_val_s *v);

#endif
