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
n=0 failed=0
echo "1..$(echo "$files" | wc -l)"
for f in $files; do
  n=$((n + 1))
  if d=$("$cf" --style=file "$f" | diff -u "$f" - | head -20) && [ -z "$d" ]; then
    echo "ok $n - $f"
  else
    failed=$((failed + 1))
    echo "not ok $n - $f is not laid out as .clang-format says (clang-format -i $f)"
    echo "$d" | sed 's/^/# /'
  fi
done
exit $((failed > 0))
