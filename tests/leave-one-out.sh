#!/bin/bash
# leave-one-out.sh — how well the program reads reports it has no format
# rule for, measured on the shared corpus (../shared/corpus) by leaving
# rule files out. TAP output; the figures are printed as `#` lines.
#
# For every file in rules/formats/ but 10-kinds.rules (the kinds: virus
# notices, challenges, auto-replies), a copy of rules/ without that file is
# passed with `check --json --rules DIR` over all shared bounces. The
# file's *family* is the samples it is about: the corpus samples named
# lhost-NAME-* or rhost-NAME-* where NAME is one of the formats the file
# defines (`format NAME`) or the file's own name without its number
# (30-zoho.rules: zoho), and the samples that, with every file in place, are
# read by one of its formats. A file that defines several formats has all
# their samples as its family; a sample may belong to two families.
#
# The table, one row per file: the family's size, then recall (reports
# recognised as a failure or virus notice), recipients (the failed
# recipients exactly), statuses (their RFC 3463 codes) and Message-ID (the
# original's), first with the file removed, then with every file in place;
# then "bounces" with the file removed, over all shared bounces (what else
# leaned on that file). The "families" line sums the rows (each family
# scored with its own file removed); "no format file" reads all bounces
# with only 10-kinds.rules, reasons.rules and whatever else rules/ holds
# outside formats/; "every file" is today's rules. Scores come from
# ../shared/bin/score against ../shared/corpus/truth.json.
#
# Asserted: no ordinary message in ../shared/corpus/not-bounces (one the
# truth calls not-bounce, autoreply, ...) becomes a failure or a virus
# notice, with no format file and with every file. The floors the reader
# is to meet are in FLOORS below and are asserted too (set
# BACKSCATTER_LOO_FLOORS=0 to only print them).
#
# Usage: tests/leave-one-out.sh   (BACKSCATTER_BIN defaults to
#        build/cli/backscatter; BACKSCATTER_CORPUS to ../shared/corpus;
#        meson runs it in the slow suite)
# Runs the check processes two at a time (LOO_JOBS). LOO_MISSES=N lists
# up to N samples per metric that the run with no format file misses.
SRC=$(cd "$(dirname "$0")/.." && pwd)
: "${BACKSCATTER_BIN:=$SRC/build/cli/backscatter}"
export BACKSCATTER_BIN
. "$SRC/tests/tap.sh"

# Floors: "set metric percent" lines. families = each family with its own
# file removed (summed); none = no format file, all bounces; every = all
# rules, all bounces.
FLOORS="
families recall 98.2
families recipients 99
families statuses 96
families message_id 99.2
none recall 98.5
none recipients 99.2
none statuses 96.1
none reasons 87.3
none message_id 99.2
every recall 100
every recipients 99.2
every statuses 97.5
every reasons 93
every message_id 99.2
"
CHECK_FLOORS=${BACKSCATTER_LOO_FLOORS:-1}

C=$CORPUS
SCORE=$C/../bin/score
if [ -z "$C" ] || [ ! -d "$C/not-bounces" ] || [ ! -f "$C/truth.json" ] || [ ! -f "$SCORE" ]; then
  echo "1..0 # SKIP needs the shared corpus, its truth.json and ../bin/score"
  exit 0
fi

