#!/bin/bash
# test-cli.sh — the command line as a user meets it: configuration mistakes
# name their line, learn reads only what is new, record-sent adds one
# message, check's exit codes, scan --action delete. TAP output.
. "$(dirname "$0")/tap.sh"

# --- configuration mistakes name the file and line --------------------------
bad_conf () {
  printf "$1" > "$T/bad.conf"
  "$BIN" check --config "$T/bad.conf" "$SRC/testdata/judge/no-original.eml" > /dev/null 2> "$T/err"
  echo $? > "$T/status"
}
bad_conf '[identity]\naddresses = me@example.org\nfrobnicate = 1\n'
check "an unknown key is an error naming its line" 'grep -q "bad.conf:3: unknown key .frobnicate." "$T/err" && [ "$(cat "$T/status")" = 78 ]' "$(cat "$T/err")"
bad_conf '[identity]\n\nrelays = smtp.example.org; 192.0.2.0/99\n'
check "a bad network is an error naming its line" 'grep -q "bad.conf:3: .192.0.2.0/99. is not an IP address or network" "$T/err"' "$(cat "$T/err")"
bad_conf '[identity]\naddresses = me@example.org; not an address\n'
check "a bad address pattern is an error naming its line" 'grep -q "bad.conf:2: .not an address. is not an address" "$T/err"' "$(cat "$T/err")"
bad_conf '[idenity]\naddresses = me@example.org\n'
check "an unknown group is an error naming its line" 'grep -q "bad.conf:1: unknown group .idenity." "$T/err"' "$(cat "$T/err")"
bad_conf '[sent]\ncomplete = perhaps\n'
check "complete takes true or false" 'grep -q "bad.conf:2: complete takes true or false" "$T/err"' "$(cat "$T/err")"
bad_conf '[sent]\ncomplete = true   # every message is recorded there\n'
check "a comment after complete's value is a comment" '[ "$(cat "$T/status")" != 78 ] && [ ! -s "$T/err" ]' "$(cat "$T/err")"
"$BIN" check --config "$T/missing.conf" "$SRC/testdata/judge/no-original.eml" > /dev/null 2>&1; st=$?
check "a config file named with --config must exist" '[ $st = 78 ]' "exit $st"
mkdir -p "$T/rules"; printf 'format broken\nbody (\n' > "$T/rules/x.rules"
"$BIN" check --rules "$T/rules" "$SRC/testdata/judge/no-original.eml" > /dev/null 2> "$T/err"; st=$?
check "a rule file with a mistake says FILE:LINE and exits 78" '[ $st = 78 ] && grep -q "x.rules:2: bad pattern" "$T/err"' "$(cat "$T/err")"
# The commands keep the rules they read in a cache and take them from
# there while the rule files and the program are the same: the same
# verdicts; a file changed since is read again, a damaged cache is read past.
cp -r "$SRC/rules" "$T/rules-kept"
cache=$XDG_CACHE_HOME/backscatter/rules.cache
kept_check () { "$BIN" check --json --rules "$T/rules-kept" "$SRC/testdata/judge/no-original.eml" > "$T/$1.json" 2>&1; }
rm -f "$cache"
kept_check read
ino=$(stat -c %i "$cache" 2> /dev/null)
kept_check kept
check "rules taken from the cache read a report as rules read from their files do" \
  '[ -s "$cache" ] && [ "$(stat -c %i "$cache")" = "$ino" ] && grep -q "\"kind\":\"failure\"" "$T/kept.json" && cmp -s "$T/read.json" "$T/kept.json"' \
  "$(diff "$T/read.json" "$T/kept.json" | head -5)"
sed 's/^weight no-original .*/weight no-original 1.5/' "$T/rules-kept/weights.rules" > "$T/weights"
cat "$T/weights" > "$T/rules-kept/weights.rules"
kept_check changed
check "a rule file changed since the cache was written is read again" \
  'grep -q "\"rule\":\"no-original\",\"weight\":1.5" "$T/changed.json"' "$(cat "$T/changed.json")"
# Damage: one byte in the middle changed, the size kept; then cut short.
ino=$(stat -c %i "$cache")
at=$(($(stat -c %s "$cache") / 2))
byte=$(od -An -tu1 -j "$at" -N1 "$cache" | tr -d ' ')
printf "\\$(printf %03o $(((byte + 1) % 256)))" | dd of="$cache" bs=1 seek="$at" conv=notrunc 2> /dev/null
kept_check damaged
check "a damaged cache is read past: the rule files are read and it is written again" \
  'cmp -s "$T/changed.json" "$T/damaged.json" && [ "$(stat -c %i "$cache")" != "$ino" ]' \
  "$(diff "$T/changed.json" "$T/damaged.json" | head -5)"
head -c 3000 "$cache" > "$T/short" && cat "$T/short" > "$cache"
kept_check short
check "a cache cut short is read past" 'cmp -s "$T/changed.json" "$T/short.json" && [ "$(stat -c %s "$cache")" -gt 3000 ]' \
  "$(diff "$T/changed.json" "$T/short.json" | head -5)"
