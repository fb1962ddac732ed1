/* pools.c — a pool's running workers; see pools.h.
 *
 * Decisions come from supervise.c (backoff, target count); replace.c
 * handles replacements and the watchdog's verdicts. This file carries them
 * out and logs each event on one line, subject first. Every start and every
 * exit is logged with its cause. The scoreboard is read as untrusted: a
 * worker's entry decides nothing about which process gets a signal. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "children.h"
#include "clock.h"
#include "confgen.h"
#include "log.h"
#include "logfile.h"
#include "master.h"
#include "pools.h"
#include "rc.h"
#include "replace.h"
#include "sockets.h"

const char *
pools_cause_name(enum stop_cause c)
{
    switch (c) {
    case CAUSE_NONE: return "exited on its own";
    case CAUSE_MAX_REQUESTS: return "recycled: max_requests";
    case CAUSE_MAX_MEMORY: return "recycled: max_memory";
    case CAUSE_TERMINATE: return "killed: request_terminate_timeout";
    case CAUSE_LIVENESS: return "killed: liveness_timeout";
    case CAUSE_RELOAD: return "reload";
    case CAUSE_EMERGENCY: return "emergency restart";
    case CAUSE_SCALE_DOWN: return "fewer workers";
    case CAUSE_REMOVED: return "pool removed";
    case CAUSE_NOT_READY: return "not ready in time";
    case CAUSE_SHUTDOWN: return "shutdown";
    }
    return "?";
}

/* ---- the run and its scoreboard ----------------------------------------- */

/* Zero an entry before a worker starts in it (so whatever it holds after
 * the fork is that worker's), keeping the generation count. */
static void
entry_reset(struct sb_worker *e)
{
    int gen = atomic_load(&e->generation);

    memset((void *)e, 0, sizeof *e);
    atomic_store(&e->generation, gen);
    atomic_store(&e->pss_bytes, -1);
}

struct pool_run *
pools_new(struct confgen *gen, const struct conf_pool *p, struct listener *lis)
{
    struct pool_run *r = calloc(1, sizeof *r);

    if (r == NULL) {
        log_errno(LOG_ERR, "[pool %s] calloc", p->name);
        return NULL;
    }
    snprintf(r->name, sizeof r->name, "%s", p->name);
    r->sb_fd = -1;
    r->gen = confgen_ref(gen);
    r->conf = p;
    r->lis = lis;
    lis->refs++;
    r->nslots = p->workers + POOLS_SPARE_SLOTS;
    if ((r->slots = calloc((size_t)r->nslots, sizeof *r->slots)) == NULL) {
        log_errno(LOG_ERR, "[pool %s] calloc", p->name);
        goto fail;
    }
    for (int i = 0; i < r->nslots; i++)
        r->slots[i].peer_slot = -1;
    if (privs_resolve(p, &r->privs) != RC_OK)
        goto fail;
    if (scoreboard_create(p->name, r->nslots, &r->sb_fd, &r->sb) != RC_OK)
        goto fail;
    r->sb_size = scoreboard_size(r->nslots);
    atomic_store(&r->sb->pool_started_ms, clock_ms());
    return r;
fail:
    pools_free(r);
    return NULL;
}

void
pools_free(struct pool_run *r)
{
    if (r == NULL)
        return;
    /* Our own record of the size: the header is writable by the workers. */
    if (r->sb != NULL)
        munmap(r->sb, r->sb_size);
    if (r->sb_fd >= 0)
        close(r->sb_fd);
    privs_free(&r->privs);
    confgen_unref(r->gen);
    free(r->slots);
    free(r);
}

int
pools_live(const struct pool_run *r)
{
    int n = 0;

    for (int i = 0; i < r->nslots; i++)
        n += r->slots[i].pid > 0;
    return n;
}

int
pools_find(const struct pool_run *r, pid_t pid)
{
    for (int i = 0; i < r->nslots; i++)
        if (r->slots[i].pid == pid && pid > 0)
            return i;
    return -1;
}

/* ---- starting and stopping ---------------------------------------------- */

