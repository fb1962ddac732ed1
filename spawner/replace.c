/* replace.c — replacements and the watchdog's verdicts; see replace.h.
 *
 * A replacement starts beside the worker it replaces, "on probation": the
 * pool counts it instead of the old worker, which keeps serving. Once the
 * replacement's entry says ready, the old worker gets SIGTERM (it stops
 * accepting and finishes its requests); if the replacement dies first or is
 * not ready within ready_timeout, it is stopped and the old worker stays. */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "confgen.h"
#include "log.h"
#include "master.h"
#include "pools.h"
#include "rc.h"
#include "reload.h"
#include "replace.h"
#include "watchdog.h"

int
replace_start(struct master *m, struct pool_run *r, struct pool_run *vr, int vi,
              enum stop_cause cause, bool move_target, int64_t now, const char *why)
{
    struct slot *s;
    int i = -1;

    for (int k = 0; k < r->nslots && i < 0; k++)
        if (r->slots[k].state == SLOT_FREE)
            i = k;
    if (i < 0)
        return -1;
    s = &r->slots[i];
    if (pools_start(m, r, i, now, why) != RC_OK) {
        /* No backoff in this slot: the caller tries again later. */
        s->state = SLOT_FREE;
        s->quick_exits = 0;
        return -1;
    }
    s->probation = true;
    s->ready_deadline = now + r->conf->ready_timeout;
    s->moved_target = move_target;
    if (move_target) {
        r->target++;
        if (vr != NULL)
            vr->target--;
    }
    if (vr != NULL) {
        struct slot *v = &vr->slots[vi];
        s->peer_run = vr;
        s->peer_slot = vi;
        s->peer_pid = v->pid;
        v->peer_run = r;
        v->peer_slot = i;
        v->peer_pid = s->pid;
        v->being_replaced = true;
        v->cause = cause;
    }
    return i;
}

void
replace_failed(struct master *m, struct pool_run *r, int i, pid_t pid, int64_t now,
               const char *reason)
{
    struct slot *s = &r->slots[i];
    struct pool_run *vr = s->peer_run;
    int vi = s->peer_slot;
    pid_t vpid = s->peer_pid;

    if (vr != NULL) {
        struct slot *v = &vr->slots[vi];
        if (v->pid == vpid)
            v->recycle_after = now + r->conf->ready_timeout;
        log_msg(LOG_WARN, "[pool %s] worker %d %s; worker %d keeps serving (%s)", r->name,
                (int)pid, reason, (int)vpid, pools_cause_name(v->cause));
    } else {
        log_msg(LOG_WARN, "[pool %s] worker %d %s", r->name, (int)pid, reason);
    }
    /* Give the worker back to the run it was taken from. If the worker to
     * replace is gone meanwhile, its run no longer counts it: this run
     * keeps it, and starts a plain worker in its place. */
    if (s->moved_target && vr != NULL) {
        r->target--;
        vr->target++;
    }
    pools_unlink(r, i);
    s->probation = false;
    s->moved_target = false;
    reload_probation_done(m, r, i, false, vr, vi, vpid, now);
}

void
replace_cancel(struct master *m, struct pool_run *r, int i, int64_t now)
{
    struct slot *s = &r->slots[i];

    if (s->state != SLOT_RUNNING || !s->probation)
        return;
    if (s->moved_target && s->peer_run != NULL) {
        r->target--;
        s->peer_run->target++;
    }
    pools_unlink(r, i);
    s->probation = false;
    s->moved_target = false;
    pools_stop(m, r, i, CAUSE_RELOAD, m->gen->conf.global.shutdown_timeout, now,
               "a newer configuration replaces it before it was ready");
}

static void
probation_ready(struct master *m, struct pool_run *r, int i, int64_t now)
{
    struct slot *s = &r->slots[i];
    struct pool_run *vr = s->peer_run;
    int vi = s->peer_slot;
    pid_t vpid = s->peer_pid;
    char t[32];

    supervise_format_duration(now - s->started_ms, t, sizeof t);
    s->probation = false;
    s->moved_target = false;
    if (vr != NULL && vr->slots[vi].pid == vpid && vr->slots[vi].state == SLOT_RUNNING) {
        struct slot *v = &vr->slots[vi];
        enum stop_cause cause = v->cause;
        char why[sizeof v->why];
        /* A copy: pools_stop writes the new reason over v->why. */
        snprintf(why, sizeof why, "%s", v->why[0] ? v->why : pools_cause_name(cause));
        pools_unlink(r, i);
        log_msg(LOG_INFO, "[pool %s] worker %d is ready after %s; it replaces worker %d", r->name,
                (int)s->pid, t, (int)vpid);
        pools_stop(m, vr, vi, cause, m->gen->conf.global.shutdown_timeout, now,
                   "%s: replaced by worker %d", why, (int)s->pid);
    } else {
        pools_unlink(r, i);
        log_msg(LOG_INFO, "[pool %s] worker %d is ready after %s", r->name, (int)s->pid, t);
        vr = NULL;
    }
    reload_probation_done(m, r, i, true, vr, vi, vpid, now);
}

