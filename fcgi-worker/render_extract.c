/* render_extract.c — the /extract route with the browser engine: render the
 * page, serialize the rendered DOM (hidden elements marked), and hand it to
 * the one HTML converter (convert.c) for text or markdown; or return the DOM
 * itself (format=html), or everything as JSON (format=json). */
#include <stdio.h>
#include <string.h>

#include "cdp.h"
#include "convert.h"
#include "handlers.h"
#include "log.h"
#include "options.h"
#include "page.h"
#include "rc.h"
#include "render.h"
#include "request.h"
#include "respond.h"
#include "worker.h"

/* Runs in the page (an isolated world, so the page's own scripts cannot
 * fake the answer): marks what the rendered page does not show, then
 * returns {html, title, url} of the document or of the selected element,
 * or null when the selector matches nothing. __SEL__ and __MARK__ are
 * replaced before sending. */
static const char extract_js[] =
    "(() => {"
    "  const sel = __SEL__;"
    "  const root = sel === null ? document.documentElement : document.querySelector(sel);"
    "  if (root === null) return null;"
    "  if (__MARK__) {"
    "    for (const el of (sel === null ? document : root).querySelectorAll('*')) {"
    "      const cs = getComputedStyle(el);"
    "      if (cs.display === 'none' || cs.visibility === 'hidden')"
    "        el.setAttribute('data-rcgi-hidden', '1');"
    "    }"
    "    if (sel !== null) {"
    "      const cs = getComputedStyle(root);"
    "      if (cs.display === 'none' || cs.visibility === 'hidden')"
    "        root.setAttribute('data-rcgi-hidden', '1');"
    "    }"
    "  }"
    "  let html = root.outerHTML;"
    "  if (sel === null && document.doctype) html = '<!DOCTYPE html>' + html;"
    "  return { html, title: document.title, url: location.href };"
    "})()";

static const char *const content_types[] = {
    "text/plain; charset=utf-8", "text/markdown; charset=utf-8", "text/html; charset=utf-8",
    "application/json",
};

/* Evaluate the extraction script in an isolated world of the main frame. */
static int
extract_dom(struct slot *s, const struct render_opts *o, int64_t deadline_ms, yajl_val *out,
            struct buf *err)
{
    struct buf js, p;
    yajl_val v = NULL;
    const char *mark = o->extract_format == EXTRACT_HTML ? "false" : "true";
    int rc;
    long ctx;

    buf_init(&js, 1 << 20);
    buf_init(&p, 1 << 20);
    /* An isolated world sees the same DOM but not the page's JS globals. */
    buf_puts(&p, "{\"frameId\":");
    buf_json_string(&p, s->target_id);
    buf_puts(&p, ",\"worldName\":\"rendercgi\"}");
    if ((rc = page_call(s, "Page.createIsolatedWorld", p.data, deadline_ms, &v, err)) != RC_OK)
        goto out;
    ctx = (long)cdp_get_number(v, -1, "executionContextId", NULL);
    yajl_tree_free(v);
    v = NULL;

    for (const char *c = extract_js; *c != '\0'; c++) {
        if (strncmp(c, "__SEL__", 7) == 0) {
            if (o->selector != NULL)
                buf_json_string(&js, o->selector);
            else
                buf_puts(&js, "null");
            c += 6;
        } else if (strncmp(c, "__MARK__", 8) == 0) {
            buf_puts(&js, mark);
            c += 7;
        } else {
            buf_append(&js, c, 1);
        }
    }
    buf_reset(&p);
    buf_printf(&p, "{\"returnByValue\":true,\"contextId\":%ld,\"expression\":", ctx);
    buf_json_string(&p, js.data);
    buf_puts(&p, "}");
    rc = page_call(s, "Runtime.evaluate", p.data, deadline_ms, out, err);
    if (rc == RC_OK && cdp_get_string(*out, "exceptionDetails", "text", NULL) != NULL) {
        const char *d = cdp_get_string(*out, "exceptionDetails", "exception", "description",
                                       NULL);
        buf_printf(err, "%.300s",
                   d != NULL ? d : cdp_get_string(*out, "exceptionDetails", "text", NULL));
        yajl_tree_free(*out);
        *out = NULL;
        rc = RC_INVALID;
    }
out:
    buf_free(&js);
    buf_free(&p);
    return rc;
}