static void
slot_wait(struct master *m, struct pool_run *r, struct slot *s, int64_t now)
{
    s->state = SLOT_WAITING;
    s->restart_at = now + supervise_restart_delay(&m->backoff, s->quick_exits, master_rng(m));
}

int
pools_start(struct master *m, struct pool_run *r, int i, int64_t now, const char *why)
{
    struct slot *s = &r->slots[i];
    struct sb_worker *e = &r->sb->workers[i];
    struct child_spec spec = {
        .binary = m->worker_bin,
        .conf_path = m->conf_path,
        .pool = r->name,
        .listen_fd = r->lis->fd,
        .sb_fd = r->sb_fd,
        .sb_index = i,
        .log_fd = logfile_worker_fd(),
        .privs = &r->privs,
    };
    pid_t pid;

    entry_reset(e);
    atomic_store(&e->generation, atomic_load(&e->generation) + 1);
    atomic_store(&e->started_ms, now);
    if (children_spawn(&spec, &pid) != RC_OK) {
        /* Treat a failed fork like a quick death: retry with backoff. */
        s->quick_exits++;
        slot_wait(m, r, s, now);
        return RC_ERROR;
    }
    atomic_store(&e->pid, (int)pid);
    /* Every start but a pool's first fill replaces a worker. */
    if (r->filled)
        atomic_fetch_add(&r->sb->pool_restarts, 1);
    s->state = SLOT_RUNNING;
    s->pid = pid;
    s->started_ms = now;
    s->restart_at = 0;
    s->kill_at = 0;
    s->cause = CAUSE_NONE;
    s->why[0] = '\0';
    s->probation = false;
    s->being_replaced = false;
    s->moved_target = false;
    s->peer_run = NULL;
    s->peer_slot = -1;
    s->peer_pid = 0;
    s->recycle_after = 0;
    log_msg(LOG_INFO, "[pool %s] worker %d started (%s)", r->name, (int)pid, why);
    return RC_OK;
}

void
pools_unlink(struct pool_run *r, int i)
{
    struct slot *s = &r->slots[i];

    if (s->peer_run != NULL && s->peer_slot >= 0) {
        struct slot *p = &s->peer_run->slots[s->peer_slot];
        if (p->pid == s->peer_pid && p->peer_run == r && p->peer_slot == i) {
            p->peer_run = NULL;
            p->peer_slot = -1;
            p->peer_pid = 0;
            p->being_replaced = false;
            /* Its replacement is gone: it is a plain worker now. A
             * probation one whose victim left stays on probation, to be
             * logged when ready. */
        }
    }
    s->peer_run = NULL;
    s->peer_slot = -1;
    s->peer_pid = 0;
    s->being_replaced = false;
}

static void
send_signal(const char *pool, pid_t pid, int sig, int group)
{
    /* Every worker leads its own process group (setsid), so -pid reaches
     * the worker and whatever stayed in its group. */
    if (group && kill(-pid, sig) == -1 && errno != ESRCH)
        log_errno(LOG_WARN, "[pool %s] kill process group %d", pool, (int)pid);
    if (kill(pid, sig) == -1 && errno != ESRCH)
        log_errno(LOG_WARN, "[pool %s] kill %d", pool, (int)pid);
}

void
pools_stop(struct master *m, struct pool_run *r, int i, enum stop_cause cause, int64_t grace_ms,
           int64_t now, const char *fmt, ...)
{
    struct slot *s = &r->slots[i];
    char t[32];
    va_list ap;

    if (s->state == SLOT_STOPPING) {
        /* Already asked; a more urgent reason may bring the kill closer. */
        if (now + grace_ms < s->kill_at)
            s->kill_at = now + grace_ms;
        return;
    }
    if (s->state != SLOT_RUNNING)
        return;
    va_start(ap, fmt);
    vsnprintf(s->why, sizeof s->why, fmt, ap);
    va_end(ap);
    s->cause = cause;
    s->state = SLOT_STOPPING;
    s->term_at = now;
    s->kill_at = now + grace_ms;
    supervise_format_duration(grace_ms, t, sizeof t);
    log_msg(cause == CAUSE_TERMINATE || cause == CAUSE_LIVENESS || cause == CAUSE_NOT_READY
                ? LOG_WARN : LOG_INFO,
            "[pool %s] worker %d: %s; sending SIGTERM (SIGKILL in %s)", r->name, (int)s->pid,
            s->why, t);
    send_signal(r->name, s->pid, SIGTERM, 0);
}

