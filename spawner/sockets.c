/* sockets.c — creating the pools' listening sockets; see sockets.h. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "privs.h"
#include "rc.h"
#include "sockets.h"

void
sockets_init(struct listener *l)
{
    memset(l, 0, sizeof *l);
    l->fd = -1;
}

/* Is someone accepting on the unix socket at 'path'? RC_OK: yes (in use);
 * RC_NOT_FOUND: stale or absent (safe to replace); RC_ERROR: refuse. */
static int
unix_path_in_use(const char *pool, const char *path)
{
    struct sockaddr_un sun;
    struct stat st;
    int fd, r;

    if (lstat(path, &st) == -1) {
        if (errno == ENOENT)
            return RC_NOT_FOUND;
        log_errno(LOG_ERR, "[pool %s] stat %s", pool, path);
        return RC_ERROR;
    }
    if (!S_ISSOCK(st.st_mode)) {
        log_msg(LOG_ERR, "[pool %s] %s exists and is not a socket; refusing to replace it",
                pool, path);
        return RC_ERROR;
    }
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) == -1) {
        log_errno(LOG_ERR, "[pool %s] socket", pool);
        return RC_ERROR;
    }
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
    r = connect(fd, (struct sockaddr *)&sun, sizeof sun);
    /* A full backlog (EAGAIN) still means somebody listens there. */
    if (r == 0 || errno == EAGAIN || errno == EINPROGRESS) {
        close(fd);
        log_msg(LOG_ERR, "[pool %s] %s is in use by a running process (another spawner?)",
                pool, path);
        return RC_OK;
    }
    close(fd);
    return RC_NOT_FOUND;
}

static int
open_unix(const struct conf_pool *p, const struct sockaddr_storage *ss, socklen_t len,
          struct listener *l)
{
    const char *path = ((const struct sockaddr_un *)ss)->sun_path;
    struct stat st;
    mode_t old_umask;
    int r;

    switch (unix_path_in_use(p->name, path)) {
    case RC_NOT_FOUND:
        break;
    default:
        return RC_ERROR;
    }
    if (unlink(path) == -1 && errno != ENOENT) {
        log_errno(LOG_ERR, "[pool %s] removing stale socket %s", p->name, path);
        return RC_ERROR;
    }
    if ((l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
        log_errno(LOG_ERR, "[pool %s] socket", p->name);
        return RC_ERROR;
    }
    /* Create the file with no more permission than asked for: a window with
     * the default umask could let another user connect. */
    old_umask = umask((mode_t)(~p->listen_mode & 0777));
    r = bind(l->fd, (const struct sockaddr *)ss, len);
    umask(old_umask);
    if (r == -1) {
        log_errno(LOG_ERR, "[pool %s] bind %s", p->name, path);
        return RC_ERROR;
    }
    if ((l->unix_path = strdup(path)) == NULL) {
        unlink(path);
        log_errno(LOG_ERR, "[pool %s] strdup", p->name);
        return RC_ERROR;
    }
    if (stat(path, &st) == -1) {
        log_errno(LOG_ERR, "[pool %s] stat %s", p->name, path);
        return RC_ERROR;
    }
    l->dev = st.st_dev;
    l->ino = st.st_ino;
    /* Explicitly too: a default ACL on the directory overrides the umask. */
    if (chmod(path, (mode_t)p->listen_mode) == -1) {
        log_errno(LOG_ERR, "[pool %s] chmod %s", p->name, path);
        return RC_ERROR;
    }
    return privs_socket_owner(p, path);
}

static int
open_inet(const struct conf_pool *p, const struct sockaddr_storage *ss, socklen_t len,
          struct listener *l)
{
    int on = 1;

