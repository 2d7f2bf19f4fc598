#!/bin/bash
# test-maildir.sh — what scan's actions do to a Maildir's files, on bounces
# written here (judged `unknown`: no owner is configured, so the actions
# take `--only unknown`). TAP output.
#
#   defang finds the attachments Windows would run and keeps CRLF mail
#   CRLF; text output shows no control character of a message raw.
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
for f in 1700000001.M1P1 1700000002.M2P1; do
  check "defang takes out an attachment named like ${f%%.*}'s (trailing dot or space)" \
    'grep -q "removed the attachment" "$D/cur/$f.test.example:2,S" && ! grep -q "^TVqQ" "$D/cur/$f.test.example:2,S"'
done
crlf=$D/cur/1700000003.M3P1.test.example:2,S
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

echo "1..$n"
