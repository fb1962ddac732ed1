/* master.h — the spawner's pools of workers and its event loop.
 *
 * The master owns one listening socket per pool and the pids of the pool's
 * workers. It starts them, restarts the ones that die (with backoff, see
 * supervise.h), kills what dead workers leave behind (procs.h), and runs
 * the stop sequence on SIGTERM/SIGINT/SIGQUIT. PHP-FPM's master process is
 * the model. */
#ifndef RCGI_SPAWNER_MASTER_H
#define RCGI_SPAWNER_MASTER_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "sockets.h"
#include "supervise.h"

struct worker {
    pid_t pid;          /* 0: not running */
    int64_t started_ms; /* monotonic */
    int64_t restart_at; /* when pid is 0: when to start it again */
    int quick_exits;    /* quick exits in a row (supervise_quick_exits) */
};

struct mpool {
    const struct conf_pool *conf; /* borrowed from the master's conf */
    struct listener lis;
    struct worker *workers;
    int nworkers;
};

struct master {
    const struct conf *conf;  /* borrowed; outlives the master */
    const char *conf_path;    /* absolute; "-c" for workers; NULL: none */
    char worker_bin[PATH_MAX];
    struct mpool *pools;
    size_t npools;
    int *live;                /* scratch: pids of live workers, for sweeps */
    size_t nlive_max;
    struct backoff backoff;
    enum stop_state stop;
    int64_t stop_deadline;
    int64_t sweep_next;       /* 0: no sweep planned */
    int64_t sweep_until;      /* keep sweeping until then */
    int killed[256];          /* pids already killed in this sweep window, */
    size_t nkilled;           /* so each is logged once */
    uint32_t rng;
};

/* Prepare the pools of 'c' and open their listening sockets (before the
 * daemon detaches, so a bad address fails the start visibly). 'conf_path'
 * and 'worker_bin' are copied or borrowed as documented in struct master.
 * RC_OK or RC_ERROR (logged; master_free still required). */
int master_init(struct master *m, const struct conf *c, const char *conf_path,
                const char *worker_bin);
/* Start every pool's workers. RC_OK or RC_ERROR (a fork failed; logged). */
int master_start(struct master *m);
/* Supervise until stopped by a signal: restart dead workers, sweep
 * leftovers, run the stop sequence. Returns when everything is stopped. */
void master_run(struct master *m);
/* Close the sockets and remove socket files. NULL-safe; idempotent. */
void master_free(struct master *m);

#endif