# scan too: a whole Maildir read with the rules from their files, then
# from the cache the first run wrote.
kept_scan () { "$BIN" scan --json --rules "$T/rules-kept" "$SRC/testdata/maildir" > "$T/$1.json" 2>&1; }
rm -f "$cache"
kept_scan scan-read
ino=$(stat -c %i "$cache" 2> /dev/null)
kept_scan scan-kept
check "scan takes the rules from the cache and reads the Maildir as with the rule files" \
  '[ -n "$ino" ] && [ "$(stat -c %i "$cache")" = "$ino" ] && grep -q "\"kind\":\"failure\"" "$T/scan-kept.json" && cmp -s "$T/scan-read.json" "$T/scan-kept.json"' \
  "$(diff "$T/scan-read.json" "$T/scan-kept.json" | head -5)"
printf 'format broken\nbody (\n' >> "$T/rules-kept/formats/10-kinds.rules"
"$BIN" check --rules "$T/rules-kept" "$SRC/testdata/judge/no-original.eml" > /dev/null 2> "$T/err"; st=$?
check "a rule file with a mistake made after the cache was written is reported" \
  '[ $st = 78 ] && grep -q "10-kinds.rules:[0-9]*: bad pattern" "$T/err"' "exit $st: $(cat "$T/err")"

# --- learn and record-sent ---------------------------------------------------
cp -a "$SRC/testdata/maildir-sent" "$T/Sent"
"$BIN" learn --sent "$T/Sent" > "$T/learn1"
check "learn reads the sent folder" 'grep -q "5 messages read, 5 new" "$T/learn1"' "$(cat "$T/learn1")"
"$BIN" learn --sent "$T/Sent" > "$T/learn2"
check "a second learn reads only what is new" 'grep -q "0 messages read, 0 new" "$T/learn2"' "$(cat "$T/learn2")"
printf 'From: Me <me@example.org>\nTo: zoe@example.net\nSubject: hello\nDate: Mon, 08 Apr 2024 12:00:00 +0200\nMessage-ID: <recorded-1@mail.example.org>\n\nhi\n' > "$T/Sent/new/1712570400.M1P1.host.example"
"$BIN" learn --sent "$T/Sent" > "$T/learn3"
check "learn picks up a new sent message" 'grep -q "1 message read, 1 new" "$T/learn3"' "$(cat "$T/learn3")"
"$BIN" learn --sent "$T/Sent" --rebuild > "$T/learn4"
check "learn --rebuild reads everything again" 'grep -q "6 messages read, 6 new" "$T/learn4"' "$(cat "$T/learn4")"
printf 'From: Me <me@example.org>\nTo: yann@example.net\nSubject: later\nMessage-ID: <recorded-2@mail.example.org>\n\nhi\n' | "$BIN" record-sent; st=$?
check "record-sent adds the message on stdin" '[ $st = 0 ] && "$BIN" learn --sent "$T/Sent" | grep -q "index: 7 messages"'
printf 'From: Me <me@example.org>\nSubject: no id\n\nhi\n' | "$BIN" record-sent 2> "$T/err"; st=$?
check "record-sent refuses a message without a Message-ID" '[ $st = 65 ] && grep -q "no Message-ID" "$T/err"'
printf 'From: Me <me@example.org>\nMessage-Id :\n <folded-1@mail.example.org>\nSubject: folded\n\nhi\n' > "$T/folded.eml"
"$BIN" record-sent --pass --index "$T/pass.db" < "$T/folded.eml" > "$T/out"; st=$?
check "record-sent --pass finds a folded Message-Id written with a space before its colon, and adds none" \
  '[ $st = 0 ] && cmp -s "$T/out" "$T/folded.eml"' "exit $st" "$(head -3 "$T/out")"
printf 'From me@example.org Mon Apr  8 12:00:00 2024\r\nFrom: Me <me@example.org>\r\nSubject: crlf\r\n\r\nhi\r\n' > "$T/crlf.eml"
"$BIN" record-sent --pass --index "$T/pass.db" < "$T/crlf.eml" > "$T/out"; st=$?
check "record-sent --pass puts the Message-ID it adds after an mbox From line, ended as the message's lines are" \
  '[ $st = 0 ] && [ "$(sed -n 1p "$T/out")" = "$(sed -n 1p "$T/crlf.eml")" ] && sed -n 2p "$T/out" | grep -q "^Message-ID: <[^>]*@example.org>.$" && [ "$(sed 2d "$T/out")" = "$(cat "$T/crlf.eml")" ]' \
  "exit $st" "$(head -3 "$T/out" | od -c | head -5)"

# --- check's exit codes --------------------------------------------------------
cd "$SRC/testdata" || exit 1
conf=(--config owner.conf --index "$T/owner.db")
"$BIN" learn --quiet "${conf[@]}"
"$BIN" check "${conf[@]}" judge/forged-untagged.eml > /dev/null; st=$?
check "check exits 0 when it finds backscatter" '[ $st = 0 ]' "exit $st"
"$BIN" check "${conf[@]}" judge/real-batv-valid.eml > /dev/null; st=$?
check "check exits 1 when it finds none" '[ $st = 1 ]' "exit $st"
"$BIN" check "${conf[@]}" judge/no-original.eml > /dev/null; st=$?
check "check exits 2 when bounces are undecided" '[ $st = 2 ]' "exit $st"
"$BIN" check "${conf[@]}" /nonexistent/file > /dev/null 2>&1; st=$?
check "check exits 66 for a file it cannot read" '[ $st = 66 ]' "exit $st"
"$BIN" check --json "${conf[@]}" /nonexistent/file judge/real-batv-valid.eml > "$T/out" 2>/dev/null
check "an unreadable file gets an error object and the run goes on" \
  '[ "$(wc -l < "$T/out")" = 2 ] && head -1 "$T/out" | grep -q "\"error\"" && tail -1 "$T/out" | grep -q "\"verdict\":\"legitimate\""'
