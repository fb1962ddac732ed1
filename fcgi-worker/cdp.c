/* cdp.c — a Chrome DevTools Protocol client over a transport; see cdp.h.
 *
 * The cdp owns its transport and one reader thread. Each cdp_call() puts a
 * struct pending on its own stack, links it into the cdp's list under the
 * mutex BEFORE sending (so a fast reply always finds it), and waits on the
 * pending's own condition variable. The reader parses every message once;
 * for a reply it moves the whole parsed message into the matching pending,
 * unlinks it and signals it; the caller then picks "result" or "error" out
 * of the tree on its own thread. Whoever completes a pending (reply, close)
 * unlinks it; a caller that gives up (timeout, send failure) unlinks itself,
 * so a late reply finds no id and is dropped.
 *
 * A malformed message (not JSON, or JSON that is neither a reply nor an
 * event) ends the connection: the NUL framing of the pipe is then not to be
 * trusted, and a browser that sends garbage is best replaced. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cdp.h"
#include "clock.h"
#include "log.h"
#include "rc.h"
#include "transport.h"

/* The cdp's own buffers grow without a cap of their own: the transport
 * enforces the message cap on both directions. */
#define CDP_BUF_MAX (SIZE_MAX / 4)

struct pending {
    struct pending *next;
    int64_t id;
    pthread_cond_t cond;
    bool done;
    int rc;       /* RC_OK (a reply arrived) or RC_CLOSED */
    yajl_val msg; /* the whole reply message, owned by the waiting caller */
};

struct cdp {
    struct transport *t;
    cdp_event_fn on_event;
    cdp_closed_fn on_closed;
    void *ud;
    pthread_t reader;
    atomic_uint next_id;

    pthread_mutex_t lock; /* guards everything below */
    struct pending *pending;
    bool closed;
    const char *why; /* static text: why the connection ended */
};

/* Unlink 'p' if it is still in the list. Called with the lock held. */
static void
pending_unlink(struct cdp *c, struct pending *p)
{
    for (struct pending **pp = &c->pending; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            return;
        }
    }
}

/* Mark the connection closed (first caller's 'why' wins) and fail every
 * pending call with RC_CLOSED. */
static void
cdp_mark_closed(struct cdp *c, const char *why)
{
    pthread_mutex_lock(&c->lock);
    if (!c->closed) {
        c->closed = true;
        c->why = why;
    }
    while (c->pending != NULL) {
        struct pending *p = c->pending;
        c->pending = p->next;
        p->done = true;
        p->rc = RC_CLOSED;
        pthread_cond_signal(&p->cond);
    }
    pthread_mutex_unlock(&c->lock);
}

/* Route one parsed message; takes ownership of 'msg'. RC_OK, or RC_INVALID
 * when it is neither a reply nor an event. */
static int
cdp_dispatch(struct cdp *c, yajl_val msg)
{
    const char *id_path[] = { "id", NULL };
    yajl_val id;
    const char *method;

    if (!YAJL_IS_OBJECT(msg))
        goto invalid;
    if ((id = yajl_tree_get(msg, id_path, yajl_t_any)) != NULL) {
        struct pending *p;

        if (!YAJL_IS_INTEGER(id))
            goto invalid;
        pthread_mutex_lock(&c->lock);
        for (p = c->pending; p != NULL && p->id != YAJL_GET_INTEGER(id); p = p->next)
            ;
        if (p != NULL) {
            pending_unlink(c, p);
            p->done = true;
            p->rc = RC_OK;
            p->msg = msg;
            msg = NULL;
            pthread_cond_signal(&p->cond);
        }
        pthread_mutex_unlock(&c->lock);
        /* No taker: the caller timed out or used cdp_send(). */
        yajl_tree_free(msg);
        return RC_OK;
    }
    if ((method = cdp_get_string(msg, "method", NULL)) == NULL)
        goto invalid;
    if (c->on_event != NULL) {
        const char *params_path[] = { "params", NULL };
        c->on_event(c->ud, cdp_get_string(msg, "sessionId", NULL), method,
                    yajl_tree_get(msg, params_path, yajl_t_object));
    }
    yajl_tree_free(msg);
    return RC_OK;
invalid:
    yajl_tree_free(msg);
    return RC_INVALID;
}

