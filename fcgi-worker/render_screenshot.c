/* render_screenshot.c — the /screenshot route: validate, check the URL,
 * borrow a page slot, size the viewport, navigate, work out the area to
 * capture (the viewport, the whole page, or one element), capture it with
 * Page.captureScreenshot and answer with the decoded image.
 *
 * The image comes back from Chromium inline, base64 in the reply, not as a
 * stream: it is decoded into one buffer owned by the handler, sent, and
 * freed. The pixel cap below keeps that buffer, and the CDP reply carrying
 * it, bounded. The metrics override this route sets is recorded in the
 * slot's 'emulated' bits, so that page_wipe() clears it for the next
 * request.
 *
 * Size rule (API.md §3): the image is exactly width × height CSS px times
 * device_scale_factor, unless 'selector' (the element's border box, snapped
 * outwards to whole CSS px and kept inside the document) or 'full_page'
 * (the document's height at the viewport's width) says otherwise. When both
 * are given, 'selector' wins. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "cdp.h"
#include "conf.h"
#include "handlers.h"
#include "log.h"
#include "options.h"
#include "page.h"
#include "rc.h"
#include "render.h"
#include "request.h"
#include "respond.h"
#include "worker.h"

/* The most device pixels one screenshot can have, whatever the pool's
 * max_screenshot_pixels says; beyond the smaller of the two the request is
 * refused with 413 output_too_large before anything is captured.
 * This ceiling comes from the 64 MiB cap on one CDP message (browser.c): the
 * image arrives base64-encoded in a single reply, and an incompressible
 * page (photos, noise) costs 3.01 bytes per pixel as PNG (measured), so 16 M
 * pixels is about 48 MB of PNG, 64 MB of base64 — just under the cap. A
 * reply over the cap ends the browser connection, taking the other slots'
 * requests with it, so this must not be raised without raising that cap. */
#define SCREENSHOT_MAX_PIXELS 16000000.0

/* Encoder limits per side, in pixels. Chromium answers a larger WebP with
 * empty data rather than an error (measured), so both are checked first. */
#define WEBP_MAX_SIDE 16383
#define JPEG_MAX_SIDE 65535

static const char *const image_format[] = {"png", "jpeg", "webp"};
static const char *const image_mime[] = {"image/png", "image/jpeg", "image/webp"};

/* What to capture, in CSS px of document coordinates (Page.captureScreenshot
 * takes its clip in document coordinates whether or not the page is
 * scrolled, measured). 'clip' 0 means the viewport as it is. 'beyond'
 * asks Chromium to paint outside the viewport (captureBeyondViewport);
 * without it, whatever lies outside comes out white. */
struct shot_area {
    int clip;
    int beyond;
    double x, y, width, height;
};

/* Looks up the element, scrolls it into view when it is not wholly visible
 * (so that lazy content and sticky elements see it as on screen), and
 * reports its border box in document coordinates together with the size of
 * the document and the viewport. Run in an isolated world: the DOM is the
 * page's, but the page's own scripts cannot have replaced querySelector or
 * getBoundingClientRect there. */
static const char element_js[] =
    "(function (sel) {\n"
    "  var e, r, se;\n"
    "  try { e = document.querySelector(sel); }\n"
    "  catch (x) { return { invalid: String(x && x.message) }; }\n"
    "  if (e === null) return { missing: true };\n"
    "  r = e.getBoundingClientRect();\n"
    "  if (r.left < 0 || r.top < 0 || r.right > innerWidth || r.bottom > innerHeight) {\n"
    "    e.scrollIntoView({ block: 'nearest', inline: 'nearest' });\n"
    "    r = e.getBoundingClientRect();\n"
    "  }\n"
    "  se = document.scrollingElement || document.documentElement;\n"
    "  return { x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height,\n"
    "           doc_width: se.scrollWidth, doc_height: se.scrollHeight,\n"
    "           view_x: scrollX, view_y: scrollY, view_width: innerWidth,\n"
    "           view_height: innerHeight };\n"
    "})(";

/* The image's size in device pixels for 'width' × 'height' CSS px. Chromium
 * rounds the scaled clip to the nearest pixel (measured: 51.5 px at factor
 * 1 gives 52 rows, 201.3 px at 1.5 gives 302 columns). */
static void
device_size(const struct render_opts *o, double width, double height, double *dw, double *dh)
{
    *dw = round(width * o->device_scale_factor);
    *dh = round(height * o->device_scale_factor);
}

