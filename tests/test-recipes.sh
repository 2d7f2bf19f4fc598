#!/bin/bash
# test-recipes.sh — the commands and recipes of README.md and
# backscatter(1), read from those files when the test runs and run as
# printed: the Quick start and its check --explain transcript, the config
# file and learn commands, procmail (and the headers it shows) and
# maildrop delivering into a Maildir as an ordinary user, the sendmail
# wrapper under dash, the cron line with cron's PATH, release, the
# installed program and its systemd units, and in the slow suite the
# Install block built from scratch. The manual's copy of each recipe must
# be the README's, and every block of commands in the README must be one
# that is run (the milter's, by test-milter-postfix.py). TAP output.
#
# Delivery as another user needs root (useradd, setpriv); maildrop resets
# PATH to /bin:/usr/bin:/usr/local/bin, so the program is put in a private
# mount of /usr/local/bin (unshare). Each part skips when it cannot run.
. "$(dirname "$0")/tap.sh"

# The real program, also under `--setup valgrind` (whose wrapper cannot
# run as another user: its logs are private).
REAL=${BACKSCATTER_VALGRIND_REAL:-$BIN}
README=$SRC/README.md

# readme_block HEADING [N]: the Nth (first by default) indented block of
# the README section that starts with the line HEADING, unindented.
readme_block () {
  awk -v h="$1" -v want="${2:-1}" '
    $0 == h { f = 1; next }
    !f { next }
    /^#/ { exit }
    /^    / { if (!inb) { k++; inb = 1; pend = 0 }
              if (k == want) { for (; pend > 0; pend--) print ""; sub(/^    /, ""); print }
              next }
    /^[ \t]*$/ { if (inb) pend++; next }
    { inb = 0 }' "$README"
}

# man_example N: the Nth example (.nf to .fi) of backscatter(1)'s
# EXAMPLES, as man shows it.
man_example () {
  awk -v want="$1" '
    /^\.SH EXAMPLES/ { f = 1; next }
    /^\.SH/ { f = 0 }
    f && /^\.nf/ { k++; inb = 1; next }
    f && /^\.fi/ { inb = 0; next }
    f && inb && k == want { gsub(/\\-/, "-"); sub(/^    /, ""); print }' "$SRC/doc/backscatter.1"
}

# bin_dir DIR: a folder holding a `backscatter` that runs the program.
bin_dir () {
  mkdir -p "$1"
  {
    echo '#!/bin/sh'
    # Under `meson test --setup valgrind` the program is tests/valgrind.sh,
    # which needs its settings even where a recipe empties the environment.
    for v in BACKSCATTER_VALGRIND_SHIM BACKSCATTER_VALGRIND_REAL BACKSCATTER_VALGRIND_LOGS \
             BACKSCATTER_VALGRIND_SUPP; do
      [ -n "${!v:-}" ] && printf 'export %s="%s"\n' "$v" "${!v}"
    done
    printf 'exec "%s" "$@"\n' "$2"
  } > "$1/backscatter"
  chmod 755 "$1" "$1/backscatter"
}

# --- the Quick start -----------------------------------------------------------
quick=$(readme_block "## Quick start" 1)
tests_cmd=$(readme_block "## Quick start" 2)
explain_cmd=$(readme_block "## Quick start" 3)
# The line installs the packages, builds, then runs the program: its
# install-and-build part ends with "meson compile -C build && ".
install_part=${quick%%meson compile -C build && *}"meson compile -C build && "
packages=$(printf '%s\n' "$install_part" | sed -n 's/.*apt-get install -y \([^&]*\)&&.*/\1/p')
check "the Quick start is one line that installs, builds, learns and scans" \
  '[ "$(printf "%s\n" "$quick" | wc -l)" = 1 ] && [ "${quick#"$install_part"}" != "$quick" ] && [ -n "$packages" ] && case "$install_part" in "apt-get update && apt-get install -y "*"&& meson setup build && meson compile -C build && ") true;; *) false;; esac' "$quick"
# Every library the build requires (meson.build's dependency() and
# find_library() that are not optional) comes from a package the line
# installs, as dpkg says here.
if ! command -v dpkg > /dev/null || ! command -v pkg-config > /dev/null; then
  ok "# SKIP no dpkg and pkg-config to say which package holds a library"
