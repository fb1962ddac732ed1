/* main.c — rendercgi-worker: sequences the inits and the graceful stop.
 *
 * Start: options → config → log → signals → URL policy → browser pool →
 * FastCGI socket → request threads. The main thread then only waits for
 * signals (all of them are blocked in every other thread). Stop (SIGTERM,
 * SIGINT, or max_requests reached): stop accepting, let in-flight requests
 * finish up to a grace period, stop the browsers, exit 0. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "clock.h"
#include "conf.h"
#include "fcgi.h"
#include "log.h"
#include "policy.h"
#include "pool.h"
#include "rc.h"
#include "report.h"
#include "request.h"
#include "respond.h"
#include "route.h"
#include "worker.h"

#define DEFAULT_CONF SYSCONFDIR "/rendercgi/rendercgi.conf"
#define STOP_GRACE_EXTRA_MS 5000

struct request_thread {
    pthread_t tid;
    int index;
    struct worker *w;
    int listen_fd;
    atomic_int running;
};

/* One request thread at a time waits in accept(). The kernel hands a new
 * connection to the first waiter in line, across all the workers sharing
 * the socket; with every idle thread waiting, a burst would go to whichever
 * worker queued its threads first (all of them, up to its thread count).
 * With one waiter per worker, connections alternate between workers.
 *
 * A burst that is already in the listen queue is drained by whoever calls
 * accept() first, though, so a worker whose page slots are all busy holds
 * back for ACCEPT_HOLDBACK_MS per request it already has beyond its slots
 * (the first one included), at most ACCEPT_HOLDBACK_MAX_MS, or until one of
 * its requests ends: a worker with free slots, or a shorter queue, takes the
 * connection meanwhile. When every worker is busy, the connection is
 * accepted after the hold-back and queued (or answered 503) as usual. With
 * one fixed 50 ms, two saturated workers woke together and drained the
 * listen queue in turn, and bench/run saw one worker fill its queue_max (a
 * 503) while the other had 6 free queue places (c=20, 2 x 4 slots). */
#define ACCEPT_HOLDBACK_MS 50
#define ACCEPT_HOLDBACK_MAX_MS 400
static pthread_mutex_t accept_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t request_ended;

static void
accept_holdback(struct worker *w)
{
    int capacity = w->conf->browsers * w->conf->pages_per_browser;
    struct timespec ts;
    int64_t ms;

    if (w->pool == NULL || capacity <= 0 || w->requests_active < capacity)
        return;
    ms = (int64_t)ACCEPT_HOLDBACK_MS * (w->requests_active - capacity + 1);
    clock_deadline_timespec(clock_ms() + (ms < ACCEPT_HOLDBACK_MAX_MS ? ms : ACCEPT_HOLDBACK_MAX_MS),
                            &ts);
    while (w->requests_active >= capacity && !w->stopping)
        if (pthread_cond_timedwait(&request_ended, &accept_lock, &ts) != 0)
            break;
}

static void
usage(FILE *f)
{
    fprintf(f,
            "Usage: rendercgi-worker [-c FILE] [--pool NAME] [--listen ADDR]\n"
            "A FastCGI responder that renders web pages to PDF, screenshots and text with\n"
            "headless Chromium: /pdf, /screenshot, /extract, /batch, /health, /status,\n"
            "/metrics.\n"
            "\n"
            "  -c, --config FILE  read FILE (default " DEFAULT_CONF " if it exists,\n"
            "                     else built-in defaults)\n"
            "  -p, --pool NAME    use the settings of pool [NAME] (default: the first pool)\n"
            "  -l, --listen ADDR  listen on ADDR (PATH, HOST:PORT or :PORT) instead of the\n"
            "                     socket on fd 0 (FCGI_LISTENSOCK_FILENO) or LISTEN_FDS\n"
            "      --test-config  check the configuration and exit\n"
            "  -h, --help         show this help\n"
            "  -V, --version      show the version\n"
            "\n"
            "Signals: SIGTERM/SIGINT stop gracefully (in-flight requests finish).\n"
            "See rendercgi-worker(8) and docs/ for routes and options.\n");
}

static void
on_wake(int sig)
{
    (void)sig; /* only interrupts accept() in a request thread */
}

