#!/bin/sh
# valgrind.sh — the wrapper of `meson test --setup valgrind`.
#
# Meson runs each test as `valgrind.sh TEST [ARG...]`. A compiled test
# runs under valgrind's memcheck; a script runs as it is. Either way the
# tests that run the backscatter program (they find it in $BACKSCATTER_BIN)
# get this script instead, which runs the real program under valgrind. All
# reports go to a temporary folder; at the end each process's invalid
# reads and writes, uses of uninitialised values and definite leaks are
# counted, the reports with errors are printed on stderr, and the test
# fails when there was any.
#
#   meson test -C build --setup valgrind golden malformed
#
# Environment: BACKSCATTER_VALGRIND_SUPP names GLib's suppressions
# (glib.supp); tests/valgrind.supp holds the project's own.
set -u

here=$(cd "$(dirname "$0")" && pwd)
vg () {
  # The program may be linked with mimalloc: memcheck takes over its
  # malloc as it does libc's.
  exec valgrind --tool=memcheck --quiet --num-callers=30 --soname-synonyms=somalloc='libmimalloc.so*' \
    --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
    ${BACKSCATTER_VALGRIND_SUPP:+--suppressions="$BACKSCATTER_VALGRIND_SUPP"} \
    --suppressions="$here/valgrind.supp" \
    --log-file="$BACKSCATTER_VALGRIND_LOGS/%p.log" "$@"
}

# Run by a test as the backscatter program.
if [ -n "${BACKSCATTER_VALGRIND_SHIM:-}" ]; then
  vg "$BACKSCATTER_VALGRIND_REAL" "$@"
fi

# Run by meson around a test.
BACKSCATTER_VALGRIND_LOGS=$(mktemp -d "${TMPDIR:-/tmp}/backscatter-valgrind-XXXXXX")
export BACKSCATTER_VALGRIND=1 BACKSCATTER_VALGRIND_LOGS
export G_SLICE=always-malloc G_DEBUG=gc-friendly
if [ -n "${BACKSCATTER_BIN:-}" ]; then
  export BACKSCATTER_VALGRIND_REAL="$BACKSCATTER_BIN" BACKSCATTER_VALGRIND_SHIM=1
  export BACKSCATTER_BIN="$here/valgrind.sh"
fi
if [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]; then
  (vg "$@")
else
  "$@"
fi
status=$?

bad=0
for log in "$BACKSCATTER_VALGRIND_LOGS"/*.log; do
  [ -f "$log" ] || continue
  # With --quiet a log holds only errors and the leak summary.
  if grep -q -E '^==[0-9]+== (Invalid|Conditional|Use of uninitialised|Syscall param|Mismatched|Source and destination overlap|[0-9,]+ bytes in [0-9,]+ blocks are definitely lost)' "$log"; then
    bad=$((bad + 1))
    echo "valgrind: errors in process $(basename "$log" .log):" >&2
    cat "$log" >&2
  fi
done
n=$(ls "$BACKSCATTER_VALGRIND_LOGS" | wc -l)
echo "valgrind: $n processes checked, $bad with errors" >&2
rm -rf "$BACKSCATTER_VALGRIND_LOGS"
[ $bad -eq 0 ] || exit 1
exit $status
