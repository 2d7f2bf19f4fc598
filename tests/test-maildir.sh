#!/bin/bash
# test-maildir.sh — what scan's actions do to a Maildir's files, on bounces
# written here (judged `unknown`: no owner is configured, so the actions
# take `--only unknown`). TAP output.
#
#   defang finds the attachments Windows would run and keeps CRLF mail
#   CRLF; text output shows no control character of a message raw; -r
#   never reads the folders the run writes, defang never touches its own
#   quarantine; a subfolder's move= goes to the top's folder, and a scan
#   of the move target with move= to it is refused; nothing is written through a symbolic link; tag and
#   filter replace forged X-Backscatter headers and look at the header
#   block only; a rewritten file's name says its new size and a real
#   Dovecot (doveadm) reads it whole; a folder a move creates is
#   subscribed (Dovecot lists it); a name taken in the target is not
#   overwritten; as root, owner, group and mode are kept; errors win over
#   verdicts in the exit status.
. "$(dirname "$0")/tap.sh"

B=("$BIN")
base=(--rules "$SRC/rules" --config /dev/null)

# bounce ID ATTACHMENT-NAME [EXTRA-HEADER...]: a delivery failure whose
# returned original carries an attachment of that name. MTA, RCPT, DIAG,
# OFROM, OMID and DISP, when set, replace its Reporting-MTA, failed
# recipient, Diagnostic-Code, the original's From and Message-ID and the
# attachment's Content-Disposition.
bounce () {
  local id=$1 att=$2
  shift 2
  for h in "$@"; do printf '%s\n' "$h"; done
  cat <<MSG
From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: me@example.org
Subject: Undelivered Mail Returned to Sender
Date: Mon, 8 Apr 2024 10:00:00 +0000
Message-ID: <bounce-$id@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

Your message could not be delivered.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; ${MTA:-mx.example.net}

Final-Recipient: rfc822; ${RCPT:-friend@example.com}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; ${DIAG:-550 5.1.1 no such user}

--b1
Content-Type: message/rfc822

From: ${OFROM:-someone@example.org}
To: friend@example.com
Subject: invoice $id
Message-ID: ${OMID:-<orig-$id@example.org>}
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b2"

--b2
Content-Type: text/plain

see attached

--b2
Content-Type: application/octet-stream; name="$att"
Content-Disposition: ${DISP:-attachment; filename="$att"}
Content-Transfer-Encoding: base64

TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAA

--b2--

--b1--
MSG
}

# maildir DIR: an empty Maildir
maildir () { rm -rf "$1"; mkdir -p "$1/cur" "$1/new" "$1/tmp"; }

# --- defang: names Windows runs, CRLF -----------------------------------
D=$T/defang
maildir "$D"
bounce dot 'invoice.exe.' > "$D/cur/1700000001.M1P1.test.example:2,S"
DISP="attachment; filename*=utf-8''invoice.exe%20" bounce space 'invoice.exe ' \
  > "$D/cur/1700000002.M2P1.test.example:2,S"
bounce crlf 'invoice.exe' | sed 's/$/\r/' > "$D/cur/1700000003.M3P1.test.example:2,S"
"$BIN" scan "${base[@]}" "$D" --defang Quarantine --quiet > /dev/null 2>&1
# (a rewritten file's name says its new size: UNIQUE,S=N:2,S)
for f in 1700000001.M1P1 1700000002.M2P1; do
  g=$(ls "$D/cur/$f.test.example"*)
  check "defang takes out an attachment named like ${f%%.*}'s (trailing dot or space)" \
    'grep -q "removed the attachment" "$g" && ! grep -q "^TVqQ" "$g"'
done
crlf=$(ls "$D/cur/1700000003.M3P1.test.example"*)
check "defang keeps a CRLF message CRLF" \
  'grep -q "removed the attachment" "$crlf" && [ "$(grep -c $'"'"'\r$'"'"' "$crlf")" = "$(wc -l < "$crlf")" ]' \
  "$(grep -c $'\r$' "$crlf") of $(wc -l < "$crlf") lines end in CRLF"

