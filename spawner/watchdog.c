/* watchdog.c — what to do about one worker, from its scoreboard entry; see
 * watchdog.h. No clock, no I/O: the caller passes the time in. */
#include <stdatomic.h>
#include <string.h>

#include "watchdog.h"

const char *
watchdog_verdict_name(enum watch_verdict v)
{
    switch (v) {
    case WATCH_OK: return "ok";
    case WATCH_LIVENESS: return "liveness";
    case WATCH_TERMINATE: return "terminate";
    case WATCH_MEMORY: return "memory";
    case WATCH_REQUESTS: return "requests";
    }
    return "?";
}

/* Copy a route name the worker wrote, keeping printable ASCII only: it goes
 * into the spawner's log, and the worker may have written anything. */
static void
route_copy(char *out, size_t len, const char *route, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < max && route[i] != '\0' && n + 1 < len; i++)
        out[n++] = route[i] > 0x20 && route[i] < 0x7f ? route[i] : '?';
    out[n] = '\0';
}

static int64_t
liveness_age(const struct sb_worker *e, int64_t started_ms, const struct watch_limits *l,
             int64_t now, int64_t *allowed)
{
    int64_t hb = atomic_load(&e->heartbeat_ms);

    /* The spawner zeroes the entry before the worker starts, so a heartbeat
     * at or after the start is this worker's. Before its first one, the
     * worker gets the start grace (it may be loading, or its first beat may
     * come after the browsers are up). */
    if (hb >= started_ms && hb > 0) {
        *allowed = l->liveness_ms;
        /* A worker that stops on its own (max_requests) may be busy
         * finishing its requests for up to its own grace period. */
        if (atomic_load(&e->draining))
            *allowed += l->drain_grace_ms;
        return hb > now ? 0 : now - hb;
    }
    *allowed = l->start_grace_ms > l->liveness_ms ? l->start_grace_ms : l->liveness_ms;
    return now - started_ms;
}

/* The oldest request still running, or -1 when every thread is idle. */
static int
oldest_request(const struct sb_worker *e, int64_t now, int64_t *age)
{
    int oldest = -1;

    *age = 0;
    /* Every thread entry, not just 'nthreads' of them: the count is the
     * worker's word, and unused entries read as idle anyway. */
    for (int i = 0; i < SB_MAX_THREADS; i++) {
        const struct sb_thread *t = &e->threads[i];
        int st = atomic_load(&t->state);
        int64_t started = atomic_load(&t->started_ms);

        if (st == SB_IDLE || started <= 0 || started > now)
            continue;
        if (oldest < 0 || now - started > *age) {
            oldest = i;
            *age = now - started;
        }
    }
    return oldest;
}

void
watchdog_check(const struct sb_worker *e, int64_t started_ms, const struct watch_limits *l,
               int64_t now, struct watch_result *out)
{
    int64_t age, allowed;
    int t;

    memset(out, 0, sizeof *out);
    out->verdict = WATCH_OK;
    if (l->liveness_ms > 0) {
        age = liveness_age(e, started_ms, l, now, &allowed);
        if (age > allowed) {
            out->verdict = WATCH_LIVENESS;
            out->age_ms = age;
            return;
        }
    }
    if (l->terminate_ms > 0 && (t = oldest_request(e, now, &age)) >= 0 &&
        age > l->terminate_ms) {
        out->verdict = WATCH_TERMINATE;
        out->age_ms = age;
        out->thread = t;
        route_copy(out->route, sizeof out->route, e->threads[t].route,
                   sizeof e->threads[t].route);
        return;
    }
    out->pss_bytes = atomic_load(&e->pss_bytes);
    if (l->max_memory > 0 && out->pss_bytes > l->max_memory) {
        out->verdict = WATCH_MEMORY;
        return;
    }
    out->requests = atomic_load(&e->requests);
    if (l->max_requests > 0 && out->requests >= l->max_requests)
        out->verdict = WATCH_REQUESTS;
}
