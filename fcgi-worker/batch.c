/* batch.c — POST /batch; see batch.h.
 *
 * The batch request's thread validates the whole body, sends the 200
 * header block and then runs the items on min(items, batch_concurrency)
 * threads (itself and the ones it starts), each taking the next index.
 * Every item is a sub-request answered by its route's own handler into a
 * struct respond_capture; the item's thread encodes the line, writes it
 * under 'out' and flushes it, then gives back the item's page slot with
 * pool_checkin() exactly as the request loop does after a response.
 *
 * The batch owns its items, their captures and the item threads; the
 * threads borrow the batch request (its connection is written only under
 * 'out'). Browser items (pdf, screenshot) of one batch hold at most as many
 * page slots at a time as the worker has, so that a large batch waits here
 * rather than filling the pool's queue and getting 503s. */
#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yajl/yajl_tree.h>

#include "base64.h"
#include "batch.h"
#include "body.h"
#include "clock.h"
#include "fcgi.h"
#include "handlers.h"
#include "log.h"
#include "pool.h"
#include "rc.h"
#include "request.h"
#include "respond.h"
#include "worker.h"

static const struct batch_route {
    const char *name;
    void (*handler)(struct request *r);
    int needs_browser;
} batch_routes[] = {
    { "extract", handle_extract, 0 },
    { "pdf", handle_pdf, 1 },
    { "screenshot", handle_screenshot, 1 },
    { NULL, NULL, 0 },
};

static const struct batch_route *
batch_route_find(const char *name)
{
    for (const struct batch_route *rt = batch_routes; rt->name != NULL; rt++)
        if (strcmp(rt->name, name) == 0)
            return rt;
    return NULL;
}

/* ---- parsing ------------------------------------------------------------- */

static void
item_error(struct batch_item *it, const char *code, const char *fmt, const char *arg)
{
    if (it->error_code != NULL)
        return; /* the first one found is reported */
    it->error_code = code;
    snprintf(it->error_message, sizeof it->error_message, fmt, arg);
}

/* Options of an item from a JSON object, or the item's error. */
static int
item_options(struct batch_item *it, yajl_val opts, const char *field)
{
    if (opts == NULL || YAJL_IS_NULL(opts))
        return RC_OK;
    if (!YAJL_IS_OBJECT(opts)) {
        item_error(it, "invalid_option",
                   "'%s' must be a JSON object of option names to values", field);
        return RC_OK;
    }
    for (size_t j = 0; j < opts->u.object.len; j++)
        if (body_json_option(&it->req, opts->u.object.keys[j], opts->u.object.values[j]) !=
            RC_OK)
            return RC_ERROR;
    return RC_OK;
}

/* A route value: one of batch_routes, else a message naming 'field'. */
static const char *
route_of(yajl_val v, const char *field, const char **code, struct buf *msg)
{
    const struct batch_route *rt;

    if (v == NULL) {
        *code = "invalid_option";
        buf_printf(msg, "'%s' is missing; it takes extract, pdf or screenshot", field);
        return NULL;
    }
    if (!YAJL_IS_STRING(v) || (rt = batch_route_find(v->u.string)) == NULL) {
        *code = "invalid_option";
        buf_printf(msg, "'%s' has the invalid value '%.80s'; it takes extract, pdf or screenshot",
                   field, YAJL_IS_STRING(v) ? v->u.string : "(not a string)");
        return NULL;
    }
    return rt->name;
}

static int
count_ok(yajl_val list, const char *field, int max_items, const char **code, struct buf *msg)
{
    *code = "invalid_option";
    if (!YAJL_IS_ARRAY(list)) {
        buf_printf(msg, "'%s' must be a list", field);
        return RC_INVALID;
    }
    if (list->u.array.len == 0) {
        buf_printf(msg, "'%s' is empty: a batch needs at least one item", field);
        return RC_INVALID;
    }
    if (list->u.array.len > (size_t)max_items) {
        buf_printf(msg, "'%s' has %zu items, over this server's batch_max_items of %d", field,
                   list->u.array.len, max_items);
        return RC_INVALID;
    }
    return RC_OK;
}

