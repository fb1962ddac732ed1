/* wait.c — waiting for what a page needs after its lifecycle event: the
 * wait_for selector, the wait_for_expression, and scroll_page (scroll to the
 * end so that lazily loaded content is requested, then back to the top and
 * let the network settle). All within the request's deadline; polls go
 * through page_cond_wait so a posted page keeps being served and a client
 * that leaves is noticed. */
#include <stdio.h>
#include <string.h>

#include "cdp.h"
#include "clock.h"
#include "options.h"
#include "page.h"
#include "rc.h"

#define POLL_MS 100
#define SETTLE_MS 300

/* Evaluate 'expr' in the page. RC_OK with *truthy; RC_INVALID when it throws
 * a SyntaxError (or a DOMException for a bad selector), with 'why'; other
 * codes from the CDP call. Other exceptions count as not truthy yet. */
static int
evaluate(struct slot *s, const char *expr, int await_promise, int64_t deadline_ms, int *truthy,
         struct buf *why)
{
    struct buf p, err;
    yajl_val v = NULL;
    const char *cls, *desc;
    int rc;

    buf_init(&p, 1 << 20);
    buf_init(&err, 1024);
    buf_puts(&p, "{\"returnByValue\":true,\"expression\":");
    buf_json_string(&p, expr);
    buf_printf(&p, ",\"awaitPromise\":%s}", await_promise ? "true" : "false");
    rc = page_call(s, "Runtime.evaluate", p.data, deadline_ms, &v, &err);
    *truthy = 0;
    if (rc == RC_OK) {
        cls = cdp_get_string(v, "exceptionDetails", "exception", "className", NULL);
        desc = cdp_get_string(v, "exceptionDetails", "exception", "description", NULL);
        if (cls != NULL && (strcmp(cls, "SyntaxError") == 0 || strcmp(cls, "DOMException") == 0)) {
            buf_printf(why, "%.200s", desc != NULL ? desc : cls);
            rc = RC_INVALID;
        } else if (cls == NULL) {
            *truthy = cdp_get_bool(v, 0, "result", "value", NULL);
        }
    } else {
        buf_printf(why, "%s", err.len ? err.data : rc_name(rc));
    }
    yajl_tree_free(v);
    buf_free(&p);
    buf_free(&err);
    return rc;
}

/* Poll 'expr' until truthy or the deadline. */
static int
poll_until(struct slot *s, const char *expr, int64_t deadline_ms, struct buf *why)
{
    struct timespec ts;
    int truthy = 0, rc;

    for (;;) {
        rc = evaluate(s, expr, 0, deadline_ms, &truthy, why);
        /* RC_ERROR: no context to evaluate in (the page is navigating on);
         * try again at the next poll. */
        if ((rc != RC_OK && rc != RC_ERROR) || truthy)
            return rc;
        if (clock_ms() + POLL_MS >= deadline_ms)
            return RC_TIMEOUT;
        clock_deadline_timespec(clock_ms() + POLL_MS, &ts);
        pthread_mutex_lock(&s->mu);
        page_cond_wait(s, &ts);
        int gone = s->crashed || s->closed || s->client_gone;
        pthread_mutex_unlock(&s->mu);
        if (gone)
            return RC_CLOSED;
    }
}

/* Wait until no request has been in flight for SETTLE_MS, or the deadline. */
static void
settle(struct slot *s, int64_t deadline_ms)
{
    struct timespec ts;
    int64_t quiet_since = clock_ms();

    pthread_mutex_lock(&s->mu);
    while (clock_ms() < deadline_ms && !s->crashed && !s->closed && !s->client_gone) {
        if (s->npending + s->pending_more > 0)
            quiet_since = clock_ms();
        else if (clock_ms() - quiet_since >= SETTLE_MS)
            break;
        clock_deadline_timespec(clock_ms() + 50, &ts);
        page_cond_wait(s, &ts);
    }
    pthread_mutex_unlock(&s->mu);
}

