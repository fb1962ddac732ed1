/* pool.c — the browser pool and its supervisor thread; see pool.h.
 *
 * State per browser (under pool->mu):
 *   STARTING  the supervisor is launching it (or will retry after a backoff)
 *   READY     its free, prepared slots can be checked out
 *   DRAINING  no new checkouts; restarted once its busy slots come back
 *             (recycling after browser_max_pages or above browser_max_memory)
 *   DEAD      it crashed or misbehaved; killed, restarted once idle
 * Transitions: STARTING→READY|STARTING(retry), READY→DRAINING|DEAD,
 * DRAINING→DEAD, DEAD→STARTING. Only the supervisor launches and stops. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "browser.h"
#include "cdp.h"
#include "clock.h"
#include "fcgi.h"
#include "log.h"
#include "page.h"
#include "pool.h"
#include "proctable.h"
#include "proxy.h"
#include "rc.h"

#define LAUNCH_TIMEOUT_MS 30000
#define PREPARE_TIMEOUT_MS 15000
#define MEMORY_CHECK_MS 5000

static const char *const state_names[] = { "starting", "ready", "draining", "dead" };

struct pool_browser {
    struct pool *pool;
    struct browser b;
    enum browser_state state;
    struct slot *slots;
    int busy;              /* slots checked out */
    int pages;             /* pages served since launch */
    int launches;          /* successful or not */
    int failures;          /* consecutive failed launches */
    int64_t retry_at;      /* next launch attempt (monotonic ms) */
    char reason[160];      /* why it is draining or dead, for the log */
};

struct pool {
    const struct conf_pool *conf;
    struct proxy *proxy;          /* the policy proxy of every browser */
    int verbose;
    pthread_mutex_t mu;
    pthread_cond_t slot_freed;    /* a slot became free or a browser ready */
    pthread_cond_t wake;          /* something for the supervisor to do */
    struct pool_browser *browsers;
    int nbrowsers;
    int per_browser;
    int waiting;
    int busy;
    int stopping;
    long restarts;
    int64_t pss_bytes;
    char product[96];
    char error[256];
    pthread_t supervisor;
    int supervisor_started;
};

static void reap_strays(struct pool *p);

/* Caller holds p->mu. */
static void
set_state(struct pool_browser *pb, enum browser_state to, const char *why)
{
    if (pb->state == to)
        return;
    log_msg(to == BROWSER_DEAD ? LOG_WARN : LOG_INFO, "[browser %d] %s -> %s%s%s", pb->b.id,
            state_names[pb->state], state_names[to], why ? ": " : "", why ? why : "");
    if (why != NULL)
        snprintf(pb->reason, sizeof pb->reason, "%s", why);
    pb->state = to;
    pthread_cond_broadcast(&pb->pool->wake);
    pthread_cond_broadcast(&pb->pool->slot_freed);
}

/* CDP reader thread: a page opened a popup or a new window (window.open,
 * target=_blank): nobody will look at it, close it at once. Our own slot
 * pages are created with Target.createTarget and have no opener. */
static void
close_popup(struct pool_browser *pb, yajl_val params)
{
    const char *type = cdp_get_string(params, "targetInfo", "type", NULL);
    const char *opener = cdp_get_string(params, "targetInfo", "openerId", NULL);
    const char *id = cdp_get_string(params, "targetInfo", "targetId", NULL);
    struct buf p;

    if (type == NULL || strcmp(type, "page") != 0 || opener == NULL || id == NULL)
        return;
    buf_init(&p, 256);
    buf_puts(&p, "{\"targetId\":");
    buf_json_string(&p, id);
    buf_puts(&p, "}");
    /* A send, not a call: the reader thread must not wait for a reply. */
    cdp_send(pb->b.cdp, NULL, "Target.closeTarget", p.data);
    buf_free(&p);
    log_msg(LOG_INFO, "[browser %d] closed a popup opened by a page", pb->b.id);
}

/* CDP reader thread: route an event to the slot it concerns. */
static void
on_event(void *ud, const char *session_id, const char *method, yajl_val params)
{
    struct pool_browser *pb = ud;

    if (session_id == NULL && strcmp(method, "Target.targetCreated") == 0) {
        close_popup(pb, params);
        return;
    }
    for (int i = 0; i < pb->pool->per_browser; i++)
        if (page_on_event(&pb->slots[i], session_id, method, params))
            return;
}