static void *
cdp_reader(void *arg)
{
    struct cdp *c = arg;
    struct buf in;
    const char *why;
    char err[256];

    buf_init(&in, CDP_BUF_MAX);
    for (;;) {
        yajl_val msg;
        int rc = transport_recv(c->t, &in, -1);

        if (rc == RC_CLOSED) {
            why = "browser closed the connection";
            break;
        }
        if (rc == RC_TOO_LARGE) {
            why = "message from browser over the size cap";
            log_msg(LOG_ERR, "cdp: %s", why);
            break;
        }
        if (rc != RC_OK) {
            why = "error reading from browser";
            break;
        }
        err[0] = '\0';
        if ((msg = yajl_tree_parse(in.data, err, sizeof(err))) == NULL ||
            cdp_dispatch(c, msg) != RC_OK) {
            why = "malformed message from browser";
            err[strcspn(err, "\n")] = '\0'; /* yajl adds a multi-line excerpt */
            log_msg(LOG_ERR, "cdp: %s (%s): %.120s", why,
                    err[0] != '\0' ? err : "neither reply nor event", in.data);
            break;
        }
    }
    buf_free(&in);
    cdp_mark_closed(c, why);
    if (c->on_closed != NULL)
        c->on_closed(c->ud, c->why);
    return NULL;
}

struct cdp *
cdp_new(struct transport *t, cdp_event_fn on_event, cdp_closed_fn on_closed, void *ud)
{
    struct cdp *c = NULL;
    bool lock_ok = false;

    if ((c = calloc(1, sizeof(*c))) == NULL) {
        log_msg(LOG_ERR, "cdp: out of memory");
        goto fail;
    }
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        log_msg(LOG_ERR, "cdp: pthread_mutex_init failed");
        goto fail;
    }
    lock_ok = true;
    c->t = t;
    c->on_event = on_event;
    c->on_closed = on_closed;
    c->ud = ud;
    atomic_init(&c->next_id, 0);
    if ((errno = pthread_create(&c->reader, NULL, cdp_reader, c)) != 0) {
        log_errno(LOG_ERR, "cdp: pthread_create");
        goto fail;
    }
    return c;
fail:
    if (lock_ok)
        pthread_mutex_destroy(&c->lock);
    free(c);
    transport_free(t);
    return NULL;
}

void
cdp_shutdown(struct cdp *c)
{
    cdp_mark_closed(c, "shut down");
    transport_shutdown(c->t);
}

