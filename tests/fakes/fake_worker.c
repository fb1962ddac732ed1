/* fake_worker.c — a stand-in for rendercgi-worker, for the spawner's tests.
 *
 * Started by rendercgi-spawner (via $RENDERCGI_WORKER) as
 * "fake_worker [-c FILE] --pool NAME" with the pool's socket on fd 0 and its
 * scoreboard on fd 3, it writes what it was given to $FAKE_WORKER_DIR/<pid>
 * (one line of key=value: pool, conf, sid, pgid, open fds, blocked and
 * ignored signals, uid, gid, groups, scoreboard fd and index, TMPDIR, where
 * its stderr goes), attaches its scoreboard entry (common/scoreboard.c) and
 * keeps it as rendercgi-worker does: a heartbeat every 100 ms from a thread
 * of its own, 'ready' once started, 'requests' counted, one request thread
 * entry per request held open. It accepts on fd 0; each client sends one
 * line and gets "<pid> <pool>\n" back, or as the line asks:
 *
 *   (empty)       answer at once
 *   slow MS       answer after MS ms, even if SIGTERM arrives meanwhile
 *   stick ROUTE   mark a request on ROUTE as running since now, never answer
 *   hang          stop the heartbeat and ignore SIGTERM from now on; answer
 *   pss BYTES     report BYTES as pss_bytes; answer
 *   crash SIG     answer, then die on signal SIG
 *   log TEXT      write "fake_worker[PID]: TEXT" to stderr; answer
 *
 * $FAKE_WORKER_MODE, or the first line of $FAKE_WORKER_DIR/mode when that
 * file exists (read at start, so a test can change what later workers do):
 *   serve        (default) as above; on SIGTERM finish the current client
 *                and exit 0
 *   leave_child  also fork a child in its own process group, which forks a
 *                grandchild; both sleep forever and their pids go to
 *                $FAKE_WORKER_DIR/<pid>.child — what a killed worker leaves
 *   exit:N       exit with status N at once (a crash loop)
 *   ignore_term  ignore SIGTERM (the spawner must SIGKILL it)
 *   never_ready  serve, but never set 'ready' (a browser that cannot start)
 *   ready_after:MS  set 'ready' only MS ms after the start */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "rc.h"
#include "scoreboard.h"

static const char *dir;
static volatile sig_atomic_t stopping;
static atomic_int hung;
static struct sb_worker *self;
static struct sb_worker alone; /* when started without a scoreboard */
static int64_t ready_at = 0;   /* -1: never */

static void
on_term(int sig)
{
    (void)sig;
    if (!atomic_load(&hung))
        stopping = 1;
}

/* Write 'text' to DIR/NAME atomically, so a reader never sees half. */
static void
record(const char *name, const char *text)
{
    char tmp[4096], path[4096];
    FILE *f;

    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if ((f = fopen(tmp, "w")) == NULL)
        return;
    fputs(text, f);
    fclose(f);
    rename(tmp, path);
}

/* The value of "SigBlk:\t0000000000000000" and the like in /proc/self/status,
 * blanks inside turned into commas (Groups:). */
static void
status_field(const char *key, char *out, size_t len)
{
    char line[1024];
    FILE *f = fopen("/proc/self/status", "r");

    snprintf(out, len, "?");
    if (f == NULL)
        return;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, key, strlen(key)) == 0) {
            char *v = line + strlen(key);
            size_t n;
            v += strspn(v, " \t");
            n = strcspn(v, "\n");
            v[n] = '\0';
            while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
                v[--n] = '\0';
            for (char *p = v; *p != '\0'; p++)
                if (*p == ' ' || *p == '\t')
                    *p = ',';
            snprintf(out, len, "%s", *v ? v : "-");
        }
    }
    fclose(f);
}

