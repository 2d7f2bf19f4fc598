#!/bin/bash
# test-mbox.sh — scan's actions on mbox files never lose, damage or
# misplace a message. TAP output.
#
#   a move= target that is the mbox itself, or a lock or temporary name,
#   is refused before anything is read; an interrupted rewrite (killed at
#   each step) is recovered and nothing is lost or doubled; a full disk
#   leaves the target as it was; appends by other programs during a
#   rewrite all survive; owner, group and mode are kept; report and
#   --dry-run write nothing; tag and --defang work on an mbox; messages
#   stored with their own (escaped) "From " line read as without it and
#   are tagged below it; and (slow suite: 50 runs, quick: 5) scans killed
#   at random moments while another program appends lose and duplicate
#   nothing.
. "$(dirname "$0")/tap.sh"

cd "$SRC/testdata" || exit 1
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


# --- 6: a rewrite killed at each step ----------------------------------------
# strace kills the scan at the Nth call of a system call that writes
# (the backup, the target, the mbox) or replaces a file; two later runs
# must leave every message exactly once, in the mbox or in the target.
bs_ids () { grep -a '^From ' "$1" | sort; }
"$BIN" scan "${conf[@]}" "$T/pristine" --json | python3 -c '
import json, sys
for l in sys.stdin:
    o = json.loads(l)
    if o.get("verdict") == "backscatter":
        print(o["source"].rsplit(":", 1)[1])' > "$T/bs-offsets"
bad=""
runs=0
for call in write pwrite64 rename ftruncate fsync; do
  for when in 1 2; do
    rm -f "$W/inbox" "$W/Backscatter"; cp "$T/pristine" "$W/inbox"
    strace -f -o /dev/null -e trace=$call -e inject=$call:signal=KILL:when=$when \
      "$BIN" scan "${conf[@]}" "$W/inbox" --action move=Backscatter --quiet > /dev/null 2>&1
    "$BIN" scan "${conf[@]}" "$W/inbox" --action move=Backscatter --quiet > /dev/null 2> "$T/err1"
    st1=$?
    "$BIN" scan "${conf[@]}" "$W/inbox" --action move=Backscatter --quiet > /dev/null 2> "$T/err2"
    runs=$((runs + 1))
    if [ "$(ids "$W/inbox" "$W/Backscatter")" != "$(cat "$T/pristine.ids")" ] \
       || [ "$(count_msgs "$W/Backscatter")" != "$want_moved" ]; then
      bad="$bad $call#$when(exit $st1: $(head -c 200 "$T/err1"))"
    fi
  done
done
check "a move killed at each of $runs steps, then run again: every message once, nothing moved twice" \
  '[ -z "$bad" ]' "$bad"
check "no backup is left after the recoveries" '[ -z "$(ls "$XDG_DATA_HOME/backscatter/mbox-backups" 2>/dev/null)" ]'

# --- 7: a full disk while the target is written --------------------------------
# A file size limit (RLIMIT_FSIZE) just above the target's size: the
# append fails midway; the target must be as it was, the mbox too.
rm -f "$W/inbox" "$W/Backscatter"; cp "$T/pristine" "$W/inbox"
head -c 100000 "$T/pristine" | sed '$d' > "$W/Backscatter"
limit=$(( ($(stat -c %s "$W/Backscatter") + 3000) / 1024 ))
cp "$W/Backscatter" "$T/target-before"
(trap '' XFSZ; ulimit -f $limit; exec "$BIN" scan "${conf[@]}" "$W/inbox" --action move=Backscatter --quiet) \
  > /dev/null 2> "$T/err"
st=$?
check "disk full while appending: exit 74, target and mbox unchanged" \
  '[ "$st" = 74 ] && cmp -s "$T/target-before" "$W/Backscatter" && cmp -s "$T/pristine" "$W/inbox"' \
  "exit $st: $(head -2 "$T/err"); target $(stat -c %s "$W/Backscatter") was $(stat -c %s "$T/target-before")"
"$BIN" scan "${conf[@]}" "$W/inbox" --action move=Backscatter --quiet > /dev/null 2>&1
check "the next run moves each message once, none merged with another" \
  '[ "$(count_msgs "$W/Backscatter")" = $(( $(count_msgs "$T/target-before") + want_moved )) ] && [ "$(count_msgs "$W/inbox")" = $((total - want_moved)) ]'