void
replace_check(struct master *m, struct pool_run *r, int i, int64_t now)
{
    struct slot *s = &r->slots[i];
    const struct sb_worker *e = &r->sb->workers[i];

    if (s->state != SLOT_RUNNING || !s->probation)
        return;
    if (atomic_load(&e->ready) && atomic_load(&e->pid) == (int)s->pid) {
        probation_ready(m, r, i, now);
    } else if (now >= s->ready_deadline) {
        char t[32], reason[96];
        supervise_format_duration(r->conf->ready_timeout, t, sizeof t);
        snprintf(reason, sizeof reason, "did not become ready within %s (ready_timeout)", t);
        replace_failed(m, r, i, s->pid, now, reason);
        pools_stop(m, r, i, CAUSE_NOT_READY, POOLS_KILL_GRACE_MS, now, "not ready within %s", t);
    }
}

static bool
recycle_in_progress(const struct pool_run *r)
{
    for (int i = 0; i < r->nslots; i++)
        if (r->slots[i].probation && r->slots[i].peer_run == r)
            return true;
    return false;
}

static void
recycle(struct master *m, struct pool_run *r, int i, enum stop_cause cause,
        const struct watch_result *w, int64_t now)
{
    struct slot *s = &r->slots[i];
    char why[200];

    if (s->probation || s->being_replaced || now < s->recycle_after ||
        recycle_in_progress(r) || reload_rolling(m, r->name))
        return;
    if (cause == CAUSE_MAX_MEMORY)
        snprintf(s->why, sizeof s->why, "PSS %lld MiB is above max_memory %lld MiB",
                 (long long)(w->pss_bytes >> 20), (long long)(r->conf->max_memory >> 20));
    else
        snprintf(s->why, sizeof s->why, "%ld requests served, max_requests %d", w->requests,
                 r->conf->max_requests);
    snprintf(why, sizeof why, "replacing worker %d: %s", (int)s->pid, s->why);
    /* No spare entry or no fork right now: try again in a moment. */
    if (replace_start(m, r, r, i, cause, false, now, why) < 0)
        s->recycle_after = now + 1000;
}

void
replace_watch(struct master *m, struct pool_run *r, int i, int64_t now)
{
    const struct conf_pool *p = r->conf;
    struct watch_limits l = {
        .liveness_ms = p->liveness_timeout,
        .start_grace_ms = p->ready_timeout,
        /* The worker's own graceful stop: request_timeout, and 5 s more. */
        .drain_grace_ms = (int64_t)p->request_timeout + 5000,
        .terminate_ms = p->request_terminate_timeout,
        .max_memory = p->max_memory,
        .max_requests = p->max_requests,
    };
    struct slot *s = &r->slots[i];
    struct watch_result w;
    char a[32], b[32];

    watchdog_check(&r->sb->workers[i], s->started_ms, &l, now, &w);
    switch (w.verdict) {
    case WATCH_OK:
        break;
    case WATCH_LIVENESS:
        supervise_format_duration(w.age_ms, a, sizeof a);
        supervise_format_duration(p->liveness_timeout, b, sizeof b);
        if (s->probation)
            replace_failed(m, r, i, s->pid, now, "stopped answering the liveness check");
        pools_stop(m, r, i, CAUSE_LIVENESS, POOLS_KILL_GRACE_MS, now,
                   "no heartbeat for %s (liveness_timeout %s)", a, b);
        break;
    case WATCH_TERMINATE:
        supervise_format_duration(w.age_ms, a, sizeof a);
        supervise_format_duration(p->request_terminate_timeout, b, sizeof b);
        if (s->probation)
            replace_failed(m, r, i, s->pid, now, "had a request over request_terminate_timeout");
        pools_stop(m, r, i, CAUSE_TERMINATE, POOLS_KILL_GRACE_MS, now,
                   "request on /%s (thread %d) running for %s, over request_terminate_timeout "
                   "%s", w.route[0] ? w.route : "?", w.thread, a, b);
        break;
    case WATCH_MEMORY:
        recycle(m, r, i, CAUSE_MAX_MEMORY, &w, now);
        break;
    case WATCH_REQUESTS:
        recycle(m, r, i, CAUSE_MAX_REQUESTS, &w, now);
        break;
    }
}

