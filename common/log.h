/* log.h — one event per line, subject first, to stderr (or a file).
 *
 * Lines look like "2026-11-30 06:40:13 worker[4213] info: [subject] message".
 * Thread-safe: each line is written with a single write(2). */
#ifndef RCGI_LOG_H
#define RCGI_LOG_H

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Set the program tag ("worker", "spawner") and the lowest level written. */
void log_init(const char *tag, enum log_level level);
/* Parse "error|warn|info|debug"; returns -1 when unknown. */
int log_level_parse(const char *s);
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Like log_msg, appending ": strerror(errno)". Call where errno is known. */
void log_errno(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
