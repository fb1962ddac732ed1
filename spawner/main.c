/* main.c — rendercgi-spawner: read the command line, then sequence the
 * inits (config → sockets and scoreboards → log file → detach → pid file →
 * subreaper → signals → workers → supervise). Each init that holds
 * something registers its teardown; they run in reverse order on the way
 * out, like PHP-FPM's fpm.c. The work itself is in the other files of
 * spawner/. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "config.h"

#include "children.h"
#include "conf.h"
#include "confgen.h"
#include "daemon.h"
#include "log.h"
#include "logfile.h"
#include "master.h"
#include "rc.h"
#include "signals.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

#define DEFAULT_CONF SYSCONFDIR "/rendercgi/rendercgi.conf"

struct options {
    const char *config;
    const char *pidfile;
    const char *workers;
    const char *listen;
    bool foreground, test, print, list_keys;
};

/* ---- teardown stack ----------------------------------------------------- */

struct teardown {
    void (*fn)(void *);
    void *arg;
};

static struct teardown teardowns[8];
static size_t nteardowns;

static void
teardown_push(void (*fn)(void *), void *arg)
{
    if (nteardowns < sizeof teardowns / sizeof teardowns[0])
        teardowns[nteardowns++] = (struct teardown){ fn, arg };
}

static void
teardown_run(void)
{
    while (nteardowns > 0) {
        nteardowns--;
        teardowns[nteardowns].fn(teardowns[nteardowns].arg);
    }
}

/* ---- the command line --------------------------------------------------- */

static void
usage(FILE *out)
{
    fprintf(out,
            "Usage: rendercgi-spawner [-c FILE] [OPTION]...\n"
            "Start and supervise the rendercgi-worker pools described in FILE.\n"
            "\n"
            "  -c, --config FILE     configuration file; default: %s\n"
            "                        if it exists, else built-in defaults (one pool on\n"
            "                        127.0.0.1:9000)\n"
            "  -f, --foreground      stay attached to the terminal (do not daemonize)\n"
            "  -p, --pidfile FILE    write the spawner's pid to FILE (overrides pid_file)\n"
            "  -t, --test-config     check the configuration and exit (0: valid, 2: not)\n"
            "  -w, --workers N       run N workers in every pool (overrides workers)\n"
            "  -l, --listen ADDR     listen on ADDR: /path.sock, host:port or [v6]:port\n"
            "                        (overrides listen; the config must have one pool)\n"
            "      --print-config    print the effective configuration, every key, and exit\n"
            "      --list-keys       list every configuration key with its type and default\n"
            "  -h, --help            show this help and exit\n"
            "  -V, --version         show the version and exit\n"
            "\n"
            "Workers run as \"rendercgi-worker [-c FILE] --pool NAME\" with the pool's\n"
            "listening socket on fd 0 and its scoreboard on fd 3, as the pool's user when\n"
            "started as root. The worker binary is $%s if set, else the\n"
            "[global] key worker_binary, else rendercgi-worker beside this program.\n"
            "\n"
            "Signals: SIGTERM, SIGINT, SIGQUIT stop (workers get shutdown_timeout to finish,\n"
            "then SIGKILL; a second signal kills at once). SIGHUP re-reads FILE and replaces\n"
            "the workers one at a time (an invalid FILE changes nothing). SIGUSR1 reopens\n"
            "error_log.\n"
            "Exit status: 0 ok, 1 runtime error, 2 usage or configuration error.\n",
            DEFAULT_CONF, CHILDREN_WORKER_ENV);
}

static int
parse_args(int argc, char **argv, struct options *o)
{
    enum { OPT_PRINT = 256, OPT_LIST };
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "foreground", no_argument, NULL, 'f' },
        { "pidfile", required_argument, NULL, 'p' },
        { "test-config", no_argument, NULL, 't' },
        { "workers", required_argument, NULL, 'w' },
        { "listen", required_argument, NULL, 'l' },
        { "print-config", no_argument, NULL, OPT_PRINT },
        { "list-keys", no_argument, NULL, OPT_LIST },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    memset(o, 0, sizeof *o);
    while ((c = getopt_long(argc, argv, "c:fp:tw:l:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o->config = optarg; break;
        case 'f': o->foreground = true; break;
        case 'p': o->pidfile = optarg; break;
        case 't': o->test = true; break;
        case 'w': o->workers = optarg; break;
        case 'l': o->listen = optarg; break;
        case OPT_PRINT: o->print = true; break;
        case OPT_LIST: o->list_keys = true; break;
        case 'h': usage(stdout); exit(EXIT_OK);
        case 'V': printf("rendercgi-spawner %s\n", PACKAGE_VERSION); exit(EXIT_OK);
        default:
            fprintf(stderr, "Try 'rendercgi-spawner --help'.\n");
            return RC_INVALID;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "rendercgi-spawner: unexpected argument '%s'\n"
                "Try 'rendercgi-spawner --help'.\n", argv[optind]);
        return RC_INVALID;
    }
    return RC_OK;
}

