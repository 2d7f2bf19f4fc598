#!/bin/bash
# test-index.sh — the sent-mail index under the conditions it lives in:
# `check` running while `learn --rebuild` starts the index over sees the
# old index or the new one, never an empty or half one; messages added by
# `record-sent` outlive a rebuild; the index is private to its owner; a
# report that returns only the original's Message-ID (In-Reply-To) is
# looked up by it. TAP.
. "$(dirname "$0")/tap.sh"

umask 022
mkdir -p "$T/Sent"
# A Sent mbox of 4000 messages, the one that bounced last: a rebuild
# that shows its work half done shows a covered index without it.
awk 'BEGIN {
  for (i = 0; i < 4000; i++) {
    d = 1 + int(i / 50); m = 1 + int(d / 28); d = 1 + d % 28
    printf "From me@example.org Mon Jan  1 00:00:00 2024\n"
    printf "From: Me Example <me@example.org>\nTo: friend%d@example.net\n", i % 300
    printf "Subject: note %d\nDate: %02d Mar 2024 10:00:00 +0200\n", i, d
    printf "Message-ID: <note-%d@mail.example.org>\n\nhello\n\n", i
  }
  printf "From me@example.org Mon Apr  8 00:00:00 2024\n"
  printf "From: Me Example <me@example.org>\nTo: ulla@example.com\nSubject: On my way\n"
  printf "Date: Mon, 08 Apr 2024 10:55:00 +0200\nMessage-ID: <CAJ7y1x0phone4242@mail.example.org>\n\nHello.\n\n"
}' > "$T/Sent/mbox"
cat > "$T/owner.conf" <<EOF
[identity]
addresses = me@example.org
[sent]
folders = $T/Sent/mbox
complete = true
EOF
conf=(--config "$T/owner.conf" --index "$T/data/private/sent.db")
bounce=$SRC/testdata/judge/real-not-in-sent.eml

"$BIN" learn --quiet "${conf[@]}"; st=$?
check "learn builds the index" '[ $st = 0 ]' "exit $st"
"$BIN" check "${conf[@]}" "$bounce" > "$T/out"; st=$?
check "the bounce of a message in the Sent folder is legitimate" '[ $st = 1 ] && grep -q ": legitimate" "$T/out"' "$(cat "$T/out")"

# --- the index is private ----------------------------------------------------
mode () { stat -c %a "$1" 2> /dev/null; }
check "the index's folder is created 0700" '[ "$(mode "$T/data/private")" = 700 ]' "$(mode "$T/data/private")"
check "the index is created 0600" '[ "$(mode "$T/data/private/sent.db")" = 600 ]' "$(mode "$T/data/private/sent.db")"

# --- rebuild while check runs --------------------------------------------------
# The rebuilds run in the background; check runs on the legitimate bounce
# until they end. Every answer must be legitimate: the old index and the
# new one both hold its Message-ID.
( for i in 1 2 3 4 5 6; do "$BIN" learn --rebuild --quiet "${conf[@]}" || echo "rebuild $i failed: $?"; done > "$T/rebuilds" 2>&1 ) &
rebuilder=$!
checks=0 wrong=0 modes=
while kill -0 $rebuilder 2> /dev/null; do
  "$BIN" check "${conf[@]}" "$bounce" > "$T/out" 2>&1
  checks=$((checks + 1))
  grep -q ": legitimate" "$T/out" || { wrong=$((wrong + 1)); echo "# during a rebuild: $(head -1 "$T/out")"; }
  for f in "$T/data/private/sent.db-wal" "$T/data/private/sent.db-shm"; do
    [ -e "$f" ] && modes="$modes $(mode "$f")"
  done
done
wait $rebuilder
check "the rebuilds succeed" '[ ! -s "$T/rebuilds" ]' "$(cat "$T/rebuilds")"
echo "# $checks checks during 6 rebuilds"
check "check never sees a half-built index ($wrong of $checks wrong)" '[ $checks -ge 3 ] && [ $wrong = 0 ]'
check "the index's -wal and -shm files are 0600" '[ -n "$modes" ] && [ -z "$(echo $modes | tr " " "\n" | grep -v "^600$")" ]' "modes:$modes"