"$BIN" check --explain "${conf[@]}" < judge/forged-untagged.eml > "$T/out"
check "check reads stdin and explains" 'grep -q "^-: backscatter" "$T/out" && grep -q "sent-id-missing" "$T/out"'
"$BIN" check --explain "${conf[@]}" generic/addressed-to.eml not-bounce/{quoted-bounce-question,list-smtp-codes,fake-bounce-phishing}.eml > "$T/out"
check "check --explain says what made a message a report, and nothing for one that is not" \
  'grep -q "^  recognised by: From a mail system (\"Mail Administrator\"); a null Return-Path; a failure in the Subject" "$T/out" && [ "$(grep -c "recognised by" "$T/out")" = 1 ]' \
  "$(grep -A1 "addressed-to" "$T/out")"
"$BIN" frobnicate > /dev/null 2>&1; st=$?
check "an unknown command is a usage error" '[ $st = 64 ]'

# --- delete --------------------------------------------------------------------
D=$T/Del; mkdir -p "$D/cur" "$D/new" "$D/tmp"
i=0; for f in judge/*.eml; do i=$((i + 1)); cp "$f" "$D/new/1712570000.M${i}P1.host.example"; done
total=$(ls "$D/new" | wc -l)
want=$("$BIN" scan "${conf[@]}" "$D" --json | grep -c '"verdict":"backscatter"')
"$BIN" scan "${conf[@]}" "$D" --action delete > "$T/del.out"
left=$(ls "$D/new" | wc -l)
check "delete removes exactly the backscatter and says so" \
  '[ $((total - left)) = "$want" ] && [ "$want" -gt 0 ] && [ "$(grep -c "(deleted)" "$T/del.out")" = "$want" ]' "$(cat "$T/del.out")"
"$BIN" scan "${conf[@]}" "$D" --action delete --only unknown > /dev/null 2>&1; st=$?
check "delete refuses any verdict but backscatter" '[ $st = 64 ]' "exit $st"

# --- help, version, options ----------------------------------------------------
"$BIN" help scan > "$T/help1"; st=$?
"$BIN" scan --help > "$T/help2"
check "'backscatter help scan' is 'scan --help', and its usage line starts with backscatter" \
  '[ $st = 0 ] && cmp -s "$T/help1" "$T/help2" && sed -n 2p "$T/help1" | grep -q "^  backscatter scan " && grep -q -- "--action" "$T/help1"' "$(head -3 "$T/help1")"
bad=
for c in check scan filter learn record-sent; do
  "$BIN" "$c" --help 2>&1 | grep -q -- "--config=FILE" || bad="$bad $c"
done
check "every command's --help shows the settings" '[ -z "$bad" ]' "missing in:$bad"
check "-V and --version say the version" \
  '"$BIN" -V | grep -qx "backscatter [0-9][0-9.]*" && [ "$("$BIN" -V)" = "$("$BIN" --version)" ]'
"$BIN" scan "${conf[@]}" -nqj2 "$D" > /dev/null 2>&1; st=$?
"$BIN" scan "${conf[@]}" -j65 "$D" > /dev/null 2> "$T/err"; st2=$?
check "short options combine, with a value attached (-nqj2)" '[ $st = 0 ] && [ $st2 = 64 ] && grep -q -- "--jobs" "$T/err"' "exit $st, $st2" "$(cat "$T/err")"

# --- what check says about what is not one message --------------------------------
"$BIN" check "${conf[@]}" judge/forged-untagged.eml - < judge/real-batv-valid.eml > "$T/out"
check "check reads '-' as standard input" \
  '[ "$(wc -l < "$T/out")" -gt 2 ] && grep -q "^judge/forged-untagged.eml: backscatter" "$T/out" && grep -q "^-: legitimate" "$T/out"' "$(cat "$T/out")"
"$BIN" check "${conf[@]}" judge > /dev/null 2> "$T/err"; st=$?
check "check of a folder says it is a directory" '[ $st = 66 ] && grep -q "^backscatter: judge: is a directory" "$T/err" && ! grep -q mmap "$T/err"' "$(cat "$T/err")"
"$BIN" check "${conf[@]}" "$T/no-such-file" > /dev/null 2> "$T/err"; st=$?
check "an error names the path once" '[ $st = 66 ] && [ "$(grep -o "no-such-file" "$T/err" | wc -l)" = 1 ]' "$(cat "$T/err")"
{ printf 'From me@example.org Mon Apr  8 12:00:00 2024\n'; cat judge/forged-untagged.eml
  printf '\nFrom me@example.org Mon Apr  8 12:00:01 2024\n'; cat judge/real-batv-valid.eml; } > "$T/box"
"$BIN" check "${conf[@]}" "$T/box" > /dev/null 2> "$T/err"; st=$?
"$BIN" scan "${conf[@]}" "$T/box" > "$T/out" 2>&1
check "check of an mbox says so and which command judges each message" \
  '[ $st = 65 ] && grep -q "is an mbox of several messages" "$T/err" && grep -q "backscatter scan" "$T/err" && grep -q "^2 messages, 2 bounces: 1 backscatter, 1 legitimate" "$T/out"' \
  "$(cat "$T/err" "$T/out")"
# A multipart first message: the next "From " line counts after its
# closing boundary (here quoted, with a space, on a folded line), and one
# inside a part does not.
part='From a@example.org Mon Apr  8 12:00:00 2024\nFrom: a@example.org\nContent-Type: multipart/mixed;\n  boundary="b c"\n\n--b c\nContent-Type: text/plain\n\nhello\n%s--b c--\n'
{ printf "$part" ''; printf '\nFrom b@example.org Mon Apr  8 12:00:01 2024\nFrom: b@example.org\n\nhi\n'; } > "$T/box2"
printf "$part" '\nFrom the text of a part\n' > "$T/one"
"$BIN" check "${conf[@]}" "$T/box2" > /dev/null 2> "$T/err"; st=$?
"$BIN" check "${conf[@]}" "$T/one" > "$T/out" 2>&1; st2=$?
check "an mbox whose first message is multipart is found after its closing boundary; a From line in a part is no new message" \
  '[ $st = 65 ] && grep -q "is an mbox of several messages" "$T/err" && [ $st2 = 1 ] && grep -q "one: not-bounce" "$T/out"' \
  "exit $st $st2" "$(cat "$T/err" "$T/out")"

# --- doctor, and no configuration at all -------------------------------------------
H=$T/fresh; mkdir -p "$H"
XDG_CONFIG_HOME=$H/config XDG_DATA_HOME=$H/data "$BIN" doctor > "$T/doc" 2>&1; st=$?
check "doctor with no config says there is none and what it costs" \
  '[ $st = 0 ] && grep -q "^config file .*(there is none)" "$T/doc" && grep -q "no Sent folder: most bounces will be unknown" "$T/doc" && grep -q "not made yet" "$T/doc"' "$(cat "$T/doc")"
XDG_CONFIG_HOME=$H/config XDG_DATA_HOME=$H/data "$BIN" doctor --config /dev/null > "$T/doc" 2>&1; st=$?
check "doctor --config /dev/null says no settings were read from it, and never to write it" \
  '[ $st = 0 ] && grep -q "^config file  */dev/null (not a file: no settings read from it)" "$T/doc" && ! grep -q "write /dev/null" "$T/doc" && grep -q "no addresses: set \[identity\] addresses" "$T/doc"' "$(cat "$T/doc")"
