#!/bin/bash
# test-facts.sh — what a correct reader must find in a sample, without
# pinning the whole JSON: every testdata/**/NAME.eml with a NAME.facts
# beside it is read with `backscatter check --json` and compared with the
# facts it lists, one per line:
#
#   kind failure                     the kind, exactly
#   recipients a@example.com ...     the failed recipients (action failed
#                                    or none; for other kinds every one),
#                                    as a set, lower case; `-` for none
#   statuses 5.1.1 4.2.2             their RFC 3463 codes, as a multiset;
#                                    `-` for none
#   reasons expired userunknown      their reasons, as a multiset
#   message_id <id@example.org>      the original's Message-ID; `-` when
#                                    no original or none is found
#   todo WHY                         optional: a known shortcoming; the
#                                    case is reported as TAP TODO
#
# A fact left out is not checked. Samples with a NAME.facts and no
# NAME.expected are left out of the golden test. A sample that the other
# tests cannot take yet (they read every .eml below testdata/) is kept as
# NAME.msg and renamed NAME.eml once the program reads it. When a `todo` sample
# passes, the test says so and fails (an unexpected pass): remove its
# `todo` line, by hand or with BACKSCATTER_FACTS_UNTODO=1, which removes
# it from every sample that passes. TAP output.
. "$(dirname "$0")/tap.sh"

cd "$SRC/testdata" || exit 1
find . -name '*.facts' | sed 's|^\./||' | sort > "$T/facts"
if [ ! -s "$T/facts" ]; then
  echo "1..0 # SKIP no .facts files in testdata/"
  exit 0
fi
while read -r f; do
  if [ -f "${f%.facts}.eml" ]; then echo "${f%.facts}.eml"; else echo "${f%.facts}.msg"; fi
done < "$T/facts" > "$T/samples"
tr '\n' '\0' < "$T/samples" | xargs -0 "$BIN" check --json > "$T/out.jsonl" 2> "$T/err"
python3 - "$T/out.jsonl" "$T/facts" "$T/samples" "${BACKSCATTER_FACTS_UNTODO:-0}" <<'PY'
import json, re, sys

out, listing, samples, untodo = sys.argv[1:5]
results = {}
for line in open(out, encoding="utf-8", errors="replace"):
    if line.strip():
        o = json.loads(line)
        results[o.get("source")] = o


def addr(a):
    a = (a or "").strip().lower()
    m = re.search(r"<([^<>]*)>", a)
    return (m.group(1) if m else a).strip().strip(".")


def msgid(m):
    m = (m or "").strip()
    return m[1:-1].strip() if m.startswith("<") and m.endswith(">") else m


n = failed = 0
for facts, eml in zip(open(listing).read().split(), open(samples).read().split()):
    want, todo = {}, None
    for line in open(facts, encoding="utf-8"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(" ")
        if key == "todo":
            todo = value.strip() or "known shortcoming"
        elif key in ("kind", "recipients", "statuses", "reasons", "message_id"):
            want[key] = value.strip()
        else:
            sys.exit(f"{facts}: unknown fact {key!r}")
    r = results.get(eml)
    problems = []
    if r is None:
        problems.append("no result")
    elif r.get("error"):
        problems.append(f"error: {r['error']}")
    else:
        kind = r.get("kind")
        rcpts = [x for x in r.get("recipients") or []
                 if kind != "failure" or x.get("action") in (None, "failed")]
        if "kind" in want and kind != want["kind"]:
            problems.append(f"kind {kind}, want {want['kind']}")
        if "recipients" in want:
            w = set() if want["recipients"] == "-" else {addr(a) for a in want["recipients"].split()}
            g = {addr(x.get("address")) for x in rcpts}
            if g != w:
                problems.append(f"recipients {sorted(g) or '-'}, want {sorted(w) or '-'}")
        if "statuses" in want:
            w = [] if want["statuses"] == "-" else sorted(want["statuses"].split())
            g = sorted(x.get("status") or "" for x in rcpts)
            if g != w:
                problems.append(f"statuses {g or '-'}, want {w or '-'}")
        if "reasons" in want:
            w = sorted(want["reasons"].split())
            g = sorted(x.get("reason") or "" for x in rcpts)
            if g != w:
                problems.append(f"reasons {g}, want {w}")
        if "message_id" in want:
            w = "" if want["message_id"] == "-" else msgid(want["message_id"])
            g = msgid(((r.get("original") or {}).get("message_id")))
            if g != w:
                problems.append(f"message_id {g or '-'}, want {w or '-'}")
    n += 1
    directive = f" # TODO {todo}" if todo else ""
    if problems:
        failed += 0 if todo else 1
        print(f"not ok {n} - {eml}{directive}")
        for p in problems:
            print(f"# {p}")
    else:
        print(f"ok {n} - {eml}{directive}")
        if todo:
            print(f"# {eml} passes now: remove the todo line of {facts}")
            if untodo == "1":
                text = open(facts, encoding="utf-8").read()
                open(facts, "w", encoding="utf-8").write(
                    re.sub(r"^todo\b.*\n?", "", text, flags=re.M))
print(f"1..{n}")
sys.exit(1 if failed else 0)
PY
