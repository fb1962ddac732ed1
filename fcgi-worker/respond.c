/* respond.c — status lines, headers and error bodies; see respond.h. */
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
    return fcgi_write(r->conn, data, len);
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
