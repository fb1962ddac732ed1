/* supervise.h — the spawner's decisions, as pure functions.
 *
 * No I/O, no clock, no randomness of their own: callers pass the time and a
 * random number in, so check_supervise.c tests every decision without
 * forking anything. master.c carries them out. */
#ifndef RCGI_SPAWNER_SUPERVISE_H
#define RCGI_SPAWNER_SUPERVISE_H

#include <stddef.h>
#include <stdint.h>

#include "proctable.h"

/* When and how fast to restart a worker that keeps dying. */
struct backoff {
    int64_t quick_ms; /* a worker that failed sooner than this died "quickly" */
    int64_t clean_ms; /* a clean exit (status 0) sooner than this counts too */
    int64_t base_ms;  /* delay after the second quick exit in a row */
    int64_t max_ms;   /* the delay never grows past this */
};

/* A worker that fails within 5 s of starting, or exits even cleanly within
 * 1 s, is crash-looping; the delays double from 250 ms up to 30 s. */
#define BACKOFF_DEFAULTS { 5000, 1000, 250, 30000 }

/* The count of quick exits in a row, this one included, for a worker that
 * had 'previous' of them, lived 'lived_ms' and exited cleanly (status 0,
 * e.g. recycled after max_requests) or not. A long life resets the count to
 * 0 (restart at once, no backoff); a quick exit adds one. A clean exit is
 * quick only under clean_ms, so a busy pool recycling workers every few
 * seconds is never slowed down, while a worker that exits 0 at once cannot
 * turn the spawner into a fork loop. */
int supervise_quick_exits(const struct backoff *b, int previous, int64_t lived_ms, int clean);

/* Milliseconds to wait before restarting after 'quick' quick exits in a row:
 * 0 for the first (restart at once), then base, 2×base, 4×base … capped at
 * max, each with "equal jitter" (half fixed, half drawn from 'rnd', a
 * uniformly random number) so that workers of a pool that died together do
 * not restart in lockstep. */
int64_t supervise_restart_delay(const struct backoff *b, int quick, uint32_t rnd);

/* Describe a waitpid() status for a log line: "exited with status 3",
 * "exited on signal 9 (SIGKILL)", "... (core dumped)". */
void supervise_describe_exit(int status, char *buf, size_t len);
/* Was it a clean exit (status 0)? */
int supervise_exit_clean(int status);
/* A duration for a log line: "812 ms", "12 s", "4 min 3 s", "2 h 5 min". */
void supervise_format_duration(int64_t ms, char *buf, size_t len);

/* The stop sequence: graceful (SIGTERM to workers, wait up to
 * shutdown_timeout) → kill (SIGKILL to what is left, wait a bounded time)
 * → done (sweep leftovers, remove sockets, exit). */
enum stop_state { STOP_RUNNING, STOP_GRACEFUL, STOP_KILLING, STOP_DONE };
enum stop_event {
    STOP_EV_SIGNAL,     /* SIGTERM, SIGINT or SIGQUIT arrived */
    STOP_EV_DEADLINE,   /* the current state's timer expired */
    STOP_EV_ALL_EXITED, /* no worker is left */
};

const char *supervise_stop_state_name(enum stop_state s);
/* The next state. A second stop signal during the graceful phase skips to
 * the kill; nothing ever goes back to running. */
enum stop_state supervise_stop_next(enum stop_state s, enum stop_event e);

/* ---- a pool's workers ---------------------------------------------------
 *
 * A pool runs its workers in the entries ("slots") of its scoreboard, which
 * has more entries than workers: a replacement starts in a spare entry while
 * the worker it replaces still serves. */
enum slot_state {
    SLOT_FREE,     /* no worker, none wanted */
    SLOT_WAITING,  /* a worker is wanted here, to start at restart_at (backoff) */
    SLOT_RUNNING,  /* a worker runs */
    SLOT_STOPPING, /* sent SIGTERM; SIGKILL at its deadline */
    SLOT_KILLING,  /* sent SIGKILL; waiting to reap it */
};

const char *supervise_slot_state_name(enum slot_state s);

/* What supervise_scale needs to know of a slot. */
struct slot_view {
    enum slot_state state;
    int being_replaced; /* RUNNING, with a replacement starting elsewhere */
    int on_probation;   /* RUNNING, a replacement not ready yet */
    int64_t started_ms; /* RUNNING: when */
};

/* The workers a pool counts as its own: waiting to start, or running and not
 * on their way out (a worker being replaced is counted through its
 * replacement instead). */
int supervise_serving(const struct slot_view *v, int n);

/* Make 'target' workers of the slots 'v': returns how many slots to act
 * on, written to 'out' (at most 'max'). With too few workers, the free
 * slots that should wait for a start (lowest index first); with too many,
 * the slots to let go: waiting ones first, then the oldest running ones
 * (the most grown), never a replacement on probation or a worker already
 * being replaced. 0: nothing to do. '*grow' says which (1: start, 0: stop). */
int supervise_scale(const struct slot_view *v, int n, int target, int *out, int max, int *grow);

/* ---- the emergency restart ----------------------------------------------
 *
 * As PHP-FPM's emergency_restart_threshold/interval: 'threshold' crashes
 * within 'interval_ms' restart every worker. The last 'threshold' crash
 * times are kept in a ring the caller allocates (threshold entries). */
struct crash_ring {
    int64_t *times;
    int threshold, count, pos;
};

/* A signal that means the worker crashed (its code is broken), not that
 * somebody stopped it: SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE, SIGSYS. */
int supervise_crash_signal(int sig);
/* Record a crash at 'now'. Returns 1 when the ring then holds 'threshold'
 * crashes all within 'interval_ms' of 'now' (and empties the ring, so the
 * next emergency needs as many crashes again); 0 otherwise, and always 0
 * when the feature is off (threshold or interval 0). */
int supervise_crash_note(struct crash_ring *r, int64_t interval_ms, int64_t now);

/* A process as seen in /proc/PID/stat. */
/* One process to SIGKILL, and whether to signal its whole group too. */
struct orphan_kill {
    int pid;
    int pgid; /* > 0: also kill(-pgid); 0: this process only */
    int sid;  /* its session: the pid of the worker it came from, usually */
};

/* Pick what a dead worker left behind: every live process descended from
 * 'self' (through the parent links of 'procs') that is neither a live worker
 * nor below one, nor in a live worker's session (every worker is a session
 * leader, so its browsers and whatever they double-fork keep its session id).
 * Zombies are skipped: waitpid() collects them. A group is signalled only
 * when it is safe: not ours, not a live worker's, not in our session. Writes
 * at most 'max' entries to 'out'; returns how many were found (may exceed
 * 'max'). */
size_t supervise_orphans(const struct proc_info *procs, size_t n, const struct proc_info *self,
                         const int *workers, size_t nworkers, struct orphan_kill *out,
                         size_t max);

#endif
