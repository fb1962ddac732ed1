/* confgen.h — the spawner's configuration: the file, the command-line
 * overrides on top, and the checks only the spawner can make (users,
 * groups, who it runs as).
 *
 * Used the same way at start, by --test-config and on SIGHUP, so a reload
 * applies the same overrides and refuses what a start would refuse. A
 * loaded configuration is held in a reference-counted 'confgen': the pools
 * started from it keep it alive while they drain after a reload. */
#ifndef RCGI_SPAWNER_CONFGEN_H
#define RCGI_SPAWNER_CONFGEN_H

#include "buf.h"
#include "conf.h"

/* Command-line values that override the file, NULL when not given. */
struct overrides {
    const char *config;  /* -c FILE; NULL: the default file if it exists */
    const char *pidfile; /* --pidfile, made absolute by the caller */
    const char *workers; /* --workers, in every pool */
    const char *listen;  /* --listen, for a one-pool config */
};

struct confgen {
    struct conf conf;
    int refs;
    unsigned id; /* 1 for the first, +1 per reload, for logs */
};

/* Load 'path' (NULL: built-in defaults), apply 'o' and check the spawner's
 * rules. RC_OK with *out a new confgen holding one reference; RC_INVALID or
 * RC_ERROR with one line per problem in 'errors' ("FILE:LINE: KEY: message",
 * "command line: KEY: message"). */
int confgen_load(const char *path, const struct overrides *o, struct confgen **out,
                struct buf *errors);
/* Take or drop a reference; the last one frees it. NULL-safe. */
struct confgen *confgen_ref(struct confgen *g);
void confgen_unref(struct confgen *g);

#endif
