/* signals.h — the spawner's signals, delivered through a self-pipe.
 *
 * Handlers only note the signal and write one byte to a pipe; the main loop
 * polls the pipe's read end and acts on what signals_take() returns. Nothing
 * else ever runs in a handler. */
#ifndef RCGI_SPAWNER_SIGNALS_H
#define RCGI_SPAWNER_SIGNALS_H

#include <signal.h>
#include <stdint.h>

/* The bit for signal 's' in what signals_take() returns. */
#define SIGNAL_BIT(s) ((uint64_t)1 << (s))

/* Create the pipe and install handlers for SIGCHLD, SIGTERM, SIGINT, SIGQUIT,
 * SIGHUP and SIGUSR1; ignore SIGPIPE. RC_OK or RC_ERROR (logged). */
int signals_init(void);
/* The pipe's read end, to poll for POLLIN. -1 before signals_init(). */
int signals_fd(void);
/* Drain the pipe; a bit set (SIGNAL_BIT) of the signals that arrived since
 * the last call. */
uint64_t signals_take(void);
/* Restore default handlers and close the pipe. Safe to call twice. */
void signals_close(void);

/* Block every signal, saving the old mask in 'old' (used around fork so no
 * handler runs in the child before it resets them). */
void signals_block_all(sigset_t *old);
void signals_restore(const sigset_t *old);
/* In a forked child, before exec: every signal back to its default action
 * (ignored ones too, since exec keeps SIG_IGN) and an empty mask. */
void signals_reset_for_exec(void);

#endif