void
cdp_free(struct cdp *c)
{
    if (c == NULL)
        return;
    cdp_shutdown(c);
    pthread_join(c->reader, NULL);
    transport_free(c->t);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

bool
cdp_closed(struct cdp *c)
{
    bool closed;

    pthread_mutex_lock(&c->lock);
    closed = c->closed;
    pthread_mutex_unlock(&c->lock);
    return closed;
}

/* Build the command text into 'cmd' with a fresh id, stored in *id. */
static int
cdp_format(struct cdp *c, struct buf *cmd, int64_t *id, const char *session_id,
           const char *method, const char *params_json)
{
    int rc;

    /* Chromium reads ids as 32-bit ints; stay positive when the counter wraps. */
    *id = (int64_t)(atomic_fetch_add(&c->next_id, 1) % INT32_MAX) + 1;
    rc = buf_printf(cmd, "{\"id\":%lld", (long long)*id);
    if (rc == RC_OK && session_id != NULL) {
        rc = buf_puts(cmd, ",\"sessionId\":");
        if (rc == RC_OK)
            rc = buf_json_string(cmd, session_id);
    }
    if (rc == RC_OK)
        rc = buf_puts(cmd, ",\"method\":");
    if (rc == RC_OK)
        rc = buf_json_string(cmd, method);
    /* "params" goes last so that a huge params text is copied only once. */
    if (rc == RC_OK && params_json != NULL && params_json[0] != '\0')
        rc = buf_printf(cmd, ",\"params\":%s", params_json);
    if (rc == RC_OK)
        rc = buf_puts(cmd, "}");
    return rc;
}

/* Turn a reply message into cdp_call()'s result; takes ownership of 'msg'. */
static int
cdp_reply(yajl_val msg, const char *method, yajl_val *result, struct buf *err)
{
    const char *result_path[] = { "result", NULL };
    const char *error_path[] = { "error", NULL };
    yajl_val res = yajl_tree_get(msg, result_path, yajl_t_object);
    yajl_val error = yajl_tree_get(msg, error_path, yajl_t_object);
    int rc = RC_OK;

    if (res != NULL) {
        if (result != NULL) {
            /* Detach "result" from the message so that the caller owns a
             * whole tree it can yajl_tree_free(); yajl_tree_free() of the
             * message skips the NULL left in its place. */
            for (size_t i = 0; i < msg->u.object.len; i++) {
                if (msg->u.object.values[i] == res)
                    msg->u.object.values[i] = NULL;
            }
            *result = res;
        }
    } else {
        rc = RC_ERROR;
        if (err != NULL) {
            const char *text = cdp_get_string(error, "message", NULL);
            if (error == NULL)
                buf_printf(err, "%s: reply has neither result nor error", method);
            else
                buf_printf(err, "%s: %s (code %.0f)", method, text ? text : "unknown error",
                           cdp_get_number(error, 0, "code", NULL));
        }
    }
    yajl_tree_free(msg);
    return rc;
}

int
cdp_call(struct cdp *c, const char *session_id, const char *method, const char *params_json,
         int64_t deadline_ms, yajl_val *result, struct buf *err)
{
    struct pending p = { .next = NULL };
    struct buf cmd;
    struct timespec ts;
    int rc;

    if (result != NULL)
        *result = NULL;
    if (err != NULL)
        buf_reset(err);
    buf_init(&cmd, CDP_BUF_MAX);
    if ((rc = cdp_format(c, &cmd, &p.id, session_id, method, params_json)) != RC_OK) {
        buf_free(&cmd);
        return rc;
    }
    if (clock_cond_init(&p.cond) != 0) {
        buf_free(&cmd);
        log_msg(LOG_ERR, "cdp: %s: pthread_cond_init failed", method);
        return RC_ERROR;
    }

    pthread_mutex_lock(&c->lock);
    if (c->closed) {
        rc = RC_CLOSED;
        goto out;
    }
    p.next = c->pending;
    c->pending = &p;
    pthread_mutex_unlock(&c->lock);

    rc = transport_send(c->t, cmd.data, cmd.len);

    pthread_mutex_lock(&c->lock);
    if (rc != RC_OK)
        goto out;
    clock_deadline_timespec(deadline_ms, &ts);
    while (!p.done) {
        if (deadline_ms < 0) {
            pthread_cond_wait(&p.cond, &c->lock);
        } else if (pthread_cond_timedwait(&p.cond, &c->lock, &ts) == ETIMEDOUT &&
                   !p.done) {
            rc = RC_TIMEOUT;
            break;
        }
    }
    if (p.done)
        rc = p.rc;
out:
    if (!p.done)
        pending_unlink(c, &p);
    pthread_mutex_unlock(&c->lock);
    pthread_cond_destroy(&p.cond);
    buf_free(&cmd);
    if (p.msg != NULL)
        rc = cdp_reply(p.msg, method, result, err);
    return rc;
}

void
cdp_result_free(yajl_val result)
{
    /* cdp_reply() detached the result from its message: a whole tree. */
    yajl_tree_free(result);
}

int
cdp_send(struct cdp *c, const char *session_id, const char *method, const char *params_json)
{
    struct buf cmd;
    int64_t id;
    int rc;

    if (cdp_closed(c))
        return RC_CLOSED;
    buf_init(&cmd, CDP_BUF_MAX);
    if ((rc = cdp_format(c, &cmd, &id, session_id, method, params_json)) == RC_OK)
        rc = transport_send(c->t, cmd.data, cmd.len);
    buf_free(&cmd);
    return rc;
}

/* Walk a NULL-terminated path of object keys. */
static yajl_val
cdp_walk(yajl_val v, const char *key, va_list ap)
{
    for (; key != NULL && v != NULL; key = va_arg(ap, const char *)) {
        yajl_val next = NULL;

        if (!YAJL_IS_OBJECT(v))
            return NULL;
        for (size_t i = 0; i < v->u.object.len; i++) {
            if (strcmp(v->u.object.keys[i], key) == 0) {
                next = v->u.object.values[i];
                break;
            }
        }
        v = next;
    }
    return v;
}

const char *
cdp_get_string(yajl_val v, const char *key, ...)
{
    va_list ap;

    va_start(ap, key);
    v = cdp_walk(v, key, ap);
    va_end(ap);
    return YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
}

double
cdp_get_number(yajl_val v, double dflt, const char *key, ...)
{
    va_list ap;

    va_start(ap, key);
    v = cdp_walk(v, key, ap);
    va_end(ap);
    return YAJL_IS_DOUBLE(v) ? YAJL_GET_DOUBLE(v) : dflt;
}

bool
cdp_get_bool(yajl_val v, bool dflt, const char *key, ...)
{
    va_list ap;

    va_start(ap, key);
    v = cdp_walk(v, key, ap);
    va_end(ap);
    if (YAJL_IS_TRUE(v))
        return true;
    if (YAJL_IS_FALSE(v))
        return false;
    return dflt;
}
