/* render.h — the steps every rendering route shares: options, URL policy,
 * borrowing a slot, and turning failures into the right error response. */
#ifndef RCGI_RENDER_H
#define RCGI_RENDER_H

#include <stdint.h>

#include "buf.h"
#include "options.h"

struct request;
struct slot;

/* Parse and validate the options for 'route', check the URL against the
 * policy, and borrow a page slot (left in r->slot too, for the request loop
 * to give back). RC_OK with *o, *slot and the request's *deadline_ms; or
 * an error already answered (RC_ERROR). */
int render_begin(struct request *r, enum route_id route, struct render_opts *o,
                 struct slot **slot, int64_t *deadline_ms);
/* The two halves of render_begin(), for a route that may not need a
 * browser (/extract with the fetch engine). render_prepare: read the body,
 * parse and validate the options, check the URL against the policy; RC_OK
 * or an error already answered (RC_ERROR). render_checkout: borrow a page
 * slot until 'deadline_ms' (monotonic); RC_OK with *slot (also in r->slot),
 * or an error already answered (RC_ERROR). */
int render_prepare(struct request *r, enum route_id route, struct render_opts *o);
int render_checkout(struct request *r, const struct render_opts *o, int64_t deadline_ms,
                    struct slot **slot);
/* The URL being rendered, or "the posted page", for messages. */
const char *render_target(const struct render_opts *o);
/* Answer a failed navigation: 'code' and 'msg' from page_navigate. */
void render_fail(struct request *r, struct slot *s, const char *code, const struct buf *msg,
                 int target_status);
/* Answer a failed CDP call made by a route (rc from cdp_call). */
void render_call_failed(struct request *r, struct slot *s, int rc, const char *what,
                        const struct render_opts *o, const struct buf *err);

#endif
