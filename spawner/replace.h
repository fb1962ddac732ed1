/* replace.h — replacing a worker without a gap, and acting on the
 * watchdog's verdicts.
 *
 * A replacement starts in a spare slot beside the worker it replaces and is
 * "on probation" until its scoreboard entry says ready: only then does the
 * old worker get SIGTERM. Recycling (max_requests, max_memory) and reloads
 * (reload.c) both go through replace_start(). The watchdog's kills
 * (liveness_timeout, request_terminate_timeout) need no replacement first:
 * the pool's target count starts one at once (pools.c). */
#ifndef RCGI_SPAWNER_REPLACE_H
#define RCGI_SPAWNER_REPLACE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pools.h"

struct master;

/* Start a replacement for slot 'vi' of run 'vr' in a free slot of 'r' (the
 * same run for a recycle; the new run for a reload), on probation until its
 * entry says ready within the pool's ready_timeout. With 'move_target', 'r'
 * takes one worker of the target count from 'vr' (reload). 'vr' NULL: a
 * probation start that replaces nobody. 'why' is logged. Returns the slot,
 * or -1 (no free slot, or fork failed; nothing changed). */
int replace_start(struct master *m, struct pool_run *r, struct pool_run *vr, int vi,
                  enum stop_cause cause, bool move_target, int64_t now, const char *why);
/* The replacement in slot 'i' (pid 'pid') failed: 'reason' is logged, the
 * worker it was for keeps serving (and is tried again ready_timeout later),
 * a reload of the pool stops. The caller stops or has reaped the process. */
void replace_failed(struct master *m, struct pool_run *r, int i, pid_t pid, int64_t now,
                    const char *reason);
/* Give up the replacement on probation in slot 'i' (a newer reload will
 * replace the worker it was for): that worker keeps serving, and this one
 * is stopped. Nothing when slot 'i' is no replacement on probation. */
void replace_cancel(struct master *m, struct pool_run *r, int i, int64_t now);
/* The probation of slot 'i': ready (the old worker gets SIGTERM), past
 * ready_timeout (stopped), or still waiting. */
void replace_check(struct master *m, struct pool_run *r, int i, int64_t now);
/* Ask the watchdog about the running worker in slot 'i' and act: kill it
 * (liveness, request_terminate_timeout) or recycle it (max_memory,
 * max_requests: one recycle at a time per run, none while its pool
 * reloads). */
void replace_watch(struct master *m, struct pool_run *r, int i, int64_t now);

#endif
