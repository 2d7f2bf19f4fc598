#!/bin/bash
# test-format.sh — every C file of the project is laid out as .clang-format
# says: clang-format leaves it unchanged. Skips when clang-format 14 (the
# version of Debian 12, whose output the files follow) is not installed.
# TAP output, one line per file.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
cf=${CLANG_FORMAT:-clang-format}
if ! version=$("$cf" --version 2>/dev/null); then
  echo "1..0 # SKIP no clang-format"
  exit 0
fi
case $version in
  *"version 14."*) ;;
  *) echo "1..0 # SKIP clang-format is not version 14: $version"; exit 0 ;;
esac
cd "$SRC" || exit 1
files=$(ls lib/*.[ch] cli/*.[ch] tests/*.[ch] fuzzing/*.[ch] bench/*.c 2>/dev/null)
# One clang-format for every file (a process for each would take most of
# the time starting up); it names each file it would change.
bad=$("$cf" --style=file --dry-run $files 2>&1 | sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: \(warning\|error\): code should be clang-formatted.*/\1/p' | sort -u)
n=0 failed=0
echo "1..$(echo "$files" | wc -l)"
for f in $files; do
  n=$((n + 1))
  if ! printf '%s\n' "$bad" | grep -qxF "$f"; then
    echo "ok $n - $f"
  else
    failed=$((failed + 1))
    echo "not ok $n - $f is not laid out as .clang-format says (clang-format -i $f)"
    "$cf" --style=file "$f" | diff -u "$f" - | head -20 | sed 's/^/# /'
  fi
done
exit $((failed > 0))