/* Whether an image of 'width' × 'height' CSS px may be produced with at
 * most 'max_pixels' device pixels (the pool's max_screenshot_pixels).
 * RC_OK, or RC_TOO_LARGE with a sentence in 'msg'. Pure. */
static int
check_size(const struct render_opts *o, double width, double height, int64_t max_pixels,
           struct buf *msg)
{
    double dw, dh, limit = (double)max_pixels;
    const char *why = "max_screenshot_pixels";

    if (limit > SCREENSHOT_MAX_PIXELS) {
        limit = SCREENSHOT_MAX_PIXELS;
        why = "the most one reply from the browser can carry";
    }
    device_size(o, width, height, &dw, &dh);
    if (dw * dh > limit) {
        buf_printf(msg,
                   "the screenshot would be %.0f x %.0f = %.0f pixels, over the limit of %.0f "
                   "(%s); lower device_scale_factor, width or height, or capture a part "
                   "with selector",
                   dw, dh, dw * dh, limit, why);
        return RC_TOO_LARGE;
    }
    if (o->image_type == IMAGE_WEBP && (dw > WEBP_MAX_SIDE || dh > WEBP_MAX_SIDE)) {
        buf_printf(msg,
                   "the screenshot would be %.0f x %.0f pixels, but a WebP image is at most "
                   "%d pixels per side; use type png or jpeg",
                   dw, dh, WEBP_MAX_SIDE);
        return RC_TOO_LARGE;
    }
    if (o->image_type == IMAGE_JPEG && (dw > JPEG_MAX_SIDE || dh > JPEG_MAX_SIDE)) {
        buf_printf(msg,
                   "the screenshot would be %.0f x %.0f pixels, but a JPEG image is at most "
                   "%d pixels per side; use type png",
                   dw, dh, JPEG_MAX_SIDE);
        return RC_TOO_LARGE;
    }
    return RC_OK;
}

/* The whole document at the viewport's width. */
static int
full_page_area(struct slot *s, const struct render_opts *o, int64_t deadline_ms,
               struct shot_area *a, struct buf *err)
{
    yajl_val v = NULL;
    double height;
    int rc;

    if ((rc = page_call(s, "Page.getLayoutMetrics", NULL, deadline_ms, &v, err)) != RC_OK)
        return rc;
    height = cdp_get_number(v, NAN, "cssContentSize", "height", NULL);
    yajl_tree_free(v);
    if (!isfinite(height)) {
        buf_puts(err, "Page.getLayoutMetrics returned no cssContentSize");
        return RC_ERROR;
    }
    height = ceil(height);
    if (height < o->height)
        height = o->height;
    a->clip = 1;
    a->x = a->y = 0;
    a->width = o->width;
    a->height = height;
    a->beyond = height > o->height;
    return RC_OK;
}

/* The border box of the element matching o->selector. RC_OK with 'a'; or
 * RC_NOT_FOUND (no element, or one without a visible box inside the
 * document) / RC_INVALID (not a valid selector) with a sentence in 'msg';
 * or a page_call result with 'msg' filled. */
static int
element_area(struct slot *s, const struct render_opts *o, int64_t deadline_ms,
             struct shot_area *a, struct buf *msg)
{
    struct buf p, js;
    yajl_val v = NULL, val;
    double x, y, w, h, dw, dh, vx, vy, vw, vh, x1, y1;
    const char *etext, *why;
    long ctx;
    int rc;

    buf_init(&p, 16384);
    buf_init(&js, 8192);
    /* A fresh isolated world of the main frame, whose id is the target's. */
    buf_puts(&p, "{\"worldName\":\"rendercgi\",\"frameId\":");
    buf_json_string(&p, s->target_id);
    buf_puts(&p, "}");
    if ((rc = page_call(s, "Page.createIsolatedWorld", p.data, deadline_ms, &v, msg)) != RC_OK)
        goto out;
    ctx = (long)cdp_get_number(v, -1, "executionContextId", NULL);
    yajl_tree_free(v);
    v = NULL;
    if (ctx < 0) {
        buf_puts(msg, "Page.createIsolatedWorld returned no executionContextId");
        rc = RC_ERROR;
        goto out;
    }