/* CDP reader thread: the connection ended (the browser exited or broke). */
static void
on_closed(void *ud, const char *why)
{
    struct pool_browser *pb = ud;
    struct pool *p = pb->pool;

    pthread_mutex_lock(&p->mu);
    if (!p->stopping && (pb->state == BROWSER_READY || pb->state == BROWSER_DRAINING))
        set_state(pb, BROWSER_DEAD, why);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->per_browser; i++)
        page_on_closed(&pb->slots[i]);
}

/* Supervisor thread, p->mu not held: launch and prepare every slot. */
static int
launch_one(struct pool *p, struct pool_browser *pb, char *err, size_t errlen)
{
    struct browser_launch_conf lc = {
        .chromium = p->conf->chromium, .width = 1280, .height = 720, .verbose = p->verbose,
        .proxy_port = proxy_port(p->proxy),
    };
    struct buf perr;
    int rc;

    if ((rc = browser_launch(&pb->b, &lc, on_event, on_closed, pb,
                             clock_ms() + LAUNCH_TIMEOUT_MS, err, errlen)) != RC_OK)
        return rc;
    buf_init(&perr, 1024);
    /* Target.targetCreated events, to close popups (close_popup). */
    if ((rc = cdp_call(pb->b.cdp, NULL, "Target.setDiscoverTargets", "{\"discover\":true}",
                       clock_ms() + LAUNCH_TIMEOUT_MS, NULL, &perr)) != RC_OK) {
        snprintf(err, errlen, "Target.setDiscoverTargets failed: %s", perr.data);
        buf_free(&perr);
        browser_stop(&pb->b);
        return rc;
    }
    for (int i = 0; i < p->per_browser; i++) {
        if ((rc = page_prepare(&pb->slots[i], clock_ms() + PREPARE_TIMEOUT_MS, &perr)) != RC_OK) {
            snprintf(err, errlen, "preparing page slot %d failed: %s", i, perr.data);
            buf_free(&perr);
            browser_stop(&pb->b);
            return rc;
        }
        pb->slots[i].ready = 1;
    }
    buf_free(&perr);
    return RC_OK;
}

/* Supervisor thread with p->mu held: bring one browser towards READY. */
static void
supervise_one(struct pool *p, struct pool_browser *pb, int64_t now, int64_t *next_wake)
{
    char err[256];
    int rc;

    switch (pb->state) {
    case BROWSER_READY:
        return;
    case BROWSER_DRAINING:
    case BROWSER_DEAD:
        if (pb->busy > 0)
            return; /* the requests still holding slots will fail or finish first */
        /* STARTING before the stop, so that the connection closing now is
         * not taken for a crash (on_closed ignores a browser not serving). */
        set_state(pb, BROWSER_STARTING, NULL);
        pthread_mutex_unlock(&p->mu);
        browser_stop(&pb->b);
        reap_strays(p);
        pthread_mutex_lock(&p->mu);
        for (int i = 0; i < p->per_browser; i++)
            pb->slots[i].ready = 0;
        pb->retry_at = now;
        /* fall through */
    case BROWSER_STARTING:
        if (now < pb->retry_at) {
            if (pb->retry_at < *next_wake)
                *next_wake = pb->retry_at;
            return;
        }
        if (pb->launches > 0)
            p->restarts++;
        pb->launches++;
        pthread_mutex_unlock(&p->mu);
        rc = launch_one(p, pb, err, sizeof err);
        pthread_mutex_lock(&p->mu);
        if (rc == RC_OK) {
            pb->failures = 0;
            pb->pages = 0;
            snprintf(p->product, sizeof p->product, "%s", pb->b.product);
            p->error[0] = '\0';
            set_state(pb, BROWSER_READY, NULL);
        } else {
            /* Exponential backoff, capped, so a broken Chromium does not spin. */
            int64_t delay = 250LL << (pb->failures < 7 ? pb->failures : 7);
            pb->failures++;
            pb->retry_at = clock_ms() + delay;
            snprintf(p->error, sizeof p->error, "%s", err);
            log_msg(LOG_ERR, "[browser %d] launch failed (%d in a row): %s; retrying in %lld ms",
                    pb->b.id, pb->failures, err, (long long)delay);
            if (pb->retry_at < *next_wake)
                *next_wake = pb->retry_at;
        }
        return;
    }
}

