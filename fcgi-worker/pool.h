/* pool.h — a fixed set of headless Chromium processes and their page slots.
 *
 * The pool owns every browser it starts. Callers borrow a slot with
 * pool_checkout() and always give it back with pool_checkin(), also on error;
 * only the pool decides whether a browser is reused, recycled or replaced.
 * A supervisor thread, living as long as the pool, launches, replaces and
 * recycles browsers (it must be the thread that forks them: see browser.h). */
#ifndef RCGI_POOL_H
#define RCGI_POOL_H

#include <stdint.h>

#include "conf.h"

struct policy;
struct pool;
struct slot;

enum browser_state { BROWSER_STARTING, BROWSER_READY, BROWSER_DRAINING, BROWSER_DEAD };

struct pool_stats {
    int configured;        /* browsers configured */
    int alive;             /* ready or draining */
    long restarts;         /* browser launches after the first, all causes */
    int capacity;          /* browsers * pages_per_browser */
    int busy;              /* slots checked out */
    int waiting;           /* requests queued for a slot */
    int queue_max;
    int64_t pss_bytes;     /* last measured PSS of all browsers, -1 if unknown */
    char product[96];      /* Chromium version, "" before the first start */
    char error[256];       /* why no browser is alive, "" if one is */
};

/* Create the pool, start its policy proxy (proxy.h; every browser connects
 * through it, checked against 'policy') and its supervisor, which launches
 * the browsers in the background. 'c' and 'policy' are borrowed for the
 * pool's lifetime. RC_OK/RC_ERROR. */
int pool_start(const struct conf_pool *c, const struct policy *policy, int verbose,
               struct pool **out);
/* Stop the supervisor and every browser (killed with their process groups,
 * reaped, profiles removed). No slot may be checked out. NULL-safe. */
void pool_stop(struct pool *p);

/* Borrow a page slot, waiting until 'deadline_ms' (monotonic).
 * RC_OK and *out (borrowed: give it back with pool_checkin);
 * RC_BUSY at once if the queue is full; RC_TIMEOUT if no slot freed up in
 * time; RC_NOT_FOUND if no browser could be started (see pool_stats.error);
 * RC_CLOSED if the client's connection 'client_fd' (-1: none) closed while
 * waiting, or the pool is stopping. */
int pool_checkout(struct pool *p, int64_t deadline_ms, int client_fd, struct slot **out);
/* Give a slot back. 'healthy' = 0 when the request saw the browser go away:
 * the browser is replaced. Otherwise the page is wiped (or its context
 * replaced) before the slot is free again. Runs on the caller's thread,
 * after its response is finished. */
void pool_checkin(struct pool *p, struct slot *s, int healthy);
/* Mark the slot's browser dead from a request thread (it is killed at once,
 * pending calls fail, the supervisor replaces it). */
void pool_browser_failed(struct pool *p, struct slot *s, const char *why);

void pool_get_stats(struct pool *p, struct pool_stats *st);
/* Kill every browser's process group now, without waiting or freeing; for a
 * process about to _exit with requests still running. NULL-safe. */
void pool_kill_all(struct pool *p);

#endif
