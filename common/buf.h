/* buf.h — a growable byte buffer with a hard size cap.
 *
 * Every buffer that grows from outside input (CDP messages, request bodies)
 * has a cap; appends past it fail with RC_TOO_LARGE and leave the buffer as
 * it was. data is always NUL-terminated (the NUL is not counted in len). */
#ifndef RCGI_BUF_H
#define RCGI_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max; /* hard cap on len */
};

/* Initialise an empty buffer that may grow to 'max' bytes. Allocates nothing. */
void buf_init(struct buf *b, size_t max);
/* Free the storage; the buffer is empty and reusable afterwards. NULL-safe. */
void buf_free(struct buf *b);
/* Forget the content, keep the storage. */
void buf_reset(struct buf *b);
/* Make room for 'extra' more bytes. RC_OK, RC_TOO_LARGE or RC_ERROR (ENOMEM). */
int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append 's' as a JSON string literal, quotes included. */
int buf_json_string(struct buf *b, const char *s);
int buf_json_stringn(struct buf *b, const char *s, size_t len);
/* Drop the first 'n' bytes. */
void buf_consume(struct buf *b, size_t n);
/* Hand the storage to the caller (free() it); the buffer is left empty. */
char *buf_steal(struct buf *b);

#endif
