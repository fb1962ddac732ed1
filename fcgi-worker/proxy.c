/* proxy.c — the policy proxy: a SOCKS5 server on loopback that checks every
 * connection of the worker's browsers against the URL policy; see proxy.h.
 *
 * The proxy owns its listening socket, one acceptor thread and one thread
 * per connection (each owning its two sockets). proxy_stop() shuts every
 * connection's sockets down, which ends its relay loop, and waits for the
 * threads. Only CONNECT with no authentication is spoken (RFC 1928): what
 * Chromium's SOCKS5 client sends. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "policy.h"
#include "proxy.h"
#include "rc.h"

#define HANDSHAKE_MS 10000     /* greeting and request from the browser */
#define CONNECT_MS 10000       /* connecting to the target, per address */
#define MAX_ADDRS 16           /* addresses of one name we try to connect to */
#define RELAY_BUF 16384

enum socks_reply {
    SOCKS_OK = 0, SOCKS_FAILURE = 1, SOCKS_NOT_ALLOWED = 2, SOCKS_HOST_UNREACHABLE = 4,
    SOCKS_REFUSED = 5, SOCKS_BAD_COMMAND = 7, SOCKS_BAD_ADDRESS = 8,
};

struct refusal {
    int64_t at_ms;
    char host[256];
    char why[600];
};

struct conn {
    struct proxy *px;
    int index;                  /* in px->conns */
    int client, upstream;       /* -1 when closed */
};

struct proxy {
    const struct policy *pol;
    int listen_fd;
    int port;
    pthread_t acceptor;
    int acceptor_started;
    pthread_mutex_t mu;
    pthread_cond_t idle;        /* nconns dropped */
    atomic_int stopping;
    int nconns;
    struct conn *conns[PROXY_MAX_CONNS];
    struct refusal refusals[PROXY_REFUSALS];
    int next_refusal;
};

int
proxy_parse_connect(const unsigned char *msg, size_t len, char *host, size_t hostlen, int *port,
                    size_t *used, int *reply)
{
    size_t need;

    *reply = SOCKS_FAILURE;
    if (len < 5)
        return RC_DECLINED;
    if (msg[0] != 5 || msg[2] != 0)
        return RC_INVALID;
    if (msg[1] != 1) {          /* only CONNECT: no BIND, no UDP ASSOCIATE */
        *reply = SOCKS_BAD_COMMAND;
        return RC_INVALID;
    }
    switch (msg[3]) {
    case 1: need = 4 + 4 + 2; break;
    case 4: need = 4 + 16 + 2; break;
    case 3: need = 4 + 1 + (size_t)msg[4] + 2; break;
    default:
        *reply = SOCKS_BAD_ADDRESS;
        return RC_INVALID;
    }
    if (len < need)
        return RC_DECLINED;
    if (msg[3] == 1) {
        if (inet_ntop(AF_INET, msg + 4, host, (socklen_t)hostlen) == NULL)
            return RC_INVALID;
    } else if (msg[3] == 4) {
        if (inet_ntop(AF_INET6, msg + 4, host, (socklen_t)hostlen) == NULL)
            return RC_INVALID;
    } else {
        size_t n = msg[4];
        if (n == 0 || n >= hostlen || memchr(msg + 5, '\0', n) != NULL)
            return RC_INVALID;
        memcpy(host, msg + 5, n);
        host[n] = '\0';
        /* An IPv6 literal may come as a name in brackets. */
        if (host[0] == '[' && host[n - 1] == ']') {
            memmove(host, host + 1, n - 2);
            host[n - 2] = '\0';
        }
    }
    *port = msg[need - 2] << 8 | msg[need - 1];
    *used = need;
    *reply = SOCKS_OK;
    return RC_OK;
}

/* Read at least 'want' bytes into buf[*have..max) before 'deadline_ms'. */
static int
read_some(int fd, unsigned char *buf, size_t max, size_t *have, size_t want, int64_t deadline_ms)
{
    while (*have < want) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int64_t left = deadline_ms - clock_ms();
        ssize_t n;

        if (left <= 0)
            return RC_TIMEOUT;
        if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
            return RC_ERROR;
        n = read(fd, buf + *have, max - *have);
        if (n == 0)
            return RC_CLOSED;
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return RC_ERROR;
        }
        *have += (size_t)n;
    }
    return RC_OK;
}

