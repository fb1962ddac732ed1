/* procs.c — /proc snapshots and the leftover sweep; see procs.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "procs.h"
#include "rc.h"

int
procs_sweep(const int *workers, size_t nworkers, struct orphan_kill *killed, size_t max)
{
    struct proc_info *procs = NULL, self;
    struct orphan_kill kills[256];
    size_t n, found, todo;

    self.pid = (int)getpid();
    self.ppid = (int)getppid();
    self.pgid = (int)getpgrp();
    self.sid = (int)getsid(0);
    self.state = 'R';
    if (procs_snapshot(&procs, &n) != RC_OK)
        return -1;
    found = supervise_orphans(procs, n, &self, workers, nworkers, kills,
                              sizeof kills / sizeof kills[0]);
    free(procs);
    /* More than fit this round are caught by the next sweep. */
    todo = found < sizeof kills / sizeof kills[0] ? found : sizeof kills / sizeof kills[0];
    for (size_t i = 0; i < todo; i++) {
        /* The process may have exited since the snapshot: ESRCH is fine. */
        if (kills[i].pgid > 0 && kill(-kills[i].pgid, SIGKILL) == -1 && errno != ESRCH)
            log_errno(LOG_WARN, "kill process group %d", kills[i].pgid);
        if (kill(kills[i].pid, SIGKILL) == -1 && errno != ESRCH)
            log_errno(LOG_WARN, "kill %d", kills[i].pid);
        if (killed != NULL && i < max)
            killed[i] = kills[i];
    }
    return (int)found;
}