XDG_CONFIG_HOME=$H/config XDG_DATA_HOME=$H/data "$BIN" check --explain judge/no-original.eml > "$T/out" 2>&1; st=$?
check "check --explain with no config ends with a hint, and creates no index" \
  '[ $st = 2 ] && tail -1 "$T/out" | grep -q "hint: no addresses .*backscatter doctor" && [ ! -e "$H/data/backscatter/sent.db" ] && [ ! -e "$H/data/backscatter" ]' "$(cat "$T/out")"
"$BIN" doctor "${conf[@]}" > "$T/doc" 2>&1; st=$?
check "doctor shows the addresses, relays, key, index and rules it uses" \
  '[ $st = 0 ] && grep -q "^addresses *me@example.org$" "$T/doc" && grep -q "^relays *smtp.example.org; 192.0.2.0/28$" "$T/doc" && grep -q "^batv-key-file *a key of [0-9]* bytes" "$T/doc" && grep -q "^sent index *$T/owner.db: [0-9]* messages sent from 2024-04-02 .* to 2024-04-0[6-9]" "$T/doc" && grep -q "^rules *[1-9][0-9]* format rules loaded" "$T/doc" && grep -q "^nothing missing" "$T/doc"' "$(cat "$T/doc")"
"$BIN" doctor "${conf[@]}" --relay 192.0.2.0/99 > /dev/null 2>&1; st=$?
check "doctor exits 78 on a bad setting" '[ $st = 78 ]' "exit $st"

# --- release: "I did send this" -----------------------------------------------------
R=$T/Rel; cp -a maildir "$R"
"$BIN" scan "${conf[@]}" --action move=Backscatter "$R" > /dev/null 2>&1
f=$(ls "$R/.Backscatter/cur/"* | head -1); name=$(basename "$f")
"$BIN" release "${conf[@]}" "$f" > "$T/out" 2>&1; st=$?
"$BIN" check --explain "${conf[@]}" "$R/cur/$name" > "$T/after" 2>&1
check "release records the original as sent and moves the bounce back to the inbox, name kept" \
  '[ $st = 0 ] && [ -f "$R/cur/$name" ] && [ ! -e "$f" ] && grep -q "recorded as sent by you; moved back" "$T/out" && grep -q "sent-id-found" "$T/after" && ! grep -q "sent-id-missing" "$T/after" && ! head -1 "$T/after" | grep -q ": backscatter"' \
  "$(cat "$T/out" "$T/after")"
