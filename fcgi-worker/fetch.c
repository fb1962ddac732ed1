/* fetch.c — fetching one page with libcurl under the URL policy, and the
 * JavaScript heuristic of engine=auto; see fetch.h.
 *
 * Each fetch_page() call owns one curl easy handle, its header list and a
 * small state struct the callbacks share; all are freed before it returns.
 * The body goes into the caller's struct fetch_result. */
#include "config.h"

#include "fetch.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <yajl/yajl_tree.h>

#include "clock.h"
#include "fcgi.h"
#include "html_parse.h"
#include "log.h"
#include "main_content.h"
#include "policy.h"
#include "rc.h"
#include "url.h"

#define FETCH_USER_AGENT "Mozilla/5.0 (compatible; rendercgi/" PACKAGE_VERSION ")"
#define FETCH_ACCEPT \
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

/* What the callbacks of one transfer share. */
struct fetch_state {
    CURL *curl;
    const struct fetch_opts *o;
    struct fetch_result *res;
    int response_seen;          /* the body of the current response was looked at */
    int not_html;               /* stopped: the final response is not HTML */
    int too_large;              /* stopped: the body passed o->max_size */
    int blocked;                /* a connection was refused by the policy */
    char why[512];              /* the policy's sentence for 'blocked' */
    int client_gone;            /* stopped: the client hung up */
    int64_t next_client_check;  /* clock_ms() of the next look at the client */
};

/* ---- content types ------------------------------------------------------ */

int
fetch_content_type_is_html(const char *ct, char *charset, size_t size)
{
    const char *semi, *p;
    size_t n;

    if (size > 0)
        charset[0] = '\0';
    if (ct == NULL)
        return 1;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    semi = strchr(ct, ';');
    n = semi != NULL ? (size_t)(semi - ct) : strlen(ct);
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    for (p = semi; p != NULL && *p != '\0'; p = strchr(p + 1, ';')) {
        const char *a = p + 1;
        size_t i = 0;
        while (*a == ' ' || *a == '\t')
            a++;
        if (strncasecmp(a, "charset=", 8) != 0)
            continue;
        a += 8;
        if (*a == '"')
            a++;
        while (size > 0 && i + 1 < size && a[i] != '\0' && a[i] != '"' && a[i] != ';' &&
               a[i] != ' ' && a[i] != '\t') {
            charset[i] = (char)tolower((unsigned char)a[i]);
            i++;
        }
        if (size > 0)
            charset[i] = '\0';
        break;
    }
    if (n == 0)
        return 1;
    return (n == 9 && strncasecmp(ct, "text/html", 9) == 0) ||
           (n == 21 && strncasecmp(ct, "application/xhtml+xml", 21) == 0);
}

/* ---- libcurl callbacks -------------------------------------------------- */

/* Every connection libcurl makes, to the first URL or a redirect's, comes
 * here with the address it is about to connect to. */
static curl_socket_t
open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *addr)
{
    struct fetch_state *st = ud;
    char why[512];

    (void)purpose;
    if (policy_check_addr(st->o->policy, &addr->addr, why, sizeof why) != RC_OK) {
        if (!st->blocked)
            snprintf(st->why, sizeof st->why, "%s", why);
        st->blocked = 1;
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

/* libcurl's progress callback, called at least once a second while the
 * fetch waits: stop when the client has hung up (looked at every 100 ms,
 * as the browser path does), so that nobody waits for a page no one reads. */
static int
on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
            curl_off_t ulnow)
{
    struct fetch_state *st = ud;
    int64_t now = clock_ms();

    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    if (st->o->client_fd < 0 || now < st->next_client_check)
        return 0;
    st->next_client_check = now + 100;
    if (fcgi_fd_closed(st->o->client_fd)) {
        st->client_gone = 1;
        return 1;
    }
    return 0;
}

/* A new response (the status line) starts a new body: a redirect's own
 * body is never the page. */
static size_t
on_header(char *data, size_t size, size_t n, void *ud)
{
    struct fetch_state *st = ud;
    size_t len = size * n;

    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        st->response_seen = 0;
        buf_reset(&st->res->body);
    }
    return len;
}

