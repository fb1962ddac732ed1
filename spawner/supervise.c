/* supervise.c — the spawner's decisions as pure functions; see supervise.h.
 *
 * Nothing here reads the clock, forks, signals or logs: master.c gathers the
 * facts, asks, and acts on the answer. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "supervise.h"

int
supervise_quick_exits(const struct backoff *b, int previous, int64_t lived_ms, int clean)
{
    if (lived_ms >= (clean ? b->clean_ms : b->quick_ms))
        return 0;
    return previous + 1;
}

int64_t
supervise_restart_delay(const struct backoff *b, int quick, uint32_t rnd)
{
    int64_t d = b->base_ms;

    /* The first death is restarted at once: one crash is no pattern. */
    if (quick <= 1)
        return 0;
    for (int i = 2; i < quick && d < b->max_ms; i++)
        d *= 2;
    if (d > b->max_ms)
        d = b->max_ms;
    return d / 2 + (int64_t)(rnd % (uint64_t)(d / 2 + 1));
}

int
supervise_exit_clean(int status)
{
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

void
supervise_describe_exit(int status, char *buf, size_t len)
{
    if (WIFEXITED(status)) {
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        const char *abbrev = sigabbrev_np(WTERMSIG(status));
        snprintf(buf, len, "exited on signal %d (SIG%s)%s", WTERMSIG(status),
                 abbrev != NULL ? abbrev : "?", WCOREDUMP(status) ? " (core dumped)" : "");
    } else {
        snprintf(buf, len, "changed state (wait status 0x%x)", (unsigned)status);
    }
}

void
supervise_format_duration(int64_t ms, char *buf, size_t len)
{
    int64_t s = ms / 1000;

    if (ms < 1000)
        snprintf(buf, len, "%lld ms", (long long)ms);
    else if (s < 60)
        snprintf(buf, len, "%lld s", (long long)s);
    else if (s < 3600)
        snprintf(buf, len, "%lld min %lld s", (long long)(s / 60), (long long)(s % 60));
    else
        snprintf(buf, len, "%lld h %lld min", (long long)(s / 3600), (long long)(s % 3600 / 60));
}

const char *
supervise_stop_state_name(enum stop_state s)
{
    switch (s) {
    case STOP_RUNNING: return "running";
    case STOP_GRACEFUL: return "graceful";
    case STOP_KILLING: return "killing";
    case STOP_DONE: return "done";
    }
    return "?";
}

enum stop_state
supervise_stop_next(enum stop_state s, enum stop_event e)
{
    switch (s) {
    case STOP_RUNNING:
        return e == STOP_EV_SIGNAL ? STOP_GRACEFUL : STOP_RUNNING;
    case STOP_GRACEFUL:
        switch (e) {
        case STOP_EV_SIGNAL:     /* Asked twice: the operator wants it now. */
        case STOP_EV_DEADLINE:   return STOP_KILLING;
        case STOP_EV_ALL_EXITED: return STOP_DONE;
        }
        break;
    case STOP_KILLING:
        /* A signal changes nothing; a deadline means some process will not
         * die (uninterruptible sleep): give up waiting for it. */
        return e == STOP_EV_SIGNAL ? STOP_KILLING : STOP_DONE;
    case STOP_DONE:
        return STOP_DONE;
    }
    return s;
}

const char *
supervise_slot_state_name(enum slot_state s)
{
    switch (s) {
    case SLOT_FREE: return "free";
    case SLOT_WAITING: return "waiting";
    case SLOT_RUNNING: return "running";
    case SLOT_STOPPING: return "stopping";
    case SLOT_KILLING: return "killing";
    }
    return "?";
}

int
supervise_serving(const struct slot_view *v, int n)
{
    int count = 0;

    for (int i = 0; i < n; i++)
        count += v[i].state == SLOT_WAITING ||
                 (v[i].state == SLOT_RUNNING && !v[i].being_replaced);
    return count;
}

int
supervise_scale(const struct slot_view *v, int n, int target, int *out, int max, int *grow)
{
    int have = supervise_serving(v, n), k = 0;

    *grow = have < target;
    if (have < target) {
        for (int i = 0; i < n && k < max && k < target - have; i++)
            if (v[i].state == SLOT_FREE)
                out[k++] = i;
        return k;
    }
    /* Waiting slots cost nothing to let go. */
    for (int i = 0; i < n && k < max && k < have - target; i++)
        if (v[i].state == SLOT_WAITING)
            out[k++] = i;
    /* Then the oldest running workers, picked one by one. */
    while (k < max && k < have - target) {
        int best = -1;
        for (int i = 0; i < n; i++) {
            bool taken = false;
            if (v[i].state != SLOT_RUNNING || v[i].being_replaced || v[i].on_probation)
                continue;
            for (int j = 0; j < k && !taken; j++)
                taken = out[j] == i;
            if (!taken && (best < 0 || v[i].started_ms < v[best].started_ms))
                best = i;
        }
        if (best < 0)
            break;
        out[k++] = best;
    }
    return k;
}

int
supervise_crash_signal(int sig)
{
    return sig == SIGSEGV || sig == SIGBUS || sig == SIGABRT || sig == SIGILL || sig == SIGFPE ||
           sig == SIGSYS;
}

int
supervise_crash_note(struct crash_ring *r, int64_t interval_ms, int64_t now)
{
    if (r->threshold <= 0 || interval_ms <= 0 || r->times == NULL)
        return 0;
    r->times[r->pos] = now;
    r->pos = (r->pos + 1) % r->threshold;
    if (r->count < r->threshold)
        r->count++;
    if (r->count < r->threshold)
        return 0;
    /* Full ring: the oldest entry is the one about to be overwritten. */
    if (now - r->times[r->pos] > interval_ms)
        return 0;
    r->count = 0;
    r->pos = 0;
    return 1;
}

static const struct proc_info *
proc_find(const struct proc_info *procs, size_t n, int pid)
{
    for (size_t i = 0; i < n; i++)
        if (procs[i].pid == pid)
            return &procs[i];
    return NULL;
}

static bool
is_worker(const int *workers, size_t nworkers, int pid)
{
    for (size_t i = 0; i < nworkers; i++)
        if (workers[i] == pid)
            return true;
    return false;
}

size_t
supervise_orphans(const struct proc_info *procs, size_t n, const struct proc_info *self,
                  const int *workers, size_t nworkers, struct orphan_kill *out, size_t max)
{
    size_t found = 0;

    for (size_t i = 0; i < n; i++) {
        const struct proc_info *p = &procs[i], *cur = p;
        int top = 0, depth = 0;

        if (p->pid == self->pid || p->state == 'Z' || p->state == 'X')
            continue;
        /* Walk up the parent links to find which child of ours it hangs
         * under; give up on anything not descended from us. Depth is bounded
         * because the snapshot is not atomic and could hold a cycle. */
        while (cur != NULL && depth++ < 256) {
            if (cur->ppid == self->pid) {
                top = cur->pid;
                break;
            }
            if (cur->ppid <= 1)
                break;
            cur = proc_find(procs, n, cur->ppid);
        }
        if (top == 0 || is_worker(workers, nworkers, top) ||
            is_worker(workers, nworkers, p->sid))
            continue;
        if (found < max) {
            bool group_ok = p->pgid > 1 && p->pgid != self->pgid && p->sid != self->sid &&
                            !is_worker(workers, nworkers, p->pgid);
            out[found].pid = p->pid;
            out[found].pgid = group_ok ? p->pgid : 0;
            out[found].sid = p->sid;
        }
        found++;
    }
    return found;
}
