/* reload.c — rolling every pool onto a configuration; see reload.h.
 *
 * The roll of a pool is driven from its new run ('r' below); the pool's
 * other runs ("older" runs: the one it replaces, and any left over from an
 * aborted or interrupted roll) give it their workers one at a time. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "children.h"
#include "clock.h"
#include "confgen.h"
#include "log.h"
#include "logfile.h"
#include "master.h"
#include "pools.h"
#include "rc.h"
#include "reload.h"
#include "replace.h"

/* After a failed start of a replacement (no spare entry, fork failed). */
#define ROLL_RETRY_MS 1000

static bool
older(const struct pool_run *o, const struct pool_run *r)
{
    return o != r && strcmp(o->name, r->name) == 0;
}

bool
reload_rolling(const struct master *m, const char *name)
{
    for (const struct pool_run *r = m->runs; r != NULL; r = r->next)
        if (r->roll != ROLL_NONE && strcmp(r->name, name) == 0)
            return true;
    return false;
}

static int
serving_of_name(const struct master *m, const char *name, bool current)
{
    int n = 0;

    for (const struct pool_run *r = m->runs; r != NULL; r = r->next)
        if (strcmp(r->name, name) == 0 && r->current == current)
            n += r->target;
    return n;
}

/* The oldest running worker of an older run that nothing replaces yet. */
static struct pool_run *
pick_victim(struct master *m, struct pool_run *r, int *vi)
{
    struct pool_run *best = NULL;

    *vi = -1;
    for (struct pool_run *o = m->runs; o != NULL; o = o->next) {
        if (!older(o, r))
            continue;
        for (int i = 0; i < o->nslots; i++) {
            const struct slot *s = &o->slots[i];
            if (s->state != SLOT_RUNNING || s->being_replaced || s->probation)
                continue;
            if (best == NULL || s->started_ms < best->slots[*vi].started_ms) {
                best = o;
                *vi = i;
            }
        }
    }
    return best;
}

/* Nothing left to replace: let the older runs go, and end the roll once
 * they are empty. */
static void
roll_finish(struct master *m, struct pool_run *r, int64_t now)
{
    bool left = false;

    for (struct pool_run *o = m->runs; o != NULL; o = o->next) {
        if (!older(o, r))
            continue;
        if (o->target > 0) {
            o->target = 0;
            o->roll_cause = r->roll_cause;
        }
        for (int i = 0; i < o->nslots; i++)
            left = left || o->slots[i].state != SLOT_FREE;
    }
    if (left)
        return;
    r->roll = ROLL_NONE;
    log_msg(LOG_INFO, "[pool %s] %s done: %d worker%s replaced, %d running", r->name,
            pools_cause_name(r->roll_cause), r->replaced, r->replaced == 1 ? "" : "s",
            r->target);
}

void
reload_step(struct master *m, struct pool_run *r, int64_t now)
{
    struct pool_run *vr;
    char why[96];
    int vi, i;

    switch (r->roll) {
    case ROLL_NONE:
    case ROLL_WAIT_READY:
        return;
    case ROLL_WAIT_EXIT:
        if (r->wait_run != NULL && r->wait_run->slots[r->wait_slot].pid == r->wait_pid)
            return;
        r->roll = ROLL_START;
        break;
    case ROLL_START:
        break;
    }
    if (now < r->wait_until)
        return;
    if (r->target >= r->final_target) {
        roll_finish(m, r, now);
        return;
    }
    if ((vr = pick_victim(m, r, &vi)) != NULL) {
        snprintf(why, sizeof why, "%s: replacing worker %d", pools_cause_name(r->roll_cause),
                 (int)vr->slots[vi].pid);
        i = replace_start(m, r, vr, vi, r->roll_cause, true, now, why);
    } else {
        /* No old worker runs right now (they are waiting to restart, or
         * there were fewer): take one of what they still want, if any. */
        struct pool_run *o;
        for (o = m->runs; o != NULL; o = o->next)
            if (older(o, r) && o->target > 0)
                break;
        if (o == NULL) {
            /* Nobody left to replace: the rest start at once. */
            r->target = r->final_target;
            return;
        }
        o->target--;
        i = replace_start(m, r, NULL, -1, r->roll_cause, true, now,
                          pools_cause_name(r->roll_cause));
        if (i < 0)
            o->target++;
    }
    if (i < 0) {
        r->wait_until = now + ROLL_RETRY_MS;
        return;
    }
    r->roll = ROLL_WAIT_READY;
    r->roll_slot = i;
}

