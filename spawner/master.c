/* master.c — pools, workers and the spawner's event loop; see master.h.
 *
 * One thread, one loop: poll() on the signal pipe with a timeout that is the
 * nearest timer (a delayed restart, the next leftover sweep, the stop
 * deadline). Decisions come from supervise.c; this file carries them out
 * and logs what happened, one event per line, subject first. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "children.h"
#include "clock.h"
#include "log.h"
#include "master.h"
#include "procs.h"
#include "rc.h"
#include "signals.h"

/* After a worker dies, its leftovers may be re-parented to us a little
 * later (a zygote exits after its browser): sweep every SWEEP_INTERVAL_MS
 * until SWEEP_WINDOW_MS passed without finding anything. */
#define SWEEP_INTERVAL_MS 100
#define SWEEP_WINDOW_MS 1000
/* How long SIGKILLed workers get to be reaped, and how long the final
 * sweep may take, before the spawner gives up on them. */
#define KILL_WAIT_MS 5000
#define FINAL_SWEEP_MS 3000

static uint32_t
rng_next(struct master *m)
{
    /* xorshift32: jitter needs spread, not cryptographic quality. */
    uint32_t x = m->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return m->rng = x;
}

int
master_init(struct master *m, const struct conf *c, const char *conf_path,
            const char *worker_bin)
{
    const struct backoff b = BACKOFF_DEFAULTS;

    memset(m, 0, sizeof *m);
    m->conf = c;
    m->conf_path = conf_path;
    m->backoff = b;
    m->stop = STOP_RUNNING;
    m->rng = (uint32_t)getpid() * 2654435761u ^ (uint32_t)clock_ms();
    if (m->rng == 0)
        m->rng = 1;
    snprintf(m->worker_bin, sizeof m->worker_bin, "%s", worker_bin);
    if ((m->pools = calloc(c->npools, sizeof *m->pools)) == NULL) {
        log_errno(LOG_ERR, "master: calloc");
        return RC_ERROR;
    }
    m->npools = c->npools;
    for (size_t i = 0; i < m->npools; i++)
        sockets_init(&m->pools[i].lis);
    for (size_t i = 0; i < m->npools; i++) {
        struct mpool *p = &m->pools[i];
        p->conf = &c->pools[i];
        p->nworkers = p->conf->workers;
        if ((p->workers = calloc((size_t)p->nworkers, sizeof *p->workers)) == NULL) {
            log_errno(LOG_ERR, "master: calloc");
            return RC_ERROR;
        }
        m->nlive_max += (size_t)p->nworkers;
        if (sockets_open(p->conf, &p->lis) != RC_OK)
            return RC_ERROR;
    }
    if ((m->live = calloc(m->nlive_max + 1, sizeof *m->live)) == NULL) {
        log_errno(LOG_ERR, "master: calloc");
        return RC_ERROR;
    }
    return RC_OK;
}

void
master_free(struct master *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->npools; i++) {
        sockets_close(&m->pools[i].lis, true);
        free(m->pools[i].workers);
    }
    free(m->pools);
    free(m->live);
    m->pools = NULL;
    m->live = NULL;
    m->npools = 0;
}

static size_t
live_workers(struct master *m)
{
    size_t n = 0;

    for (size_t i = 0; i < m->npools; i++)
        for (int k = 0; k < m->pools[i].nworkers; k++)
            if (m->pools[i].workers[k].pid > 0)
                m->live[n++] = m->pools[i].workers[k].pid;
    return n;
}

static void
plan_sweep(struct master *m, int64_t now)
{
    m->sweep_next = now;
    if (m->sweep_until < now + SWEEP_WINDOW_MS)
        m->sweep_until = now + SWEEP_WINDOW_MS;
}

/* Log the processes a sweep killed that no earlier sweep of this window
 * did (one that is slow to die is signalled again, but reported once). */
static void
sweep_log(struct master *m, const struct orphan_kill *k, size_t n)
{
    size_t fresh = 0, first = 0;

    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < m->nkilled && !seen; j++)
            seen = m->killed[j] == k[i].pid;
        if (seen)
            continue;
        if (fresh++ == 0)
            first = i;
        if (m->nkilled < sizeof m->killed / sizeof m->killed[0])
            m->killed[m->nkilled++] = k[i].pid;
        log_msg(LOG_DEBUG, "leftovers: process %d (group %d, session %d) sent SIGKILL",
                k[i].pid, k[i].pgid, k[i].sid);
    }
    if (fresh > 0)
        log_msg(LOG_INFO, "leftovers: killed %zu process%s no live worker owns (first: pid %d, "
                "session %d)", fresh, fresh == 1 ? "" : "es", k[first].pid, k[first].sid);
}