# One rules folder per run: rules-FILE (that file removed), rules-none,
# and the source tree's own for "every".
mkdir -p "$T/out"
names=()
for f in "$SRC"/rules/formats/*.rules; do
  b=$(basename "$f" .rules)
  [ "$b" = 10-kinds ] && continue
  names+=("$b")
  cp -r "$SRC/rules" "$T/rules-$b"
  rm "$T/rules-$b/formats/$b.rules"
done
cp -r "$SRC/rules" "$T/rules-none"
find "$T/rules-none/formats" -name '*.rules' ! -name 10-kinds.rules -delete
ln -s "$SRC/rules" "$T/rules-every"

# A job is "RULES SET": check every file of SET (bounces or not-bounces)
# with rules-RULES, into out/RULES.SET.jsonl, and its exit status beside.
run_job () {
  local rules=$1 set=$2
  find "$C/$set" -type f -print0 | sort -z \
    | xargs -0 "$BACKSCATTER_BIN" check --json --rules "$T/rules-$rules" \
      > "$T/out/$rules.$set.jsonl" 2> "$T/out/$rules.$set.err"
  echo $? > "$T/out/$rules.$set.rc"
}
export -f run_job
export T C
{
  echo "none not-bounces"; echo "every not-bounces"
  echo "none bounces"; echo "every bounces"
  for b in "${names[@]}"; do echo "$b bounces"; done
} | xargs -P "${LOO_JOBS:-2}" -L 1 bash -c 'run_job "$@"' run_job

nbounces=$(find "$C/bounces" -type f | wc -l)
nplain=$(find "$C/not-bounces" -type f | wc -l)
for r in none every "${names[@]}"; do
  for s in bounces not-bounces; do
    [ -f "$T/out/$r.$s.jsonl" ] || continue
    want=$nbounces; [ $s = not-bounces ] && want=$nplain
    got=$(wc -l < "$T/out/$r.$s.jsonl")
    # xargs says 123 when a check exits non-zero, which check does for
    # "no backscatter found"; only a missing result is a failure.
    check "rules-$r over $s: a result for each of the $want messages" '[ "$got" = "$want" ]' \
      "got $got results, exit $(cat "$T/out/$r.$s.rc")" "$(head -5 "$T/out/$r.$s.err")"
  done
done

python3 - "$SCORE" "$C" "$T" "$CHECK_FLOORS" "$FLOORS" "$SRC/rules/formats" "$n" "${names[@]}" <<'PY'
import collections, importlib.machinery, importlib.util, json, os, re, sys

score_path, corpus, tmp, check_floors, floors_text, formats_dir, first = sys.argv[1:8]
names = sys.argv[8:]
loader = importlib.machinery.SourceFileLoader("score", score_path)
spec = importlib.util.spec_from_loader("score", loader)
score = importlib.util.module_from_spec(spec)
loader.exec_module(score)
truth = json.load(open(os.path.join(corpus, "truth.json")))["samples"]
bounces = {k: v for k, v in truth.items() if k.startswith("bounces/")}
plain = {k: v for k, v in truth.items() if k.startswith("not-bounces/")}
METRICS = ["recall", "recipients", "statuses", "message_id"]
n = int(first)
failed = 0


def results(run, subset):
    return score.load_results(os.path.join(tmp, "out", f"{run}.{subset}.jsonl"), corpus)


def tally(samples, res):
    t, _ = score.score(samples, res)
    return t["all"]


def cells(t):
    out = []
    for m in METRICS:
        r = t.rate(m)
        out.append(f"{'-':>11}" if r is None else f"{r[0]*100:6.1f}%{r[2]:>4}")
    return " ".join(out)


def tap(ok, text, *lines):
    global n, failed
    n += 1
    failed += 0 if ok else 1
    print(f"{'ok' if ok else 'not ok'} {n} - {text}")
    for l in lines:
        print(f"# {l}")
    return ok


every = results("every", "bounces")
fmt_of = {k: o.get("format") for k, o in every.items()}
fam_rx = re.compile(r"^bounces/[lr]host-(.+)-\d+\.eml$")
print("# leave one format file out: its family with the file removed | with every file"
      " | all bounces with the file removed")
head = " ".join(f"{m[:10]:>11}" for m in METRICS)
print(f"# {'file':<22}{'n':>4}  {head}  | {head}  | {head}")
sums = score.Tally()
members = 0
for name in names:
    text = open(os.path.join(formats_dir, name + ".rules")).read()
    formats = set(re.findall(r"^format\s+(\S+)", text, re.M))
    stems = formats | {re.sub(r"^\d+-", "", name)}
    family = {k: v for k, v in bounces.items()
              if (fam_rx.match(k) and fam_rx.match(k).group(1) in stems)
              or fmt_of.get(k) in formats}
    members += len(family)
    gone = results(name, "bounces")
    t_gone = tally(family, gone)
    for key, v in t_gone.c.items():
        sums.c[key] += v
    print(f"# {name:<22}{len(family):>4}  {cells(t_gone)}  | {cells(tally(family, every))}"
          f"  | {cells(tally(bounces, gone))}")
print(f"# {'families (own removed)':<22}{members:>4}  {cells(sums)}")
none = tally(bounces, results("none", "bounces"))
full = tally(bounces, every)
print(f"# {'no format file':<22}{len(bounces):>4}  {cells(none)}")
print(f"# {'every file':<22}{len(bounces):>4}  {cells(full)}")
# LOO_MISSES=N: name up to N samples the no-format run misses, per metric.
_, none_misses = score.score(bounces, results("none", "bounces"))
for m in METRICS:
    for x in none_misses[m][:int(os.environ.get("LOO_MISSES", "0"))]:
        print(f"# no format file, miss {m}: {x}")
for label, t in (("no format file", none), ("every file", full)):
    r = t.rate("reasons")
    print(f"# {label}: reasons {r[0]*100:.1f}% of {r[2]}" if r else f"# {label}: reasons -")

# Ordinary mail stays ordinary.
for run in ("none", "every"):
    res = results(run, "not-bounces")
    bad = sorted(k for k, v in plain.items()
                 if score.KIND_ALIASES.get(v.get("kind"), v.get("kind")) in score.NEGATIVE
                 and (res.get(k) or {}).get("kind") in score.POSITIVE)
    label = "no format file" if run == "none" else "every file"
    tap(not bad, f"{label}: none of the ordinary messages in not-bounces is a failure or virus notice",
        *[f"{k}: {res[k].get('kind')} [{res[k].get('format')}]" for k in bad[:20]])

# The floors.
by = {"families": sums, "none": none, "every": full}
for line in floors_text.strip().splitlines():
    what, metric, floor = line.split()
    r = by[what].rate(metric)
    got = r[0] * 100 if r else 0.0
    text = f"{what} {metric} {got:.1f}% >= {floor}%"
    if check_floors == "1":
        tap(got + 1e-9 >= float(floor), text)
    else:
        print(f"# floor (not checked): {text}{'' if got + 1e-9 >= float(floor) else '  BELOW'}")
open(os.path.join(tmp, "counts"), "w").write(f"{n} {failed}\n")
PY
# The Python part goes on numbering the tests and says where it ended.
if [ -f "$T/counts" ]; then
  read -r n more < "$T/counts"
  failed=$((failed + more))
else
  not_ok "the scores could be computed"
fi
echo "1..$n"
[ "$failed" = 0 ]