/* Scroll down one screen at a time until the end (bounded), then back. */
static const char scroll_js[] =
    "(async () => {"
    "  const el = document.scrollingElement || document.documentElement;"
    "  for (let i = 0; i < 200; i++) {"
    "    const before = window.scrollY;"
    "    window.scrollBy(0, Math.max(200, window.innerHeight - 50));"
    "    await new Promise(r => setTimeout(r, 100));"
    "    if (window.scrollY === before || window.innerHeight + window.scrollY >= el.scrollHeight)"
    "      break;"
    "  }"
    "  window.scrollTo(0, 0);"
    "  await new Promise(r => requestAnimationFrame(() => r()));"
    "  return true;"
    "})()";

static int
fail(const char **code, const char *c, struct buf *msg, int rc)
{
    *code = c;
    (void)msg;
    return rc == RC_OK ? RC_ERROR : rc;
}

int
page_wait_text(struct slot *s, const char *selector, int64_t until_ms)
{
    struct buf expr, why;
    int rc;

    buf_init(&expr, 4096);
    buf_init(&why, 1024);
    buf_puts(&expr, "(() => { const el = ");
    if (selector != NULL) {
        buf_puts(&expr, "document.querySelector(");
        buf_json_string(&expr, selector);
        buf_puts(&expr, ")");
    } else {
        buf_puts(&expr, "document.body");
    }
    buf_puts(&expr, "; return !!el && el.innerText.trim() !== ''; })()");
    rc = poll_until(s, expr.data, until_ms, &why);
    buf_free(&expr);
    buf_free(&why);
    return rc;
}

int
page_wait_extra(struct slot *s, const struct render_opts *o, int64_t deadline_ms,
                const char **code, struct buf *msg)
{
    struct buf why, expr;
    int rc = RC_OK, truthy;

    buf_init(&why, 1024);
    buf_init(&expr, 1 << 20);
    if (o->wait_for != NULL) {
        buf_puts(&expr, "!!document.querySelector(");
        buf_json_string(&expr, o->wait_for);
        buf_puts(&expr, ")");
        rc = poll_until(s, expr.data, deadline_ms, &why);
        if (rc == RC_INVALID) {
            rc = fail(code, "invalid_option", msg, rc);
            buf_printf(msg, "option 'wait_for' is not a valid CSS selector: %s", why.data);
        } else if (rc == RC_TIMEOUT) {
            rc = fail(code, "timeout", msg, rc);
            buf_printf(msg, "timed out after %d ms waiting for selector '%s' (wait_for)",
                       o->timeout_ms, o->wait_for);
            page_describe_pending(s, msg);
        }
    }
    if (rc == RC_OK && o->wait_for_expression != NULL) {
        buf_reset(&expr);
        buf_printf(&expr, "!!(%s\n)", o->wait_for_expression);
        rc = poll_until(s, expr.data, deadline_ms, &why);
        if (rc == RC_INVALID) {
            rc = fail(code, "invalid_option", msg, rc);
            buf_printf(msg, "option 'wait_for_expression' does not compile: %s", why.data);
        } else if (rc == RC_TIMEOUT) {
            rc = fail(code, "timeout", msg, rc);
            buf_printf(msg, "timed out after %d ms waiting for wait_for_expression to become "
                            "truthy", o->timeout_ms);
            page_describe_pending(s, msg);
        }
    }
    if (rc == RC_OK && o->scroll_page) {
        rc = evaluate(s, scroll_js, 1, deadline_ms, &truthy, &why);
        if (rc == RC_OK)
            settle(s, deadline_ms);
        else if (rc == RC_TIMEOUT) {
            rc = fail(code, "timeout", msg, rc);
            buf_printf(msg, "timed out after %d ms scrolling the page (scroll_page)",
                       o->timeout_ms);
        }
    }
    if (rc == RC_CLOSED || (rc != RC_OK && *code == NULL)) {
        if (page_client_gone(s)) {
            *code = "client_gone";
            buf_puts(msg, "the client went away");
        } else {
            *code = "render_failed";
            buf_printf(msg, "the page or browser went away while waiting: %s",
                       why.len ? why.data : rc_name(rc));
        }
        rc = RC_ERROR;
    }
    buf_free(&why);
    buf_free(&expr);
    return rc;
}
