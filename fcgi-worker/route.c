/* route.c — the route table; see route.h. */
#include <stdio.h>
#include <string.h>

#include "batch.h"
#include "handlers.h"
#include "request.h"
#include "respond.h"
#include "route.h"
#include "worker.h"

enum { M_GET = 1, M_HEAD = 2, M_POST = 4 };

static const struct route {
    const char *name;
    unsigned methods;
    int needs_browser;
    void (*handler)(struct request *r);
} routes[] = {
    { "pdf", M_GET | M_POST, 1, handle_pdf },
    { "screenshot", M_GET | M_POST, 1, handle_screenshot },
    /* /extract's fetch engine needs no browser: it decides per request. */
    { "extract", M_GET | M_POST, 0, handle_extract },
    /* Its pdf and screenshot items answer 404 on a fetch-only worker. */
    { "batch", M_POST, 0, handle_batch },
    { "health", M_GET | M_HEAD, 0, handle_health },
    { "status", M_GET, 0, handle_status },
    { "metrics", M_GET, 0, handle_metrics },
    { NULL, 0, 0, NULL },
};

static unsigned
method_bit(const char *m)
{
    if (strcmp(m, "GET") == 0)
        return M_GET;
    if (strcmp(m, "HEAD") == 0)
        return M_HEAD;
    if (strcmp(m, "POST") == 0)
        return M_POST;
    return 0;
}

void
route_dispatch(struct request *r)
{
    for (const struct route *rt = routes; rt->name != NULL; rt++) {
        char allow[64];
        if (strcmp(rt->name, r->route) != 0)
            continue;
        /* A fetch-only worker (browsers = 0) has no browser routes. */
        if (rt->needs_browser && r->worker->pool == NULL)
            break;
        if ((method_bit(r->method) & rt->methods) == 0) {
            /* Each name after the first gets its ", " (/batch is POST only). */
            snprintf(allow, sizeof allow, "Allow: %s%s%s%s%s\r\n",
                     rt->methods & M_GET ? "GET" : "",
                     (rt->methods & M_GET) && (rt->methods & M_HEAD) ? ", " : "",
                     rt->methods & M_HEAD ? "HEAD" : "",
                     (rt->methods & (M_GET | M_HEAD)) && (rt->methods & M_POST) ? ", " : "",
                     rt->methods & M_POST ? "POST" : "");
            respond_error_h(r, "method_not_allowed", allow, "/%s does not take %s; use %.*s",
                            rt->name, r->method, (int)strlen(allow) - 9, allow + 7);
            return;
        }
        rt->handler(r);
        return;
    }
    respond_error(r, "not_found", "no route '/%s'; the routes are /pdf, /screenshot, /extract, /batch, /health, /status and /metrics", r->route);
}
