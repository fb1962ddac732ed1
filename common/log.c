/* log.c — line-oriented logging to stderr; see log.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_tag = "rendercgi";
static enum log_level log_min = LOG_INFO;
static const char *const level_names[] = { "error", "warn", "info", "debug" };

void
log_init(const char *tag, enum log_level level)
{
    log_tag = tag;
    log_min = level;
}

int
log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcasecmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

/* Append formatted text at line[*n], never past the end; *n stays < len. */
static void
line_vappend(char *line, size_t len, size_t *n, const char *fmt, va_list ap)
{
    int r = vsnprintf(line + *n, len - *n, fmt, ap);
    if (r > 0)
        *n = *n + (size_t)r < len ? *n + (size_t)r : len - 1;
}

static void
line_append(char *line, size_t len, size_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    line_vappend(line, len, n, fmt, ap);
    va_end(ap);
}

static void
log_write(enum log_level level, const char *suffix, const char *fmt, va_list ap)
{
    char line[2048];
    struct tm tm;
    time_t now = time(NULL);
    size_t n;

    if (level > log_min)
        return;
    localtime_r(&now, &tm);
    n = strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S ", &tm);
    line_append(line, sizeof line - 1, &n, "%s[%d] %s: ", log_tag, (int)getpid(),
                level_names[level]);
    line_vappend(line, sizeof line - 1, &n, fmt, ap);
    if (suffix != NULL)
        line_append(line, sizeof line - 1, &n, ": %s", suffix);
    line[n++] = '\n';
    /* One write per line keeps lines whole across threads and processes. */
    if (write(STDERR_FILENO, line, n) < 0) {
        /* Nowhere left to report a failing log. */
    }
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_write(level, NULL, fmt, ap);
    va_end(ap);
}

void
log_errno(enum log_level level, const char *fmt, ...)
{
    char ebuf[128];
    int saved = errno;
    va_list ap;

    const char *e = strerror_r(saved, ebuf, sizeof ebuf);
    va_start(ap, fmt);
    log_write(level, e, fmt, ap);
    va_end(ap);
    errno = saved;
}
