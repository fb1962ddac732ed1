/* confgen.c — loading the spawner's configuration; see confgen.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confgen.h"
#include "privs.h"
#include "rc.h"

static unsigned next_id = 1;

int
confgen_load(const char *path, const struct overrides *o, struct confgen **out,
            struct buf *errors)
{
    struct confgen *g;
    int rc;

    *out = NULL;
    if ((g = calloc(1, sizeof *g)) == NULL) {
        buf_puts(errors, "rendercgi-spawner: out of memory\n");
        return RC_ERROR;
    }
    rc = path != NULL ? conf_load(path, &g->conf, errors) : conf_defaults(&g->conf);
    if (rc != RC_OK) {
        if (path == NULL)
            buf_puts(errors, "rendercgi-spawner: out of memory\n");
        free(g);
        return rc;
    }
    rc = RC_INVALID;
    if (o->listen != NULL && g->conf.npools > 1) {
        buf_printf(errors, "command line: listen: --listen needs a configuration with one pool "
                   "(%s has %zu)\n", path, g->conf.npools);
        goto fail;
    }
    if (o->workers != NULL &&
        conf_override(&g->conf, "workers", o->workers, "command line", errors) != RC_OK)
        goto fail;
    if (o->listen != NULL &&
        conf_override(&g->conf, "listen", o->listen, "command line", errors) != RC_OK)
        goto fail;
    if (o->pidfile != NULL &&
        conf_override(&g->conf, "pid_file", o->pidfile, "command line", errors) != RC_OK)
        goto fail;
    if (privs_check_conf(&g->conf, errors) != RC_OK)
        goto fail;
    g->refs = 1;
    g->id = next_id++;
    *out = g;
    return RC_OK;
fail:
    conf_free(&g->conf);
    free(g);
    return rc;
}

struct confgen *
confgen_ref(struct confgen *g)
{
    if (g != NULL)
        g->refs++;
    return g;
}

void
confgen_unref(struct confgen *g)
{
    if (g == NULL || --g->refs > 0)
        return;
    conf_free(&g->conf);
    free(g);
}
