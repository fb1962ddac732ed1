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

enum route_id { ROUTE_PDF = 1, ROUTE_SCREENSHOT = 2, ROUTE_EXTRACT = 4 };

enum wait_until { WAIT_LOAD, WAIT_DOMCONTENTLOADED, WAIT_NETWORKIDLE };

struct render_opts {
    const char *url;
    int timeout_ms;
    int wait_until;            /* enum wait_until */
    int wait_ms;
    int javascript;
    const char *user_agent;
    int media;                 /* 0 = default (print for /pdf), 1 = print, 2 = screen */
    int width, height;         /* viewport, CSS px */
    int fail_on_status;

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
};

/* Fill 'o' from the request's parameters for 'route', with 'max_timeout_ms'
 * as default and cap of 'timeout'. RC_OK; RC_INVALID with *code set to
 * "missing_url", "invalid_option" or "unknown_option" and 'msg' holding a
 * sentence that names the option and what it accepts. */
int options_parse(struct request *r, enum route_id route, int max_timeout_ms,
                  struct render_opts *o, const char **code, struct buf *msg);
/* Parse a length ("12", "12px", "1.5in", "2cm", "10mm") into inches. Pure.
 * RC_OK or RC_INVALID. */
int options_length_in(const char *s, double *inches);

#endif
