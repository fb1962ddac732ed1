/* render_extract.c — the /extract route: which engine serves a request,
 * and both engines' steps.
 *
 * engine=fetch: fetch.c downloads the page with libcurl (or takes the posted
 * page), html_parse.c parses it once, and the one HTML converter (convert.c)
 * writes text, markdown, the source (format=html) or JSON. No browser.
 * engine=browser: render the page in a page slot, serialize the rendered DOM
 * (hidden elements marked) and hand it to the same converter.
 * engine=auto: the fetch engine first; the browser when the fetch is refused
 * (network error, HTTP status, not HTML, too large, selector not found or
 * not evaluable) or the page looks like it needs JavaScript
 * (fetch_needs_browser); never after url_blocked or a timeout. The rules
 * are written down in docs/extract.md, "Engines". */
#include <stdio.h>
#include <string.h>

#include "body.h"
#include "cdp.h"
#include "clock.h"
#include "convert.h"
#include "css_select.h"
#include "fcgi.h"
#include "fetch.h"
#include "handlers.h"
#include "html_parse.h"
#include "log.h"
#include "options.h"
#include "page.h"
#include "policy.h"
#include "rc.h"
#include "render.h"
#include "request.h"
#include "respond.h"
#include "serve.h"
#include "worker.h"

/* Runs in the page (an isolated world, so the page's own scripts cannot
 * fake the answer): marks what the rendered page does not show, then
 * returns {html, title, url, empty} of the document or of the selected
 * element ('empty': the body, or the element, shows no text; only worked
 * out, with innerText, when __EMPTY__ is true), or null when the selector
 * matches nothing. __SEL__, __MARK__ and __EMPTY__ are replaced before
 * sending. */
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
    "  const shown = sel === null ? document.body : root;"
    "  const empty = __EMPTY__ && (!shown || shown.innerText.trim() === '');"
    "  return { html, title: document.title, url: location.href, empty };"
    "})()";

static const char *const content_types[] = {
    "text/plain; charset=utf-8", "text/markdown; charset=utf-8", "text/html; charset=utf-8",
    "application/json",
};

/* Evaluate the extraction script in an isolated world of the main frame;
 * 'check_empty': also say whether the page shows no text. */