void
reload_probation_done(struct master *m, struct pool_run *r, int i, bool ok,
                      struct pool_run *vr, int vi, pid_t vpid, int64_t now)
{
    if (r->roll != ROLL_WAIT_READY || r->roll_slot != i)
        return;
    if (ok) {
        r->replaced += vr != NULL;
        r->roll = vr != NULL ? ROLL_WAIT_EXIT : ROLL_START;
        r->wait_run = vr;
        r->wait_slot = vi;
        r->wait_pid = vpid;
        return;
    }
    r->roll = ROLL_NONE;
    r->final_target = r->target;
    log_msg(LOG_WARN, "[pool %s] %s aborted: the new worker did not become ready; %d worker%s "
            "run%s the new configuration, %d the previous one (see the lines above; fix the "
            "cause and reload again)", r->name, pools_cause_name(r->roll_cause), r->target,
            r->target == 1 ? "" : "s", r->target == 1 ? "s" : "",
            serving_of_name(m, r->name, false));
}

void
reload_collect(struct master *m)
{
    struct pool_run **pp = &m->runs;

    while (*pp != NULL) {
        struct pool_run *r = *pp;
        struct listener *l;
        bool empty = !r->current && r->target == 0;

        for (int i = 0; i < r->nslots && empty; i++)
            empty = r->slots[i].state == SLOT_FREE;
        if (!empty) {
            pp = &r->next;
            continue;
        }
        for (struct pool_run *n = m->runs; n != NULL; n = n->next)
            if (n->wait_run == r)
                n->wait_run = NULL;
        *pp = r->next;
        l = r->lis;
        pools_free(r);
        master_listener_put(m, l);
    }
}

/* ---- applying a configuration ------------------------------------------- */

static const struct conf_pool *
pool_in(const struct conf *c, const char *name)
{
    return conf_pool_find(c, name);
}

static void
runs_free(struct master *m, struct pool_run *list)
{
    while (list != NULL) {
        struct pool_run *r = list;
        struct listener *l = r->lis;
        list = r->next;
        pools_free(r);
        master_listener_put(m, l);
    }
}

/* What changes in [global] takes effect now, or is said to need a restart. */
static void
globals_apply(struct master *m, const struct conf_global *old, const struct conf_global *g)
{
    int lvl = log_level_parse(g->log_level);

    log_init("spawner", lvl < 0 ? LOG_INFO : (enum log_level)lvl);
    if (strcmp(old->error_log, g->error_log) != 0)
        (void)logfile_reopen(g->error_log);
    if (strcmp(old->pid_file, g->pid_file) != 0)
        log_msg(LOG_WARN, "reload: pid_file changed from '%s' to '%s'; that takes a restart",
                old->pid_file, g->pid_file);
}

/* Make 'g' (whose reference this takes) the current configuration and roll
 * every pool onto it. RC_OK, or RC_ERROR with nothing changed (logged). */
