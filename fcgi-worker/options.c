/* options.c — validating render options; see options.h. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "options.h"
#include "rc.h"
#include "request.h"

enum opt_type { OPT_STRING, OPT_LINE, OPT_BOOL, OPT_INT, OPT_MS, OPT_LENGTH, OPT_NUMBER, OPT_ENUM,
                OPT_FORMAT, OPT_MARGIN, OPT_HEADERS, OPT_COOKIES, OPT_SELECTOR };

struct opt_def {
    const char *name;
    enum opt_type type;
    size_t off;          /* offset in struct render_opts */
    unsigned routes;     /* ROUTE_* bits that take it */
    double min, max;
    const char *values;  /* OPT_ENUM: "a|b|c", stored as the index */
};

#define OFF(f) offsetof(struct render_opts, f)
#define ALL (ROUTE_PDF | ROUTE_SCREENSHOT | ROUTE_EXTRACT)

static const struct opt_def opt_table[] = {
    { "url", OPT_STRING, OFF(url), ALL, 0, 0, NULL },
    { "timeout", OPT_MS, OFF(timeout_ms), ALL, 1, 600000, NULL },
    { "wait_until", OPT_ENUM, OFF(wait_until), ALL, 0, 0, "load|domcontentloaded|networkidle" },
    { "wait_ms", OPT_MS, OFF(wait_ms), ALL, 0, 600000, NULL },
    { "javascript", OPT_BOOL, OFF(javascript), ALL, 0, 0, NULL },
    { "user_agent", OPT_LINE, OFF(user_agent), ALL, 0, 0, NULL },
    { "media", OPT_ENUM, OFF(media), ALL, 0, 0, "|print|screen" },
    { "width", OPT_INT, OFF(width), ALL, 1, 16384, NULL },
    { "height", OPT_INT, OFF(height), ALL, 1, 16384, NULL },
    { "fail_on_status", OPT_BOOL, OFF(fail_on_status), ALL, 0, 0, NULL },
    { "wait_for", OPT_SELECTOR, OFF(wait_for), ALL, 0, 0, NULL },
    { "wait_for_expression", OPT_STRING, OFF(wait_for_expression), ALL, 0, 0, NULL },
    { "scroll_page", OPT_BOOL, OFF(scroll_page), ALL, 0, 0, NULL },
    { "headers", OPT_HEADERS, OFF(headers), ALL, 0, 0, NULL },
    { "cookies", OPT_COOKIES, OFF(cookies), ALL, 0, 0, NULL },
    { "format", OPT_FORMAT, 0, ROUTE_PDF, 0, 0, "letter|legal|tabloid|a3|a4|a5" },
    { "paper_width", OPT_LENGTH, OFF(paper_width_in), ROUTE_PDF, 0.1, 200, NULL },
    { "paper_height", OPT_LENGTH, OFF(paper_height_in), ROUTE_PDF, 0.1, 200, NULL },
    { "landscape", OPT_BOOL, OFF(landscape), ROUTE_PDF, 0, 0, NULL },
    { "margin", OPT_MARGIN, 0, ROUTE_PDF, 0, 50, NULL },
    { "margin_top", OPT_LENGTH, OFF(margin_in[0]), ROUTE_PDF, 0, 50, NULL },
    { "margin_right", OPT_LENGTH, OFF(margin_in[1]), ROUTE_PDF, 0, 50, NULL },
    { "margin_bottom", OPT_LENGTH, OFF(margin_in[2]), ROUTE_PDF, 0, 50, NULL },
    { "margin_left", OPT_LENGTH, OFF(margin_in[3]), ROUTE_PDF, 0, 50, NULL },
    { "print_background", OPT_BOOL, OFF(print_background), ROUTE_PDF, 0, 0, NULL },
    { "scale", OPT_NUMBER, OFF(scale), ROUTE_PDF, 0.1, 2, NULL },
    { "page_ranges", OPT_STRING, OFF(page_ranges), ROUTE_PDF, 0, 0, NULL },
    { "prefer_css_page_size", OPT_BOOL, OFF(prefer_css_page_size), ROUTE_PDF, 0, 0, NULL },
    { "tagged", OPT_BOOL, OFF(tagged), ROUTE_PDF, 0, 0, NULL },
    { "outline", OPT_BOOL, OFF(outline), ROUTE_PDF, 0, 0, NULL },
    { "filename", OPT_STRING, OFF(filename), ROUTE_PDF, 0, 0, NULL },
    { "header_template", OPT_STRING, OFF(header_template), ROUTE_PDF, 0, 0, NULL },
    { "footer_template", OPT_STRING, OFF(footer_template), ROUTE_PDF, 0, 0, NULL },
    { "type", OPT_ENUM, OFF(image_type), ROUTE_SCREENSHOT, 0, 0, "png|jpeg|webp" },
    { "quality", OPT_INT, OFF(quality), ROUTE_SCREENSHOT, 0, 100, NULL },
    { "full_page", OPT_BOOL, OFF(full_page), ROUTE_SCREENSHOT, 0, 0, NULL },
    { "device_scale_factor", OPT_NUMBER, OFF(device_scale_factor), ROUTE_SCREENSHOT, 0.1, 5,
      NULL },
    { "selector", OPT_SELECTOR, OFF(selector), ROUTE_SCREENSHOT | ROUTE_EXTRACT, 0, 0, NULL },
    { "format", OPT_ENUM, OFF(extract_format), ROUTE_EXTRACT, 0, 0, "text|markdown|html|json" },
    { "engine", OPT_ENUM, OFF(engine), ROUTE_EXTRACT, 0, 0, "auto|fetch|browser" },
    { "main_content", OPT_BOOL, OFF(main_content), ROUTE_EXTRACT, 0, 0, NULL },
    { NULL, 0, 0, 0, 0, 0, NULL },
};