    if ((l->fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
        log_errno(LOG_ERR, "[pool %s] socket", p->name);
        return RC_ERROR;
    }
    /* Rebinding right after a restart must not wait for TIME_WAIT. */
    if (setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == -1) {
        log_errno(LOG_ERR, "[pool %s] SO_REUSEADDR", p->name);
        return RC_ERROR;
    }
    /* "[::]:9000" means IPv6 only, so another pool may take 0.0.0.0:9000. */
    if (ss->ss_family == AF_INET6 &&
        setsockopt(l->fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) == -1) {
        log_errno(LOG_ERR, "[pool %s] IPV6_V6ONLY", p->name);
        return RC_ERROR;
    }
    if (bind(l->fd, (const struct sockaddr *)ss, len) == -1) {
        log_errno(LOG_ERR, "[pool %s] bind %s", p->name, p->listen);
        return RC_ERROR;
    }
    return RC_OK;
}

int
sockets_open(const struct conf_pool *p, struct listener *l)
{
    struct sockaddr_storage ss;
    socklen_t len;
    char err[256];
    int rc;

    sockets_init(l);
    if (conf_listen_parse(p->listen, &ss, &len, err, sizeof err) != RC_OK) {
        /* conf_load has checked it already; this is a programming error. */
        log_msg(LOG_ERR, "[pool %s] listen: %s", p->name, err);
        return RC_ERROR;
    }
    if ((l->addr = strdup(p->listen)) == NULL) {
        log_errno(LOG_ERR, "[pool %s] strdup", p->name);
        return RC_ERROR;
    }
    l->ss = ss;
    l->sslen = len;
    rc = ss.ss_family == AF_UNIX ? open_unix(p, &ss, len, l) : open_inet(p, &ss, len, l);
    if (rc != RC_OK)
        goto fail;
    if (listen(l->fd, p->listen_backlog) == -1) {
        log_errno(LOG_ERR, "[pool %s] listen %s", p->name, p->listen);
        goto fail;
    }
    log_msg(LOG_INFO, "[pool %s] listening on %s", p->name, p->listen);
    return RC_OK;
fail:
    sockets_close(l, true);
    return RC_ERROR;
}

void
sockets_close(struct listener *l, bool remove_file)
{
    struct stat st;

    if (l == NULL)
        return;
    if (l->unix_path != NULL && remove_file && stat(l->unix_path, &st) == 0 &&
        st.st_dev == l->dev && st.st_ino == l->ino) {
        if (unlink(l->unix_path) == -1)
            log_errno(LOG_WARN, "removing %s", l->unix_path);
    }
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    free(l->addr);
    free(l->unix_path);
    l->addr = NULL;
    l->unix_path = NULL;
}

bool
sockets_match(const struct listener *l, const struct conf_pool *p)
{
    struct sockaddr_storage ss;
    socklen_t len;
    char err[256];

    if (l->sslen == 0 || conf_listen_parse(p->listen, &ss, &len, err, sizeof err) != RC_OK ||
        len != l->sslen || ss.ss_family != l->ss.ss_family)
        return false;
    switch (ss.ss_family) {
    case AF_UNIX:
        return strcmp(((struct sockaddr_un *)&ss)->sun_path,
                      ((const struct sockaddr_un *)&l->ss)->sun_path) == 0;
    case AF_INET: {
        const struct sockaddr_in *a = (const void *)&ss, *b = (const void *)&l->ss;
        return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
    }
    default: {
        const struct sockaddr_in6 *a = (const void *)&ss, *b = (const void *)&l->ss;
        return a->sin6_port == b->sin6_port &&
               memcmp(&a->sin6_addr, &b->sin6_addr, sizeof a->sin6_addr) == 0;
    }
    }
}

int
sockets_update(struct listener *l, const struct conf_pool *p)
{
    int rc = RC_OK;

    if (l->fd < 0)
        return RC_ERROR;
    /* listen() again on a listening socket only changes its backlog. */
    if (listen(l->fd, p->listen_backlog) == -1) {
        log_errno(LOG_WARN, "[pool %s] listen %s (new backlog)", p->name, p->listen);
        rc = RC_ERROR;
    }
    if (l->unix_path != NULL) {
        if (chmod(l->unix_path, (mode_t)p->listen_mode) == -1) {
            log_errno(LOG_WARN, "[pool %s] chmod %s", p->name, l->unix_path);
            rc = RC_ERROR;
        }
        if (privs_socket_owner(p, l->unix_path) != RC_OK)
            rc = RC_ERROR;
    }
    return rc;
}
