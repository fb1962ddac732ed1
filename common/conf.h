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
#include <sys/socket.h>

#include "buf.h"

struct conf_pool {
    char *name;
    int line;                   /* line of the section header (0: implicit) */

    /* sockets and processes */
    char *listen;               /* unix path or host:port */
    int listen_backlog;
    int listen_mode;            /* permissions of a unix socket file (e.g. 0660) */
    int workers;                /* workers per pool (static) */
    int threads;                /* request threads per worker; 0 = derived */
    int max_requests;           /* recycle a worker after N requests; 0 = never */
    char *listen_owner;         /* owner of a unix socket file; empty: the spawner's user */
    char *listen_group;         /* group of a unix socket file; empty: the spawner's group */
    char *user;                 /* run the workers as this user; empty: the spawner's */
    char *group;                /* and this group; empty: the user's primary group */
    int64_t max_memory;         /* recycle a worker above this PSS (bytes); 0 = never */
    int request_terminate_timeout; /* ms; kill a worker with a request this old; 0 = off */
    int liveness_timeout;       /* ms; kill a worker whose heartbeat is this old; 0 = off */
    int ready_timeout;          /* ms a replacement worker may take to become ready */

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
    int max_pdf_pages;          /* pages of one PDF; more: 413 output_too_large */
    int64_t max_output_size;    /* bytes of one PDF or image */
    int64_t max_screenshot_pixels; /* width x height of one screenshot, in device pixels */
    int64_t max_fetch_size;     /* bytes of one page body the fetch engine reads (decoded) */
    int extract_content_wait;   /* ms /extract waits after load for text in an empty body */
    int batch_max_items;        /* items of one /batch request */
    int batch_concurrency;      /* items of one /batch request running at once */

    /* URL policy */
    char *allow_networks;       /* CIDR list, may be empty */
    char *deny_networks;        /* CIDR list, may be empty */

    int *key_lines;             /* private: the line each key was set on (conf_key_line) */
};

struct conf_global {
    char *pid_file;             /* empty: none */
    char *error_log;            /* empty: stderr */
    char *log_level;            /* error|warn|info|debug */
    int shutdown_timeout;       /* ms allowed for graceful stop before TERM/KILL */
    int daemonize;              /* bool: the spawner detaches unless --foreground */
    char *worker_binary;        /* empty: rendercgi-worker beside the spawner */
    int emergency_restart_threshold; /* crashes within the interval that restart all; 0 = off */
    int emergency_restart_interval;  /* ms; 0 = off */
};

struct conf {
    char *path;                 /* file it was read from; NULL for built-in defaults */
    struct conf_global global;
    struct conf_pool *pools;
    size_t npools;
    int *global_lines;          /* private: the line each [global] key was set on */
};

/* The kinds of value a key takes. The C type of the field is given in
 * brackets; every string field is owned by the struct conf. */
enum conf_type {
    CONF_INT,    /* [int] whole number */
    CONF_MSEC,   /* [int] milliseconds: "250", "250ms" or "30s" */
    CONF_SIZE,   /* [int64_t] bytes: "512", "64K", "10M", "1G" (powers of 1024) */
    CONF_MODE,   /* [int] file permissions in octal: "0660" */
    CONF_BOOL,   /* [int] 0 or 1: yes|no, true|false, on|off, 1|0 */
    CONF_STRING, /* [char *] any text */
    CONF_PATH,   /* [char *] an absolute path, or empty */
    CONF_ENUM,   /* [char *] one of the row's 'choices' */
    CONF_CIDRS,  /* [char *] comma-separated network prefixes, may be empty */
    CONF_LISTEN, /* [char *] "/abs/path.sock", "host:port" or "[v6addr]:port" */
};

enum conf_scope { CONF_SCOPE_GLOBAL, CONF_SCOPE_POOL };

/* One row of the key table. */
struct conf_opt {
    const char *name;
    enum conf_type type;
    enum conf_scope scope;
    size_t offset;       /* of the field in struct conf_global or struct conf_pool */
    const char *def;     /* default, as text the parser accepts */
    int64_t min, max;    /* numeric types: inclusive range of the stored value */
    const char *choices; /* CONF_ENUM: "a|b|c" */
    const char *doc;     /* one line, for --list-keys and the docs check */
};

/* Fill 'c' with the built-in defaults: no file, one pool named "default".
 * RC_OK or RC_ERROR (out of memory). */
int conf_defaults(struct conf *c);
/* Read 'path' into 'c'. RC_OK; RC_INVALID with one line per problem appended
 * to 'errors' as "FILE:LINE: KEY: message\n" (c is then freed and zeroed);
 * RC_ERROR if the file cannot be read (also reported in 'errors'). */
int conf_load(const char *path, struct conf *c, struct buf *errors);
/* Release everything 'c' owns; 'c' is zeroed. NULL-safe. */
void conf_free(struct conf *c);
/* The pool called 'name', or NULL. Borrowed from 'c'. */
const struct conf_pool *conf_pool_find(const struct conf *c, const char *name);

/* The line of 'path' where 'key' was set: in pool 'p', or in [global] when
 * 'p' is NULL. A pool key the file does not set gives the line of the pool's
 * section header; 0 when there is no line to name (built-in defaults, the
 * implicit pool "default", a [global] key not in the file). For callers that
 * add their own checks and report them as "FILE:LINE: KEY: message". */
int conf_key_line(const struct conf *c, const struct conf_pool *p, const char *key);

/* The key table: every key there is, '*n' rows. Static; never free it. */
const struct conf_opt *conf_options(size_t *n);
/* The row for 'key', or NULL. */
const struct conf_opt *conf_option_find(const char *key);
/* "int", "msec", "size", … for listings. */
const char *conf_type_name(enum conf_type t);

/* Set 'key' from text exactly as a line of the file would, in every pool
 * (pool keys) or in [global] (global keys), then re-run the cross-key
 * checks. Used for command-line overrides. RC_OK, or RC_INVALID with
 * "ORIGIN: KEY: message\n" lines appended to 'errors' ('c' is then unchanged
 * if the value itself was bad, or holds the value if a cross-key rule failed
 * — callers treat RC_INVALID as fatal). */
int conf_override(struct conf *c, const char *key, const char *value, const char *origin,
                  struct buf *errors);
/* The cross-key rules (pages per browser, distinct listen addresses, …) over
 * a whole config; problems are reported as "ORIGIN: KEY: message". */
int conf_validate(const struct conf *c, const char *origin, struct buf *errors);

/* Write the current value of 'o' (of pool 'p', or of [global] when the row is
 * global and 'p' is ignored) as text the parser accepts. */
void conf_format_value(const struct conf *c, const struct conf_pool *p,
                       const struct conf_opt *o, char *buf, size_t len);
/* Append the effective configuration as an INI file to 'out', every key
 * spelled out. RC_OK or RC_TOO_LARGE/RC_ERROR from the buffer. */
int conf_print(const struct conf *c, struct buf *out);

/* Parse a listen address: an absolute unix socket path, "a.b.c.d:port",
 * "[v6addr]:port", "localhost:port" (127.0.0.1) or "*:port" (0.0.0.0).
 * Host names other than localhost are refused: the address must not depend
 * on DNS at start-up. Fills 'ss'/'len'; RC_OK, or RC_INVALID with a message
 * in 'err'. */
int conf_listen_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len, char *err,
                      size_t errlen);

#endif
