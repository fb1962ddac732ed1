/* buf.c — capped growable buffers; see buf.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "rc.h"

void
buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void
buf_free(struct buf *b)
{
    if (b == NULL)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void
buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

int
buf_reserve(struct buf *b, size_t extra)
{
    size_t need, cap;
    char *p;

    if (extra > b->max || b->len > b->max - extra)
        return RC_TOO_LARGE;
    need = b->len + extra + 1;
    if (need <= b->cap)
        return RC_OK;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    if ((p = realloc(b->data, cap)) == NULL)
        return RC_ERROR;
    b->data = p;
    b->cap = cap;
    return RC_OK;
}

int
buf_append(struct buf *b, const void *data, size_t len)
{
    int rc;

    if ((rc = buf_reserve(b, len)) != RC_OK)
        return rc;
    if (len > 0)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return RC_OK;
}

int
buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n, rc;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return RC_ERROR;
    if ((rc = buf_reserve(b, (size_t)n)) != RC_OK)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return RC_OK;
}

int
buf_json_stringn(struct buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t start = b->len;
    int rc = buf_append(b, "\"", 1);

    for (size_t i = 0; rc == RC_OK && i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[7] = { '\\', 0, 0, 0, 0, 0, 0 };
        switch (c) {
        case '"': esc[1] = '"'; rc = buf_append(b, esc, 2); break;
        case '\\': esc[1] = '\\'; rc = buf_append(b, esc, 2); break;
        case '\n': esc[1] = 'n'; rc = buf_append(b, esc, 2); break;
        case '\r': esc[1] = 'r'; rc = buf_append(b, esc, 2); break;
        case '\t': esc[1] = 't'; rc = buf_append(b, esc, 2); break;
        default:
            if (c < 0x20) {
                esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
                esc[4] = hex[c >> 4]; esc[5] = hex[c & 15];
                rc = buf_append(b, esc, 6);
            } else {
                rc = buf_append(b, &s[i], 1);
            }
        }
    }
    if (rc == RC_OK)
        rc = buf_append(b, "\"", 1);
    if (rc != RC_OK) {
        b->len = start;
        if (b->data != NULL)
            b->data[start] = '\0';
    }
    return rc;
}

int
buf_json_string(struct buf *b, const char *s)
{
    return buf_json_stringn(b, s, strlen(s));
}

void
buf_consume(struct buf *b, size_t n)
{
    if (n >= b->len) {
        buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

char *
buf_steal(struct buf *b)
{
    char *p = b->data;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}
