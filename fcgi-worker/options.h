/* options.h — the render options of API.md §3, validated from a request.
 *
 * Table-driven (options.c): one row per option with its type, range and the
 * routes that take it. Every value is checked; an option a route does not
 * know is unknown_option. Strings in struct render_opts are borrowed from
 * the request and live as long as it does. */
#ifndef RCGI_OPTIONS_H
#define RCGI_OPTIONS_H

#include "buf.h"

struct request;
struct posted_page;

enum route_id { ROUTE_PDF = 1, ROUTE_SCREENSHOT = 2, ROUTE_EXTRACT = 4 };

enum wait_until { WAIT_LOAD, WAIT_DOMCONTENTLOADED, WAIT_NETWORKIDLE };

struct render_opts {
    const char *url;           /* for a posted page: its base URL, may be NULL */
    const struct posted_page *page; /* a posted page to render instead of url, or NULL */
    int timeout_ms;
    int wait_until;            /* enum wait_until */
    int wait_ms;
    int javascript;
    const char *user_agent;
    int media;                 /* 0 = default (print for /pdf), 1 = print, 2 = screen */
    int width, height;         /* viewport, CSS px */
    int fail_on_status;
    const char *wait_for;      /* CSS selector that must match */
    const char *wait_for_expression; /* JS expression that must become truthy */
    int scroll_page;           /* scroll to the end first (lazy content) */
    const char *headers;       /* JSON object of extra request headers (validated) */
    const char *cookies;       /* JSON list of {name, value, domain?, path?} (validated) */

    /* /pdf */
    double paper_width_in, paper_height_in;
    int landscape;
    int print_background;
    double margin_in[4];       /* top, right, bottom, left */
    double scale;
    const char *page_ranges;
    int prefer_css_page_size;
    int tagged;
    int outline;
    const char *filename;
    const char *header_template;
    const char *footer_template;

    /* /screenshot */
    int image_type;            /* enum image_type */
    int quality;               /* jpeg/webp 0-100; -1 = not given */
    int full_page;
    double device_scale_factor;
    const char *selector;      /* /screenshot and /extract: only this element */

    /* /extract */
    int extract_format;        /* enum extract_format */
    int engine;                /* enum extract_engine */
    int main_content;
};

enum image_type { IMAGE_PNG, IMAGE_JPEG, IMAGE_WEBP };
enum extract_format { EXTRACT_TEXT, EXTRACT_MARKDOWN, EXTRACT_HTML, EXTRACT_JSON };
enum extract_engine { ENGINE_AUTO, ENGINE_FETCH, ENGINE_BROWSER };

/* Fill 'o' from the request's parameters for 'route', with 'max_timeout_ms'
 * as default and cap of 'timeout'. 'url' is required unless the request
 * posted a page (r->page). RC_OK; RC_INVALID with *code set to
 * "missing_url", "invalid_option" or "unknown_option" and 'msg' holding a
 * sentence that names the option and what it accepts. */
int options_parse(struct request *r, enum route_id route, int max_timeout_ms,
                  struct render_opts *o, const char **code, struct buf *msg);
/* Pure: the first option set in 'o' that only a browser can honour, as
 * its name, or NULL. They are wait_for, wait_for_expression, wait_ms,
 * scroll_page, width, height, media and wait_until other than load. With
 * engine=fetch such an option is invalid_option; with engine=auto it sends
 * the request to the browser at once. (javascript=false is not one: the
 * fetch engine never runs scripts.) Defaults cannot be told from the same
 * value given explicitly, which honours nothing more. */
const char *options_browser_only(const struct render_opts *o);
/* Validate a 'headers' value: a JSON object whose values are strings, names
 * header tokens, values without CR/LF. Pure. RC_OK, or RC_INVALID with 'why'. */
int options_check_headers(const char *json, char *why, size_t whylen);
/* Validate a 'cookies' value: a JSON list of objects with string "name" and
 * "value" and optional string "domain" and "path", nothing else. Pure. */
int options_check_cookies(const char *json, char *why, size_t whylen);
/* Parse a length ("12", "12px", "1.5in", "2cm", "10mm") into inches. Pure.
 * RC_OK or RC_INVALID. */
int options_length_in(const char *s, double *inches);

#endif
