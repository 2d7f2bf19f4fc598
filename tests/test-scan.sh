#!/bin/bash
# test-scan.sh — scan and filter on a generated Maildir of about a
# thousand messages (every sample of testdata/ plus ordinary mail), judged
# as the mail of the owner in testdata/owner.conf. TAP output.
#
#   exactly the backscatter is moved, and every message is present exactly
#   once afterwards; --dry-run changes nothing; scans killed with SIGKILL
#   at random moments, again and again, lose and duplicate nothing; filter
#   output is its input plus the added headers; --defang leaves a readable
#   bounce and the untouched original in quarantine; move=../x is refused.
. "$(dirname "$0")/tap.sh"

cd "$SRC/testdata" || exit 1
"$BIN" learn --quiet --config owner.conf --index "$T/owner.db" || { echo "Bail out! learn failed"; exit 1; }
B=("$BIN")
conf=(--config "$SRC/testdata/owner.conf" --index "$T/owner.db")

# --- the mailbox --------------------------------------------------------
M=$T/Maildir
mkdir -p "$M/cur" "$M/new" "$M/tmp"
i=0
while IFS= read -r f; do
  i=$((i + 1))
  cp "$f" "$M/new/1700000000.M${i}P1.test.example"
done < <(find "$SRC/testdata" -name '*.eml' -not -path '*/malformed/*' | sort; \
         find "$SRC/testdata/maildir/cur" "$SRC/testdata/maildir/new" -type f | sort)
