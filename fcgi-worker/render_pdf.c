/* render_pdf.c — the /pdf route: validate, check the URL, borrow a page slot,
 * navigate, print with transferMode ReturnAsStream and copy the stream to
 * the client chunk by chunk (IO.read), never holding the PDF whole. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "cdp.h"
#include "clock.h"
#include "handlers.h"
#include "log.h"
#include "options.h"
#include "page.h"
#include "policy.h"
#include "pool.h"
#include "rc.h"
#include "render.h"
#include "request.h"
#include "respond.h"
#include "worker.h"

/* Bytes asked of Chromium per IO.read; each arrives base64-encoded. */
#define PDF_CHUNK (512 * 1024)

static void
print_params(const struct render_opts *o, struct buf *p)
{
    buf_printf(p,
               "{\"transferMode\":\"ReturnAsStream\",\"landscape\":%s,\"printBackground\":%s,"
               "\"paperWidth\":%.4f,\"paperHeight\":%.4f,\"marginTop\":%.4f,"
               "\"marginRight\":%.4f,\"marginBottom\":%.4f,\"marginLeft\":%.4f,"
               "\"scale\":%.3f,\"preferCSSPageSize\":%s,\"generateTaggedPDF\":%s,"
               "\"generateDocumentOutline\":%s",
               o->landscape ? "true" : "false", o->print_background ? "true" : "false",
               o->paper_width_in, o->paper_height_in, o->margin_in[0], o->margin_in[1],
               o->margin_in[2], o->margin_in[3], o->scale,
               o->prefer_css_page_size ? "true" : "false", o->tagged ? "true" : "false",
               o->outline ? "true" : "false");
    if (o->page_ranges != NULL) {
        buf_puts(p, ",\"pageRanges\":");
        buf_json_string(p, o->page_ranges);
    }
    buf_puts(p, "}");
}

/* Content-Disposition for 'filename', keeping only harmless characters in
 * the plain form and giving the exact name in RFC 5987 form. */
static void
disposition(const char *filename, struct buf *h)
{
    static const char hex[] = "0123456789ABCDEF";

    buf_puts(h, "Content-Disposition: inline; filename=\"");
    for (const char *c = filename; *c != '\0'; c++)
        buf_append(h, (*c >= 0x20 && *c < 0x7f && *c != '"' && *c != '\\') ? c : "_", 1);
    buf_puts(h, "\"; filename*=UTF-8''");
    for (const unsigned char *c = (const unsigned char *)filename; *c != '\0'; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
            strchr("-._~", *c) != NULL) {
            buf_append(h, c, 1);
        } else {
            char e[3] = { '%', hex[*c >> 4], hex[*c & 15] };
            buf_append(h, e, 3);
        }
    }
    buf_puts(h, "\r\n");
}

/* Copy the CDP stream 'handle' to the client. The first chunk is read before
 * the headers go out, so a failure up to there is still a clean error. */
static int
stream_to_client(struct request *r, struct slot *s, const char *handle, const char *headers,
                 int64_t deadline_ms, struct buf *err)
{
    struct buf p;
    unsigned char *bin = NULL;
    size_t total = 0;
    int rc = RC_OK, eof = 0;

    buf_init(&p, 1024);
    buf_puts(&p, "{\"handle\":");
    buf_json_string(&p, handle);
    buf_printf(&p, ",\"size\":%d}", PDF_CHUNK);
    while (!eof && rc == RC_OK) {
        yajl_val v = NULL;
        const char *data;
        long n;

        if ((rc = page_call(s, "IO.read", p.data, deadline_ms, &v, err)) != RC_OK)
            break;
        data = cdp_get_string(v, "data", NULL);
        eof = cdp_get_bool(v, 0, "eof", NULL);
        if (data == NULL) {
            yajl_tree_free(v);
            rc = RC_ERROR;
            buf_puts(err, "IO.read returned no data");
            break;
        }
        size_t dlen = strlen(data);
        if (cdp_get_bool(v, 0, "base64Encoded", NULL)) {
            if ((bin = realloc(bin, (dlen / 4 + 1) * 3)) == NULL ||
                (n = base64_decode(data, dlen, bin)) < 0) {
                yajl_tree_free(v);
                rc = RC_ERROR;
                buf_puts(err, "IO.read returned invalid base64");
                break;
            }
        } else {
            if ((bin = realloc(bin, dlen + 1)) == NULL) {
                yajl_tree_free(v);
                rc = RC_ERROR;
                break;
            }
            memcpy(bin, data, dlen);
            n = (long)dlen;
        }
        yajl_tree_free(v);
        if (!r->headers_sent && (rc = respond_start(r, 200, "application/pdf", headers)) != RC_OK)
            break;
        if (n > 0 && (rc = respond_body(r, bin, (size_t)n)) != RC_OK)
            break;
        total += (size_t)n;
    }
    free(bin);
    buf_reset(&p);
    buf_puts(&p, "{\"handle\":");
    buf_json_string(&p, handle);
    buf_puts(&p, "}");
    page_call(s, "IO.close", p.data, deadline_ms, NULL, NULL);
    buf_free(&p);
    if (rc == RC_OK)
        log_msg(LOG_DEBUG, "[request %s] streamed %zu PDF bytes", r->id, total);
    return rc;
}

void
handle_pdf(struct request *r)
{
    struct render_opts o;
    struct buf msg, p, headers;
    yajl_val v = NULL;
    const char *code = NULL, *handle;
    struct slot *s = NULL;
    int64_t deadline;
    int rc, tstatus;

    buf_init(&msg, 2048);
    buf_init(&p, 64 * 1024);
    buf_init(&headers, 4096);
    if (render_begin(r, ROUTE_PDF, &o, &s, &deadline) != RC_OK)
        goto out;

    if (page_navigate(s, &o, deadline, &code, &msg, &tstatus) != RC_OK) {
        render_fail(r, s, code, &msg, tstatus);
        goto out;
    }
    print_params(&o, &p);
    rc = page_call(s, "Page.printToPDF", p.data, deadline, &v, &msg);
    if (rc != RC_OK) {
        render_call_failed(r, s, rc, "Page.printToPDF", &o, &msg);
        goto out;
    }
    if ((handle = cdp_get_string(v, "stream", NULL)) == NULL) {
        respond_error(r, "render_failed", "Page.printToPDF returned no stream");
        goto out;
    }
    if (o.filename != NULL)
        disposition(o.filename, &headers);
    buf_reset(&msg);
    rc = stream_to_client(r, s, handle, headers.len ? headers.data : NULL, deadline, &msg);
    if (rc != RC_OK && rc != RC_CLOSED)
        render_call_failed(r, s, rc, "IO.read", &o, &msg);
    else if (rc == RC_CLOSED && !r->headers_sent)
        render_call_failed(r, s, rc, "IO.read", &o, &msg);
out:
    yajl_tree_free(v);
    buf_free(&msg);
    buf_free(&p);
    buf_free(&headers);
}
