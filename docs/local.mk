# docs/ — Markdown docs and man pages.
EXTRA_DIST += docs