/* The long form: {"requests": [{"route", "url", "options"}, ...]}. */
static int
parse_requests(yajl_val list, int max_items, struct batch *b, const char **code, struct buf *msg)
{
    char field[64];
    size_t n;

    if (count_ok(list, "requests", max_items, code, msg) != RC_OK)
        return RC_INVALID;
    n = list->u.array.len;
    /* Every route is checked before anything is allocated for the items. */
    for (size_t i = 0; i < n; i++) {
        yajl_val item = list->u.array.values[i];
        const char *path[] = { "route", NULL };
        if (!YAJL_IS_OBJECT(item)) {
            *code = "invalid_option";
            buf_printf(msg, "'requests[%zu]' must be an object {\"route\", \"url\", \"options\"}",
                       i);
            return RC_INVALID;
        }
        snprintf(field, sizeof field, "requests[%zu].route", i);
        if (route_of(yajl_tree_get(item, path, yajl_t_any), field, code, msg) == NULL)
            return RC_INVALID;
    }
    if ((b->items = calloc(n, sizeof *b->items)) == NULL)
        return RC_ERROR;
    b->nitems = n;
    for (size_t i = 0; i < n; i++) {
        yajl_val item = list->u.array.values[i];
        struct batch_item *it = &b->items[i];
        snprintf(it->url_field, sizeof it->url_field, "requests[%zu].url", i);
        snprintf(it->options_field, sizeof it->options_field, "requests[%zu].options.", i);
        snprintf(field, sizeof field, "requests[%zu].route", i);
        for (size_t k = 0; k < item->u.object.len; k++) {
            const char *key = item->u.object.keys[k];
            yajl_val v = item->u.object.values[k];
            if (strcmp(key, "route") == 0) {
                /* Checked above, unless the key is repeated. */
                const struct batch_route *rt =
                    YAJL_IS_STRING(v) ? batch_route_find(v->u.string) : NULL;
                if (rt != NULL && it->route == NULL)
                    it->route = rt->name;
                else
                    item_error(it, "invalid_option", "'%s' is given twice or is invalid", field);
            } else if (strcmp(key, "url") == 0) {
                if (body_json_option(&it->req, "url", v) != RC_OK)
                    return RC_ERROR;
            } else if (strcmp(key, "options") == 0) {
                snprintf(field, sizeof field, "requests[%zu].options", i);
                if (item_options(it, v, field) != RC_OK)
                    return RC_ERROR;
            } else {
                snprintf(field, sizeof field, "requests[%zu].%.32s", i, key);
                item_error(it, "unknown_option",
                           "unknown field '%s'; an item takes route, url and options", field);
            }
        }
    }
    return RC_OK;
}

/* The short form: {"route", "urls": [...], "options"}. */
static int
parse_short(yajl_val route, yajl_val urls, yajl_val opts, int max_items, struct batch *b,
            const char **code, struct buf *msg)
{
    const char *name;
    size_t n;

    if ((name = route_of(route, "route", code, msg)) == NULL)
        return RC_INVALID;
    if (urls == NULL) {
        *code = "invalid_option";
        buf_puts(msg, "'urls' is missing: the short form takes 'route', 'urls' (a list of URLs) "
                      "and 'options'");
        return RC_INVALID;
    }
    if (count_ok(urls, "urls", max_items, code, msg) != RC_OK)
        return RC_INVALID;
    if (opts != NULL && !YAJL_IS_NULL(opts) && !YAJL_IS_OBJECT(opts)) {
        *code = "invalid_option";
        buf_puts(msg, "'options' must be a JSON object of option names to values");
        return RC_INVALID;
    }
    n = urls->u.array.len;
    if ((b->items = calloc(n, sizeof *b->items)) == NULL)
        return RC_ERROR;
    b->nitems = n;
    for (size_t i = 0; i < n; i++) {
        struct batch_item *it = &b->items[i];
        it->route = name;
        snprintf(it->url_field, sizeof it->url_field, "urls[%zu]", i);
        snprintf(it->options_field, sizeof it->options_field, "options.");
        if (body_json_option(&it->req, "url", urls->u.array.values[i]) != RC_OK ||
            item_options(it, opts, "options") != RC_OK)
            return RC_ERROR;
    }
    return RC_OK;
}

