/* health.c — GET/HEAD /health: this worker's liveness and capacity
 * (API.md §3). 200 while at least one browser can serve (or for a
 * fetch-only worker), 503 "down" otherwise. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "handlers.h"
#include "pool.h"
#include "report.h"
#include "request.h"
#include "respond.h"
#include "worker.h"

void
handle_health(struct request *r)
{
    struct worker *w = r->worker;
    struct pool_stats st;
    struct buf b;
    const char *status;
    int http;

    memset(&st, 0, sizeof st);
    if (w->pool != NULL)
        pool_get_stats(w->pool, &st);
    if (w->pool == NULL || st.alive == st.configured)
        status = "ok";
    else if (st.alive > 0)
        status = "degraded";
    else
        status = "down";
    http = strcmp(status, "down") == 0 ? 503 : 200;

    buf_init(&b, 8192);
    buf_printf(&b, "{\"status\":\"%s\",\"pid\":%d,\"version\":\"%s\",\"uptime_s\":%lld,", status,
               (int)getpid(), RCGI_VERSION, (long long)((clock_ms() - w->started_ms) / 1000));
    buf_printf(&b, "\"browsers\":{\"configured\":%d,\"alive\":%d,\"restarts\":%ld},",
               st.configured, st.alive, st.restarts);
    buf_printf(&b, "\"slots\":{\"capacity\":%d,\"busy\":%d},", st.capacity, st.busy);
    buf_printf(&b, "\"queue\":{\"depth\":%d,\"max\":%d},", st.waiting,
               w->conf->queue_max);
    buf_printf(&b, "\"requests\":{\"total\":%ld,\"failed\":%ld,\"active\":%d},",
               (long)w->requests_total, (long)w->requests_failed, (int)w->requests_active);
    /* This process alone (report.c measures it each second), not its browsers. */
    buf_printf(&b, "\"rss_bytes\":%lld,\"browsers_pss_bytes\":%lld,\"chromium\":",
               (long long)atomic_load(&report_self()->rss_bytes), (long long)st.pss_bytes);
    buf_json_string(&b, st.product);
    if (st.error[0] != '\0') {
        buf_puts(&b, ",\"error\":");
        buf_json_string(&b, st.error);
    }
    buf_puts(&b, "}\n");
    if (strcmp(r->method, "HEAD") == 0)
        respond_start(r, http, "application/json", NULL);
    else
        respond_json(r, http, &b);
    buf_free(&b);
}