static void *
request_thread_main(void *arg)
{
    struct request_thread *t = arg;
    struct worker *w = t->w;
    struct fcgi_conn *conn = fcgi_conn_new(t->listen_fd);
    sigset_t wake;

    sigemptyset(&wake);
    sigaddset(&wake, SIGUSR2);
    if (conn == NULL) {
        log_msg(LOG_ERR, "request thread: cannot allocate a FastCGI request");
        t->running = 0;
        return NULL;
    }
    for (;;) {
        struct request r;
        char why[256];

        /* SIGUSR2 may interrupt us only while we wait in accept. */
        report_thread(t->index, SB_IDLE, NULL);
        pthread_mutex_lock(&accept_lock);
        accept_holdback(w);
        pthread_sigmask(SIG_UNBLOCK, &wake, NULL);
        if (w->stopping) {
            pthread_sigmask(SIG_BLOCK, &wake, NULL);
            pthread_mutex_unlock(&accept_lock);
            break;
        }
        int rc = fcgi_accept(conn);
        pthread_sigmask(SIG_BLOCK, &wake, NULL);
        pthread_mutex_unlock(&accept_lock);
        if (rc != RC_OK) {
            if (w->stopping)
                break;
            continue;
        }
        w->requests_active++;
        report_thread(t->index, SB_READING, NULL);
        if (request_parse(&r, conn, w, why, sizeof why) == RC_OK) {
            report_thread(t->index, SB_RENDERING, r.route);
            route_dispatch(&r);
        } else {
            respond_error(&r, "invalid_option", "%s", why);
        }
        if (!r.headers_sent)
            respond_error(&r, "internal", "the handler wrote no response");
        fcgi_finish(conn);
        if (r.failed)
            w->requests_failed++;
        long total = ++w->requests_total;
        w->requests_active--;
        pthread_cond_signal(&request_ended);
        report_request_done(w);
        /* Slot clean-up happens here, after the client has its response. */
        if (r.slot != NULL) {
            report_thread(t->index, SB_FINISHING, NULL);
            pool_checkin(w->pool, r.slot, r.slot_healthy);
        }
        request_free(&r);
        /* Under rendercgi-spawner the spawner recycles us at max_requests,
         * starting our replacement first; we stop on our own only without
         * it, or at twice the count if it never came. */
        long cap = report_scoreboard() != NULL ? 2L * w->conf->max_requests
                                               : w->conf->max_requests;
        if (w->conf->max_requests > 0 && total == cap) {
            log_msg(LOG_INFO, "worker: served %ld requests (max_requests=%d); stopping to be "
                    "recycled", total, w->conf->max_requests);
            kill(getpid(), SIGTERM);
        }
    }
    fcgi_conn_free(conn);
    t->running = 0;
    return NULL;
}

static int
threads_running(struct request_thread *ts, int n)
{
    int live = 0;
    for (int i = 0; i < n; i++)
        live += ts[i].running;
    return live;
}

