/* transport_pipe.c — CDP over --remote-debugging-pipe.
 *
 * Chromium reads commands from its fd 3 and writes replies and events to its
 * fd 4; every message is JSON text ended by one NUL byte. We hold the other
 * ends: 'rfd' (from the browser) and 'wfd' (to it). The transport owns both
 * fds, an eventfd used to wake pollers on shutdown, and the receive buffer.
 *
 * Both fds are non-blocking and every wait is a poll() that also watches the
 * eventfd, so shutdown() unblocks a receiver, and a sender stuck on a full
 * pipe to a hung browser, from any thread.
 *
 * SIGPIPE: a write to a pipe whose reader is gone raises SIGPIPE, and pipes
 * have no MSG_NOSIGNAL. rendercgi-worker ignores SIGPIPE process-wide (its
 * FastCGI sockets need that too), but the transport does not rely on it:
 * send() blocks SIGPIPE in the calling thread for the write and swallows the
 * one it raised, so a dead browser is RC_CLOSED in any program. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "log.h"
#include "rc.h"
#include "transport.h"

/* How much one read() asks for; CDP messages range from 50 bytes to tens of
 * megabytes (IO.read chunks), so big reads keep the syscall count down. */
#define PIPE_CHUNK (64 * 1024)

struct pipe_transport {
    struct transport base;
    int rfd, wfd, wakefd;
    size_t max_message;
    atomic_bool shut;
    pthread_mutex_t send_lock; /* one message at a time on wfd */
    /* Receiver-only state (one receiving thread). in.data[start..in.len)
     * is unconsumed input; in.data[start..scanned) is known to hold no NUL. */
    struct buf in;
    size_t start, scanned;
    bool dead; /* EOF, error or over-cap message seen: recv() says RC_CLOSED */
};

/* Wait until 'fd' is ready for 'events', the transport is shut down, or the
 * deadline passes. RC_OK, RC_CLOSED (shutdown), RC_TIMEOUT, RC_ERROR. */
static int
pipe_wait(struct pipe_transport *p, int fd, short events, int64_t deadline_ms)
{
    struct pollfd pfd[2] = {
        { .fd = fd, .events = events },
        { .fd = p->wakefd, .events = POLLIN },
    };

    for (;;) {
        int timeout = deadline_ms < 0 ? -1 : clock_left_ms(deadline_ms);
        int n = poll(pfd, 2, timeout);

        if (n == -1) {
            if (errno == EINTR)
                continue;
            log_errno(LOG_ERR, "transport pipe: poll");
            return RC_ERROR;
        }
        if (pfd[1].revents != 0 || atomic_load(&p->shut))
            return RC_CLOSED;
        /* POLLHUP and POLLERR count as ready: the read or write that
         * follows reports what happened (EOF, EPIPE). */
        if (pfd[0].revents != 0)
            return RC_OK;
        if (n == 0)
            return RC_TIMEOUT;
    }
}

/* Write all of 'iov' (modified in place). Called with send_lock held and
 * SIGPIPE blocked. */