else
  unprovided=
  while read -r kind name header; do
    if [ "$kind" = dependency ]; then f=$(pkg-config --path "$name" 2>/dev/null); else f=/usr/include/$header; fi
    pkg=$( [ -n "$f" ] && dpkg -S "$(readlink -f "$f")" 2>/dev/null | head -1 | cut -d: -f1)
    case " $packages " in *" $pkg "*) ;; *) unprovided="$unprovided $name(${pkg:-?})";; esac
  done < <(grep -v 'required *: *false' "$SRC/meson.build" \
             | sed -n "s/.*\(dependency\)('\([^']*\)'.*/\1 \2/p; s/.*find_library('\([^']*\)', *has_headers *: *\['\([^']*\)'\].*/library \1 \2/p")
  check "the Quick start installs the package of every library the build requires" '[ -z "$unprovided" ]' \
    "not installed by the Quick start:$unprovided" "$packages"
fi
check "the second Quick start command runs the tests" '[ "$tests_cmd" = "meson test -C build" ]' "$tests_cmd"
# The rest runs as printed in a copy of the source tree whose build/ is
# the program under test (apt-get and the build are done already).
Q=$T/quick
mkdir -p "$Q/testdata"
bin_dir "$Q/build/cli" "$BIN"
cp -a "$SRC/testdata/owner.conf" "$SRC/testdata/batv.key" "$SRC/testdata/maildir" \
  "$SRC/testdata/maildir-sent" "$Q/testdata/"
before=$(cd "$Q/testdata/maildir" && find . -type f | sort | xargs md5sum)
(cd "$Q" && bash -c "${quick#"$install_part"}") > "$T/quick.out" 2> "$T/quick.err"; st=$?
after=$(cd "$Q/testdata/maildir" && find . -type f | sort | xargs md5sum)
check "the Quick start learns and scans the sample Maildir" \
  '[ $st = 0 ] && grep -q "would be moved to Backscatter" "$T/quick.out" && grep -q "^backscatter .*(dry run)" "$T/quick.out"' \
  "exit $st" "$(cat "$T/quick.out" "$T/quick.err")"
check "the Quick start leaves the sample Maildir as it was" '[ "$before" = "$after" ]'
check "the Quick start's index is in build/, not the user's" \
  '[ -s "$Q/build/sample-sent.db" ] && [ ! -e "$XDG_DATA_HOME/backscatter/sent.db" ]' "$(ls -R "$Q/build" "$XDG_DATA_HOME" 2>&1)"
(cd "$Q" && bash -c "$explain_cmd") > "$T/explain.out" 2>&1
check "the Quick start's check --explain shows the evidence" \
  'grep -q "sent-id-missing" "$T/explain.out" && grep -q "sent-id-found" "$T/explain.out"' "$explain_cmd" "$(head -20 "$T/explain.out")"
# The transcript of "One message by hand": its command, run there with the
# program on PATH, prints its lines (but the moment of the learn run).
transcript=$(readme_block "### One message by hand" 1)
by_hand=$(printf '%s\n' "$transcript" | sed -n '1s/^\$ //p')
(cd "$Q" && PATH=$Q/build/cli:$PATH bash -c "$by_hand") > "$T/by-hand.out" 2>&1
: > "$T/by-hand.diff"
learnt='[0-9]\{4\}-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9] UTC (its first message'
check "the README's transcript of check --explain is what the program prints" \
  '[ -n "$by_hand" ] && diff <(printf "%s\n" "$transcript" | sed 1d | sed "s/$learnt/WHEN (its first message/") <(sed "s/$learnt/WHEN (its first message/" "$T/by-hand.out") > "$T/by-hand.diff"' \
  "$by_hand" "$(cat "$T/by-hand.diff")"