int
batch_parse(const char *data, size_t len, int max_items, struct batch *b, const char **code,
            struct buf *msg)
{
    yajl_val root = NULL, requests = NULL, route = NULL, urls = NULL, opts = NULL;
    char *text, err[256];
    int rc = RC_INVALID;

    memset(b, 0, sizeof *b);
    if ((text = strndup(data, len)) == NULL)
        return RC_ERROR;
    err[0] = '\0';
    root = yajl_tree_parse(text, err, sizeof err);
    free(text);
    if (root == NULL || !YAJL_IS_OBJECT(root)) {
        /* yajl adds the text around the error on further lines. */
        size_t elen = strcspn(err, "\n");
        while (elen > 0 && isspace((unsigned char)err[elen - 1]))
            elen--;
        *code = "invalid_json";
        if (root == NULL)
            buf_printf(msg, "the JSON body is malformed: %.*s", (int)elen,
                       elen ? err : "parse error");
        else
            buf_puts(msg, "the JSON body must be an object: {\"requests\": [{\"route\", \"url\", "
                          "\"options\"}, ...]} or {\"route\", \"urls\": [...], \"options\"}");
        goto out;
    }
    for (size_t i = 0; i < root->u.object.len; i++) {
        const char *k = root->u.object.keys[i];
        yajl_val v = root->u.object.values[i];
        if (strcmp(k, "requests") == 0) {
            requests = v;
        } else if (strcmp(k, "route") == 0) {
            route = v;
        } else if (strcmp(k, "urls") == 0) {
            urls = v;
        } else if (strcmp(k, "options") == 0) {
            opts = v;
        } else {
            *code = "unknown_option";
            buf_printf(msg, "unknown field '%.80s' in the batch body; it takes 'requests', or "
                            "'route', 'urls' and 'options'", k);
            goto out;
        }
    }
    if (requests != NULL && (route != NULL || urls != NULL || opts != NULL)) {
        *code = "invalid_option";
        buf_puts(msg, "'requests' cannot be mixed with the short form ('route', 'urls', "
                      "'options'): options go in each item");
        goto out;
    }
    if (requests != NULL)
        rc = parse_requests(requests, max_items, b, code, msg);
    else if (route != NULL || urls != NULL)
        rc = parse_short(route, urls, opts, max_items, b, code, msg);
    else {
        *code = "invalid_option";
        buf_puts(msg, "the batch has no items: give 'requests' (a list of {\"route\", \"url\", "
                      "\"options\"}) or 'route' and 'urls'");
    }
out:
    yajl_tree_free(root);
    if (rc != RC_OK)
        batch_free(b);
    return rc;
}

void
batch_free(struct batch *b)
{
    for (size_t i = 0; i < b->nitems; i++)
        request_free(&b->items[i].req);
    free(b->items);
    b->items = NULL;
    b->nitems = 0;
}

/* ---- lines --------------------------------------------------------------- */

void
batch_message(const char *msg, const struct batch_item *it, struct buf *out)
{
    static const char mark[] = "option '";
    const char *p = msg, *q;

    while ((q = strstr(p, mark)) != NULL) {
        size_t n;
        q += sizeof mark - 1;
        buf_append(out, p, (size_t)(q - p));
        n = strcspn(q, "'");
        if (n == 3 && strncmp(q, "url", 3) == 0) {
            buf_puts(out, it->url_field);
        } else if (n > 0) {
            buf_puts(out, it->options_field);
            buf_append(out, q, n);
        }
        p = q + n;
    }
    buf_puts(out, p);
}

static int
is_text(const char *content_type)
{
    return strncasecmp(content_type, "text/", 5) == 0 ||
           strncasecmp(content_type, "application/json", 16) == 0;
}

