/* watchdog.h — judging one worker from its scoreboard entry, as a pure
 * function.
 *
 * The spawner reads every running worker's entry a few times a second and
 * asks watchdog_check() what to do about it: nothing, kill it (no heartbeat;
 * a request older than request_terminate_timeout) or drain and replace it
 * (max_memory; max_requests). What the entry says is the worker's word: the
 * numbers are bounded here, and the worker's identity (pid, start time)
 * comes from the spawner's own records, never from the entry. */
#ifndef RCGI_SPAWNER_WATCHDOG_H
#define RCGI_SPAWNER_WATCHDOG_H

#include <stdint.h>

#include "scoreboard.h"

/* In order of precedence: a worker that is both silent and over its memory
 * is killed, not drained. */
enum watch_verdict {
    WATCH_OK,
    WATCH_LIVENESS,  /* no heartbeat for liveness_ms: kill and replace */
    WATCH_TERMINATE, /* a request older than terminate_ms: kill and replace */
    WATCH_MEMORY,    /* PSS above max_memory: drain and replace */
    WATCH_REQUESTS,  /* max_requests served: drain and replace */
};

/* The limits of a pool, in the units the checks use; 0 turns a check off. */
struct watch_limits {
    int64_t liveness_ms;    /* heartbeat older than this */
    int64_t start_grace_ms; /* a worker that never heartbeat gets max(this, liveness_ms) */
    int64_t drain_grace_ms; /* a worker draining on its own gets this much longer */
    int64_t terminate_ms;   /* a request older than this */
    int64_t max_memory;     /* PSS bytes above this */
    long max_requests;      /* requests served, at least this */
};

struct watch_result {
    enum watch_verdict verdict;
    int64_t age_ms;    /* LIVENESS: since the last heartbeat (or the start);
                        * TERMINATE: the oldest request's age */
    int thread;        /* TERMINATE: the thread running it */
    char route[17];    /* TERMINATE: its route, printable ASCII only */
    int64_t pss_bytes; /* MEMORY: what the worker reported */
    long requests;     /* REQUESTS: what the worker reported */
};

/* Judge the worker in entry 'e', which the spawner started at 'started_ms'
 * (monotonic), at time 'now'. Reads the entry only (atomically, field by
 * field); fills 'out'. */
void watchdog_check(const struct sb_worker *e, int64_t started_ms, const struct watch_limits *l,
                    int64_t now, struct watch_result *out);

/* "ok", "liveness", "terminate", "memory", "requests". */
const char *watchdog_verdict_name(enum watch_verdict v);

#endif
