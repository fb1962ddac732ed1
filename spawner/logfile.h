/* logfile.h — the spawner's error_log, and its workers' log lines.
 *
 * With error_log empty, the spawner and its workers all write to the
 * spawner's standard error, as they inherited it. With error_log set, the
 * spawner opens the file (append, 0640, created if missing) onto its own
 * stderr, and its workers get the write end of one pipe as their stderr:
 * the spawner copies what arrives to the file. So a worker needs no right
 * to the file (it may run as another user), and SIGUSR1 reopens the file
 * for every process at once (log rotation: move the file, then SIGUSR1).
 * A worker's log line is written with one write() of less than PIPE_BUF
 * bytes, so lines from several workers never mix. */
#ifndef RCGI_SPAWNER_LOGFILE_H
#define RCGI_SPAWNER_LOGFILE_H

/* Open 'path' onto stderr and create the workers' pipe; nothing when 'path'
 * is empty. RC_OK or RC_ERROR (logged to the old stderr). */
int logfile_open(const char *path);
/* Open 'path' again: SIGUSR1, or a reload that changed error_log. On
 * failure the current file is kept. An empty 'path' changes nothing (the
 * stderr we started with is gone once a file replaced it). RC_OK or
 * RC_ERROR (logged). */
int logfile_reopen(const char *path);
/* The fd workers get as their stderr; -1: let them inherit ours. */
int logfile_worker_fd(void);
/* The pipe's read end, to poll for POLLIN; -1 when there is no pipe. */
int logfile_pipe_fd(void);
/* Copy what the workers wrote to the log (does not block). */
void logfile_drain(void);
/* Drain, then close the pipe. Idempotent. */
void logfile_close(void);

#endif