/* Paper sizes in inches (portrait). */
static const double paper_sizes[][2] = {
    { 8.5, 11 }, { 8.5, 14 }, { 11, 17 }, { 11.6929, 16.5354 }, { 8.2677, 11.6929 },
    { 5.8268, 8.2677 },
};

static void
opts_defaults(struct render_opts *o, int max_timeout_ms)
{
    memset(o, 0, sizeof *o);
    o->timeout_ms = max_timeout_ms;
    o->wait_until = WAIT_LOAD;
    o->javascript = 1;
    o->width = 1280;
    o->height = 720;
    o->fail_on_status = 1;
    o->paper_width_in = paper_sizes[0][0];
    o->paper_height_in = paper_sizes[0][1];
    o->scale = 1;
    o->quality = -1;
    o->device_scale_factor = 1;
}

static int
parse_bool(const char *s, int *out)
{
    if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
        *out = 1;
    else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
        *out = 0;
    else
        return RC_INVALID;
    return RC_OK;
}

static int
parse_number(const char *s, double *out, char **end)
{
    errno = 0;
    *out = strtod(s, end);
    if (*end == s || errno != 0 || !isfinite(*out) || s[0] == ' ')
        return RC_INVALID;
    return RC_OK;
}

int
options_length_in(const char *s, double *inches)
{
    static const struct { const char *unit; double per_inch; } units[] = {
        { "", 96 }, { "px", 96 }, { "in", 1 }, { "cm", 2.54 }, { "mm", 25.4 },
    };
    char *end;
    double v;

    if (parse_number(s, &v, &end) != RC_OK)
        return RC_INVALID;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].unit) == 0) {
            *inches = v / units[i].per_inch;
            return RC_OK;
        }
    }
    return RC_INVALID;
}

