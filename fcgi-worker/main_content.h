/* main_content.h — finding the main article of a page and leaving out the
 * boilerplate around it (navigation, headers, footers, sidebars, cookie
 * banners, comment sections, link lists): the scoring lives in
 * main_content.c and is described in docs/extract.md. Pure, on a gumbo tree. */
#ifndef RCGI_MAIN_CONTENT_H
#define RCGI_MAIN_CONTENT_H

#include <stddef.h>

#include <gumbo.h>

/* The element holding the main content of the document under 'root' (an
 * element node, usually <html> or <body>), or 'root' itself when nothing
 * stands out. Borrowed from the tree. */
const GumboNode *main_content_find(const GumboNode *root);
/* Whether 'node', inside the main content element, is boilerplate to skip
 * all the same (a share bar, a "related articles" list, an ad slot, a
 * comment section nested in the article). The converter asks this for every
 * element below the one main_content_find returned. */
int main_content_skip(const GumboNode *node);

/* The scoring helpers below are pure functions of their arguments, exposed
 * so that tests can pin them down; the converter needs only the two above. */

/* What the words of a class or id attribute say about an element, as flags
 * that may combine (NEGATIVE wins in every decision): "entry-content" and
 * "articleBody" are POSITIVE; "nav-menu", "commentList", "ad300x250" and
 * "cookie-banner" are NEGATIVE; "site-header" is HEADER, kept or dropped on
 * its content. Words are split at punctuation, at lower-to-upper case changes
 * and between letters and digits. A modifier ("has", "with", "no", ...)
 * neutralizes the NEGATIVE and HEADER words after it in the same token, so
 * "has-sidebar" and "no-ads" say nothing. NULL says nothing. */
enum {
    MAIN_CONTENT_HINT_POSITIVE = 1,
    MAIN_CONTENT_HINT_NEGATIVE = 2,
    MAIN_CONTENT_HINT_HEADER = 4,
};
unsigned main_content_hint_words(const char *words);

/* The length of 'len' bytes of UTF-8 text as a reader counts it: code
 * points, each run of whitespace counted once. Adds the commas (',' and its
 * fullwidth, ideographic and Arabic forms) to *commas when that is not NULL. */
size_t main_content_text_length(const char *s, size_t len, size_t *commas);

/* The weight of one paragraph of 'chars' characters, 'link_chars' of them
 * inside links, with 'commas' commas: 0 for one too short to be prose or
 * mostly links; more for longer text and more commas. */
double main_content_paragraph_score(size_t chars, size_t link_chars, size_t commas);

/* Whether a block with 'chars' characters of text, 'link_chars' of them
 * inside its 'links' links, is a list of links (a menu, a "related" list, a
 * tag cloud, a share bar, a lone "Read more") rather than prose. */
int main_content_is_link_block(size_t chars, size_t link_chars, size_t links);

#endif
