/* worker.h — the state one rendercgi-worker process shares between its
 * request threads: its pool's settings, URL policy, browser pool and counters.
 *
 * main.c owns the single struct worker; request threads borrow it. */
#ifndef RCGI_WORKER_H
#define RCGI_WORKER_H

#include "config.h"

#include <stdatomic.h>
#include <stdint.h>

#include "conf.h"

struct policy;
struct pool;

struct worker {
    const struct conf_pool *conf;  /* borrowed from main's struct conf */
    struct policy *policy;
    struct pool *pool;             /* NULL for a fetch-only worker (browsers = 0) */
    int64_t started_ms;            /* clock_ms() at start */
    atomic_long requests_total;
    atomic_long requests_failed;   /* answered with a 5xx */
    atomic_int requests_active;
    atomic_int stopping;
};

#define RCGI_VERSION PACKAGE_VERSION

#endif
