/* proctable.h — a snapshot of the process table from /proc, for the
 * spawner (finding what dead workers left) and the worker (its browsers'
 * memory, stray children to reap). */
#ifndef RCGI_PROCTABLE_H
#define RCGI_PROCTABLE_H

#include <stddef.h>

struct proc_info {
    int pid, ppid, pgid, sid;
    char state; /* 'R', 'S', 'Z', … */
};

/* Read /proc/[pid]/stat of every process. On RC_OK *out is a new array of
 * *n entries the caller frees with free(). Processes that vanish while being
 * read are skipped. RC_ERROR (logged) if /proc cannot be read. */
int procs_snapshot(struct proc_info **out, size_t *n);
/* Parse one /proc/[pid]/stat line. RC_OK or RC_INVALID. Pure. */
int procs_parse_stat(const char *line, struct proc_info *p);

/* One field of /proc/PID/smaps_rollup ("Pss", "Rss") in bytes; pid 0 is
 * this process. -1 when unknown (the process is gone). */
long long procs_smaps_bytes(int pid, const char *field);

#endif