static void
sweep(struct master *m, int64_t now)
{
    struct orphan_kill k[256];
    int n = procs_sweep(m->live, live_workers(m), k, sizeof k / sizeof k[0]);

    if (n > 0) {
        sweep_log(m, k, (size_t)n < sizeof k / sizeof k[0] ? (size_t)n : sizeof k / sizeof k[0]);
        m->sweep_until = now + SWEEP_WINDOW_MS;
    }
    m->sweep_next = now >= m->sweep_until ? 0 : now + SWEEP_INTERVAL_MS;
    if (m->sweep_next == 0)
        m->nkilled = 0;
}

static int
worker_start(struct master *m, struct mpool *p, struct worker *w, int64_t now)
{
    struct child_spec spec = {
        .binary = m->worker_bin,
        .conf_path = m->conf_path,
        .pool = p->conf->name,
        .listen_fd = p->lis.fd,
    };
    pid_t pid;

    w->restart_at = 0;
    if (children_spawn(&spec, &pid) != RC_OK) {
        /* Treat a failed fork like a quick death: retry with backoff. */
        w->quick_exits++;
        w->restart_at = now + supervise_restart_delay(&m->backoff, w->quick_exits + 1,
                                                      rng_next(m));
        return RC_ERROR;
    }
    w->pid = pid;
    w->started_ms = now;
    log_msg(LOG_INFO, "[pool %s] worker %d started", p->conf->name, (int)pid);
    return RC_OK;
}

int
master_start(struct master *m)
{
    int64_t now = clock_ms();

    for (size_t i = 0; i < m->npools; i++)
        for (int k = 0; k < m->pools[i].nworkers; k++)
            if (worker_start(m, &m->pools[i], &m->pools[i].workers[k], now) != RC_OK)
                return RC_ERROR;
    return RC_OK;
}

static struct worker *
worker_find(struct master *m, pid_t pid, struct mpool **pool)
{
    for (size_t i = 0; i < m->npools; i++) {
        for (int k = 0; k < m->pools[i].nworkers; k++) {
            if (m->pools[i].workers[k].pid == pid) {
                *pool = &m->pools[i];
                return &m->pools[i].workers[k];
            }
        }
    }
    return NULL;
}

static void
worker_exited(struct master *m, struct mpool *p, struct worker *w, int status, int64_t now)
{
    char how[96], lived[32], wait[32];
    int64_t delay;
    int clean = supervise_exit_clean(status);
    pid_t pid = w->pid;

    supervise_describe_exit(status, how, sizeof how);
    supervise_format_duration(now - w->started_ms, lived, sizeof lived);
    w->pid = 0;
    plan_sweep(m, now);
    children_tmpdir_remove(pid);
    if (m->stop != STOP_RUNNING) {
        log_msg(clean ? LOG_INFO : LOG_WARN, "[pool %s] worker %d %s after %s", p->conf->name,
                (int)pid, how, lived);
        return;
    }
    w->quick_exits = supervise_quick_exits(&m->backoff, w->quick_exits, now - w->started_ms,
                                           clean);
    delay = supervise_restart_delay(&m->backoff, w->quick_exits, rng_next(m));
    w->restart_at = now + delay;
    if (delay == 0) {
        log_msg(clean ? LOG_INFO : LOG_WARN, "[pool %s] worker %d %s after %s; restarting",
                p->conf->name, (int)pid, how, lived);
    } else {
        supervise_format_duration(delay, wait, sizeof wait);
        log_msg(LOG_WARN, "[pool %s] worker %d %s after %s; restarting in %s (%d quick exits "
                "in a row)", p->conf->name, (int)pid, how, lived, wait, w->quick_exits);
    }
}

/* Collect every child that has exited: our workers, and the leftovers we
 * adopted as subreaper and killed. */
static void
reap(struct master *m, int64_t now)
{
    struct mpool *p;
    struct worker *w;
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if ((w = worker_find(m, pid, &p)) != NULL) {
            worker_exited(m, p, w, status, now);
        } else {
            char how[96];
            supervise_describe_exit(status, how, sizeof how);
            log_msg(LOG_DEBUG, "reaped adopted process %d (%s)", (int)pid, how);
            /* It may have had children of its own, now ours. */
            plan_sweep(m, now);
        }
    }
    if (pid == -1 && errno != ECHILD)
        log_errno(LOG_WARN, "waitpid");
}

static void
restarts_due(struct master *m, int64_t now)
{
    for (size_t i = 0; i < m->npools; i++) {
        for (int k = 0; k < m->pools[i].nworkers; k++) {
            struct worker *w = &m->pools[i].workers[k];
            if (w->pid == 0 && w->restart_at <= now)
                worker_start(m, &m->pools[i], w, now);
        }
    }
}

static void
signal_workers(struct master *m, int sig, int whole_group)
{
    for (size_t n = live_workers(m), i = 0; i < n; i++) {
        /* Every worker leads its own process group (setsid), so -pid
         * reaches the worker and whatever stayed in its group. */
        if (whole_group && kill(-m->live[i], sig) == -1 && errno != ESRCH)
            log_errno(LOG_WARN, "kill process group %d", m->live[i]);
        if (kill(m->live[i], sig) == -1 && errno != ESRCH)
            log_errno(LOG_WARN, "kill %d", m->live[i]);
    }
}

