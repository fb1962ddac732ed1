/* children.h — starting one worker process.
 *
 * A worker is started as a FastCGI responder the way every FastCGI spawner
 * does it: the pool's listening socket on fd 0, stdout and stderr, and one
 * addition: its pool's scoreboard on fd 3 (RENDERCGI_SCOREBOARD_FD=3,
 * RENDERCGI_SCOREBOARD_INDEX=its entry). Nothing else is open. The caller
 * (pools.c) owns the pid and reaps it. */
#ifndef RCGI_SPAWNER_CHILDREN_H
#define RCGI_SPAWNER_CHILDREN_H

#include <stddef.h>
#include <sys/types.h>

/* The environment variable that names the worker binary. */
#define CHILDREN_WORKER_ENV "RENDERCGI_WORKER"

struct privs;

/* The environment variables that name the scoreboard fd and entry. */
#define CHILDREN_SB_FD_ENV "RENDERCGI_SCOREBOARD_FD"
#define CHILDREN_SB_INDEX_ENV "RENDERCGI_SCOREBOARD_INDEX"
#define CHILDREN_SB_FD 3

struct child_spec {
    const char *binary;        /* absolute path of rendercgi-worker */
    const char *conf_path;     /* passed as "-c FILE"; NULL: none (built-in defaults) */
    const char *pool;          /* passed as "--pool NAME" */
    int listen_fd;             /* becomes the child's fd 0 */
    int sb_fd;                 /* becomes the child's fd 3; -1: none */
    int sb_index;              /* the worker's scoreboard entry */
    int log_fd;                /* becomes the child's fd 2; -1: keep ours */
    const struct privs *privs; /* who to run as; NULL: as we are */
};

/* Fork and exec a worker. In the child: every signal back to its default and
 * unblocked; a new session (setsid), so terminal signals reach only the
 * spawner and the worker's descendants carry its session id; the pool's user
 * and group (privs_apply), then PDEATHSIG SIGTERM (the worker exits if the
 * spawner dies; a change of credentials would clear it, hence the order);
 * the socket on fd 0, the log on fd 2, the scoreboard on fd 3; every fd
 * above 3 closed; LISTEN_FDS and LISTEN_PID removed from the environment; a
 * private TMPDIR, created as the worker's user. RC_OK with *pid set, or
 * RC_ERROR (fork failed; logged). A failure in the child before exec is
 * logged and shows up as the child exiting with status 126 (setup) or 127
 * (exec). */
int children_spawn(const struct child_spec *s, pid_t *pid);

/* The private TMPDIR a worker gets: $TMPDIR/rendercgi-worker.PID (or under
 * /tmp). The worker keeps its Chromium profiles there. */
void children_tmpdir(pid_t pid, char *buf, size_t len);
/* Remove a dead worker's private TMPDIR and everything in it, without
 * following a symbolic link anywhere (the directory belonged to the worker's
 * user, who may have put anything in it). */
void children_tmpdir_remove(pid_t pid);
/* Remove the private TMPDIRs of workers that no longer run (left by a
 * spawner that was killed with SIGKILL, whose workers could not be cleaned
 * up after). Returns how many were removed. */
int children_tmpdir_sweep(void);

/* Find the worker binary: $RENDERCGI_WORKER if set and non-empty, else
 * 'configured' if non-empty, else "rendercgi-worker" in the directory of
 * /proc/self/exe. Writes an absolute path to 'buf'. RC_OK, or RC_NOT_FOUND
 * when it is not an executable file (logged). */
int children_worker_path(const char *configured, char *buf, size_t len);

#endif
