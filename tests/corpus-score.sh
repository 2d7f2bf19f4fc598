#!/bin/bash
# corpus-score.sh [BACKSCATTER] — score `backscatter check --json` over the
# shared corpus (../shared/corpus) twice: against truth.json as it is, and
# against truth.json with tests/corpus-corrections.json applied (the cases
# where the message itself says otherwise than the truth; each entry says
# why). Needs ../shared/bin/score.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$SRC/build/cli/backscatter}
C=$SRC/../shared/corpus
[ -d "$C" ] || { echo "no corpus at $C"; exit 0; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
find "$C/bounces" "$C/not-bounces" -type f -print0 | XDG_CONFIG_HOME=$T XDG_DATA_HOME=$T XDG_CACHE_HOME=$T xargs -0 "$BIN" check --json > "$T/results.jsonl" || true
python3 - "$C/truth.json" "$SRC/tests/corpus-corrections.json" "$T/truth.json" <<'PY'
import json, sys
truth = json.load(open(sys.argv[1]))
for path, fix in json.load(open(sys.argv[2]))["samples"].items():
    sample = truth["samples"].setdefault(path, {})
    sample.update({k: v for k, v in fix.items() if k != "why"})
json.dump(truth, open(sys.argv[3], "w"))
PY
echo "against truth.json:"
"$SRC/../shared/bin/score" "$T/results.jsonl"
echo "against truth.json with tests/corpus-corrections.json:"
"$SRC/../shared/bin/score" --truth "$T/truth.json" --root "$C" "$T/results.jsonl"
