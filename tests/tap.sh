# tap.sh — sourced first by the shell tests (test-cli.sh, test-scan.sh,
# test-malformed.sh): the program under test ($BIN, from meson), the
# source tree ($SRC), a temporary folder ($T, removed at exit) holding the
# configuration and data folders, and the TAP helpers:
#   ok TEXT              a passed test
#   not_ok TEXT [LINE]   a failed one, with diagnostic lines; counts $failed
#   check TEXT EXPR [LINE...]   ok or not_ok as `eval EXPR` succeeds
#   make_mbox FILE [COPIES]     the samples of testdata/ as an mbox
# $SLOW is 1 in the slow suite (`meson test --setup full`): the whole
# corpus, more mutants, more kill rounds. $CORPUS is the shared corpus
# (BACKSCATTER_CORPUS, or ../shared/corpus beside the source tree); it is
# empty when there is none, and the tests that need it say so.
set -u
BIN=${BACKSCATTER_BIN:?}
SRC=$(cd "$(dirname "$0")/.." && pwd)
SLOW=${BACKSCATTER_SLOW:-0}
CORPUS=${BACKSCATTER_CORPUS:-$SRC/../shared/corpus}
if [ ! -d "$CORPUS/bounces" ]; then
  echo "# no shared corpus at $CORPUS (set BACKSCATTER_CORPUS): its cases are skipped"
  CORPUS=
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export XDG_CONFIG_HOME=$T/config XDG_DATA_HOME=$T/data XDG_CACHE_HOME=$T/cache XDG_RUNTIME_DIR=$T/run TZ=UTC
mkdir -m 700 "$XDG_RUNTIME_DIR"
n=0
failed=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () {
  n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift
  for l in "$@"; do echo "# $l"; done
}
check () { if eval "$2"; then ok "$1"; else not_ok "$1" "${@:3}"; fi; }
# set_address_space_limit KB: $limit becomes KB when the program can start
# under `ulimit -v KB`, else "unlimited" (ASan's shadow memory, valgrind),
# said in a TAP comment.
set_address_space_limit () {
  if ( ulimit -v "$1" && "$BIN" --version ) > /dev/null 2>&1 \
     && [ -z "${BACKSCATTER_VALGRIND:-}" ]; then
    limit=$1
  else
    limit=unlimited
    echo "# the program cannot start under 'ulimit -v $1' (sanitizer or valgrind): no address-space limit"
  fi
}
# make_mbox FILE [COPIES]: the samples as one mbox, COPIES times (each
# "From " line of a body quoted as ">From "); every message's own "From "
# line names it (sender<N>@example.net).
make_mbox () {
  local j=0 f c
  : > "$1"
  for c in $(seq 1 "${2:-1}"); do
    while IFS= read -r f; do
      j=$((j + 1))
      [ "$j" -gt 1 ] && echo >> "$1"
      echo "From sender$j@example.net Mon Apr  8 10:00:00 2024" >> "$1"
      sed 's/^From />From /' "$f" >> "$1"
      [ -n "$(tail -c1 "$f")" ] && echo >> "$1"
    done < <(find "$SRC/testdata/judge" "$SRC/testdata/maildir/cur" "$SRC/testdata/maildir/new" -type f \
               -not -name '*.expected' -not -name '*.py' -not -name .keep | sort)
  done
}