for f in "$SRC"/testdata/maildir/cur/*; do
  i=$((i + 1)); cp "$f" "$M/cur/1700000000.M${i}P1.test.example:2,S"
done
while [ "$i" -lt 1000 ]; do
  i=$((i + 1))
  cat > "$M/cur/1700000000.M${i}P2.test.example:2,S" <<MSG
From: Person $i <person$i@example.net>
To: me@example.org
Subject: note number $i about the meeting
Date: Mon, 1 Apr 2024 10:$((i % 60)):00 +0000
Message-ID: <note-$i@example.net>

Hello, this is ordinary mail number $i.
MSG
done
# Large files, of which scan reads the start first and the rest only when
# the start does not settle them: a report whose report headers come
# after 20 KB of Received fields (in new/ and, with 200 KB of text after
# it, in cur/), and ordinary mail of 40 KB and 300 KB.
received () {
  local r
  for r in $(seq 300); do
    echo "Received: from relay$r.example.net by mx.example.org; Fri, 17 Mar 2023 14:30:12 +0100"
  done
}
text () { local r; for r in $(seq "$1"); do echo "Minutes of the meeting, item by item, as agreed on the day."; done; }
{ received; cat "$SRC/testdata/postfix/delayed.eml"; } > "$M/new/1700000001.M1P3.test.example"
{ received; cat "$SRC/testdata/rfc3464/failure.eml"; text 3300; } > "$M/cur/1700000001.M2P3.test.example:2,S"
for lines in 700 5000; do
  { printf 'From: Ann <ann@example.net>\nTo: me@example.org\nSubject: minutes, %s lines\n\n' $lines; text $lines; } \
    > "$M/cur/1700000001.M${lines}P3.test.example:2,S"
done
total=$(find "$M/cur" "$M/new" -type f | wc -l)
# sums MAILDIR: the checksums of its messages (the files of every cur/ and new/).
sums () { find "$1" \( -path '*/cur/*' -o -path '*/new/*' \) -type f -print0 \
          | xargs -0 sha256sum | awk '{print $1}' | sort; }
sums "$M" > "$T/before"
check "generated Maildir of about 1000 messages" '[ "$total" -ge 1000 ]' "got $total"

# What check says of each file: the backscatter set.
find "$M/cur" "$M/new" -type f -print0 | xargs -0 "$BIN" check --json "${conf[@]}" > "$T/check.jsonl"
grep -o '"source":"[^"]*"' "$T/check.jsonl" | wc -l > "$T/n"
python3 - "$T/check.jsonl" > "$T/expected" <<'PY'
import json, os, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    if o.get("verdict") == "backscatter":
        print(os.path.basename(o["source"]))
PY
sort -o "$T/expected" "$T/expected"
nb=$(wc -l < "$T/expected")
check "some backscatter among the messages" '[ "$nb" -ge 3 ]' "got $nb"

# --- dry run --------------------------------------------------------------
"$BIN" scan "${conf[@]}" "$M" --action move=Backscatter --dry-run > "$T/dry.out"
sums "$M" > "$T/after-dry"
check "--dry-run changes nothing" 'cmp -s "$T/before" "$T/after-dry" && [ ! -e "$M/.Backscatter" ]'

# --- threads -------------------------------------------------------------
# Messages are read and parsed on several threads but reported in order:
# the output is the same whatever the number of threads.
for j in 1 2 8; do
  "$BIN" scan "${conf[@]}" "$M" --json --jobs $j > "$T/jobs$j.jsonl"
done
check "scan --json says the same, in the same order, with 1, 2 and 8 threads" \
  'cmp -s "$T/jobs1.jsonl" "$T/jobs2.jsonl" && cmp -s "$T/jobs1.jsonl" "$T/jobs8.jsonl" && [ -s "$T/jobs1.jsonl" ]' \
  "$(diff "$T/jobs1.jsonl" "$T/jobs8.jsonl" | head -5)"
python3 - "$T/jobs1.jsonl" "$T/check.jsonl" > "$T/jobs-cmp" <<'PY'
import json, os, sys
# scan hands out new/ then cur/, each sorted by name; and says of each
# bounce what check says of the same file.
scan = [o for o in map(json.loads, open(sys.argv[1])) if "summary" not in o]
check = {os.path.basename(o["source"]): o for o in map(json.loads, open(sys.argv[2])) if "kind" in o}
keys = [(0 if "/new/" in o["source"] else 1, os.path.basename(o["source"])) for o in scan]
bad = [o["source"] for o in scan
       if check.get(os.path.basename(o["source"]), {}).get("verdict") != o.get("verdict")]
# and reports every message check calls a report of some kind
reports = {k for k, o in check.items() if o["kind"] != "not-bounce"}
missed = sorted(reports - {os.path.basename(o["source"]) for o in scan})
print("order" if keys != sorted(keys) else "", len(bad) + len(missed), *(bad + missed)[:3])
PY
check "scan reports in name order and agrees with check on each bounce" '[ "$(cat "$T/jobs-cmp")" = " 0" ]' "$(cat "$T/jobs-cmp")"
check "scan reports the large reports whose report headers come late" \
  'grep -q M1P3 "$T/jobs1.jsonl" && grep -q M2P3 "$T/jobs1.jsonl"' "$(grep -c P3 "$T/jobs1.jsonl")"
"$BIN" scan "${conf[@]}" "$M" --jobs 65 > /dev/null 2>&1
check "--jobs 65 is refused" '[ $? = 64 ]'

# --- move ----------------------------------------------------------------
"$BIN" scan "${conf[@]}" "$M" --action move=Backscatter --quiet > "$T/move.out"
status=$?
(cd "$M/.Backscatter" && find cur new -type f | xargs -n1 basename | sort) > "$T/moved"
check "exactly the backscatter is moved" 'cmp -s "$T/expected" "$T/moved"' "$(diff "$T/expected" "$T/moved" | head -5)"
check "scan exits 0 when backscatter was found" '[ "$status" = 0 ]' "exit $status"
sums "$M" > "$T/after-move"
check "every message present exactly once after the move" 'cmp -s "$T/before" "$T/after-move"'
check "flags and names kept" '[ -z "$(cd "$M/.Backscatter/cur" 2>/dev/null && ls | grep -v ":2,S$")" ]'
"$BIN" scan "${conf[@]}" "$M" --action move=Backscatter --quiet > "$T/again.out"
check "a second scan is quiet and moves nothing" '[ ! -s "$T/again.out" ] || ! grep -q "[1-9][0-9]* moved" "$T/again.out"' "$(cat "$T/again.out")"

# --- SIGKILL at random moments ---------------------------------------------
rm -rf "$T/K"; cp -a "$M" "$T/K"; mv "$T/K/.Backscatter"/cur/* "$T/K/cur/" 2>/dev/null
mv "$T/K/.Backscatter"/new/* "$T/K/new/" 2>/dev/null; rm -rf "$T/K/.Backscatter"
sums "$T/K" > "$T/k-before"
kills=0
for round in $(seq 1 $([ "$SLOW" = 1 ] && echo 25 || echo 6)); do
  "$BIN" scan "${conf[@]}" "$T/K" --action move=Backscatter --quiet > /dev/null 2>&1 &
  pid=$!
  sleep "0.0$((RANDOM % 10))$((RANDOM % 10))"
  kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
  wait "$pid" 2>/dev/null
done
"$BIN" scan "${conf[@]}" "$T/K" --action move=Backscatter --quiet > /dev/null 2>&1
sums "$T/K" > "$T/k-after"
(cd "$T/K/.Backscatter" && find cur new -type f | xargs -n1 basename | sort) > "$T/k-moved"
check "after $kills killed scans every message is present exactly once" 'cmp -s "$T/k-before" "$T/k-after"' \
  "$(diff "$T/k-before" "$T/k-after" | head -5)"
check "after killed scans exactly the backscatter is moved" 'cmp -s "$T/expected" "$T/k-moved"'

# --- folder names ----------------------------------------------------------
"$BIN" scan "${conf[@]}" "$M" --action move=../x > /dev/null 2>&1
st=$?
check "move=../x is refused" '[ "$st" = 64 ] && [ ! -e "$T/x" ] && [ ! -e "$M/../.x" ]'
"$BIN" scan "${conf[@]}" "$M" --action move=a/b > /dev/null 2>&1
check "move=a/b is refused" '[ $? = 64 ]'

# --- what is not a message ---------------------------------------------------
# A FIFO, a folder and a link to a file outside, among the messages: each is
# passed over, none holds the scan up, and the messages are all read.
O="$T/odd"
mkdir -p "$O/new" "$O/cur" "$O/tmp" "$O/cur/1700000001.folder.example"
cp "$SRC/testdata/maildir/cur/"* "$O/cur/"
mkfifo "$O/cur/1700000002.fifo.example"
ln -s /etc/passwd "$O/cur/1700000003.link.example"
timeout 60 "$BIN" scan "${conf[@]}" --json "$O" > "$T/odd.json" 2> "$T/odd.err"
st=$?
check "a FIFO, a folder and a link in a Maildir are passed over" \
  '[ "$st" != 124 ] && [ "$st" -le 2 ] && [ ! -s "$T/odd.err" ] && ! grep -q passwd "$T/odd.json"' \
  "exit $st: $(head -3 "$T/odd.err")"

# --- lock ------------------------------------------------------------------
# (held in $XDG_RUNTIME_DIR/backscatter, named after device and inode)
mkdir -p -m 700 "$XDG_RUNTIME_DIR/backscatter"
exec 9>"$XDG_RUNTIME_DIR/backscatter/$(stat -c %d-%i "$M").lock"
flock -n 9
"$BIN" scan "${conf[@]}" "$M" --action move=Backscatter > /dev/null 2>&1
st=$?
exec 9>&-
check "a second scan of a locked mailbox exits 75" '[ "$st" = 75 ]' "exit $st"

# --- filter ----------------------------------------------------------------
mkdir -p "$T/filtered"
{ find "$SRC/testdata" -type f \( -name '*.eml' -o -path '*/maildir/*' \) -not -path '*/malformed/*' -not -name .keep -not -name .backscatter.lock | sort
  # The whole corpus in the slow suite; otherwise (and under valgrind, one
  # slow process per message) a fortieth of it.
  if [ -n "$CORPUS" ]; then
    find "$CORPUS/bounces" "$CORPUS/not-bounces" -type f | sort \
      | awk -v step="$([ "$SLOW" = 1 ] && [ -z "${BACKSCATTER_VALGRIND:-}" ] || echo 40)" 'step == "" || NR % step == 1'
  fi
} > "$T/filter-list"
j=0
while IFS= read -r f; do
  j=$((j + 1))
  "$BIN" filter "${conf[@]}" < "$f" > "$T/filtered/$j" 2>/dev/null || echo "exit $?" >> "$T/filtered/$j.status"
done < "$T/filter-list"
# Each output less the added header lines (and their folded continuations)
# must be its input, byte for byte.
python3 - "$T/filter-list" "$T/filtered" > "$T/filter.out" <<'PY'
import os, sys
bad = 0
for j, path in enumerate(open(sys.argv[1]).read().splitlines(), 1):
    src = open(path, 'rb').read()
    out = open(os.path.join(sys.argv[2], str(j)), 'rb').read()
    start = src.index(b'\n') + 1 if src.startswith(b'From ') and b'\n' in src else 0
    rest = out[start:]
    ok = out[:start] == src[:start] and rest.startswith(b'X-Backscatter: ')
    if ok:
        lines = rest.split(b'\n')
        i = 1
        while i < len(lines) and (lines[i].startswith(b'X-Backscatter-Evidence:') or (lines[i][:1] in (b' ', b'\t') and lines[i].strip())):
            i += 1
        ok = out[:start] + b'\n'.join(lines[i:]) == src
    if not ok:
        bad += 1
        print("# filter changed", path)
print(bad, j)
PY
read -r bad count < <(tail -1 "$T/filter.out")
check "filter adds headers and changes nothing else ($count messages)" '[ "$bad" = 0 ]' "$(head -5 "$T/filter.out")"
printf 'From: a@example.com\r\nSubject: x\r\n\r\nno final newline' > "$T/crlf.eml"
"$BIN" filter "${conf[@]}" < "$T/crlf.eml" > "$T/crlf.out"
check "filter keeps CRLF and a missing final newline" \
  'head -c 15 "$T/crlf.out" | grep -q "^X-Backscatter:" && grep -q $'"'"'^X-Backscatter: .*\r$'"'"' "$T/crlf.out" && [ "$(tail -c 7 "$T/crlf.out")" = newline ]'
# A header block over 256 KiB: an error for this message, which is passed on.
printf 'Subject: %0300000d\n\nbody\n' 0 > "$T/err.eml"
"$BIN" filter "${conf[@]}" < "$T/err.eml" > "$T/err.out" 2>/dev/null
st=$?
check "filter writes the message unchanged on an error and exits 0" '[ "$st" = 0 ] && cmp -s "$T/err.out" "$T/err.eml"'

# --- defang ----------------------------------------------------------------
D=$T/Defang
mkdir -p "$D/cur" "$D/new" "$D/tmp"
worm=$(grep -l -i 'name="\?[^"]*\.\(zip\|scr\|exe\|pif\)' "$SRC"/testdata/virus/*.eml "$SRC"/testdata/maildir/*/* 2>/dev/null | head -1)
cp "$worm" "$D/new/1700000001.M1P1.test.example"
orig_sum=$(sha256sum < "$worm")
"$BIN" scan "$D" --rules "$SRC/rules" --config /dev/null --defang Quarantine --json > "$T/defang.jsonl"
kept=$(find "$D/.Quarantine" -type f -not -name maildirfolder 2>/dev/null | head -1)
check "--defang keeps the untouched original in quarantine" '[ -n "$kept" ] && [ "$(sha256sum < "$kept")" = "$orig_sum" ]' "$(cat "$T/defang.jsonl")"
# (rewritten, it is named with its new size: 1700000001.M1P1.test.example,S=N)
defanged=$(ls "$D/new/1700000001.M1P1.test.example"*)
"$BIN" check --json --config /dev/null "$defanged" > "$T/defanged.json"
check "--defang leaves a readable bounce without the risky part" \
  'grep -q "\"kind\":\"" "$T/defanged.json" && ! grep -q "\"risky\":true" "$T/defanged.json" && grep -q "removed the attachment" "$defanged"'


