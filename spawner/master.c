/* master.c — the spawner's event loop, sockets, sweeps and stop sequence;
 * see master.h.
 *
 * One thread, one loop: poll() on the signal pipe and the workers' log
 * pipe, waking at the nearest timer (a restart due, the next watchdog
 * round, a sweep, the stop deadline). pools.c runs the workers, reload.c
 * the reloads; this file sequences them and carries out the stop. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "logfile.h"
#include "master.h"
#include "pools.h"
#include "procs.h"
#include "rc.h"
#include "reload.h"
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
/* How often the scoreboards are read (heartbeats, request ages, memory,
 * readiness). Workers heartbeat once a second. */
#define WATCH_INTERVAL_MS 250

uint32_t
master_rng(struct master *m)
{
    /* xorshift32: jitter needs spread, not cryptographic quality. */
    uint32_t x = m->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return m->rng = x;
}

/* ---- sockets -------------------------------------------------------------- */

struct listener *
master_listener_get(struct master *m, const struct conf_pool *p)
{
    struct listener *l;

    for (l = m->listeners; l != NULL; l = l->next) {
        if (l->fd >= 0 && sockets_match(l, p)) {
            (void)sockets_update(l, p);
            l->refs++;
            return l;
        }
    }
    if ((l = calloc(1, sizeof *l)) == NULL) {
        log_errno(LOG_ERR, "[pool %s] calloc", p->name);
        return NULL;
    }
    if (sockets_open(p, l) != RC_OK) {
        free(l);
        return NULL;
    }
    l->refs = 1;
    l->next = m->listeners;
    m->listeners = l;
    return l;
}

void
master_listener_put(struct master *m, struct listener *l)
{
    struct listener **pp;

    if (l == NULL || --l->refs > 0)
        return;
    for (pp = &m->listeners; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    }
    if (l->addr != NULL)
        log_msg(LOG_INFO, "closing %s: no pool listens there any more", l->addr);
    sockets_close(l, true);
    free(l);
}

/* ---- the emergency restart ------------------------------------------------ */

void
master_crashes_config(struct master *m)
{
    int threshold = m->gen->conf.global.emergency_restart_threshold;
    int64_t *t;

    if (threshold == m->crashes.threshold)
        return;
    t = threshold > 0 ? calloc((size_t)threshold, sizeof *t) : NULL;
    if (threshold > 0 && t == NULL) {
        log_errno(LOG_WARN, "emergency_restart_threshold: calloc; left off");
        threshold = 0;
    }
    free(m->crashes.times);
    m->crashes = (struct crash_ring){ .times = t, .threshold = threshold };
}

void
master_crashed(struct master *m, int64_t now)
{
    const struct conf_global *g = &m->gen->conf.global;

    if (supervise_crash_note(&m->crashes, g->emergency_restart_interval, now)) {
        char t[32];
        supervise_format_duration(g->emergency_restart_interval, t, sizeof t);
        log_msg(LOG_WARN, "emergency restart: %d workers crashed within %s "
                "(emergency_restart_threshold); restarting every worker, one at a time",
                g->emergency_restart_threshold, t);
        /* Done from the loop, not from inside the reaping. */
        m->emergency = true;
    }
}

/* ---- init and teardown ---------------------------------------------------- */

static void
runs_append(struct master *m, struct pool_run *r)
{
    struct pool_run **pp = &m->runs;

    while (*pp != NULL)
        pp = &(*pp)->next;
    *pp = r;
}

int
master_init(struct master *m, struct confgen *gen, const struct overrides *ovr,
            const char *conf_file, const char *conf_path, const char *worker_bin)
{
    const struct backoff b = BACKOFF_DEFAULTS;

    memset(m, 0, sizeof *m);
    m->gen = gen;
    m->ovr = *ovr;
    m->conf_file = conf_file;
    m->conf_path = conf_path;
    m->backoff = b;
    m->stop = STOP_RUNNING;
    m->rng = (uint32_t)getpid() * 2654435761u ^ (uint32_t)clock_ms();
    if (m->rng == 0)
        m->rng = 1;
    snprintf(m->worker_bin, sizeof m->worker_bin, "%s", worker_bin);
    master_crashes_config(m);
    for (size_t i = 0; i < gen->conf.npools; i++) {
        const struct conf_pool *p = &gen->conf.pools[i];
        struct listener *l = master_listener_get(m, p);
        struct pool_run *r;

        if (l == NULL)
            return RC_ERROR;
        r = pools_new(gen, p, l);
        master_listener_put(m, l); /* The run holds its own reference. */
        if (r == NULL)
            return RC_ERROR;
        r->current = true;
        r->final_target = p->workers;
        runs_append(m, r);
    }
    return RC_OK;
}