static void
slot_kill(struct pool_run *r, int i)
{
    struct slot *s = &r->slots[i];

    s->state = SLOT_KILLING;
    send_signal(r->name, s->pid, SIGKILL, 1);
}

void
pools_signal_all(struct master *m, struct pool_run *r, int sig, int64_t now)
{
    for (int i = 0; i < r->nslots; i++) {
        struct slot *s = &r->slots[i];
        switch (s->state) {
        case SLOT_WAITING:
            s->state = SLOT_FREE;
            break;
        case SLOT_RUNNING:
        case SLOT_STOPPING:
            if (sig == SIGKILL) {
                slot_kill(r, i);
            } else if (s->state == SLOT_RUNNING) {
                /* Quietly: the master logs the stop once for everyone. */
                s->state = SLOT_STOPPING;
                s->cause = CAUSE_SHUTDOWN;
                snprintf(s->why, sizeof s->why, "%s", pools_cause_name(CAUSE_SHUTDOWN));
                s->term_at = now;
                s->kill_at = INT64_MAX;
                send_signal(r->name, s->pid, SIGTERM, 0);
            }
            break;
        case SLOT_KILLING:
            if (sig == SIGKILL)
                slot_kill(r, i);
            break;
        case SLOT_FREE:
            break;
        }
    }
}

/* ---- exits --------------------------------------------------------------- */

void
pools_exited(struct master *m, struct pool_run *r, int i, int status, int64_t now)
{
    struct slot *s = &r->slots[i];
    char how[96], lived[32], wait[32];
    enum slot_state was = s->state;
    int clean = supervise_exit_clean(status);
    pid_t pid = s->pid;
    int64_t delay;

    supervise_describe_exit(status, how, sizeof how);
    supervise_format_duration(now - s->started_ms, lived, sizeof lived);
    /* A worker may stop on its own at max_requests: say so. */
    if (was == SLOT_RUNNING && clean && r->conf->max_requests > 0 &&
        atomic_load(&r->sb->workers[i].requests) >= r->conf->max_requests) {
        size_t n = strlen(how);
        snprintf(how + n, sizeof how - n, " (max_requests %d reached)", r->conf->max_requests);
    }
    entry_reset(&r->sb->workers[i]);
    s->pid = 0;
    children_tmpdir_remove(pid);
    master_plan_sweep(m, now);
    if (m->stop != STOP_RUNNING) {
        pools_unlink(r, i);
        s->state = SLOT_FREE;
        log_msg(clean ? LOG_INFO : LOG_WARN, "[pool %s] worker %d %s after %s", r->name,
                (int)pid, how, lived);
        return;
    }
    if (was == SLOT_STOPPING || was == SLOT_KILLING) {
        pools_unlink(r, i);
        s->state = SLOT_FREE;
        log_msg(clean || s->cause == CAUSE_SHUTDOWN ? LOG_INFO : LOG_WARN,
                "[pool %s] worker %d %s after %s (%s)", r->name, (int)pid, how, lived, s->why);
        return;
    }
    if (s->probation) {
        /* A replacement that died before it was ready: nothing to restart,
         * the worker it was to replace is still there. */
        char reason[200];
        s->state = SLOT_FREE;
        snprintf(reason, sizeof reason, "%s after %s, before it was ready", how, lived);
        replace_failed(m, r, i, pid, now, reason);
        return;
    }
    if (s->being_replaced && s->peer_run != NULL) {
        /* Its replacement is on the way: it takes this one's place. */
        pid_t next = s->peer_pid;
        pools_unlink(r, i);
        s->state = SLOT_FREE;
        log_msg(clean ? LOG_INFO : LOG_WARN, "[pool %s] worker %d %s after %s; worker %d, "
                "starting, takes its place", r->name, (int)pid, how, lived, (int)next);
        return;
    }
    if (WIFSIGNALED(status) && supervise_crash_signal(WTERMSIG(status)))
        master_crashed(m, now);
    s->quick_exits = supervise_quick_exits(&m->backoff, s->quick_exits, now - s->started_ms,
                                           clean);
    slot_wait(m, r, s, now);
    s->next_why = "restart";
    delay = s->restart_at - now;
    if (delay == 0) {
        log_msg(clean ? LOG_INFO : LOG_WARN, "[pool %s] worker %d %s after %s; restarting",
                r->name, (int)pid, how, lived);
    } else {
        supervise_format_duration(delay, wait, sizeof wait);
        log_msg(LOG_WARN, "[pool %s] worker %d %s after %s; restarting in %s (%d quick exits "
                "in a row)", r->name, (int)pid, how, lived, wait, s->quick_exits);
    }
}

