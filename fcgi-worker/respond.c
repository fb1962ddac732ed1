/* respond.c — status lines, headers and error bodies; see respond.h.
 *
 * A request either writes to its FastCGI connection or, when r->capture is
 * set (a /batch item), into that capture: the handlers cannot tell. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fcgi.h"
#include "log.h"
#include "rc.h"
#include "request.h"
#include "respond.h"

static const struct {
    const char *code;
    int status;
} error_table[] = {
    { "missing_url", 400 },
    { "bad_url", 400 },
    { "invalid_option", 400 },
    { "unknown_option", 400 },
    { "invalid_json", 400 },
    { "url_blocked", 403 },
    { "not_found", 404 },
    { "method_not_allowed", 405 },
    { "body_too_large", 413 },
    { "output_too_large", 413 },
    { "unsupported_media_type", 415 },
    { "selector_not_found", 422 },
    { "unsupported_content_type", 422 },
    { "target_unreachable", 502 },
    { "target_http_status", 502 },
    { "target_too_large", 502 },
    { "render_failed", 502 },
    { "overloaded", 503 },
    { "starting", 503 },
    { "timeout", 504 },
    { "internal", 500 },
};

static const char *
status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    }
    return "Unknown";
}

int
respond_status_of(const char *code)
{
    for (size_t i = 0; i < sizeof error_table / sizeof error_table[0]; i++)
        if (strcmp(error_table[i].code, code) == 0)
            return error_table[i].status;
    return 500;
}

void
respond_capture_init(struct respond_capture *c, size_t max)
{
    memset(c, 0, sizeof *c);
    buf_init(&c->body, max);
}

void
respond_capture_free(struct respond_capture *c)
{
    buf_free(&c->body);
}

int
respond_start(struct request *r, int status, const char *content_type,
              const char *extra_headers)
{
    char head[1024];
    int n;

    if (r->headers_sent)
        return RC_CLOSED;
    r->headers_sent = 1;
    r->status = status;
    if (r->capture != NULL) {
        snprintf(r->capture->content_type, sizeof r->capture->content_type, "%s",
                 content_type);
        snprintf(r->capture->extra_headers, sizeof r->capture->extra_headers, "%s",
                 extra_headers != NULL ? extra_headers : "");
        return RC_OK;
    }
    n = snprintf(head, sizeof head,
                 "Status: %d %s\r\nContent-Type: %s\r\nX-Request-Id: %s\r\n"
                 "Cache-Control: no-store\r\n",
                 status, status_text(status), content_type, r->id);
    if (n < 0 || (size_t)n >= sizeof head)
        return RC_ERROR;
    if (fcgi_write(r->conn, head, (size_t)n) != RC_OK)
        return RC_CLOSED;
    if (extra_headers != NULL && fcgi_write(r->conn, extra_headers, strlen(extra_headers)) != RC_OK)
        return RC_CLOSED;
    return fcgi_write(r->conn, "\r\n", 2);
}

int
respond_body(struct request *r, const void *data, size_t len)
{
    if (r->capture != NULL) {
        if (r->capture->too_large)
            return RC_CLOSED;
        if (buf_append(&r->capture->body, data, len) != RC_OK) {
            /* Over the cap (or out of memory): the handler stops writing,
             * and the item is answered output_too_large. */
            r->capture->too_large = 1;
            return RC_CLOSED;
        }
        return RC_OK;
    }
    return fcgi_write(r->conn, data, len);
}

int
respond_flush(struct request *r)
{
    if (r->capture != NULL)
        return RC_OK;
    return fcgi_flush(r->conn);
}

int
respond_json(struct request *r, int status, const struct buf *body)
{
    int rc = respond_start(r, status, "application/json", NULL);
    if (rc == RC_OK && body->len > 0)
        rc = respond_body(r, body->data, body->len);
    return rc;
}

int
respond_error_h(struct request *r, const char *code, const char *extra_headers,
                const char *fmt, ...)
{
    char msg[1024];
    struct buf body;
    int status = respond_status_of(code), rc;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (r->capture != NULL) {
        /* The batch writes the item's error line; an error after the
         * response started replaces what was captured so far. */
        rc = r->headers_sent ? RC_CLOSED : RC_OK;
        log_msg(status >= 500 ? LOG_WARN : LOG_INFO, "[request %s] %s /%s: %d %s: %s", r->id,
                r->method, r->route, status, code, msg);
        snprintf(r->capture->error_code, sizeof r->capture->error_code, "%s", code);
        snprintf(r->capture->error_message, sizeof r->capture->error_message, "%s", msg);
        r->headers_sent = 1;
        r->status = status;
        r->failed = status >= 500;
        return rc;
    }
    if (r->headers_sent) {
        log_msg(LOG_WARN, "[request %s] %s after the response started: %s; cutting it short",
                r->id, code, msg);
        r->failed = 1;
        fcgi_abort(r->conn);
        return RC_CLOSED;
    }
    log_msg(status >= 500 ? LOG_WARN : LOG_INFO, "[request %s] %s /%s: %d %s: %s", r->id,
            r->method, r->route, status, code, msg);
    buf_init(&body, 8192);
    buf_puts(&body, "{\"error\":{\"code\":");
    buf_json_string(&body, code);
    buf_puts(&body, ",\"message\":");
    buf_json_string(&body, msg);
    buf_puts(&body, "},\"request_id\":");
    buf_json_string(&body, r->id);
    buf_puts(&body, "}\n");
    r->failed = status >= 500;
    rc = respond_start(r, status, "application/json", extra_headers);
    if (rc == RC_OK)
        rc = respond_body(r, body.data, body.len);
    buf_free(&body);
    return rc;
}