/* The index of 'v' in "a|b|c", or -1. */
static int
enum_index(const char *values, const char *v)
{
    size_t vl = strlen(v);
    int i = 0;

    for (const char *p = values;; i++) {
        const char *bar = strchr(p, '|');
        size_t n = bar != NULL ? (size_t)(bar - p) : strlen(p);
        if (n == vl && strncmp(p, v, n) == 0 && (n > 0 || vl == 0))
            return i;
        if (bar == NULL)
            return -1;
        p = bar + 1;
    }
}

/* Describe what an option accepts, for error messages. */
static void
opt_expect(const struct opt_def *d, struct buf *msg)
{
    switch (d->type) {
    case OPT_BOOL:
        buf_puts(msg, "true, false, 1 or 0");
        break;
    case OPT_INT:
        buf_printf(msg, "an integer from %g to %g", d->min, d->max);
        break;
    case OPT_MS:
        buf_printf(msg, "a duration in milliseconds from %g to %g", d->min, d->max);
        break;
    case OPT_NUMBER:
        buf_printf(msg, "a number from %g to %g", d->min, d->max);
        break;
    case OPT_LENGTH:
    case OPT_MARGIN:
        buf_printf(msg, "a length from %g to %g inches, as a number with unit px, in, cm or mm "
                        "(a bare number is CSS px)", d->min, d->max);
        break;
    case OPT_ENUM:
    case OPT_FORMAT: {
        const char *v = d->values[0] == '|' ? d->values + 1 : d->values;
        buf_puts(msg, "one of ");
        for (const char *p = v; *p != '\0'; p++) {
            if (*p == '|')
                buf_puts(msg, p[1] != '\0' && strchr(p + 1, '|') == NULL ? " or " : ", ");
            else
                buf_append(msg, p, 1);
        }
        break;
    }
    case OPT_STRING:
        buf_puts(msg, "a string");
        break;
    case OPT_LINE:
        buf_puts(msg, "a one-line string without control characters");
        break;
    case OPT_SELECTOR:
        buf_puts(msg, "a non-empty CSS selector of at most 1024 bytes");
        break;
    case OPT_HEADERS:
        buf_puts(msg, "a JSON object of header names to string values, e.g. "
                      "{\"X-Token\":\"abc\"} (URL-encoded in a query string)");
        break;
    case OPT_COOKIES:
        buf_puts(msg, "a JSON list of {\"name\", \"value\", \"domain\"?, \"path\"?} objects "
                      "(URL-encoded in a query string)");
        break;
    }
}