# --- text output: nothing from a message reaches the terminal raw ---------
E=$'\x1b'
X=$T/evil
maildir "$X"
MTA="mx.example.net${E}[2J${E}]0;title$(printf '\a')" \
RCPT="\"x${E}[2J$(printf '\r')legitimate\"@example.com" \
DIAG="550 no such user${E}[1A$(printf '\r')legitimate FAKE" \
OFROM="=?utf-8?q?Evil=0Alegitimate_FAKE=1B[2J=C2=9B2J?= <someone@example.org>" \
OMID="<a${E}[2Jb@example.org>" \
DISP="attachment; filename*=utf-8''evil%0alegitimate%20FAKE%1b%5b2J.exe" \
  bounce evil evil.exe > "$X/new/1700000010.M10P1.test.example"
cp "$X/new/1700000010.M10P1.test.example" "$X/new/1700000011.M11P1.test${E}[2J"
"$BIN" check "${base[@]}" --explain "$X/new/1700000010.M10P1.test.example" > "$T/evil.check" 2>&1
"$BIN" scan "${base[@]}" "$X" > "$T/evil.scan" 2>&1
"$BIN" scan "${base[@]}" "$X" --action tag --only unknown > "$T/evil.tag" 2>&1
: > "$X/new/1700000012.M12P1.empty${E}[1A"   # an error: empty message
"$BIN" scan "${base[@]}" "$X" > "$T/evil.err" 2>&1
# raw: the control characters that are not a line's own end, and the
# lines that begin as a verdict would but are not one of ours
raw () { python3 -c '
import re, sys
t = open(sys.argv[1], "rb").read()
bad = re.findall(rb"[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|^legitimate", t, re.M)
print(len(bad))' "$1"; }
for o in check scan tag; do
  check "$o: escape sequences and line breaks of a bounce come out escaped" \
    '[ "$(raw "$T/evil.$o")" = 0 ] && grep -q "x1b\\[2J" "$T/evil.$o"' "$(cat -A "$T/evil.$o" | head -5)"
done
check "scan: a file name's control characters come out escaped in an error" \
  '[ "$(raw "$T/evil.err")" = 0 ]' "$(cat -A "$T/evil.err" | head -5)"

# sums DIR: the checksums of every message file under DIR, sorted
sums () { find "$1" -path '*/tmp' -prune -o -type f -not -name maildirfolder -not -name '.backscatter.lock' \
            -not -name 'dovecot*' -print0 | xargs -0 -r sha256sum | awk '{print $1}' | sort; }

# --- -r with move= and --defang: folders the run writes are not read -----
R=$T/recursive
maildir "$R"
bounce worm invoice.exe > "$R/cur/1700000020.M20P1.test.example:2,S"
orig=$(sha256sum < "$R/cur/1700000020.M20P1.test.example:2,S" | cut -d' ' -f1)
for run in 1 2; do
  "$BIN" scan "${base[@]}" -r "$R" --action move=Junk --defang Quarantine --quiet > /dev/null 2>&1
done
kept=$(find "$R/.Quarantine/cur" -type f | head -1)
check "scan -r --defang: the quarantine keeps the untouched message, twice over" \
  '[ -n "$kept" ] && [ "$(sha256sum < "$kept" | cut -d" " -f1)" = "$orig" ] && [ "$(find "$R/.Quarantine" -type f -not -name maildirfolder | wc -l)" = 1 ]' \
  "$(find "$R" -type f | head)"
# scanned itself, with an untouched message in it
maildir "$R/.Quarantine"
bounce worm invoice.exe > "$R/.Quarantine/cur/1700000020.M20P1.test.example:2,S"
sums "$R/.Quarantine" > "$T/q-before"
"$BIN" scan "${base[@]}" "$R/.Quarantine" --defang Quarantine --quiet > /dev/null 2>&1
sums "$R/.Quarantine" > "$T/q-after"
check "defang never touches a message in its own quarantine" 'cmp -s "$T/q-before" "$T/q-after" && [ ! -e "$R/.Quarantine/.Quarantine" ]'

# --- a Maildir++ subfolder's move goes to the top's folder ---------------
# A second run over the folder the first moved to must not nest it inside
# itself (.Junk/.Junk, which no mail reader shows): refused, exit 64.
maildir "$R/.Work"
: > "$R/.Work/maildirfolder"
bounce work invoice.exe > "$R/.Work/cur/1700000021.M21P1.test.example:2,S"
"$BIN" scan "${base[@]}" "$R/.Work" --only unknown --action move=Junk --quiet > /dev/null 2> "$T/err"; st=$?
check "move= from a subfolder puts the message in the top Maildir's folder" \
  '[ $st = 0 ] && [ -f "$R/.Junk/cur/1700000021.M21P1.test.example:2,S" ] && [ ! -e "$R/.Work/.Junk" ]' \
  "exit $st" "$(cat "$T/err")" "$(find "$R" -name "1700000021*")"
sums "$R/.Junk" > "$T/j-before"
"$BIN" scan "${base[@]}" "$R/.Junk" --only unknown --action move=Junk > /dev/null 2> "$T/err"; st=$?
sums "$R/.Junk" > "$T/j-after"
check "scan of the move target with move= to it is refused (exit 64), nothing changed" \
  '[ $st = 64 ] && grep -q "is the Maildir" "$T/err" && cmp -s "$T/j-before" "$T/j-after" && [ ! -e "$R/.Junk/.Junk" ]' \
  "exit $st" "$(cat "$T/err")"

# --- symbolic links in the Maildir are never written through ------------
L=$T/links
maildir "$L"
mkdir -p "$T/elsewhere" "$L/.Junk/new" "$L/.Junk/tmp"
ln -s "$T/elsewhere" "$L/.Junk/cur"
bounce link1 report.pdf > "$L/cur/1700000030.M30P1.test.example:2,S"
"$BIN" scan "${base[@]}" "$L" --action move=Junk --only unknown > "$T/links.out" 2>&1
st=$?
check "move=Junk with .Junk/cur a link: nothing is written there, the message stays, exit 74" \
  '[ -z "$(ls -A "$T/elsewhere")" ] && [ -e "$L/cur/1700000030.M30P1.test.example:2,S" ] && [ "$st" = 74 ]' \
  "exit $st: $(cat "$T/links.out")"
rm "$L/.Junk/cur"; mkdir "$L/.Junk/cur"
rm -rf "$L/tmp"; ln -s "$T/elsewhere" "$L/tmp"
"$BIN" scan "${base[@]}" "$L" --action tag --only unknown > "$T/links.out" 2>&1
st=$?
check "tag with tmp/ a link: nothing is written there, the message is unchanged" \
  '[ -z "$(ls -A "$T/elsewhere")" ] && ! grep -q "^X-Backscatter" "$L/cur/1700000030.M30P1.test.example:2,S" && [ "$st" = 74 ]' \
  "exit $st: $(cat "$T/links.out")"
rm "$L/tmp"; mkdir "$L/tmp"
mv "$L/cur" "$T/elsewhere/cur"; ln -s "$T/elsewhere/cur" "$L/cur"
"$BIN" scan "${base[@]}" "$L" --action move=Junk --only unknown > "$T/links.out" 2>&1
st=$?
check "a Maildir whose cur/ is a link is refused, not read" \
  '[ -e "$T/elsewhere/cur/1700000030.M30P1.test.example:2,S" ] && [ -z "$(ls -A "$L/.Junk/cur")" ] && [ "$st" != 0 ] && grep -q "link" "$T/links.out"' \
  "exit $st: $(cat "$T/links.out")"
rm "$L/cur"; mv "$T/elsewhere/cur" "$L/cur"

# --- tag: only the header block counts; forged X-Backscatter replaced ----
G=$T/tag
maildir "$G"
{ bounce body report.pdf | sed 's/^see attached$/see attached\nX-Backscatter: legitimate; score=-9/'; } \
  > "$G/cur/1700000040.M40P1.test.example:2,S"
bounce forged report.pdf 'X-Backscatter: legitimate; score=-20.0; kind=failure' \
  'X-Backscatter-Evidence: sent-id-found (-20.0)' 'x-backscatter-verdict : legitimate' \
  > "$G/cur/1700000041.M41P1.test.example:2,S"
"$BIN" scan "${base[@]}" "$G" --action tag --only unknown --quiet > /dev/null 2>&1
body=$(ls "$G/cur/1700000040.M40P1."*); forged=$(ls "$G/cur/1700000041.M41P1."*)
check "tag: an X-Backscatter line in the body does not stop tagging" \
  'head -1 "$body" | grep -q "^X-Backscatter: unknown"' "$(head -3 "$body")"
hb () { sed '/^$/q' "$1" | grep -ic '^x-backscatter'; }
check "tag: X-Backscatter headers that came with the message are replaced by ours" \
  'head -1 "$forged" | grep -q "^X-Backscatter: unknown" && [ "$(hb "$forged")" = "$(hb "$body")" ] && ! grep -qi "legitimate" "$forged"' \
  "$(sed '/^$/q' "$forged" | grep -i backscatter)"
sums "$G" > "$T/tag1"
"$BIN" scan "${base[@]}" "$G" --action tag --only unknown --json > "$T/tag2.json" 2>&1
sums "$G" > "$T/tag2"
check "tag: a second run leaves tagged messages as they are" \
  'cmp -s "$T/tag1" "$T/tag2" && ! grep -q "\"action\":\"tagged\"" "$T/tag2.json"'
bounce forged report.pdf 'X-Backscatter: legitimate; score=-20.0; kind=failure' 'X-Backscatter-Spam: no' \
  | "$BIN" filter "${base[@]}" > "$T/filtered"
check "filter: X-Backscatter headers that came with the message are replaced by ours" \
  'head -1 "$T/filtered" | grep -q "^X-Backscatter: unknown" && ! grep -qi "legitimate\|X-Backscatter-Spam" "$T/filtered"'

# Lines that end in CRLF or a bare CR: the forged header goes, every other
# byte stays, and ours end as the message's lines do.
for eol in crlf cr; do
  bounce "forged-$eol" report.pdf 'X-Backscatter: legitimate; score=-20.0; kind=failure' > "$T/$eol.lf"
  if [ $eol = crlf ]; then sed 's/$/\r/' "$T/$eol.lf"; else tr '\n' '\r' < "$T/$eol.lf"; fi > "$T/$eol.in"
  "$BIN" filter "${base[@]}" < "$T/$eol.in" > "$T/$eol.out"
  maildir "$G/$eol"
  cp "$T/$eol.in" "$G/$eol/cur/1700000042.M42P1.test.example:2,S"
  "$BIN" scan "${base[@]}" "$G/$eol" --action tag --only unknown --quiet > /dev/null 2>&1
  python3 - "$T/$eol.in" "$T/$eol.out" "$G/$eol"/cur/1700000042.M42P1.* > "$T/$eol.cmp" <<'PY'
import sys
src = open(sys.argv[1], "rb").read()
nl = b"\r\n" if b"\r\n" in src else b"\r"
want_rest = src.split(nl, 1)[1]  # the message less its forged first line
for out in sys.argv[2:]:
    got = open(out, "rb").read()
    ours, rest = got.split(nl + b"From:", 1)
    rest = b"From:" + rest
    lines = ours.split(nl)
    ok = (rest == want_rest and lines[0].startswith(b"X-Backscatter: unknown")
          and b"legitimate" not in got and all(b"\n" not in l and b"\r" not in l for l in lines))
    print("ok" if ok else "bad %s: %r" % (out, got[:300]))
PY
  check "filter and tag of a message whose lines end in ${eol^^}: forged header out, ours ${eol^^}-ended, the rest byte for byte" \
    '[ "$(sort -u "$T/$eol.cmp")" = ok ]' "$(cat "$T/$eol.cmp")"
done

# --- a rewritten file's name says its size ---------------------------------
S=$T/sized
maildir "$S"
bounce sized invoice.exe > "$S/cur/x"
sz=$(stat -c %s "$S/cur/x")
mv "$S/cur/x" "$S/cur/1700000050.M50P1.test.example,S=$sz,W=$((sz + 60)):2,S"
bounce sized2 report.pdf > "$S/new/1700000051.M51P1.test.example"
# as a run killed between its rewrite and the rename leaves it: tagged,
# named with the old size
bounce sized3 report.pdf | "$BIN" filter "${base[@]}" > "$S/cur/1700000052.M52P1.test.example,S=700:2,S"
sum52=$(sha256sum < "$S/cur/1700000052.M52P1.test.example,S=700:2,S")
"$BIN" scan "${base[@]}" "$S" --defang Quarantine --quiet > /dev/null 2>&1
"$BIN" scan "${base[@]}" "$S" --action tag --only unknown --quiet > /dev/null 2>&1
sized_ok=0
for f in "$S"/cur/* "$S"/new/*; do
  name=$(basename "$f"); size=${name#*,S=}; size=${size%%[,:]*}
  [ "$size" = "$(stat -c %s "$f")" ] && [ "${name#*,W=}" = "$name" ] && sized_ok=$((sized_ok + 1))
done
check "tagged and defanged files are named with their new size, without W=" \
  '[ "$sized_ok" = 3 ] && ls "$S/cur" | grep -q "^1700000050.M50P1.test.example,S=[0-9]*:2,S$"' "$(ls "$S/cur" "$S/new")"
check "a name left with the old size by a killed rewrite is put right, the content kept" \
  '[ "$(sha256sum < "$(ls "$S"/cur/1700000052.M52P1.*)")" = "$sum52" ]' "$(ls "$S/cur")"

# --- owner, group and mode are kept (run as root over a user's Maildir) --
skip () { ok "$1 # SKIP $2"; }
if [ "$(id -u)" = 0 ]; then
  O=$T/owned
  maildir "$O"
  bounce own1 invoice.exe > "$O/cur/1700000060.M60P1.test.example:2,S"
  bounce own2 report.pdf > "$O/new/1700000061.M61P1.test.example"
  chown -R 4242:4243 "$O"; chmod 0700 "$O" "$O"/*; chmod 0660 "$O"/cur/* "$O"/new/*
  "$BIN" scan "${base[@]}" "$O" --defang Quarantine --quiet > /dev/null 2>&1
  "$BIN" scan "${base[@]}" "$O" --action tag --only unknown --quiet > /dev/null 2>&1
  wrong () { find "$O" -path "$O/.Junk" -prune -o \( -type f -not -name maildirfolder -not -name subscriptions -not -name .backscatter.lock \( -not -uid 4242 -o -not -gid 4243 -o -not -perm 0660 \) -print \); }
  check "defanged and tagged files keep owner, group and mode 0660" \
    '[ -z "$(wrong)" ] && grep -q "^X-Backscatter" "$O"/new/* && grep -q "removed the attachment" "$O"/cur/*' \
    "$(find "$O" -type f -printf '%u:%g %m %p\n' | head -5)"
  "$BIN" scan "${base[@]}" "$O" --action move=Junk --only unknown --quiet > /dev/null 2>&1
  check "moved files keep owner, group and mode; created folders are the Maildir owner's" \
    '[ -z "$(wrong)" ] && [ "$(find "$O/.Junk" -type f -not -name maildirfolder -uid 4242 -gid 4243 -perm 0660 | wc -l)" = 2 ] && [ -z "$(find "$O" -mindepth 1 -not -name .backscatter.lock \( -not -uid 4242 -o -not -gid 4243 \) -print)" ]' \
    "$(find "$O" -printf '%u:%g %m %p\n' | head -12)"
else
  skip "defanged and tagged files keep owner, group and mode 0660" "not root"
  skip "moved files keep owner, group and mode; created folders are the Maildir owner's" "not root"
fi

# --- folders a move creates are subscribed; a taken name is not overwritten ----
U=$T/subs
maildir "$U"; maildir "$U/.Archive"
bounce sub1 report.pdf > "$U/new/1700000060.M60P1.test.example,S=1000"
printf 'V\t2\n\nArchive\n' > "$U/subscriptions"
printf 'INBOX.Archive\n' > "$U/courierimapsubscribed"
"$BIN" scan "${base[@]}" "$U" --only unknown --action move=Junk.Bounces --quiet > /dev/null 2>&1
check "a folder a move creates is added to Dovecot's and Courier's subscriptions, in their formats" \
  '[ "$(cat "$U/subscriptions")" = "$(printf "V\t2\n\nArchive\nJunk\tBounces")" ] && [ "$(cat "$U/courierimapsubscribed")" = "$(printf "INBOX.Archive\nINBOX.Junk.Bounces")" ] && [ ! -e "$U/subscriptions.lock" ]' \
  "$(cat -A "$U/subscriptions" "$U/courierimapsubscribed")"
U2=$T/subs2
maildir "$U2"
bounce sub2 report.pdf > "$U2/new/1700000061.M61P1.test.example"
"$BIN" scan "${base[@]}" "$U2" --only unknown --action move=Backscatter --quiet > /dev/null 2>&1
printf 'Junk\n' > "$U2/subscriptions"
maildir "$U2/.Junk"; rm -rf "$U2/.Backscatter/cur"/* "$U2/.Backscatter/new"/*
bounce sub3 report.pdf > "$U2/new/1700000062.M62P1.test.example"
"$BIN" scan "${base[@]}" "$U2" --only unknown --action move=Backscatter --quiet > /dev/null 2>&1
check "without a subscriptions file one is made; a folder that was there is left as the user subscribed it" \
  '[ "$(cat "$U2/subscriptions")" = Junk ] && [ ! -e "$U2/courierimapsubscribed" ] && [ -f "$U2/.Backscatter/new/1700000062.M62P1.test.example" ]' \
  "$(cat -A "$U2/subscriptions" 2>&1)"
if command -v doveadm > /dev/null; then
  U3=$T/subs3; mkdir -p "$U3"
  maildir "$U3/Maildir"
  bounce sub4 report.pdf > "$U3/Maildir/new/1700000063.M63P1.test.example"
  if [ "$(id -u)" = 0 ]; then
    duser=nobody; duid=$(id -u nobody); dgid=$(id -g nobody); chmod 755 "$T"; chown -R "$duid:$dgid" "$U3"
  else
    duser=$(id -un); duid=$(id -u); dgid=$(id -g)
  fi
  printf 'log_path = /dev/stderr\nmail_location = maildir:%s/Maildir\nmail_uid = %s\nmail_gid = %s\nfirst_valid_uid = 0\nfirst_valid_gid = 0\n' \
    "$U3" "$duid" "$dgid" > "$U3/dovecot.conf"
  sdove () { USER=$duser HOME=$U3 doveadm -c "$U3/dovecot.conf" "$@"; }
  sdove mailbox subscribe INBOX > "$T/sdove" 2>&1
  "$BIN" scan "${base[@]}" "$U3/Maildir" --only unknown --action move=Backscatter --quiet > /dev/null 2>&1
  sdove mailbox list -s >> "$T/sdove" 2>&1; st=$?
  check "Dovecot lists the folder a move created among the subscribed ones (doveadm mailbox list -s)" \
    '[ $st = 0 ] && grep -qx "Backscatter" "$T/sdove" && grep -qx "INBOX" "$T/sdove"' "exit $st" "$(cat "$T/sdove")"
else
  skip "Dovecot lists the folder a move created among the subscribed ones (doveadm mailbox list -s)" "no doveadm (Debian dovecot-core)"
fi
# -r: a subfolder's message whose name the target folder holds already.
C2=$T/collide
maildir "$C2"; maildir "$C2/.Lists"; maildir "$C2/.Backscatter"
name=1700000070.M70P1.test.example:2,S
bounce col1 report.pdf > "$C2/.Backscatter/cur/$name"
bounce col2 report.pdf > "$C2/.Lists/cur/$name"
sum_there=$(sha256sum < "$C2/.Backscatter/cur/$name"); sum_moved=$(sha256sum < "$C2/.Lists/cur/$name")
"$BIN" scan "${base[@]}" -r "$C2" --only unknown --action move=Backscatter > "$T/col.out" 2>&1; st=$?
new=$(ls "$C2/.Backscatter/cur" | grep -vx "$name")
check "scan -r: a message whose name the target holds takes a new name, flags kept, and overwrites nothing" \
  '[ $st = 0 ] && [ "$(ls "$C2/.Backscatter/cur" | wc -l)" = 2 ] && [ "$(sha256sum < "$C2/.Backscatter/cur/$name")" = "$sum_there" ] && [ "$(sha256sum < "$C2/.Backscatter/cur/$new")" = "$sum_moved" ] && [[ "$new" = *.*:2,S ]] && [ -z "$(ls "$C2/.Lists/cur")" ] && grep -q "(moved)" "$T/col.out"' \
  "exit $st" "$(cat "$T/col.out")" "$(find "$C2" -type f)"

# --- a real Dovecot reads tagged and defanged messages whole -------------
if command -v doveadm > /dev/null; then
  V=$T/dovecot
  maildir "$V/Maildir"
  for i in 1 2; do
    [ "$i" = 1 ] && att=invoice.exe || att=report.pdf
    bounce "dove$i" "$att" > "$V/x"
    sz=$(stat -c %s "$V/x")
    mv "$V/x" "$V/Maildir/cur/170000007$i.M7${i}P1.test.example,S=$sz,W=$((sz + 60)):2,S"
  done
  if [ "$(id -u)" = 0 ]; then
    dvuser=nobody; dvuid=$(id -u nobody); dvgid=$(id -g nobody)
    chmod 755 "$T"; chown -R "$dvuid:$dvgid" "$V"
  else
    dvuser=$(id -un); dvuid=$(id -u); dvgid=$(id -g)
  fi
  cat > "$V/dovecot.conf" <<CONF
log_path = /dev/stderr
info_log_path = /dev/stderr
mail_location = maildir:$V/Maildir
mail_uid = $dvuid
mail_gid = $dvgid
first_valid_uid = 0
first_valid_gid = 0
CONF
  dove () { USER=$dvuser HOME=$V doveadm -c "$V/dovecot.conf" "$@"; }
  dove fetch 'uid size.physical' mailbox INBOX all > "$T/dove1" 2>&1
  "$BIN" scan "${base[@]}" "$V/Maildir" --defang Quarantine --quiet > /dev/null 2>&1
  "$BIN" scan "${base[@]}" "$V/Maildir" --action tag --only unknown --quiet > /dev/null 2>&1
  dove fetch 'size.physical hdr body' mailbox INBOX all > "$T/dove2" 2> "$T/dove2.err"
  st=$?
  want=$(stat -c %s "$V"/Maildir/cur/* | sort -n | tr '\n' ' ')
  got=$(grep '^size.physical:' "$T/dove2" | awk '{print $2}' | sort -n | tr '\n' ' ')
  check "Dovecot reads tagged and defanged messages whole (doveadm fetch)" \
    '[ "$st" = 0 ] && [ ! -s "$T/dove2.err" ] && [ "$got" = "$want" ] && [ "$(grep -c "^X-Backscatter: unknown" "$T/dove2")" = 2 ] && grep -q "removed the attachment" "$T/dove2"' \
    "exit $st, sizes $got, files $want" "$(head -3 "$T/dove1")" "$(head -3 "$T/dove2.err")"
else
  skip "Dovecot reads tagged and defanged messages whole (doveadm fetch)" "no doveadm (Debian dovecot-core)"
fi

# --- errors win over verdicts in the exit status ----------------------------
(cd "$SRC/testdata" && "$BIN" learn --quiet --config owner.conf --index "$T/owner.db") || echo "# learn failed"
E2=$T/errors
maildir "$E2"
cp "$SRC/testdata/judge/forged-from-stranger.eml" "$E2/cur/1700000080.M80P1.test.example:2,S"
rm -rf "$E2/tmp"; : > "$E2/tmp"   # no tmp/ folder: the rewrite cannot be written
(cd "$SRC/testdata" && "$BIN" scan --config owner.conf --index "$T/owner.db" "$E2" --action tag) > "$T/err.out" 2>&1
st=$?
check "a tag run with write errors exits 74 although it found backscatter" \
  '[ "$st" = 74 ] && grep -q "^backscatter " "$T/err.out"' "exit $st: $(cat "$T/err.out")"

: > "$T/empty.eml"
(cd "$SRC/testdata" && "$BIN" check --config owner.conf --index "$T/owner.db" judge/forged-from-stranger.eml "$T/empty.eml") > "$T/err.out" 2>&1
st=$?
check "check exits 65 for an unreadable message beside backscatter" \
  '[ "$st" = 65 ] && grep -q "backscatter (score" "$T/err.out"' "exit $st: $(cat "$T/err.out")"

# --- tag and defang killed at random moments ----------------------------
# Each message ends up exactly once, whole: tagged (and defanged when it
# carried a worm), named with its size; the quarantine keeps one
# untouched copy of each worm.
K=$T/killed
maildir "$K"
for i in $(seq 100 159); do
  [ $((i % 2)) = 0 ] && att=invoice.exe || att=report.pdf
  bounce "kill$i" "$att" > "$T/x"; sz=$(stat -c %s "$T/x")
  mv "$T/x" "$K/cur/1700001$i.M${i}P1.test.example,S=$sz:2,S"
  [ $((i % 2)) = 0 ] && sha256sum < "$K/cur/1700001$i.M${i}P1.test.example,S=$sz:2,S" | cut -d' ' -f1 >> "$T/worms"
done
sort -o "$T/worms" "$T/worms"
# killed: kill ACTION... runs scan 8 times, each killed at a random moment,
# then once to the end; counts the kills in $kills.
kills=0
killed () {
  for round in $(seq 1 8); do
    "$BIN" scan "${base[@]}" "$K" "$@" --jobs 1 --quiet > /dev/null 2>&1 &
    pid=$!
    sleep "0.$((RANDOM % 2))$((RANDOM % 10))"
    kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
    wait "$pid" 2>/dev/null
  done
  "$BIN" scan "${base[@]}" "$K" "$@" --quiet > /dev/null 2>&1
}
killed --defang Quarantine
sums "$K/.Quarantine" > "$T/kept"
check "after $kills killed defang runs the quarantine holds each worm's untouched message once" \
  'cmp -s "$T/worms" "$T/kept"' "$(diff "$T/worms" "$T/kept" | head -4)"
killed --action tag --only unknown
ids=$(cat "$K"/cur/* "$K"/new/* 2>/dev/null | grep -o '^Message-ID: <bounce-kill[0-9]*@' | sort | uniq -c | awk '$1 == 1' | wc -l)
files=$(find "$K/cur" "$K/new" -type f | wc -l)
tagged=$(grep -l '^X-Backscatter: unknown' "$K"/cur/* | wc -l)
defanged=$(grep -l 'removed the attachment' "$K"/cur/* | wc -l)
sized=0
for f in "$K"/cur/*; do
  name=$(basename "$f"); size=${name#*,S=}; size=${size%%[,:]*}
  [ "$size" = "$(stat -c %s "$f")" ] && sized=$((sized + 1))
done
check "after $kills killed defang and tag runs: each message once, defanged, tagged, named by size" \
  '[ "$ids" = 60 ] && [ "$files" = 60 ] && [ "$tagged" = 60 ] && [ "$defanged" = 30 ] && [ "$sized" = 60 ]' \
  "$ids ids once, $files files, $tagged tagged, $defanged defanged, $sized sized"

echo "1..$n"
