/* fcgi.c — FastCGI over libfcgi; see fcgi.h.
 *
 * The only file that includes fcgiapp.h. Each request thread owns one
 * struct fcgi_conn; nothing here is shared between threads but libfcgi's own
 * global state, initialised once by fcgi_init(). */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "fcgi.h"
#include "log.h"
#include "rc.h"

struct fcgi_conn {
    FCGX_Request req;
    int accepted;
};

int
fcgi_init(void)
{
    if (FCGX_Init() != 0) {
        log_msg(LOG_ERR, "fcgi: FCGX_Init failed");
        return RC_ERROR;
    }
    return RC_OK;
}

static int
fd_is_socket(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

int
fcgi_listen_socket(const char *listen, int backlog, int *fd)
{
    const char *lfds = getenv("LISTEN_FDS"), *lpid = getenv("LISTEN_PID");

    if (listen != NULL && listen[0] != '\0') {
        /* FCGX_OpenSocket wants ":PORT" or "HOST:PORT" or a path. */
        if ((*fd = FCGX_OpenSocket(listen, backlog)) < 0) {
            log_errno(LOG_ERR, "fcgi: cannot listen on %s", listen);
            return RC_ERROR;
        }
        return RC_OK;
    }
    /* systemd socket activation passes the socket as fd 3. */
    if (lfds != NULL && lpid != NULL && atol(lpid) == (long)getpid() && atoi(lfds) >= 1) {
        if (!fd_is_socket(3)) {
            log_msg(LOG_ERR, "fcgi: LISTEN_FDS is set but fd 3 is not a socket");
            return RC_ERROR;
        }
        *fd = 3;
        return RC_OK;
    }
    if (!fd_is_socket(0)) {
        log_msg(LOG_ERR, "fcgi: fd 0 is not a listening socket; start me from a FastCGI "
                         "spawner or give --listen PATH|HOST:PORT");
        return RC_ERROR;
    }
    *fd = 0;
    return RC_OK;
}

void
fcgi_shutdown_pending(void)
{
    FCGX_ShutdownPending();
}

struct fcgi_conn *
fcgi_conn_new(int listen_fd)
{
    struct fcgi_conn *c = calloc(1, sizeof *c);

    if (c == NULL)
        return NULL;
    /* FAIL_ACCEPT_ON_INTR: a signal sent to this thread interrupts accept(),
     * which is how a graceful stop wakes the request threads. */
    if (FCGX_InitRequest(&c->req, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
        free(c);
        return NULL;
    }
    return c;
}

void
fcgi_conn_free(struct fcgi_conn *c)
{
    if (c == NULL)
        return;
    fcgi_finish(c);
    FCGX_Free(&c->req, 0);
    free(c);
}

int
fcgi_accept(struct fcgi_conn *c)
{
    c->accepted = 0;
    if (FCGX_Accept_r(&c->req) < 0)
        return RC_CLOSED;
    c->accepted = 1;
    return RC_OK;
}

const char *
fcgi_param(struct fcgi_conn *c, const char *name)
{
    return FCGX_GetParam(name, c->req.envp);
}

size_t
fcgi_read(struct fcgi_conn *c, char *buf, size_t n)
{
    int got = FCGX_GetStr(buf, n > INT32_MAX ? INT32_MAX : (int)n, c->req.in);
    return got > 0 ? (size_t)got : 0;
}

int
fcgi_write(struct fcgi_conn *c, const void *data, size_t n)
{
    const char *p = data;

    while (n > 0) {
        int chunk = n > (1 << 20) ? (1 << 20) : (int)n;
        if (FCGX_PutStr(p, chunk, c->req.out) != chunk)
            return RC_CLOSED;
        p += chunk;
        n -= (size_t)chunk;
    }
    return RC_OK;
}

int
fcgi_flush(struct fcgi_conn *c)
{
    return FCGX_FFlush(c->req.out) == 0 ? RC_OK : RC_CLOSED;
}

int
fcgi_conn_fd(struct fcgi_conn *c)
{
    return c->accepted ? c->req.ipcFd : -1;
}

int
fcgi_fd_closed(int fd)
{
    struct pollfd pfd = { .fd = fd, .events = POLLRDHUP, .revents = 0 };

    return fd >= 0 && poll(&pfd, 1, 0) == 1 &&
           (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

void
fcgi_abort(struct fcgi_conn *c)
{
    if (c->accepted && c->req.ipcFd >= 0)
        shutdown(c->req.ipcFd, SHUT_RDWR);
}

void
fcgi_finish(struct fcgi_conn *c)
{
    if (c->accepted) {
        FCGX_Finish_r(&c->req);
        c->accepted = 0;
    }
}
