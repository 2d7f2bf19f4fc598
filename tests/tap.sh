# tap.sh — sourced first by the shell tests (test-cli.sh, test-scan.sh,
# test-malformed.sh): the program under test ($BIN, from meson), the
# source tree ($SRC), a temporary folder ($T, removed at exit) holding the
# configuration and data folders, and the TAP helpers:
#   ok TEXT              a passed test
#   not_ok TEXT [LINE]   a failed one, with diagnostic lines; counts $failed
#   check TEXT EXPR [LINE...]   ok or not_ok as `eval EXPR` succeeds
set -u
BIN=${BACKSCATTER_BIN:?}
SRC=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export XDG_CONFIG_HOME=$T/config XDG_DATA_HOME=$T/data TZ=UTC
n=0
failed=0
ok () { n=$((n + 1)); echo "ok $n - $1"; }
not_ok () {
  n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift
  for l in "$@"; do echo "# $l"; done
}
check () { if eval "$2"; then ok "$1"; else not_ok "$1" "${@:3}"; fi; }