mkdir -p "$T/elsewhere"
(cd "$T/elsewhere" && "$BIN" check --config "$Q/testdata/owner.conf" "$Q/testdata/maildir/new/"*) > "$T/else.out" 2>&1
(cd "$Q" && "$BIN" check --config testdata/owner.conf testdata/maildir/new/*) | sed "s|testdata/|$Q/testdata/|" > "$T/here.out" 2>&1
check "paths in a config file are taken from its folder, wherever the program runs" \
  'diff "$T/here.out" "$T/else.out" > /dev/null && ! grep -q "No such file" "$T/else.out"' "$(diff "$T/here.out" "$T/else.out")"

# --- the manual's recipes are the README's ------------------------------------
cron=$(readme_block "### From cron, over a Maildir" 1)
timer=$(readme_block "### From a systemd timer, over a Maildir" 1)
procmailrc=$(readme_block "### From procmail, on every incoming message" 1)
mailfilter=$(readme_block "### From maildrop" 1)
wrapper=$(readme_block "### Record what you send" 1)
check "the manual's cron line is the README's" '[ "$(man_example 1)" = "$cron" ]' "$(man_example 1)"
check "the manual's timer command is the README's" '[ "$(man_example 2)" = "$timer" ]' "$(man_example 2)"
check "the manual's procmail recipe is the README's" '[ "$(man_example 3)" = "$procmailrc" ]' "$(man_example 3)"
check "the manual's maildrop recipe is the README's" '[ "$(man_example 4)" = "$mailfilter" ]' "$(man_example 4)"
check "the manual's sendmail wrapper is the README's" '[ "$(man_example 5)" = "$wrapper" ]' "$(man_example 5)"

# --- procmail and maildrop, as an ordinary user ----------------------------------
# make_user NAME: a user whose home is $T/NAME, with the samples' owner's
# configuration (its paths taken from the config's folder) and index.
make_user () {
  local u=$1 h=$T/$1
  useradd -M -d "$h" -s /bin/sh "$u" || return 1
  users="$users $u"
  mkdir -p "$h/Maildir/cur" "$h/Maildir/new" "$h/Maildir/tmp" "$h/.config/backscatter"
  grep -v '^index' "$SRC/testdata/owner.conf" > "$h/.config/backscatter/config"
  cp -a "$SRC/testdata/batv.key" "$SRC/testdata/maildir-sent" "$h/.config/backscatter/"
  chown -R "$u:" "$h"
  as_user "$u" env HOME="$h" "$REAL" learn --quiet
}
as_user () {
  local u=$1; shift
  setpriv --reuid="$u" --regid="$u" --init-groups env -i PATH=/usr/bin:/bin "$@"
}
users=
trap 'for u in $users; do userdel "$u" 2>/dev/null; done; rm -rf "$T"' EXIT
chmod 755 "$T"
msgs=("$SRC/testdata/judge/forged-untagged.eml" "$SRC/testdata/judge/real-batv-valid.eml"
      "$SRC/testdata/maildir-sent/cur/"*)
# delivered DIR: the files of the Maildir DIR's new/ and cur/.
delivered () { find "$1/new" "$1/cur" -type f 2>/dev/null | wc -l; }

if [ "$(id -u)" != 0 ] || ! command -v useradd > /dev/null || ! command -v setpriv > /dev/null; then
  ok "# SKIP delivery as an ordinary user needs root, useradd and setpriv"
elif ! command -v procmail > /dev/null; then
  ok "# SKIP procmail is not installed"
else
  u=bsp$$; h=$T/$u
  make_user "$u"
  bin_dir "$h/bin" "$REAL"   # procmail's PATH starts with $HOME/bin
  printf '%s\n' "$procmailrc" > "$h/.procmailrc"
  chown -R "$u:" "$h"; chmod 644 "$h/.procmailrc"
  pst=0
  for m in "${msgs[@]}"; do as_user "$u" procmail < "$m" 2>> "$T/procmail.err" || pst=$?; done
  check "procmail runs the README's recipe as an ordinary user" \
    '[ $pst = 0 ] && [ ! -s "$T/procmail.err" ]' "exit $pst" "$(cat "$T/procmail.err")"
  headers=$(readme_block "### From procmail, on every incoming message" 2)
  check "the headers the README shows are those procmail's filter added" \
    '[ -n "$headers" ] && [ "$(head -n "$(printf "%s\n" "$headers" | wc -l)" "$h/Maildir/.Backscatter/new/"*)" = "$headers" ]' \
    "$(head -4 "$h/Maildir/.Backscatter/new/"* 2>&1)"
  check "procmail puts the backscatter into ~/Maildir/.Backscatter" \
    '[ "$(delivered "$h/Maildir/.Backscatter")" = 1 ] && grep -q "^X-Backscatter: backscatter;" "$h/Maildir/.Backscatter/new/"*' \
    "$(cd "$h" && find . -path ./.config -prune -o -type f -print)"
  check "procmail delivers the rest into ~/Maildir, each message once" \
    '[ "$(delivered "$h/Maildir")" = $((${#msgs[@]} - 1)) ] && [ ! -e "$h/Backscatter" ] && [ -z "$(find "$h/Maildir" -name "*lock*")" ]' \
    "$(cd "$h" && find . -path ./.config -prune -o -type f -print)"
fi

if [ "$(id -u)" != 0 ] || ! command -v useradd > /dev/null || ! command -v setpriv > /dev/null; then
  ok "# SKIP delivery as an ordinary user needs root, useradd and setpriv"
elif ! command -v maildrop > /dev/null; then
  ok "# SKIP maildrop is not installed"
elif ! unshare --mount true 2> /dev/null; then
  ok "# SKIP no private mount of /usr/local/bin for maildrop's PATH (unshare)"
else
  u=bsm$$; h=$T/$u
  make_user "$u"
  bin_dir "$T/usr-local-bin" "$REAL"
  printf '%s\n' "$mailfilter" > "$h/.mailfilter"
  chown -R "$u:" "$h"; chmod 600 "$h/.mailfilter"
  mst=0
  for m in "${msgs[@]}"; do
    unshare --mount sh -c 'mount --bind "$1" /usr/local/bin && shift && exec setpriv --reuid="$1" --regid="$1" --init-groups env -i PATH=/usr/bin:/bin maildrop' \
      sh "$T/usr-local-bin" "$u" < "$m" 2>> "$T/maildrop.err" || mst=$?
  done
  check "maildrop runs the README's recipe as an ordinary user, with no folder made beforehand" \
    '[ $mst = 0 ] && [ ! -s "$T/maildrop.err" ]' "exit $mst" "$(cat "$T/maildrop.err")"
  check "maildrop puts the backscatter into ~/Maildir/.Backscatter and the rest into ~/Maildir" \
    '[ "$(delivered "$h/Maildir/.Backscatter")" = 1 ] && grep -q "^X-Backscatter: backscatter;" "$h/Maildir/.Backscatter/new/"* && [ "$(delivered "$h/Maildir")" = $((${#msgs[@]} - 1)) ]' \
    "$(cd "$h" && find . -path ./.config -prune -o -type f -print)"
fi

# --- the sendmail wrapper, under dash ------------------------------------------
# The MTA is outside this program: a stand-in for /usr/sbin/sendmail keeps
# what it was given.
if ! command -v dash > /dev/null; then
  ok "# SKIP dash is not installed"
else
  W=$T/wrapper
  bin_dir "$W/bin" "$BIN"
  printf '#!/bin/sh\ncat > "%s/sent.$$"\nprintf "%%s\\n" "$*" > "%s/args.$$"\n' "$W" "$W" > "$W/sendmail"
  chmod 755 "$W/sendmail"
  printf '%s\n' "$wrapper" | sed "s|/usr/sbin/sendmail|$W/sendmail|" > "$W/send"
  check "the wrapper is a POSIX shell script piping record-sent --pass into sendmail" \
    'head -1 "$W/send" | grep -qx "#!/bin/sh" && grep -q "record-sent --pass |" "$W/send"' "$(cat "$W/send")"
  # known MESSAGE-ID: does the index know it? (a bounce of it is explained
  # by sent-id-found)
  known () {
    printf 'From: MAILER-DAEMON@mx.example.net\nTo: me@example.org\nSubject: Undelivered Mail Returned to Sender\nMessage-ID: <dsn-%s@mx.example.net>\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n--b\nContent-Type: text/plain\n\nThe message could not be delivered.\n\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; zoe@example.net\nAction: failed\nStatus: 5.1.1\n\n--b\nContent-Type: text/rfc822-headers\n\nFrom: Me <me@example.org>\nTo: zoe@example.net\nMessage-ID: %s\n\n--b--\n' "$RANDOM" "$1" \
      | "$BIN" check --explain --me me@example.org 2>&1 | grep -q "sent-id-found"
  }
  printf 'From: Me <me@example.org>\nTo: zoe@example.net\nSubject: with an id\nMessage-ID: <wrapped-1@mail.example.org>\n\nhello\n' > "$T/with-id.eml"
  printf 'From: Me <me@example.org>\nTo: zoe@example.net\nSubject: from a script\n\nhello\n' > "$T/no-id.eml"
  PATH=$W/bin:/usr/bin:/bin dash "$W/send" -oi -f me@example.org zoe@example.net < "$T/with-id.eml"; st=$?
  out=$(ls "$W"/sent.* 2>/dev/null | head -1)
  check "under dash, the wrapper sends the message unchanged with its arguments" \
    '[ $st = 0 ] && [ -n "$out" ] && cmp -s "$out" "$T/with-id.eml" && [ "$(cat "$W"/args.*)" = "-oi -f me@example.org zoe@example.net" ]' "exit $st"
  check "and records it in the sent-mail index" 'known "<wrapped-1@mail.example.org>" && ! known "<never-sent@mail.example.org>"'
  rm -f "$W"/sent.* "$W"/args.*
  PATH=$W/bin:/usr/bin:/bin dash "$W/send" zoe@example.net < "$T/no-id.eml"; st=$?
  out=$(ls "$W"/sent.* 2>/dev/null | head -1)
  mid=$(sed -n 's/^Message-ID: //p' "$out" 2>/dev/null)
  check "a message without a Message-ID is sent with one added, and recorded with it" \
    '[ $st = 0 ] && [ "$(sed 1d "$out")" = "$(cat "$T/no-id.eml")" ] && [ "$(head -1 "$out")" = "Message-ID: $mid" ] && echo "$mid" | grep -q "@example.org>$" && known "$mid"' \
    "exit $st" "$(head -3 "$out")"
  "$BIN" record-sent < "$T/no-id.eml" > "$T/rs.out" 2> "$T/rs.err"; st=$?
  check "record-sent without --pass says a message without a Message-ID cannot be recorded, and why" \
    '[ $st = 65 ] && [ ! -s "$T/rs.out" ] && [ "$(wc -l < "$T/rs.err")" = 1 ] && grep -q "no Message-ID" "$T/rs.err" && grep -q -- "--pass" "$T/rs.err"' \
    "exit $st" "$(cat "$T/rs.err")"
  "$BIN" record-sent < /dev/null > "$T/rs.out" 2> "$T/rs.err"; st=$?
  check "record-sent with nothing on stdin gives one clear error" \
    '[ $st = 65 ] && [ "$(wc -l < "$T/rs.err")" = 1 ] && grep -q "empty" "$T/rs.err" && ! grep -q CRITICAL "$T/rs.err"' \
    "exit $st" "$(cat "$T/rs.err")"
fi

# --- the cron line, with cron's PATH and shell ---------------------------------
C=$T/cron
mkdir -p "$C/Maildir"
cp -a "$SRC/testdata/maildir/." "$C/Maildir/"
mkdir -p "$C/.config/backscatter"
grep -v '^index' "$SRC/testdata/owner.conf" > "$C/.config/backscatter/config"
cp -a "$SRC/testdata/batv.key" "$SRC/testdata/maildir-sent" "$C/.config/backscatter/"
cron_cmd=$(printf '%s\n' "$cron" | sed -E 's/^([^ ]+ +){5}//')
check "the cron line runs the program by its full path" \
  '[ "$(printf "%s\n" "$cron_cmd" | grep -o "/usr/local/bin/backscatter" | wc -l)" = 2 ] && ! printf "%s\n" "$cron_cmd" | grep -qE "(^|[;&|] *)backscatter "' "$cron"
bin_dir "$C/bin" "$BIN"
# The program stands where the line names it.
cron_run=${cron_cmd//\/usr\/local\/bin\/backscatter/$C/bin/backscatter}
env -i HOME="$C" PATH=/usr/bin:/bin SHELL=/bin/sh sh -c "$cron_run" > "$T/cron.out" 2>&1; st=$?
n_bs=$(delivered "$C/Maildir/.Backscatter")
check "the cron line moves the backscatter and says so in one line" \
  '[ $st = 0 ] && [ "$n_bs" = 5 ] && [ "$(wc -l < "$T/cron.out")" = 1 ]' "exit $st, $n_bs moved" "$(cat "$T/cron.out")"
env -i HOME="$C" PATH=/usr/bin:/bin SHELL=/bin/sh sh -c "$cron_run" > "$T/cron.out" 2>&1; st=$?
check "run again, the cron line is silent (so cron mails nothing)" '[ $st = 0 ] && [ ! -s "$T/cron.out" ]' "exit $st" "$(cat "$T/cron.out")"

# --- "Telling it who you are": the config file and the learn commands, as printed ---
H=$T/home
mkdir -p "$H/.config/backscatter" "$H/Maildir" "$H/mail"
readme_block "## Telling it who you are" 1 > "$H/.config/backscatter/config"
cp "$SRC/testdata/batv.key" "$H/.config/backscatter/batv.key"
cp -a "$SRC/testdata/maildir-sent" "$H/Maildir/.Sent"
printf 'From me@example.org Mon Apr  8 10:00:00 2024\nFrom: Me <me@example.org>\nTo: zoe@example.net\nSubject: by the other client\nDate: Mon, 08 Apr 2024 10:00:00 +0000\nMessage-ID: <other-client-1@example.net>\n\nhello\n\n' > "$H/mail/sent-mail"
bin_dir "$H/bin" "$BIN"
: > "$T/learn.out"; st=0
while IFS= read -r line; do
  env -i HOME="$H" PATH="$H/bin:/usr/bin:/bin" sh -c "$line" >> "$T/learn.out" 2>&1 || st=$?
done < <(readme_block "## Telling it who you are" 2)
env -i HOME="$H" PATH="$H/bin:/usr/bin:/bin" backscatter doctor > "$T/doctor.out" 2>&1 || st=$?
check "the README's config file and learn commands work as printed" \
  '[ $st = 0 ] && [ "$(grep -c "^$H/Maildir/.Sent: 5 messages read, 5 new$" "$T/learn.out")" = 2 ] && grep -q "^$H/mail/sent-mail: 1 message read, 1 new$" "$T/learn.out" && [ -s "$H/.local/share/backscatter/sent.db" ] && grep -q "^addresses *me@example.org; \*@example.net$" "$T/doctor.out" && grep -q "a key of" "$T/doctor.out" && grep -q "index.*6 messages" "$T/doctor.out"' \
  "exit $st" "$(cat "$T/learn.out" "$T/doctor.out")"

# backscatter.conf(5)'s EXAMPLE is a file the program reads, in that same home.
sed -n '/^\.SH EXAMPLE/,/^\.SH/p' "$SRC/doc/backscatter.conf.5" | sed -n '/^\.nf/,/^\.fi/p' | sed '1d;$d; s/\\-/-/g' > "$H/conf5.conf"
env -i HOME="$H" PATH="$H/bin:/usr/bin:/bin" backscatter doctor --config "$H/conf5.conf" > "$T/conf5.out" 2>&1; st=$?
check "backscatter.conf(5)'s example is a configuration the program reads" \
  '[ $st = 0 ] && grep -q "^addresses *me@example.org; \*@example.net$" "$T/conf5.out" && grep -q "^sent folders .*Maildir/.Sent" "$T/conf5.out"' \
  "exit $st" "$(cat "$H/conf5.conf" "$T/conf5.out")"
# backscatter(1)'s last example, run where a bounce.eml is.
mkdir -p "$H/work"; cp "$SRC/testdata/judge/forged-untagged.eml" "$H/work/bounce.eml"
by_hand_man=$(man_example 6)
(cd "$H/work" && env -i HOME="$H" PATH="$H/bin:/usr/bin:/bin" sh -c "$by_hand_man") > "$T/man6.out" 2>&1; st=$?
check "backscatter(1)'s check --explain example runs as printed" \
  '[ $st = 0 ] && grep -q "^bounce.eml: backscatter (score" "$T/man6.out" && grep -q "sent-id-missing" "$T/man6.out"' \
  "$by_hand_man" "exit $st" "$(cat "$T/man6.out")"
# backscatter-milter(8)'s Postfix lines start with the README's, which the
# Postfix test runs.
milter_cf=$(sed -n '/^\.EX/,/^\.EE/p' "$SRC/doc/backscatter-milter.8" | awk '/^\.EX/ { k++; next } /^\.EE/ { next } { print k "\t" $0 }' \
  | awk -F'\t' '$2 ~ /^smtpd_milters/ { want = $1 } want && $1 == want { print $2 }')
readme_cf=$(readme_block "### At the door, for a whole mail host: the milter" 2)
check "backscatter-milter(8)'s Postfix lines begin with the README's" \
  '[ -n "$readme_cf" ] && [ "$(printf "%s\n" "$milter_cf" | head -n "$(printf "%s\n" "$readme_cf" | wc -l)")" = "$readme_cf" ]' \
  "$milter_cf"

# --- "When it got one wrong": release, as printed ---------------------------------
R=$T/rel
mkdir -p "$R/.config/backscatter"
cp -a "$SRC/testdata/maildir" "$R/Maildir"
cp -a "$C/.config/backscatter/." "$R/.config/backscatter/"
bin_dir "$R/bin" "$BIN"
rel() { env -i HOME="$R" PATH="$R/bin:/usr/bin:/bin" sh -c "$1"; }
rel "backscatter learn --quiet && backscatter scan ~/Maildir --action move=Backscatter --quiet" > /dev/null 2>&1
release=$(readme_block "### When it got one wrong" 1)
rel "$release" > "$T/release.out" 2>&1; st=$?
name=$(printf '%s\n' "$release" | sed 's|.*/||')
rel "backscatter check --explain ~/Maildir/cur/$name" > "$T/release2.out" 2>&1
check "the README's release command moves the bounce back and records its original" \
  '[ $st = 0 ] && [ -f "$R/Maildir/cur/$name" ] && [ ! -e "$R/Maildir/.Backscatter/cur/$name" ] && grep -q "sent-id-found" "$T/release2.out"' \
  "exit $st" "$release" "$(cat "$T/release.out" "$T/release2.out")"

# --- "Install", as printed, in a copy of the source tree (slow: it builds) ------------
# meson install honours DESTDIR, so nothing lands outside $T; ldconfig
# (as root, for other programs) is a stand-in that says it ran.
install_block=$(readme_block "## Install" 1)
if [ "$SLOW" != 1 ]; then
  ok "# SKIP the Install block builds the program from scratch: run in the slow suite"
elif ! command -v meson > /dev/null || ! command -v ninja > /dev/null; then
  ok "# SKIP no meson and ninja to build with"
else
  I=$T/install-src
  mkdir -p "$I" "$T/ldconfig-bin"
  (cd "$SRC" && tar --exclude='./build*' --exclude=./.git -cf - .) | (cd "$I" && tar -xf -)
  printf '#!/bin/sh\necho ldconfig ran > "%s/ldconfig.ran"\n' "$T" > "$T/ldconfig-bin/ldconfig"
  chmod 755 "$T/ldconfig-bin/ldconfig"
  st=0
  while IFS= read -r line; do
    (cd "$I" && env DESTDIR="$T/installed" PATH="$T/ldconfig-bin:$PATH" sh -c "$line") >> "$T/install-block.out" 2>&1 || { st=$?; break; }
  done <<< "$install_block"
  env -u LD_LIBRARY_PATH "$T/installed/usr/local/bin/backscatter" check --config "$SRC/testdata/owner.conf" \
    --rules "$T/installed/usr/local/share/backscatter/rules" --index "$T/install.db" \
    "$SRC/testdata/judge/forged-untagged.eml" > "$T/installed.out" 2>&1
  check "the README's Install commands build and install the program, which runs from where it went" \
    '[ $st = 0 ] && [ -f "$T/ldconfig.ran" ] && grep -q ": backscatter (score" "$T/installed.out" && [ -f "$T/installed/usr/local/share/man/man1/backscatter.1" ]' \
    "exit $st" "$(tail -5 "$T/install-block.out")" "$(cat "$T/installed.out")"
fi

# --- every block of commands in the README is one this script runs -----------------
# HEADING N for each block run above (the timer's command is checked against
# the installed unit's name: a user systemd is not there to run it).
covered="## Quick start|1
## Quick start|2
## Quick start|3
## Install|1
## Telling it who you are|1
## Telling it who you are|2
### From cron, over a Maildir|1
### From a systemd timer, over a Maildir|1
### From procmail, on every incoming message|1
### From procmail, on every incoming message|2
### From maildrop|1
### Record what you send|1
### When it got one wrong|1
### One message by hand|1
## The library|1
## The library|2"
# The milter's two blocks are run by test-milter-postfix.py.
covered="$covered
### At the door, for a whole mail host: the milter|1
### At the door, for a whole mail host: the milter|2"
blocks=$(awk '/^#/ { h = $0; k = 0; inb = 0; next }
  /^    / { if (!inb) { k++; inb = 1; print h "|" k } next }
  /^[ \t]*$/ { next } { inb = 0 }' "$README")
uncovered=$(printf '%s\n' "$blocks" | while IFS= read -r b; do printf '%s\n' "$covered" | grep -qxF "$b" || echo "$b"; done)
check "every block of commands in the README is run by the test suite" \
  '[ "$(printf "%s\n" "$blocks" | wc -l)" -ge 16 ] && [ -z "$uncovered" ]' "not run: $uncovered"

# --- meson install, the installed program and its systemd units -----------------
build_root=${G_TEST_BUILDDIR:+$G_TEST_BUILDDIR/..}
if ! command -v meson > /dev/null || [ -z "$build_root" ] || [ ! -f "$build_root/build.ninja" ]; then
  ok "# SKIP no meson build folder to install from"
else
  D=$T/dest
  meson install -C "$build_root" --no-rebuild --quiet --destdir "$D" > "$T/install.out" 2>&1; st=$?
  inst=$(find "$D" -path '*/bin/backscatter' -type f | head -1)
  prefix=${inst%/bin/backscatter}; prefix=${prefix#"$D"}
  check "meson install installs the program" '[ $st = 0 ] && [ -x "$inst" ]' "$(tail -5 "$T/install.out")"
  if [ "$prefix" = /usr ]; then
    ok "# SKIP a /usr install finds its library through ld.so"
  else
    env -u LD_LIBRARY_PATH "$inst" --version > "$T/inst.out" 2>&1; st=$?
    env -u LD_LIBRARY_PATH "$inst" check --explain --rules "$D$prefix/share/backscatter/rules" --config "$SRC/testdata/owner.conf" \
      --index "$T/inst.db" "$SRC/testdata/judge/forged-untagged.eml" >> "$T/inst.out" 2>&1
    check "the installed program finds its library under $prefix without ldconfig" \
      '[ $st = 0 ] && grep -q "^backscatter [0-9]" "$T/inst.out" && grep -q "backscatter (score" "$T/inst.out" && env -u LD_LIBRARY_PATH ldd "$inst" | grep -q "libbackscatter.*$D"' \
      "$(cat "$T/inst.out")" "$(env -u LD_LIBRARY_PATH ldd "$inst" | grep backscatter)"
  fi
  # The README's library example, built with pkg-config against the
  # installed library (its .pc file pointed at where DESTDIR put it) and
  # run as printed, the rules' folder that DESTDIR's.
  pc=$(find "$D" -name backscatter.pc | head -1)
  L=$T/library
  mkdir -p "$L"
  readme_block "## The library" 1 > "$L/report.c"
  cp "$SRC/testdata/maildir/new/1712420466.M208P3301.host.example" "$L/bounce.eml"
  build_line=$(readme_block "## The library" 2 | sed -n 1p)
  run_line=$(readme_block "## The library" 2 | sed -n 2p | sed "s|/usr/local|$D$prefix|")
  libdir=$(dirname "$(dirname "$pc")")
  mkdir -p "$L/pkgconfig"
  sed "s|^prefix=.*|prefix=$D$prefix|" "$pc" > "$L/pkgconfig/backscatter.pc"
  # A library built with AddressSanitizer needs its runtime loaded first.
  asan=$(ldd "$(ls "$libdir"/libbackscatter.so* | head -1)" | awk '/libasan/ { print $3 }')
  (cd "$L" && export PKG_CONFIG_PATH=$L/pkgconfig LD_LIBRARY_PATH=$libdir \
     && sh -c "$build_line" && env ${asan:+LD_PRELOAD=$asan} sh -c "$run_line") > "$L/out" 2>&1; st=$?
  check "the README's library example builds with pkg-config against the installed library and prints a report" \
    '[ $st = 0 ] && grep -q "^{\"file\":\"bounce.eml\",\"kind\":\"failure\"" "$L/out" && grep -q "\"address\":\"u.stone@example.com\"" "$L/out"' \
    "exit $st" "$(head -c 600 "$L/out")"
  check "the library's pkg-config file asks for GLib alone" \
    '[ "$(PKG_CONFIG_PATH=${pc%/*} pkg-config --print-requires backscatter)" = "glib-2.0" ]' \
    "$(PKG_CONFIG_PATH=${pc%/*} pkg-config --print-requires backscatter 2>&1)"
  units=$D$prefix/lib/systemd/user
  check "meson install installs the systemd user units" \
    '[ -f "$units/backscatter-scan.service" ] && [ -f "$units/backscatter-scan.timer" ] && grep -q "^ExecStart=.*$prefix/bin/backscatter scan" "$units/backscatter-scan.service"' \
    "$(ls -R "$D$prefix/lib" 2>&1 | head)"
  check "the README's timer command names the installed timer" \
    '[ "$timer" = "systemctl --user enable --now backscatter-scan.timer" ]' "$timer"
  if command -v systemd-analyze > /dev/null; then
    (cd "$T" && MANPATH=$D$prefix/share/man systemd-analyze verify "$units/backscatter-scan.service" \
      "$units/backscatter-scan.timer") > "$T/verify.out" 2>&1; st=$?
    check "systemd-analyze verify finds nothing wrong with the units" '[ $st = 0 ] && [ ! -s "$T/verify.out" ]' \
      "exit $st" "$(cat "$T/verify.out")"
  else
    ok "# SKIP systemd-analyze is not installed"
  fi
  # The service's commands, as the unit gives them (%h: the home folder;
  # a leading - lets the scan run when learn fails).
  S=$T/unit
  mkdir -p "$S/Maildir" "$S/.config/backscatter"
  cp -a "$SRC/testdata/maildir/." "$S/Maildir/"
  cp -a "$C/.config/backscatter/." "$S/.config/backscatter/"
  : > "$T/unit.out"; st=0
  bin_dir "$T/unit-bin" "$BIN"
  while IFS= read -r line; do
    cmd=${line#ExecStart=}; cmd=${cmd#-}; cmd=${cmd//%h/$S}
    cmd=${cmd//$prefix\/bin\/backscatter/$T/unit-bin/backscatter}
    env -i HOME="$S" PATH=/usr/bin:/bin sh -c "$cmd" >> "$T/unit.out" 2>&1 || st=$?
  done < <(grep '^ExecStart=' "$units/backscatter-scan.service")
  check "the service's commands learn and move the backscatter of ~/Maildir" \
    '[ $st = 0 ] && [ "$(delivered "$S/Maildir/.Backscatter")" = 5 ]' "exit $st" "$(cat "$T/unit.out")"
fi
echo "1..$n"
[ $failed = 0 ]
