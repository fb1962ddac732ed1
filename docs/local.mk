# docs/ — Markdown docs and man pages. check-config-keys.sh fails when a key
# of common/conf.c is missing from docs/configuration.md.
dist_man_MANS += docs/man/rendercgi-worker.8 docs/man/rendercgi-spawner.8 docs/man/rendercgi.conf.5
EXTRA_DIST += docs/README.md docs/api.md docs/architecture.md docs/configuration.md \
	docs/deployment.md docs/operations.md docs/security.md docs/check-config-keys.sh \
	docs/extract.md
TESTS += docs/check-config-keys.sh
