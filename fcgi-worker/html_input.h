/* html_input.h — an HTML document's bytes made ready for gumbo, which reads
 * only UTF-8: which encoding they are in (byte order mark, the transport's
 * charset, a <meta> in the first 1024 bytes, else UTF-8 if valid, else
 * windows-1252, as browsers decide) and their conversion with glibc iconv.
 *
 * Pure, thread-safe. The caller owns a struct html_input and frees it with
 * html_input_free(); its data either borrows the caller's bytes (already
 * UTF-8) or points into its own copy. */
#ifndef RCGI_HTML_INPUT_H
#define RCGI_HTML_INPUT_H

#include <stddef.h>

struct html_input {
    const char *data; /* UTF-8, without a byte order mark */
    size_t len;
    char *owned;       /* the converted copy, or NULL when data borrows */
    char encoding[40]; /* what the bytes were read as, e.g. "UTF-8", "WINDOWS-1252" */
};

/* Decode 'len' bytes of HTML. 'declared' is the charset the transport gave
 * (an HTTP Content-Type parameter) or NULL. A byte order mark wins over
 * 'declared', which wins over <meta>. Bytes invalid in the encoding become
 * U+FFFD. RC_OK; RC_INVALID when 'declared' names an encoding iconv does
 * not know (an unknown <meta> label is ignored, as browsers do); RC_ERROR
 * when out of memory. */
int html_input_decode(const char *html, size_t len, const char *declared,
                      struct html_input *in);
void html_input_free(struct html_input *in);

/* The charset a <meta charset> or <meta http-equiv="Content-Type"> in the
 * first 1024 bytes declares (the WHATWG prescan), copied lower-cased into
 * 'label' ('size' bytes with the NUL). Returns 1 if found, 0 if not. */
int html_input_meta_charset(const char *html, size_t len, char *label, size_t size);

#endif
