/* fake_worker.c — a stand-in for rendercgi-worker, for the spawner's tests.
 *
 * Started by rendercgi-spawner (via $RENDERCGI_WORKER) as
 * "fake_worker [-c FILE] --pool NAME" with the pool's socket on fd 0, it
 * writes what it was given to $FAKE_WORKER_DIR/<pid> (one line of
 * key=value: pool, conf, sid, pgid, open fds, blocked and ignored signals),
 * then accepts on fd 0 and answers every connection with "<pid> <pool>\n".
 *
 * $FAKE_WORKER_MODE changes its behaviour:
 *   serve        (default) as above; exit 0 on SIGTERM
 *   leave_child  also fork a child in its own process group, which forks a
 *                grandchild; both sleep forever and their pids go to
 *                $FAKE_WORKER_DIR/<pid>.child — what a killed worker leaves
 *   exit:N       exit with status N at once (a crash loop)
 *   ignore_term  ignore SIGTERM (the spawner must SIGKILL it) */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *dir;

static void
on_term(int sig)
{
    _exit(0);
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

/* The value of "SigBlk:\t0000000000000000" and the like in /proc/self/status. */
static void
status_field(const char *key, char *out, size_t len)
{
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");

    snprintf(out, len, "?");
    if (f == NULL)
        return;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, key, strlen(key)) == 0) {
            const char *v = line + strlen(key);
            v += strspn(v, " \t");
            snprintf(out, len, "%.*s", (int)strcspn(v, " \t\n"), v);
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
    char text[128];
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
    char name[64];
    snprintf(name, sizeof name, "%d.child", (int)worker);
    record(name, text);
    for (;;)
        pause();
}

int
main(int argc, char **argv)
{
    const char *pool = "?", *conf = "-", *mode = getenv("FAKE_WORKER_MODE");
    char text[2048], fds[256], blk[64], ign[64], name[32];
    struct sigaction sa;

    dir = getenv("FAKE_WORKER_DIR");
    if (dir == NULL)
        dir = "/tmp";
    if (mode == NULL)
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
    snprintf(text, sizeof text,
             "pid=%d pool=%s conf=%s sid=%d pgid=%d fds=%s sigblk=%s sigign=%s\n", (int)getpid(),
             pool, conf, (int)getsid(0), (int)getpgrp(), fds, blk, ign);
    snprintf(name, sizeof name, "%d", (int)getpid());
    record(name, text);

    if (strncmp(mode, "exit:", 5) == 0)
        return atoi(mode + 5);
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = strcmp(mode, "ignore_term") == 0 ? SIG_IGN : on_term;
    sigaction(SIGTERM, &sa, NULL);
    if (strcmp(mode, "leave_child") == 0)
        leave_child();

    for (;;) {
        int c = accept(0, NULL, NULL);
        if (c == -1) {
            if (errno == EINTR)
                continue;
            perror("fake_worker: accept");
            return 3;
        }
        int len = snprintf(text, sizeof text, "%d %s\n", (int)getpid(), pool);
        if (write(c, text, (size_t)len) < 0) {
            /* The client left; nothing to do. */
        }
        close(c);
    }
}
