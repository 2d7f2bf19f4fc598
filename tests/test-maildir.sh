#!/bin/bash
# test-maildir.sh — what scan's actions do to a Maildir's files, on bounces
# written here (judged `unknown`: no owner is configured, so the actions
# take `--only unknown`). TAP output.
#
#   defang finds the attachments Windows would run and keeps CRLF mail
#   CRLF.
. "$(dirname "$0")/tap.sh"

B=("$BIN")
base=(--rules "$SRC/rules" --config /dev/null)

# bounce ID ATTACHMENT-NAME [EXTRA-HEADER...]: a delivery failure whose
# returned original carries an attachment of that name.
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

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; friend@example.com
Action: failed
Status: 5.1.1

--b1
Content-Type: message/rfc822

From: someone@example.org
To: friend@example.com
Subject: invoice $id
Message-ID: <orig-$id@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b2"

--b2
Content-Type: text/plain

see attached

--b2
Content-Type: application/octet-stream; name="$att"
Content-Disposition: attachment; filename="$att"
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
bounce space 'invoice.exe ' > "$D/cur/1700000002.M2P1.test.example:2,S"
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

echo "1..$n"
