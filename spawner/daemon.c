/* daemon.c — detaching and the pid file; see daemon.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "rc.h"

int
daemon_detach(int *ready_fd)
{
    int pipefd[2] = { -1, -1 }, devnull;
    pid_t pid;
    char status = 1;

    *ready_fd = -1;
    if (pipe2(pipefd, O_CLOEXEC) == -1) {
        log_errno(LOG_ERR, "daemon: pipe2");
        return RC_ERROR;
    }
    if ((pid = fork()) == -1) {
        log_errno(LOG_ERR, "daemon: fork");
        close(pipefd[0]);
        close(pipefd[1]);
        return RC_ERROR;
    }
    if (pid > 0) {
        /* The original process: wait for the daemon's word. EOF without a
         * byte means it died during start-up. */
        close(pipefd[1]);
        waitpid(pid, NULL, 0);
        while (read(pipefd[0], &status, 1) == -1 && errno == EINTR)
            ;
        _exit(status == 0 ? 0 : 1);
    }
    close(pipefd[0]);
    if (setsid() == -1)
        log_errno(LOG_WARN, "daemon: setsid");
    if ((pid = fork()) == -1) {
        log_errno(LOG_ERR, "daemon: second fork");
        _exit(1);
    }
    if (pid > 0)
        _exit(0);
    if (chdir("/") == -1)
        log_errno(LOG_WARN, "daemon: chdir /");
    if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
        dup2(devnull, STDIN_FILENO);
        dup2(devnull, STDOUT_FILENO);
        if (devnull > STDERR_FILENO)
            close(devnull);
    }
    *ready_fd = pipefd[1];
    return RC_OK;
}

void
daemon_ready(int *ready_fd, bool ok)
{
    char status = ok ? 0 : 1;

    if (*ready_fd < 0)
        return;
    if (write(*ready_fd, &status, 1) != 1) {
        /* The waiting parent is gone; nobody to tell. */
    }
    close(*ready_fd);
    *ready_fd = -1;
}

/* The pid in 'path', or 0 if there is none or it cannot be read. */
static pid_t
pidfile_read(const char *path)
{
    char text[32];
    ssize_t n;
    int fd;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
        return 0;
    n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0)
        return 0;
    text[n] = '\0';
    return (pid_t)strtol(text, NULL, 10);
}

int
pidfile_write(const char *path)
{
    char tmp[4096], text[32];
    pid_t old = pidfile_read(path);
    int fd = -1, len;

    if (old > 0 && old != getpid() && (kill(old, 0) == 0 || errno == EPERM)) {
        log_msg(LOG_ERR, "pid file %s: already running as pid %d", path, (int)old);
        return RC_BUSY;
    }
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid()) >= sizeof tmp) {
        log_msg(LOG_ERR, "pid file %s: path too long", path);
        return RC_ERROR;
    }
    len = snprintf(text, sizeof text, "%d\n", (int)getpid());
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) == -1) {
        log_errno(LOG_ERR, "pid file %s", tmp);
        return RC_ERROR;
    }
    if (write(fd, text, (size_t)len) != len) {
        log_errno(LOG_ERR, "pid file %s: write", tmp);
        close(fd);
        unlink(tmp);
        return RC_ERROR;
    }
    if (close(fd) == -1) {
        log_errno(LOG_ERR, "pid file %s: close", tmp);
        unlink(tmp);
        return RC_ERROR;
    }
    /* rename() makes the file appear whole: a reader never sees it empty. */
    if (rename(tmp, path) == -1) {
        log_errno(LOG_ERR, "pid file %s", path);
        unlink(tmp);
        return RC_ERROR;
    }
    return RC_OK;
}

void
pidfile_remove(const char *path)
{
    if (path == NULL || *path == '\0' || pidfile_read(path) != getpid())
        return;
    if (unlink(path) == -1)
        log_errno(LOG_WARN, "pid file %s: unlink", path);
}
