#!/bin/sh
# check-config-keys.sh — every configuration key is documented, and nothing else is.
#
# The key table in common/conf.c is the truth. This test fails when a key of
# that table is missing from the key tables of docs/configuration.md (between
# the "keys:begin" and "keys:end" markers) or from docs/man/rendercgi.conf.5,
# and when those documents describe a key the table does not have.
# When a built rendercgi-spawner is at hand, its --list-keys output is checked
# against the source table too.
#
# Usage: docs/check-config-keys.sh [SPAWNER]
# Environment: RCGI_SRCDIR (top source dir), RCGI_BUILDDIR (top build dir),
# both set by `make check`; without them the script finds the source tree
# from its own location. Exit 0: consistent; 1: not (the difference is printed).

set -u

here=$(cd "$(dirname "$0")" && pwd)
srcdir=${RCGI_SRCDIR:-$(dirname "$here")}
spawner=${1:-${RCGI_BUILDDIR:+$RCGI_BUILDDIR/rendercgi-spawner}}
conf_c=$srcdir/common/conf.c
doc_md=$srcdir/docs/configuration.md
doc_man=$srcdir/docs/man/rendercgi.conf.5

for f in "$conf_c" "$doc_md" "$doc_man"; do
    if [ ! -r "$f" ]; then
        echo "check-config-keys: cannot read $f" >&2
        exit 1
    fi
done

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# Rows of the key table look like:   { "name", CONF_TYPE, G|P, ...
sed -n 's/^[[:space:]]*{[[:space:]]*"\([a-z_][a-z0-9_]*\)",[[:space:]]*CONF_[A-Z]*,.*/\1/p' \
    "$conf_c" | sort -u >"$tmp/source"
if [ ! -s "$tmp/source" ]; then
    echo "check-config-keys: found no keys in $conf_c (has the table's layout changed?)" >&2
    exit 1
fi

# Documented keys: table rows "| `key` |" between the markers of configuration.md,
# and ".B key" right after a ".TP" in the KEYS section of rendercgi.conf.5.
sed -n '/<!-- keys:begin -->/,/<!-- keys:end -->/p' "$doc_md" |
    sed -n 's/^| `\([a-z_][a-z0-9_]*\)` |.*/\1/p' | sort -u >"$tmp/md"
sed -n '/^\.SH KEYS/,/^\.SH [^K]/p' "$doc_man" |
    awk 'prev == ".TP" && $1 == ".B" { print $2 } { prev = $0 }' | sort -u >"$tmp/man"

status=0
report() { # $1: what, $2: file of names
    if [ -s "$2" ]; then
        echo "check-config-keys: $1:"
        sed 's/^/    /' "$2"
        status=1
    fi
}

comm -23 "$tmp/source" "$tmp/md" >"$tmp/d1"
report "keys in common/conf.c missing from docs/configuration.md" "$tmp/d1"
comm -13 "$tmp/source" "$tmp/md" >"$tmp/d2"
report "keys in docs/configuration.md that common/conf.c does not have" "$tmp/d2"
comm -23 "$tmp/source" "$tmp/man" >"$tmp/d3"
report "keys in common/conf.c missing from docs/man/rendercgi.conf.5" "$tmp/d3"
comm -13 "$tmp/source" "$tmp/man" >"$tmp/d4"
report "keys in docs/man/rendercgi.conf.5 that common/conf.c does not have" "$tmp/d4"

if [ -n "$spawner" ] && [ -x "$spawner" ]; then
    if "$spawner" --list-keys >"$tmp/list" 2>"$tmp/err"; then
        awk 'NR > 1 && NF > 0 { print $1 }' "$tmp/list" | sort -u >"$tmp/bin"
        comm -3 "$tmp/source" "$tmp/bin" | sed 's/^[[:space:]]*//' >"$tmp/d5"
        report "keys where '$spawner --list-keys' and common/conf.c differ" "$tmp/d5"
    else
        echo "check-config-keys: $spawner --list-keys failed:"
        sed 's/^/    /' "$tmp/err"
        status=1
    fi
fi

if [ "$status" -eq 0 ]; then
    echo "check-config-keys: $(wc -l <"$tmp/source" | tr -d ' ') keys, all documented"
fi
exit "$status"