/* Supervisor thread, p->mu not held: recycle browsers above the memory cap. */
static void
check_memory(struct pool *p)
{
    int64_t total = 0;

    for (int i = 0; i < p->nbrowsers; i++) {
        struct pool_browser *pb = &p->browsers[i];
        int64_t pss;
        pid_t pid;
        /* Read /proc without the pool's lock (checkouts and checkins take
         * it), then act only if the same browser is still there. */
        pthread_mutex_lock(&p->mu);
        pid = pb->state == BROWSER_READY ? pb->b.pid : -1;
        pthread_mutex_unlock(&p->mu);
        pss = browser_pss(pid);
        pthread_mutex_lock(&p->mu);
        if (pb->b.pid != pid)
            pss = -1;
        if (pss > 0)
            total += pss;
        if (pss > 0 && p->conf->browser_max_memory > 0 && pss > p->conf->browser_max_memory &&
            pb->state == BROWSER_READY) {
            char why[128];
            snprintf(why, sizeof why, "PSS %lld MiB is above browser_max_memory %lld MiB",
                     (long long)(pss >> 20), (long long)(p->conf->browser_max_memory >> 20));
            set_state(pb, BROWSER_DRAINING, why);
        }
        pthread_mutex_unlock(&p->mu);
    }
    pthread_mutex_lock(&p->mu);
    p->pss_bytes = total;
    pthread_mutex_unlock(&p->mu);
}

/* Supervisor thread: reap zombie children that belong to no live browser —
 * helpers such as chrome_crashpad_handler leave the browser's process group,
 * become our children (we are a subreaper) and may die on their own. */
static void
reap_strays(struct pool *p)
{
    struct proc_info *procs = NULL;
    pid_t live[64];
    int nlive = 0;
    size_t n = 0;

    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->nbrowsers && nlive < 64; i++)
        if (p->browsers[i].b.pid > 0)
            live[nlive++] = p->browsers[i].b.pid;
    pthread_mutex_unlock(&p->mu);
    if (procs_snapshot(&procs, &n) != RC_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        int mine = procs[i].state == 'Z' && procs[i].ppid == getpid();
        for (int k = 0; mine && k < nlive; k++)
            if (procs[i].pgid == live[k])
                mine = 0;
        if (mine)
            waitpid(procs[i].pid, NULL, WNOHANG);
    }
    free(procs);
}

static void *
supervisor_main(void *arg)
{
    struct pool *p = arg;
    int64_t next_memory_check = clock_ms() + MEMORY_CHECK_MS;

    pthread_mutex_lock(&p->mu);
    while (!p->stopping) {
        int64_t now = clock_ms(), next_wake = now + 1000;
        struct timespec ts;

        for (int i = 0; i < p->nbrowsers && !p->stopping; i++)
            supervise_one(p, &p->browsers[i], now, &next_wake);
        if (now >= next_memory_check) {
            pthread_mutex_unlock(&p->mu);
            check_memory(p);
            reap_strays(p);
            pthread_mutex_lock(&p->mu);
            next_memory_check = clock_ms() + MEMORY_CHECK_MS;
        }
        if (p->stopping)
            break;
        clock_deadline_timespec(next_wake, &ts);
        pthread_cond_timedwait(&p->wake, &p->mu, &ts);
    }
    pthread_mutex_unlock(&p->mu);
    /* Stopping: the caller guarantees no slot is checked out. */
    for (int i = 0; i < p->nbrowsers; i++)
        browser_stop(&p->browsers[i].b);
    return NULL;
}

int
pool_start(const struct conf_pool *c, const struct policy *policy, int verbose,
           struct pool **out)
{
    struct pool *p = calloc(1, sizeof *p);
    char err[256];