    buf_puts(&js, element_js);
    buf_json_string(&js, o->selector);
    buf_puts(&js, ")");
    buf_reset(&p);
    buf_printf(&p, "{\"returnByValue\":true,\"contextId\":%ld,\"expression\":", ctx);
    buf_json_string(&p, js.data);
    buf_puts(&p, "}");
    if ((rc = page_call(s, "Runtime.evaluate", p.data, deadline_ms, &v, msg)) != RC_OK)
        goto out;
    if ((etext = cdp_get_string(v, "exceptionDetails", "text", NULL)) != NULL) {
        buf_printf(msg, "looking up the selector failed: %s", etext);
        rc = RC_ERROR;
        goto out;
    }
    val = yajl_tree_get(v, (const char *[]){"result", "value", NULL}, yajl_t_object);
    if (val == NULL) {
        buf_puts(msg, "looking up the selector returned no value");
        rc = RC_ERROR;
        goto out;
    }
    if ((why = cdp_get_string(val, "invalid", NULL)) != NULL) {
        buf_printf(msg, "option 'selector' is not a valid CSS selector: %s", why);
        rc = RC_INVALID;
        goto out;
    }
    if (cdp_get_bool(val, false, "missing", NULL)) {
        buf_puts(msg, "option 'selector': no element matches it");
        rc = RC_NOT_FOUND;
        goto out;
    }
    x = cdp_get_number(val, NAN, "x", NULL);
    y = cdp_get_number(val, NAN, "y", NULL);
    w = cdp_get_number(val, NAN, "width", NULL);
    h = cdp_get_number(val, NAN, "height", NULL);
    dw = cdp_get_number(val, NAN, "doc_width", NULL);
    dh = cdp_get_number(val, NAN, "doc_height", NULL);
    vx = cdp_get_number(val, NAN, "view_x", NULL);
    vy = cdp_get_number(val, NAN, "view_y", NULL);
    vw = cdp_get_number(val, NAN, "view_width", NULL);
    vh = cdp_get_number(val, NAN, "view_height", NULL);
    if (!isfinite(x) || !isfinite(y) || !isfinite(w) || !isfinite(h) || !isfinite(dw) ||
        !isfinite(dh) || !isfinite(vx) || !isfinite(vy) || !isfinite(vw) || !isfinite(vh)) {
        buf_puts(msg, "looking up the selector returned no box");
        rc = RC_ERROR;
        goto out;
    }
    /* Whole CSS px that enclose the box, so that no edge of the element is
     * lost and the image is a whole number of CSS px times the factor; then
     * only the part inside the document, the only part that is painted. */
    x1 = fmin(ceil(x + w), ceil(dw));
    y1 = fmin(ceil(y + h), ceil(dh));
    x = fmax(floor(x), 0);
    y = fmax(floor(y), 0);
    if (w <= 0 || h <= 0 || x1 <= x || y1 <= y) {
        buf_printf(msg,
                   "option 'selector': the matching element has no visible box "
                   "(%.1f x %.1f CSS px; hidden, empty or outside the page)",
                   w, h);
        rc = RC_NOT_FOUND;
        goto out;
    }
    a->clip = 1;
    a->x = x;
    a->y = y;
    a->width = x1 - x;
    a->height = y1 - y;
    /* Paint beyond the viewport only when the element does not fit in it
     * even after scrolling: that mode re-sizes the view while capturing. */
    a->beyond = x < vx || y < vy || x1 > vx + vw || y1 > vy + vh;
    rc = RC_OK;
out:
    yajl_tree_free(v);
    buf_free(&p);
    buf_free(&js);
    return rc;
}

/* Capture 'a' and decode it. RC_OK with *image (the caller frees it) of
 * *len bytes; otherwise a page_call result or RC_ERROR, 'err' saying why. */