# A later bounce of the same original, from another server, is explained by it.
mid=$(grep -m1 -o '"message_id":"[^"]*"' < <("$BIN" check --json "${conf[@]}" "$R/cur/$name") | cut -d'"' -f4)
printf 'From: postmaster@other.example.com\nTo: me@example.org\nSubject: Delivery Status Notification (Failure)\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n--b\nContent-Type: text/plain\n\nDelivery failed.\n\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; other.example.com\n\nFinal-Recipient: rfc822; someone@other.example.com\nAction: failed\nStatus: 5.2.2\n\n--b\nContent-Type: text/rfc822-headers\n\nFrom: me@example.org\nTo: someone@other.example.com\nMessage-ID: %s\n\n--b--\n' "$mid" > "$T/later-bounce.eml"
"$BIN" check --explain "${conf[@]}" "$T/later-bounce.eml" > "$T/later-bounce.out" 2>&1
check "a later bounce of a released message is explained by sent-id-found" \
  '[ -n "$mid" ] && grep -q "sent-id-found .*$(printf "%s" "$mid" | sed "s/[]\$*.^[]/\\\\&/g")" "$T/later-bounce.out" && ! head -1 "$T/later-bounce.out" | grep -q ": backscatter"' \
  "$mid" "$(cat "$T/later-bounce.out")"
"$BIN" release --config /dev/null --index "$T/none/sent.db" "$T/no-such.eml" > "$T/out" 2>&1; st=$?
"$BIN" learn --config /dev/null --index "$T/none/sent.db" > "$T/out2" 2>&1; st2=$?
check "release of a missing file and learn with no folder fail clearly, naming the path once, and make no index" \
  '[ $st = 66 ] && [ "$(grep -o "no-such.eml" "$T/out" | wc -l)" = 1 ] && grep -q "No such file" "$T/out" && [ $st2 = 64 ] && grep -q "no sent folder" "$T/out2" && [ ! -e "$T/none" ]' \
  "exit $st, $st2" "$(cat "$T/out" "$T/out2")"
"$BIN" release "${conf[@]}" judge/no-original.eml > "$T/out" 2>&1; st=$?
check "release of a message that carries no original says so and moves nothing" \
  '[ $st = 65 ] && grep -q "nothing to record" "$T/out"' "exit $st" "$(cat "$T/out")"

# --- scan --json: one object per bounce, then the summary -------------------------------
"$BIN" scan "${conf[@]}" --json --dry-run --action move=Backscatter maildir > "$T/scan.jsonl"
python3 - "$T/scan.jsonl" > "$T/json-check" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
*bounces, last = lines
s = last.get("summary", {})
moves = [b for b in bounces if b.get("action") == "would-move"]
ok = (all("source" in b for b in bounces) and s.get("bounces") == len(bounces)
      and s.get("backscatter") == sum(b["verdict"] == "backscatter" for b in bounces)
      and s.get("acted") == len(moves) > 0 and s.get("dry_run") is True and s.get("action") == "move"
      and all(b.get("target") == "Backscatter" for b in moves))
print("ok" if ok else "bad: %r, %d would-move" % (s, len(moves)))
PY
check "scan --json ends with one summary object, and would-move names its target" '[ "$(cat "$T/json-check")" = ok ]' "$(cat "$T/json-check")"

# --- explanations: the threshold beside the score, why a message is no report ----------
# The thresholds are the rule files' (here made other than the shipped ones).
mkdir -p "$T/rules-t"; cp -a "$SRC/rules/." "$T/rules-t/"
sed -i 's/^weight threshold-backscatter .*/weight threshold-backscatter 7.5/; s/^weight threshold-legitimate .*/weight threshold-legitimate -3.5/' \
  "$T/rules-t/weights.rules"