    if (p == NULL)
        return RC_ERROR;
    if (proxy_start(policy, &p->proxy, err, sizeof err) != RC_OK) {
        log_msg(LOG_ERR, "pool: cannot start the policy proxy: %s", err);
        free(p);
        return RC_ERROR;
    }
    p->conf = c;
    p->verbose = verbose;
    p->nbrowsers = c->browsers;
    p->per_browser = c->pages_per_browser;
    p->pss_bytes = -1;
    pthread_mutex_init(&p->mu, NULL);
    clock_cond_init(&p->slot_freed);
    clock_cond_init(&p->wake);
    if ((p->browsers = calloc((size_t)p->nbrowsers, sizeof *p->browsers)) == NULL)
        goto fail;
    for (int i = 0; i < p->nbrowsers; i++) {
        struct pool_browser *pb = &p->browsers[i];
        pb->pool = p;
        pb->b.id = i;
        pb->b.pid = -1;
        pb->state = BROWSER_STARTING;
        if ((pb->slots = calloc((size_t)p->per_browser, sizeof *pb->slots)) == NULL)
            goto fail;
        for (int j = 0; j < p->per_browser; j++) {
            page_slot_init(&pb->slots[j], &pb->b, j);
            pb->slots[j].proxy = p->proxy;
        }
    }
    if (pthread_create(&p->supervisor, NULL, supervisor_main, p) != 0) {
        log_errno(LOG_ERR, "pool: cannot start the supervisor thread");
        goto fail;
    }
    p->supervisor_started = 1;
    *out = p;
    return RC_OK;
fail:
    pool_stop(p);
    return RC_ERROR;
}

void
pool_stop(struct pool *p)
{
    if (p == NULL)
        return;
    if (p->supervisor_started) {
        pthread_mutex_lock(&p->mu);
        p->stopping = 1;
        pthread_cond_broadcast(&p->wake);
        pthread_cond_broadcast(&p->slot_freed);
        pthread_mutex_unlock(&p->mu);
        /* Kill first, so that a supervisor blocked in a launch returns soon. */
        for (int i = 0; i < p->nbrowsers; i++)
            if (p->browsers[i].state == BROWSER_READY || p->browsers[i].state == BROWSER_DRAINING)
                browser_kill(&p->browsers[i].b);
        pthread_join(p->supervisor, NULL);
    }
    for (int i = 0; p->browsers != NULL && i < p->nbrowsers; i++) {
        for (int j = 0; p->browsers[i].slots != NULL && j < p->per_browser; j++)
            page_slot_destroy(&p->browsers[i].slots[j]);
        free(p->browsers[i].slots);
    }
    free(p->browsers);
    proxy_stop(p->proxy);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->slot_freed);
    pthread_cond_destroy(&p->wake);
    free(p);
}

/* Caller holds p->mu. A free, prepared slot of a ready browser, or NULL. */
static struct slot *
find_free(struct pool *p)
{
    /* Prefer the least busy browser so that load spreads across processes. */
    struct pool_browser *best = NULL;
    for (int i = 0; i < p->nbrowsers; i++) {
        struct pool_browser *pb = &p->browsers[i];
        if (pb->state != BROWSER_READY || pb->busy >= p->per_browser)
            continue;
        if (best == NULL || pb->busy < best->busy)
            best = pb;
    }
    if (best == NULL)
        return NULL;
    for (int j = 0; j < p->per_browser; j++)
        if (best->slots[j].ready && !best->slots[j].busy)
            return &best->slots[j];
    return NULL;
}

static int
any_alive_or_starting_ok(struct pool *p)
{
    for (int i = 0; i < p->nbrowsers; i++)
        if (p->browsers[i].state != BROWSER_STARTING || p->browsers[i].failures == 0)
            return 1;
    return 0;
}