# --- record-sent entries outlive a rebuild -------------------------------------------
printf 'From: Me <me@example.org>\nTo: zoe@example.net\nSubject: from the phone\nDate: Mon, 08 Apr 2024 12:00:00 +0200\nMessage-ID: <phone-77@mail.example.org>\n\nhi\n' \
  | "$BIN" record-sent "${conf[@]}"
"$BIN" learn --rebuild "${conf[@]}" > "$T/out"
check "a rebuild keeps the messages record-sent added" 'grep -q "index: 4002 messages" "$T/out"' "$(cat "$T/out")"
sed 's/CAJ7y1x0phone4242@mail.example.org/phone-77@mail.example.org/; s/ulla@example.com/zoe@example.net/g' "$bounce" > "$T/phone.eml"
"$BIN" check "${conf[@]}" "$T/phone.eml" > "$T/out"; st=$?
check "so its bounce stays legitimate after the rebuild" '[ $st = 1 ] && grep -q ": legitimate" "$T/out"' "$(cat "$T/out")"

# A rebuild that cannot read a sent folder keeps the index as it was.
mv "$T/Sent/mbox" "$T/Sent/gone"
"$BIN" learn --rebuild "${conf[@]}" > "$T/out" 2>&1; st=$?
mv "$T/Sent/gone" "$T/Sent/mbox"
"$BIN" check "${conf[@]}" "$bounce" > "$T/out2"
check "a rebuild that fails leaves the old index in place" '[ $st != 0 ] && grep -q ": legitimate" "$T/out2"' "exit $st" "$(cat "$T/out")" "$(cat "$T/out2")"