# --- tag -----------------------------------------------------------------
rm -rf "$T/G"; cp -a "$T/K" "$T/G"; mv "$T/G/.Backscatter"/cur/* "$T/G/cur/" 2>/dev/null
mv "$T/G/.Backscatter"/new/* "$T/G/new/" 2>/dev/null; rm -rf "$T/G/.Backscatter"
"$BIN" scan "${conf[@]}" "$T/G" --action tag --quiet > /dev/null
# A rewritten message's name says its new size (",S=N"): left out here.
tagged=$(grep -l '^X-Backscatter: backscatter' -r "$T/G/cur" "$T/G/new" | xargs -n1 basename | sed 's/,S=[0-9]*//' | sort)
untagged_changed=0
declare -A is_expected
while IFS= read -r b; do is_expected[$b]=1; done < "$T/expected"
for f in $(cd "$T/G" && find cur new -type f); do
  b=${f##*/}
  [[ $b =~ ^(.*),S=[0-9]+(.*)$ ]] && b=${BASH_REMATCH[1]}${BASH_REMATCH[2]}
  if [ -z "${is_expected[$b]:-}" ]; then
    cmp -s "$T/G/$f" "$T/K/.Backscatter/$f" 2>/dev/null || cmp -s "$T/G/$f" "$M/$f" 2>/dev/null || untagged_changed=$((untagged_changed + 1))
  fi
done
check "tag adds headers to exactly the backscatter" '[ "$tagged" = "$(cat "$T/expected")" ]'
check "tag leaves every other message unchanged" '[ "$untagged_changed" = 0 ]' "$untagged_changed changed"
check "tag leaves nothing in tmp/" '[ -z "$(ls "$T/G/tmp")" ]'

# --- mbox ------------------------------------------------------------------
MB=$T/mail
mkdir -p "$MB"
make_mbox "$MB/inbox"
count_msgs () { grep -c '^From ' "$1" 2>/dev/null || echo 0; }
before_n=$(count_msgs "$MB/inbox")
"$BIN" scan "${conf[@]}" "$MB/inbox" --json > "$T/mbox-report.jsonl"
"$BIN" scan "${conf[@]}" "$MB/inbox" --json --jobs 1 > "$T/mbox-report1.jsonl"
check "mbox: the same report with one thread and with several" \
  'cmp -s "$T/mbox-report.jsonl" "$T/mbox-report1.jsonl" && [ -s "$T/mbox-report1.jsonl" ]'
want_moved=$(grep -c '"verdict":"backscatter"' "$T/mbox-report.jsonl")
"$BIN" scan "${conf[@]}" "$MB/inbox" --action move=Backscatter --quiet > /dev/null
after_n=$(count_msgs "$MB/inbox"); moved_n=$(count_msgs "$MB/Backscatter")
check "mbox: exactly the backscatter moved to the mbox beside it ($moved_n of $before_n)" \
  '[ "$moved_n" = "$want_moved" ] && [ "$want_moved" -gt 0 ] && [ $((after_n + moved_n)) = "$before_n" ]'
"$BIN" scan "${conf[@]}" "$MB/Backscatter" --json > "$T/moved-report.jsonl"
check "mbox: every moved message is still whole and judged backscatter" \
  '[ "$(grep -c "\"verdict\":\"backscatter\"" "$T/moved-report.jsonl")" = "$want_moved" ]'
check "mbox: no lock left behind" '[ ! -e "$MB/inbox.lock" ]'

# --- today's ordinary mail ------------------------------------------------
# bench/make-ordinary.pl's mail: personal mail in eight languages and
# charsets, newsletters, shipping and payment notices from no-reply
# addresses, build and monitoring alerts, digests of embedded messages,
# attachments. Many carry a bounce's words or shapes; none is a report,
# with every rule or with none of the format rules.
if command -v perl > /dev/null; then
  O=$T/ordinary
  mkdir -p "$O/cur" "$O/new" "$O/tmp"
  want=$((SLOW == 1 ? 2000 : 400))
  perl "$SRC/bench/make-ordinary.pl" "$O/cur" "$want" 7
  mkdir -p "$T/rules-kinds/formats"
  cp "$SRC"/rules/*.rules "$T/rules-kinds/"
  cp "$SRC/rules/formats/10-kinds.rules" "$T/rules-kinds/formats/"
  for r in "$SRC/rules" "$T/rules-kinds"; do
    "$BIN" scan --rules "$r" --config /dev/null --json "$O" > "$T/ordinary.jsonl" 2> "$T/ordinary.err"
    st=$?
    check "today's ordinary mail: no report in $want messages (rules: ${r#"$T"/})" \
      '[ $st = 0 ] && ! grep -q "^{\"source\"" "$T/ordinary.jsonl" && [ ! -s "$T/ordinary.err" ] \
       && grep -q "\"messages\":$want,\"bounces\":0," "$T/ordinary.jsonl"' \
      "exit $st" "$(head -c 600 "$T/ordinary.jsonl" "$T/ordinary.err")"
  done
else
  ok "# SKIP no perl for bench/make-ordinary.pl"
fi

echo "1..$n"