int
pool_checkout(struct pool *p, int64_t deadline_ms, int client_fd, struct slot **out)
{
    struct slot *s;
    struct timespec ts;
    int rc = RC_OK;

    pthread_mutex_lock(&p->mu);
    if ((s = find_free(p)) == NULL) {
        if (!any_alive_or_starting_ok(p)) {
            pthread_mutex_unlock(&p->mu);
            return RC_NOT_FOUND;
        }
        if (p->waiting >= p->conf->queue_max) {
            pthread_mutex_unlock(&p->mu);
            return RC_BUSY;
        }
        p->waiting++;
        while ((s = find_free(p)) == NULL && !p->stopping) {
            /* Wake at least every 100 ms to notice a client that left. */
            int64_t until = clock_ms() + 100;
            clock_deadline_timespec(until < deadline_ms ? until : deadline_ms, &ts);
            pthread_cond_timedwait(&p->slot_freed, &p->mu, &ts);
            if (clock_ms() >= deadline_ms && find_free(p) == NULL) {
                rc = RC_TIMEOUT;
                break;
            }
            if (fcgi_fd_closed(client_fd)) {
                rc = RC_CLOSED;
                break;
            }
        }
        p->waiting--;
        if (s == NULL && rc == RC_OK)
            rc = RC_CLOSED;
    }
    if (s != NULL) {
        struct pool_browser *pb = &p->browsers[s->browser->id];
        s->busy = 1;
        pb->busy++;
        pb->pages++;
        p->busy++;
        s->uses++;
        rc = RC_OK;
    }
    pthread_mutex_unlock(&p->mu);
    *out = s;
    return rc;
}

void
pool_browser_failed(struct pool *p, struct slot *s, const char *why)
{
    struct pool_browser *pb = &p->browsers[s->browser->id];

    pthread_mutex_lock(&p->mu);
    if (pb->state == BROWSER_READY || pb->state == BROWSER_DRAINING) {
        set_state(pb, BROWSER_DEAD, why);
        /* Kill now so that every pending call on it fails at once. */
        browser_kill(&pb->b);
    }
    pthread_mutex_unlock(&p->mu);
}

void
pool_checkin(struct pool *p, struct slot *s, int healthy)
{
    struct pool_browser *pb = &p->browsers[s->browser->id];
    int reuse, max_pages = p->conf->browser_max_pages, prepared = 0;
    struct buf err;

    s->client_fd = -1;
    if (!healthy)
        pool_browser_failed(p, s, "a request saw it misbehave");
    pthread_mutex_lock(&p->mu);
    reuse = pb->state == BROWSER_READY && (max_pages == 0 || pb->pages < max_pages);
    pthread_mutex_unlock(&p->mu);

    /* Isolation (docs/architecture.md): wipe the page in place, which keeps
     * its warm renderer; when the wipe cannot vouch for everything the page
     * touched, replace the whole context. */
    buf_init(&err, 1024);
    if (reuse) {
        int rc = page_wipe(s, clock_ms() + PREPARE_TIMEOUT_MS, &err);
        if (rc == RC_DECLINED) {
            page_dispose(s, clock_ms() + PREPARE_TIMEOUT_MS);
            rc = page_prepare(s, clock_ms() + PREPARE_TIMEOUT_MS, &err);
        }
        if (rc == RC_OK)
            prepared = 1;
        else
            pool_browser_failed(p, s, err.len ? err.data : "cleaning a page failed");
    }
    buf_free(&err);

    pthread_mutex_lock(&s->mu);
    s->client_gone = 0;
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_lock(&p->mu);
    s->busy = 0;
    s->ready = prepared;
    pb->busy--;
    p->busy--;
    if (pb->state == BROWSER_READY && max_pages > 0 && pb->pages >= max_pages) {
        char why[96];
        snprintf(why, sizeof why, "served %d pages (browser_max_pages)", pb->pages);
        set_state(pb, BROWSER_DRAINING, why);
    }
    pthread_cond_broadcast(&p->slot_freed);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
}

void
pool_get_stats(struct pool *p, struct pool_stats *st)
{
    memset(st, 0, sizeof *st);
    pthread_mutex_lock(&p->mu);
    st->configured = p->nbrowsers;
    for (int i = 0; i < p->nbrowsers; i++)
        if (p->browsers[i].state == BROWSER_READY || p->browsers[i].state == BROWSER_DRAINING)
            st->alive++;
    st->restarts = p->restarts;
    st->capacity = p->nbrowsers * p->per_browser;
    st->busy = p->busy;
    st->waiting = p->waiting;
    st->queue_max = p->conf->queue_max;
    st->pss_bytes = p->pss_bytes;
    snprintf(st->product, sizeof st->product, "%s", p->product);
    snprintf(st->error, sizeof st->error, "%s", st->alive ? "" : p->error);
    pthread_mutex_unlock(&p->mu);
}

void
pool_kill_all(struct pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->nbrowsers; i++)
        browser_kill(&p->browsers[i].b);
    pthread_mutex_unlock(&p->mu);
}