# An index of the first schema, which did not say where an entry came
# from: its entries are all kept by the first rebuild.
python3 - "$T/old.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE sent (message_id TEXT PRIMARY KEY, date INTEGER, sender TEXT, user_agent TEXT, id_domain TEXT);
CREATE TABLE profile (kind TEXT, value TEXT, count INTEGER NOT NULL, PRIMARY KEY (kind, value));
CREATE TABLE seen (path TEXT PRIMARY KEY, size INTEGER, mtime INTEGER);
INSERT INTO meta VALUES ('schema', '1');
INSERT INTO sent VALUES ('<phone-77@mail.example.org>', 1712570400, 'me@example.org', NULL, 'mail.example.org');
INSERT INTO profile VALUES ('rcpt', 'zoe@example.net', 1);
""")
db.commit()
PY
chmod 644 "$T/old.db"
"$BIN" learn --rebuild --config "$T/owner.conf" --index "$T/old.db" > "$T/out" 2>&1; st=$?
check "an index of the first schema is upgraded, keeping its entries" '[ $st = 0 ] && grep -q "index: 4002 messages" "$T/out"' "exit $st" "$(cat "$T/out")"
check "and made private" '[ "$(mode "$T/old.db")" = 600 ]' "$(mode "$T/old.db")"

# --- learn reads the folders named, and says when one is not sent mail ----------------
# A Maildir as `learn` might be pointed at: the inbox (mail from others),
# with the sent mail in a Maildir++ subfolder and a spam folder beside it.
L=$T/Learn; mkdir -p "$L/cur" "$L/new" "$L/tmp"
cp "$SRC/testdata/maildir/cur/"* "$L/cur/"
cp -a "$SRC/testdata/maildir-sent" "$L/.Sent"
mkdir -p "$L/.Spam/cur" "$L/.Spam/new" "$L/.Spam/tmp"
cp "$SRC/testdata/judge/forged-untagged.eml" "$L/.Spam/new/1712400000.M1P1.host.example"
lconf=(--config /dev/null --me me@example.org --index "$T/learn.db")
n_inbox=$(ls "$L/cur" | wc -l); n_sent=$(find "$L/.Sent/cur" "$L/.Sent/new" -type f | wc -l)
"$BIN" learn "${lconf[@]}" --sent "$L" > "$T/out" 2> "$T/err"; st=$?
check "learn reads only the folder named, not its subfolders" \
  '[ $st = 0 ] && grep -q "^$L: $n_inbox messages read, $n_inbox new$" "$T/out"' "exit $st" "$(cat "$T/out")"
check "and warns that it holds mostly mail not From the owner, once" \
  '[ "$(wc -l < "$T/err")" = 1 ] && grep -q "warning: $L: $n_inbox of $n_inbox messages read are not From your addresses" "$T/err"' "$(cat "$T/err")"
"$BIN" learn "${lconf[@]}" --sent "$L/.Sent" > "$T/out" 2> "$T/err"; st=$?
check "a folder of the owner's own mail learns without a warning" \
  '[ $st = 0 ] && [ ! -s "$T/err" ] && grep -q "$n_sent messages read, $n_sent new" "$T/out"' "exit $st" "$(cat "$T/out" "$T/err")"
rm -f "$T/learn.db"
"$BIN" learn "${lconf[@]}" -r --sent "$L" > "$T/out" 2> "$T/err"; st=$?
n_all=$((n_inbox + n_sent + 1))
check "learn -r reads the Maildir++ subfolders too" \
  '[ $st = 0 ] && grep -q "^$L: $n_all messages read, $n_all new$" "$T/out"' "exit $st" "$(cat "$T/out")"

# An mbox that grew: read again from its start, only the appended are new.
head -n "$(grep -n '^From ' "$T/Sent/mbox" | sed -n 11p | cut -d: -f1)" "$T/Sent/mbox" | head -n -1 > "$T/grow"
"$BIN" learn "${lconf[@]}" --index "$T/grow.db" --sent "$T/grow" > "$T/out" 2>&1
tail -n +"$(grep -n '^From ' "$T/Sent/mbox" | sed -n 11p | cut -d: -f1)" "$T/Sent/mbox" | head -n 27 >> "$T/grow"
"$BIN" learn "${lconf[@]}" --index "$T/grow.db" --sent "$T/grow" > "$T/out2" 2>&1; st=$?
check "learn of a grown mbox counts only the messages appended as new" \
  '[ $st = 0 ] && grep -q "10 messages read, 10 new" "$T/out" && grep -q "13 messages read, 3 new" "$T/out2" && grep -q "index: 13 messages" "$T/out2"' \
  "exit $st" "$(cat "$T/out" "$T/out2")"

# --- a report that returns nothing of the original but its Message-ID ----------
# (In-Reply-To), as many mail systems write it: looked up like a returned one.
noorig () {
  cat <<MSG
Return-Path: <>
From: Mail Delivery System <MAILER-DAEMON@mx.example.com>
To: me@example.org
Subject: Delivery Status Notification (Failure)
Date: Mon, 08 Apr 2024 12:00:00 +0000
Message-ID: <dsn-noorig-$2@mx.example.com>
In-Reply-To: $1
References: $1
Content-Type: text/plain

Delivery to the following recipient failed permanently:

     ulla@example.com

550 5.1.1 The email account that you tried to reach does not exist.
MSG
}
noorig "<CAJ7y1x0phone4242@mail.example.org>" 1 > "$T/noorig-sent.eml"
noorig "<CAJ7y1x0never0000@mail.example.org>" 2 > "$T/noorig-forged.eml"
"$BIN" check --explain "${conf[@]}" "$T/noorig-sent.eml" > "$T/out"
check "a report naming a sent message only in In-Reply-To is legitimate" \
  'grep -q ": legitimate" "$T/out" && grep -q "sent-id-found" "$T/out"' "$(cat "$T/out")"
"$BIN" check --explain "${conf[@]}" "$T/noorig-forged.eml" > "$T/out"
check "one naming a message never sent is not" \
  '! grep -q ": legitimate" "$T/out" && grep -q "sent-id-missing" "$T/out"' "$(cat "$T/out")"

echo "1..$n"
[ $failed = 0 ]