static int
apply(struct master *m, struct confgen *g, enum stop_cause cause, const char *bin, int64_t now)
{
    struct pool_run *fresh = NULL, **tail = &fresh, *last;
    struct confgen *old = m->gen;
    int nfresh = 0;

    /* Everything that can fail comes first. */
    for (size_t i = 0; i < g->conf.npools; i++) {
        const struct conf_pool *p = &g->conf.pools[i];
        struct listener *l = master_listener_get(m, p);
        struct pool_run *r;

        if (l == NULL)
            goto fail;
        r = pools_new(g, p, l);
        master_listener_put(m, l);
        if (r == NULL)
            goto fail;
        r->current = true;
        r->final_target = p->workers;
        *tail = r;
        tail = &r->next;
        nfresh++;
    }
    /* Commit. */
    if (strcmp(m->worker_bin, bin) != 0) {
        log_msg(LOG_INFO, "reload: worker binary is now %s", bin);
        snprintf(m->worker_bin, sizeof m->worker_bin, "%s", bin);
    }
    for (struct pool_run *o = m->runs; o != NULL; o = o->next) {
        struct pool_run *n;
        if (o->current) {
            /* The pool's history carries over to its new scoreboard. */
            for (n = fresh; n != NULL && strcmp(n->name, o->name) != 0; n = n->next)
                ;
            if (n != NULL) {
                atomic_store(&n->sb->pool_started_ms, atomic_load(&o->sb->pool_started_ms));
                atomic_store(&n->sb->pool_restarts, atomic_load(&o->sb->pool_restarts));
            } else if (o->target > 0) {
                log_msg(LOG_INFO, "[pool %s] removed from the configuration: stopping its "
                        "workers", o->name);
            }
        }
        o->current = false;
        /* An interrupted roll or recycle: the replacements not ready yet
         * are given up (the workers they were for stay, to be replaced by
         * this reload); those that were ready stay, as plain workers. */
        o->roll = ROLL_NONE;
        for (int i = 0; i < o->nslots; i++)
            replace_cancel(m, o, i, now);
        if (pool_in(&g->conf, o->name) == NULL) {
            o->target = 0;
            o->roll_cause = CAUSE_REMOVED;
        }
    }
    for (struct pool_run *r = fresh; r != NULL; r = r->next) {
        bool has_old = false;
        for (struct pool_run *o = m->runs; o != NULL && !has_old; o = o->next)
            has_old = older(o, r);
        if (has_old) {
            r->roll = ROLL_START;
            r->roll_cause = cause;
            r->target = 0;
        } else {
            r->target = r->final_target;
            log_msg(LOG_INFO, "[pool %s] added: starting %d worker%s", r->name, r->target,
                    r->target == 1 ? "" : "s");
        }
    }
    for (last = m->runs; last != NULL && last->next != NULL; last = last->next)
        ;
    if (last != NULL)
        last->next = fresh;
    else
        m->runs = fresh;
    m->gen = g;
    if (old != g)
        globals_apply(m, &old->conf.global, &g->conf.global);
    confgen_unref(old);
    master_crashes_config(m);
    log_msg(LOG_INFO, "%s: configuration %u in place for %d pool%s; replacing workers one at a "
            "time", pools_cause_name(cause), g->id, nfresh, nfresh == 1 ? "" : "s");
    return RC_OK;
fail:
    runs_free(m, fresh);
    confgen_unref(g);
    log_msg(LOG_ERR, "%s: aborted (see above); keeping the running configuration",
            pools_cause_name(cause));
    return RC_ERROR;
}

void
reload_config(struct master *m, int64_t now)
{
    struct confgen *g = NULL;
    struct buf errs;
    char bin[PATH_MAX];
    int rc;

    log_msg(LOG_INFO, "SIGHUP: reading %s again",
            m->conf_file != NULL ? m->conf_file : "the built-in defaults");
    buf_init(&errs, 1 << 16);
    rc = confgen_load(m->conf_file, &m->ovr, &g, &errs);
    if (rc != RC_OK) {
        /* One log line per problem, as --test-config prints them. */
        for (char *line = errs.data, *nl; line != NULL && *line != '\0'; line = nl) {
            nl = strchr(line, '\n');
            if (nl != NULL)
                *nl++ = '\0';
            log_msg(LOG_ERR, "reload: %s", line);
        }
        log_msg(LOG_ERR, "reload: the configuration is not valid; keeping the running one");
        buf_free(&errs);
        return;
    }
    buf_free(&errs);
    if (children_worker_path(g->conf.global.worker_binary, bin, sizeof bin) != RC_OK) {
        log_msg(LOG_ERR, "reload: no worker binary; keeping the running configuration");
        confgen_unref(g);
        return;
    }
    (void)apply(m, g, CAUSE_RELOAD, bin, now);
}

void
reload_restart_all(struct master *m, enum stop_cause cause, int64_t now)
{
    char bin[PATH_MAX];

    snprintf(bin, sizeof bin, "%s", m->worker_bin);
    (void)apply(m, confgen_ref(m->gen), cause, bin, now);
}
