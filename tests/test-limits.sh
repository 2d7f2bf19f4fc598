#!/bin/bash
# test-limits.sh — no input makes backscatter use unbounded memory or
# time, cut a message without saying so, or pass mail wrongly through
# filter: standard input that cannot be read, that never ends, or that is
# larger than the 32 MiB read of one message. Memory is bounded with
# `ulimit -v` and time with `ulimit -t` (CPU seconds). TAP output.
. "$(dirname "$0")/tap.sh"
# 320 MiB of address space: a 40 MiB message on standard input is read to
# its first 32 MiB, which needs some 230 MiB with glibc's allocator and
# 300 MiB with mimalloc's, which maps its memory in larger pieces.
LIMIT_KB=327680
CPU=60
set_address_space_limit $LIMIT_KB
bounded () { ( ulimit -v $limit; ulimit -t $CPU; exec "$@" ); }
cd "$SRC/testdata" || exit 1
conf=(--config owner.conf --index "$T/owner.db")
"$BIN" learn --quiet "${conf[@]}"
bounce=judge/forged-untagged.eml

# --- filter: standard input that cannot be read writes nothing --------------
"$BIN" filter "${conf[@]}" < "$T" > "$T/out" 2> "$T/err"; st=$?
check "filter < FOLDER exits 74 and writes nothing" '[ $st = 74 ] && [ ! -s "$T/out" ]' "exit $st" "$(cat "$T/err")"
"$BIN" filter "${conf[@]}" <&- > "$T/out" 2> "$T/err"; st=$?
check "filter with stdin closed exits 74 and writes nothing" '[ $st = 74 ] && [ ! -s "$T/out" ]' "exit $st" "$(cat "$T/err")"
"$BIN" check "${conf[@]}" < "$T" > "$T/out" 2> "$T/err"; st=$?
check "check < FOLDER is an I/O error" '[ $st = 74 ]' "exit $st" "$(cat "$T/err")"
"$BIN" record-sent --index "$T/rs.db" <&- 2> "$T/err"; st=$?
check "record-sent with stdin closed is an I/O error" '[ $st = 74 ]' "exit $st" "$(cat "$T/err")"

# --- filter: a broken configuration is visible in every message -------------
mkdir -p "$T/badrules"; printf 'format broken\nbody (\n' > "$T/badrules/x.rules"
"$BIN" filter "${conf[@]}" --rules "$T/badrules" < "$bounce" > "$T/out" 2> /dev/null; st=$?
check "filter with a broken rule file adds X-Backscatter-Error and keeps the message" \
  '[ $st = 0 ] && head -1 "$T/out" | grep -q "^X-Backscatter-Error: .*x.rules:2: bad pattern" && [ "$(tail -n +2 "$T/out" | md5sum)" = "$(md5sum < "$bounce")" ]' \
  "exit $st" "$(head -1 "$T/out")"
printf '[identity]\nfrobnicate = 1\n' > "$T/bad.conf"
"$BIN" filter --config "$T/bad.conf" < "$bounce" > "$T/out" 2> /dev/null; st=$?
check "filter with a broken config file adds X-Backscatter-Error" \
  '[ $st = 0 ] && head -1 "$T/out" | grep -q "^X-Backscatter-Error: .*bad.conf:2: unknown key" && [ "$(tail -n +2 "$T/out" | md5sum)" = "$(md5sum < "$bounce")" ]' \
  "exit $st" "$(head -1 "$T/out")"

if [ -n "${BACKSCATTER_VALGRIND:-}" ]; then
  n=$((n + 1)); echo "ok $n # SKIP hundreds of megabytes under valgrind"
  echo "1..$n"; [ $failed -eq 0 ]; exit
fi

# --- standard input that never ends ------------------------------------------
# 300 MB of zeros: more than the address space allowed, so that reading it
# all would fail; the program reads 32 MiB and stops (check, record-sent)
# or copies the rest through (filter).
big=$((300 * 1024 * 1024))
head -c $big /dev/zero | bounded "$BIN" check --json "${conf[@]}" > "$T/out" 2> "$T/err"; st=$?
check "check < 300 MB of zeros answers with an error in bounded memory" \
  '[ $st = 65 ] && grep -q "\"error\"" "$T/out"' "exit $st" "$(tail -3 "$T/err")"
