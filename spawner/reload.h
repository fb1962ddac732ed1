/* reload.h — replacing every worker without refusing a request: SIGHUP
 * (with the configuration read again) and the emergency restart (with the
 * same configuration).
 *
 * A reload prepares everything first: it reads and checks the file, opens
 * the sockets of new addresses (a socket whose address did not change is
 * kept, the same fd, so the web server never sees a refused connection) and
 * creates each pool's new run. If any of that fails, nothing changes and the
 * running configuration stays. Then each pool rolls, one worker at a time: a
 * replacement starts in the new run; once its scoreboard entry says ready,
 * one old worker gets SIGTERM (it stops accepting and finishes its
 * requests); once that one has exited, the next. A replacement that does
 * not become ready within ready_timeout aborts that pool's roll: the old
 * workers it did not reach keep serving. Pools new in the file start at
 * once; pools gone from it stop. */
#ifndef RCGI_SPAWNER_RELOAD_H
#define RCGI_SPAWNER_RELOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pools.h"

struct master;
struct confgen;

/* SIGHUP: read the configuration again and roll every pool onto it. */
void reload_config(struct master *m, int64_t now);
/* Roll every pool onto the current configuration again ('cause':
 * CAUSE_EMERGENCY). */
void reload_restart_all(struct master *m, enum stop_cause cause, int64_t now);
/* Move the roll of run 'r' on. */
void reload_step(struct master *m, struct pool_run *r, int64_t now);
/* pools.c: the replacement in slot 'i' of 'r' became ready ('ok') or failed;
 * it replaced slot 'vi' of 'vr' (pid 'vpid'), or nobody ('vr' NULL). */
void reload_probation_done(struct master *m, struct pool_run *r, int i, bool ok,
                           struct pool_run *vr, int vi, pid_t vpid, int64_t now);
/* Is a roll under way for the pool called 'name'? */
bool reload_rolling(const struct master *m, const char *name);
/* Release the runs that are done: replaced or removed, with no worker left. */
void reload_collect(struct master *m);

#endif