static int
write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd pfd = { .fd = fd, .events = POLLOUT };
                poll(&pfd, 1, 1000);
                continue;
            }
            return RC_ERROR;
        }
        p += n;
        len -= (size_t)n;
    }
    return RC_OK;
}

static void
send_reply(int fd, int code)
{
    /* BND.ADDR 0.0.0.0:0: Chromium does not look at it. */
    unsigned char r[10] = { 5, (unsigned char)code, 0, 1, 0, 0, 0, 0, 0, 0 };

    write_all(fd, r, sizeof r);
}

static void
remember_refusal(struct proxy *px, const char *host, const char *why)
{
    struct refusal *r;

    pthread_mutex_lock(&px->mu);
    r = &px->refusals[px->next_refusal];
    px->next_refusal = (px->next_refusal + 1) % PROXY_REFUSALS;
    r->at_ms = clock_ms();
    snprintf(r->host, sizeof r->host, "%s", host);
    snprintf(r->why, sizeof r->why, "%s", why);
    pthread_mutex_unlock(&px->mu);
}

int
proxy_refusal(struct proxy *px, const char *host, int64_t since_ms, char *why, size_t whylen)
{
    int rc = RC_NOT_FOUND;
    int64_t best = since_ms - 1;

    if (px == NULL)
        return RC_NOT_FOUND;
    pthread_mutex_lock(&px->mu);
    for (int i = 0; i < PROXY_REFUSALS; i++) {
        const struct refusal *r = &px->refusals[i];
        if (r->at_ms > best && r->at_ms >= since_ms && strcmp(r->host, host) == 0) {
            best = r->at_ms;
            snprintf(why, whylen, "%s", r->why);
            rc = RC_OK;
        }
    }
    pthread_mutex_unlock(&px->mu);
    return rc;
}

/* Connect to 'sa' (an address the policy passed) on 'port'; -1 on failure. */
static int
connect_one(const struct sockaddr *sa, int port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd;
    struct pollfd pfd;
    int err = 0, one = 1;
    socklen_t elen = sizeof err;

    memset(&ss, 0, sizeof ss);
    if (sa->sa_family == AF_INET) {
        len = sizeof(struct sockaddr_in);
        memcpy(&ss, sa, len);
        ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
    } else if (sa->sa_family == AF_INET6) {
        len = sizeof(struct sockaddr_in6);
        memcpy(&ss, sa, len);
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
    } else {
        return -1;
    }
    if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS)
        goto fail;
    pfd.fd = fd;
    pfd.events = POLLOUT;
    if (poll(&pfd, 1, CONNECT_MS) != 1)
        goto fail;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err != 0)
        goto fail;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
fail:
    close(fd);
    return -1;
}

/* Copy both ways until both sides are done, an error, or the proxy
 * stops. A half-close (EOF one way) is passed on with shutdown(SHUT_WR). */
