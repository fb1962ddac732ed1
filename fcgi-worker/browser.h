/* browser.h — one headless Chromium process and its CDP connection.
 *
 * A browser is launched and stopped only by the pool's supervisor thread
 * (PR_SET_PDEATHSIG fires when the *thread* that forked exits, so that thread
 * lives as long as the worker). Each browser runs in its own process group,
 * and stopping it signals the whole group: killing the main process alone
 * would leave its zygote and renderers behind. */
#ifndef RCGI_BROWSER_H
#define RCGI_BROWSER_H

#include <stdint.h>
#include <sys/types.h>

#include "cdp.h"

struct browser_launch_conf {
    const char *chromium;      /* path of the binary */
    int width, height;         /* default window */
    int verbose;               /* keep Chromium's stderr */
    int proxy_port;            /* the policy proxy on 127.0.0.1 (proxy.h); 0: none */
};

struct browser {
    int id;
    pid_t pid;                 /* also the process group; -1 when not running */
    struct cdp *cdp;           /* NULL when not running */
    char *profile_dir;         /* mkdtemp'd, removed by browser_stop */
    char product[96];          /* "Chrome/156.0…" from Browser.getVersion */
    int64_t started_ms;
};

/* Start Chromium with a fresh profile and connect to it over the pipe.
 * 'on_event'/'on_closed'/'ud' are handed to cdp_new. Waits for
 * Browser.getVersion until 'deadline_ms'. RC_OK, or RC_ERROR with 'err'
 * holding the reason (and nothing left running). */
int browser_launch(struct browser *b, const struct browser_launch_conf *lc,
                   cdp_event_fn on_event, cdp_closed_fn on_closed, void *ud,
                   int64_t deadline_ms, char *err, size_t errlen);
/* Kill the browser's process group, reap it, free the CDP connection and
 * remove the profile. No cdp_call on b->cdp may be running. Idempotent. */
void browser_stop(struct browser *b);
/* Kill the process group now (from any thread) so that pending CDP calls fail
 * at once; browser_stop() still has to run. */
void browser_kill(struct browser *b);
/* Proportional set size of the process group 'pgid' (a browser's pid), in
 * bytes; -1 if unknown. Reads /proc: about 25 ms for a browser with four
 * pages on this machine (smaps_rollup walks each process's mappings), so
 * never under a lock that requests take. */
int64_t browser_pss(pid_t pgid);

#endif