void
master_free(struct master *m)
{
    if (m == NULL)
        return;
    while (m->runs != NULL) {
        struct pool_run *r = m->runs;
        struct listener *l = r->lis;
        m->runs = r->next;
        r->lis = NULL;
        pools_free(r);
        master_listener_put(m, l);
    }
    while (m->listeners != NULL) {
        struct listener *l = m->listeners;
        m->listeners = l->next;
        sockets_close(l, true);
        free(l);
    }
    free(m->live);
    free(m->crashes.times);
    confgen_unref(m->gen);
    m->live = NULL;
    m->crashes.times = NULL;
    m->gen = NULL;
}

int
master_start(struct master *m)
{
    int64_t now = clock_ms();

    for (struct pool_run *r = m->runs; r != NULL; r = r->next) {
        r->target = r->final_target;
        pools_tick(m, r, now);
        for (int i = 0; i < r->nslots; i++)
            if (r->slots[i].state == SLOT_WAITING)
                return RC_ERROR; /* A fork failed; logged. */
    }
    m->watch_next = now + WATCH_INTERVAL_MS;
    return RC_OK;
}

/* ---- leftovers ------------------------------------------------------------ */

static size_t
live_workers(struct master *m)
{
    size_t n = 0, need = 0;

    for (struct pool_run *r = m->runs; r != NULL; r = r->next)
        need += (size_t)r->nslots;
    if (need > m->nlive_max) {
        int *grown = realloc(m->live, (need + 1) * sizeof *grown);
        if (grown == NULL)
            return 0; /* Sweeping with no live worker would kill them: see sweep(). */
        m->live = grown;
        m->nlive_max = need;
    }
    for (struct pool_run *r = m->runs; r != NULL; r = r->next)
        for (int i = 0; i < r->nslots; i++)
            if (r->slots[i].pid > 0)
                m->live[n++] = r->slots[i].pid;
    return n;
}

static size_t
count_live(const struct master *m)
{
    size_t n = 0;

    for (const struct pool_run *r = m->runs; r != NULL; r = r->next)
        n += (size_t)pools_live(r);
    return n;
}

void
master_plan_sweep(struct master *m, int64_t now)
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
    size_t nlive = live_workers(m);
    int n;

    /* Without the list of live workers (out of memory), a sweep would take
     * them for leftovers: wait for the next round instead. */
    if (nlive == 0 && count_live(m) > 0) {
        m->sweep_next = now + SWEEP_INTERVAL_MS;
        return;
    }
    n = procs_sweep(m->live, nlive, k, sizeof k / sizeof k[0]);
    if (n > 0) {
        sweep_log(m, k, (size_t)n < sizeof k / sizeof k[0] ? (size_t)n : sizeof k / sizeof k[0]);
        m->sweep_until = now + SWEEP_WINDOW_MS;
    }
    m->sweep_next = now >= m->sweep_until ? 0 : now + SWEEP_INTERVAL_MS;
    if (m->sweep_next == 0)
        m->nkilled = 0;
}

/* ---- reaping -------------------------------------------------------------- */

/* Collect every child that has exited: our workers, and the leftovers we
 * adopted as subreaper and killed. */
static void
reap(struct master *m, int64_t now)
{
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        struct pool_run *r;
        int i = -1;

        for (r = m->runs; r != NULL; r = r->next)
            if ((i = pools_find(r, pid)) >= 0)
                break;
        if (r != NULL) {
            pools_exited(m, r, i, status, now);
        } else {
            char how[96];
            supervise_describe_exit(status, how, sizeof how);
            log_msg(LOG_DEBUG, "reaped adopted process %d (%s)", (int)pid, how);
            /* It may have had children of its own, now ours. */
            master_plan_sweep(m, now);
        }
    }
    if (pid == -1 && errno != ECHILD)
        log_errno(LOG_WARN, "waitpid");
}

/* ---- the stop sequence ---------------------------------------------------- */

