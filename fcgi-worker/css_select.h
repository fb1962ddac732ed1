/* css_select.h — the CSS selectors the fetch engine can evaluate on a gumbo
 * tree, for /extract's 'selector' without a browser.
 *
 * A subset of Selectors Level 4 that covers what people pass to extraction:
 * type (`p`, `*`), `#id`, `.class`, attributes (`[a]`, `[a=v]`, `~=`, `|=`,
 * `^=`, `$=`, `*=`, quoted or not, with the ` i` flag), `:first-child`,
 * `:last-child`, `:only-child`, `:root`, the four combinators (descendant,
 * `>`, `+`, `~`) and lists (`a, b`). Anything else that is well-formed CSS
 * (other pseudo-classes, pseudo-elements, namespaces) is RC_DECLINED: the
 * browser engine can still evaluate it. Matching is what
 * document.querySelector() does: the first matching element in document
 * order. Pure, thread-safe; a compiled selector is immutable. */
#ifndef RCGI_CSS_SELECT_H
#define RCGI_CSS_SELECT_H

#include <stddef.h>

#include <gumbo.h>

struct css_selector;

/* Compile 'text'. RC_OK and *out (free with css_select_free); RC_INVALID
 * when it is not a valid selector ('why' says where); RC_DECLINED when it
 * is valid but outside the subset ('why' names the construct); RC_ERROR
 * when out of memory. */
int css_select_compile(const char *text, struct css_selector **out, char *why, size_t whylen);
/* NULL-safe. */
void css_select_free(struct css_selector *s);
/* The first element under 'root' (itself included), in document order,
 * that matches; NULL if none. Borrowed from the tree. Never recurses on the
 * document's depth; the work is bounded by the tree's size times the
 * selector's length. */
const GumboNode *css_select_first(const struct css_selector *s, const GumboNode *root);

#endif
