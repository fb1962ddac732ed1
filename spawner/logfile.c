/* logfile.c — error_log and the workers' log pipe; see logfile.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "logfile.h"
#include "rc.h"

/* Workers may write in bursts while the spawner is busy; a larger pipe
 * keeps them from blocking on a log line meanwhile. */
#define PIPE_SIZE (1 << 20)

static int log_pipe[2] = { -1, -1 };
static char current[PATH_MAX];
/* The end of the last read that was not a whole line yet (Chromium's own
 * output, at debug level, comes in arbitrary pieces). */
static char partial[4096];
static size_t npartial;

static void
write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* A full disk loses log lines, never the service. */
        p += w;
        n -= (size_t)w;
    }
}

static int
open_onto_stderr(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);

    if (fd == -1) {
        log_errno(LOG_ERR, "error_log %s", path);
        return RC_ERROR;
    }
    if (fd != STDERR_FILENO && dup2(fd, STDERR_FILENO) == -1) {
        log_errno(LOG_ERR, "error_log %s: dup2", path);
        close(fd);
        return RC_ERROR;
    }
    if (fd != STDERR_FILENO)
        close(fd);
    snprintf(current, sizeof current, "%s", path);
    return RC_OK;
}

static int
pipe_open(void)
{
    if (log_pipe[0] >= 0)
        return RC_OK;
    if (pipe2(log_pipe, O_CLOEXEC) == -1) {
        log_errno(LOG_ERR, "error_log: pipe2");
        return RC_ERROR;
    }
    /* Only our end is non-blocking: a worker waits rather than lose a line. */
    if (fcntl(log_pipe[0], F_SETFL, O_NONBLOCK) == -1)
        log_errno(LOG_WARN, "error_log: O_NONBLOCK");
    (void)fcntl(log_pipe[0], F_SETPIPE_SZ, PIPE_SIZE);
    return RC_OK;
}

int
logfile_open(const char *path)
{
    if (path == NULL || path[0] == '\0')
        return RC_OK;
    if (open_onto_stderr(path) != RC_OK)
        return RC_ERROR;
    return pipe_open();
}

int
logfile_reopen(const char *path)
{
    if (path == NULL || path[0] == '\0') {
        if (current[0] != '\0')
            log_msg(LOG_INFO, "error_log: no file configured; still writing to %s", current);
        else
            log_msg(LOG_INFO, "error_log: none set (logging to stderr); nothing to reopen");
        return RC_OK;
    }
    logfile_drain();
    if (open_onto_stderr(path) != RC_OK)
        return RC_ERROR;
    log_msg(LOG_INFO, "error_log: (re)opened %s", path);
    return pipe_open();
}

int
logfile_worker_fd(void)
{
    return log_pipe[1];
}

int
logfile_pipe_fd(void)
{
    return log_pipe[0];
}

void
logfile_drain(void)
{
    char buf[65536];
    ssize_t n;

    if (log_pipe[0] < 0)
        return;
    while ((n = read(log_pipe[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
        const char *nl;
        size_t whole;

        if (n < 0)
            continue;
        nl = memrchr(buf, '\n', (size_t)n);
        if (nl == NULL) {
            /* No line ends here: keep it, unless the piece grows too long. */
            if (npartial + (size_t)n > sizeof partial) {
                write_all(partial, npartial);
                npartial = 0;
            }
            if ((size_t)n > sizeof partial) {
                write_all(buf, (size_t)n);
            } else {
                memcpy(partial + npartial, buf, (size_t)n);
                npartial += (size_t)n;
            }
            continue;
        }
        whole = (size_t)(nl - buf) + 1;
        write_all(partial, npartial);
        npartial = 0;
        write_all(buf, whole);
        if ((size_t)n > whole) {
            size_t rest = (size_t)n - whole;
            if (rest > sizeof partial) {
                write_all(buf + whole, rest);
            } else {
                memcpy(partial, buf + whole, rest);
                npartial = rest;
            }
        }
    }
}

void
logfile_close(void)
{
    logfile_drain();
    if (npartial > 0) {
        write_all(partial, npartial);
        write_all("\n", 1);
        npartial = 0;
    }
    for (int i = 0; i < 2; i++) {
        if (log_pipe[i] >= 0)
            close(log_pipe[i]);
        log_pipe[i] = -1;
    }
}