head -c $big /dev/zero | bounded "$BIN" record-sent --index "$T/rs.db" 2> "$T/err"; st=$?
check "record-sent < 300 MB of zeros answers with an error in bounded memory" \
  '[ $st = 65 ]' "exit $st" "$(tail -3 "$T/err")"
head -c $big /dev/zero | bounded "$BIN" filter "${conf[@]}" 2> "$T/err" | wc -c > "$T/count"
st=${PIPESTATUS[1]}
check "filter < 300 MB of zeros copies every byte in bounded memory" \
  '[ $st = 0 ] && [ "$(cat "$T/count")" = $big ]' "exit $st, $(cat "$T/count") bytes" "$(tail -3 "$T/err")"

# --- a real message larger than the 32 MiB read -----------------------------
# A bounce followed by 40 MB of body: judged from its start, with a warning
# that says so; filter adds its headers and passes every byte on.
{ cat "$bounce"; head -c $((40 * 1024 * 1024)) /dev/zero | tr '\0' 'x' | fold -w 76; } > "$T/large.eml"
bounded "$BIN" check --json "${conf[@]}" < "$T/large.eml" > "$T/out" 2> "$T/err"; st=$?
check "check of a message over 32 MiB on stdin judges its start and warns" \
  '[ $st = 0 ] && grep -q "\"verdict\":\"backscatter\"" "$T/out" && grep -q "\"warnings\":\[\"the message is larger than" "$T/out"' \
  "exit $st" "$(head -c 300 "$T/out")" "$(tail -3 "$T/err")"
bounded "$BIN" filter "${conf[@]}" < "$T/large.eml" > "$T/out" 2> "$T/err"; st=$?
check "filter of a message over 32 MiB adds its headers and keeps every byte" \
  '[ $st = 0 ] && head -1 "$T/out" | grep -q "^X-Backscatter: backscatter;" && tail -c "$(stat -c %s "$T/large.eml")" "$T/out" | cmp -s - "$T/large.eml"' \
  "exit $st" "$(head -2 "$T/out")" "$(tail -3 "$T/err")"
rm -f "$T/large.eml" "$T/out"

# --- a message whose lines end in a bare CR is read like any other ---------
tr '\n' '\r' < "$bounce" > "$T/cr.eml"
"$BIN" check --json "${conf[@]}" "$bounce" | sed 's/"source":"[^"]*"//' > "$T/lf.json"
"$BIN" check --json "${conf[@]}" "$T/cr.eml" | sed 's/"source":"[^"]*"//' > "$T/cr.json"
check "a bare-CR message gets the same result as its LF twin" \
  'grep -q "\"kind\":\"failure\"" "$T/cr.json" && cmp -s "$T/lf.json" "$T/cr.json"' "$(head -c 300 "$T/cr.json")"

