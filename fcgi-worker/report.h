/* report.h — what this worker tells its pool's scoreboard (common/
 * scoreboard.h): readiness, a heartbeat, per-thread request states, counters
 * and memory. Without a scoreboard (a worker not started by
 * rendercgi-spawner) every call is a no-op and /status shows this worker
 * alone. */
#ifndef RCGI_REPORT_H
#define RCGI_REPORT_H

#include "scoreboard.h"

struct worker;

/* Attach to the scoreboard named by the environment, if any. */
void report_init(int nthreads);
void report_free(void);
/* Request thread 'idx' is now in state 'st' (for route 'route', or NULL). */
void report_thread(int idx, enum sb_thread_state st, const char *route);
/* A request finished: publish the counters at once (the spawner recycles a
 * worker at max_requests by watching them). */
void report_request_done(struct worker *w);
/* Once a second from the main thread: heartbeat, readiness, counters, memory. */
void report_tick(struct worker *w);
/* The worker stopped accepting (graceful stop). */
void report_draining(void);
/* The pool's scoreboard, or NULL when there is none. Borrowed. */
const struct scoreboard *report_scoreboard(void);
/* This worker's own entry (a private one when there is no scoreboard). */
const struct sb_worker *report_self(void);

#endif