# --- 5: appends by other programs during rewrites ---------------------------------
# fcntl-only writers open the mbox, wait for the lock, then append: with
# the file replaced meanwhile their mail went to a removed file.
cat > "$T/append.py" <<'PY'
import fcntl, os, sys, time
path, first, count, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
lock = path + ".lock"
for i in range(first, first + count):
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    time.sleep(0.003)                        # opened before it locks
    fcntl.lockf(fd, fcntl.LOCK_EX)           # fcntl first ...
    while mode == "dotlock":                 # ... then the dot lock
        try:
            l = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.write(l, b"%d\n" % os.getpid()); os.close(l)
            break
        except FileExistsError:
            try:
                os.kill(int(open(lock).read().split()[0]), 0)
            except (ProcessLookupError, ValueError, IndexError):
                try: os.unlink(lock)          # left by a killed process
                except FileNotFoundError: pass
            except FileNotFoundError:
                pass
            time.sleep(0.005)
    sep = b"\n" if os.fstat(fd).st_size > 0 else b""
    os.write(fd, sep + b"From appended%d@example.net Mon Apr  8 10:00:00 2024\n"
             b"From: Someone <someone@example.net>\nTo: me@example.org\n"
             b"Subject: appended %d\nMessage-ID: <appended-%d@example.net>\n\nhello\n" % (i, i, i))
    if mode == "dotlock":
        os.unlink(lock)
    os.close(fd)
    time.sleep(0.002)
PY
rm -f "$W/inbox" "$W/Backscatter"; cp "$T/pristine" "$W/inbox"
python3 "$T/append.py" "$W/inbox" 1 300 fcntl &
apid=$!
# The backscatter goes back and forth: each round rewrites the mbox
# being appended to, or appends to it.
for round in 1 2 3 4 5; do
  "$BIN" scan "${conf[@]}" "$W/inbox" --action move=Backscatter --quiet > /dev/null 2>&1
  "$BIN" scan "${conf[@]}" "$W/Backscatter" --action move=inbox --quiet > /dev/null 2>&1
done
wait $apid
appended=$(grep -ac '^From appended' "$W/inbox" "$W/Backscatter" | awk -F: '{s += $2} END {print s}')
dups=$(ids "$W/inbox" "$W/Backscatter" | uniq -d | wc -l)
check "300 appends by an fcntl-only writer during 10 moves: all kept, none twice" \
  '[ "$appended" = 300 ] && [ "$dups" = 0 ]' "$appended kept, $dups twice"

# --- 9: owner, group and mode --------------------------------------------------
if [ "$(id -u)" = 0 ]; then
  rm -f "$W/inbox" "$W/Backscatter"; cp "$T/pristine" "$W/inbox"
  chown 4242:4243 "$W/inbox"; chmod 0660 "$W/inbox"
  "$BIN" scan "${conf[@]}" "$W/inbox" --action move=Backscatter --quiet > /dev/null 2>&1
  check "as root, the rewritten mbox and the new target keep owner 4242:4243 and mode 0660" \
    '[ "$(stat -c %u:%g:%a "$W/inbox")" = 4242:4243:660 ] && [ "$(stat -c %u:%g:%a "$W/Backscatter")" = 4242:4243:660 ]' \
    "$(stat -c '%n %u:%g:%a' "$W/inbox" "$W/Backscatter")"
else
  ok "# SKIP owner and group: not run as root"
fi