int
batch_line(struct buf *line, const struct batch_result *res)
{
    size_t start = line->len;
    int rc;

    buf_printf(line, "{\"index\":%zu,\"url\":", res->index);
    if (res->url != NULL)
        buf_json_string(line, res->url);
    else
        buf_puts(line, "null");
    if (res->request_id != NULL) {
        buf_puts(line, ",\"request_id\":");
        buf_json_string(line, res->request_id);
    }
    buf_printf(line, ",\"status\":%d,", res->status);
    if (res->error_code != NULL) {
        buf_puts(line, "\"error\":{\"code\":");
        buf_json_string(line, res->error_code);
        buf_puts(line, ",\"message\":");
        buf_json_string(line, res->error_message != NULL ? res->error_message : "");
        rc = buf_puts(line, "}}\n");
    } else {
        const char *ct = res->content_type != NULL ? res->content_type
                                                   : "application/octet-stream";
        buf_puts(line, "\"content_type\":");
        buf_json_string(line, ct);
        if (res->engine != NULL) {
            buf_puts(line, ",\"engine\":");
            buf_json_string(line, res->engine);
        }
        if (is_text(ct)) {
            buf_puts(line, ",\"body\":");
            rc = buf_json_stringn(line, res->body != NULL ? res->body : "", res->len);
        } else {
            buf_puts(line, ",\"body_base64\":\"");
            rc = base64_encode(res->body != NULL ? res->body : "", res->len, line);
            if (rc == RC_OK)
                rc = buf_puts(line, "\"");
        }
        if (rc == RC_OK)
            rc = buf_puts(line, "}\n");
    }
    /* Each piece either fits or leaves the buffer alone: a failure of an
     * earlier one shows up in the last. Undo the partial line. */
    if (rc != RC_OK) {
        line->len = start;
        if (line->data != NULL)
            line->data[start] = '\0';
    }
    return rc;
}

/* ---- running ------------------------------------------------------------- */

struct batch_run {
    struct request *r;          /* the batch request; borrowed */
    struct batch *b;
    int client_fd;
    pthread_mutex_t mu;         /* next, browser_busy */
    pthread_cond_t browser_freed;
    pthread_mutex_t out;        /* writing to r's connection */
    size_t next;                /* the next item to start */
    int browser_busy, browser_max;
    atomic_int stop;            /* the client went away: start no more items */
    atomic_int done;            /* lines written */
};

/* Wait for one of the batch's browser places; 0 if the client left first. */
static int
gate_enter(struct batch_run *run)
{
    int ok;

    pthread_mutex_lock(&run->mu);
    while (run->browser_busy >= run->browser_max && !run->stop) {
        struct timespec ts;
        /* Wake every 100 ms to notice a client that left, as the pool does. */
        clock_deadline_timespec(clock_ms() + 100, &ts);
        pthread_cond_timedwait(&run->browser_freed, &run->mu, &ts);
        if (fcgi_fd_closed(run->client_fd))
            run->stop = 1;
    }
    ok = !run->stop;
    if (ok)
        run->browser_busy++;
    pthread_mutex_unlock(&run->mu);
    return ok;
}

static void
gate_leave(struct batch_run *run)
{
    pthread_mutex_lock(&run->mu);
    run->browser_busy--;
    pthread_cond_signal(&run->browser_freed);
    pthread_mutex_unlock(&run->mu);
}

/* The item's url as given (the last "url" parameter), or NULL. */
static const char *
item_url(const struct batch_item *it)
{
    const char *url = NULL;
    for (size_t i = 0; i < it->req.nparams; i++)
        if (strcmp(it->req.params[i].name, "url") == 0)
            url = it->req.params[i].value;
    return url;
}

/* The value of header 'name' in "Name: value\r\n" lines, into out. */
static const char *
header_value(const char *headers, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name);

    for (const char *p = headers; *p != '\0';) {
        size_t n = strcspn(p, "\r\n");
        if (n > nlen + 1 && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;
            while (*v == ' ')
                v++;
            snprintf(out, outlen, "%.*s", (int)(p + n - v), v);
            return out;
        }
        p += n;
        while (*p == '\r' || *p == '\n')
            p++;
    }
    return NULL;
}

