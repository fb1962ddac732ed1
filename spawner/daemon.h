/* daemon.h — detaching from the terminal, and the pid file.
 *
 * daemon_detach() double-forks; the original process stays behind until the
 * daemon reports it is up (daemon_ready), so "rendercgi-spawner -c FILE"
 * exits 0 only once workers run, and 1 if the start failed. */
#ifndef RCGI_SPAWNER_DAEMON_H
#define RCGI_SPAWNER_DAEMON_H

#include <stdbool.h>

/* Detach: fork, setsid, fork again (so the daemon is no session leader and
 * never gets a terminal back), chdir "/", stdin and stdout on /dev/null
 * (stderr is left alone: it is the log unless error_log is set). Returns
 * only in the daemon, with *ready_fd set for daemon_ready(); RC_ERROR if
 * the first fork fails. */
int daemon_detach(int *ready_fd);
/* Tell the waiting original process how the start went ('ok': exit 0, else
 * exit 1) and close *ready_fd. No-op when *ready_fd is -1. */
void daemon_ready(int *ready_fd, bool ok);

/* Write our pid to 'path' (created 0644, replaced atomically). Refuses,
 * with RC_BUSY, when the file names a process that is still running.
 * RC_OK, RC_BUSY or RC_ERROR (all logged). */
int pidfile_write(const char *path);
/* Remove 'path' if it still holds our pid. */
void pidfile_remove(const char *path);

#endif
