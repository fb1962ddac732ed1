/* children.c — fork and exec of one worker; see children.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "children.h"
#include "log.h"
#include "privs.h"
#include "rc.h"
#include "signals.h"

/* Close every fd from 'first' up. close_range(2) is one call; older
 * kernels lack it, so fall back to a loop. */
static void
close_from(int first)
{
    long max;

    if (close_range((unsigned)first, ~0U, 0) == 0)
        return;
    max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536)
        max = 65536;
    for (int fd = first; fd < max; fd++)
        close(fd);
}

void
children_tmpdir(pid_t pid, char *buf, size_t len)
{
    const char *base = getenv("TMPDIR");

    snprintf(buf, len, "%s/rendercgi-worker.%d", base != NULL && base[0] == '/' ? base : "/tmp",
             (int)pid);
}

/* Empty the directory open as 'dfd' (taken over and closed), descending by
 * file descriptor with O_NOFOLLOW: a symbolic link is removed, never
 * followed, whatever its owner swaps in meanwhile. */
static void
tree_empty(int dfd, int depth)
{
    DIR *d = fdopendir(dfd);
    struct dirent *de;

    if (d == NULL) {
        close(dfd);
        return;
    }
    while ((de = readdir(d)) != NULL) {
        int sub;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (unlinkat(dirfd(d), de->d_name, 0) == 0 || (errno != EISDIR && errno != EPERM))
            continue;
        sub = depth < 64 ? openat(dirfd(d), de->d_name,
                                  O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                         : -1;
        if (sub >= 0)
            tree_empty(sub, depth + 1);
        (void)unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
    }
    closedir(d);
}

void
children_tmpdir_remove(pid_t pid)
{
    char dir[PATH_MAX];
    int fd;

    children_tmpdir(pid, dir, sizeof dir);
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
        return;
    tree_empty(fd, 0);
    if (rmdir(dir) == -1 && errno != ENOENT)
        log_errno(LOG_WARN, "removing %s", dir);
}

/* Is 'pid' a running process (not gone, not a zombie nobody reaped)? */
static bool
pid_running(pid_t pid)
{
    char path[64], line[512], *rp;
    ssize_t n;
    int fd;

    if (kill(pid, 0) == -1 && errno == ESRCH)
        return false;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
        return errno != ENOENT;
    n = read(fd, line, sizeof line - 1);
    close(fd);
    if (n <= 0)
        return true;
    line[n] = '\0';
    rp = strrchr(line, ')');
    return rp == NULL || (rp[1] != '\0' && rp[2] != 'Z' && rp[2] != 'X');
}

int
children_tmpdir_sweep(void)
{
    const char *base = getenv("TMPDIR");
    struct dirent *de;
    int n = 0;
    DIR *d;

    if ((d = opendir(base != NULL && base[0] == '/' ? base : "/tmp")) == NULL)
        return 0;
    while ((de = readdir(d)) != NULL) {
        char *end;
        long pid;
        if (strncmp(de->d_name, "rendercgi-worker.", 17) != 0)
            continue;
        pid = strtol(de->d_name + 17, &end, 10);
        if (*end != '\0' || pid <= 1 || pid > INT32_MAX)
            continue;
        /* A live process of that pid may be a worker of another spawner. */
        if (pid_running((pid_t)pid))
            continue;
        children_tmpdir_remove((pid_t)pid);
        n++;
    }
    closedir(d);
    return n;
}

/* In the child: make the private TMPDIR as the worker's user. One left by
 * an earlier process with the same pid is reused only if it is a real
 * directory of ours that nobody else can enter. */
static int
tmpdir_make(const char *dir)
{
    struct stat st;

    if (mkdir(dir, 0700) == 0)
        return RC_OK;
    if (errno != EEXIST)
        return RC_ERROR;
    if (lstat(dir, &st) == -1)
        return RC_ERROR;
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0077) != 0) {
        errno = EEXIST;
        return RC_ERROR;
    }
    return RC_OK;
}

/* Put 'fd' at 'target' in the child, where 'fd' may itself be 0-3. */
static int
fd_place(int fd, int target)
{
    return dup2(fd, target) == -1 ? RC_ERROR : RC_OK;
}