/* Send one line; a client that is gone stops the batch. */
static void
write_line(struct batch_run *run, const struct buf *line)
{
    pthread_mutex_lock(&run->out);
    if (!run->stop) {
        if (respond_body(run->r, line->data, line->len) != RC_OK ||
            respond_flush(run->r) != RC_OK)
            run->stop = 1;
        else
            run->done++;
    }
    pthread_mutex_unlock(&run->out);
}

static void
run_item(struct batch_run *run, size_t index)
{
    struct worker *w = run->r->worker;
    struct batch_item *it = &run->b->items[index];
    const struct batch_route *rt = it->route != NULL ? batch_route_find(it->route) : NULL;
    struct respond_capture cap;
    struct batch_result res;
    struct buf line, msg;
    char engine[16];
    int gated = 0;

    respond_capture_init(&cap, (size_t)w->conf->max_output_size);
    buf_init(&msg, 4096);
    buf_init(&line, (size_t)w->conf->max_output_size * 2 + 65536);
    request_init_item(&it->req, run->r, index, it->route != NULL ? it->route : "batch", &cap);
    if (fcgi_fd_closed(run->client_fd)) {
        run->stop = 1;
        goto out;
    }
    if (it->error_code != NULL || rt == NULL) {
        respond_error(&it->req, it->error_code != NULL ? it->error_code : "internal", "%s",
                      it->error_message);
    } else if (w->stopping) {
        respond_error_h(&it->req, "overloaded", NULL, "the worker is shutting down; item %zu "
                        "was not started", index);
    } else if (rt->needs_browser && w->pool == NULL) {
        respond_error(&it->req, "not_found", "/%s is not served by this worker (browsers = 0)",
                      it->route);
    } else if (rt->needs_browser && !(gated = gate_enter(run))) {
        goto out;
    } else {
        /* The item's timeout counts from now, not from the batch's start. */
        it->req.started_ms = clock_ms();
        log_msg(LOG_DEBUG, "[request %s] batch item /%s", it->req.id, it->route);
        rt->handler(&it->req);
    }
    if (!it->req.headers_sent)
        respond_error(&it->req, "internal", "the handler wrote no response");
    if (it->req.status == 499) {
        /* The client left while the item waited or rendered. */
        run->stop = 1;
        goto out;
    }

    memset(&res, 0, sizeof res);
    res.index = index;
    res.url = item_url(it);
    res.request_id = it->req.id;
    res.status = it->req.status;
    if (cap.too_large) {
        res.status = respond_status_of("output_too_large");
        res.error_code = "output_too_large";
        buf_printf(&msg, "the response of item %zu is larger than max_output_size (%lld bytes)",
                   index, (long long)w->conf->max_output_size);
        res.error_message = msg.data;
    } else if (cap.error_code[0] != '\0') {
        res.error_code = cap.error_code;
        batch_message(cap.error_message, it, &msg);
        res.error_message = msg.data != NULL ? msg.data : cap.error_message;
    } else {
        res.content_type = cap.content_type;
        res.engine = header_value(cap.extra_headers, "X-Render-Engine", engine, sizeof engine);
        res.body = cap.body.data;
        res.len = cap.body.len;
    }
    if (batch_line(&line, &res) != RC_OK) {
        /* Only memory can fail here: say so in a line that surely fits. */
        buf_reset(&line);
        memset(&res, 0, sizeof res);
        res.index = index;
        res.request_id = it->req.id;
        res.status = respond_status_of("internal");
        res.error_code = "internal";
        res.error_message = "out of memory encoding the item's response";
        batch_line(&line, &res);
    }
    /* The line is freed before the slot's clean-up, like the request
     * loop's response: the client has it first. */
    respond_capture_free(&cap);
    write_line(run, &line);
    buf_free(&line);
out:
    if (it->req.slot != NULL) {
        pool_checkin(w->pool, it->req.slot, it->req.slot_healthy);
        it->req.slot = NULL;
    }
    if (gated)
        gate_leave(run);
    respond_capture_free(&cap);
    buf_free(&line);
    buf_free(&msg);
    request_free(&it->req);
}