static void
list_keys(void)
{
    size_t n;
    const struct conf_opt *o = conf_options(&n);

    printf("%-27s %-7s %-9s %-28s %s\n", "KEY", "SECTION", "TYPE", "DEFAULT", "MEANING");
    for (size_t i = 0; i < n; i++) {
        char def[64], range[64] = "";
        snprintf(def, sizeof def, "%s", o[i].def[0] ? o[i].def : "(empty)");
        if (o[i].type == CONF_ENUM)
            snprintf(range, sizeof range, " (%s)", o[i].choices);
        else if (o[i].type == CONF_INT || o[i].type == CONF_MSEC)
            snprintf(range, sizeof range, " (%lld..%lld%s)", (long long)o[i].min,
                     (long long)o[i].max, o[i].type == CONF_MSEC ? " ms" : "");
        printf("%-27s %-7s %-9s %-28s %s%s\n", o[i].name,
               o[i].scope == CONF_SCOPE_GLOBAL ? "global" : "pool", conf_type_name(o[i].type),
               def, o[i].doc, range);
    }
}

/* ---- inits -------------------------------------------------------------- */

/* Open /dev/null on any of fds 0-2 that is closed, so that no socket we
 * create lands there by accident (fd 0 is what workers accept on). */
static void
std_fds_open(void)
{
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
            int n = open("/dev/null", O_RDWR);
            if (n >= 0 && n != fd) {
                dup2(n, fd);
                close(n);
            }
        }
    }
}

/* Load the config (or the defaults) and apply the command-line overrides.
 * Returns EXIT_OK or EXIT_USAGE; config errors are printed to stderr. */
static int
config_init(const struct options *o, struct overrides *ovr, const char **file,
            struct confgen **gen)
{
    static char pidfile[PATH_MAX];
    struct buf errs;
    int status = EXIT_OK;

    buf_init(&errs, 1 << 16);
    memset(ovr, 0, sizeof *ovr);
    *file = o->config;
    if (*file == NULL && access(DEFAULT_CONF, F_OK) == 0)
        *file = DEFAULT_CONF;
    ovr->config = *file;
    ovr->workers = o->workers;
    ovr->listen = o->listen;
    if (o->pidfile != NULL) {
        /* Relative is fine on the command line: it is made absolute here,
         * before the daemon changes directory. */
        if (o->pidfile[0] != '/' && getcwd(pidfile, sizeof pidfile) != NULL &&
            strlen(pidfile) + strlen(o->pidfile) + 2 < sizeof pidfile) {
            strcat(pidfile, "/");
            strcat(pidfile, o->pidfile);
        } else {
            snprintf(pidfile, sizeof pidfile, "%s", o->pidfile);
        }
        ovr->pidfile = pidfile;
    }
    if (confgen_load(*file, ovr, gen, &errs) != RC_OK)
        status = EXIT_USAGE;
    if (errs.len > 0)
        fputs(errs.data, stderr);
    buf_free(&errs);
    return status;
}

static void
test_config_report(const struct conf *c)
{
    printf("rendercgi-spawner: configuration %s is valid\n",
           c->path != NULL ? c->path : "(built-in defaults)");
    for (size_t i = 0; i < c->npools; i++) {
        const struct conf_pool *p = &c->pools[i];
        printf("  [pool %s] %d worker%s on %s, %d browser%s x %d pages, as %s\n", p->name,
               p->workers, p->workers == 1 ? "" : "s", p->listen, p->browsers,
               p->browsers == 1 ? "" : "s", p->pages_per_browser,
               p->user[0] != '\0' ? p->user : geteuid() == 0 ? "root (no user set)"
                                                              : "the spawner's user");
    }
}

