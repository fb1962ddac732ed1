/* sockets.h — a pool's listening socket, created by the spawner and handed
 * to every worker of the pool on fd 0 (FCGI_LISTENSOCK_FILENO).
 *
 * The spawner owns the socket for its whole life: workers come and go, the
 * socket stays, so no connection is refused while a worker restarts. */
#ifndef RCGI_SPAWNER_SOCKETS_H
#define RCGI_SPAWNER_SOCKETS_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "conf.h"

struct listener {
    int fd;          /* -1 when closed; close-on-exec in the spawner */
    char *addr;      /* the address as configured, for logs */
    char *unix_path; /* unix socket file we created, or NULL (TCP) */
    dev_t dev;       /* identity of that file, so we never remove a */
    ino_t ino;       /* socket another process put there since */
    struct sockaddr_storage ss; /* the bound address, to find it again on reload */
    socklen_t sslen;
    int refs;        /* pools running on it (the master's bookkeeping) */
    struct listener *next;
};

/* An empty listener (fd -1, no strings), safe to sockets_close(). */
void sockets_init(struct listener *l);
/* Create, bind and listen on the pool's 'listen' address: a unix socket
 * (a stale socket file nobody accepts on is removed first; a live one or a
 * non-socket file is an error) with permissions listen_mode and owner
 * listen_owner:listen_group, or TCP with SO_REUSEADDR (IPv6 sockets are
 * v6-only). RC_OK or RC_ERROR (logged). */
int sockets_open(const struct conf_pool *p, struct listener *l);
/* Close the socket and, if 'remove_file', remove the unix socket file when
 * it is still the one we created. NULL-safe; idempotent. 'refs' and 'next'
 * are left alone. */
void sockets_close(struct listener *l, bool remove_file);

/* Is 'l' bound to the pool's 'listen' address (the same socket address,
 * however it is spelled)? */
bool sockets_match(const struct listener *l, const struct conf_pool *p);
/* A listener kept across a reload takes the pool's new listen_mode,
 * listen_owner, listen_group and listen_backlog. RC_OK or RC_ERROR
 * (logged; the socket keeps serving as it was). */
int sockets_update(struct listener *l, const struct conf_pool *p);

#endif
