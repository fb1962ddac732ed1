/* signals.c — self-pipe signal delivery for the spawner; see signals.h.
 *
 * The handler saves errno, marks the signal pending, writes one byte and
 * restores errno. The byte only wakes poll(); the pending flags are the
 * truth, so a byte lost to a full pipe loses no signal. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "rc.h"
#include "signals.h"

static int sig_pipe[2] = { -1, -1 };
static volatile sig_atomic_t pending[64];

static const int handled[] = { SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1 };
#define NHANDLED (sizeof handled / sizeof handled[0])

static void
on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;

    if (sig > 0 && sig < 64)
        pending[sig] = 1;
    if (write(sig_pipe[1], &b, 1) < 0) {
        /* Full pipe: a wake-up is already queued. */
    }
    errno = saved;
}

int
signals_init(void)
{
    struct sigaction sa;

    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) == -1) {
        log_errno(LOG_ERR, "signals: pipe2");
        return RC_ERROR;
    }
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_IGN;
    /* A worker's stderr pipe may close; the write error is enough. */
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    for (size_t i = 0; i < NHANDLED; i++) {
        if (sigaction(handled[i], &sa, NULL) == -1) {
            log_errno(LOG_ERR, "signals: sigaction %d", handled[i]);
            signals_close();
            return RC_ERROR;
        }
    }
    return RC_OK;
}

int
signals_fd(void)
{
    return sig_pipe[0];
}

uint64_t
signals_take(void)
{
    unsigned char drain[256];
    uint64_t bits = 0;

    while (sig_pipe[0] >= 0 && read(sig_pipe[0], drain, sizeof drain) > 0)
        ;
    for (size_t i = 0; i < NHANDLED; i++) {
        int s = handled[i];
        if (pending[s]) {
            pending[s] = 0;
            bits |= SIGNAL_BIT(s);
        }
    }
    return bits;
}

void
signals_close(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_DFL;
    for (size_t i = 0; i < NHANDLED; i++)
        sigaction(handled[i], &sa, NULL);
    for (int i = 0; i < 2; i++) {
        if (sig_pipe[i] >= 0)
            close(sig_pipe[i]);
        sig_pipe[i] = -1;
    }
}

void
signals_block_all(sigset_t *old)
{
    sigset_t all;

    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, old);
}

void
signals_restore(const sigset_t *old)
{
    sigprocmask(SIG_SETMASK, old, NULL);
}

void
signals_reset_for_exec(void)
{
    struct sigaction sa;
    sigset_t none;

    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_DFL;
    /* SIGKILL and SIGSTOP refuse; nothing else should. */
    for (int s = 1; s < NSIG; s++)
        sigaction(s, &sa, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}