static void
open_fds(char *out, size_t len)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    size_t n = 0;

    out[0] = '\0';
    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        int fd;
        if (de->d_name[0] == '.' || (fd = atoi(de->d_name)) == dirfd(d))
            continue;
        n += (size_t)snprintf(out + n, len - n, "%s%d", n ? "," : "", fd);
        if (n >= len)
            break;
    }
    closedir(d);
}

static void
leave_child(void)
{
    char text[128], name[64];
    pid_t worker = getpid(), child;

    if ((child = fork()) != 0)
        return;
    /* The child: its own process group, and a grandchild in that group. */
    setpgid(0, 0);
    pid_t grandchild = fork();
    if (grandchild == 0) {
        for (;;)
            pause();
    }
    snprintf(text, sizeof text, "child=%d grandchild=%d\n", (int)getpid(), (int)grandchild);
    snprintf(name, sizeof name, "%d.child", (int)worker);
    record(name, text);
    for (;;)
        pause();
}

static void *
heartbeat_main(void *arg)
{
    (void)arg;
    for (;;) {
        struct timespec t = { 0, 100 * 1000000L };
        int64_t now = clock_ms();
        if (!atomic_load(&hung))
            atomic_store(&self->heartbeat_ms, now);
        if (ready_at >= 0 && now >= ready_at && !stopping)
            atomic_store(&self->ready, 1);
        nanosleep(&t, NULL);
    }
    return NULL;
}

/* Sleep 'ms', whatever signals arrive. */
static void
sleep_ms(int64_t ms)
{
    int64_t end = clock_ms() + ms;

    while (clock_ms() < end) {
        int64_t left = end - clock_ms();
        struct timespec t = { (time_t)(left / 1000), (long)(left % 1000) * 1000000L };
        nanosleep(&t, NULL);
    }
}

/* Read the client's one line (up to '\n' or EOF). */
static void
read_line(int c, char *buf, size_t len)
{
    size_t n = 0;
    struct timeval tv = { 5, 0 };

    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (n + 1 < len) {
        ssize_t r = read(c, buf + n, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || buf[n] == '\n')
            break;
        n++;
    }
    buf[n] = '\0';
}

/* Serve one client. Returns 1 if its connection is to stay open. */
static int
serve(int c, const char *pool, int *stuck)
{
    char line[256], text[128];
    int keep = 0, crash = 0;

    read_line(c, line, sizeof line);
    if (strncmp(line, "slow ", 5) == 0) {
        sleep_ms(atoll(line + 5));
    } else if (strncmp(line, "stick ", 6) == 0 && *stuck < SB_MAX_THREADS) {
        struct sb_thread *t = &self->threads[(*stuck)++];
        snprintf(t->route, sizeof t->route, "%.15s", line + 6);
        atomic_store(&t->started_ms, clock_ms());
        atomic_store(&t->state, SB_RENDERING);
        atomic_fetch_add(&self->active, 1);
        return 1;
    } else if (strcmp(line, "hang") == 0) {
        atomic_store(&hung, 1);
        signal(SIGTERM, SIG_IGN);
    } else if (strncmp(line, "pss ", 4) == 0) {
        atomic_store(&self->pss_bytes, atoll(line + 4));
    } else if (strncmp(line, "crash ", 6) == 0) {
        crash = atoi(line + 6);
    } else if (strncmp(line, "log ", 4) == 0) {
        fprintf(stderr, "fake_worker[%d]: %s\n", (int)getpid(), line + 4);
        fflush(stderr);
    }
    int len = snprintf(text, sizeof text, "%d %s\n", (int)getpid(), pool);
    if (write(c, text, (size_t)len) < 0) {
        /* The client left; nothing to do. */
    }
    atomic_fetch_add(&self->requests, 1);
    if (crash > 0) {
        close(c);
        signal(crash, SIG_DFL);
        raise(crash);
    }
    return keep;
}