static size_t
on_write(char *data, size_t size, size_t n, void *ud)
{
    struct fetch_state *st = ud;
    size_t len = size * n;

    if (!st->response_seen) {
        char *ct = NULL;
        st->response_seen = 1;
        curl_easy_getinfo(st->curl, CURLINFO_CONTENT_TYPE, &ct);
        if (!fetch_content_type_is_html(ct, st->res->charset, sizeof st->res->charset)) {
            /* Not worth reading: the answer is unsupported_content_type. */
            st->not_html = 1;
            return 0;
        }
    }
    if (len > st->o->max_size - st->res->body.len) {
        st->too_large = 1;
        return 0;
    }
    if (buf_append(&st->res->body, data, len) != RC_OK)
        return 0;
    return len;
}

/* ---- options: headers and cookies --------------------------------------- */

static int
add_header(struct curl_slist **list, const char *line)
{
    struct curl_slist *l = curl_slist_append(*list, line);
    if (l == NULL)
        return RC_ERROR;
    *list = l;
    return RC_OK;
}

/* The request's 'headers' option, and the Accept header unless it sets
 * its own. Names and values were validated by options_check_headers. */
static int
build_headers(const char *json, struct curl_slist **list)
{
    yajl_val v = NULL;
    struct buf line;
    int have_accept = 0, rc = RC_OK;

    buf_init(&line, 65536);
    if (json != NULL && (v = yajl_tree_parse(json, NULL, 0)) != NULL && YAJL_IS_OBJECT(v)) {
        for (size_t i = 0; i < v->u.object.len && rc == RC_OK; i++) {
            const char *name = v->u.object.keys[i];
            const char *value = YAJL_GET_STRING(v->u.object.values[i]);
            if (value == NULL)
                continue;
            if (strcasecmp(name, "Accept") == 0)
                have_accept = 1;
            buf_reset(&line);
            /* "Name;" is libcurl's spelling of a header with an empty value. */
            if (value[0] == '\0')
                rc = buf_printf(&line, "%s;", name);
            else
                rc = buf_printf(&line, "%s: %s", name, value);
            if (rc == RC_OK)
                rc = add_header(list, line.data);
        }
    }
    if (rc == RC_OK && !have_accept)
        rc = add_header(list, FETCH_ACCEPT);
    yajl_tree_free(v);
    buf_free(&line);
    return rc;
}

static int
has_control(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == ';')
            return 1;
    return 0;
}

/* The 'cookies' option into libcurl's cookie engine, in Netscape format:
 * with a domain, that domain and its subdomains; without, the URL's host
 * only (as the browser engine does). A cookie with a control character or
 * a ';' in a field cannot be sent and is skipped. */
static int
load_cookies(CURL *c, const char *json, const char *url)
{
    yajl_val v;
    struct url u;
    char why[128];
    struct buf line;
    int rc = RC_OK;

    if (json == NULL)
        return RC_OK;
    if (url_parse(url, &u, why, sizeof why) != RC_OK)
        return RC_OK;
    if ((v = yajl_tree_parse(json, NULL, 0)) == NULL || !YAJL_IS_ARRAY(v)) {
        yajl_tree_free(v);
        return RC_OK;
    }
    buf_init(&line, 65536);
    curl_easy_setopt(c, CURLOPT_COOKIEFILE, "");
    for (size_t i = 0; i < v->u.array.len && rc == RC_OK; i++) {
        yajl_val ck = v->u.array.values[i];
        const char *path[] = { "name", NULL }, *name, *value, *domain, *cpath;
        name = YAJL_GET_STRING(yajl_tree_get(ck, path, yajl_t_string));
        path[0] = "value";
        value = YAJL_GET_STRING(yajl_tree_get(ck, path, yajl_t_string));
        path[0] = "domain";
        domain = YAJL_GET_STRING(yajl_tree_get(ck, path, yajl_t_string));
        path[0] = "path";
        cpath = YAJL_GET_STRING(yajl_tree_get(ck, path, yajl_t_string));
        if (name == NULL || value == NULL || has_control(name) || has_control(value) ||
            (domain != NULL && has_control(domain)) || (cpath != NULL && has_control(cpath)))
            continue;
        if (domain != NULL && domain[0] == '.')
            domain++;
        buf_reset(&line);
        rc = buf_printf(&line, "%s%s\t%s\t%s\tFALSE\t0\t%s\t%s",
                        domain != NULL && domain[0] != '\0' ? "." : "",
                        domain != NULL && domain[0] != '\0' ? domain : u.host,
                        domain != NULL && domain[0] != '\0' ? "TRUE" : "FALSE",
                        cpath != NULL && cpath[0] == '/' ? cpath : "/", name, value);
        if (rc == RC_OK && curl_easy_setopt(c, CURLOPT_COOKIELIST, line.data) != CURLE_OK)
            rc = RC_ERROR;
    }
    yajl_tree_free(v);
    buf_free(&line);
    return rc;
}