static int
opt_apply(const struct opt_def *d, const char *v, struct render_opts *o, char *detail,
          size_t detail_len)
{
    char *base = (char *)o, *end;
    double num;
    int i;

    switch (d->type) {
    case OPT_STRING:
        *(const char **)(base + d->off) = v;
        return RC_OK;
    case OPT_LINE:
        for (const char *c = v; *c != '\0'; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                return RC_INVALID;
        *(const char **)(base + d->off) = v;
        return RC_OK;
    case OPT_SELECTOR:
        if (v[0] == '\0' || strlen(v) > 1024)
            return RC_INVALID;
        *(const char **)(base + d->off) = v;
        return RC_OK;
    case OPT_HEADERS:
        if (options_check_headers(v, detail, detail_len) != RC_OK)
            return RC_INVALID;
        *(const char **)(base + d->off) = v;
        return RC_OK;
    case OPT_COOKIES:
        if (options_check_cookies(v, detail, detail_len) != RC_OK)
            return RC_INVALID;
        *(const char **)(base + d->off) = v;
        return RC_OK;
    case OPT_BOOL:
        return parse_bool(v, (int *)(base + d->off));
    case OPT_INT:
    case OPT_MS:
        if (parse_number(v, &num, &end) != RC_OK || *end != '\0' || num != floor(num) ||
            num < d->min || num > d->max)
            return RC_INVALID;
        *(int *)(base + d->off) = (int)num;
        return RC_OK;
    case OPT_NUMBER:
        if (parse_number(v, &num, &end) != RC_OK || *end != '\0' || num < d->min ||
            num > d->max)
            return RC_INVALID;
        *(double *)(base + d->off) = num;
        return RC_OK;
    case OPT_LENGTH:
        if (options_length_in(v, &num) != RC_OK || num < d->min || num > d->max)
            return RC_INVALID;
        *(double *)(base + d->off) = num;
        return RC_OK;
    case OPT_MARGIN:
        if (options_length_in(v, &num) != RC_OK || num < d->min || num > d->max)
            return RC_INVALID;
        for (i = 0; i < 4; i++)
            o->margin_in[i] = num;
        return RC_OK;
    case OPT_ENUM:
        if ((i = enum_index(d->values, v)) < 0 || v[0] == '\0')
            return RC_INVALID;
        *(int *)(base + d->off) = i;
        return RC_OK;
    case OPT_FORMAT:
        if ((i = enum_index(d->values, v)) < 0)
            return RC_INVALID;
        o->paper_width_in = paper_sizes[i][0];
        o->paper_height_in = paper_sizes[i][1];
        return RC_OK;
    }
    return RC_INVALID;
}

/* "1-3, 5, 8-": pages from 1, ranges N-M with N <= M, open ends allowed. */
static int
page_ranges_ok(const char *s)
{
    for (;;) {
        long a = 0, b = 0;
        char *end;
        while (*s == ' ')
            s++;
        if (isdigit((unsigned char)*s)) {
            a = strtol(s, &end, 10);
            s = end;
            if (a < 1)
                return 0;
            while (*s == ' ')
                s++;
        }
        if (*s == '-') {
            s++;
            while (*s == ' ')
                s++;
            if (isdigit((unsigned char)*s)) {
                b = strtol(s, &end, 10);
                s = end;
                if (b < 1 || (a > 0 && b < a))
                    return 0;
            } else if (a == 0) {
                return 0;
            }
        } else if (a == 0) {
            return 0;
        }
        while (*s == ' ')
            s++;
        if (*s == '\0')
            return 1;
        if (*s++ != ',')
            return 0;
    }
}

/* Options applied in table order, except that the per-side margins and the
 * custom paper size must override 'margin' and 'format' whatever the order
 * in the query: the table lists the general ones first. */
int
options_parse(struct request *r, enum route_id route, int max_timeout_ms,
              struct render_opts *o, const char **code, struct buf *msg)
{
    char detail[256];

    opts_defaults(o, max_timeout_ms);
    for (const struct opt_def *d = opt_table; d->name != NULL; d++) {
        const char *v;
        if ((d->routes & route) == 0)
            continue;
        if ((v = request_param(r, d->name)) == NULL)
            continue;
        detail[0] = '\0';
        if (opt_apply(d, v, o, detail, sizeof detail) != RC_OK) {
            *code = "invalid_option";
            buf_printf(msg, "option '%s' has the invalid value '%.80s'", d->name, v);
            if (detail[0] != '\0')
                buf_printf(msg, " (%s)", detail);
            buf_puts(msg, "; it takes ");
            opt_expect(d, msg);
            return RC_INVALID;
        }
    }
    if (o->page_ranges != NULL && !page_ranges_ok(o->page_ranges)) {
        *code = "invalid_option";
        buf_printf(msg, "option 'page_ranges' has the invalid value '%.80s'; it takes pages and "
                        "ranges from 1 separated by commas, e.g. 1-3,5,8-", o->page_ranges);
        return RC_INVALID;
    }
    if (o->quality >= 0 && o->image_type == IMAGE_PNG) {
        *code = "invalid_option";
        buf_puts(msg, "option 'quality' applies to type jpeg and webp only, not png");
        return RC_INVALID;
    }
    for (size_t i = 0; i < r->nparams; i++) {
        if (!r->params[i].used) {
            *code = "unknown_option";
            buf_printf(msg, "unknown option '%.80s' for this route", r->params[i].name);
            return RC_INVALID;
        }
    }
    o->page = r->page;
    if (o->page == NULL && (o->url == NULL || o->url[0] == '\0')) {
        *code = "missing_url";
        buf_puts(msg, "option 'url' is required: the address of the page to render (or POST "
                      "the page itself as text/html or multipart/form-data)");
        return RC_INVALID;
    }
    /* API.md: the timeout is capped by the configuration, not refused. */
    if (o->timeout_ms > max_timeout_ms)
        o->timeout_ms = max_timeout_ms;
    return RC_OK;
}

const char *
options_browser_only(const struct render_opts *o)
{
    if (o->wait_for != NULL)
        return "wait_for";
    if (o->wait_for_expression != NULL)
        return "wait_for_expression";
    if (o->wait_ms > 0)
        return "wait_ms";
    if (o->scroll_page)
        return "scroll_page";
    if (o->width != 1280)
        return "width";
    if (o->height != 720)
        return "height";
    if (o->media != 0)
        return "media";
    if (o->wait_until != WAIT_LOAD)
        return "wait_until";
    return NULL;
}

/* An HTTP header name: RFC 9110 token characters. */
static int
header_name_ok(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++)
        if (!(isalnum((unsigned char)*s) || strchr("!#$%&'*+-.^_`|~", *s) != NULL))
            return 0;
    return 1;
}