static int
extract_dom(struct slot *s, const struct render_opts *o, int check_empty, int64_t deadline_ms,
            yajl_val *out, struct buf *err)
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
        } else if (strncmp(c, "__EMPTY__", 9) == 0) {
            buf_puts(&js, check_empty ? "true" : "false");
            c += 8;
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
json_body(const struct render_opts *o, const char *engine, const char *final_url, int status,
          const char *title, const struct buf *content, const struct convert_meta *meta,
          struct buf *b)
{
    buf_puts(b, "{\"url\":");
    buf_json_string(b, o->url != NULL ? o->url : "");
    buf_puts(b, ",\"final_url\":");
    buf_json_string(b, final_url);
    buf_printf(b, ",\"status\":%d,\"title\":", status);
    buf_json_string(b, title != NULL ? title : "");
    buf_printf(b, ",\"engine\":\"%s\",\"content\":", engine);
    buf_json_stringn(b, content->data != NULL ? content->data : "", content->len);
    buf_puts(b, ",\"links\":[");
    for (size_t i = 0; meta != NULL && i < meta->nlinks; i++) {
        if (i > 0)
            buf_puts(b, ",");
        buf_json_string(b, meta->links[i]);
    }
    buf_puts(b, "]}\n");
}

/* The converter's options for 'o'. format=json carries the markdown: it
 * keeps the structure (headings, lists, tables, links) that readers of
 * JSON usually want. */
static void
convert_opts_for(const struct request *r, const struct render_opts *o, const char *base_url,
                 struct convert_opts *co)
{
    memset(co, 0, sizeof *co);
    co->format = o->extract_format == EXTRACT_TEXT   ? CONVERT_TEXT
                 : o->extract_format == EXTRACT_HTML ? CONVERT_HTML
                                                     : CONVERT_MARKDOWN;
    co->base_url = base_url;
    co->main_content = o->main_content;
    co->max_output = (size_t)r->worker->conf->max_output_size;
}

/* Answer a conversion that did not give RC_OK (both engines). */
static void
convert_failed(struct request *r, int rc)
{
    if (rc == RC_TOO_LARGE)
        respond_error(r, "output_too_large", "the extracted content is larger than "
                      "max_output_size (%lld bytes), or the page is too large or too deeply "
                      "nested to parse within the converter's time and memory budget",
                      (long long)r->worker->conf->max_output_size);
    else if (rc == RC_INVALID)
        respond_error(r, "render_failed", "the HTML parser could not read this page");
    else
        respond_error(r, "render_failed", "converting the page failed: %s", rc_name(rc));
}

/* The successful answer (both engines): the content, or the JSON. */
static void
extract_respond(struct request *r, const struct render_opts *o, const char *engine,
                const char *final_url, int status, const char *title,
                const struct buf *content, const struct convert_meta *meta)
{
    struct buf body;
    char hdr[64];
    const struct buf *b = content;

    buf_init(&body, (size_t)r->worker->conf->max_output_size + 65536);
    if (o->extract_format == EXTRACT_JSON) {
        json_body(o, engine, final_url, status, title, content, meta, &body);
        b = &body;
    }
    snprintf(hdr, sizeof hdr, "X-Render-Engine: %s\r\n", engine);
    if (respond_start(r, 200, content_types[o->extract_format], hdr) == RC_OK && b->len > 0)
        respond_body(r, b->data, b->len);
    buf_free(&body);
}

/* ---- engine=browser ----------------------------------------------------- */

/* Wait for text in an empty page only when the request named no wait of
 * its own and lets scripts run. */
static int
content_wait_applies(const struct request *r, const struct render_opts *o)
{
    return r->worker->conf->extract_content_wait > 0 && o->javascript && o->wait_for == NULL &&
           o->wait_for_expression == NULL && o->wait_ms == 0 && o->wait_until == WAIT_LOAD;
}

static void
extract_browser(struct request *r, struct render_opts *o, int64_t deadline)
{
    struct buf msg, content;
    struct convert_meta meta = { 0 };
    struct convert_opts co;
    yajl_val v = NULL;
    const char *code = NULL, *html, *final_url, *title;
    struct slot *s = NULL;
    int rc, tstatus, wait;

    buf_init(&msg, 4096);
    buf_init(&content, (size_t)r->worker->conf->max_output_size);
    if (render_checkout(r, o, deadline, &s) != RC_OK)
        goto out;
    if (page_navigate(s, o, deadline, &code, &msg, &tstatus) != RC_OK) {
        render_fail(r, s, code, &msg, tstatus);
        goto out;
    }
    buf_reset(&msg);
    wait = content_wait_applies(r, o);
    rc = extract_dom(s, o, wait, deadline, &v, &msg);
    if (rc == RC_OK && wait && cdp_get_bool(v, 0, "result", "value", "empty", NULL)) {
        /* Nothing to read yet: the page's scripts may still be filling it
         * in (docs/extract.md, "Pages that fill themselves in"). */
        int64_t until = clock_ms() + r->worker->conf->extract_content_wait;
        if (page_wait_text(s, o->selector, until < deadline ? until : deadline) == RC_OK) {
            yajl_tree_free(v);
            v = NULL;
            rc = extract_dom(s, o, 0, deadline, &v, &msg);
        }
    }
    if (rc == RC_INVALID) {
        respond_error(r, "invalid_option", "option 'selector' is not a valid CSS selector: %s",
                      msg.data);
        goto out;
    }
    if (rc != RC_OK) {
        render_call_failed(r, s, rc, "reading the rendered DOM", o, &msg);
        goto out;
    }
    if ((html = cdp_get_string(v, "result", "value", "html", NULL)) == NULL) {
        respond_error(r, "selector_not_found", "no element matches the selector '%s'",
                      o->selector != NULL ? o->selector : "");
        goto out;
    }
    final_url = cdp_get_string(v, "result", "value", "url", NULL);
    title = cdp_get_string(v, "result", "value", "title", NULL);
    if (final_url == NULL)
        final_url = render_target(o);

    if (o->extract_format == EXTRACT_HTML) {
        /* The rendered DOM itself. */
        rc = buf_puts(&content, html);
    } else {
        convert_opts_for(r, o, final_url, &co);
        co.charset = "utf-8";
        rc = convert_html(html, strlen(html), &co, &content, &meta);
    }
    if (rc != RC_OK) {
        convert_failed(r, rc);
        goto out;
    }
    extract_respond(r, o, "browser", final_url, tstatus, title, &content, &meta);
out:
    yajl_tree_free(v);
    convert_meta_free(&meta);
    buf_free(&msg);
    buf_free(&content);
}

/* ---- engine=fetch ------------------------------------------------------- */

/* What extract_fetch() decided. */
enum fetch_outcome {
    FETCH_ANSWERED,  /* a response (success or error) was written */
    FETCH_FALL_BACK, /* engine=auto: let the browser do it */
};

/* With 'fall_back', a refusal other than url_blocked and timeout is
 * FETCH_FALL_BACK instead of an answer; 'reason' says why, for the log. */
#define REFUSE(...)                                                               \
    do {                                                                          \
        if (fall_back) {                                                          \
            snprintf(reason, reason_len, __VA_ARGS__);                            \
            outcome = FETCH_FALL_BACK;                                            \
            goto out;                                                             \
        }                                                                         \
    } while (0)

static enum fetch_outcome
extract_fetch(struct request *r, const struct render_opts *o, int64_t deadline, int fall_back,
              char *reason, size_t reason_len)
{
    struct worker *w = r->worker;
    struct css_selector *sel = NULL;
    struct fetch_result fr;
    struct fetch_page_facts facts;
    struct html_doc doc = { 0 };
    struct convert_meta meta = { 0 };
    struct convert_opts co;
    struct buf msg, content;
    const char *code = NULL, *html, *charset = NULL, *final_url;
    enum fetch_outcome outcome = FETCH_ANSWERED;
    char why[256], hdr[64];
    size_t len;
    int rc, status = 200;

    memset(&fr, 0, sizeof fr);
    buf_init(&msg, 4096);
    buf_init(&content, (size_t)w->conf->max_output_size);
    if (o->selector != NULL) {
        rc = css_select_compile(o->selector, &sel, why, sizeof why);
        if (rc == RC_INVALID) {
            respond_error(r, "invalid_option", "option 'selector' is not a valid CSS "
                          "selector: %s", why);
            goto out;
        }
        if (rc == RC_DECLINED) {
            REFUSE("the selector uses %s", why);
            respond_error(r, "invalid_option", "option 'selector' uses %s, which engine=fetch "
                          "cannot evaluate; it needs engine=browser%s", why,
                          w->pool == NULL ? " (this worker is fetch-only: browsers = 0)" : "");
            goto out;
        }
        if (rc != RC_OK) {
            respond_error(r, "internal", "out of memory compiling the selector");
            goto out;
        }
    }

    if (o->page != NULL) {
        /* A posted page is converted as it is, at the URL the browser engine
         * would give it; UTF-8 as API says for posted HTML. */
        html = o->page->html;
        len = o->page->html_len;
        charset = "utf-8";
        final_url = o->url != NULL ? o->url : SERVE_DEFAULT_URL;
    } else {
        struct fetch_opts fo = {
            .url = o->url,
            .user_agent = o->user_agent,
            .headers = o->headers,
            .cookies = o->cookies,
            .deadline_ms = deadline,
            .timeout_ms = o->timeout_ms,
            .max_size = (size_t)w->conf->max_fetch_size,
            .policy = w->policy,
            .client_fd = fcgi_conn_fd(r->conn),
        };
        rc = fetch_page(&fo, &fr, &code, &msg);
        status = fr.status;
        final_url = fr.final_url != NULL ? fr.final_url : o->url;
        if (rc == RC_DECLINED) {        /* client_gone: nobody to answer */
            render_fail(r, NULL, code, &msg, 0);
            goto out;
        }
        if (rc == RC_BLOCKED || rc == RC_TIMEOUT || rc == RC_ERROR) {
            /* The policy's and the deadline's word is final: the browser
             * would be refused the same, or have no time left. */
            respond_error(r, code, "%s", msg.data);
            goto out;
        }
        if (rc == RC_OK || (rc == RC_TOO_LARGE && o->fail_on_status && status >= 400)) {
            if (o->fail_on_status && status >= 400) {
                REFUSE("the fetch got HTTP %d", status);
                buf_reset(&msg);
                buf_printf(&msg, "the target %s answered HTTP %d", final_url, status);
                snprintf(hdr, sizeof hdr, "X-Target-Status: %d\r\n", status);
                respond_error_h(r, "target_http_status", hdr, "%s", msg.data);
                goto out;
            }
        }
        if (rc != RC_OK) {
            REFUSE("%s", msg.data);
            respond_error(r, code, "%s", msg.data);
            goto out;
        }
        if (!fr.is_html) {
            REFUSE("the fetched page is %s", fr.content_type);
            respond_error(r, "unsupported_content_type", "the target %s is %s, not HTML: "
                          "engine=fetch converts text/html and application/xhtml+xml only "
                          "(engine=browser renders other types)", final_url,
                          fr.content_type != NULL ? fr.content_type : "?");
            goto out;
        }
        html = fr.body.data != NULL ? fr.body.data : "";
        len = fr.body.len;
        charset = fr.charset[0] != '\0' ? fr.charset : NULL;
    }

    rc = html_parse(html, len, charset, &doc);
    if (rc == RC_INVALID && charset != NULL && o->page == NULL) {
        /* An unknown charset in the header: ignored, as browsers do. */
        html_doc_free(&doc);
        memset(&doc, 0, sizeof doc);
        rc = html_parse(html, len, NULL, &doc);
    }
    if (rc != RC_OK) {
        convert_failed(r, rc);
        goto out;
    }
    if (fall_back && o->javascript) {
        fetch_page_facts(doc.output->root, &facts);
        if (fetch_needs_browser(&facts, why, sizeof why))
            REFUSE("the page looks like it needs JavaScript: %s", why);
    }
    convert_opts_for(r, o, final_url, &co);
    co.selector = sel;
    rc = convert_doc(&doc, &co, &content, &meta);
    if (rc == RC_NOT_FOUND) {
        REFUSE("no element matches the selector in the fetched page");
        respond_error(r, "selector_not_found", "no element matches the selector '%s' in the "
                      "fetched page", o->selector);
        goto out;
    }
    if (rc != RC_OK) {
        convert_failed(r, rc);
        goto out;
    }
    extract_respond(r, o, "fetch", final_url, status, meta.title, &content, &meta);
out:
    css_select_free(sel);
    html_doc_free(&doc);
    convert_meta_free(&meta);
    fetch_result_free(&fr);
    buf_free(&msg);
    buf_free(&content);
    return outcome;
}

/* ---- the route ---------------------------------------------------------- */

void
handle_extract(struct request *r)
{
    struct render_opts o;
    const char *browser_opt;
    char reason[512];
    int64_t deadline;

    if (render_prepare(r, ROUTE_EXTRACT, &o) != RC_OK)
        return;
    deadline = r->started_ms + o.timeout_ms;
    browser_opt = options_browser_only(&o);
    if (o.engine == ENGINE_FETCH && browser_opt != NULL) {
        respond_error(r, "invalid_option", "option '%s' needs engine=browser: engine=fetch "
                      "does not run a browser", browser_opt);
        return;
    }
    if (o.engine != ENGINE_BROWSER && browser_opt == NULL) {
        int fall_back = o.engine == ENGINE_AUTO && r->worker->pool != NULL;
        reason[0] = '\0';
        if (extract_fetch(r, &o, deadline, fall_back, reason, sizeof reason) == FETCH_ANSWERED)
            return;
        log_msg(LOG_INFO, "[request %s] engine=auto: the browser renders %s: %s", r->id,
                render_target(&o), reason);
    }
    if (r->worker->pool == NULL) {
        /* A fetch-only worker has no browser route (API.md §5). */
        if (o.engine == ENGINE_BROWSER)
            respond_error(r, "not_found", "option 'engine' value 'browser' is not served by this "
                          "fetch-only worker (browsers = 0); use engine=fetch or engine=auto");
        else
            respond_error(r, "not_found", "option '%s' needs the browser engine, which this "
                          "fetch-only worker (browsers = 0) does not have", browser_opt);
        return;
    }
    extract_browser(r, &o, deadline);
}
