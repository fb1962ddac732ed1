/* html_parse.h — running gumbo on untrusted HTML: the bytes decoded to
 * UTF-8 first (html_input.c), the tree built in an arena under a memory and
 * a CPU-time budget, and gumbo's crashes contained to the parse that hit
 * them. The converter (convert.c) is the user; main_content.c reads the
 * same tree.
 *
 * A struct html_doc owns the decoded text and the whole tree; everything in
 * it is freed at once by html_doc_free(). Thread-safe: each call has its
 * own arena. The first call installs handlers for SIGSEGV, SIGBUS, SIGILL,
 * SIGFPE and SIGABRT (see html_parse.c); they only act on a thread that is
 * inside gumbo and chain to the previous handlers otherwise. */
#ifndef RCGI_HTML_PARSE_H
#define RCGI_HTML_PARSE_H

#include <gumbo.h>
#include <stddef.h>

#include "html_input.h"

struct html_arena;

struct html_doc {
    GumboOutput *output;      /* the parse: output->root is <html> */
    struct html_input input;  /* the UTF-8 text the tree points into */
    struct html_arena *arena; /* where every node lives */
};

/* Decode and parse 'len' bytes ('charset' as in html_input_decode()).
 * RC_OK; RC_INVALID for an unknown 'charset' or when gumbo crashed on the
 * input; RC_TOO_LARGE when the parse needed more than 24 x the input +
 * 32 MiB of memory or more CPU time than 250 ms + 1 us per input byte
 * (gumbo is quadratic in nesting depth); RC_ERROR when out of memory. The
 * caller frees 'doc' with html_doc_free() whatever the result. */
int html_parse(const char *html, size_t len, const char *charset, struct html_doc *doc);
void html_doc_free(struct html_doc *doc);
/* The value of attribute 'name' of element 'e', or NULL. */
const char *html_attr(const GumboElement *e, const char *name);

#endif