static void
relay(struct conn *c)
{
    unsigned char buf[RELAY_BUF];
    int open[2] = { 1, 1 };            /* client→upstream, upstream→client */
    const int from[2] = { c->client, c->upstream }, to[2] = { c->upstream, c->client };

    while ((open[0] || open[1]) && !atomic_load(&c->px->stopping)) {
        struct pollfd pfd[2] = {
            { .fd = open[0] ? from[0] : -1, .events = POLLIN },
            { .fd = open[1] ? from[1] : -1, .events = POLLIN },
        };
        if (poll(pfd, 2, 1000) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        for (int i = 0; i < 2; i++) {
            ssize_t n;

            if (pfd[i].revents == 0)
                continue;
            n = read(from[i], buf, sizeof buf);
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (n < 0 || (n > 0 && write_all(to[i], buf, (size_t)n) != RC_OK))
                return;
            if (n == 0) {
                shutdown(to[i], SHUT_WR);
                open[i] = 0;
            }
        }
    }
}

static void
serve(struct conn *c)
{
    struct proxy *px = c->px;
    unsigned char msg[600];
    size_t have = 0, used = 0;
    int64_t deadline = clock_ms() + HANDSHAKE_MS;
    char host[256], why[600];
    struct policy_addrs addrs;
    int port = 0, reply, tries = 0, rc;

    /* Greeting: VER NMETHODS METHODS…; we take "no authentication". The
     * request may already follow it in the same read. */
    if (read_some(c->client, msg, sizeof msg, &have, 2, deadline) != RC_OK || msg[0] != 5)
        return;
    size_t greeting = 2 + (size_t)msg[1];
    if (read_some(c->client, msg, sizeof msg, &have, greeting, deadline) != RC_OK)
        return;
    if (memchr(msg + 2, 0, greeting - 2) == NULL) {
        write_all(c->client, "\x05\xff", 2);
        return;
    }
    if (write_all(c->client, "\x05\x00", 2) != RC_OK)
        return;
    memmove(msg, msg + greeting, have - greeting);
    have -= greeting;

    while ((rc = proxy_parse_connect(msg, have, host, sizeof host, &port, &used, &reply)) ==
           RC_DECLINED)
        if (read_some(c->client, msg, sizeof msg, &have, have + 1, deadline) != RC_OK)
            return;
    if (rc != RC_OK) {
        send_reply(c->client, reply);
        return;
    }
    if (have > used)            /* Chromium waits for our reply: never */
        return;

    /* Resolved and judged as policy_check_url does; then only the
     * addresses judged are connected to. */
    if (policy_resolve(host, &addrs, why, sizeof why) != RC_OK) {
        /* Debug: Chromium's own background requests end here too. */
        log_msg(LOG_DEBUG, "proxy: %s:%d: %s", host, port, why);
        send_reply(c->client, SOCKS_HOST_UNREACHABLE);
        return;
    }
    if ((rc = policy_check_addrinfo(px->pol, host, addrs.list, why, sizeof why)) != RC_OK) {
        policy_addrs_free(&addrs);
        if (rc == RC_NOT_FOUND) {
            log_msg(LOG_DEBUG, "proxy: %s:%d: %s", host, port, why);
            send_reply(c->client, SOCKS_HOST_UNREACHABLE);
            return;
        }
        log_msg(LOG_INFO, "proxy: refused %s:%d: %s", host, port, why);
        remember_refusal(px, host, why);
        send_reply(c->client, SOCKS_NOT_ALLOWED);
        return;
    }
    for (const struct addrinfo *ai = addrs.list;
         ai != NULL && c->upstream < 0 && tries < MAX_ADDRS; ai = ai->ai_next, tries++)
        c->upstream = connect_one(ai->ai_addr, port);
    policy_addrs_free(&addrs);
    if (c->upstream < 0) {
        send_reply(c->client, SOCKS_REFUSED);
        return;
    }
    if (atomic_load(&px->stopping))
        return;
    send_reply(c->client, SOCKS_OK);
    relay(c);
}

static void *
conn_main(void *arg)
{
    struct conn *c = arg;
    struct proxy *px = c->px;

    serve(c);
    pthread_mutex_lock(&px->mu);
    px->conns[c->index] = NULL;
    px->nconns--;
    close(c->client);
    if (c->upstream >= 0)
        close(c->upstream);
    pthread_cond_broadcast(&px->idle);
    pthread_mutex_unlock(&px->mu);
    free(c);
    return NULL;
}

static void *
acceptor_main(void *arg)
{
    struct proxy *px = arg;

    for (;;) {
        int fd = accept4(px->listen_fd, NULL, NULL, SOCK_CLOEXEC), slot = -1, one = 1;
        struct conn *c;
        pthread_attr_t attr;
        pthread_t t;

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (atomic_load(&px->stopping))
                return NULL;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                log_errno(LOG_WARN, "proxy: accept");
                usleep(10000);
                continue;
            }
            log_errno(LOG_ERR, "proxy: accept failed; the proxy stops");
            return NULL;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_mutex_lock(&px->mu);
        if (!atomic_load(&px->stopping))
            for (int i = 0; i < PROXY_MAX_CONNS && slot < 0; i++)
                if (px->conns[i] == NULL)
                    slot = i;
        c = slot >= 0 ? calloc(1, sizeof *c) : NULL;
        if (c != NULL) {
            c->px = px;
            c->index = slot;
            c->client = fd;
            c->upstream = -1;
            px->conns[slot] = c;
            px->nconns++;
        }
        pthread_mutex_unlock(&px->mu);
        if (c == NULL) {
            if (slot < 0)
                log_msg(LOG_WARN, "proxy: %d connections open; refusing another",
                        PROXY_MAX_CONNS);
            close(fd);
            continue;
        }
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        /* getaddrinfo and its NSS modules may take tens of KiB of stack. */
        pthread_attr_setstacksize(&attr, 512 * 1024);
        if (pthread_create(&t, &attr, conn_main, c) != 0) {
            log_errno(LOG_WARN, "proxy: cannot start a connection thread");
            pthread_mutex_lock(&px->mu);
            px->conns[slot] = NULL;
            px->nconns--;
            pthread_mutex_unlock(&px->mu);
            close(fd);
            free(c);
        }
        pthread_attr_destroy(&attr);
    }
}