/* Stop accepting and wait for in-flight requests, up to 'grace_ms'. */
static void
stop_threads(struct worker *w, struct request_thread *ts, int n, int grace_ms)
{
    int64_t deadline = clock_ms() + grace_ms;

    w->stopping = 1;
    report_draining();
    fcgi_shutdown_pending();
    while (threads_running(ts, n) > 0 && clock_ms() < deadline) {
        struct timespec pause = { 0, 50 * 1000000L };
        /* Re-sent each round: a thread may enter accept() just after a wake. */
        for (int i = 0; i < n; i++)
            if (ts[i].running)
                pthread_kill(ts[i].tid, SIGUSR2);
        nanosleep(&pause, NULL);
    }
    for (int i = 0; i < n; i++) {
        if (!ts[i].running)
            pthread_join(ts[i].tid, NULL);
    }
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' }, { "pool", required_argument, NULL, 'p' },
        { "listen", required_argument, NULL, 'l' }, { "test-config", no_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },         { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    const char *conf_path = NULL, *pool_name = NULL, *listen_addr = NULL;
    struct conf conf;
    struct buf errors;
    struct worker w;
    struct request_thread *threads = NULL;
    struct sigaction sa;
    sigset_t blocked;
    int opt, test_only = 0, listen_fd = -1, nthreads = 0, exit_code = 1, sig, lvl;
    char err[256];

    while ((opt = getopt_long(argc, argv, "c:p:l:hV", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': conf_path = optarg; break;
        case 'p': pool_name = optarg; break;
        case 'l': listen_addr = optarg; break;
        case 't': test_only = 1; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("rendercgi-worker %s\n", RCGI_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }

    memset(&conf, 0, sizeof conf);
    memset(&w, 0, sizeof w);
    buf_init(&errors, 64 * 1024);
    if (conf_path == NULL && access(DEFAULT_CONF, R_OK) == 0)
        conf_path = DEFAULT_CONF;
    if ((conf_path != NULL ? conf_load(conf_path, &conf, &errors) : conf_defaults(&conf)) !=
        RC_OK) {
        fprintf(stderr, "%s", errors.len ? errors.data : "rendercgi-worker: bad configuration\n");
        buf_free(&errors);
        return 2;
    }
    buf_free(&errors);
    w.conf = pool_name != NULL ? conf_pool_find(&conf, pool_name) : &conf.pools[0];
    if (w.conf == NULL) {
        fprintf(stderr, "rendercgi-worker: no pool [%s] in %s\n", pool_name, conf_path);
        goto out;
    }
    if (policy_new(w.conf->allow_networks, w.conf->deny_networks, &w.policy, err, sizeof err) !=
        RC_OK) {
        fprintf(stderr, "rendercgi-worker: %s\n", err);
        goto out;
    }
    if (test_only) {
        printf("configuration ok\n");
        exit_code = 0;
        goto out;
    }
    lvl = log_level_parse(conf.global.log_level ? conf.global.log_level : "info");
    log_init("worker", lvl < 0 ? LOG_INFO : (enum log_level)lvl);

    /* Signals: SIGPIPE is ignored (a client that hangs up is an error return,
     * not a death) — set before FCGX_Init so libfcgi keeps our choice. The
     * stop signals are blocked everywhere and taken by sigwait below. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = on_wake; /* no SA_RESTART: it must interrupt accept() */
    sigaction(SIGUSR2, &sa, NULL);
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGTERM);
    sigaddset(&blocked, SIGINT);
    sigaddset(&blocked, SIGHUP);
    sigaddset(&blocked, SIGQUIT);
    sigaddset(&blocked, SIGUSR1);
    sigaddset(&blocked, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &blocked, NULL);

    /* Orphaned Chromium helpers (their browser died first) become our
     * children, so that the pool can reap and kill whole process groups. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    w.started_ms = clock_ms();

    if (fcgi_init() != RC_OK ||
        fcgi_listen_socket(listen_addr, w.conf->listen_backlog, &listen_fd) != RC_OK)
        goto out;
    if (w.conf->browsers > 0 && pool_start(w.conf, w.policy, lvl >= LOG_DEBUG, &w.pool) != RC_OK)
        goto out;

    nthreads = w.conf->threads > 0
                   ? w.conf->threads
                   : w.conf->browsers * w.conf->pages_per_browser + w.conf->queue_max + 4;
    if ((threads = calloc((size_t)nthreads, sizeof *threads)) == NULL)
        goto out;
    report_init(nthreads);
    clock_cond_init(&request_ended);
    for (int i = 0; i < nthreads; i++) {
        threads[i].index = i;
        threads[i].w = &w;
        threads[i].listen_fd = listen_fd;
        threads[i].running = 1;
        if (pthread_create(&threads[i].tid, NULL, request_thread_main, &threads[i]) != 0) {
            log_errno(LOG_ERR, "worker: cannot start request thread %d", i);
            threads[i].running = 0;
            nthreads = i;
            break;
        }
    }
    log_msg(LOG_INFO, "worker: pool [%s] ready to accept: %d request threads, %d browsers x %d "
                      "pages, queue %d",
            w.conf->name, nthreads, w.conf->browsers, w.conf->pages_per_browser,
            w.conf->queue_max);

    sigemptyset(&blocked);
    sigaddset(&blocked, SIGTERM);
    sigaddset(&blocked, SIGINT);
    sigaddset(&blocked, SIGHUP);
    sigaddset(&blocked, SIGQUIT);
    sigaddset(&blocked, SIGUSR1);
    /* Once a second, the scoreboard hears from us (heartbeat, counters). */
    for (;;) {
        struct timespec tick = { 1, 0 };
        report_tick(&w);
        if ((sig = sigtimedwait(&blocked, NULL, &tick)) < 0)
            continue;
        if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT)
            break;
        log_msg(LOG_INFO, "worker: signal %d ignored", sig);
    }
    log_msg(LOG_INFO, "worker: stopping on signal %d; %d requests in flight", sig,
            (int)w.requests_active);
    stop_threads(&w, threads, nthreads, w.conf->request_timeout + STOP_GRACE_EXTRA_MS);
    if (threads_running(threads, nthreads) > 0) {
        /* Requests still running past the grace period: the browsers go down
         * with the process (their process groups are killed by the pool). */
        log_msg(LOG_WARN, "worker: %d requests still running after the grace period; exiting",
                threads_running(threads, nthreads));
        pool_kill_all(w.pool);
        _exit(0);
    }
    exit_code = 0;
out:
    pool_stop(w.pool);
    report_free();
    policy_free(w.policy);
    free(threads);
    conf_free(&conf);
    return exit_code;
}
