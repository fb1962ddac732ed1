/* conf.h — rendercgi.conf: INI in the style of php-fpm.conf.
 *
 * "[global]" holds spawner-wide settings; every other "[NAME]" section is a
 * pool; keys before any section belong to the pool "default". Comments start
 * with ';' or '#'. Durations are ms or take ms|s; sizes take K|M|G; lists are
 * comma-separated. Parsing is table-driven (conf.c): one row per key gives
 * its type, default and range, and the same table drives --test-config and
 * the documentation check.
 *
 * A struct conf owns every string in it; conf_free() releases them. */
#ifndef RCGI_CONF_H
#define RCGI_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct conf_pool {
    char *name;
    int line;                   /* line of the section header (0: implicit) */

    /* sockets and processes */
    char *listen;               /* unix path or host:port */
    int listen_backlog;
    int workers;                /* workers per pool (static) */
    int threads;                /* request threads per worker; 0 = derived */
    int max_requests;           /* recycle a worker after N requests; 0 = never */

    /* browsers */
    char *chromium;             /* path of the Chromium binary */
    int browsers;               /* per worker; 0 = fetch-only worker */
    int pages_per_browser;      /* page slots per browser */
    int queue_max;              /* requests waiting for a slot before 503 */
    int browser_max_pages;      /* recycle a browser after N pages; 0 = never */
    int64_t browser_max_memory; /* recycle a browser above this PSS (bytes); 0 = never */

    /* requests */
    int request_timeout;        /* ms; default and cap of the 'timeout' option */
    int64_t max_body;           /* bytes of request body accepted */

    /* URL policy */
    char *allow_networks;       /* CIDR list, may be empty */
    char *deny_networks;        /* CIDR list, may be empty */
};

struct conf_global {
    char *pid_file;             /* empty: none */
    char *error_log;            /* empty: stderr */
    char *log_level;            /* error|warn|info|debug */
    int shutdown_timeout;       /* ms allowed for graceful stop before TERM/KILL */
};

struct conf {
    char *path;                 /* file it was read from; NULL for built-in defaults */
    struct conf_global global;
    struct conf_pool *pools;
    size_t npools;
};

/* Fill 'c' with the built-in defaults: no file, one pool named "default". */
int conf_defaults(struct conf *c);
/* Read 'path' into 'c'. RC_OK; RC_INVALID with one line per problem appended
 * to 'errors' as "FILE:LINE: KEY: message\n" (c is then freed and zeroed);
 * RC_ERROR if the file cannot be read (also reported in 'errors'). */
int conf_load(const char *path, struct conf *c, struct buf *errors);
/* Release everything 'c' owns; 'c' is zeroed. NULL-safe. */
void conf_free(struct conf *c);
/* The pool called 'name', or NULL. Borrowed from 'c'. */
const struct conf_pool *conf_pool_find(const struct conf *c, const char *name);

#endif