/* ---- the fetch ---------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;

static void
curl_init_once(void)
{
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *
info_string(CURL *c, CURLINFO what)
{
    char *s = NULL;
    if (curl_easy_getinfo(c, what, &s) != CURLE_OK || s == NULL)
        return NULL;
    return strdup(s);
}

int
fetch_page(const struct fetch_opts *o, struct fetch_result *res, const char **code,
           struct buf *msg)
{
    struct fetch_state st;
    struct curl_slist *headers = NULL;
    char errbuf[CURL_ERROR_SIZE];
    CURL *c = NULL;
    CURLcode cc;
    long status = 0, left;
    int rc = RC_ERROR;

    memset(res, 0, sizeof *res);
    buf_init(&res->body, o->max_size + 1);
    memset(&st, 0, sizeof st);
    st.o = o;
    st.res = res;
    errbuf[0] = '\0';
    *code = "internal";

    pthread_once(&curl_once, curl_init_once);
    if (curl_init_result != CURLE_OK || (c = curl_easy_init()) == NULL) {
        buf_puts(msg, "the fetch engine could not start libcurl");
        goto out;
    }
    st.curl = c;
    if ((left = (long)(o->deadline_ms - clock_ms())) <= 0) {
        *code = "timeout";
        buf_printf(msg, "timed out after %d ms before fetching %s", o->timeout_ms, o->url);
        rc = RC_TIMEOUT;
        goto out;
    }
    if (build_headers(o->headers, &headers) != RC_OK ||
        load_cookies(c, o->cookies, o->url) != RC_OK) {
        buf_puts(msg, "out of memory preparing the fetch");
        goto out;
    }
    curl_easy_setopt(c, CURLOPT_URL, o->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)FETCH_MAX_REDIRECTS);
    /* An empty proxy disables every proxy, the environment's included: a
     * proxy would make the address checked the proxy's, not the target's. */
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, left);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, left);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_size);
    curl_easy_setopt(c, CURLOPT_USERAGENT, o->user_agent != NULL ? o->user_agent
                                                                  : FETCH_USER_AGENT);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &st);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &st);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &st);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &st);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);

    cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    res->status = (int)status;
    res->final_url = info_string(c, CURLINFO_EFFECTIVE_URL);
    res->content_type = info_string(c, CURLINFO_CONTENT_TYPE);
    res->is_html = fetch_content_type_is_html(res->content_type, res->charset,
                                              sizeof res->charset);

    /* The policy decides first: a blocked redirect must never look like a
     * network error, whatever libcurl made of it. */
    if (st.blocked) {
        *code = "url_blocked";
        buf_printf(msg, "option 'url' is refused by the URL policy: %s%s: %s",
                   res->final_url != NULL && strcmp(res->final_url, o->url) != 0
                       ? "a redirect to " : "",
                   res->final_url != NULL ? res->final_url : o->url, st.why);
        rc = RC_BLOCKED;
        goto out;
    }
    if (st.client_gone) {
        *code = "client_gone";
        buf_printf(msg, "the client went away while %s was being fetched", o->url);
        rc = RC_DECLINED;
        goto out;
    }
    if (cc == CURLE_OK || (cc == CURLE_WRITE_ERROR && st.not_html)) {
        if (st.not_html)
            buf_reset(&res->body);
        rc = RC_OK;
        goto out;
    }
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
        *code = "timeout";
        buf_printf(msg, "timed out after %d ms fetching %s", o->timeout_ms,
                   res->final_url != NULL ? res->final_url : o->url);
        rc = RC_TIMEOUT;
        break;
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
        if (cc == CURLE_WRITE_ERROR && !st.too_large) {
            buf_puts(msg, "out of memory reading the fetched page");
            break;
        }
        *code = "target_too_large";
        buf_printf(msg, "the page at %s is larger than max_fetch_size (%zu bytes)",
                   res->final_url != NULL ? res->final_url : o->url, o->max_size);
        rc = RC_TOO_LARGE;
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
        *code = "url_blocked";
        buf_printf(msg, "option 'url' is refused by the URL policy: a redirect from %s leads "
                        "to a scheme other than http or https",
                   res->final_url != NULL ? res->final_url : o->url);
        rc = RC_BLOCKED;
        break;
    case CURLE_TOO_MANY_REDIRECTS:
        *code = "target_unreachable";
        buf_printf(msg, "%s redirected more than %d times", o->url, FETCH_MAX_REDIRECTS);
        rc = RC_CLOSED;
        break;
    default:
        *code = "target_unreachable";
        buf_printf(msg, "fetching %s failed: %s",
                   res->final_url != NULL ? res->final_url : o->url,
                   errbuf[0] != '\0' ? errbuf : curl_easy_strerror(cc));
        rc = RC_CLOSED;
        break;
    }
