/* proctable.c — /proc snapshots; see proctable.h. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proctable.h"
#include "rc.h"

int
procs_parse_stat(const char *line, struct proc_info *p)
{
    /* "pid (comm) state ppid pgrp session …": comm may hold spaces and
     * parentheses, so the fields after it start at the last ')'. */
    const char *rp = strrchr(line, ')');
    char state;

    if (rp == NULL || sscanf(line, "%d", &p->pid) != 1)
        return RC_INVALID;
    if (sscanf(rp + 1, " %c %d %d %d", &state, &p->ppid, &p->pgid, &p->sid) != 4)
        return RC_INVALID;
    p->state = state;
    return RC_OK;
}

static int
read_stat(int pid, struct proc_info *p)
{
    char path[64], line[1024];
    ssize_t n;
    int fd;

    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
        return RC_NOT_FOUND;
    n = read(fd, line, sizeof line - 1);
    close(fd);
    if (n <= 0)
        return RC_NOT_FOUND;
    line[n] = '\0';
    return procs_parse_stat(line, p);
}

int
procs_snapshot(struct proc_info **out, size_t *n)
{
    struct proc_info *procs = NULL, *grown;
    size_t count = 0, cap = 0;
    struct dirent *de;
    DIR *d;

    *out = NULL;
    *n = 0;
    if ((d = opendir("/proc")) == NULL) {
        log_errno(LOG_ERR, "opendir /proc");
        return RC_ERROR;
    }
    while ((de = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (*end != '\0' || pid <= 0)
            continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 256;
            if ((grown = realloc(procs, cap * sizeof *procs)) == NULL) {
                log_errno(LOG_ERR, "procs: realloc");
                goto fail;
            }
            procs = grown;
        }
        /* A process may exit between readdir and open: skip it. */
        if (read_stat((int)pid, &procs[count]) == RC_OK)
            count++;
    }
    closedir(d);
    *out = procs;
    *n = count;
    return RC_OK;
fail:
    closedir(d);
    free(procs);
    return RC_ERROR;
}


long long
procs_smaps_bytes(int pid, const char *field)
{
    char path[64], line[256];
    long long kb = -1, v;
    size_t n = strlen(field);
    FILE *f;

    if (pid > 0)
        snprintf(path, sizeof path, "/proc/%d/smaps_rollup", pid);
    else
        snprintf(path, sizeof path, "/proc/self/smaps_rollup");
    if ((f = fopen(path, "re")) == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, field, n) == 0 && line[n] == ':' &&
            sscanf(line + n + 1, "%lld", &v) == 1) {
            kb = v;
            break;
        }
    }
    fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}
