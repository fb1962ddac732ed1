/* serve.h — serving a posted page (text/html or multipart) to the browser.
 *
 * The page and its assets never touch the network: the slot's page is told
 * to intercept (Fetch.enable) the document's URL and its assets' URLs, and
 * every paused request is answered from the request's memory. With no 'url'
 * option the document lives at SERVE_DEFAULT_URL, a host that cannot exist
 * (.invalid), all of whose requests are answered here (404 when unknown).
 * With a 'url', that URL is the base for relative links: the document and
 * assets are served at it, everything else goes to the network as usual. */
#ifndef RCGI_SERVE_H
#define RCGI_SERVE_H

#include <stdint.h>

#include "buf.h"

struct slot;
struct posted_page;

#define SERVE_DEFAULT_URL "https://rendercgi.invalid/index.html"

/* Start intercepting for 'pg' on the slot, at 'base_url' (NULL: the default).
 * The document URL to navigate to is left in s->posted_url. RC_OK or a CDP
 * failure with 'err'. */
int serve_begin(struct slot *s, const struct posted_page *pg, const char *base_url,
                int64_t deadline_ms, struct buf *err);
/* Answer every request queued in s->paused. Call without s->mu held. */
void serve_paused(struct slot *s);
/* Stop intercepting (Fetch.disable) if serve_begin started it. */
int serve_end(struct slot *s, int64_t deadline_ms, struct buf *err);
/* Pure: the asset name 'url' designates below document 'doc_url' (both
 * without fragment), or NULL. "https://h/d/x.png" below "https://h/d/i.html"
 * is "x.png". Returns a pointer into 'url'. */
const char *serve_relative_name(const char *doc_url, const char *url);

#endif
