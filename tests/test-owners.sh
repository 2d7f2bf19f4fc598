#!/bin/bash
# test-owners.sh — the judge without a complete Sent folder. Owners who
# send one, two or three ways (a desktop client through their own server,
# a phone through their provider's, a webmail), whose Sent folders hold
# 20-80% of what they sent, get real bounces of the rest and bounces of
# forgeries by worms and bots (testdata/judge/make-owners.py). With only
# their address and Sent folder configured (complete = false): no real
# bounce is called backscatter, at least 90% of the forged are, at least
# 80% of the real are called legitimate. With the relay of one of their
# ways configured too: still no real bounce called backscatter. With only
# the relays of all their ways (no Sent folder, as a relay list is all
# some owners keep): no real bounce called backscatter, even when the
# report returns only a few headers of the original, and forgeries are
# caught, also some of those returned with a few headers. In no
# configuration is a forged bounce called legitimate. TAP.
. "$(dirname "$0")/tap.sh"

python3 "$SRC/testdata/judge/make-owners.py" "$T/owners" 17 || { echo "Bail out! make-owners.py failed"; exit 1; }
for o in "$T"/owners/owner*; do
  "$BIN" learn --quiet --config "$o/plain.conf" --index "$o/sent.db" || echo "# learn failed for $o"
  for c in plain relay; do
    "$BIN" check --config "$o/$c.conf" --index "$o/sent.db" "$o"/bounces/*.eml | grep "(score " > "$o/$c.out"
  done
  "$BIN" check --config "$o/relays.conf" "$o"/bounces/*.eml | grep "(score " > "$o/relays.out"
done

# "FILE: VERDICT (score ...)" -> "real VERDICT", "forged VERDICT",
# "few-real VERDICT" or "few-forged VERDICT"
tally () { cat "$T"/owners/*/"$1".out | sed -n 's#.*/\(\(few-\)\?\(real\|forged\)\)-[^/]*: \([a-z-]*\) (score.*#\1 \4#p' | sort | uniq -c; }
count () { tally "$1" | awk -v w="$2 $3" '$2 " " $3 == w { print $1 }' | grep . || echo 0; }
for c in plain relay relays; do
  echo "# $c:"; tally $c | sed 's/^/#   /'
done
real=$(($(count plain real legitimate) + $(count plain real unknown) + $(count plain real backscatter)))
forged=$(($(count plain forged legitimate) + $(count plain forged unknown) + $(count plain forged backscatter)))
check "there are real and forged bounces ($real real, $forged forged)" '[ $real -ge 100 ] && [ $forged -ge 100 ]'
check "no configuration but the Sent folder: no real bounce called backscatter" '[ $(count plain real backscatter) = 0 ]' \
  "$(grep -h ': backscatter' "$T"/owners/*/plain.out | grep /real- | head -5)"
check "no configuration but the Sent folder: at least 90% of the forged called backscatter ($(count plain forged backscatter) of $forged)" \
  '[ $(($(count plain forged backscatter) * 100)) -ge $((forged * 90)) ]'
check "no configuration but the Sent folder: at least 80% of the real called legitimate ($(count plain real legitimate) of $real)" \
  '[ $(($(count plain real legitimate) * 100)) -ge $((real * 80)) ]'
check "one way's relay configured: no real bounce called backscatter" '[ $(count relay real backscatter) = 0 ]' \
  "$(grep -h ': backscatter' "$T"/owners/*/relay.out | grep /real- | head -5)"
check "one way's relay configured: at least 90% of the forged called backscatter ($(count relay forged backscatter) of $forged)" \
  '[ $(($(count relay forged backscatter) * 100)) -ge $((forged * 90)) ]'

few_real=$(($(count relays few-real legitimate) + $(count relays few-real unknown) + $(count relays few-real backscatter)))
few_forged=$(($(count relays few-forged legitimate) + $(count relays few-forged unknown) + $(count relays few-forged backscatter)))
check "there are reports that return a few headers only ($few_real real, $few_forged forged)" \
  '[ $few_real -ge 50 ] && [ $few_forged -ge 50 ]'
for c in plain relay relays; do
  check "$c: no real bounce that returns a few headers only is called backscatter" \
    '[ $(count $c few-real backscatter) = 0 ]' "$(grep -h ': backscatter' "$T"/owners/*/$c.out | grep /few-real- | head -5)"
done
for c in plain relay relays; do
  check "$c: no forged bounce called legitimate" '[ $(count $c forged legitimate) = 0 ]' \
    "$(grep -h ': legitimate' "$T"/owners/*/$c.out | grep /forged- | head -5)"
done
check "relays alone: no real bounce called backscatter" '[ $(count relays real backscatter) = 0 ]' \
  "$(grep -h ': backscatter' "$T"/owners/*/relays.out | grep /real- | head -5)"
check "relays alone: at least 90% of the forged called backscatter ($(count relays forged backscatter) of $forged)" \
  '[ $(($(count relays forged backscatter) * 100)) -ge $((forged * 90)) ]'
check "relays alone: at least 90% of the real called legitimate ($(count relays real legitimate) of $real)" \
  '[ $(($(count relays real legitimate) * 100)) -ge $((real * 90)) ]'
# Returned with a few headers, a forgery shows its Message-ID alone: one
# made under a domain none of the owner's relays or addresses is in.
check "relays alone: forgeries that return a few headers only are caught by their Message-ID ($(count relays few-forged backscatter) of $few_forged)" \
  '[ $(($(count relays few-forged backscatter) * 100)) -ge $((few_forged * 25)) ]'

echo "1..$n"
[ $failed = 0 ]
