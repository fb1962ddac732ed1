/* convert.h — HTML to readable text or Markdown, one converter for both
 * extraction engines (the browser hands it the rendered DOM, the fetch
 * engine the fetched bytes), so both give the same output for the same HTML.
 *
 * Built on gumbo (Debian libgumbo-dev), an HTML5-conformant parser: malformed
 * markup is repaired the way browsers repair it. Pure: no I/O, no browser.
 * Thread-safe. */
#ifndef RCGI_CONVERT_H
#define RCGI_CONVERT_H

#include <stddef.h>

#include "buf.h"

struct css_selector;
struct html_doc;

/* CONVERT_HTML is the source markup of the chosen part as UTF-8: the whole
 * decoded document, or the selected element as written in it (from its
 * start tag to its end tag). It is what the fetch engine answers for
 * format=html. */
enum convert_format { CONVERT_TEXT, CONVERT_MARKDOWN, CONVERT_HTML };

struct convert_opts {
    enum convert_format format;
    const char *base_url;   /* makes links and image sources absolute; NULL: as written
                             * (a <base href> in the document takes precedence) */
    const char *charset;    /* the input's encoding if known (HTTP header); NULL: from a
                             * BOM or <meta charset>, else UTF-8 (with windows-1252
                             * as fallback for invalid UTF-8) */
    int main_content;       /* only the main article (main_content.c); not for
                             * CONVERT_HTML */
    const struct css_selector *selector; /* only the first element matching it
                             * (css_select.h), or NULL: the whole document */
    size_t max_output;      /* cap on the output; 0: 64 MiB */
};

/* What the converter learnt about the document, for format=json. */
struct convert_meta {
    char *title;            /* <title>, whitespace collapsed; NULL if none */
    char **links;           /* absolute hrefs of <a> in the converted part, in order,
                             * without duplicates */
    size_t nlinks;
};

/* Convert 'len' bytes of HTML into 'out' (appended). 'meta' may be NULL.
 * RC_OK; RC_NOT_FOUND when o->selector matches nothing (out untouched);
 * RC_TOO_LARGE when the output would exceed the cap (out holds what
 * fitted), or when parsing would need more than 24 times the input plus
 * 32 MiB of memory, or more CPU time than 250 ms plus 1 us per input byte
 * (pathological nesting; out holds nothing); RC_INVALID when the charset
 * is unknown, or when the parser crashed on the input (contained: see
 * html_parse.h, whose first use installs fault signal handlers); RC_ERROR
 * when out of memory. The caller frees meta with convert_meta_free(),
 * whatever the result. */
int convert_html(const char *html, size_t len, const struct convert_opts *o, struct buf *out,
                 struct convert_meta *meta);
void convert_meta_free(struct convert_meta *meta);
/* The same on a document already parsed with html_parse() (borrowed; the
 * fetch engine parses once to look at the page, then converts). o->charset
 * is not used. Results as convert_html(), without the parse's. */
int convert_doc(const struct html_doc *doc, const struct convert_opts *o, struct buf *out,
                struct convert_meta *meta);

#endif
