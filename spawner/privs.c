/* privs.c — users, groups and dropping root for the workers; see privs.h. */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "privs.h"
#include "rc.h"

static bool
all_digits(const char *s)
{
    if (*s == '\0' || strlen(s) > 9)
        return false;
    for (; *s != '\0'; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

int
privs_user(const char *name, uid_t *uid, gid_t *gid)
{
    struct passwd *pw = getpwnam(name);

    if (pw == NULL && all_digits(name)) {
        uid_t n = (uid_t)strtoul(name, NULL, 10);
        if ((pw = getpwuid(n)) == NULL) {
            /* A uid without a passwd entry (common in containers): its
             * primary group is taken to be the gid of the same number. */
            *uid = n;
            if (gid != NULL)
                *gid = (gid_t)n;
            return RC_OK;
        }
    }
    if (pw == NULL)
        return RC_NOT_FOUND;
    *uid = pw->pw_uid;
    if (gid != NULL)
        *gid = pw->pw_gid;
    return RC_OK;
}

int
privs_group(const char *name, gid_t *gid)
{
    struct group *gr = getgrnam(name);

    if (gr == NULL && all_digits(name)) {
        *gid = (gid_t)strtoul(name, NULL, 10);
        return RC_OK;
    }
    if (gr == NULL)
        return RC_NOT_FOUND;
    *gid = gr->gr_gid;
    return RC_OK;
}

/* Is 'gid' one of the groups we are in (so we may chown a file to it)? */
static bool
in_our_groups(gid_t gid)
{
    gid_t groups[NGROUPS_MAX];
    int n = getgroups(NGROUPS_MAX, groups);

    if (gid == getegid())
        return true;
    for (int i = 0; i < n; i++)
        if (groups[i] == gid)
            return true;
    return false;
}

static void __attribute__((format(printf, 5, 6)))
report(struct buf *errors, const struct conf *c, const struct conf_pool *p, const char *key,
       const char *fmt, ...)
{
    const char *file = c->path != NULL ? c->path : "command line";
    int line = conf_key_line(c, p, key);
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line > 0)
        buf_printf(errors, "%s:%d: %s: %s\n", file, line, key, msg);
    else
        buf_printf(errors, "%s: %s: %s\n", file, key, msg);
}

static int
check_pool(const struct conf *c, const struct conf_pool *p, struct buf *errors)
{
    bool root = geteuid() == 0;
    int nerr = 0;
    uid_t uid;
    gid_t gid;

    if (p->user[0] != '\0') {
        if (privs_user(p->user, &uid, NULL) != RC_OK) {
            report(errors, c, p, "user", "[%s] no such user '%s'", p->name, p->user);
            nerr++;
        } else if (!root && uid != geteuid()) {
            report(errors, c, p, "user", "[%s] running workers as '%s' needs the spawner to "
                   "start as root (it runs as uid %d); leave user empty to run them as the "
                   "spawner's user", p->name, p->user, (int)geteuid());
            nerr++;
        }
    }
    if (p->group[0] != '\0') {
        if (privs_group(p->group, &gid) != RC_OK) {
            report(errors, c, p, "group", "[%s] no such group '%s'", p->name, p->group);
            nerr++;
        } else if (!root && gid != getegid()) {
            report(errors, c, p, "group", "[%s] running workers in group '%s' needs the "
                   "spawner to start as root (its group is gid %d)", p->name, p->group,
                   (int)getegid());
            nerr++;
        }
    }
    if (p->listen_owner[0] != '\0') {
        if (privs_user(p->listen_owner, &uid, NULL) != RC_OK) {
            report(errors, c, p, "listen_owner", "[%s] no such user '%s'", p->name,
                   p->listen_owner);
            nerr++;
        } else if (!root && uid != geteuid()) {
            report(errors, c, p, "listen_owner", "[%s] giving the socket to '%s' needs the "
                   "spawner to start as root (it runs as uid %d)", p->name, p->listen_owner,
                   (int)geteuid());
            nerr++;
        }
    }
    if (p->listen_group[0] != '\0') {
        if (privs_group(p->listen_group, &gid) != RC_OK) {
            report(errors, c, p, "listen_group", "[%s] no such group '%s'", p->name,
                   p->listen_group);
            nerr++;
        } else if (!root && !in_our_groups(gid)) {
            report(errors, c, p, "listen_group", "[%s] the spawner is not in group '%s', so "
                   "only root could give the socket to it", p->name, p->listen_group);
            nerr++;
        }
    }
    return nerr;
}

int
privs_check_conf(const struct conf *c, struct buf *errors)
{
    int nerr = 0;

    for (size_t i = 0; i < c->npools; i++)
        nerr += check_pool(c, &c->pools[i], errors);
    return nerr == 0 ? RC_OK : RC_INVALID;
}

int
privs_resolve(const struct conf_pool *p, struct privs *out)
{
    struct passwd *pw;
    int n = 0;

    memset(out, 0, sizeof *out);
    if (p->user[0] == '\0') {
        if (geteuid() == 0)
            log_msg(LOG_WARN, "[pool %s] workers run as root: set user (Chromium then runs "
                    "with its sandbox, which it cannot as root)", p->name);
        return RC_OK;
    }
    if (privs_user(p->user, &out->uid, &out->gid) != RC_OK) {
        log_msg(LOG_ERR, "[pool %s] user '%s' does not exist (any more); not starting workers "
                "as root instead", p->name, p->user);
        return RC_ERROR;
    }
    if (p->group[0] != '\0' && privs_group(p->group, &out->gid) != RC_OK) {
        log_msg(LOG_ERR, "[pool %s] group '%s' does not exist (any more)", p->name, p->group);
        return RC_ERROR;
    }
    snprintf(out->user, sizeof out->user, "%s", p->user);
    /* Not root: privs_check_conf made sure these are our own. */
    if (geteuid() != 0)
        return RC_OK;
    out->change = true;
    pw = getpwuid(out->uid);
    if (pw != NULL) {
        /* getgrouplist: the first call sizes the list. */
        (void)getgrouplist(pw->pw_name, out->gid, NULL, &n);
        if (n > 0 && (out->groups = calloc((size_t)n, sizeof *out->groups)) != NULL &&
            getgrouplist(pw->pw_name, out->gid, out->groups, &n) >= 0) {
            out->ngroups = n;
            return RC_OK;
        }
        free(out->groups);
        out->groups = NULL;
    }
    /* No passwd entry, or no memory: the one group alone. */
    if ((out->groups = calloc(1, sizeof *out->groups)) == NULL) {
        log_errno(LOG_ERR, "[pool %s] calloc", p->name);
        return RC_ERROR;
    }
    out->groups[0] = out->gid;
    out->ngroups = 1;
    return RC_OK;
}

void
privs_free(struct privs *p)
{
    if (p == NULL)
        return;
    free(p->groups);
    memset(p, 0, sizeof *p);
}

int
privs_apply(const struct privs *p)
{
    if (!p->change)
        return RC_OK;
    /* Groups first: once the user is changed, nothing else may be. */
    if (setgroups((size_t)p->ngroups, p->groups) == -1 || setgid(p->gid) == -1 ||
        setuid(p->uid) == -1)
        return RC_ERROR;
    if (p->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
        errno = EPERM;
        return RC_ERROR;
    }
    return RC_OK;
}

int
privs_socket_owner(const struct conf_pool *p, const char *path)
{
    uid_t uid = (uid_t)-1;
    gid_t gid = (gid_t)-1;

    if (p->listen_owner[0] == '\0' && p->listen_group[0] == '\0')
        return RC_OK;
    if (p->listen_owner[0] != '\0' && privs_user(p->listen_owner, &uid, NULL) != RC_OK) {
        log_msg(LOG_ERR, "[pool %s] listen_owner: no such user '%s'", p->name, p->listen_owner);
        return RC_ERROR;
    }
    if (p->listen_group[0] != '\0' && privs_group(p->listen_group, &gid) != RC_OK) {
        log_msg(LOG_ERR, "[pool %s] listen_group: no such group '%s'", p->name,
                p->listen_group);
        return RC_ERROR;
    }
    if (chown(path, uid, gid) == -1) {
        log_errno(LOG_ERR, "[pool %s] chown %s to %s:%s", p->name, path, p->listen_owner,
                  p->listen_group);
        return RC_ERROR;
    }
    return RC_OK;
}
