/* report.c — this worker's scoreboard entry; see report.h.
 *
 * Written by the request threads (their own sb_thread) and by the main
 * thread (everything else, once a second). Without a scoreboard the entry is
 * a private struct, so /status and /metrics still describe this worker. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "pool.h"
#include "proctable.h"
#include "rc.h"
#include "report.h"
#include "worker.h"

static struct scoreboard *board;
static struct sb_worker *self;
static struct sb_worker alone;

void
report_init(int nthreads)
{
    int rc = scoreboard_attach(&board, &self);

    if (rc != RC_OK) {
        if (rc == RC_ERROR)
            log_msg(LOG_WARN, "worker: cannot attach the pool scoreboard; reporting to no one");
        board = NULL;
        self = &alone;
        atomic_store(&self->pid, (int)getpid());
        atomic_store(&self->started_ms, clock_ms());
    }
    atomic_store(&self->nthreads, nthreads < SB_MAX_THREADS ? nthreads : SB_MAX_THREADS);
}

void
report_free(void)
{
    scoreboard_detach(board);
    board = NULL;
    self = NULL;
}

void
report_thread(int idx, enum sb_thread_state st, const char *route)
{
    struct sb_thread *t;

    if (self == NULL || idx < 0 || idx >= SB_MAX_THREADS)
        return;
    t = &self->threads[idx];
    if (st == SB_IDLE) {
        atomic_store(&t->started_ms, 0);
    } else if (atomic_load(&t->state) == SB_IDLE) {
        atomic_store(&t->started_ms, clock_ms());
    }
    if (route != NULL)
        snprintf(t->route, sizeof t->route, "%s", route);
    atomic_store(&t->state, (int)st);
}

void
report_request_done(struct worker *w)
{
    if (self == NULL)
        return;
    atomic_store(&self->requests, (long)w->requests_total);
    atomic_store(&self->failed, (long)w->requests_failed);
}

void
report_tick(struct worker *w)
{
    struct pool_stats st;
    int64_t rss, pss;

    if (self == NULL)
        return;
    memset(&st, 0, sizeof st);
    if (w->pool != NULL)
        pool_get_stats(w->pool, &st);
    rss = procs_smaps_bytes(0, "Rss");
    pss = procs_smaps_bytes(0, "Pss");
    atomic_store(&self->heartbeat_ms, clock_ms());
    atomic_store(&self->requests, (long)w->requests_total);
    atomic_store(&self->failed, (long)w->requests_failed);
    atomic_store(&self->active, (int)w->requests_active);
    atomic_store(&self->queued, st.waiting);
    atomic_store(&self->slots_busy, st.busy);
    atomic_store(&self->slots_total, st.capacity);
    atomic_store(&self->browsers_alive, st.alive);
    atomic_store(&self->browsers_configured, st.configured);
    atomic_store(&self->browser_restarts, st.restarts);
    atomic_store(&self->rss_bytes, rss);
    atomic_store(&self->pss_bytes,
                 pss < 0 ? -1 : w->pool == NULL ? pss : st.pss_bytes >= 0 ? st.pss_bytes + pss : -1);
    /* Ready once every configured browser is up (or there are none): a
     * rolling reload waits for this before stopping the worker replaced. */
    if (!w->stopping && st.alive == st.configured)
        atomic_store(&self->ready, 1);
}

void
report_draining(void)
{
    if (self != NULL) {
        atomic_store(&self->draining, 1);
        atomic_store(&self->ready, 0);
    }
}

const struct scoreboard *
report_scoreboard(void)
{
    return board;
}

const struct sb_worker *
report_self(void)
{
    return self != NULL ? self : &alone;
}
