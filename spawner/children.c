/* children.c — fork and exec of one worker; see children.h. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "children.h"
#include "log.h"
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

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

void
children_tmpdir_remove(pid_t pid)
{
    char dir[PATH_MAX];
    struct stat st;

    children_tmpdir(pid, dir, sizeof dir);
    if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Runs in the child; never returns. */
static void __attribute__((noreturn))
child_exec(const struct child_spec *s, pid_t parent)
{
    char *argv[8];
    int i = 0;

    signals_reset_for_exec();
    /* Own session and process group: Ctrl-C at the terminal reaches the
     * spawner alone (which stops workers in order), and the spawner can tell
     * a dead worker's leftovers by their session id. */
    if (setsid() == -1)
        log_errno(LOG_WARN, "[pool %s] worker %d: setsid", s->pool, (int)getpid());
    /* If the spawner dies, so do its workers... */
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
        log_errno(LOG_WARN, "[pool %s] worker %d: PR_SET_PDEATHSIG", s->pool, (int)getpid());
    /* ...including when it died before the line above took effect. */
    if (getppid() != parent)
        _exit(1);
    if (s->listen_fd == 0) {
        /* dup2 onto itself would keep close-on-exec. */
        if (fcntl(0, F_SETFD, 0) == -1)
            _exit(126);
    } else if (dup2(s->listen_fd, 0) == -1) {
        log_errno(LOG_ERR, "[pool %s] worker %d: dup2", s->pool, (int)getpid());
        _exit(126);
    }
    close_from(3);
    /* A private TMPDIR (Chromium profiles, its shared-memory files): a worker
     * killed with -9 cannot clean up, so the spawner removes it. */
    char tmp[PATH_MAX];
    children_tmpdir(getpid(), tmp, sizeof tmp);
    if ((mkdir(tmp, 0700) == -1 && errno != EEXIST) || setenv("TMPDIR", tmp, 1) == -1)
        log_errno(LOG_WARN, "[pool %s] worker %d: private TMPDIR %s", s->pool, (int)getpid(),
                  tmp);
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
