/* master.h — the spawner's state and its event loop.
 *
 * The master owns the current configuration, every pool's runs (pools.h),
 * the listening sockets they share, and the stop sequence. One thread, one
 * loop: poll() on the signal pipe and the workers' log pipe, with a timeout
 * that is the nearest timer. PHP-FPM's master process is the model. */
#ifndef RCGI_SPAWNER_MASTER_H
#define RCGI_SPAWNER_MASTER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "confgen.h"
#include "sockets.h"
#include "supervise.h"

struct pool_run;

struct master {
    struct confgen *gen;          /* the current configuration (a reference) */
    struct overrides ovr;         /* command-line overrides, applied again on reload */
    const char *conf_file;        /* what SIGHUP re-reads; NULL: built-in defaults */
    const char *conf_path;        /* absolute, given to workers as -c; NULL: none */
    char worker_bin[PATH_MAX];
    struct pool_run *runs;        /* every pool's runs, oldest first */
    struct listener *listeners;   /* the sockets, shared by the runs of one address */
    struct backoff backoff;
    enum stop_state stop;
    int64_t stop_deadline;
    int64_t watch_next;           /* the next watchdog round */
    int64_t sweep_next;           /* 0: no sweep planned */
    int64_t sweep_until;          /* keep sweeping until then */
    int killed[256];              /* pids already killed in this sweep window, */
    size_t nkilled;               /* so each is logged once */
    int *live;                    /* scratch for sweeps */
    size_t nlive_max;
    struct crash_ring crashes;
    bool emergency;               /* an emergency restart is due */
    uint32_t rng;
};

/* Take 'gen' (the caller's reference moves to the master) and open every
 * pool's socket, before the daemon detaches, so that a bad address fails the
 * start visibly. 'ovr' and 'conf_file' are kept for reloads (borrowed: they
 * must outlive the master); 'conf_path' likewise; 'worker_bin' is copied.
 * RC_OK or RC_ERROR (logged; master_free still required). */
int master_init(struct master *m, struct confgen *gen, const struct overrides *ovr,
                const char *conf_file, const char *conf_path, const char *worker_bin);
/* Start every pool's workers. RC_OK or RC_ERROR (a fork failed; logged). */
int master_start(struct master *m);
/* Supervise until stopped by a signal: restart, recycle, reload, sweep, run
 * the stop sequence. Returns when everything is stopped. */
void master_run(struct master *m);
/* Close the sockets and remove socket files; release every run. NULL-safe. */
void master_free(struct master *m);

/* For pools.c and reload.c. */
uint32_t master_rng(struct master *m);
/* Look for what a dead worker left, now and for a while. */
void master_plan_sweep(struct master *m, int64_t now);
/* A worker crashed: count it towards the emergency restart. */
void master_crashed(struct master *m, int64_t now);
/* A listener for the pool's address: the one already open (its mode and
 * owner updated), or a new one. Returns it with a reference for the caller,
 * or NULL (logged). */
struct listener *master_listener_get(struct master *m, const struct conf_pool *p);
/* Drop a reference; the last one closes the socket and removes its file. */
void master_listener_put(struct master *m, struct listener *l);
/* Resize the emergency restart's ring to the current configuration. */
void master_crashes_config(struct master *m);

#endif
