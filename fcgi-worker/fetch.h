/* fetch.h — the fetch engine of /extract: one page fetched with libcurl
 * under the URL policy, and the decision whether what came back needs a
 * browser to show its content (engine=auto).
 *
 * fetch_page() checks every connection libcurl makes, redirects included,
 * with policy_check_addr() in libcurl's open-socket callback (DESIGN.md
 * decision 9): the address checked is the address connected to. Only http
 * and https, at most FETCH_MAX_REDIRECTS redirects, no proxy (the
 * environment's http_proxy is ignored), compressed bodies accepted and
 * decoded, the decoded body capped. Thread-safe: one curl handle per call.
 *
 * A struct fetch_result belongs to the caller, who frees it with
 * fetch_result_free() whatever fetch_page() returned. */
#ifndef RCGI_FETCH_H
#define RCGI_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include <gumbo.h>

#include "buf.h"

struct policy;

#define FETCH_MAX_REDIRECTS 10

struct fetch_opts {
    const char *url;            /* absolute http(s) URL, already checked by policy_check_url */
    const char *user_agent;     /* NULL: "Mozilla/5.0 (compatible; rendercgi/VERSION)" */
    const char *headers;        /* JSON object of extra headers (options_check_headers), or NULL */
    const char *cookies;        /* JSON list of cookies (options_check_cookies), or NULL */
    int64_t deadline_ms;        /* monotonic (clock_ms) */
    int timeout_ms;             /* the request's timeout, for messages */
    size_t max_size;            /* cap on the decoded body */
    const struct policy *policy;
    int client_fd;              /* the client's connection: a hang-up stops the fetch; -1: none */
};

struct fetch_result {
    int status;                 /* HTTP status of the last response; 0 if none came */
    char *final_url;            /* after redirects; NULL if none came */
    char *content_type;         /* the last response's Content-Type, or NULL */
    char charset[48];           /* its charset parameter, lower-case; "" if none */
    int is_html;                /* text/html, application/xhtml+xml, or no Content-Type */
    struct buf body;            /* the decoded body; empty when not is_html (not read) */
};

/* Fetch o->url into 'res' (initialized here). RC_OK when a final response
 * came, whatever its status or type (a body that is not HTML is not read).
 * Otherwise an error with *code and 'msg' (a sentence) for respond_error:
 * RC_BLOCKED "url_blocked" (a connection, or a redirect's scheme, refused
 * by the policy); RC_TIMEOUT "timeout"; RC_TOO_LARGE "target_too_large"
 * (res->status is set); RC_CLOSED "target_unreachable" (DNS, connection,
 * TLS, too many redirects); RC_DECLINED "client_gone" (o->client_fd hung
 * up: nobody to answer); RC_ERROR "internal". */
int fetch_page(const struct fetch_opts *o, struct fetch_result *res, const char **code,
               struct buf *msg);
void fetch_result_free(struct fetch_result *res);

/* Pure: is a Content-Type (NULL: none given) HTML for the fetch engine?
 * text/html and application/xhtml+xml are; a missing type is taken as HTML
 * (browsers sniff it); anything else (text/plain, application/pdf,
 * image/..., application/json) is not. Copies the charset parameter,
 * lower-cased, into 'charset' ("" if none). */
int fetch_content_type_is_html(const char *content_type, char *charset, size_t size);

/* What the JavaScript heuristic looks at, gathered in one walk of a
 * parsed page (no recursion on its depth). */
struct fetch_page_facts {
    size_t text_chars;          /* characters of text in <body>, whitespace runs counted
                                 * once, outside script, style, noscript, template and
                                 * elements with 'hidden' or aria-hidden="true" */
    unsigned scripts;           /* <script> elements that are JavaScript: no type, a
                                 * JavaScript MIME type, or "module" */
    unsigned empty_app_roots;   /* elements a single-page app mounts into — id root, app,
                                 * __next, __nuxt, ___gatsby, svelte, app-root, or
                                 * <app-root>, or with ng-app / data-reactroot — that hold
                                 * no text and no element but script, style, template */
    int noscript_asks_js;       /* a <noscript> whose text mentions JavaScript */
};

void fetch_page_facts(const GumboNode *root, struct fetch_page_facts *f);

/* The thresholds of fetch_needs_browser(), in characters of text. */
#define FETCH_JS_TEXT_MIN 200
#define FETCH_NOSCRIPT_TEXT_MAX 1000

/* Pure: does a fetched page with these facts need a browser to show its
 * content? 1 with 'why' (a phrase for logs) when: an empty app root and a
 * script; or a <noscript> asking for JavaScript and less than
 * FETCH_NOSCRIPT_TEXT_MAX characters of text; or a script and less than
 * FETCH_JS_TEXT_MIN characters of text. 0 otherwise. */
int fetch_needs_browser(const struct fetch_page_facts *f, char *why, size_t whylen);

#endif
