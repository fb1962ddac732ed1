/* cdp.h — a Chrome DevTools Protocol client over a transport.
 *
 * One struct cdp per browser connection. A reader thread owned by the cdp
 * receives every message: replies are matched by id to the thread waiting in
 * cdp_call(); events go to the on_event callback. Sessions are "flat": a
 * command for a page carries its "sessionId"; NULL means the browser target.
 *
 * Threads: cdp_call() and cdp_send() may be called from any number of
 * threads at once, never from inside on_event. */
#ifndef RCGI_CDP_H
#define RCGI_CDP_H

#include <stdbool.h>
#include <stdint.h>

#include <yajl/yajl_tree.h>

#include "buf.h"
#include "transport.h"

struct cdp;

/* Called on the reader thread for every event. 'session_id' is NULL for
 * browser-level events; 'params' may be NULL. Both are valid only during
 * the call. Must not block and must not call cdp_call(). */
typedef void (*cdp_event_fn)(void *ud, const char *session_id, const char *method,
                             yajl_val params);
/* Called exactly once on the reader thread when the connection ends (EOF,
 * error, malformed stream, or "shut down" after cdp_shutdown/cdp_free);
 * 'why' (static text) says which. Pending calls have already been failed
 * with RC_CLOSED. Must not call cdp_free(). Optional. */
typedef void (*cdp_closed_fn)(void *ud, const char *why);

/* Start a client on 't' (takes ownership of it, also on failure) and its
 * reader thread. Returns NULL on failure (logged). */
struct cdp *cdp_new(struct transport *t, cdp_event_fn on_event, cdp_closed_fn on_closed,
                    void *ud);
/* Shut the transport, join the reader, fail pending calls with RC_CLOSED and
 * free everything. No cdp_call() may still be running. NULL-safe. */
void cdp_free(struct cdp *c);
/* Make every pending and later call fail with RC_CLOSED, without freeing. */
void cdp_shutdown(struct cdp *c);

/* Send 'method' with 'params_json' (a JSON object's text, or NULL for none)
 * to 'session_id' (NULL: the browser) and wait until 'deadline_ms'
 * (monotonic; -1 = no deadline) for its reply.
 *   RC_OK       *result (if result != NULL) is the reply's "result" object,
 *               a new tree the caller frees with cdp_result_free() (or,
 *               equally, yajl_tree_free()). *result is NULL on any error.
 *   RC_ERROR    the browser answered with an error; 'err' (if non-NULL) gets
 *               "METHOD: message (code N)". For every other result 'err'
 *               is left empty (len 0).
 *   RC_TIMEOUT  no reply in time; a late reply is dropped.
 *   RC_CLOSED   the connection is gone.
 *   RC_TOO_LARGE the command is over the message cap. */
int cdp_call(struct cdp *c, const char *session_id, const char *method,
             const char *params_json, int64_t deadline_ms, yajl_val *result, struct buf *err);
/* Free a result from cdp_call(). NULL-safe. */
void cdp_result_free(yajl_val result);
/* Send without waiting; the reply, when it comes, is dropped. */
int cdp_send(struct cdp *c, const char *session_id, const char *method, const char *params_json);
/* True once the connection has ended. */
bool cdp_closed(struct cdp *c);

/* Helpers to read a yajl tree (NULL-safe): the string/number/bool at a path
 * of object keys (NULL-terminated), or NULL/'dflt' when absent or of another
 * type. A returned string is borrowed from 'v'. */
const char *cdp_get_string(yajl_val v, const char *key, ...);
double cdp_get_number(yajl_val v, double dflt, const char *key, ...);
bool cdp_get_bool(yajl_val v, bool dflt, const char *key, ...);

#endif
