/* pools.h — a pool's running workers: its scoreboard, its slots, and the
 * start, stop, restart, watchdog and replacement of the workers in them.
 *
 * A 'pool_run' is one pool as started from one configuration: its listening
 * socket (shared with the runs of the same address), its scoreboard (a
 * memfd with 'workers' + POOLS_SPARE_SLOTS entries) and its 'target' count
 * of workers. Normally each pool has one run; during a reload the pool's old
 * run drains while its new run fills (reload.c). The master owns every run
 * and the runs own their slots' processes: only this file signals a worker,
 * and every signal goes to a pid the spawner started and has not reaped. */
#ifndef RCGI_SPAWNER_POOLS_H
#define RCGI_SPAWNER_POOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "privs.h"
#include "scoreboard.h"
#include "supervise.h"

/* Spare scoreboard entries per run: one for a replacement that drains its
 * predecessor (recycle, reload), one for a worker started after a kill while
 * the killed one is still being reaped. */
#define POOLS_SPARE_SLOTS 2
/* A worker killed by the watchdog gets this long after SIGTERM, then SIGKILL. */
#define POOLS_KILL_GRACE_MS 3000

struct master;
struct listener;
struct confgen;

/* Why the spawner stopped a worker, for the log line of its exit. */
enum stop_cause {
    CAUSE_NONE,         /* it exited on its own */
    CAUSE_MAX_REQUESTS, /* recycled: max_requests served */
    CAUSE_MAX_MEMORY,   /* recycled: above max_memory */
    CAUSE_TERMINATE,    /* a request over request_terminate_timeout */
    CAUSE_LIVENESS,     /* no heartbeat within liveness_timeout */
    CAUSE_RELOAD,       /* replaced by a reload (SIGHUP) */
    CAUSE_EMERGENCY,    /* replaced by an emergency restart */
    CAUSE_SCALE_DOWN,   /* the pool has fewer workers now */
    CAUSE_REMOVED,      /* the pool is gone from the configuration */
    CAUSE_NOT_READY,    /* a replacement that did not become ready in time */
    CAUSE_SHUTDOWN,     /* the spawner is stopping */
};

const char *pools_cause_name(enum stop_cause c);

struct pool_run;

/* One scoreboard entry and the worker in it. */
struct slot {
    enum slot_state state;
    pid_t pid;              /* RUNNING, STOPPING, KILLING */
    int64_t started_ms;
    int64_t restart_at;     /* WAITING: when to start */
    int64_t term_at;        /* STOPPING: when SIGTERM was sent */
    int64_t kill_at;        /* STOPPING: when to send SIGKILL */
    const char *next_why;   /* WAITING: what the start will be logged as */
    int quick_exits;        /* quick deaths in a row, for the backoff */
    enum stop_cause cause;  /* STOPPING, KILLING; or why it is being replaced */
    char why[160];          /* the cause in words, for the exit line */
    /* A replacement on probation takes over from its 'peer' once its entry
     * says ready; the worker it replaces is 'being_replaced' and points back.
     * Either end going away unlinks both. */
    bool probation;
    bool being_replaced;
    int64_t ready_deadline; /* probation: give up on it then */
    bool moved_target;      /* probation (reload): the peer's run gave us one worker */
    struct pool_run *peer_run;
    int peer_slot;
    pid_t peer_pid;
    int64_t recycle_after;  /* after a failed replacement, no new try before this */
};

/* The reload of one pool, driven by reload.c from the new run. */
enum roll_phase {
    ROLL_NONE,       /* not rolling */
    ROLL_START,      /* start the next replacement */
    ROLL_WAIT_READY, /* wait until it is ready (or fails) */
    ROLL_WAIT_EXIT,  /* wait until the worker it replaced has exited */
};

struct pool_run {
    struct pool_run *next;
    char name[65];
    struct confgen *gen;          /* a reference: the configuration this run started from */
    const struct conf_pool *conf; /* in gen */
    struct listener *lis;         /* a reference (lis->refs) */
    struct privs privs;
    int sb_fd;
    struct scoreboard *sb;
    size_t sb_size;
    int nslots;
    struct slot *slots;
    int target;                   /* workers wanted */
    bool current;                 /* the newest run of its pool, in the current config */
    bool filled;                  /* its first workers were started */
    bool no_slot_warned;

    enum roll_phase roll;
    enum stop_cause roll_cause;   /* CAUSE_RELOAD or CAUSE_EMERGENCY */
    int final_target;             /* the run's target when the roll is done */
    int roll_slot;                /* WAIT_READY: the replacement */
    struct pool_run *wait_run;    /* WAIT_EXIT: the worker replaced */
    int wait_slot;
    pid_t wait_pid;
    int64_t wait_until;           /* ROLL_START: no new try before this */
    int replaced;                 /* workers replaced so far, for the log */
};

/* A new run of pool 'p' (from 'gen', taking a new reference to 'lis'),
 * with no worker yet (target 0) and a fresh scoreboard. Returns NULL on
 * failure (logged). */
struct pool_run *pools_new(struct confgen *gen, const struct conf_pool *p, struct listener *lis);
/* Release the run: its scoreboard, its configuration reference and slots;
 * the caller drops its listener reference (master_listener_put). Its workers
 * must all be reaped (every slot FREE or WAITING). NULL-safe. */
void pools_free(struct pool_run *r);

/* Start a worker in slot 'i' now. 'why' is logged ("restart", ...). RC_OK,
 * or RC_ERROR (fork failed: the slot waits, with backoff). */
int pools_start(struct master *m, struct pool_run *r, int i, int64_t now, const char *why);
/* Ask the worker in slot 'i' to stop (SIGTERM: it stops accepting and
 * finishes its requests), with SIGKILL after 'grace_ms'. 'fmt' says why. */
void pools_stop(struct master *m, struct pool_run *r, int i, enum stop_cause cause,
                int64_t grace_ms, int64_t now, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* Cut the replacement link of slot 'i' (see struct slot) on both ends. */
void pools_unlink(struct pool_run *r, int i);

/* The worker in slot 'i' was reaped with wait status 'status'. */
void pools_exited(struct master *m, struct pool_run *r, int i, int status, int64_t now);

/* The periodic work of a running spawner, for one run: probation outcomes,
 * the watchdog, SIGKILL deadlines, the target count, due restarts. */
void pools_tick(struct master *m, struct pool_run *r, int64_t now);

/* The soonest time pools_tick has something to do for 'r' (a restart due),
 * or INT64_MAX. */
int64_t pools_next_due(const struct pool_run *r);

/* How many slots hold a live process (RUNNING, STOPPING, KILLING). */
int pools_live(const struct pool_run *r);
/* Find the slot of 'pid' in 'r', or -1. */
int pools_find(const struct pool_run *r, pid_t pid);

/* The stop sequence: SIGTERM every live worker (SIGKILL with 'sig' =
 * SIGKILL, to its whole process group), and let go of waiting slots. */
void pools_signal_all(struct master *m, struct pool_run *r, int sig, int64_t now);

#endif
