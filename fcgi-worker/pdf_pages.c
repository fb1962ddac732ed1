/* pdf_pages.c — a streaming matcher (Knuth-Morris-Pratt) for "/Type /Page";
 * see pdf_pages.h. */
#include <string.h>

#include "pdf_pages.h"

static const char needle[] = "/Type /Page";
#define NEEDLE (sizeof needle - 1)

void
pdf_pages_init(struct pdf_pages *st)
{
    memset(st, 0, sizeof *st);
}

void
pdf_pages_feed(struct pdf_pages *st, const unsigned char *data, size_t len)
{
    /* fail[j]: the length of the longest proper prefix of needle[0..j] that
     * is also its suffix; only the second '/' repeats the start. */
    static const size_t fail[NEEDLE] = { 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0 };
    for (size_t i = 0; i < len; i++) {
        unsigned char c = data[i];
        if (st->pending) {
            if (c != 's')
                st->pages++;
            st->pending = 0;
        }
        while (st->matched > 0 && c != (unsigned char)needle[st->matched])
            st->matched = fail[st->matched - 1];
        if (c == (unsigned char)needle[st->matched])
            st->matched++;
        if (st->matched == NEEDLE) {
            st->pending = 1;
            st->matched = fail[NEEDLE - 1];
        }
    }
}
