/* privs.h — who the workers run as, and who owns a pool's socket file.
 *
 * Started as root, the spawner binds every socket, then runs each pool's
 * workers as that pool's user and group (setgroups, setgid, setuid in the
 * child, before exec), so Chromium runs with its sandbox. Started as another
 * user, it can only run workers as itself: user, group, listen_owner and
 * listen_group must then name the spawner's own user and groups, or be
 * empty. Names are looked up once per start or reload, in the spawner,
 * never in a forked child. */
#ifndef RCGI_SPAWNER_PRIVS_H
#define RCGI_SPAWNER_PRIVS_H

#include <stdbool.h>
#include <sys/types.h>

#include "buf.h"
#include "conf.h"

struct privs {
    bool change;      /* false: the workers keep the spawner's credentials */
    uid_t uid;
    gid_t gid;
    gid_t *groups;    /* supplementary groups of the user; owned */
    int ngroups;
    char user[64];    /* for logs */
};

/* Check the privilege keys of every pool of 'c' against the users and groups
 * of this machine and against who we run as. Problems are appended to
 * 'errors' as "FILE:LINE: KEY: message" lines. RC_OK or RC_INVALID. */
int privs_check_conf(const struct conf *c, struct buf *errors);

/* Resolve the pool's user and group for starting workers. RC_OK with 'out'
 * filled (free it with privs_free), or RC_ERROR (logged: the user vanished
 * since the config was checked). Warns when workers would run as root. */
int privs_resolve(const struct conf_pool *p, struct privs *out);
void privs_free(struct privs *p);

/* In a forked child: take on 'p' for good (supplementary groups, group, then
 * user) and verify that root cannot be regained. RC_OK, or RC_ERROR with
 * errno set; the caller must not exec then. */
int privs_apply(const struct privs *p);

/* Give the unix socket file 'path' the pool's listen_owner/listen_group.
 * RC_OK (also when neither is set) or RC_ERROR (logged). */
int privs_socket_owner(const struct conf_pool *p, const char *path);

/* Look up a user or group by name, or by number when it is all digits.
 * RC_OK or RC_NOT_FOUND. The user's primary group goes to *gid if not NULL. */
int privs_user(const char *name, uid_t *uid, gid_t *gid);
int privs_group(const char *name, gid_t *gid);

#endif
