/* scoreboard.h — the state a pool's workers share with the spawner, in
 * shared memory, PHP-FPM style.
 *
 * The spawner creates one scoreboard per pool (a memfd sized for the pool's
 * workers) before it forks them, and hands it to each worker as fd 3 with
 * the environment variables RENDERCGI_SCOREBOARD_FD=3 and
 * RENDERCGI_SCOREBOARD_INDEX=<the worker's entry>. A worker writes only its
 * own entry; it reads every entry of its pool for /status and /metrics. The
 * spawner reads all entries: readiness (rolling reload), heartbeat
 * (liveness), request start times (request_terminate_timeout), memory
 * (max_memory). Fields are lock-free atomics; a reader may see one worker's
 * entry a moment out of date, never torn numbers.
 *
 * Times are CLOCK_MONOTONIC milliseconds (clock_ms()), comparable across
 * processes on one machine. */
#ifndef RCGI_SCOREBOARD_H
#define RCGI_SCOREBOARD_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SB_MAX_THREADS 256   /* request threads tracked per worker */
#define SB_MAGIC 0x52434742u /* "RCGB" */

enum sb_thread_state { SB_IDLE = 0, SB_READING = 1, SB_WAITING = 2, SB_RENDERING = 3,
                       SB_WRITING = 4, SB_FINISHING = 5 };

struct sb_thread {
    _Atomic int state;               /* enum sb_thread_state */
    _Atomic int64_t started_ms;      /* when the current request began; 0 if idle */
    char route[16];                  /* of the current request, for /status?full */
};

struct sb_worker {
    _Atomic int pid;                 /* 0: entry unused */
    _Atomic int generation;          /* bumped by the spawner for every new worker in the entry */
    _Atomic int64_t started_ms;
    _Atomic int64_t heartbeat_ms;    /* the worker proves it is alive, at least every second */
    _Atomic int ready;               /* accepting with its browsers up (or browsers = 0) */
    _Atomic int draining;            /* stopped accepting, finishing in-flight requests */
    _Atomic long requests;           /* finished requests */
    _Atomic long failed;             /* answered with a 5xx error */
    _Atomic int active;              /* requests in progress */
    _Atomic int queued;              /* requests waiting for a page slot */
    _Atomic int slots_busy;
    _Atomic int slots_total;
    _Atomic int browsers_alive;
    _Atomic int browsers_configured;
    _Atomic long browser_restarts;
    _Atomic int64_t rss_bytes;       /* the worker process itself */
    _Atomic int64_t pss_bytes;       /* the worker and its browsers, last measured; -1 unknown */
    _Atomic int nthreads;
    struct sb_thread threads[SB_MAX_THREADS];
};

struct scoreboard {
    uint32_t magic;
    uint32_t nworkers;
    char pool[64];
    _Atomic int64_t pool_started_ms;
    _Atomic long pool_restarts;      /* workers restarted by the spawner, all causes */
    struct sb_worker workers[];      /* nworkers entries */
};

/* Spawner: create a scoreboard for 'nworkers' workers of pool 'name'.
 * RC_OK with *fd (a memfd, close-on-exec) and *sb mapped; RC_ERROR. */
int scoreboard_create(const char *name, int nworkers, int *fd, struct scoreboard **sb);
/* Worker: map the scoreboard named by RENDERCGI_SCOREBOARD_FD/INDEX.
 * RC_OK with *sb and *self (this worker's entry); RC_NOT_FOUND when the
 * environment names none (started by another spawner: run without one);
 * RC_ERROR. */
int scoreboard_attach(struct scoreboard **sb, struct sb_worker **self);
/* Unmap (either side). NULL-safe. */
void scoreboard_detach(struct scoreboard *sb);
/* Bytes of a scoreboard for 'nworkers' workers. */
size_t scoreboard_size(int nworkers);

#endif