out:
    curl_slist_free_all(headers);
    if (c != NULL)
        curl_easy_cleanup(c);
    return rc;
}

void
fetch_result_free(struct fetch_result *res)
{
    free(res->final_url);
    free(res->content_type);
    res->final_url = res->content_type = NULL;
    buf_free(&res->body);
}

/* ---- the JavaScript heuristic ------------------------------------------- */

static int
is_js_script(const GumboNode *n)
{
    static const char *const types[] = {
        "", "module", "text/javascript", "application/javascript", "text/ecmascript",
        "application/ecmascript", "application/x-javascript", "text/jsx", "text/babel",
    };
    const char *t = html_attr(&n->v.element, "type");

    if (t == NULL)
        return 1;
    while (*t == ' ')
        t++;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strncasecmp(t, types[i], strlen(types[i])) == 0 &&
            (t[strlen(types[i])] == '\0' || t[strlen(types[i])] == ';' ||
             t[strlen(types[i])] == ' '))
            return 1;
    return 0;
}

static int
is_app_root(const GumboNode *n)
{
    static const char *const ids[] = {
        "root", "app", "__next", "__nuxt", "___gatsby", "svelte", "app-root",
    };
    const char *id = html_attr(&n->v.element, "id");
    GumboStringPiece t;

    if (html_attr(&n->v.element, "ng-app") != NULL ||
        html_attr(&n->v.element, "data-reactroot") != NULL)
        return 1;
    if (id != NULL)
        for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
            if (strcmp(id, ids[i]) == 0)
                return 1;
    if (n->v.element.tag == GUMBO_TAG_UNKNOWN) {
        t = n->v.element.original_tag;
        gumbo_tag_from_original_text(&t);
        return t.length == 8 && strncasecmp(t.data, "app-root", 8) == 0;
    }
    return 0;
}

/* Nothing a reader would see: only whitespace, comments, and script,
 * style, template or link elements. */
static int
is_empty_shell(const GumboNode *n)
{
    const GumboVector *v = &n->v.element.children;

    for (unsigned i = 0; i < v->length; i++) {
        const GumboNode *c = v->data[i];
        switch (c->type) {
        case GUMBO_NODE_WHITESPACE:
        case GUMBO_NODE_COMMENT:
            break;
        case GUMBO_NODE_ELEMENT:
        case GUMBO_NODE_TEMPLATE:
            if (c->v.element.tag != GUMBO_TAG_SCRIPT && c->v.element.tag != GUMBO_TAG_STYLE &&
                c->v.element.tag != GUMBO_TAG_TEMPLATE && c->v.element.tag != GUMBO_TAG_LINK &&
                c->v.element.tag != GUMBO_TAG_NOSCRIPT)
                return 0;
            break;
        default:
            return 0;
        }
    }
    return 1;
}