/* Runs in the child; never returns. */
static void __attribute__((noreturn))
child_exec(const struct child_spec *s, pid_t parent)
{
    char *argv[8], tmp[PATH_MAX], num[16];
    int i = 0, lfd, sbfd = -1, logfd = -1;

    signals_reset_for_exec();
    /* Own session and process group: Ctrl-C at the terminal reaches the
     * spawner alone (which stops workers in order), and the spawner can tell
     * a dead worker's leftovers by their session id. */
    if (setsid() == -1)
        log_errno(LOG_WARN, "[pool %s] worker %d: setsid", s->pool, (int)getpid());
    if (s->privs != NULL && privs_apply(s->privs) != RC_OK) {
        log_errno(LOG_ERR, "[pool %s] worker %d: cannot become user %s", s->pool, (int)getpid(),
                  s->privs->user);
        _exit(126);
    }
    /* If the spawner dies, so do its workers. Set after the change of
     * user, which would clear it... */
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
        log_errno(LOG_WARN, "[pool %s] worker %d: PR_SET_PDEATHSIG", s->pool, (int)getpid());
    /* ...and including when it died before the line above took effect. */
    if (getppid() != parent)
        _exit(1);
    /* Lift every source above the targets first, so that placing one never
     * overwrites another (the sources may sit on 0-3 themselves). */
    if ((lfd = fcntl(s->listen_fd, F_DUPFD_CLOEXEC, 10)) == -1 ||
        (s->sb_fd >= 0 && (sbfd = fcntl(s->sb_fd, F_DUPFD_CLOEXEC, 10)) == -1) ||
        (s->log_fd >= 0 && (logfd = fcntl(s->log_fd, F_DUPFD_CLOEXEC, 10)) == -1)) {
        log_errno(LOG_ERR, "[pool %s] worker %d: F_DUPFD", s->pool, (int)getpid());
        _exit(126);
    }
    if (fd_place(lfd, 0) != RC_OK || (logfd >= 0 && fd_place(logfd, 2) != RC_OK) ||
        (sbfd >= 0 && fd_place(sbfd, CHILDREN_SB_FD) != RC_OK)) {
        log_errno(LOG_ERR, "[pool %s] worker %d: dup2", s->pool, (int)getpid());
        _exit(126);
    }
    close_from(sbfd >= 0 ? CHILDREN_SB_FD + 1 : 3);
    if (sbfd >= 0) {
        snprintf(num, sizeof num, "%d", s->sb_index);
        if (setenv(CHILDREN_SB_FD_ENV, "3", 1) == -1 ||
            setenv(CHILDREN_SB_INDEX_ENV, num, 1) == -1)
            _exit(126);
    }
    /* Not socket-activated, whatever our own environment says: fd 0 is the
     * socket. */
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDNAMES");
    /* A directory the new user may not enter would fail odd things later. */
    if (s->privs != NULL && s->privs->change && chdir("/") == -1)
        log_errno(LOG_WARN, "[pool %s] worker %d: chdir /", s->pool, (int)getpid());
    /* A private TMPDIR (Chromium profiles, its shared-memory files): a worker
     * killed with -9 cannot clean up, so the spawner removes it. */
    children_tmpdir(getpid(), tmp, sizeof tmp);
    if (tmpdir_make(tmp) != RC_OK || setenv("TMPDIR", tmp, 1) == -1) {
        log_errno(LOG_ERR, "[pool %s] worker %d: private TMPDIR %s", s->pool, (int)getpid(),
                  tmp);
        _exit(126);
    }
    argv[i++] = (char *)s->binary;
    if (s->conf_path != NULL) {
        argv[i++] = (char *)"-c";
        argv[i++] = (char *)s->conf_path;
    }
    argv[i++] = (char *)"--pool";
    argv[i++] = (char *)s->pool;
    argv[i] = NULL;
    execv(s->binary, argv);
    log_errno(LOG_ERR, "[pool %s] worker %d: exec %s", s->pool, (int)getpid(), s->binary);
    _exit(127);
}

int
children_spawn(const struct child_spec *s, pid_t *pid)
{
    pid_t parent = getpid(), child;
    sigset_t old;

    /* No handler may run in the child before it resets them: block all
     * signals across fork; the child unblocks after resetting. */
    signals_block_all(&old);
    child = fork();
    if (child == 0)
        child_exec(s, parent);
    signals_restore(&old);
    if (child == -1) {
        log_errno(LOG_ERR, "[pool %s] fork", s->pool);
        return RC_ERROR;
    }
    *pid = child;
    return RC_OK;
}

static int
executable(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int
children_worker_path(const char *configured, char *buf, size_t len)
{
    const char *env = getenv(CHILDREN_WORKER_ENV), *from;
    char self[PATH_MAX], resolved[PATH_MAX];
    ssize_t n;

    if (env != NULL && *env != '\0') {
        from = "$" CHILDREN_WORKER_ENV;
        snprintf(self, sizeof self, "%s", env);
    } else if (configured != NULL && *configured != '\0') {
        from = "worker_binary";
        snprintf(self, sizeof self, "%s", configured);
    } else {
        char *slash;
        from = "the spawner's directory";
        if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) < 0) {
            log_errno(LOG_ERR, "readlink /proc/self/exe");
            return RC_NOT_FOUND;
        }
        self[n] = '\0';
        if ((slash = strrchr(self, '/')) == NULL || (size_t)(slash - self) + 18 >= sizeof self)
            return RC_NOT_FOUND;
        strcpy(slash + 1, "rendercgi-worker");
    }
    /* Absolute, because the daemon changes to "/" before starting workers. */
    if (realpath(self, resolved) == NULL || !executable(resolved)) {
        log_msg(LOG_ERR, "worker binary %s (from %s) is not an executable file; set %s or "
                "worker_binary", self, from, CHILDREN_WORKER_ENV);
        return RC_NOT_FOUND;
    }
    if (strlen(resolved) >= len)
        return RC_NOT_FOUND;
    strcpy(buf, resolved);
    return RC_OK;
}
