/* status.c — GET /status (the whole pool, PHP-FPM style: text, ?json,
 * ?full, ?openmetrics) and GET /metrics (Prometheus text format), both from
 * the pool's shared scoreboard, so any worker answers for all of them.
 * Without a scoreboard they describe this worker alone. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "handlers.h"
#include "rc.h"
#include "report.h"
#include "request.h"
#include "respond.h"
#include "worker.h"

struct totals {
    const char *pool;
    int64_t started_ms;
    long pool_restarts;
    int workers, ready, draining;
    long requests, failed;
    int active, queued, slots_busy, slots_total;
    int browsers_alive, browsers_configured;
    long browser_restarts;
    int64_t pss_bytes;
};

static int
entries(const struct sb_worker **list, int max)
{
    const struct scoreboard *sb = report_scoreboard();
    int n = 0;

    if (sb == NULL) {
        list[0] = report_self();
        return 1;
    }
    for (uint32_t i = 0; i < sb->nworkers && n < max; i++)
        if (atomic_load(&sb->workers[i].pid) > 0)
            list[n++] = &sb->workers[i];
    return n;
}

static void
sum(struct request *r, const struct sb_worker **list, int n, struct totals *t)
{
    const struct scoreboard *sb = report_scoreboard();

    memset(t, 0, sizeof *t);
    t->pool = sb != NULL ? sb->pool : r->worker->conf->name;
    t->started_ms = sb != NULL ? atomic_load(&sb->pool_started_ms) : r->worker->started_ms;
    t->pool_restarts = sb != NULL ? atomic_load(&sb->pool_restarts) : 0;
    for (int i = 0; i < n; i++) {
        const struct sb_worker *w = list[i];
        int64_t pss = atomic_load(&w->pss_bytes);
        t->workers++;
        t->ready += atomic_load(&w->ready);
        t->draining += atomic_load(&w->draining);
        t->requests += atomic_load(&w->requests);
        t->failed += atomic_load(&w->failed);
        t->active += atomic_load(&w->active);
        t->queued += atomic_load(&w->queued);
        t->slots_busy += atomic_load(&w->slots_busy);
        t->slots_total += atomic_load(&w->slots_total);
        t->browsers_alive += atomic_load(&w->browsers_alive);
        t->browsers_configured += atomic_load(&w->browsers_configured);
        t->browser_restarts += atomic_load(&w->browser_restarts);
        if (pss > 0)
            t->pss_bytes += pss;
    }
}

static int
has_param(struct request *r, const char *name)
{
    return request_param(r, name) != NULL;
}

static const char *const thread_states[] = { "idle", "reading", "waiting", "rendering",
                                             "writing", "finishing" };

static void
status_json(const struct totals *t, const struct sb_worker **list, int n, int full,
            struct buf *b)
{
    int64_t now = clock_ms();

    buf_puts(b, "{\"pool\":");
    buf_json_string(b, t->pool);
    buf_printf(b, ",\"start_since\":%lld,\"workers\":%d,\"workers_ready\":%d,"
                  "\"workers_draining\":%d,\"worker_restarts\":%ld,\"accepted_requests\":%ld,"
                  "\"failed_requests\":%ld,\"active_requests\":%d,\"queued_requests\":%d,"
                  "\"slots_busy\":%d,\"slots_total\":%d,\"browsers_alive\":%d,"
                  "\"browsers_configured\":%d,\"browser_restarts\":%ld,\"pss_bytes\":%lld",
               (long long)((now - t->started_ms) / 1000), t->workers, t->ready, t->draining,
               t->pool_restarts, t->requests, t->failed, t->active, t->queued, t->slots_busy,
               t->slots_total, t->browsers_alive, t->browsers_configured, t->browser_restarts,
               (long long)t->pss_bytes);
    if (full) {
        buf_puts(b, ",\"processes\":[");
        for (int i = 0; i < n; i++) {
            const struct sb_worker *w = list[i];
            int nt = atomic_load(&w->nthreads), first = 1;
            buf_printf(b, "%s{\"pid\":%d,\"state\":\"%s\",\"start_since\":%lld,"
                          "\"requests\":%ld,\"failed\":%ld,\"active\":%d,\"queued\":%d,"
                          "\"browsers_alive\":%d,\"pss_bytes\":%lld,\"requests_in_progress\":[",
                       i ? "," : "", atomic_load(&w->pid),
                       atomic_load(&w->draining) ? "draining"
                       : atomic_load(&w->ready)  ? "ready"
                                                 : "starting",
                       (long long)((now - atomic_load(&w->started_ms)) / 1000),
                       atomic_load(&w->requests), atomic_load(&w->failed),
                       atomic_load(&w->active), atomic_load(&w->queued),
                       atomic_load(&w->browsers_alive), (long long)atomic_load(&w->pss_bytes));
            for (int k = 0; k < nt && k < SB_MAX_THREADS; k++) {
                const struct sb_thread *th = &w->threads[k];
                int st = atomic_load(&th->state);
                int64_t since = atomic_load(&th->started_ms);
                char route[sizeof th->route];
                if (st == SB_IDLE || st < 0 || st > SB_FINISHING)
                    continue;
                memcpy(route, th->route, sizeof route);
                route[sizeof route - 1] = '\0';
                buf_printf(b, "%s{\"state\":\"%s\",\"route\":", first ? "" : ",",
                           thread_states[st]);
                buf_json_string(b, route);
                buf_printf(b, ",\"duration_ms\":%lld}", (long long)(since ? now - since : 0));
                first = 0;
            }
            buf_puts(b, "]}");
        }
        buf_puts(b, "]");
    }
    buf_puts(b, "}\n");
}

static void
status_text(const struct totals *t, const struct sb_worker **list, int n, int full,
            struct buf *b)
{
    int64_t now = clock_ms();

    buf_printf(b,
               "pool:                %s\n"
               "start since:         %lld\n"
               "workers:             %d\n"
               "workers ready:       %d\n"
               "workers draining:    %d\n"
               "worker restarts:     %ld\n"
               "accepted requests:   %ld\n"
               "failed requests:     %ld\n"
               "active requests:     %d\n"
               "queued requests:     %d\n"
               "slots busy:          %d\n"
               "slots total:         %d\n"
               "browsers alive:      %d\n"
               "browsers configured: %d\n"
               "browser restarts:    %ld\n"
               "pss bytes:           %lld\n",
               t->pool, (long long)((now - t->started_ms) / 1000), t->workers, t->ready,
               t->draining, t->pool_restarts, t->requests, t->failed, t->active, t->queued,
               t->slots_busy, t->slots_total, t->browsers_alive, t->browsers_configured,
               t->browser_restarts, (long long)t->pss_bytes);
    for (int i = 0; full && i < n; i++) {
        const struct sb_worker *w = list[i];
        buf_printf(b,
                   "\n************************\n"
                   "pid:                 %d\n"
                   "state:               %s\n"
                   "start since:         %lld\n"
                   "requests:            %ld\n"
                   "active requests:     %d\n"
                   "queued requests:     %d\n"
                   "browsers alive:      %d\n"
                   "pss bytes:           %lld\n",
                   atomic_load(&w->pid),
                   atomic_load(&w->draining) ? "draining"
                   : atomic_load(&w->ready)  ? "ready"
                                             : "starting",
                   (long long)((now - atomic_load(&w->started_ms)) / 1000),
                   atomic_load(&w->requests), atomic_load(&w->active), atomic_load(&w->queued),
                   atomic_load(&w->browsers_alive), (long long)atomic_load(&w->pss_bytes));
    }
}

/* Prometheus text exposition (and OpenMetrics when 'om'). */
static void
metrics_text(const struct totals *t, int om, struct buf *b)
{
    struct metric {
        const char *name, *type, *help;
        double value;
    } m[] = {
        { "requests", "counter", "Requests answered by the pool's workers.",
          (double)t->requests },
        { "requests_failed", "counter", "Requests answered with a 5xx error.",
          (double)t->failed },
        { "requests_active", "gauge", "Requests in progress.", t->active },
        { "requests_queued", "gauge", "Requests waiting for a page slot.", t->queued },
        { "workers", "gauge", "Worker processes of the pool.", t->workers },
        { "workers_ready", "gauge", "Workers accepting with their browsers up.", t->ready },
        { "worker_restarts", "counter", "Workers restarted by the spawner.",
          (double)t->pool_restarts },
        { "slots_busy", "gauge", "Page slots rendering or being cleaned.", t->slots_busy },
        { "slots", "gauge", "Page slots (browsers x pages_per_browser).", t->slots_total },
        { "browsers_alive", "gauge", "Chromium processes able to render.", t->browsers_alive },
        { "browsers", "gauge", "Chromium processes configured.", t->browsers_configured },
        { "browser_restarts", "counter", "Chromium launches after the first, all causes.",
          (double)t->browser_restarts },
        { "memory_pss_bytes", "gauge", "Proportional set size of workers and browsers.",
          (double)t->pss_bytes },
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        /* OpenMetrics names a counter's family without _total; Prometheus'
         * text format names the family as the sample. */
        int counter = strcmp(m[i].type, "counter") == 0;
        const char *fam = counter && !om ? "_total" : "";
        buf_printf(b, "# HELP rendercgi_%s%s %s\n# TYPE rendercgi_%s%s %s\n", m[i].name, fam,
                   m[i].help, m[i].name, fam, m[i].type);
        buf_printf(b, "rendercgi_%s%s{pool=", m[i].name, counter ? "_total" : "");
        buf_json_string(b, t->pool);
        buf_printf(b, "} %.0f\n", m[i].value);
    }
    if (om)
        buf_puts(b, "# EOF\n");
}