"$BIN" check --explain "${conf[@]}" --rules "$T/rules-t" maildir/new/* maildir/cur/* judge/no-original.eml > "$T/expl" 2>&1
check "check shows each verdict's threshold beside its score" \
  'grep -q ": backscatter (score [0-9.]*; backscatter at 7.5 or more), " "$T/expl" && grep -q ": legitimate (score -[0-9.]*; legitimate at -3.5 or less), " "$T/expl" && grep -q "no-original.eml: unknown (score [-0-9.]*; legitimate at -3.5 or less, backscatter at 7.5 or more), " "$T/expl" && [ "$(grep -c "(score" "$T/expl")" = "$(grep -c "at -3.5 or less\|at 7.5 or more" "$T/expl")" ]' \
  "$(grep "(score" "$T/expl")"
"$BIN" check --explain --config /dev/null not-bounce/calendar-declined.eml not-bounce/subject-only.eml \
  not-bounce/forwarded-bounce.eml not-bounce/chinese-newsletter-gb2312.eml not-bounce/ci-build-failed.eml \
  not-bounce/korean-notice-euckr.eml > "$T/why" 2>&1
check "check --explain says why a message is not a report" \
  '[ "$(grep -c "^  not a report: " "$T/why")" = 6 ] && grep -A1 "euckr.eml: not-bounce" "$T/why" | grep -q "it is from a role address, and neither its parts" && grep -A1 "calendar-declined.eml: not-bounce" "$T/why" | grep -q "its header has nothing of a report" && grep -A1 "subject-only.eml: not-bounce" "$T/why" | grep -q "only its Subject has a report.s word" && grep -A1 "forwarded-bounce.eml: not-bounce" "$T/why" | grep -q "the format rule not-bounce-forwarded says it is no report" && grep -A1 "gb2312.eml: not-bounce" "$T/why" | grep -q "only its Subject has a report.s word, and neither its parts" && grep -A1 "ci-build-failed.eml: not-bounce" "$T/why" | grep -q "read whole, it has no delivery-status part"' \
  "$(cat "$T/why")"
"$BIN" check --config /dev/null not-bounce/calendar-declined.eml > "$T/why" 2>&1
check "and only with --explain" '[ "$(wc -l < "$T/why")" = 1 ]' "$(cat "$T/why")"

# --- the progress line: on a terminal only, one line kept below the report -----------
if ! command -v script > /dev/null; then
  ok "# SKIP no script(1) to run the program on a terminal (util-linux)"
else
  P=$T/Prog; cp -a maildir "$P"
  total=$(find "$P/cur" "$P/new" -type f | wc -l)
  script -qfec "$(printf '%q ' "$BIN" scan "${conf[@]}" "$P")" /dev/null > "$T/tty.out" 2>&1
  python3 - "$T/tty.out" "$total" > "$T/tty.check" <<'PY'
import re, sys
out = open(sys.argv[1], encoding="utf-8", errors="replace", newline="").read().replace("\r\n", "\n")
total = sys.argv[2]
clear = "\r\x1b[K"
draws = re.findall(r"\r\x1b\[Kscanning [^\r\n]*?: (\d+) of (\d+) messages, (\d+) bounces?", out)
lines = [l for l in out.split("\n") if l.strip()]
reports = [l for l in lines if re.search(r"(backscatter|legitimate|unknown) +(failure|autoreply|virus-notice)", l)]
bad = []
if not draws or any(t != total for _, t, _ in draws):
    bad.append("no line 'N of %s messages': %r" % (total, draws[:2]))
if draws and draws[-1][0] != total:
    bad.append("the last line does not reach %s: %r" % (total, draws[-1]))
# each report line stands alone (the progress cleared before it) and the
# progress is drawn again after it
for r in reports:
    text = r.split(clear)[-1]
    if not re.match(r"(backscatter|legitimate|unknown) ", text):
        bad.append("a report line mixed with the progress: %r" % r)
if len(draws) < len(reports) + 1:
    bad.append("%d progress lines for %d report lines" % (len(draws), len(reports)))
if not lines[-1].split(clear)[-1].startswith("%s messages, " % total):
    bad.append("the summary is not left alone at the end: %r" % lines[-1])
print("ok" if not bad else "; ".join(bad))
PY
  check "on a terminal, scan keeps one progress line (done of total, bounces) below its report lines" \
    '[ "$(cat "$T/tty.check")" = ok ] && [ "$(grep -c "^\(backscatter\|legitimate\)" <(tr "\r" "\n" < "$T/tty.out" | sed "s/\x1b\[K//"))" -ge 2 ]' \
    "$(cat "$T/tty.check")"
  P1=$T/Prog1; mkdir -p "$P1/cur" "$P1/new" "$P1/tmp"; cp judge/no-original.eml "$P1/new/1712400000.M1P1.host.example"
  script -qfec "$(printf '%q ' "$BIN" scan "${conf[@]}" "$P1")" /dev/null > "$T/tty1.out" 2>&1
  check "a one-message mailbox's progress says 1 of 1 message" \
    'grep -q "scanning [^:]*: 1 of 1 message, " "$T/tty1.out" && ! grep -q "1 of 1 messages" "$T/tty1.out"' "$(cat -A "$T/tty1.out" | head -3)"
  "$BIN" scan "${conf[@]}" "$P" > "$T/pipe.out" 2> "$T/pipe.err"
  script -qfec "$(printf '%q ' "$BIN" scan --quiet "${conf[@]}" "$P")" /dev/null > "$T/quiet.out" 2>&1
  check "no progress on a pipe, nor with --quiet on a terminal" \
    '! grep -q "$(printf "\r")" "$T/pipe.out" "$T/pipe.err" && ! grep -q "scanning" "$T/quiet.out" "$T/pipe.err"' \
    "$(cat -A "$T/pipe.err" "$T/quiet.out" | head -3)"
  script -qfec "$(printf '%q ' "$BIN" learn "${conf[@]}" --index "$T/prog.db")" /dev/null > "$T/learn-tty.out" 2>&1
  check "on a terminal, learn shows its progress too, and clears it" \
    'grep -q "learning [^:]*maildir-sent: [0-9]* of 5 messages, [0-9]* new" "$T/learn-tty.out" && tr "\r" "\n" < "$T/learn-tty.out" | grep -q "^.\[K[^ ]*maildir-sent: 5 messages read, 5 new"' \
    "$(cat -A "$T/learn-tty.out" | head -3)"
fi

# --- every JSON member is in the manual; the _iso dates are the raw ones --------------
{ "$BIN" check --json "${conf[@]}" maildir/new/* maildir/cur/* rfc3464/*.eml exim/*.eml /nonexistent 2>/dev/null
  "$BIN" scan --json "${conf[@]}" --dry-run --action move=Backscatter maildir
  cat $(find "$SRC/testdata" -name '*.expected') | python3 -c 'import json, sys; [print(json.dumps(o)) for o in json.loads("[" + sys.stdin.read().replace("}\n{", "},\n{") + "]")]'
} > "$T/all.jsonl"
python3 - "$T/all.jsonl" "$SRC/doc/backscatter.1" > "$T/json-doc" <<'PY'
import json, re, sys
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone
man = open(sys.argv[2]).read()
sect = man[man.index(".SH JSON OUTPUT"):]
sect = sect[:sect.index("\n.SH ", 1)].replace("\\-", "-")
named = set(re.findall(r"[a-z_]+", sect))
keys, bad, checked = set(), [], []
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            keys.add(k)
            if k.endswith("_iso") and v is not None:
                try:
                    raw = parsedate_to_datetime(o[k[:-4]])
                except ValueError:
                    continue  # read more leniently than Python reads it
                if raw.tzinfo is None:  # "-0000": the zone is not known, the time is UTC's
                    raw = raw.replace(tzinfo=timezone.utc)
                checked.append(k)
                if datetime.fromisoformat(v) != raw or datetime.fromisoformat(v).utcoffset() != raw.utcoffset():
                    bad.append("%s %r is not %r" % (k, v, o[k[:-4]]))
            walk(v)
    elif isinstance(o, list):
        for x in o: walk(x)
n = 0
for line in open(sys.argv[1]):
    walk(json.loads(line)); n += 1
missing = sorted(k for k in keys if k not in named)
isos = [k for k in keys if k.endswith("_iso")]
print("ok" if not missing and not bad and len(isos) >= 4 and len(checked) > 100 and n > 100
      else "missing: %s; %s; %d isos, %d checked, %d objects" % (missing, bad[:3], len(isos), len(checked), n))
PY
check "backscatter(1) describes every member of the JSON, and each _iso date is its raw date in ISO 8601" \
  '[ "$(cat "$T/json-doc")" = ok ]' "$(cat "$T/json-doc")"

# --- the sent mail's span and the original's date, precise and explained ------------
later=$(date -u -d '+400 days' '+%a, %d %b %Y 09:30:00 +0000')
printf 'From: MAILER-DAEMON@mx.example.net\nTo: me@example.org\nSubject: Undelivered Mail Returned to Sender\nDate: %s\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n--b\nContent-Type: text/plain\n\nThe message could not be delivered.\n\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; zoe@example.net\nAction: failed\nStatus: 5.1.1\n\n--b\nContent-Type: text/rfc822-headers\n\nFrom: Me <me@example.org>\nTo: zoe@example.net\nDate: %s\nMessage-ID: <later-1@mail.example.org>\n\n--b--\n' "$later" "$later" > "$T/later.eml"
# A history long enough for its dates to speak (30 messages, March 2024).
for i in $(seq 1 30); do
  printf 'From me@example.org Mon Mar  4 10:00:00 2024
From: Me <me@example.org>
To: friend%d@example.net
Subject: note %d
Date: %02d Mar 2024 10:00:00 +0000
Message-ID: <hist-%d@mail.example.org>

hello

' $((i % 7)) "$i" "$i" "$i"
done > "$T/hist.mbox"
printf '[identity]
addresses = me@example.org
[sent]
folders = %s
complete = true
index = %s
' "$T/hist.mbox" "$T/hist.db" > "$T/hist.conf"
"$BIN" learn --quiet --config "$T/hist.conf"
"$BIN" check --explain --config "$T/hist.conf" "$T/later.eml" > "$T/later.out" 2>&1
check "an original after the sent mail's span reads as uncovered, both spans said to the minute and told apart" \
  'grep -q "sent-id-missing-uncovered .*which holds what you sent from 2024-03-01 10:00 UTC to [0-9-]* [0-9:]* UTC (its first message, and when it was last brought up to date); the original is of [0-9-]* 09:30 UTC, outside that span" "$T/later.out" && grep -q "date-outside-history .*far outside your sending history (your sent messages are dated 2024-03-01 to 2024-03-30)" "$T/later.out"' \
  "$(cat "$T/later.out")"
"$BIN" check --explain "${conf[@]}" maildir/cur/1712391022.M207P3301.host.example:2,S > "$T/covered.out" 2>&1
check "an original inside the span reads as covered" \
  'grep -q "sent-id-missing .*which is complete from 2024-04-02 16:04 UTC to [0-9-]* [0-9:]* UTC (its first message, and when it was last brought up to date) and so holds the original.s date, 2024-04-0[0-9] [0-9:]* UTC" "$T/covered.out"' \
  "$(cat "$T/covered.out")"
"$BIN" check --json --config /dev/null qmail/queue-too-long.eml > "$T/qmail.json"
check "a qmail failure that ran out of queue time is permanent, whatever its last error's class" \
  'grep -q "\"status\":\"4.4.2\"" "$T/qmail.json" && grep -q "\"permanent\":true" "$T/qmail.json" && grep -q "\"reason\":\"expired\"" "$T/qmail.json"' "$(cat "$T/qmail.json")"

# --- backscatter.conf(5): every key the program reads, each with the flag that sets it ---
# The keys the parser knows, from its table; the manual's, with their flags.
known=$(sed -n 's/^ *{ "\(identity\|sent\|milter\)", "\([a-z-]*\)" },$/\1 \2/p' "$SRC/cli/config.c")
python3 - "$SRC/doc/backscatter.conf.5" > "$T/conf-keys" <<'PY'
import re, sys
man = open(sys.argv[1]).read().replace("\\-", "-")
for sect in re.split(r"^\.SH ", man, flags=re.M):
    m = re.match(r"\[(\w+)\]", sect)
    if not m:
        continue
    for entry in re.split(r"^\.TP\n", sect, flags=re.M)[1:]:
        head = entry.split("\n", 1)[0]
        keys = re.findall(r"([a-z][a-z-]+)", re.sub(r'"[^"]*"|\([^)]*\)', " ", re.sub(r"^\.BR? ", "", head)))
        flag = re.search(r"^Flag:\n\.BR (--[a-z-]+)", entry, flags=re.M)
        for k in keys:
            print(m.group(1), k, flag.group(1) if flag else "-")
PY
missing=$(printf '%s\n' "$known" | while read -r g k; do grep -q "^$g $k " "$T/conf-keys" || echo "[$g] $k"; done)
check "backscatter.conf(5) lists every key the program reads" \
  '[ "$(printf "%s\n" "$known" | wc -l)" -ge 20 ] && [ -z "$missing" ]' "missing: $missing" "$(cat "$T/conf-keys")"
# Each flag the manual names gives what its key gives (as doctor reports it).
declare -A val=([addresses]=me@example.org [relays]=smtp.example.org [dkim-domains]=example.org
  [batv-key-file]=$SRC/testdata/batv.key [folders]=$SRC/testdata/maildir-sent [complete]=true [index]=$T/flag.db)
wrong=
while read -r g k f; do
  [ "$g" = milter ] && continue
  [ "$f" = - ] && { wrong="$wrong [$g] $k:no-flag"; continue; }
  printf '[%s]\n%s = %s\n' "$g" "$k" "${val[$k]}" > "$T/one.conf"
  # the settings doctor shows (not its config file line nor its advice)
  "$BIN" doctor --config "$T/one.conf" 2>&1 | sed '/^config file/d; /^stronger with/,$d' > "$T/by-key"
  if [ "$k" = complete ]; then flag=("$f"); else flag=("$f" "${val[$k]}"); fi
  "$BIN" doctor --config /dev/null "${flag[@]}" 2>&1 | sed '/^config file/d; /^stronger with/,$d' > "$T/by-flag"
  cmp -s "$T/by-key" "$T/by-flag" && [ -n "$(diff <("$BIN" doctor --config /dev/null 2>&1 | sed '/^config file/d; /^stronger with/,$d') "$T/by-flag")" ] \
    || wrong="$wrong [$g] $k:$f"
done < "$T/conf-keys"
check "each flag backscatter.conf(5) names for a key sets what the key sets" '[ -z "$wrong" ]' "wrong:$wrong"

# --- the manual names every option of every command ------------------------------
missing=
for c in $("$BIN" help | awk '/^Commands:/ { f = 1; next } f && /^  [a-z]/ { print $1 }'); do
  for o in $("$BIN" "$c" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
    [ "$o" = --help ] && continue
    grep -q -- "$(printf '%s' "$o" | sed 's/-/\\\\-/g')" "$SRC/doc/backscatter.1" "$SRC"/doc/*.8 2>/dev/null \
      || missing="$missing $c:$o"
  done
done
check "backscatter(1) names every option of every command" '[ -z "$missing" ]' "missing:$missing"

# --- scan's exit status: the run's, or the verdicts' with --exit-status -------
for v in no-original:2 real-batv-valid:1 forged-untagged:0; do
  E=$T/Exit-${v%%:*}; mkdir -p "$E/cur" "$E/new" "$E/tmp"
  cp "judge/${v%%:*}.eml" "$E/new/1712570000.M1P1.host.example"
  "$BIN" scan "${conf[@]}" "$E" > /dev/null 2>&1; st=$?
  check "scan exits 0 after a run without errors (${v%%:*})" '[ $st = 0 ]' "exit $st"
  "$BIN" scan "${conf[@]}" --exit-status "$E" > /dev/null 2>&1; st=$?
  check "scan --exit-status exits ${v#*:} as check does (${v%%:*})" '[ $st = "${v#*:}" ]' "exit $st"
done
"$BIN" scan "${conf[@]}" "$T/no-such-maildir" > /dev/null 2>&1; st=$?
check "scan of a mailbox that is not there is an error" '[ $st = 66 ]' "exit $st"

# With mimalloc, the heap is on large pages unless the user says otherwise:
# the option is set before the libraries' first allocation.
if readelf -d "$BIN" 2> /dev/null | grep -q libmimalloc; then
  MIMALLOC_VERBOSE=1 "$BIN" --version > /dev/null 2> "$T/mi"
  check "mimalloc takes large pages" 'grep -q "option .large_os_pages.: 1" "$T/mi"' "$(grep large_os "$T/mi")"
  MIMALLOC_LARGE_OS_PAGES=0 MIMALLOC_VERBOSE=1 "$BIN" --version > /dev/null 2> "$T/mi"
  check "MIMALLOC_LARGE_OS_PAGES=0 has the last word" 'grep -q "option .large_os_pages.: 0" "$T/mi"' \
    "$(grep large_os "$T/mi")"
else
  echo "# the program does not use mimalloc: its options are not checked"
fi
echo "1..$n"
