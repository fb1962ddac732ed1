/* children.h — starting one worker process.
 *
 * A worker is started as a FastCGI responder the way every FastCGI spawner
 * does it: the pool's listening socket on fd 0, nothing else open but
 * stdout and stderr. The caller (master.c) owns the pid and reaps it. */
#ifndef RCGI_SPAWNER_CHILDREN_H
#define RCGI_SPAWNER_CHILDREN_H

#include <stddef.h>
#include <sys/types.h>

/* The environment variable that names the worker binary. */
#define CHILDREN_WORKER_ENV "RENDERCGI_WORKER"

struct child_spec {
    const char *binary;    /* absolute path of rendercgi-worker */
    const char *conf_path; /* passed as "-c FILE"; NULL: none (built-in defaults) */
    const char *pool;      /* passed as "--pool NAME" */
    int listen_fd;         /* becomes the child's fd 0 */
};

/* Fork and exec a worker. In the child: every signal back to its default and
 * unblocked; a new session (setsid), so terminal signals reach only the
 * spawner and the worker's descendants carry its session id; PDEATHSIG
 * SIGTERM (the worker exits if the spawner dies); the socket on fd 0; every
 * fd above 2 closed. RC_OK with *pid set, or RC_ERROR (fork failed; logged).
 * An exec failure shows up as the child exiting with status 127. */
int children_spawn(const struct child_spec *s, pid_t *pid);

/* The private TMPDIR a worker gets: $TMPDIR/rendercgi-worker.PID (or under
 * /tmp). The worker keeps its Chromium profiles there. */
void children_tmpdir(pid_t pid, char *buf, size_t len);
/* Remove a dead worker's private TMPDIR and everything in it. */
void children_tmpdir_remove(pid_t pid);

/* Find the worker binary: $RENDERCGI_WORKER if set and non-empty, else
 * 'configured' if non-empty, else "rendercgi-worker" in the directory of
 * /proc/self/exe. Writes an absolute path to 'buf'. RC_OK, or RC_NOT_FOUND
 * when it is not an executable file (logged). */
int children_worker_path(const char *configured, char *buf, size_t len);

#endif
