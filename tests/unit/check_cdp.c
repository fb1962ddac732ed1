/* check_cdp.c — tests of fcgi-worker/transport_pipe.c and fcgi-worker/cdp.c.
 *
 * The transport is tested over plain pipe(2)s inside this process. The CDP
 * client is tested against tests/fakes/fake_cdp_peer (FAKE_CDP_PEER), a
 * scripted browser on fds 3 and 4 whose behaviour each command's method
 * selects, and, in the "chromium" case, against the real headless Chromium.
 *
 * Like the worker, this program ignores SIGPIPE; one test restores the
 * default to prove the transport is safe without that. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cdp.h"
#include "clock.h"
#include "rc.h"
#include "transport.h"

#ifndef CHROMIUM_PATH
#define CHROMIUM_PATH "/usr/lib/chromium/chromium"
#endif

#define PEER_MAX_MESSAGE (256 * 1024)
#define MAX_EVENTS 256

/* --- helpers --------------------------------------------------------------- */

static void
pause_ms(long ms)
{
    const struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

/* Wait until thread 'tid' sleeps in the kernel (state S), i.e. is blocked. */
static void
wait_thread_blocked(pid_t tid)
{
    int64_t deadline = clock_ms() + 5000;
    char path[64], stat[512];

    snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
    for (;;) {
        FILE *f = fopen(path, "r");
        char *paren;
        ck_assert_ptr_nonnull(f);
        size_t n = fread(stat, 1, sizeof(stat) - 1, f);
        fclose(f);
        stat[n] = '\0';
        paren = strrchr(stat, ')');
        if (paren != NULL && paren[1] == ' ' && paren[2] == 'S')
            return;
        ck_assert_msg(clock_ms() < deadline, "thread %d never blocked", (int)tid);
        pause_ms(1);
    }
}

/* Wait for 'pid' to exit by 'deadline_ms'; SIGKILL it otherwise. True when it
 * exited on its own. */
static bool
reap(pid_t pid, int64_t deadline_ms)
{
    int status;

    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid || (r == -1 && errno == ECHILD))
            return true;
        if (clock_ms() >= deadline_ms)
            break;
        pause_ms(5);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return false;
}

/* Fork and exec 'argv' with a pipe on its fd 3 (it reads) and fd 4 (it
 * writes); *rfd and *wfd get our ends. With 'own_group' the child leads a new
 * process group, so that kill(-pid) reaches everything it starts. */
static pid_t
spawn_piped(char *const argv[], bool own_group, bool quiet, int *rfd, int *wfd)
{
    int to[2] = { -1, -1 }, from[2] = { -1, -1 };
    pid_t parent = getpid(), pid;

    ck_assert_int_eq(pipe2(to, O_CLOEXEC), 0);
    ck_assert_int_eq(pipe2(from, O_CLOEXEC), 0);
    pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        /* Move both ends above 4 first: dup2 onto 3 or 4 could otherwise
         * clobber the other end, or be a no-op that keeps O_CLOEXEC. */
        int in = fcntl(to[0], F_DUPFD_CLOEXEC, 10), out = fcntl(from[1], F_DUPFD_CLOEXEC, 10);
        if (own_group)
            setpgid(0, 0);
        /* If a failed test leaves us without cleanup, the child follows. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
            _exit(125);
        if (in == -1 || out == -1 || dup2(in, 3) == -1 || dup2(out, 4) == -1)
            _exit(126);
        if (quiet) {
            int null = open("/dev/null", O_WRONLY);
            dup2(null, 1);
            dup2(null, 2);
        }
        signal(SIGPIPE, SIG_DFL); /* ignored signals stay ignored across exec */
        execv(argv[0], argv);
        _exit(127);
    }
    if (own_group)
        setpgid(pid, pid);
    close(to[0]);
    close(from[1]);
    *rfd = from[0];
    *wfd = to[1];
    return pid;
}

/* What the callbacks saw. */
struct seen {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int nevents;
    struct {
        char method[64];
        char session[64]; /* "" for browser-level events */
        bool has_params;
        double n; /* params.n, or -1 */
    } ev[MAX_EVENTS];
    int nclosed;
    char why[128];
};

static void
seen_init(struct seen *s)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    clock_cond_init(&s->cond);
}

static void
seen_destroy(struct seen *s)
{
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
}