# --- every other limit a report can go past says so in a warning ----------
# 1200 recipients in a DSN, a delivery-status part over 1 MiB, a report text
# over 256 KiB, a diagnostic over 2048 bytes, an original with more Received
# headers, header fields and attachments than are kept: each result is
# still a failure report, and names the limit.
python3 - "$T" <<'PY'
import sys
head = (b"From: MAILER-DAEMON@mx.example.net\nTo: owner@example.org\n"
        b"Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n')
def dsn(groups, note=b""):
    return (head + b"--b\nContent-Type: text/plain\n\nDelivery failed.\n" + note +
            b"\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n" +
            b"".join(b"Final-Recipient: rfc822; user%d@example.com\nAction: failed\nStatus: 5.1.1\n"
                     b"Diagnostic-Code: smtp; 550 5.1.1 no such user%s\n\n" % (i, pad) for i, pad in groups) +
            b"--b--\n")
open(sys.argv[1] + "/many.eml", "wb").write(dsn((i, b"") for i in range(1200)))
open(sys.argv[1] + "/bigdsn.eml", "wb").write(dsn((i, b" " + b"x" * 1500) for i in range(800)))
open(sys.argv[1] + "/bigtext.eml", "wb").write(dsn([(1, b"")], b"The mail system said:\n" * 20000))
open(sys.argv[1] + "/longdiag.eml", "wb").write(dsn([(1, b" " + b"y" * 3000)]))
orig = (b"".join(b"Received: from h%d.example.net ([192.0.2.%d]) by h%d.example.org; Mon, 8 Apr 2024 10:00:00 +0000\n"
                 % (i, i % 250, i + 1) for i in range(70)) +
        b"".join(b"X-Extra-%d: %d\n" % (i, i) for i in range(520)) +
        b'From: Me <me@example.org>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="in"\n\n' +
        b"".join(b'--in\nContent-Type: application/pdf\nContent-Disposition: attachment; filename="f%d.pdf"\n\nJVBERi0=\n' % i
                 for i in range(105)) + b"--in--\n")
open(sys.argv[1] + "/bigorig.eml", "wb").write(dsn([(1, b"")])[:-len(b"--b--\n")] +
                                              b"--b\nContent-Type: message/rfc822\n\n" + orig + b"\n--b--\n")
PY
for c in "many:the report names 1000 recipients or more" \
         "bigdsn:the delivery-status part is larger than 1024 KiB" \
         "bigtext:the report text is longer than 256 KiB" \
         "longdiag:a diagnostic is longer than 2048 bytes" \
         "bigorig:the original has more than 64 Received headers" \
         "bigorig:the original has more than 500 header fields" \
         "bigorig:the original has more than 100 attachments"; do
  f=${c%%:*} want=${c#*:}
  bounded "$BIN" check --json "${conf[@]}" "$T/$f.eml" > "$T/out" 2> "$T/err"; st=$?
  check "$f.eml: a failure report with the warning \"$want\"" \
    '[ $st -lt 3 ] && grep -q "\"kind\":\"failure\"" "$T/out" && grep -q "\"warnings\":\[[^]]*$want" "$T/out"' \
    "exit $st" "$(head -c 300 "$T/out")" "$(grep -o '"warnings":.*' "$T/out")"
done
n_many=$("$BIN" check --json "${conf[@]}" "$T/many.eml" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["recipients"]))')
check "a DSN of 1200 recipients gives the first 1000" '[ "$n_many" = 1000 ]' "$n_many recipients"
rm -f "$T"/many.eml "$T"/bigdsn.eml "$T"/bigtext.eml "$T"/longdiag.eml "$T"/bigorig.eml

# --- MIME bombs: the limits on parts and depth apply before GMime parses ---
# At most ~10 times the message's size in memory and ~1 CPU second per MB.
mime_bomb () {
  python3 - "$1" "$2" <<'PY'
import sys
head = (b"From: MAILER-DAEMON@example.net\nTo: me@example.org\n"
        b"Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n")
with open(sys.argv[2], "wb") as f:
    f.write(head)
    if sys.argv[1] == "parts":  # 10 MB of empty parts
        f.write(b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n')
        f.write(b"--b\n\n" * (10 * 1024 * 1024 // 5) + b"--b--\n")
    elif sys.argv[1] == "depth":  # 300,000 nested multiparts
        for i in range(300000):
            f.write(b'Content-Type: multipart/mixed; boundary="d%d"\n\n--d%d\n' % (i, i))
    else:  # 100,000 nested messages
        f.write(b"Content-Type: message/rfc822\n\n" * 100000 + b"Subject: x\n\nbody\n")
PY
}
for kind in parts depth messages; do
  mime_bomb $kind "$T/bomb.eml"
  mb=$(( $(stat -c %s "$T/bomb.eml") / 1048576 + 1 ))
  ( ulimit -v $([ $limit = unlimited ] && echo unlimited || echo $((65536 + mb * 10240))); ulimit -t $((mb + 2))
    exec "$BIN" check --json "${conf[@]}" "$T/bomb.eml" ) > "$T/out" 2> "$T/err"; st=$?
  check "MIME bomb ($kind, $mb MB): an answer with a warning in 10x its size and $((mb + 2)) CPU seconds" \
    '[ $st -lt 3 ] && grep -q "\"warnings\":\[\"the message has more .* than the [0-9]* read" "$T/out"' \
    "exit $st" "$(head -c 400 "$T/out")" "$(tail -3 "$T/err")"
done
rm -f "$T/bomb.eml"

echo "1..$n"
[ $failed -eq 0 ]