int
proxy_start(const struct policy *pol, struct proxy **out, char *err, size_t errlen)
{
    struct proxy *px = calloc(1, sizeof *px);
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;

    if (px == NULL) {
        snprintf(err, errlen, "out of memory");
        return RC_ERROR;
    }
    px->pol = pol;
    px->listen_fd = -1;
    pthread_mutex_init(&px->mu, NULL);
    clock_cond_init(&px->idle);
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((px->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        bind(px->listen_fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
        listen(px->listen_fd, 128) < 0 ||
        getsockname(px->listen_fd, (struct sockaddr *)&sin, &len) < 0) {
        snprintf(err, errlen, "cannot listen on 127.0.0.1: %s", strerror(errno));
        proxy_stop(px);
        return RC_ERROR;
    }
    px->port = ntohs(sin.sin_port);
    if (pthread_create(&px->acceptor, NULL, acceptor_main, px) != 0) {
        snprintf(err, errlen, "cannot start the proxy thread");
        proxy_stop(px);
        return RC_ERROR;
    }
    px->acceptor_started = 1;
    *out = px;
    return RC_OK;
}

int
proxy_port(const struct proxy *px)
{
    return px->port;
}

void
proxy_stop(struct proxy *px)
{
    struct timespec ts;

    if (px == NULL)
        return;
    atomic_store(&px->stopping, 1);
    if (px->listen_fd >= 0)
        shutdown(px->listen_fd, SHUT_RDWR);   /* wakes accept() */
    if (px->acceptor_started)
        pthread_join(px->acceptor, NULL);
    if (px->listen_fd >= 0)
        close(px->listen_fd);

    /* End every relay; each thread closes its own sockets. */
    clock_deadline_timespec(clock_ms() + 5000, &ts);
    pthread_mutex_lock(&px->mu);
    for (int i = 0; i < PROXY_MAX_CONNS; i++)
        if (px->conns[i] != NULL) {
            shutdown(px->conns[i]->client, SHUT_RDWR);
            if (px->conns[i]->upstream >= 0)
                shutdown(px->conns[i]->upstream, SHUT_RDWR);
        }
    while (px->nconns > 0)
        if (pthread_cond_timedwait(&px->idle, &px->mu, &ts) != 0)
            break;
    int left = px->nconns;
    pthread_mutex_unlock(&px->mu);
    if (left > 0) {
        /* A thread stuck in getaddrinfo: it still holds px. */
        log_msg(LOG_WARN, "proxy: %d connection threads did not end; leaving them", left);
        return;
    }
    pthread_cond_destroy(&px->idle);
    pthread_mutex_destroy(&px->mu);
    free(px);
}
