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
#include "pdf_pages.h"
#include "policy.h"
#include "pool.h"
#include "rc.h"
#include "render.h"
#include "request.h"
#include "respond.h"
#include "worker.h"

/* Bytes asked of Chromium per IO.read; each arrives base64-encoded. */
#define PDF_CHUNK (1024 * 1024)

static void
template_json(struct buf *p, const char *tpl)
{
    struct buf t;

    buf_init(&t, 1 << 20);
    if (tpl != NULL && tpl[0] != '\0')
        buf_printf(&t, "<div style=\"font-size:10px;width:100%%;margin:0 0.4in\">%s</div>", tpl);
    else
        buf_puts(&t, "<span></span>");
    buf_json_string(p, t.data);
    buf_free(&t);
}

static void
print_params(const struct render_opts *o, struct buf *p)
{
    /* Templates are drawn inside the margins: give them room when the
     * request left a margin at 0. */
    double m[4] = { o->margin_in[0], o->margin_in[1], o->margin_in[2], o->margin_in[3] };
    if (o->header_template != NULL && m[0] < 0.4)
        m[0] = 0.4;
    if (o->footer_template != NULL && m[2] < 0.4)
        m[2] = 0.4;
    buf_printf(p,
               "{\"transferMode\":\"ReturnAsStream\",\"landscape\":%s,\"printBackground\":%s,"
               "\"paperWidth\":%.4f,\"paperHeight\":%.4f,\"marginTop\":%.4f,"
               "\"marginRight\":%.4f,\"marginBottom\":%.4f,\"marginLeft\":%.4f,"
               "\"scale\":%.3f,\"preferCSSPageSize\":%s,\"generateTaggedPDF\":%s,"
               "\"generateDocumentOutline\":%s",
               o->landscape ? "true" : "false", o->print_background ? "true" : "false",
               o->paper_width_in, o->paper_height_in, m[0], m[1], m[2], m[3], o->scale,
               o->prefer_css_page_size ? "true" : "false",
               /* Chromium builds the outline from the tagged structure only. */
               o->tagged || o->outline ? "true" : "false",
               o->outline ? "true" : "false");
    if (o->page_ranges != NULL) {
        buf_puts(p, ",\"pageRanges\":");
        buf_json_string(p, o->page_ranges);
    }
    if (o->header_template != NULL || o->footer_template != NULL) {
        /* Chromium draws templates at a tiny default size; start them at a
         * readable one, which their own styles may still override. An
         * absent template is empty rather than Chromium's default. */
        buf_puts(p, ",\"displayHeaderFooter\":true,\"headerTemplate\":");
        template_json(p, o->header_template);
        buf_puts(p, ",\"footerTemplate\":");
        template_json(p, o->footer_template);
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

/* One IO.read: the decoded bytes into 'out' (replaced), *eof set. */
static int
io_read(struct slot *s, const char *params, int64_t deadline_ms, struct buf *out, int *eof,
        struct buf *err)
{
    yajl_val v = NULL;
    const char *data;
    size_t dlen;
    long n;
    int rc;

    if ((rc = page_call(s, "IO.read", params, deadline_ms, &v, err)) != RC_OK)
        return rc;
    data = cdp_get_string(v, "data", NULL);
    *eof = cdp_get_bool(v, 0, "eof", NULL);
    buf_reset(out);
    if (data == NULL) {
        yajl_tree_free(v);
        buf_puts(err, "IO.read returned no data");
        return RC_ERROR;
    }
    dlen = strlen(data);
    if (!cdp_get_bool(v, 0, "base64Encoded", NULL)) {
        rc = buf_append(out, data, dlen);
    } else if ((rc = buf_reserve(out, (dlen / 4 + 1) * 3)) == RC_OK) {
        if ((n = base64_decode(data, dlen, (unsigned char *)out->data)) < 0) {
            buf_puts(err, "IO.read returned invalid base64");
            rc = RC_ERROR;
        } else {
            out->len = (size_t)n;
        }
    }
    yajl_tree_free(v);
    return rc;
}

/* Copy the CDP stream 'handle' to the client, within the output limits.
 * The size limit is checked first by reading one byte at that offset; the
 * page count as the bytes pass (the first chunk, read before the headers go
 * out, holds the whole PDF in most cases). After the headers an overrun can
 * only cut the response short. Returns RC_OK, RC_TOO_LARGE with 'err'
 * saying which limit, or a CDP failure. */
static int
stream_to_client(struct request *r, struct slot *s, const char *handle, const char *headers,
                 int64_t deadline_ms, struct buf *err)
{
    const struct conf_pool *c = r->worker->conf;
    struct buf p, chunk;
    struct pdf_pages pages;
    size_t total = 0;
    int rc, eof = 0;

    buf_init(&p, 1024);
    buf_init(&chunk, (size_t)PDF_CHUNK + 16);
    pdf_pages_init(&pages);
    buf_puts(&p, "{\"handle\":");
    buf_json_string(&p, handle);
    buf_printf(&p, ",\"offset\":%lld,\"size\":1}", (long long)c->max_output_size);
    rc = io_read(s, p.data, deadline_ms, &chunk, &eof, err);
    if (rc == RC_OK && chunk.len > 0) {
        buf_printf(err, "the PDF is larger than max_output_size (%lld bytes)",
                   (long long)c->max_output_size);
        rc = RC_TOO_LARGE;
    }
    for (long long offset = 0; rc == RC_OK;) {
        buf_reset(&p);
        buf_puts(&p, "{\"handle\":");
        buf_json_string(&p, handle);
        /* The first read seeks back to the start after the size probe. */
        if (offset == 0)
            buf_printf(&p, ",\"offset\":0,\"size\":%d}", PDF_CHUNK);
        else
            buf_printf(&p, ",\"size\":%d}", PDF_CHUNK);
        if ((rc = io_read(s, p.data, deadline_ms, &chunk, &eof, err)) != RC_OK)
            break;
        offset += (long long)chunk.len;
        pdf_pages_feed(&pages, (const unsigned char *)chunk.data, chunk.len);
        if (pages.pages > c->max_pdf_pages) {
            buf_printf(err, "the PDF has more than max_pdf_pages (%d) pages", c->max_pdf_pages);
            rc = RC_TOO_LARGE;
            break;
        }
        if (!r->headers_sent && (rc = respond_start(r, 200, "application/pdf", headers)) != RC_OK)
            break;
        if (chunk.len > 0 && (rc = respond_body(r, chunk.data, chunk.len)) != RC_OK)
            break;
        total += chunk.len;
        if (eof)
            break;
    }
    buf_reset(&p);
    buf_puts(&p, "{\"handle\":");
    buf_json_string(&p, handle);
    buf_puts(&p, "}");
    page_call(s, "IO.close", p.data, deadline_ms, NULL, NULL);
    buf_free(&p);
    buf_free(&chunk);
    if (rc == RC_OK)
        log_msg(LOG_DEBUG, "[request %s] streamed %zu PDF bytes, %d pages", r->id, total,
                pages.pages);
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
    if (rc == RC_ERROR && strstr(msg.data, "Page range") != NULL) {
        respond_error(r, "invalid_option", "option 'page_ranges' (%s) selects no page of this "
                      "document: %s", o.page_ranges ? o.page_ranges : "", msg.data);
        goto out;
    }
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
    if (rc == RC_TOO_LARGE)
        respond_error(r, "output_too_large", "%s", msg.data);
    else if (rc != RC_OK && (rc != RC_CLOSED || !r->headers_sent))
        render_call_failed(r, s, rc, "IO.read", &o, &msg);
out:
    yajl_tree_free(v);
    buf_free(&msg);
    buf_free(&p);
    buf_free(&headers);
}