static void *
item_thread(void *arg)
{
    struct batch_run *run = arg;

    for (;;) {
        size_t i;
        pthread_mutex_lock(&run->mu);
        if (run->stop || run->next >= run->b->nitems) {
            pthread_mutex_unlock(&run->mu);
            break;
        }
        i = run->next++;
        pthread_mutex_unlock(&run->mu);
        run_item(run, i);
    }
    return NULL;
}

static void
batch_run(struct request *r, struct batch *b)
{
    const struct conf_pool *c = r->worker->conf;
    struct batch_run run;
    pthread_t *tids = NULL;
    size_t nthreads = b->nitems < (size_t)c->batch_concurrency ? b->nitems
                                                                : (size_t)c->batch_concurrency;
    size_t started = 0;

    memset(&run, 0, sizeof run);
    run.r = r;
    run.b = b;
    run.client_fd = fcgi_conn_fd(r->conn);
    run.browser_max = c->browsers * c->pages_per_browser;
    if (run.browser_max < 1)
        run.browser_max = 1;
    pthread_mutex_init(&run.mu, NULL);
    pthread_mutex_init(&run.out, NULL);
    clock_cond_init(&run.browser_freed);
    /* This thread is one of the item threads; the others are started here. */
    if (nthreads > 1 && (tids = calloc(nthreads - 1, sizeof *tids)) != NULL) {
        for (; started < nthreads - 1; started++) {
            if (pthread_create(&tids[started], NULL, item_thread, &run) != 0) {
                log_errno(LOG_WARN, "[request %s] batch: cannot start item thread %zu; "
                          "running with %zu", r->id, started + 1, started + 1);
                break;
            }
        }
    }
    item_thread(&run);
    for (size_t i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    free(tids);
    if (run.stop)
        log_msg(LOG_INFO, "[request %s] batch: the client went away after %d of %zu items",
                r->id, (int)run.done, b->nitems);
    else
        log_msg(LOG_INFO, "[request %s] batch: %zu items answered", r->id, b->nitems);
    pthread_cond_destroy(&run.browser_freed);
    pthread_mutex_destroy(&run.out);
    pthread_mutex_destroy(&run.mu);
}

void
handle_batch(struct request *r)
{
    const struct conf_pool *c = r->worker->conf;
    const char *ct = fcgi_param(r->conn, "CONTENT_TYPE"), *code = NULL;
    struct buf body, msg;
    struct batch b;
    size_t n;

    memset(&b, 0, sizeof b);
    buf_init(&body, 0);
    buf_init(&msg, 2048);
    if (ct == NULL)
        ct = "";
    n = strcspn(ct, "; ");
    if (n != strlen("application/json") || strncasecmp(ct, "application/json", n) != 0) {
        respond_error(r, "unsupported_media_type", "a /batch body must be application/json, not "
                      "'%.80s'", ct[0] ? ct : "(none)");
        goto out;
    }
    /* Everything is in the body: a query string option is not taken. */
    if (r->nparams > 0) {
        respond_error(r, "unknown_option", "unknown option '%.80s' for /batch: the items and "
                      "their options go in the JSON body", r->params[0].name);
        goto out;
    }
    buf_free(&body);
    if (body_read(r, (size_t)c->max_body, &body, &code, &msg) != RC_OK ||
        batch_parse(body.data != NULL ? body.data : "", body.len, c->batch_max_items, &b, &code,
                    &msg) != RC_OK) {
        if (code == NULL) {
            code = "internal";
            buf_puts(&msg, "out of memory reading the batch");
        }
        respond_error(r, code, "%s", msg.data);
        goto out;
    }
    buf_free(&body);
    /* nginx passes the lines on as they come (fastcgi_buffering off in our
     * examples; this header asks the same of any nginx). */
    if (respond_start(r, 200, "application/x-ndjson", "X-Accel-Buffering: no\r\n") != RC_OK ||
        respond_flush(r) != RC_OK) {
        log_msg(LOG_INFO, "[request %s] batch: the client went away before the first item",
                r->id);
        goto out;
    }
    batch_run(r, &b);
out:
    batch_free(&b);
    buf_free(&body);
    buf_free(&msg);
}