/* ---- the periodic work --------------------------------------------------- */

/* Bring the run's count of workers to its target. */
static void
scale(struct master *m, struct pool_run *r, int64_t now)
{
    struct slot_view v[r->nslots];
    int pick[r->nslots], grow, n;

    for (int i = 0; i < r->nslots; i++) {
        v[i].state = r->slots[i].state;
        v[i].being_replaced = r->slots[i].being_replaced;
        v[i].on_probation = r->slots[i].probation;
        v[i].started_ms = r->slots[i].started_ms;
    }
    n = supervise_scale(v, r->nslots, r->target, pick, r->nslots, &grow);
    if (grow && n < r->target - supervise_serving(v, r->nslots)) {
        if (!r->no_slot_warned)
            log_msg(LOG_WARN, "[pool %s] no free scoreboard entry for a worker until one of the "
                    "stopping workers exits", r->name);
        r->no_slot_warned = true;
    } else {
        r->no_slot_warned = false;
    }
    for (int k = 0; k < n; k++) {
        struct slot *s = &r->slots[pick[k]];
        if (grow) {
            s->state = SLOT_WAITING;
            s->restart_at = now;
            s->quick_exits = 0;
            s->next_why = r->filled ? "replacement" : "start";
        } else if (s->state == SLOT_WAITING) {
            s->state = SLOT_FREE;
        } else {
            enum stop_cause c = r->current ? CAUSE_SCALE_DOWN
                                           : (r->roll_cause != CAUSE_NONE ? r->roll_cause
                                                                          : CAUSE_REMOVED);
            pools_stop(m, r, pick[k], c, m->gen->conf.global.shutdown_timeout, now, "%s",
                       pools_cause_name(c));
        }
    }
}

void
pools_tick(struct master *m, struct pool_run *r, int64_t now)
{
    for (int i = 0; i < r->nslots; i++) {
        struct slot *s = &r->slots[i];
        if (s->state == SLOT_RUNNING && s->probation)
            replace_check(m, r, i, now);
        if (s->state == SLOT_RUNNING)
            replace_watch(m, r, i, now);
        if (s->state == SLOT_STOPPING && now >= s->kill_at) {
            char t[32];
            supervise_format_duration(now - s->term_at, t, sizeof t);
            log_msg(LOG_WARN, "[pool %s] worker %d still running %s after SIGTERM (%s); sending "
                    "SIGKILL", r->name, (int)s->pid, t, s->why);
            slot_kill(r, i);
        }
    }
    scale(m, r, now);
    for (int i = 0; i < r->nslots; i++) {
        struct slot *s = &r->slots[i];
        if (s->state == SLOT_WAITING && s->restart_at <= now)
            pools_start(m, r, i, now, s->next_why != NULL ? s->next_why : "start");
    }
    r->filled = true;
}

int64_t
pools_next_due(const struct pool_run *r)
{
    int64_t next = INT64_MAX;

    for (int i = 0; i < r->nslots; i++)
        if (r->slots[i].state == SLOT_WAITING && r->slots[i].restart_at < next)
            next = r->slots[i].restart_at;
    return next;
}
