/* procs.h — finding and killing what dead workers left behind.
 *
 * The spawner is a child subreaper (PR_SET_CHILD_SUBREAPER): when a worker
 * dies, its browsers, zygotes and renderers are re-parented to the spawner
 * instead of init. procs_sweep() finds them in /proc and SIGKILLs them and
 * their process groups; which ones is decided by supervise_orphans(). */
#ifndef RCGI_SPAWNER_PROCS_H
#define RCGI_SPAWNER_PROCS_H

#include <stddef.h>

#include "proctable.h"
#include "supervise.h"

/* SIGKILL every leftover (see supervise_orphans) while 'workers' (pids of
 * the live workers) run on, and their process groups where that is safe.
 * Up to 'max' of them are written to 'killed' (may be NULL) for the log.
 * Returns the number of processes signalled (0: nothing left; a process
 * killed by an earlier sweep that has not finished dying counts again), or
 * -1 if /proc could not be read. Logs nothing but errors. */
int procs_sweep(const int *workers, size_t nworkers, struct orphan_kill *killed, size_t max);

#endif
