#!/bin/bash
# test-malformed.sh — hostile input is normal input (DESIGN). Every input
# gets, from `backscatter check --json`, one JSON line holding a result or
# an error, no crash (exit status below 128) and no hang (10 s), in at
# most 1 GiB of address space. TAP output, one line per input:
#
#   testdata/malformed/*.msg   small hostile samples (and every crash found)
#   testdata/malformed/*.conf  hostile configuration files (exit 78 is fine)
#   make-malformed.py large    20 MB header lines, 20,000-deep multiparts,
#                              50,000 nested messages, 200,000 recipients...
#   make-malformed.py mutate   mutants of testdata/ (fixed seed), and of
#                              ../shared/corpus when it is there
#   make-malformed.py swell    samples swollen to 300 KB by repeating the
#                              line that names a recipient (the virus
#                              notices; every sample in the slow suite),
#                              each answered within a CPU budget of a
#                              fifth of the time limit (2 s)
#
# A failing mutant is kept in $BACKSCATTER_MALFORMED_KEEP (when set) so
# that it can be committed to testdata/malformed/. Under valgrind
# (BACKSCATTER_VALGRIND, set by `meson test --setup valgrind`) or in a
# sanitizer build the address-space limit cannot hold and is not applied;
# under valgrind the time limit is multiplied by 30 and the inputs are
# thinned (the large ones skipped, 30 mutants).
. "$(dirname "$0")/tap.sh"
LIMIT_KB=1048576
# The limit a message must be answered within; a sanitizer build, several
# times slower, is given more (BACKSCATTER_MALFORMED_SECONDS).
SECONDS_EACH=${BACKSCATTER_MALFORMED_SECONDS:-10}
MUTANTS=${BACKSCATTER_MALFORMED_MUTANTS:-$([ "$SLOW" = 1 ] && echo 300 || echo 30)}
LARGE=1
if [ -n "${BACKSCATTER_VALGRIND:-}" ]; then
  SECONDS_EACH=300
  MUTANTS=30
  LARGE=0
fi
PY=$(command -v python3 || true)


# Can the program start under the address-space limit? Not with ASan's
# shadow memory, nor under valgrind.
set_address_space_limit $LIMIT_KB

mkdir -p "$T/out"
# check_one FILE LABEL [CPU]: run check on FILE and judge its answer; with
# CPU, it must come within that many seconds of processor time.
check_one () {
  local f=$1 label=$2 cpu=${3:-unlimited} out="$T/out/$n.json" err="$T/out/$n.err" rc start end
  start=$(date +%s%N)
  ( ulimit -v $limit; ulimit -S -t $cpu; exec timeout -k 5 $SECONDS_EACH "$BIN" check --json "$f" ) > "$out" 2> "$err"
  rc=$?
  end=$(date +%s%N)
  local ms=$(( (end - start) / 1000000 ))
  local why=""
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    why="no answer within $SECONDS_EACH s"
  elif [ $rc -eq 152 ]; then
    why="more than $cpu s of processor time"
  elif [ $rc -ge 128 ]; then
    why="killed by signal $((rc - 128))"
  elif [ "$(wc -l < "$out")" -ne 1 ]; then
    why="$(wc -l < "$out") lines of output, not one"
  elif ! grep -q '^{"source":.*"\(verdict\|error\)":' "$out"; then
    why="no result and no error in: $(head -c 200 "$out")"
  fi
  if [ -z "$why" ]; then
    ok "$label (exit $rc, ${ms} ms)"
    echo "$label" >> "$T/json-files"
    echo "$out" >> "$T/json-files"
  else
    not_ok "$label" "$why" "exit status $rc after ${ms} ms" "$(tail -n 5 "$err" | tr -d '\r')"
    if [ -n "${BACKSCATTER_MALFORMED_KEEP:-}" ]; then
      mkdir -p "$BACKSCATTER_MALFORMED_KEEP" && cp "$f" "$BACKSCATTER_MALFORMED_KEEP/"
    fi
  fi
}