static void
stop_event(struct master *m, enum stop_event ev, int64_t now)
{
    enum stop_state next = supervise_stop_next(m->stop, ev);
    int64_t grace = m->gen->conf.global.shutdown_timeout;
    char t[32];
    size_t n;

    if (next == m->stop)
        return;
    m->stop = next;
    n = count_live(m);
    switch (next) {
    case STOP_GRACEFUL:
        supervise_format_duration(grace, t, sizeof t);
        log_msg(LOG_INFO, "stopping: %zu worker%s get up to %s to finish their requests", n,
                n == 1 ? "" : "s", t);
        /* Stop accepting: the socket files go now, so a web server with
         * another upstream moves on at once; the workers keep their copies
         * of the sockets to finish what they accepted. */
        for (struct listener *l = m->listeners; l != NULL; l = l->next)
            sockets_close(l, true);
        for (struct pool_run *r = m->runs; r != NULL; r = r->next)
            pools_signal_all(m, r, SIGTERM, now);
        m->stop_deadline = now + grace;
        break;
    case STOP_KILLING:
        log_msg(LOG_WARN, "stopping: %zu worker%s still running%s; sending SIGKILL", n,
                n == 1 ? "" : "s", ev == STOP_EV_SIGNAL ? " and asked again" : " at the deadline");
        for (struct pool_run *r = m->runs; r != NULL; r = r->next)
            pools_signal_all(m, r, SIGKILL, now);
        m->stop_deadline = now + KILL_WAIT_MS;
        master_plan_sweep(m, now);
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
        bool none_left;
        pid_t pid;

        if (found > 0)
            sweep_log(m, k, (size_t)found < sizeof k / sizeof k[0] ? (size_t)found
                                                                   : sizeof k / sizeof k[0]);
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
            ;
        none_left = pid == -1 && errno == ECHILD;
        logfile_drain();
        if (found <= 0 && none_left)
            return;
        if (clock_ms() >= deadline) {
            log_msg(LOG_WARN, "stopping: processes left behind would not die; exiting anyway");
            return;
        }
        (void)poll(&pfd, 1, 50);
        (void)signals_take();
    }
}

/* ---- the loop ------------------------------------------------------------- */

static int
next_timeout(const struct master *m, int64_t now)
{
    int64_t next = INT64_MAX;

    if (m->stop == STOP_RUNNING) {
        next = m->watch_next;
        for (const struct pool_run *r = m->runs; r != NULL; r = r->next) {
            int64_t due = pools_next_due(r);
            if (due < next)
                next = due;
        }
    } else if (m->stop_deadline < next) {
        next = m->stop_deadline;
    }
    if (m->sweep_next > 0 && m->sweep_next < next)
        next = m->sweep_next;
    if (next == INT64_MAX)
        return -1;
    return next <= now ? 0 : (int)(next - now > INT32_MAX ? INT32_MAX : next - now);
}

static void
running_tick(struct master *m, int64_t now)
{
    bool watch = now >= m->watch_next;

    if (m->emergency) {
        m->emergency = false;
        reload_restart_all(m, CAUSE_EMERGENCY, now);
    }
    for (struct pool_run *r = m->runs; r != NULL; r = r->next) {
        if (r->roll != ROLL_NONE)
            reload_step(m, r, now);
        /* A full round only every WATCH_INTERVAL_MS; due restarts at once. */
        if (watch || pools_next_due(r) <= now)
            pools_tick(m, r, now);
    }
    reload_collect(m);
    if (watch)
        m->watch_next = now + WATCH_INTERVAL_MS;
}

void
master_run(struct master *m)
{
    const uint64_t stop_sigs = SIGNAL_BIT(SIGTERM) | SIGNAL_BIT(SIGINT) | SIGNAL_BIT(SIGQUIT);
    struct pollfd pfd[2] = {
        { .fd = signals_fd(), .events = POLLIN },
        { .fd = logfile_pipe_fd(), .events = POLLIN },
    };

    while (m->stop != STOP_DONE) {
        int64_t now = clock_ms();
        uint64_t sigs;

        pfd[1].fd = logfile_pipe_fd();
        if (poll(pfd, 2, next_timeout(m, now)) == -1 && errno != EINTR) {
            log_errno(LOG_ERR, "poll");
            break;
        }
        logfile_drain();
        sigs = signals_take();
        now = clock_ms();
        if (sigs & SIGNAL_BIT(SIGCHLD))
            reap(m, now);
        if (sigs & stop_sigs)
            stop_event(m, STOP_EV_SIGNAL, now);
        if (sigs & SIGNAL_BIT(SIGUSR1))
            (void)logfile_reopen(m->gen->conf.global.error_log);
        if ((sigs & SIGNAL_BIT(SIGHUP)) && m->stop == STOP_RUNNING)
            reload_config(m, now);
        if (m->stop == STOP_RUNNING)
            running_tick(m, now);
        if (m->sweep_next > 0 && now >= m->sweep_next)
            sweep(m, now);
        if ((m->stop == STOP_GRACEFUL || m->stop == STOP_KILLING) && now >= m->stop_deadline)
            stop_event(m, STOP_EV_DEADLINE, now);
        if (m->stop != STOP_RUNNING && count_live(m) == 0)
            stop_event(m, STOP_EV_ALL_EXITED, now);
    }
    final_sweep(m);
    log_msg(LOG_INFO, "stopped");
}
