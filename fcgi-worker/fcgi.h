/* fcgi.h — the worker's FastCGI connection, over libfcgi.
 *
 * fcgi.c is the only file that includes fcgiapp.h. A struct fcgi_conn is one
 * request thread's connection object: accept a request, read its params and
 * body, write the response, finish, repeat. */
#ifndef RCGI_FCGI_H
#define RCGI_FCGI_H

#include <stddef.h>

struct fcgi_conn;

/* Initialise libfcgi once, before any thread starts. RC_OK or RC_ERROR. */
int fcgi_init(void);
/* The listening socket: 'listen' ("PATH", "HOST:PORT" or ":PORT") opens a
 * new one; NULL means the one we were given — systemd's LISTEN_FDS (fd 3) if
 * set for us, else fd 0 (FCGI_LISTENSOCK_FILENO). RC_OK and *fd, or RC_ERROR
 * with the reason logged (e.g. fd 0 is not a socket). */
int fcgi_listen_socket(const char *listen, int backlog, int *fd);
/* Tell libfcgi that accept loops should end (graceful stop). */
void fcgi_shutdown_pending(void);

/* A new connection object accepting on 'listen_fd'; NULL on ENOMEM. */
struct fcgi_conn *fcgi_conn_new(int listen_fd);
void fcgi_conn_free(struct fcgi_conn *c);
/* Wait for the next request (finishing the previous one). RC_OK, or
 * RC_CLOSED when accept failed or was interrupted (the caller decides
 * whether it is stopping). */
int fcgi_accept(struct fcgi_conn *c);
/* A CGI/FastCGI parameter of the current request, or NULL. Borrowed. */
const char *fcgi_param(struct fcgi_conn *c, const char *name);
/* Read up to 'n' body bytes; returns the count, 0 at the end of the body. */
size_t fcgi_read(struct fcgi_conn *c, char *buf, size_t n);
/* Write response bytes (headers and body alike). RC_OK, or RC_CLOSED when the
 * web server has gone away. */
int fcgi_write(struct fcgi_conn *c, const void *data, size_t n);
/* Push buffered output to the web server now. RC_OK or RC_CLOSED. */
int fcgi_flush(struct fcgi_conn *c);
/* The socket of the current request's connection to the web server, to
 * notice it closing (the client went away); -1 if none. */
int fcgi_conn_fd(struct fcgi_conn *c);
/* Has the web server closed connection 'fd' (the client went away: nginx
 * closes its FastCGI connection then)? Never blocks; -1 is never closed. */
int fcgi_fd_closed(int fd);
/* Break the connection of a response that cannot be completed (an error
 * after the headers went out), so that the web server sees it cut short
 * rather than a complete response. */
void fcgi_abort(struct fcgi_conn *c);
/* End the current request (also done by the next fcgi_accept). */
void fcgi_finish(struct fcgi_conn *c);

#endif