static void
on_event(void *ud, const char *session_id, const char *method, yajl_val params)
{
    struct seen *s = ud;

    pthread_mutex_lock(&s->lock);
    if (s->nevents < MAX_EVENTS) {
        int i = s->nevents++;
        snprintf(s->ev[i].method, sizeof(s->ev[i].method), "%s", method);
        snprintf(s->ev[i].session, sizeof(s->ev[i].session), "%s",
                 session_id != NULL ? session_id : "");
        s->ev[i].has_params = params != NULL;
        s->ev[i].n = cdp_get_number(params, -1, "n", NULL);
    }
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static void
on_closed(void *ud, const char *why)
{
    struct seen *s = ud;

    pthread_mutex_lock(&s->lock);
    s->nclosed++;
    snprintf(s->why, sizeof(s->why), "%s", why);
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

/* Index of the first event named 'method' (and, if non-NULL, on 'session'),
 * waiting for it until 'deadline_ms'; -1 if it never came. */
static int
seen_wait_event(struct seen *s, const char *method, const char *session, int64_t deadline_ms)
{
    struct timespec ts;
    int found = -1;

    clock_deadline_timespec(deadline_ms, &ts);
    pthread_mutex_lock(&s->lock);
    for (;;) {
        for (int i = 0; i < s->nevents && found < 0; i++) {
            if (strcmp(s->ev[i].method, method) == 0 &&
                (session == NULL || strcmp(s->ev[i].session, session) == 0))
                found = i;
        }
        if (found >= 0 || pthread_cond_timedwait(&s->cond, &s->lock, &ts) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&s->lock);
    return found;
}

static bool
seen_wait_closed(struct seen *s, int64_t deadline_ms)
{
    struct timespec ts;
    bool closed;

    clock_deadline_timespec(deadline_ms, &ts);
    pthread_mutex_lock(&s->lock);
    while (s->nclosed == 0 && pthread_cond_timedwait(&s->cond, &s->lock, &ts) != ETIMEDOUT)
        ;
    closed = s->nclosed > 0;
    pthread_mutex_unlock(&s->lock);
    return closed;
}

/* A fake browser and a client talking to it. */
struct peer {
    pid_t pid;
    struct cdp *cdp;
    struct seen seen;
};

static void
peer_start(struct peer *p, size_t max_message)
{
    char *argv[] = { FAKE_CDP_PEER, NULL };
    struct transport *t;
    int rfd, wfd;

    seen_init(&p->seen);
    p->pid = spawn_piped(argv, false, false, &rfd, &wfd);
    ck_assert_ptr_nonnull(t = transport_pipe_new(rfd, wfd, max_message));
    ck_assert_ptr_nonnull(p->cdp = cdp_new(t, on_event, on_closed, &p->seen));
}

/* Free the client (the peer sees EOF and exits) and reap the peer. */
static void
peer_stop(struct peer *p)
{
    cdp_free(p->cdp);
    ck_assert_msg(reap(p->pid, clock_ms() + 5000), "fake peer did not exit on EOF");
    ck_assert_int_eq(p->seen.nclosed, 1);
    seen_destroy(&p->seen);
}

/* --- transport_pipe ---------------------------------------------------------- */

static struct transport *
pipe_pair(int *peer_w, int *peer_r, size_t max_message)
{
    int in[2], out[2];
    struct transport *t;

    ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
    ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
    *peer_w = in[1];
    *peer_r = out[0];
    ck_assert_ptr_nonnull(t = transport_pipe_new(in[0], out[1], max_message));
    return t;
}

START_TEST(transport_recv_returns_each_of_several_messages_in_one_read)
{
    int w, r;
    struct transport *t = pipe_pair(&w, &r, 1024);
    struct buf m;

    buf_init(&m, 1024);
    ck_assert_int_eq(write(w, "{\"a\":1}\0{}\0[2]\0", 15), 15);
    ck_assert_int_eq(transport_recv(t, &m, clock_ms() + 1000), RC_OK);
    ck_assert_str_eq(m.data, "{\"a\":1}");
    ck_assert_int_eq(transport_recv(t, &m, clock_ms() + 1000), RC_OK);
    ck_assert_str_eq(m.data, "{}");
    ck_assert_int_eq(transport_recv(t, &m, clock_ms() + 1000), RC_OK);
    ck_assert_str_eq(m.data, "[2]");
    ck_assert_int_eq(transport_recv(t, &m, clock_ms() + 20), RC_TIMEOUT);
    buf_free(&m);
    transport_free(t);
    close(w);
    close(r);
}
END_TEST

START_TEST(transport_recv_reassembles_a_message_split_across_writes)
{
    int w, r;
    struct transport *t = pipe_pair(&w, &r, 1024);
    struct buf m;

    buf_init(&m, 1024);
    ck_assert_int_eq(write(w, "{\"sp", 4), 4);
    ck_assert_int_eq(transport_recv(t, &m, clock_ms() + 30), RC_TIMEOUT);
    ck_assert_int_eq(write(w, "lit\":", 5), 5);
    ck_assert_int_eq(transport_recv(t, &m, clock_ms() + 30), RC_TIMEOUT);
    ck_assert_int_eq(write(w, "true}\0{\"n", 9), 9);
    ck_assert_int_eq(transport_recv(t, &m, clock_ms() + 1000), RC_OK);
    ck_assert_str_eq(m.data, "{\"split\":true}");
    ck_assert_int_eq(write(w, "ext\":1}\0", 8), 8);
    ck_assert_int_eq(transport_recv(t, &m, clock_ms() + 1000), RC_OK);
    ck_assert_str_eq(m.data, "{\"next\":1}");
    buf_free(&m);
    transport_free(t);
    close(w);
    close(r);
}
END_TEST

struct big_writer {
    int fd;
    const char *data;
    size_t len;
};

static void *
big_writer_run(void *arg)
{
    struct big_writer *bw = arg;
    size_t off = 0;

    while (off < bw->len) {
        ssize_t n = write(bw->fd, bw->data + off, bw->len - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    return NULL;
}

START_TEST(transport_recv_carries_a_message_of_megabytes)
{
    size_t len = 3 * 1024 * 1024 + 17;
    char *big = malloc(len + 1);
    int w, r;
    struct transport *t = pipe_pair(&w, &r, 4 * 1024 * 1024);
    struct big_writer bw = { -1, big, len + 1 };
    pthread_t th;
    struct buf m;

    for (size_t i = 0; i < len; i++)
        big[i] = (char)('a' + i % 26);
    big[len] = '\0';
    bw.fd = w;
    buf_init(&m, 8 * 1024 * 1024);
    ck_assert_int_eq(pthread_create(&th, NULL, big_writer_run, &bw), 0);
    ck_assert_int_eq(transport_recv(t, &m, clock_ms() + 10000), RC_OK);
    ck_assert_uint_eq(m.len, len);
    ck_assert(memcmp(m.data, big, len) == 0);
    pthread_join(th, NULL);
    buf_free(&m);
    free(big);
    transport_free(t);
    close(w);
    close(r);
}
END_TEST

START_TEST(transport_recv_over_cap_is_too_large_then_closed)
{
    int w, r;
    struct transport *t = pipe_pair(&w, &r, 100);
    char junk[300];
    struct buf m;

    memset(junk, 'x', sizeof(junk));
    buf_init(&m, 1024);
    ck_assert_int_eq(write(w, "{}\0", 3), 3);
    ck_assert_int_eq(write(w, junk, sizeof(junk)), (ssize_t)sizeof(junk));
    ck_assert_int_eq(transport_recv(t, &m, clock_ms() + 1000), RC_OK);
    ck_assert_int_eq(transport_recv(t, &m, clock_ms() + 1000), RC_TOO_LARGE);
    ck_assert_int_eq(transport_recv(t, &m, clock_ms() + 1000), RC_CLOSED);
    buf_free(&m);
    transport_free(t);
    close(w);
    close(r);
}
END_TEST

START_TEST(transport_recv_at_eof_is_closed)
{
    int w, r;
    struct transport *t = pipe_pair(&w, &r, 100);
    struct buf m;

    buf_init(&m, 1024);
    ck_assert_int_eq(write(w, "{}\0{\"cut", 8), 8);
    close(w);
    ck_assert_int_eq(transport_recv(t, &m, -1), RC_OK);
    ck_assert_int_eq(transport_recv(t, &m, -1), RC_CLOSED);
    ck_assert_int_eq(transport_recv(t, &m, -1), RC_CLOSED);
    buf_free(&m);
    transport_free(t);
    close(r);
}
END_TEST

START_TEST(transport_send_ends_each_message_with_nul_and_refuses_over_cap)
{
    int w, r;
    struct transport *t = pipe_pair(&w, &r, 10);
    char got[32];

    ck_assert_int_eq(transport_send(t, "{\"a\":1}", 7), RC_OK);
    ck_assert_int_eq(transport_send(t, "{}", 2), RC_OK);
    ck_assert_int_eq(transport_send(t, "{\"toolong\":1}", 13), RC_TOO_LARGE);
    ck_assert_int_eq(read(r, got, sizeof(got)), 11);
    ck_assert(memcmp(got, "{\"a\":1}\0{}\0", 11) == 0);
    transport_free(t);
    close(w);
    close(r);
}
END_TEST

START_TEST(transport_send_to_a_gone_reader_is_closed_without_sigpipe)
{
    int w, r;
    struct transport *t = pipe_pair(&w, &r, 1024);
    sigset_t pending;

    /* With SIGPIPE at its default action, a raised one would kill us. */
    signal(SIGPIPE, SIG_DFL);
    close(r);
    ck_assert_int_eq(transport_send(t, "{}", 2), RC_CLOSED);
    ck_assert_int_eq(transport_send(t, "{}", 2), RC_CLOSED);
    sigpending(&pending);
    ck_assert(!sigismember(&pending, SIGPIPE));
    signal(SIGPIPE, SIG_IGN);
    transport_free(t);
    close(w);
}
END_TEST

struct blocked_op {
    struct transport *t;
    atomic_int tid;
    int rc;
    int64_t returned_at;
    const char *msg;
    size_t len;
};

static void *
blocked_recv_run(void *arg)
{
    struct blocked_op *op = arg;
    struct buf m;

    buf_init(&m, 1024);
    atomic_store(&op->tid, gettid());
    op->rc = transport_recv(op->t, &m, -1);
    op->returned_at = clock_ms();
    buf_free(&m);
    return NULL;
}

static void *
blocked_send_run(void *arg)
{
    struct blocked_op *op = arg;

    atomic_store(&op->tid, gettid());
    op->rc = transport_send(op->t, op->msg, op->len);
    op->returned_at = clock_ms();
    return NULL;
}

/* Start 'fn' on a thread, wait until it blocks, shut the transport down, and
 * check the thread comes back with RC_CLOSED within a second. */
static void
check_shutdown_unblocks(struct blocked_op *op, void *(*fn)(void *))
{
    pthread_t th;
    int64_t shut_at;

    atomic_init(&op->tid, 0);
    ck_assert_int_eq(pthread_create(&th, NULL, fn, op), 0);
    for (int64_t deadline = clock_ms() + 5000; atomic_load(&op->tid) == 0;) {
        ck_assert(clock_ms() < deadline);
        pause_ms(1);
    }
    wait_thread_blocked(atomic_load(&op->tid));
    shut_at = clock_ms();
    transport_shutdown(op->t);
    transport_shutdown(op->t); /* idempotent */
    pthread_join(th, NULL);
    ck_assert_int_eq(op->rc, RC_CLOSED);
    ck_assert_int_lt(op->returned_at - shut_at, 1000);
}

START_TEST(transport_shutdown_unblocks_recv_on_another_thread)
{
    int w, r;
    struct blocked_op op = { .t = pipe_pair(&w, &r, 1024) };
    struct buf m;

    check_shutdown_unblocks(&op, blocked_recv_run);
    buf_init(&m, 1024);
    ck_assert_int_eq(write(w, "{}\0", 3), 3);
    ck_assert_int_eq(transport_recv(op.t, &m, clock_ms() + 1000), RC_CLOSED);
    buf_free(&m);
    transport_free(op.t);
    close(w);
    close(r);
}
END_TEST

START_TEST(transport_shutdown_unblocks_send_stuck_on_a_full_pipe)
{
    size_t len = 4 * 1024 * 1024; /* far more than a pipe holds */
    char *big = malloc(len);
    int w, r;
    struct blocked_op op = { .t = pipe_pair(&w, &r, len), .msg = big, .len = len };

    memset(big, 'x', len);
    check_shutdown_unblocks(&op, blocked_send_run);
    ck_assert_int_eq(transport_send(op.t, "{}", 2), RC_CLOSED);
    free(big);
    transport_free(op.t);
    close(w);
    close(r);
}
END_TEST

/* --- cdp against the fake peer ---------------------------------------------- */

START_TEST(call_returns_result_tree_the_caller_frees)
{
    struct peer p;
    yajl_val res = NULL;
    struct buf err;

    buf_init(&err, 256);
    peer_start(&p, PEER_MAX_MESSAGE);
    ck_assert_int_eq(cdp_call(p.cdp, "a\"b\\c\n", "Test.echo",
                              "{\"x\":[1,2,{\"y\":\"z\"}],\"n\":7.5,\"ok\":true}",
                              clock_ms() + 5000, &res, &err),
                     RC_OK);
    ck_assert_ptr_nonnull(res);
    ck_assert_str_eq(cdp_get_string(res, "method", NULL), "Test.echo");
    ck_assert_str_eq(cdp_get_string(res, "sessionId", NULL), "a\"b\\c\n");
    ck_assert(cdp_get_number(res, 0, "params", "n", NULL) == 7.5);
    ck_assert(cdp_get_bool(res, false, "params", "ok", NULL));
    yajl_tree_free(res); /* the same as cdp_result_free() */

    /* No params and no session: both absent from the command. */
    ck_assert_int_eq(cdp_call(p.cdp, NULL, "Test.echo", NULL, clock_ms() + 5000, &res, NULL),
                     RC_OK);
    ck_assert(YAJL_IS_NULL(yajl_tree_get(res, (const char *[]){ "params", NULL }, yajl_t_any)));
    ck_assert_ptr_null(cdp_get_string(res, "sessionId", NULL));
    cdp_result_free(res);

    /* A caller that does not want the result. */
    ck_assert_int_eq(cdp_call(p.cdp, NULL, "Test.echo", "{}", clock_ms() + 5000, NULL, NULL),
                     RC_OK);
    ck_assert(!cdp_closed(p.cdp));
    peer_stop(&p);
    buf_free(&err);
}
END_TEST

struct caller {
    struct cdp *cdp;
    int n;
    int rc;
    double got_n;
};

static void *
caller_run(void *arg)
{
    struct caller *c = arg;
    char params[64];
    yajl_val res = NULL;

    snprintf(params, sizeof(params), "{\"batch\":8,\"n\":%d}", c->n);
    c->rc = cdp_call(c->cdp, NULL, "Test.reverse", params, clock_ms() + 10000, &res, NULL);
    c->got_n = cdp_get_number(res, -1, "params", "n", NULL);
    cdp_result_free(res);
    return NULL;
}

START_TEST(concurrent_callers_get_their_own_replies_out_of_order)
{
    struct peer p;
    struct caller callers[8];
    pthread_t th[8];

    peer_start(&p, PEER_MAX_MESSAGE);
    /* The peer holds the replies until all 8 commands are in, then answers
     * them newest first. */
    for (int i = 0; i < 8; i++) {
        callers[i] = (struct caller){ .cdp = p.cdp, .n = i, .rc = -100 };
        ck_assert_int_eq(pthread_create(&th[i], NULL, caller_run, &callers[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(callers[i].rc, RC_OK);
        ck_assert(callers[i].got_n == i);
    }
    peer_stop(&p);
}
END_TEST

START_TEST(events_are_dispatched_with_and_without_session_id)
{
    struct peer p;
    int i;

    peer_start(&p, PEER_MAX_MESSAGE);
    ck_assert_int_eq(cdp_call(p.cdp, NULL, "Test.events", NULL, clock_ms() + 5000, NULL, NULL),
                     RC_OK);
    /* Events written before the reply were dispatched before it. */
    pthread_mutex_lock(&p.seen.lock);
    ck_assert_int_eq(p.seen.nevents, 3);
    pthread_mutex_unlock(&p.seen.lock);
    i = seen_wait_event(&p.seen, "Test.browserEvent", "", clock_ms() + 1000);
    ck_assert_int_eq(i, 0);
    ck_assert(p.seen.ev[i].n == 1);
    i = seen_wait_event(&p.seen, "Test.pageEvent", "S1", clock_ms() + 1000);
    ck_assert_int_eq(i, 1);
    ck_assert(p.seen.ev[i].n == 2);
    i = seen_wait_event(&p.seen, "Test.noParams", "", clock_ms() + 1000);
    ck_assert_int_eq(i, 2);
    ck_assert(!p.seen.ev[i].has_params);
    peer_stop(&p);
}
END_TEST

START_TEST(error_reply_gives_rc_error_and_message)
{
    struct peer p;
    yajl_val res = (yajl_val)&res; /* must come back NULL */
    struct buf err;

    buf_init(&err, 256);
    buf_puts(&err, "stale text");
    peer_start(&p, PEER_MAX_MESSAGE);
    ck_assert_int_eq(cdp_call(p.cdp, NULL, "Test.error", "{}", clock_ms() + 5000, &res, &err),
                     RC_ERROR);
    ck_assert_ptr_null(res);
    ck_assert_str_eq(err.data, "Test.error: no such method (code -32601)");
    ck_assert(!cdp_closed(p.cdp));
    peer_stop(&p);
    buf_free(&err);
}
END_TEST

START_TEST(deadline_gives_timeout_and_late_reply_is_dropped)
{
    struct peer p;
    yajl_val res = NULL;
    int64_t start = clock_ms();
    struct buf err;

    buf_init(&err, 256);
    buf_puts(&err, "stale text");
    peer_start(&p, PEER_MAX_MESSAGE);
    ck_assert_int_eq(cdp_call(p.cdp, NULL, "Test.hold", NULL, start + 200, &res, &err),
                     RC_TIMEOUT);
    ck_assert_ptr_null(res);
    ck_assert_uint_eq(err.len, 0);
    buf_free(&err);
    ck_assert_int_ge(clock_ms() - start, 200);
    /* The held reply now arrives just before this one's, for an id nobody
     * waits for any more. */
    ck_assert_int_eq(cdp_call(p.cdp, NULL, "Test.echo", "{\"n\":2}", clock_ms() + 5000, &res,
                              NULL),
                     RC_OK);
    ck_assert_str_eq(cdp_get_string(res, "method", NULL), "Test.echo");
    ck_assert(cdp_get_number(res, -1, "params", "n", NULL) == 2);
    cdp_result_free(res);
    ck_assert(!cdp_closed(p.cdp));
    peer_stop(&p);
}
END_TEST

START_TEST(reply_written_byte_by_byte_is_reassembled)
{
    struct peer p;
    yajl_val res = NULL;

    peer_start(&p, PEER_MAX_MESSAGE);
    ck_assert_int_eq(cdp_call(p.cdp, "S", "Test.partial", "{\"s\":\"hello\"}",
                              clock_ms() + 10000, &res, NULL),
                     RC_OK);
    ck_assert_str_eq(cdp_get_string(res, "params", "s", NULL), "hello");
    cdp_result_free(res);
    peer_stop(&p);
}
END_TEST

START_TEST(several_messages_in_one_write_are_all_handled)
{
    struct peer p;
    yajl_val res = NULL;

    peer_start(&p, PEER_MAX_MESSAGE);
    ck_assert_int_eq(cdp_call(p.cdp, NULL, "Test.multi", "{\"n\":3}", clock_ms() + 5000, &res,
                              NULL),
                     RC_OK);
    ck_assert(cdp_get_number(res, -1, "params", "n", NULL) == 3);
    cdp_result_free(res);
    ck_assert_int_eq(seen_wait_event(&p.seen, "Test.before", "", clock_ms() + 5000), 0);
    ck_assert_int_eq(seen_wait_event(&p.seen, "Test.after", "", clock_ms() + 5000), 1);
    peer_stop(&p);
}
END_TEST

struct silent_call {
    struct cdp *cdp;
    int rc;
};

static void *
silent_call_run(void *arg)
{
    struct silent_call *sc = arg;

    sc->rc = cdp_call(sc->cdp, NULL, "Test.silent", NULL, clock_ms() + 30000, NULL, NULL);
    return NULL;
}

/* Start a call that the peer never answers, and wait until the peer has it. */
static void
start_silent_call(struct peer *p, struct silent_call *sc, pthread_t *th)
{
    sc->cdp = p->cdp;
    sc->rc = -100;
    ck_assert_int_eq(pthread_create(th, NULL, silent_call_run, sc), 0);
    ck_assert_int_ge(seen_wait_event(&p->seen, "Test.heard", NULL, clock_ms() + 5000), 0);
}

/* Cause the connection to end with 'method' and check everyone hears it. */
static void
check_connection_ends(const char *method, const char *params, size_t max_message,
                      const char *why)
{
    struct peer p;
    struct silent_call sc;
    pthread_t th;
    int64_t start;

    peer_start(&p, max_message);
    start_silent_call(&p, &sc, &th);
    start = clock_ms();
    ck_assert_int_eq(cdp_call(p.cdp, NULL, method, params, clock_ms() + 30000, NULL, NULL),
                     RC_CLOSED);
    pthread_join(th, NULL);
    ck_assert_int_eq(sc.rc, RC_CLOSED);
    ck_assert_int_lt(clock_ms() - start, 5000);
    ck_assert(seen_wait_closed(&p.seen, clock_ms() + 5000));
    ck_assert_str_eq(p.seen.why, why);
    ck_assert(cdp_closed(p.cdp));
    ck_assert_int_eq(cdp_call(p.cdp, NULL, "Test.echo", NULL, clock_ms() + 5000, NULL, NULL),
                     RC_CLOSED);
    ck_assert_int_eq(cdp_send(p.cdp, NULL, "Test.echo", NULL), RC_CLOSED);
    peer_stop(&p);
}

START_TEST(garbage_closes_for_pending_and_later_calls)
{
    check_connection_ends("Test.garbage", NULL, PEER_MAX_MESSAGE,
                          "malformed message from browser");
}
END_TEST

START_TEST(json_neither_reply_nor_event_closes)
{
    check_connection_ends("Test.notcdp", NULL, PEER_MAX_MESSAGE,
                          "malformed message from browser");
}
END_TEST

START_TEST(huge_message_closes_cleanly)
{
    check_connection_ends("Test.huge", "{\"size\":300000}", 64 * 1024,
                          "message from browser over the size cap");
}
END_TEST

START_TEST(peer_exit_fails_calls_promptly)
{
    check_connection_ends("Test.exit", NULL, PEER_MAX_MESSAGE, "browser closed the connection");
}
END_TEST

START_TEST(command_over_cap_is_refused_and_connection_stays)
{
    struct peer p;
    char params[200];

    snprintf(params, sizeof(params), "{\"s\":\"%0150d\"}", 0);
    peer_start(&p, 128);
    ck_assert_int_eq(cdp_call(p.cdp, NULL, "Test.echo", params, clock_ms() + 5000, NULL, NULL),
                     RC_TOO_LARGE);
    ck_assert_int_eq(cdp_call(p.cdp, NULL, "Test.echo", "{}", clock_ms() + 5000, NULL, NULL),
                     RC_OK);
    peer_stop(&p);
}
END_TEST

START_TEST(shutdown_fails_a_call_waiting_on_another_thread)
{
    struct peer p;
    struct silent_call sc;
    pthread_t th;
    int64_t start;

    /* cdp_free() must not race a running cdp_call() (cdp.h); cdp_shutdown()
     * is how an owner stops callers first. */
    peer_start(&p, PEER_MAX_MESSAGE);
    start_silent_call(&p, &sc, &th);
    start = clock_ms();
    cdp_shutdown(p.cdp);
    pthread_join(th, NULL);
    ck_assert_int_eq(sc.rc, RC_CLOSED);
    ck_assert_int_lt(clock_ms() - start, 1000);
    ck_assert(cdp_closed(p.cdp));
    ck_assert(seen_wait_closed(&p.seen, clock_ms() + 5000));
    ck_assert_str_eq(p.seen.why, "shut down");
    ck_assert_int_eq(cdp_call(p.cdp, NULL, "Test.echo", NULL, clock_ms() + 5000, NULL, NULL),
                     RC_CLOSED);
    cdp_shutdown(p.cdp); /* idempotent */
    peer_stop(&p);
}
END_TEST

START_TEST(send_does_not_wait_and_its_reply_is_dropped)
{
    struct peer p;
    yajl_val res = NULL;

    peer_start(&p, PEER_MAX_MESSAGE);
    ck_assert_int_eq(cdp_send(p.cdp, NULL, "Test.hold", "{\"n\":1}"), RC_OK);
    ck_assert_int_eq(cdp_send(p.cdp, NULL, "Test.echo", "{\"n\":2}"), RC_OK);
    ck_assert_int_eq(cdp_call(p.cdp, NULL, "Test.echo", "{\"n\":3}", clock_ms() + 5000, &res,
                              NULL),
                     RC_OK);
    ck_assert(cdp_get_number(res, -1, "params", "n", NULL) == 3);
    cdp_result_free(res);
    peer_stop(&p);
}
END_TEST

START_TEST(get_helpers_walk_paths_and_fall_back)
{
    char err[128];
    yajl_val v = yajl_tree_parse("{\"a\":{\"b\":{\"s\":\"x\",\"n\":-3,\"t\":true,\"f\":false}},"
                                 "\"arr\":[1]}",
                                 err, sizeof(err));

    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(cdp_get_string(v, "a", "b", "s", NULL), "x");
    ck_assert(cdp_get_number(v, 0, "a", "b", "n", NULL) == -3);
    ck_assert(cdp_get_bool(v, false, "a", "b", "t", NULL));
    ck_assert(!cdp_get_bool(v, true, "a", "b", "f", NULL));
    /* Absent, wrong type, or a path through a non-object. */
    ck_assert_ptr_null(cdp_get_string(v, "a", "b", "n", NULL));
    ck_assert_ptr_null(cdp_get_string(v, "a", "missing", "s", NULL));
    ck_assert_ptr_null(cdp_get_string(v, "arr", "0", NULL));
    ck_assert(cdp_get_number(v, 42, "a", "b", "s", NULL) == 42);
    ck_assert(cdp_get_bool(v, true, "a", NULL));
    ck_assert_ptr_null(cdp_get_string(NULL, "a", NULL));
    ck_assert(cdp_get_number(NULL, 5, "a", NULL) == 5);
    yajl_tree_free(v);
}
END_TEST

/* --- the real Chromium ----------------------------------------------------------- */

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

/* SIGKILL every direct child of ours. */
static void
kill_children(void)
{
    DIR *d = opendir("/proc");
    struct dirent *e;

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL) {
        char path[300], stat[512], *paren;
        int ppid = -1;
        FILE *f;

        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        if ((f = fopen(path, "r")) == NULL)
            continue;
        stat[fread(stat, 1, sizeof(stat) - 1, f)] = '\0';
        fclose(f);
        if ((paren = strrchr(stat, ')')) != NULL && sscanf(paren, ") %*c %d", &ppid) == 1 &&
            ppid == getpid())
            kill(atoi(e->d_name), SIGKILL);
    }
    closedir(d);
}

/* Kill process group 'pgid' and reap everything it left behind. As a child
 * subreaper we inherit the browser's orphans, also those in other process
 * groups (crashpad makes its own), so "no children left" means no Chromium
 * process survives. */
static void
kill_browser_tree(pid_t pgid)
{
    int64_t deadline = clock_ms() + 10000;

    for (;;) {
        int status;
        pid_t r;

        kill(-pgid, SIGKILL);
        kill_children();
        while ((r = waitpid(-1, &status, WNOHANG)) > 0)
            ;
        if (r == -1 && errno == ECHILD)
            return;
        ck_assert_msg(clock_ms() < deadline, "chromium processes survived SIGKILL");
        pause_ms(10);
    }
}

static char *
json_obj_with_string(const char *key, const char *value, const char *rest)
{
    struct buf b;

    buf_init(&b, 4096);
    buf_printf(&b, "{\"%s\":", key);
    buf_json_string(&b, value);
    buf_printf(&b, "%s}", rest);
    return buf_steal(&b);
}

START_TEST(chromium_answers_over_the_pipe)
{
    char dir[] = "/tmp/rcgi-check-cdp-XXXXXX", udd[PATH_MAX + 32];
    char *argv[] = { CHROMIUM_PATH, "--headless", "--no-sandbox", "--disable-gpu",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run", "--disable-quic",
                     "--remote-debugging-pipe", udd, NULL };
    struct seen seen;
    struct transport *t;
    struct cdp *c;
    struct buf err;
    yajl_val res = NULL;
    char *target_id = NULL, *session_id = NULL, *params;
    const char *s;
    pid_t pid;
    int rfd, wfd;

    ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(udd, sizeof(udd), "--user-data-dir=%s", dir);
    seen_init(&seen);
    buf_init(&err, 1024);
    pid = spawn_piped(argv, true, getenv("RCGI_TEST_VERBOSE") == NULL, &rfd, &wfd);
    ck_assert_ptr_nonnull(t = transport_pipe_new(rfd, wfd, 64 * 1024 * 1024));
    ck_assert_ptr_nonnull(c = cdp_new(t, on_event, on_closed, &seen));

    ck_assert_int_eq(cdp_call(c, NULL, "Browser.getVersion", NULL, clock_ms() + 30000, &res,
                              &err),
                     RC_OK);
    ck_assert_ptr_nonnull(s = cdp_get_string(res, "product", NULL));
    ck_assert_msg(strstr(s, "Chrom") != NULL, "product %s", s);
    cdp_result_free(res);

    ck_assert_int_eq(cdp_call(c, NULL, "Target.setDiscoverTargets", "{\"discover\":true}",
                              clock_ms() + 10000, NULL, &err),
                     RC_OK);
    ck_assert_int_eq(cdp_call(c, NULL, "Target.createTarget", "{\"url\":\"about:blank\"}",
                              clock_ms() + 10000, &res, &err),
                     RC_OK);
    ck_assert_ptr_nonnull(s = cdp_get_string(res, "targetId", NULL));
    target_id = strdup(s);
    cdp_result_free(res);
    ck_assert_int_ge(seen_wait_event(&seen, "Target.targetCreated", "", clock_ms() + 10000), 0);

    params = json_obj_with_string("targetId", target_id, ",\"flatten\":true");
    ck_assert_int_eq(cdp_call(c, NULL, "Target.attachToTarget", params, clock_ms() + 10000,
                              &res, &err),
                     RC_OK);
    free(params);
    ck_assert_ptr_nonnull(s = cdp_get_string(res, "sessionId", NULL));
    session_id = strdup(s);
    cdp_result_free(res);

    ck_assert_int_eq(cdp_call(c, session_id, "Runtime.evaluate", "{\"expression\":\"1+1\"}",
                              clock_ms() + 10000, &res, &err),
                     RC_OK);
    ck_assert_str_eq(cdp_get_string(res, "result", "type", NULL), "number");
    ck_assert(cdp_get_number(res, -1, "result", "value", NULL) == 2);
    cdp_result_free(res);

    /* A page-level event carries our session id. */
    ck_assert_int_eq(cdp_call(c, session_id, "Runtime.enable", NULL, clock_ms() + 10000, NULL,
                              &err),
                     RC_OK);
    ck_assert_int_ge(seen_wait_event(&seen, "Runtime.executionContextCreated", session_id,
                                     clock_ms() + 10000),
                     0);
    /* An unknown method is an error reply, not a broken connection. */
    ck_assert_int_eq(cdp_call(c, session_id, "Nope.nothing", NULL, clock_ms() + 10000, NULL,
                              &err),
                     RC_ERROR);
    ck_assert_msg(strncmp(err.data, "Nope.nothing: ", 14) == 0, "err %s", err.data);
    ck_assert(!cdp_closed(c));

    cdp_free(c);
    ck_assert_int_eq(seen.nclosed, 1);
    kill_browser_tree(pid);
    ck_assert_int_eq(nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
    free(target_id);
    free(session_id);
    buf_free(&err);
    seen_destroy(&seen);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("cdp");
    TCase *tp = tcase_create("transport_pipe");
    TCase *tc = tcase_create("cdp");
    TCase *tb = tcase_create("chromium");

    /* As rendercgi-worker does: a closed pipe is an error code, not a death. */
    signal(SIGPIPE, SIG_IGN);

    tcase_set_timeout(tp, 30);
    tcase_add_test(tp, transport_recv_returns_each_of_several_messages_in_one_read);
    tcase_add_test(tp, transport_recv_reassembles_a_message_split_across_writes);
    tcase_add_test(tp, transport_recv_carries_a_message_of_megabytes);
    tcase_add_test(tp, transport_recv_over_cap_is_too_large_then_closed);
    tcase_add_test(tp, transport_recv_at_eof_is_closed);
    tcase_add_test(tp, transport_send_ends_each_message_with_nul_and_refuses_over_cap);
    tcase_add_test(tp, transport_send_to_a_gone_reader_is_closed_without_sigpipe);
    tcase_add_test(tp, transport_shutdown_unblocks_recv_on_another_thread);
    tcase_add_test(tp, transport_shutdown_unblocks_send_stuck_on_a_full_pipe);
    suite_add_tcase(s, tp);

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, call_returns_result_tree_the_caller_frees);
    tcase_add_test(tc, concurrent_callers_get_their_own_replies_out_of_order);
    tcase_add_test(tc, events_are_dispatched_with_and_without_session_id);
    tcase_add_test(tc, error_reply_gives_rc_error_and_message);
    tcase_add_test(tc, deadline_gives_timeout_and_late_reply_is_dropped);
    tcase_add_test(tc, reply_written_byte_by_byte_is_reassembled);
    tcase_add_test(tc, several_messages_in_one_write_are_all_handled);
    tcase_add_test(tc, garbage_closes_for_pending_and_later_calls);
    tcase_add_test(tc, json_neither_reply_nor_event_closes);
    tcase_add_test(tc, huge_message_closes_cleanly);
    tcase_add_test(tc, peer_exit_fails_calls_promptly);
    tcase_add_test(tc, command_over_cap_is_refused_and_connection_stays);
    tcase_add_test(tc, shutdown_fails_a_call_waiting_on_another_thread);
    tcase_add_test(tc, send_does_not_wait_and_its_reply_is_dropped);
    tcase_add_test(tc, get_helpers_walk_paths_and_fall_back);
    suite_add_tcase(s, tc);

    tcase_set_timeout(tb, 60);
    tcase_add_test(tb, chromium_answers_over_the_pipe);
    suite_add_tcase(s, tb);

    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