static void
td_master(void *arg)
{
    master_free(arg);
}

static void
td_pidfile(void *arg)
{
    pidfile_remove(arg);
}

static void
td_signals(void *arg)
{
    signals_close();
}

static void
td_logfile(void *arg)
{
    logfile_close();
}

int
main(int argc, char **argv)
{
    static struct master master;
    static char conf_path[PATH_MAX], pid_file[PATH_MAX];
    struct options opt;
    struct overrides ovr;
    struct confgen *gen = NULL;
    char worker_bin[PATH_MAX];
    const char *file = NULL, *workers_conf = NULL;
    int ready_fd = -1, status, lvl, stale;
    bool foreground;

    std_fds_open();
    log_init("spawner", LOG_INFO);
    if (parse_args(argc, argv, &opt) != RC_OK)
        return EXIT_USAGE;
    if (opt.list_keys) {
        list_keys();
        return EXIT_OK;
    }
    if ((status = config_init(&opt, &ovr, &file, &gen)) != EXIT_OK)
        return status;
    if (opt.print || opt.test) {
        struct buf out;
        buf_init(&out, 1 << 20);
        if (opt.print && conf_print(&gen->conf, &out) == RC_OK)
            fputs(out.data, stdout);
        if (opt.test)
            test_config_report(&gen->conf);
        buf_free(&out);
        confgen_unref(gen);
        return EXIT_OK;
    }
    status = EXIT_RUNTIME;
    lvl = log_level_parse(gen->conf.global.log_level);
    log_init("spawner", lvl < 0 ? LOG_INFO : (enum log_level)lvl);

    /* Workers read the same file, and SIGHUP reads it again: an absolute
     * path, because the daemon runs in "/". */
    if (gen->conf.path != NULL) {
        if (realpath(gen->conf.path, conf_path) == NULL) {
            log_errno(LOG_ERR, "%s", gen->conf.path);
            confgen_unref(gen);
            return status;
        }
        workers_conf = conf_path;
    }
    if (children_worker_path(gen->conf.global.worker_binary, worker_bin, sizeof worker_bin) !=
        RC_OK) {
        confgen_unref(gen);
        return status;
    }
    snprintf(pid_file, sizeof pid_file, "%s", gen->conf.global.pid_file);
    foreground = opt.foreground || !gen->conf.global.daemonize;
    /* The master takes the configuration over, also when it fails. */
    teardown_push(td_master, &master);
    if (master_init(&master, gen, &ovr, workers_conf, workers_conf, worker_bin) != RC_OK)
        goto out;
    teardown_push(td_logfile, NULL);
    if (logfile_open(master.gen->conf.global.error_log) != RC_OK)
        goto out;
    if (!foreground && daemon_detach(&ready_fd) != RC_OK)
        goto out;
    if (pid_file[0] != '\0') {
        if (pidfile_write(pid_file) != RC_OK)
            goto out;
        teardown_push(td_pidfile, pid_file);
    }
    /* Browsers re-parented from dead workers come to us, not to init, so we
     * can kill them (see procs.c). */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
        log_errno(LOG_WARN, "PR_SET_CHILD_SUBREAPER; leftovers of dead workers go to init");
    if (signals_init() != RC_OK)
        goto out;
    teardown_push(td_signals, NULL);
    if ((stale = children_tmpdir_sweep()) > 0)
        log_msg(LOG_INFO, "removed %d temporary director%s of workers that no longer run",
                stale, stale == 1 ? "y" : "ies");
    log_msg(LOG_INFO, "rendercgi-spawner %s starting %zu pool%s (worker %s, config %s)",
            PACKAGE_VERSION, master.gen->conf.npools, master.gen->conf.npools == 1 ? "" : "s",
            worker_bin, workers_conf != NULL ? workers_conf : "built-in defaults");
    if (master_start(&master) != RC_OK) {
        daemon_ready(&ready_fd, false);
        /* Stop the workers that did start, as on SIGTERM. */
        kill(getpid(), SIGTERM);
        master_run(&master);
        goto out;
    }
    daemon_ready(&ready_fd, true);
    master_run(&master);
    status = EXIT_OK;
out:
    daemon_ready(&ready_fd, false);
    teardown_run();
    return status;
}
