/* transport.h — how CDP messages move between the worker and a browser.
 *
 * One interface, two backends: transport_pipe.c (--remote-debugging-pipe:
 * fds 3 and 4, each JSON message ended by a NUL byte) and, later,
 * transport_ws.c (libwebsockets, for a browser elsewhere). A transport
 * carries whole messages; it does not look inside them. */
#ifndef RCGI_TRANSPORT_H
#define RCGI_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct transport;

struct transport_ops {
    /* Send one whole message (it contains no NUL). Safe to call from many
     * threads at once; messages never interleave. RC_OK, RC_CLOSED when the
     * peer is gone (or after shutdown()), RC_TOO_LARGE when 'len' is over
     * the message cap (nothing is sent), RC_ERROR. Never raises SIGPIPE. */
    int (*send)(struct transport *t, const char *msg, size_t len);
    /* Wait until 'deadline_ms' (monotonic; -1 = no deadline) for the next
     * whole message and put it in 'out' (replacing what was there).
     * RC_OK, RC_TIMEOUT, RC_CLOSED (EOF or after shutdown), RC_TOO_LARGE (a
     * message over the cap; the transport is unusable afterwards and later
     * calls return RC_CLOSED), RC_ERROR. Only one thread may receive. */
    int (*recv)(struct transport *t, struct buf *out, int64_t deadline_ms);
    /* Make a blocked or later recv() (and send()) return RC_CLOSED
     * promptly. Callable from any thread; idempotent. */
    void (*shutdown)(struct transport *t);
    /* Close the fds and free. NULL-safe through transport_free(). */
    void (*free)(struct transport *t);
};

struct transport {
    const struct transport_ops *ops;
};

/* A pipe transport over 'read_fd' (from the browser) and 'write_fd' (to it).
 * Takes ownership of both fds, also on failure, and makes them non-blocking.
 * Messages longer than 'max_message' bytes (either way) fail with
 * RC_TOO_LARGE. Returns NULL on failure (logged). */
struct transport *transport_pipe_new(int read_fd, int write_fd, size_t max_message);

static inline int
transport_send(struct transport *t, const char *msg, size_t len)
{
    return t->ops->send(t, msg, len);
}

static inline int
transport_recv(struct transport *t, struct buf *out, int64_t deadline_ms)
{
    return t->ops->recv(t, out, deadline_ms);
}

static inline void
transport_shutdown(struct transport *t)
{
    t->ops->shutdown(t);
}

static inline void
transport_free(struct transport *t)
{
    if (t != NULL)
        t->ops->free(t);
}

#endif