int
options_check_headers(const char *json, char *why, size_t whylen)
{
    char err[128];
    yajl_val v = yajl_tree_parse(json, err, sizeof err);
    int rc = RC_OK;

    if (v == NULL || !YAJL_IS_OBJECT(v)) {
        snprintf(why, whylen, "not a JSON object");
        rc = RC_INVALID;
        goto out;
    }
    for (size_t i = 0; i < v->u.object.len; i++) {
        const char *name = v->u.object.keys[i];
        yajl_val val = v->u.object.values[i];
        if (!header_name_ok(name)) {
            snprintf(why, whylen, "'%.40s' is not a valid header name", name);
            rc = RC_INVALID;
            break;
        }
        if (!YAJL_IS_STRING(val) || strpbrk(val->u.string, "\r\n") != NULL) {
            snprintf(why, whylen, "the value of header '%.40s' must be a one-line string", name);
            rc = RC_INVALID;
            break;
        }
    }
out:
    yajl_tree_free(v);
    return rc;
}

int
options_check_cookies(const char *json, char *why, size_t whylen)
{
    static const char *const keys[] = { "name", "value", "domain", "path" };
    char err[128];
    yajl_val v = yajl_tree_parse(json, err, sizeof err);
    int rc = RC_OK;

    if (v == NULL || !YAJL_IS_ARRAY(v)) {
        snprintf(why, whylen, "not a JSON list");
        rc = RC_INVALID;
        goto out;
    }
    for (size_t i = 0; i < v->u.array.len && rc == RC_OK; i++) {
        yajl_val c = v->u.array.values[i];
        int have[4] = { 0, 0, 0, 0 };
        if (!YAJL_IS_OBJECT(c)) {
            snprintf(why, whylen, "cookie %zu is not an object", i);
            rc = RC_INVALID;
            break;
        }
        for (size_t k = 0; k < c->u.object.len && rc == RC_OK; k++) {
            size_t j = 0;
            while (j < 4 && strcmp(keys[j], c->u.object.keys[k]) != 0)
                j++;
            if (j == 4) {
                snprintf(why, whylen, "cookie %zu has the unknown field '%.40s'", i,
                         c->u.object.keys[k]);
                rc = RC_INVALID;
            } else if (!YAJL_IS_STRING(c->u.object.values[k])) {
                snprintf(why, whylen, "field '%s' of cookie %zu must be a string", keys[j], i);
                rc = RC_INVALID;
            } else {
                have[j] = 1;
            }
        }
        if (rc == RC_OK && (!have[0] || !have[1])) {
            snprintf(why, whylen, "cookie %zu needs both \"name\" and \"value\"", i);
            rc = RC_INVALID;
        }
    }
out:
    yajl_tree_free(v);
    return rc;
}
