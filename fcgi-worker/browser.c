/* browser.c — launching and stopping headless Chromium; see browser.h.
 *
 * The browser owns its process group (pgid = pid) and its profile directory.
 * Only the pool's supervisor thread calls browser_launch/browser_stop. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "browser.h"
#include "clock.h"
#include "log.h"
#include "proctable.h"
#include "rc.h"

/* CDP messages can carry a whole IO.read chunk or a DOM; cap them. */
#define BROWSER_MAX_MESSAGE (64u << 20)

static void
fd_close(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

static void
profile_remove(char **dir)
{
    if (*dir == NULL)
        return;
    nftw(*dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(*dir);
    *dir = NULL;
}

/* The argv we exec: exactly our flags, never Debian's wrapper script. */
static int
browser_argv(const struct browser_launch_conf *lc, const char *profile, char **argv, size_t max,
             char *store, size_t storelen)
{
    size_t n = 0;
    int w;

    argv[n++] = (char *)lc->chromium;
    argv[n++] = "--headless";
    if (geteuid() == 0)
        argv[n++] = "--no-sandbox"; /* Chromium refuses to run its sandbox as root. */
    argv[n++] = "--remote-debugging-pipe";
    argv[n++] = "--disable-gpu";
    argv[n++] = "--disable-background-networking";
    argv[n++] = "--disable-component-update";
    argv[n++] = "--disable-sync";
    argv[n++] = "--no-first-run";
    argv[n++] = "--no-default-browser-check";
    argv[n++] = "--disable-quic";
    argv[n++] = "--disable-extensions";
    argv[n++] = "--disable-default-apps";
    argv[n++] = "--disable-breakpad";
    argv[n++] = "--disable-crash-reporter";
    argv[n++] = "--disable-domain-reliability";
    argv[n++] = "--disable-client-side-phishing-detection";
    /* Nothing ever goes back. With the back/forward cache, the wipe's
     * about:blank after a page that stays cache-eligible (a screenshot's or
     * an extraction's; printing makes a page ineligible) swapped renderer
     * processes to keep that page alive, frozen, in the old one: two new
     * renderers per request, the wipe 66 instead of 25 ms (raw CDP). */
    argv[n++] = "--disable-back-forward-cache";
    /* WebUIOmniboxPopup and WebUIOmniboxAimPopup: Chromium preloads the
     * omnibox popups (chrome://omnibox-popup.top-chrome/) in two renderers
     * even headless; nobody ever sees them (measured with 4 page slots after
     * 4 renders: 19 -> 14 processes, 670 -> 458 MiB PSS per browser).
     * RenderDocument: Chromium builds a new RenderFrameHost and renderer
     * frame for every cross-document navigation; without it a same-site
     * navigation reuses them. Every request is two navigations (the page,
     * then the wipe's about:blank), so this is the largest single cost we
     * control: bench/c1 CPU per request 180 -> 150 ms, c=1 p50 116 -> 104
     * ms (docs/architecture.md, "What the wipe costs").
     * NetworkTimeServiceQuerying, AimEnabled, PreconnectToSearch: requests
     * to Google hosts on start-up (clients2.google.com seen at our proxy). */
    argv[n++] = "--disable-features=Translate,OptimizationHints,MediaRouter,"
                "WebUIOmniboxPopup,WebUIOmniboxAimPopup,RenderDocument,"
                "InterestFeedContentSuggestions,CalculateNativeWinOcclusion,"
                "AcceptCHFrame,AutofillServerCommunication,CertificateTransparencyComponentUpdater,"
                "NetworkTimeServiceQuerying,AimEnabled,PreconnectToSearch";
    /* Chromium still asks accounts.google.com for the signed-in accounts of
     * every profile (the default one and each slot's context) and polls
     * update.googleapis.com for components, despite the switches above;
     * seen at the policy proxy. Both services are pointed at an address
     * Chromium never connects to, so the browsers send nothing of their own. */
    argv[n++] = "--gaia-url=http://0.0.0.0:1/";
    argv[n++] = "--component-updater=url-source=http://0.0.0.0:1/";
    argv[n++] = "--metrics-recording-only";
    argv[n++] = "--password-store=basic";
    argv[n++] = "--use-mock-keychain";
    argv[n++] = "--mute-audio";
    argv[n++] = "--hide-scrollbars";
    argv[n++] = "--font-render-hinting=none";
    /* A page that allocates without bound hits this V8 heap cap and its
     * renderer dies (Inspector.targetCrashed: 502), not the machine. */
    argv[n++] = "--js-flags=--max-old-space-size=512";
    w = snprintf(store, storelen, "--user-data-dir=%s", profile);
    argv[n++] = store;
    store += w + 1;
    storelen -= (size_t)w + 1;
    w = snprintf(store, storelen, "--window-size=%d,%d", lc->width, lc->height);
    argv[n++] = store;
    store += w + 1;
    storelen -= (size_t)w + 1;
    if (lc->proxy_port > 0) {
        /* Every connection through the policy proxy (proxy.h), loopback
         * too (Chromium bypasses proxies for it unless told "<-loopback>"),
         * and no WebRTC UDP, which no proxy can carry. */
        snprintf(store, storelen, "--proxy-server=socks5://127.0.0.1:%d", lc->proxy_port);
        argv[n++] = store;
        argv[n++] = "--proxy-bypass-list=<-loopback>";
        argv[n++] = "--force-webrtc-ip-handling-policy=disable_non_proxied_udp";
    }
    argv[n++] = "about:blank";
    argv[n] = NULL;
    return n < max ? RC_OK : RC_ERROR;
}

extern char **environ;

/* Our environment with XDG_CONFIG_HOME inside the profile: Chromium's
 * chrome_crashpad_handler daemonizes out of the browser's process group and
 * keeps its database under XDG_CONFIG_HOME, so that its command line names
 * the profile and browser_sweep() can find it. (TMPDIR stays ours: Chromium
 * puts unix sockets there, whose paths may not exceed 108 bytes, too short
 * for a profile path. Under the spawner it is the worker's private TMPDIR.)
 * Returns a new array (free with envp_free) or NULL. */
static char **
browser_envp(const char *profile)
{
    size_t n = 0, k = 0;
    char **envp, *xdg = NULL;

    while (environ[n] != NULL)
        n++;
    if ((envp = calloc(n + 2, sizeof *envp)) == NULL)
        return NULL;
    if (asprintf(&xdg, "XDG_CONFIG_HOME=%s/xdg-config", profile) < 0) {
        free(envp);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "XDG_CONFIG_HOME=", 16) != 0)
            envp[k++] = environ[i];
    envp[k++] = xdg;
    envp[k] = NULL;
    return envp;
}

static void
envp_free(char **envp)
{
    size_t n = 0;

    if (envp == NULL)
        return;
    while (envp[n] != NULL)
        n++;
    if (n > 0)
        free(envp[n - 1]); /* the XDG_CONFIG_HOME string we made */
    free(envp);
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void
browser_child(int cmd_fd, int out_fd, pid_t parent, int devnull, char **argv, char **envp)
{
    sigset_t all;

    setpgid(0, 0);
    /* Die with the thread that forked us; if it is already gone, give up. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    /* Chromium reads commands on fd 3 and writes on fd 4. Move our ends clear
     * of 3 and 4 first so that the dup2s cannot clobber each other. */
    cmd_fd = fcntl(cmd_fd, F_DUPFD, 10);
    out_fd = fcntl(out_fd, F_DUPFD, 10);
    if (cmd_fd < 0 || out_fd < 0 || dup2(cmd_fd, 3) < 0 || dup2(out_fd, 4) < 0)
        _exit(127);
    if (devnull >= 0) {
        dup2(devnull, 0);
        dup2(devnull, 1);
        dup2(devnull, 2);
    }
    close_range(5, ~0U, 0);
    for (int sig = 1; sig < NSIG; sig++)
        signal(sig, SIG_DFL);
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    execve(argv[0], argv, envp);
    _exit(127);
}

static void
browser_reap(pid_t pgid)
{
    /* The worker is a child subreaper, so renderers and zygotes orphaned by
     * the main process become our children too: reap the whole group. */
    while (waitpid(-pgid, NULL, 0) > 0 || errno == EINTR)
        ;
}

/* Kill every process whose command line names the profile directory — the
 * ones that left the process group (crashpad) — and reap those that are our
 * children (we are a subreaper, so orphans are). */
static void
browser_sweep(const char *profile)
{
    struct dirent *de;
    DIR *d;

    if (profile == NULL || (d = opendir("/proc")) == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        char path[64], cmd[8192];
        pid_t pid = (pid_t)atoi(de->d_name);
        ssize_t n;
        int fd;

        if (pid <= 0 || pid == getpid())
            continue;
        snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
            continue;
        n = read(fd, cmd, sizeof cmd - 1);
        close(fd);
        if (n <= 0)
            continue;
        for (ssize_t i = 0; i < n; i++)
            if (cmd[i] == '\0')
                cmd[i] = ' ';
        cmd[n] = '\0';
        if (strstr(cmd, profile) != NULL && kill(pid, SIGKILL) == 0)
            waitpid(pid, NULL, 0);
    }
    closedir(d);
}

void
browser_kill(struct browser *b)
{
    pid_t pid = b->pid;
    /* Chromium may exit between kill() and waitpid(); ESRCH is success here. */
    if (pid > 0) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
    }
}

int
browser_launch(struct browser *b, const struct browser_launch_conf *lc,
               cdp_event_fn on_event, cdp_closed_fn on_closed, void *ud,
               int64_t deadline_ms, char *err, size_t errlen)
{
    int to_chrome[2] = { -1, -1 }, from_chrome[2] = { -1, -1 }, devnull = -1;
    char tmpl[4096], store[4352], *argv[48], **envp = NULL;
    const char *tmpdir = getenv("TMPDIR");
    struct transport *t;
    struct buf cerr;
    yajl_val ver = NULL;
    pid_t pid;

    buf_init(&cerr, 1024);
    b->pid = -1;
    b->cdp = NULL;
    snprintf(tmpl, sizeof tmpl, "%s/rendercgi-chromium-XXXXXX",
             tmpdir != NULL && tmpdir[0] != '\0' ? tmpdir : "/tmp");
    if (mkdtemp(tmpl) == NULL || (b->profile_dir = strdup(tmpl)) == NULL) {
        snprintf(err, errlen, "cannot create a profile directory %s: %s", tmpl, strerror(errno));
        goto fail;
    }
    if (access(lc->chromium, X_OK) != 0) {
        snprintf(err, errlen, "chromium %s is not executable: %s", lc->chromium,
                 strerror(errno));
        goto fail;
    }
    if (browser_argv(lc, b->profile_dir, argv, sizeof argv / sizeof argv[0], store,
                     sizeof store) != RC_OK ||
        pipe2(to_chrome, O_CLOEXEC) == -1 || pipe2(from_chrome, O_CLOEXEC) == -1) {
        snprintf(err, errlen, "cannot set up pipes: %s", strerror(errno));
        goto fail;
    }
    if ((envp = browser_envp(b->profile_dir)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (!lc->verbose)
        devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    pid_t parent = getpid();
    if ((pid = fork()) == -1) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        goto fail;
    }
    if (pid == 0)
        browser_child(to_chrome[0], from_chrome[1], parent, devnull, argv, envp);
    envp_free(envp);
    envp = NULL;
    /* Set the group from both sides so that kill(-pid) works at once. */
    setpgid(pid, pid);
    b->pid = pid;
    b->started_ms = clock_ms();
    fd_close(&to_chrome[0]);
    fd_close(&from_chrome[1]);
    fd_close(&devnull);
    t = transport_pipe_new(from_chrome[0], to_chrome[1], BROWSER_MAX_MESSAGE);
    from_chrome[0] = to_chrome[1] = -1; /* owned by the transport now, also on failure */
    if (t == NULL || (b->cdp = cdp_new(t, on_event, on_closed, ud)) == NULL) {
        snprintf(err, errlen, "cannot start the CDP connection");
        goto fail;
    }
    if (cdp_call(b->cdp, NULL, "Browser.getVersion", NULL, deadline_ms, &ver, &cerr) != RC_OK) {
        snprintf(err, errlen, "chromium %s did not answer Browser.getVersion: %s", lc->chromium,
                 cerr.len ? cerr.data : "it exited or timed out");
        goto fail;
    }
    snprintf(b->product, sizeof b->product, "%s",
             cdp_get_string(ver, "product", NULL) ? cdp_get_string(ver, "product", NULL) : "?");
    yajl_tree_free(ver);
    buf_free(&cerr);
    log_msg(LOG_INFO, "[browser %d] started %s, pid %d", b->id, b->product, (int)pid);
    return RC_OK;
fail:
    envp_free(envp);
    fd_close(&to_chrome[0]);
    fd_close(&to_chrome[1]);
    fd_close(&from_chrome[0]);
    fd_close(&from_chrome[1]);
    fd_close(&devnull);
    buf_free(&cerr);
    browser_stop(b);
    return RC_ERROR;
}

void
browser_stop(struct browser *b)
{
    if (b->pid > 0) {
        browser_kill(b);
        browser_reap(b->pid);
        browser_sweep(b->profile_dir);
        b->pid = -1;
    }
    cdp_free(b->cdp);
    b->cdp = NULL;
    profile_remove(&b->profile_dir);
}

int64_t
browser_pss(pid_t pgid)
{
    struct proc_info *procs = NULL;
    int64_t total = 0;
    size_t n = 0;

    if (pgid <= 0 || procs_snapshot(&procs, &n) != RC_OK)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int64_t p;
        if (procs[i].pgid == pgid && (p = procs_smaps_bytes(procs[i].pid, "Pss")) > 0)
            total += p;
    }
    free(procs);
    return total;
}
