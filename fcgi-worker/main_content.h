/* main_content.h — finding the main article of a page and leaving out the
 * boilerplate around it (navigation, headers, footers, sidebars, cookie
 * banners, comment sections, link lists): the scoring lives in
 * main_content.c and is described in docs/extract.md. Pure, on a gumbo tree. */
#ifndef RCGI_MAIN_CONTENT_H
#define RCGI_MAIN_CONTENT_H

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

#endif
