/* rc.h — the one vocabulary of results used across rendercgi.
 *
 * Functions return RC_OK (0) on success or one of the negative codes below.
 * Only the worker's respond.c turns a result into an HTTP status. */
#ifndef RCGI_RC_H
#define RCGI_RC_H

enum rc {
    RC_OK = 0,
    RC_ERROR = -1,     /* generic failure; details were logged */
    RC_BUSY = -2,      /* no capacity right now (queue full) */
    RC_TIMEOUT = -3,   /* a deadline passed */
    RC_BLOCKED = -4,   /* refused by policy */
    RC_DECLINED = -5,  /* not handled here; try something else */
    RC_CLOSED = -6,    /* the peer went away (EOF, pipe closed, browser exited) */
    RC_INVALID = -7,   /* malformed input */
    RC_TOO_LARGE = -8, /* over a size cap */
    RC_NOT_FOUND = -9, /* no such thing */
};

/* A static name for a result code, for logs ("RC_TIMEOUT" → "timeout"). */
const char *rc_name(int rc);

#endif