int
main(int argc, char **argv)
{
    const char *pool = "?", *conf = "-", *mode = getenv("FAKE_WORKER_MODE");
    char text[4096], fds[256], blk[64], ign[64], uid[64], gid[64], groups[256], name[32];
    char modebuf[128], errto[256] = "?", path[4096];
    struct scoreboard *sb = NULL;
    struct sigaction sa;
    sigset_t all, old;
    pthread_t hb;
    int stuck = 0;
    FILE *mf;
    ssize_t n;

    dir = getenv("FAKE_WORKER_DIR");
    if (dir == NULL)
        dir = "/tmp";
    snprintf(path, sizeof path, "%s/mode", dir);
    if ((mf = fopen(path, "r")) != NULL) {
        if (fgets(modebuf, sizeof modebuf, mf) != NULL) {
            modebuf[strcspn(modebuf, "\n")] = '\0';
            mode = modebuf;
        }
        fclose(mf);
    }
    if (mode == NULL || *mode == '\0')
        mode = "serve";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
            conf = argv[++i];
        else if (strcmp(argv[i], "--pool") == 0 && i + 1 < argc)
            pool = argv[++i];
    }
    /* What the spawner handed over, before we change anything. */
    open_fds(fds, sizeof fds);
    status_field("SigBlk:", blk, sizeof blk);
    status_field("SigIgn:", ign, sizeof ign);
    status_field("Uid:", uid, sizeof uid);
    status_field("Gid:", gid, sizeof gid);
    status_field("Groups:", groups, sizeof groups);
    if ((n = readlink("/proc/self/fd/2", errto, sizeof errto - 1)) > 0)
        errto[n] = '\0';
    snprintf(text, sizeof text,
             "pid=%d pool=%s conf=%s sid=%d pgid=%d fds=%s sigblk=%s sigign=%s uid=%s gid=%s "
             "groups=%s sbfd=%s sbindex=%s tmpdir=%s stderr=%s\n",
             (int)getpid(), pool, conf, (int)getsid(0), (int)getpgrp(), fds, blk, ign, uid, gid,
             groups, getenv("RENDERCGI_SCOREBOARD_FD") ? getenv("RENDERCGI_SCOREBOARD_FD") : "-",
             getenv("RENDERCGI_SCOREBOARD_INDEX") ? getenv("RENDERCGI_SCOREBOARD_INDEX") : "-",
             getenv("TMPDIR") ? getenv("TMPDIR") : "-", errto);
    snprintf(name, sizeof name, "%d", (int)getpid());
    record(name, text);

    if (strncmp(mode, "exit:", 5) == 0)
        return atoi(mode + 5);
    if (scoreboard_attach(&sb, &self) != RC_OK)
        self = &alone;
    atomic_store(&self->nthreads, 1);
    if (strcmp(mode, "never_ready") == 0)
        ready_at = -1;
    else if (strncmp(mode, "ready_after:", 12) == 0)
        ready_at = clock_ms() + atoll(mode + 12);

    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: SIGTERM must interrupt accept(). */
    sa.sa_handler = strcmp(mode, "ignore_term") == 0 ? SIG_IGN : on_term;
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* A crash signal kills, as in any program (a sanitizer build would
     * otherwise catch it and exit with a status). */
    signal(SIGSEGV, SIG_DFL);
    signal(SIGBUS, SIG_DFL);
    if (strcmp(mode, "leave_child") == 0)
        leave_child();

    /* The heartbeat thread takes no signal: they are for the accept loop. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    if (pthread_create(&hb, NULL, heartbeat_main, NULL) != 0) {
        perror("fake_worker: pthread_create");
        return 3;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    while (!stopping) {
        int c = accept(0, NULL, NULL);
        if (c == -1) {
            if (errno == EINTR)
                continue;
            perror("fake_worker: accept");
            return 3;
        }
        if (!serve(c, pool, &stuck))
            close(c);
    }
    atomic_store(&self->ready, 0);
    atomic_store(&self->draining, 1);
    return 0;
}