# 1. The committed samples.
for f in "$SRC"/testdata/malformed/*.msg; do
  check_one "$f" "malformed/$(basename "$f")"
done

# Hostile configuration files (testdata/malformed/*.conf): a sample report
# judged with each must give a result, or an error naming the file (exit
# 78), never a crash.
for conf in "$SRC"/testdata/malformed/*.conf; do
  [ -f "$conf" ] || continue
  label="config/$(basename "$conf")"
  ( ulimit -v $limit; exec timeout -k 5 $SECONDS_EACH "$BIN" check --json --config "$conf" \
      "$SRC/testdata/rfc3464/failure.eml" ) > "$T/conf.out" 2> "$T/conf.err"
  rc=$?
  if [ $rc -ge 124 ]; then
    not_ok "$label" "exit status $rc" "$(tail -n 3 "$T/conf.err")"
  elif [ $rc -eq 78 ] && [ -s "$T/conf.err" ]; then
    ok "$label (a configuration error: $(head -n 1 "$T/conf.err" | tr -cd '[:print:]' | head -c 100))"
  elif grep -q '^{"source":.*"verdict":' "$T/conf.out"; then
    ok "$label (exit $rc)"
  else
    not_ok "$label" "exit status $rc, neither a result nor a configuration error"
  fi
done

# 2. The large ones, generated here.
if [ -z "$PY" ]; then
  n=$((n + 1)); echo "ok $n # SKIP python3 is missing: no generated inputs"
else
  if [ $LARGE = 1 ]; then
    "$PY" "$SRC/tests/make-malformed.py" large "$T/large"
    for f in "$T"/large/*.msg; do
      check_one "$f" "large/$(basename "$f")"
      rm -f "$f"
    done
  fi
  # 3. Mutants of the samples and, when present, of the shared corpus.
  "$PY" "$SRC/tests/make-malformed.py" mutate "$T/mut" "$MUTANTS" 20240411 "$SRC/testdata"
  if [ -n "$CORPUS" ]; then
    "$PY" "$SRC/tests/make-malformed.py" mutate "$T/mut-corpus" "$MUTANTS" 20240412 "$CORPUS"
  fi
  for f in "$T"/mut/*.msg "$T"/mut-corpus/*.msg; do
    [ -f "$f" ] || continue
    check_one "$f" "$(basename "$(dirname "$f")")/$(basename "$f")"
  done
  rm -rf "$T/mut" "$T/mut-corpus"
  # 4. Swollen samples: a report's cost grows with its size, not with its
  # size times its recipients (a measure of time: not under valgrind).
  [ -z "${BACKSCATTER_VALGRIND:-}" ] && "$PY" "$SRC/tests/make-malformed.py" swell "$T/swell" \
    $([ "$SLOW" = 1 ] && echo "$SRC/testdata" || echo "$SRC/testdata/virus $SRC/testdata/activehunter")
  for f in "$T"/swell/*.msg; do
    [ -f "$f" ] || continue
    check_one "$f" "$(basename "$f")" $(( SECONDS_EACH / 5 ))
    rm -f "$f"
  done

  # Every answer is one well-formed JSON object.
  if [ -s "$T/json-files" ]; then
    bad=$("$PY" - "$T/json-files" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().split("\n")
for label, path in zip(lines[0::2], lines[1::2]):
    try:
        obj = json.loads(open(path, encoding="utf-8").read())
        assert isinstance(obj, dict) and ("verdict" in obj or "error" in obj)
    except Exception as e:
        print("%s: %s" % (label, e))
PY
)
    if [ -z "$bad" ]; then
      ok "every answer is one JSON object with a verdict or an error, in UTF-8"
    else
      not_ok "every answer is one JSON object with a verdict or an error, in UTF-8" "$bad"
    fi
  fi
fi

echo "1..$n"
[ $failed -eq 0 ]