/* The JSON body of format=json. */
static void
json_body(const struct render_opts *o, const char *final_url, int status, const char *title,
          const struct buf *content, const struct convert_meta *meta, struct buf *b)
{
    buf_puts(b, "{\"url\":");
    buf_json_string(b, o->url != NULL ? o->url : "");
    buf_puts(b, ",\"final_url\":");
    buf_json_string(b, final_url);
    buf_printf(b, ",\"status\":%d,\"title\":", status);
    buf_json_string(b, title != NULL ? title : "");
    buf_puts(b, ",\"engine\":\"browser\",\"content\":");
    buf_json_stringn(b, content->data != NULL ? content->data : "", content->len);
    buf_puts(b, ",\"links\":[");
    for (size_t i = 0; meta != NULL && i < meta->nlinks; i++) {
        if (i > 0)
            buf_puts(b, ",");
        buf_json_string(b, meta->links[i]);
    }
    buf_puts(b, "]}\n");
}

void
handle_extract(struct request *r)
{
    struct render_opts o;
    struct buf msg, content, body;
    struct convert_meta meta = { 0 };
    struct convert_opts co = { 0 };
    yajl_val v = NULL;
    const char *code = NULL, *html, *final_url, *title;
    struct slot *s = NULL;
    int64_t deadline;
    int rc, tstatus;

    buf_init(&msg, 4096);
    buf_init(&content, (size_t)r->worker->conf->max_output_size);
    buf_init(&body, (size_t)r->worker->conf->max_output_size + 65536);
    if (request_param(r, "engine") != NULL && strcmp(request_param(r, "engine"), "fetch") == 0) {
        respond_error(r, "invalid_option", "option 'engine' value 'fetch' is not available in "
                      "this version; use browser or auto");
        goto out;
    }
    if (render_begin(r, ROUTE_EXTRACT, &o, &s, &deadline) != RC_OK)
        goto out;
    if (o.engine == ENGINE_FETCH) { /* from a POST body */
        respond_error(r, "invalid_option", "option 'engine' value 'fetch' is not available in "
                      "this version; use browser or auto");
        goto out;
    }
    if (page_navigate(s, &o, deadline, &code, &msg, &tstatus) != RC_OK) {
        render_fail(r, s, code, &msg, tstatus);
        goto out;
    }
    buf_reset(&msg);
    rc = extract_dom(s, &o, deadline, &v, &msg);
    if (rc == RC_INVALID) {
        respond_error(r, "invalid_option", "option 'selector' is not a valid CSS selector: %s",
                      msg.data);
        goto out;
    }
    if (rc != RC_OK) {
        render_call_failed(r, s, rc, "reading the rendered DOM", &o, &msg);
        goto out;
    }
    if ((html = cdp_get_string(v, "result", "value", "html", NULL)) == NULL) {
        respond_error(r, "selector_not_found", "no element matches the selector '%s'",
                      o.selector != NULL ? o.selector : "");
        goto out;
    }
    final_url = cdp_get_string(v, "result", "value", "url", NULL);
    title = cdp_get_string(v, "result", "value", "title", NULL);
    if (final_url == NULL)
        final_url = render_target(&o);

    if (o.extract_format == EXTRACT_HTML) {
        rc = buf_puts(&content, html);
    } else {
        /* format=json carries the markdown: it keeps the structure (headings,
         * lists, tables, links) that readers of JSON usually want. */
        co.format = o.extract_format == EXTRACT_TEXT ? CONVERT_TEXT : CONVERT_MARKDOWN;
        co.base_url = final_url;
        co.charset = "utf-8";
        co.main_content = o.main_content;
        co.max_output = (size_t)r->worker->conf->max_output_size;
        rc = convert_html(html, strlen(html), &co, &content, &meta);
    }
    if (rc == RC_TOO_LARGE) {
        respond_error(r, "output_too_large", "the extracted content is larger than "
                      "max_output_size (%lld bytes), or the page is too large or too deeply "
                      "nested to parse within the converter's time and memory budget",
                      (long long)r->worker->conf->max_output_size);
        goto out;
    }
    if (rc == RC_INVALID) {
        respond_error(r, "render_failed", "the HTML parser could not read this page");
        goto out;
    }
    if (rc != RC_OK) {
        respond_error(r, "render_failed", "converting the page failed: %s", rc_name(rc));
        goto out;
    }
    if (o.extract_format == EXTRACT_JSON) {
        json_body(&o, final_url, tstatus, title, &content, &meta, &body);
    }
    if (respond_start(r, 200, content_types[o.extract_format], "X-Render-Engine: browser\r\n") ==
        RC_OK) {
        const struct buf *b = o.extract_format == EXTRACT_JSON ? &body : &content;
        if (b->len > 0)
            respond_body(r, b->data, b->len);
    }
out:
    yajl_tree_free(v);
    convert_meta_free(&meta);
    buf_free(&msg);
    buf_free(&content);
    buf_free(&body);
}
