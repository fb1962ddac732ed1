/* scoreboard.c — a pool's shared scoreboard in a sealed memfd; see
 * scoreboard.h.
 *
 * The spawner owns the memfd and the first mapping; each worker maps the
 * copy of the fd it inherited. The file is sealed against shrinking and
 * growing before any worker sees it: a worker (which may run as another
 * user, and is the less trusted side) cannot truncate it under the
 * spawner's mapping and crash it with SIGBUS. Everything a worker writes is
 * still untrusted input to the spawner, which bounds every number it reads. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "rc.h"
#include "scoreboard.h"

#define SB_MAX_ENTRIES 65536

size_t
scoreboard_size(int nworkers)
{
    return sizeof(struct scoreboard) + (size_t)nworkers * sizeof(struct sb_worker);
}

int
scoreboard_create(const char *name, int nworkers, int *fd, struct scoreboard **sb)
{
    char memname[96];
    struct scoreboard *map = MAP_FAILED;
    size_t size;
    int mfd = -1;

    *fd = -1;
    *sb = NULL;
    if (nworkers < 1 || nworkers > SB_MAX_ENTRIES) {
        log_msg(LOG_ERR, "[pool %s] scoreboard: %d entries is out of range", name, nworkers);
        return RC_ERROR;
    }
    size = scoreboard_size(nworkers);
    snprintf(memname, sizeof memname, "rendercgi-scoreboard-%s", name);
    if ((mfd = memfd_create(memname, MFD_CLOEXEC | MFD_ALLOW_SEALING)) == -1) {
        log_errno(LOG_ERR, "[pool %s] scoreboard: memfd_create", name);
        goto fail;
    }
    if (ftruncate(mfd, (off_t)size) == -1) {
        log_errno(LOG_ERR, "[pool %s] scoreboard: ftruncate", name);
        goto fail;
    }
    if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == -1) {
        log_errno(LOG_ERR, "[pool %s] scoreboard: sealing", name);
        goto fail;
    }
    map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
    if (map == MAP_FAILED) {
        log_errno(LOG_ERR, "[pool %s] scoreboard: mmap", name);
        goto fail;
    }
    /* A new memfd reads as zeros: every entry is unused, every counter 0. */
    map->magic = SB_MAGIC;
    map->nworkers = (uint32_t)nworkers;
    snprintf(map->pool, sizeof map->pool, "%s", name);
    *fd = mfd;
    *sb = map;
    return RC_OK;
fail:
    if (mfd >= 0)
        close(mfd);
    return RC_ERROR;
}

/* A non-negative int from the environment, or -1. */
static int
env_int(const char *name)
{
    const char *s = getenv(name);
    char *end;
    long v;

    if (s == NULL || *s == '\0')
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0 || v > INT_MAX)
        return -2;
    return (int)v;
}

int
scoreboard_attach(struct scoreboard **sb, struct sb_worker **self)
{
    int fd = env_int("RENDERCGI_SCOREBOARD_FD"), idx = env_int("RENDERCGI_SCOREBOARD_INDEX");
    struct scoreboard *map;
    struct stat st;
    uint32_t n;

    *sb = NULL;
    *self = NULL;
    if (fd == -1 && idx == -1)
        return RC_NOT_FOUND;
    if (fd < 0 || idx < 0) {
        log_msg(LOG_ERR, "scoreboard: RENDERCGI_SCOREBOARD_FD and _INDEX must both be set to "
                "numbers");
        return RC_ERROR;
    }
    if (fstat(fd, &st) == -1) {
        log_errno(LOG_ERR, "scoreboard: fd %d", fd);
        return RC_ERROR;
    }
    if (!S_ISREG(st.st_mode) || (size_t)st.st_size < scoreboard_size(1)) {
        log_msg(LOG_ERR, "scoreboard: fd %d is not a scoreboard", fd);
        return RC_ERROR;
    }
    map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        log_errno(LOG_ERR, "scoreboard: mmap fd %d", fd);
        return RC_ERROR;
    }
    n = map->nworkers;
    if (map->magic != SB_MAGIC || n < 1 || n > SB_MAX_ENTRIES ||
        scoreboard_size((int)n) != (size_t)st.st_size || (uint32_t)idx >= n) {
        log_msg(LOG_ERR, "scoreboard: fd %d: bad header or entry %d out of range", fd, idx);
        munmap(map, (size_t)st.st_size);
        return RC_ERROR;
    }
    /* The mapping is all we need: no child (Chromium) should hold the fd. */
    close(fd);
    *sb = map;
    *self = &map->workers[idx];
    return RC_OK;
}

void
scoreboard_detach(struct scoreboard *sb)
{
    if (sb == NULL)
        return;
    munmap(sb, scoreboard_size((int)sb->nworkers));
}