void
handle_status(struct request *r)
{
    const struct sb_worker *list[4096];
    struct totals t;
    struct buf b;
    int n = entries(list, 4096), full = has_param(r, "full");

    sum(r, list, n, &t);
    buf_init(&b, 4 << 20);
    if (has_param(r, "openmetrics")) {
        metrics_text(&t, 1, &b);
        if (respond_start(r, 200, "application/openmetrics-text; version=1.0.0; charset=utf-8",
                          NULL) == RC_OK)
            respond_body(r, b.data, b.len);
    } else if (has_param(r, "json")) {
        status_json(&t, list, n, full, &b);
        respond_json(r, 200, &b);
    } else {
        status_text(&t, list, n, full, &b);
        if (respond_start(r, 200, "text/plain; charset=utf-8", NULL) == RC_OK)
            respond_body(r, b.data, b.len);
    }
    buf_free(&b);
}

void
handle_metrics(struct request *r)
{
    const struct sb_worker *list[4096];
    struct totals t;
    struct buf b;
    int n = entries(list, 4096);

    sum(r, list, n, &t);
    buf_init(&b, 1 << 20);
    metrics_text(&t, 0, &b);
    if (respond_start(r, 200, "text/plain; version=0.0.4; charset=utf-8", NULL) == RC_OK)
        respond_body(r, b.data, b.len);
    buf_free(&b);
}
