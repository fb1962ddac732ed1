/* pdf_pages.h — counting the pages of a PDF as it streams by, without
 * parsing it: Chromium's PDF writer (Skia) gives every page object a
 * "/Type /Page" entry; the page tree nodes say "/Type /Pages". Pure. */
#ifndef RCGI_PDF_PAGES_H
#define RCGI_PDF_PAGES_H

#include <stddef.h>

struct pdf_pages {
    int pages;
    size_t matched;      /* bytes of "/Type /Page" matched so far */
    int pending;         /* a whole match waits for the next byte (not 's') */
};

void pdf_pages_init(struct pdf_pages *st);
/* Count the page objects in the next 'len' bytes of the PDF. */
void pdf_pages_feed(struct pdf_pages *st, const unsigned char *data, size_t len);

#endif