static int
capture(struct slot *s, const struct render_opts *o, const struct shot_area *a,
        int64_t deadline_ms, unsigned char **image, size_t *len, struct buf *err)
{
    struct buf p;
    yajl_val v = NULL;
    const char *data;
    unsigned char *bin = NULL;
    size_t dlen;
    long got;
    int rc;

    *image = NULL;
    *len = 0;
    buf_init(&p, 1024);
    buf_printf(&p, "{\"format\":\"%s\"", image_format[o->image_type]);
    /* Without a quality Chromium uses 80 for jpeg and webp (measured). */
    if (o->quality >= 0 && o->image_type != IMAGE_PNG)
        buf_printf(&p, ",\"quality\":%d", o->quality);
    if (a->clip)
        buf_printf(&p,
                   ",\"clip\":{\"x\":%.0f,\"y\":%.0f,\"width\":%.0f,\"height\":%.0f,"
                   "\"scale\":1}",
                   a->x, a->y, a->width, a->height);
    if (a->beyond)
        buf_puts(&p, ",\"captureBeyondViewport\":true");
    buf_puts(&p, "}");

    if ((rc = page_call(s, "Page.captureScreenshot", p.data, deadline_ms, &v, err)) != RC_OK)
        goto out;
    data = cdp_get_string(v, "data", NULL);
    if (data == NULL || (dlen = strlen(data)) == 0) {
        buf_puts(err, "Page.captureScreenshot returned no image data");
        rc = RC_ERROR;
        goto out;
    }
    if ((bin = malloc((dlen / 4 + 1) * 3)) == NULL) {
        buf_puts(err, "out of memory for the image");
        rc = RC_ERROR;
        goto out;
    }
    if ((got = base64_decode(data, dlen, bin)) <= 0) {
        buf_puts(err, "Page.captureScreenshot returned invalid base64");
        rc = RC_ERROR;
        goto out;
    }
    *image = bin;
    *len = (size_t)got;
    bin = NULL;
    rc = RC_OK;
out:
    free(bin);
    yajl_tree_free(v);
    buf_free(&p);
    return rc;
}

void
handle_screenshot(struct request *r)
{
    const struct conf_pool *c = r->worker->conf;
    struct render_opts o;
    struct shot_area area = {0, 0, 0, 0, 0, 0};
    struct buf msg;
    struct slot *s = NULL;
    unsigned char *image = NULL;
    size_t len = 0;
    const char *code = NULL;
    char headers[64];
    int64_t deadline;
    int rc, tstatus;

    buf_init(&msg, 4096);
    if (render_begin(r, ROUTE_SCREENSHOT, &o, &s, &deadline) != RC_OK)
        goto out;
    /* Refuse an over-large viewport before loading anything. */
    if (check_size(&o, o.width, o.height, c->max_screenshot_pixels, &msg) != RC_OK) {
        respond_error(r, "output_too_large", "%s", msg.data);
        goto out;
    }

    /* page_navigate sets the viewport and the scale factor before the page
     * loads, so that a script reading devicePixelRatio at load, or a srcset
     * choosing its image, sees the real factor. */
    if (page_navigate(s, &o, deadline, &code, &msg, &tstatus) != RC_OK) {
        render_fail(r, s, code, &msg, tstatus);
        goto out;
    }
    if (o.selector != NULL) {
        rc = element_area(s, &o, deadline, &area, &msg);
        if (rc == RC_NOT_FOUND) {
            respond_error(r, "selector_not_found", "%s", msg.data);
            goto out;
        }
        if (rc == RC_INVALID) {
            respond_error(r, "invalid_option", "%s", msg.data);
            goto out;
        }
        if (rc != RC_OK) {
            render_call_failed(r, s, rc, "the selector lookup", &o, &msg);
            goto out;
        }
    } else if (o.full_page) {
        if ((rc = full_page_area(s, &o, deadline, &area, &msg)) != RC_OK) {
            render_call_failed(r, s, rc, "Page.getLayoutMetrics", &o, &msg);
            goto out;
        }
    }
    if (area.clip &&
        check_size(&o, area.width, area.height, c->max_screenshot_pixels, &msg) != RC_OK) {
        respond_error(r, "output_too_large", "%s", msg.data);
        goto out;
    }

    if ((rc = capture(s, &o, &area, deadline, &image, &len, &msg)) != RC_OK) {
        render_call_failed(r, s, rc, "Page.captureScreenshot", &o, &msg);
        goto out;
    }
    if ((int64_t)len > c->max_output_size) {
        respond_error(r, "output_too_large",
                      "the %s image is %zu bytes, over max_output_size (%lld bytes); capture "
                      "fewer pixels, or use type jpeg or webp with a lower quality",
                      image_format[o.image_type], len, (long long)c->max_output_size);
        goto out;
    }
    snprintf(headers, sizeof headers, "Content-Length: %zu\r\n", len);
    if (respond_start(r, 200, image_mime[o.image_type], headers) != RC_OK ||
        respond_body(r, image, len) != RC_OK) {
        log_msg(LOG_DEBUG, "[request %s] the client went away during the screenshot", r->id);
        goto out;
    }
    log_msg(LOG_DEBUG, "[request %s] sent a %zu-byte %s screenshot", r->id, len,
            image_format[o.image_type]);
out:
    free(image);
    buf_free(&msg);
}
