/* base64.h — decoding the base64 that CDP uses for binary data. Pure. */
#ifndef RCGI_BASE64_H
#define RCGI_BASE64_H

#include <stddef.h>

/* Decode 'len' bytes of standard base64 (padding optional, no whitespace)
 * into 'out', which must hold (len / 4 + 1) * 3 bytes. Returns the decoded
 * length, or -1 for invalid input. */
long base64_decode(const char *in, size_t len, unsigned char *out);

/* Append the standard base64 of 'len' bytes to 'out'. RC_OK or RC_TOO_LARGE. */
#include "buf.h"
int base64_encode(const void *in, size_t len, struct buf *out);

#endif