static int
pipe_writev_all(struct pipe_transport *p, struct iovec *iov, int iovcnt)
{
    while (iovcnt > 0) {
        ssize_t n = writev(p->wfd, iov, iovcnt);
        int rc;

        if (n == -1) {
            if (errno == EINTR)
                continue;
            if (errno == EPIPE)
                return RC_CLOSED;
            if (errno != EAGAIN) {
                log_errno(LOG_ERR, "transport pipe: write");
                return RC_ERROR;
            }
            if ((rc = pipe_wait(p, p->wfd, POLLOUT, -1)) != RC_OK)
                return rc;
            continue;
        }
        while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
            n -= (ssize_t)iov->iov_len;
            iov++;
            iovcnt--;
        }
        if (iovcnt > 0) {
            iov->iov_base = (char *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
    return RC_OK;
}

static int
pipe_send(struct transport *t, const char *msg, size_t len)
{
    struct pipe_transport *p = (struct pipe_transport *)t;
    struct iovec iov[2] = {
        { .iov_base = (void *)msg, .iov_len = len },
        { .iov_base = "", .iov_len = 1 }, /* the NUL that ends a message */
    };
    sigset_t pipe_set, old_set, pending;
    bool was_pending;
    int rc;

    if (len > p->max_message)
        return RC_TOO_LARGE;
    if (atomic_load(&p->shut))
        return RC_CLOSED;

    /* Block SIGPIPE in this thread; if our write raises one, take it off
     * the pending set before unblocking, unless one was already pending
     * for some other reason. */
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
    sigpending(&pending);
    was_pending = sigismember(&pending, SIGPIPE) == 1;

    pthread_mutex_lock(&p->send_lock);
    rc = pipe_writev_all(p, iov, 2);
    pthread_mutex_unlock(&p->send_lock);

    if (rc == RC_CLOSED && !was_pending) {
        const struct timespec zero = { 0, 0 };
        while (sigtimedwait(&pipe_set, NULL, &zero) == -1 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &old_set, NULL);
    return rc;
}

/* Move the next whole message from the input buffer into 'out'. RC_OK,
 * RC_NOT_FOUND when no whole message is buffered yet, RC_TOO_LARGE. */
static int
pipe_take_message(struct pipe_transport *p, struct buf *out)
{
    char *nul = memchr(p->in.data + p->scanned, '\0', p->in.len - p->scanned);
    size_t len;
    int rc;

    if (nul == NULL) {
        p->scanned = p->in.len;
        return p->in.len - p->start > p->max_message ? RC_TOO_LARGE : RC_NOT_FOUND;
    }
    len = (size_t)(nul - (p->in.data + p->start));
    if (len > p->max_message)
        return RC_TOO_LARGE;
    buf_reset(out);
    if ((rc = buf_append(out, p->in.data + p->start, len)) != RC_OK)
        return rc;
    p->start += len + 1;
    p->scanned = p->start;
    if (p->start == p->in.len) {
        buf_reset(&p->in);
        p->start = p->scanned = 0;
    }
    return RC_OK;
}

static int
pipe_recv(struct transport *t, struct buf *out, int64_t deadline_ms)
{
    struct pipe_transport *p = (struct pipe_transport *)t;
    int rc;

    if (p->dead || atomic_load(&p->shut))
        return RC_CLOSED;
    for (;;) {
        ssize_t n;

        if (p->in.len > 0) {
            rc = pipe_take_message(p, out);
            if (rc != RC_NOT_FOUND)
                break;
        }
        /* Only a partial message is left: move it to the front, so the
         * buffer never holds more than one message plus one read. */
        if (p->start > 0) {
            buf_consume(&p->in, p->start);
            p->scanned -= p->start;
            p->start = 0;
        }
        if ((rc = buf_reserve(&p->in, PIPE_CHUNK)) != RC_OK) {
            if (rc == RC_ERROR)
                log_msg(LOG_ERR, "transport pipe: out of memory");
            break;
        }
        if ((rc = pipe_wait(p, p->rfd, POLLIN, deadline_ms)) != RC_OK)
            return rc; /* RC_TIMEOUT, RC_CLOSED or RC_ERROR: state intact */
        n = read(p->rfd, p->in.data + p->in.len, PIPE_CHUNK);
        if (n == 0) {
            rc = RC_CLOSED;
            break;
        }
        if (n == -1) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            log_errno(LOG_ERR, "transport pipe: read");
            rc = RC_ERROR;
            break;
        }
        p->in.len += (size_t)n;
        p->in.data[p->in.len] = '\0';
    }
    if (rc != RC_OK)
        p->dead = true;
    return rc;
}

static void
pipe_shutdown(struct transport *t)
{
    struct pipe_transport *p = (struct pipe_transport *)t;
    uint64_t one = 1;

    /* The eventfd is never drained: once written, every poll sees it. */
    atomic_store(&p->shut, true);
    if (write(p->wakefd, &one, sizeof(one)) == -1 && errno != EAGAIN)
        log_errno(LOG_ERR, "transport pipe: eventfd write");
}

static void
pipe_free(struct transport *t)
{
    struct pipe_transport *p = (struct pipe_transport *)t;

    close(p->rfd);
    close(p->wfd);
    close(p->wakefd);
    pthread_mutex_destroy(&p->send_lock);
    buf_free(&p->in);
    free(p);
}

static const struct transport_ops pipe_ops = {
    .send = pipe_send,
    .recv = pipe_recv,
    .shutdown = pipe_shutdown,
    .free = pipe_free,
};

static int
fd_set_nonblock(int fd)
{
    int flags = fcntl(fd, F_GETFL);

    if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
        log_errno(LOG_ERR, "transport pipe: fcntl(%d, O_NONBLOCK)", fd);
        return RC_ERROR;
    }
    return RC_OK;
}

struct transport *
transport_pipe_new(int read_fd, int write_fd, size_t max_message)
{
    struct pipe_transport *p = NULL;
    int wakefd = -1;

    if (fd_set_nonblock(read_fd) != RC_OK || fd_set_nonblock(write_fd) != RC_OK)
        goto fail;
    if ((wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
        log_errno(LOG_ERR, "transport pipe: eventfd");
        goto fail;
    }
    if ((p = calloc(1, sizeof(*p))) == NULL) {
        log_msg(LOG_ERR, "transport pipe: out of memory");
        goto fail;
    }
    if (pthread_mutex_init(&p->send_lock, NULL) != 0) {
        log_msg(LOG_ERR, "transport pipe: pthread_mutex_init failed");
        goto fail;
    }
    /* Room for one whole message plus the read that completes it. */
    if (max_message > SIZE_MAX / 2)
        max_message = SIZE_MAX / 2;
    p->base.ops = &pipe_ops;
    p->rfd = read_fd;
    p->wfd = write_fd;
    p->wakefd = wakefd;
    p->max_message = max_message;
    atomic_init(&p->shut, false);
    buf_init(&p->in, max_message + PIPE_CHUNK);
    return &p->base;
fail:
    free(p);
    if (wakefd != -1)
        close(wakefd);
    if (read_fd != -1)
        close(read_fd);
    if (write_fd != -1)
        close(write_fd);
    return NULL;
}