static int
mentions_javascript(const char *s)
{
    for (; *s != '\0'; s++)
        if (strncasecmp(s, "javascript", 10) == 0)
            return 1;
    return 0;
}

/* Subtrees whose text no reader sees. */
static int
text_hidden(const GumboNode *n)
{
    const char *aria;

    switch (n->v.element.tag) {
    case GUMBO_TAG_SCRIPT:
    case GUMBO_TAG_STYLE:
    case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_HEAD:
    case GUMBO_TAG_TITLE:
        return 1;
    default:
        break;
    }
    aria = html_attr(&n->v.element, "aria-hidden");
    return html_attr(&n->v.element, "hidden") != NULL ||
           (aria != NULL && strcasecmp(aria, "true") == 0);
}

void
fetch_page_facts(const GumboNode *root, struct fetch_page_facts *f)
{
    const GumboNode *n = root;
    /* The nearest enclosing <noscript> and hidden subtree, as nodes: the
     * walk goes by parent and sibling links, so leaving a subtree is seen
     * when the walk climbs past its root. */
    const GumboNode *noscript = NULL, *hidden = NULL;

    memset(f, 0, sizeof *f);
    while (n != NULL) {
        int descend = 0;
        if (n->type == GUMBO_NODE_ELEMENT || n->type == GUMBO_NODE_TEMPLATE) {
            GumboTag tag = n->v.element.tag;
            if (tag == GUMBO_TAG_SCRIPT && is_js_script(n))
                f->scripts++;
            if (is_app_root(n) && is_empty_shell(n))
                f->empty_app_roots++;
            if (tag == GUMBO_TAG_NOSCRIPT && noscript == NULL)
                noscript = n;
            if (hidden == NULL && text_hidden(n))
                hidden = n;
            descend = n->type == GUMBO_NODE_ELEMENT && n->v.element.children.length > 0;
        } else if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_CDATA) {
            const char *t = n->v.text.text;
            if (noscript != NULL && mentions_javascript(t))
                f->noscript_asks_js = 1;
            if (hidden == NULL)
                f->text_chars += main_content_text_length(t, strlen(t), NULL);
        }
        if (descend) {
            n = n->v.element.children.data[0];
            continue;
        }
        /* Next sibling, climbing out of finished subtrees. */
        for (;;) {
            const GumboVector *v;
            if (n == root || n->parent == NULL) {
                n = NULL;
                break;
            }
            if (n == noscript)
                noscript = NULL;
            if (n == hidden)
                hidden = NULL;
            v = n->parent->type == GUMBO_NODE_DOCUMENT ? &n->parent->v.document.children
                                                        : &n->parent->v.element.children;
            if (n->index_within_parent + 1 < v->length) {
                n = v->data[n->index_within_parent + 1];
                break;
            }
            n = n->parent;
        }
    }
}

int
fetch_needs_browser(const struct fetch_page_facts *f, char *why, size_t whylen)
{
    if (f->empty_app_roots > 0 && f->scripts > 0) {
        snprintf(why, whylen, "an empty application root and %u script%s", f->scripts,
                 f->scripts == 1 ? "" : "s");
        return 1;
    }
    if (f->noscript_asks_js && f->text_chars < FETCH_NOSCRIPT_TEXT_MAX) {
        snprintf(why, whylen, "a <noscript> asking for JavaScript and %zu characters of text",
                 f->text_chars);
        return 1;
    }
    if (f->scripts > 0 && f->text_chars < FETCH_JS_TEXT_MIN) {
        snprintf(why, whylen, "%zu characters of text and %u script%s", f->text_chars,
                 f->scripts, f->scripts == 1 ? "" : "s");
        return 1;
    }
    if (whylen > 0)
        why[0] = '\0';
    return 0;
}