# --- 13: read-only runs write nothing; locks stay out of the mailbox -----------
R=$T/ro
mkdir -p "$R/Maildir/cur" "$R/Maildir/new" "$R/Maildir/tmp"
cp "$SRC"/testdata/maildir/cur/* "$R/Maildir/cur/"
cp "$T/pristine" "$R/inbox"
chmod -R a-w "$R"
find "$R" -printf '%p %s %T@\n' | sort > "$T/ro-before"
"$BIN" scan "${conf[@]}" "$R/inbox" "$R/Maildir" > /dev/null 2> "$T/err"; st1=$?
"$BIN" scan "${conf[@]}" "$R/inbox" "$R/Maildir" --action move=Backscatter --dry-run > /dev/null 2>> "$T/err"; st2=$?
"$BIN" scan "${conf[@]}" "$R/missing" > /dev/null 2>&1; st3=$?
find "$R" -printf '%p %s %T@\n' | sort > "$T/ro-after"
chmod -R u+w "$R"
check "report and --dry-run on a read-only mbox and Maildir succeed and write nothing" \
  '[ "$st1" -le 2 ] && [ "$st2" -le 2 ] && cmp -s "$T/ro-before" "$T/ro-after"' \
  "exits $st1 $st2: $(head -2 "$T/err") $(diff "$T/ro-before" "$T/ro-after" | head -3)"
check "a missing mailbox is an error and gets no lock file" '[ "$st3" -ge 64 ] && [ ! -e "$R/missing.backscatter.lock" ] && [ ! -e "$R/missing" ]'
"$BIN" scan "${conf[@]}" "$R/inbox" --action move=Backscatter --quiet > /dev/null 2>&1
"$BIN" scan "${conf[@]}" "$R/Maildir" --action move=Backscatter --quiet > /dev/null 2>&1
check "a scan that moves leaves no lock file beside the mbox or in the Maildir" \
  '[ -z "$(find "$R" -name "*lock*")" ]' "$(find "$R" -name "*lock*")"

# --- 21: tag and defang on an mbox --------------------------------------------------
rm -f "$W/inbox"; cp "$T/pristine" "$W/inbox"
"$BIN" scan "${conf[@]}" "$W/inbox" --action tag --quiet > /dev/null 2> "$T/err"
st=$?
tagged=$(grep -ac '^X-Backscatter: backscatter' "$W/inbox")
python3 - "$T/pristine" "$W/inbox" > "$T/tag-cmp" <<'PY'
import re, sys
def msgs(p):
    return re.split(rb"\n\n(?=From )", open(p, "rb").read().rstrip(b"\n"))
a, b = msgs(sys.argv[1]), msgs(sys.argv[2])
# each message is the same, less the headers tag adds
strip = lambda m: re.sub(rb"^X-Backscatter[^\n]*\n(?:[ \t][^\n]*\n)*", b"", m, flags=re.M)
print(len(a), len(b), sum(strip(x) != y.replace(b"", b"") and strip(y) != x for x, y in zip(a, b)))
PY
check "tag on an mbox: exit 0, exactly the backscatter tagged, every message otherwise unchanged" \
  '[ "$st" = 0 ] && [ "$tagged" = "$want_moved" ] && [ "$(cat "$T/tag-cmp")" = "$total $total 0" ]' \
  "exit $st, $tagged tagged of $want_moved: $(cat "$T/tag-cmp") $(head -2 "$T/err")"
"$BIN" scan "${conf[@]}" "$W/inbox" --action tag --quiet > /dev/null 2>&1
check "a second tag run changes nothing" '[ "$(grep -ac "^X-Backscatter: backscatter" "$W/inbox")" = "$tagged" ]'
worms=$(grep -l -i 'name="\?[^"]*\.\(zip\|scr\|exe\|pif\)' "$SRC"/testdata/virus/*.eml | head -3)
: > "$W/worms"
for f in $worms; do
  [ -s "$W/worms" ] && echo >> "$W/worms"
  echo "From $(basename "$f")@example.net Mon Apr  8 10:00:00 2024" >> "$W/worms"
  sed 's/^From />From /' "$f" >> "$W/worms"
done
cp "$W/worms" "$T/worms"
"$BIN" scan "$W/worms" --rules "$SRC/rules" --config /dev/null --defang Quarantine --quiet > /dev/null 2> "$T/err"
st=$?
nw=$(echo "$worms" | wc -l)
check "--defang on an mbox: each worm bounce defanged, its original kept in the mbox Quarantine" \
  '[ "$st" -le 2 ] && [ "$(grep -c "removed the attachment" "$W/worms")" = "$nw" ] && [ "$(count_msgs "$W/worms")" = "$nw" ] && [ "$(sed "/^\$/d" "$W/Quarantine" | md5sum)" = "$(sed "/^\$/d" "$T/worms" | md5sum)" ]' \
  "exit $st: $(head -2 "$T/err")"

# --- 22: messages stored with their own "From " line --------------------------
# A program that appends a message which still has the "From " line of
# the mbox it came from escapes that line (">From "); the message is read
# as it would be without it, and tag puts its headers after it.
: > "$W/kept"
j=0
while IFS= read -r f; do
  j=$((j + 1))
  [ "$j" -gt 1 ] && echo >> "$W/kept"
  echo "From sender$j@example.net Mon Apr  8 10:00:00 2024" >> "$W/kept"
  echo ">From earlier$j@example.com  Sun Apr  7 09:00:00 2024" >> "$W/kept"
  sed 's/^From />From /' "$f" >> "$W/kept"
  [ -n "$(tail -c1 "$f")" ] && echo >> "$W/kept"
done < <(find "$SRC/testdata" -name '*.eml' ! -path '*maildir*' | sort)
verdicts () { sed 's/^{"source":"[^"]*",//' "$1" | grep -o '"kind":"[a-z-]*"\|"verdict":"[a-z-]*"\|"error":"[^"]*"' | sort | uniq -c; }
"$BIN" scan "${conf[@]}" "$W/kept" --json > "$T/kept.jsonl" 2> "$T/err"
st=$?
sed '/^>From earlier[0-9]*@example.com  Sun Apr  7 09:00:00 2024$/d' "$W/kept" > "$W/plain"
"$BIN" scan "${conf[@]}" "$W/plain" --json > "$T/plain.jsonl" 2>/dev/null
check "an mbox of messages kept with their escaped From line reads as one without: no error, the same kinds and verdicts" \
  '[ "$st" -le 2 ] && ! grep -q "\"error\"" "$T/kept.jsonl" && [ -s "$T/kept.jsonl" ] && [ "$(verdicts "$T/kept.jsonl")" = "$(verdicts "$T/plain.jsonl")" ]' \
  "exit $st: $(head -2 "$T/err"); $(grep -m2 '"error"' "$T/kept.jsonl")"
"$BIN" scan "${conf[@]}" "$W/kept" --action tag --quiet > /dev/null 2>&1
kept_tagged=$(grep -ac '^X-Backscatter: ' "$W/kept")
after_line=$(grep -a -A1 '^>From earlier' "$W/kept" | grep -ac '^X-Backscatter: ')
check "tag on such an mbox puts its headers after the escaped From line" \
  '[ "$kept_tagged" -gt 0 ] && [ "$after_line" = "$kept_tagged" ]' "$kept_tagged tagged, $after_line after the line"


# --- 17: an mbox cut while it is read; a FIFO -----------------------------------
python3 - "$W/huge" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    for i in range(20000):
        f.write(b"From person%d@example.net Mon Apr  8 10:00:00 2024\nFrom: Person <person%d@example.net>\n"
                b"To: me@example.org\nSubject: ordinary note %d\nMessage-ID: <note-%d@example.net>\n\n%s\n\n"
                % (i, i, i, i, b"Some words of an ordinary message. " * 30))
PY
# cut_while SOURCE COMMAND...: copy SOURCE to $W/cut, run COMMAND on it
# and cut the file to 4 KiB while it runs, until it was cut five times (at
# most thirty runs: a quick reader may be done before the cut); sets $cut
# (how many times the file was cut under it) and $sig (the exits by a
# signal).
cut_while () {
  local src=$1 pid try; shift
  cut=0; sig=""
  for ((try = 0; try < 30 && cut < 5; try++)); do
    cp "$src" "$W/cut"
    "$@" "$W/cut" > /dev/null 2>&1 &
    pid=$!
    sleep "0.0$((RANDOM % 5))$((RANDOM % 9 + 1))"
    if kill -0 "$pid" 2>/dev/null; then
      truncate -s 4096 "$W/cut"; cut=$((cut + 1))
    fi
    wait "$pid"; st=$?
    [ "$st" -gt 128 ] && sig="$sig $st"
  done
}
cut_while "$W/huge" "$BIN" scan "${conf[@]}" --jobs 1
check "an mbox cut while a report reads it ($cut times): no crash (SIGBUS)" '[ -z "$sig" ] && [ "$cut" -gt 0 ]' "exits:$sig"
# one message of 25 MB, read whole by check
{ printf 'From: MAILER-DAEMON@mx.example.net\nTo: me@example.org\nSubject: Undelivered Mail\n\n'
  head -c 25000000 /dev/zero | tr '\0' 'x' | fold -w 76; } > "$W/one"
cut_while "$W/one" "$BIN" check "${conf[@]}"
check "a file cut while check reads it ($cut times): no crash (SIGBUS)" '[ -z "$sig" ] && [ "$cut" -gt 0 ]' "exits:$sig"
mkfifo "$W/fifo"
timeout 20 "$BIN" scan "${conf[@]}" "$W/fifo" > /dev/null 2>&1; st1=$?
timeout 20 "$BIN" check "${conf[@]}" "$W/fifo" > /dev/null 2>&1; st2=$?
check "scan FIFO and check FIFO are refused at once, not waited on" \
  '[ "$st1" != 124 ] && [ "$st1" -ge 64 ] && [ "$st2" != 124 ] && [ "$st2" -ge 64 ]' "exits $st1 $st2"
rm -f "$W/fifo" "$W/huge" "$W/one" "$W/cut"

# --- killed at random moments while another program appends ----------------------
# Each round: a fresh mbox, a writer appending 40 messages (fcntl, then
# the dot lock), a scan with a random action killed after a random delay,
# then a scan with the same action that recovers and finishes. Every
# message must then be where the action puts it, exactly once.
rounds=$([ "$SLOW" = 1 ] && echo 50 || echo 5)
make_mbox "$T/big" 5
echo >> "$T/big"; cat "$T/worms" >> "$T/big"
"$BIN" scan "${conf[@]}" "$T/big" --json | python3 -c '
import json, sys
for l in sys.stdin:
    o = json.loads(l)
    if o.get("verdict") == "backscatter":
        print(o["source"].rsplit(":", 1)[1])' > "$T/big-bs"
grep -a '^From ' "$T/big" | sort > "$T/big.ids"
# the From_ lines of the backscatter
python3 - "$T/big" "$T/big-bs" > "$T/big-bs.ids" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
for off in open(sys.argv[2]).read().split():
    print(data[int(off):].split(b"\n", 1)[0].decode())
PY
sort -o "$T/big-bs.ids" "$T/big-bs.ids"
# and of the bounces --defang rewrites (judged without an owner: the
# worm notices are then undecided, and stay)
bare=(--config /dev/null --rules "$SRC/rules")
rm -rf "$W"; mkdir -p "$W"; cp "$T/big" "$W/inbox"
"$BIN" scan "${bare[@]}" "$W/inbox" --defang Quarantine --quiet > /dev/null 2>&1
ids "$W/Quarantine" > "$T/big-df.ids"
bad=""
kills=0
for round in $(seq 1 "$rounds"); do
  action=$(echo "move=Backscatter delete tag defang" | tr ' ' '\n' | shuf -n1)
  rm -rf "$W"; mkdir -p "$W"
  cp "$T/big" "$W/inbox"
  rm -rf "$XDG_DATA_HOME/backscatter/mbox-backups"
  python3 "$T/append.py" "$W/inbox" $((round * 1000)) 40 dotlock &
  apid=$!
  if [ "$action" = defang ]; then args=("${bare[@]}" --defang Quarantine); else args=("${conf[@]}" --action "$action"); fi
  "$BIN" scan "$W/inbox" "${args[@]}" --quiet > /dev/null 2>&1 &
  pid=$!
  sleep "0.$((RANDOM % 4))$((RANDOM % 10))"
  kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
  wait "$pid" 2>/dev/null
  wait "$apid"
  "$BIN" scan "$W/inbox" "${args[@]}" --quiet > /dev/null 2> "$T/err"
  st=$?
  # What must be in the mbox, and in the target.
  { cat "$T/big.ids"; seq $((round * 1000)) $((round * 1000 + 39)) \
      | sed 's/^\(.*\)$/From appended\1@example.net Mon Apr  8 10:00:00 2024/'; } | sort > "$T/all.ids"
  case "$action" in
    move=*) want_in=$(comm -23 "$T/all.ids" "$T/big-bs.ids"); want_out=$(cat "$T/big-bs.ids"); out="$W/Backscatter" ;;
    delete) want_in=$(comm -23 "$T/all.ids" "$T/big-bs.ids"); want_out=""; out=/dev/null ;;
    tag) want_in=$(cat "$T/all.ids"); want_out=""; out=/dev/null ;;
    defang) want_in=$(cat "$T/all.ids"); want_out=$(cat "$T/big-df.ids"); out="$W/Quarantine" ;;
  esac
  if [ "$(ids "$W/inbox")" != "$want_in" ] || [ "$(ids "$out")" != "$want_out" ] || [ "$st" -gt 2 ]; then
    bad="$bad [round $round $action: exit $st $(head -c 150 "$T/err")]"
  fi
done
check "some messages to defang among them" '[ -s "$T/big-df.ids" ]'
check "$rounds scans ($kills killed) with appends meanwhile: every message exactly once, where its action puts it" \
  '[ -z "$bad" ]' "$bad"

echo "1..$n"
[ "$failed" = 0 ]