static void
stop_event(struct master *m, enum stop_event ev, int64_t now)
{
    enum stop_state next = supervise_stop_next(m->stop, ev);
    char t[32];
    size_t n;

    if (next == m->stop)
        return;
    m->stop = next;
    n = live_workers(m);
    switch (next) {
    case STOP_GRACEFUL:
        supervise_format_duration(m->conf->global.shutdown_timeout, t, sizeof t);
        log_msg(LOG_INFO, "stopping: %zu worker%s get up to %s to finish their requests", n,
                n == 1 ? "" : "s", t);
        signal_workers(m, SIGTERM, 0);
        m->stop_deadline = now + m->conf->global.shutdown_timeout;
        break;
    case STOP_KILLING:
        log_msg(LOG_WARN, "stopping: %zu worker%s still running%s; sending SIGKILL", n,
                n == 1 ? "" : "s", ev == STOP_EV_SIGNAL ? " and asked again" : " at the deadline");
        signal_workers(m, SIGKILL, 1);
        m->stop_deadline = now + KILL_WAIT_MS;
        plan_sweep(m, now);
        break;
    case STOP_DONE:
        if (n > 0)
            log_msg(LOG_ERR, "stopping: %zu worker%s did not die after SIGKILL; giving up on "
                    "them", n, n == 1 ? "" : "s");
        break;
    case STOP_RUNNING:
        break;
    }
}

static int
next_timeout(const struct master *m, int64_t now)
{
    int64_t next = INT64_MAX;

    if (m->stop == STOP_RUNNING) {
        for (size_t i = 0; i < m->npools; i++)
            for (int k = 0; k < m->pools[i].nworkers; k++)
                if (m->pools[i].workers[k].pid == 0 && m->pools[i].workers[k].restart_at < next)
                    next = m->pools[i].workers[k].restart_at;
    } else if (m->stop_deadline < next) {
        next = m->stop_deadline;
    }
    if (m->sweep_next > 0 && m->sweep_next < next)
        next = m->sweep_next;
    if (next == INT64_MAX)
        return -1;
    return next <= now ? 0 : (int)(next - now > INT32_MAX ? INT32_MAX : next - now);
}

/* With every worker gone, no descendant of ours has an owner: kill them
 * all and reap until none is left, or give up after FINAL_SWEEP_MS. */
static void
final_sweep(struct master *m)
{
    int64_t deadline = clock_ms() + FINAL_SWEEP_MS;
    struct pollfd pfd = { .fd = signals_fd(), .events = POLLIN };
    struct orphan_kill k[256];

    m->nkilled = 0;
    for (;;) {
        int found = procs_sweep(NULL, 0, k, sizeof k / sizeof k[0]), status;
        pid_t pid;

        if (found > 0)
            sweep_log(m, k, (size_t)found < sizeof k / sizeof k[0] ? (size_t)found
                                                                   : sizeof k / sizeof k[0]);

        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
            ;
        if (found <= 0 && pid == -1 && errno == ECHILD)
            return;
        if (clock_ms() >= deadline) {
            log_msg(LOG_WARN, "stopping: processes left behind would not die; exiting anyway");
            return;
        }
        (void)poll(&pfd, 1, 50);
        (void)signals_take();
    }
}

void
master_run(struct master *m)
{
    const uint64_t stop_sigs = SIGNAL_BIT(SIGTERM) | SIGNAL_BIT(SIGINT) | SIGNAL_BIT(SIGQUIT);
    struct pollfd pfd = { .fd = signals_fd(), .events = POLLIN };

    while (m->stop != STOP_DONE) {
        int64_t now = clock_ms();
        uint64_t sigs;

        if (poll(&pfd, 1, next_timeout(m, now)) == -1 && errno != EINTR) {
            log_errno(LOG_ERR, "poll");
            break;
        }
        sigs = signals_take();
        now = clock_ms();
        if (sigs & SIGNAL_BIT(SIGCHLD))
            reap(m, now);
        if (sigs & stop_sigs)
            stop_event(m, STOP_EV_SIGNAL, now);
        if (sigs & SIGNAL_BIT(SIGHUP))
            log_msg(LOG_WARN, "SIGHUP: reload not implemented yet; configuration unchanged");
        if (m->stop == STOP_RUNNING)
            restarts_due(m, now);
        if (m->sweep_next > 0 && now >= m->sweep_next)
            sweep(m, now);
        if ((m->stop == STOP_GRACEFUL || m->stop == STOP_KILLING) && now >= m->stop_deadline)
            stop_event(m, STOP_EV_DEADLINE, now);
        if (m->stop != STOP_RUNNING && live_workers(m) == 0)
            stop_event(m, STOP_EV_ALL_EXITED, now);
    }
    final_sweep(m);
    log_msg(LOG_INFO, "stopped");
}
