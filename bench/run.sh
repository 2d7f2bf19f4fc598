#!/bin/sh
# bench/run.sh — how fast `backscatter scan` reads a Maildir, against the
# floor (reading every file once) and against Sisimai; see bench/README.md.
#
#   bench/run.sh [-n N] [-r RUNS] [-o ONE_RUNS] [-b BUILDDIR] [-k] [CORPUS]
#
# CORPUS (default: ../shared/corpus beside the source tree) must hold
# bounces/ and not-bounces/. Exit status 0, or 1 when something failed.
# shellcheck disable=SC2154 # NAME_wall and the like are set by measure's eval
set -eu

n=20000
runs=3
one_runs=20
jobs_n=3000
build=
keep=
pct=5

usage () {
  cat >&2 <<EOF
usage: $0 [-n N] [-r RUNS] [-o ONE_RUNS] [-b BUILDDIR] [-k] [CORPUS]
  -n N         messages in the big Maildir (default 20000; a second one has N/10)
  -r RUNS      runs of each measured command; the fastest counts (default 3)
  -o ONE_RUNS  runs of each one-message command (filter, check; default 20)
  -b BUILDDIR  a configured meson build of this tree to use (default: a release
               build in \${TMPDIR:-/tmp}/backscatter-bench-build-SUM, SUM a checksum
               of this tree's path, made when missing)
  -k           keep the temporary folder (its path is printed)
  CORPUS       folder with bounces/ and not-bounces/ (default ../shared/corpus)
Set BENCH_SISIMAI=0 to leave Sisimai out even when it is installed.
Set BENCH_BIG=1 to add a Maildir of 200,000 messages and a 2 GB mbox
(BENCH_BIG_N and BENCH_MBOX_MB change those sizes). Set BENCH_INSTR=0 to
leave out the instruction counts (valgrind's callgrind, when installed).
EOF
  exit 64
}

while getopts n:r:o:b:kh opt; do
  case $opt in
    n) n=$OPTARG ;;
    r) runs=$OPTARG ;;
    o) one_runs=$OPTARG ;;
    b) build=$OPTARG ;;
    k) keep=1 ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -le 1 ] || usage
case $n$runs$one_runs in *[!0-9]*) usage ;; esac
if [ "$n" -lt 10 ] || [ "$runs" -lt 1 ] || [ "$one_runs" -lt 1 ]; then usage; fi

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
corpus=${1:-$root/../shared/corpus}
if [ ! -d "$corpus/bounces" ] || [ ! -d "$corpus/not-bounces" ]; then
  echo "$0: $corpus has no bounces/ and not-bounces/ folders" >&2
  exit 1
fi
corpus=$(cd "$corpus" && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/backscatter-bench.XXXXXX")
if [ -n "$keep" ]; then
  trap 'echo "kept $tmp"' EXIT
else
  trap 'rm -rf "$tmp"' EXIT
fi
trap 'exit 1' INT TERM HUP

# ---- the programs ----------------------------------------------------------
if [ -z "$build" ]; then
  # One build folder per source tree: a build set up from another checkout
  # would time that checkout's code.
  build=${TMPDIR:-/tmp}/backscatter-bench-build-$(printf '%s' "$root" | cksum | cut -d' ' -f1)
  [ -f "$build/build.ninja" ] || meson setup "$build" "$root" -Dbuildtype=release >"$tmp/setup.log" \
    || { cat "$tmp/setup.log" >&2; exit 1; }
fi
meson compile -C "$build" >"$tmp/build.log" 2>&1 || { tail -20 "$tmp/build.log" >&2; exit 1; }
bin=$build/cli/backscatter
floor=$build/bench/startup-floor
[ -x "$bin" ] || { echo "$0: $bin was not built" >&2; exit 1; }
[ -x "$floor" ] || { echo "$0: $floor was not built" >&2; exit 1; }

cc=${CC:-cc}
"$cc" -O2 -o "$tmp/rusage" "$here/rusage.c"
readall_src=$root/../shared/bench/readall.c
[ -f "$readall_src" ] || readall_src=$here/readall.c
"$cc" -O2 -o "$tmp/readall" "$readall_src"

sisimai=
if [ "${BENCH_SISIMAI:-1}" != 0 ] && perl -MSisimai -e 1 2>/dev/null; then
  sisimai=$(perl -MSisimai -e 'print $Sisimai::VERSION')
fi

# An empty configuration: no identity, no sent-mail index, no user rules.
mkdir -p "$tmp/config" "$tmp/data" "$tmp/cache"
# The cache too: check and filter keep there the stamp of the rule files
# they found right (the first one-message run checks them, the others not).
XDG_CONFIG_HOME=$tmp/config
XDG_DATA_HOME=$tmp/data
XDG_CACHE_HOME=$tmp/cache
export XDG_CONFIG_HOME XDG_DATA_HOME XDG_CACHE_HOME

# Rule sets: all of them; none of the format families (only
# formats/10-kinds.rules, the kinds, and the rule files outside formats/,
# as tests/leave-one-out.sh builds it); half of the families (every other
# file of formats/ but 10-kinds.rules removed): mail from servers the rules
# do not describe.
rules_src=$root/rules
for set in none half; do
  cp -r "$rules_src" "$tmp/rules-$set"
done
find "$tmp/rules-none/formats" -name '*.rules' ! -name 10-kinds.rules -exec rm {} +
families=0 half_kept=0
for f in "$tmp/rules-half/formats"/*.rules; do
  [ "${f##*/}" != 10-kinds.rules ] || continue
  families=$((families + 1))
  if [ $((families % 2)) = 1 ]; then rm "$f"; else half_kept=$((half_kept + 1)); fi
done

# ---- the mailboxes ---------------------------------------------------------
small=$((n / 10))
perl "$here/make-maildir.pl" "$tmp/big" "$n" "$corpus" "$pct" >/dev/null
perl "$here/make-maildir.pl" "$tmp/small" "$small" "$corpus" "$pct" >/dev/null
# Ordinary mail of other origins (bench/make-ordinary.pl: today's personal
# mail in eight languages, newsletters, notices, digests, attachments), a
# pool of one message in ten (at least 500, at most 5,000), beside the
# corpus's bounces: the Maildirs "other" and "othersmall".
pool=$((n / 10 < 500 ? 500 : n / 10 > 5000 ? 5000 : n / 10))
perl "$here/make-ordinary.pl" "$tmp/other-pool" "$pool"
mkdir "$tmp/other-corpus"
ln -s "$corpus/bounces" "$tmp/other-corpus/bounces"
ln -s "$tmp/other-pool" "$tmp/other-corpus/not-bounces"
perl "$here/make-maildir.pl" "$tmp/other" "$n" "$tmp/other-corpus" "$pct" >/dev/null
perl "$here/make-maildir.pl" "$tmp/othersmall" "$small" "$tmp/other-corpus" "$pct" >/dev/null
rm -rf "$tmp/other-pool" "$tmp/other-corpus"
# Bounces only: each of the corpus's once (CPU per bounce), and a list
# server's bounce folder of $jobs_n (--jobs scaling); an empty Maildir for
# what a scan costs before its first message.
nbounces=$(find "$corpus/bounces" -type f ! -name '.*' | wc -l)
perl "$here/make-maildir.pl" "$tmp/bounces" "$nbounces" "$corpus" 100 >/dev/null
perl "$here/make-maildir.pl" "$tmp/jobs" "$jobs_n" "$corpus" 100 >/dev/null
mkdir -p "$tmp/empty/new" "$tmp/empty/cur" "$tmp/empty/tmp"
# One message for filter and check: the first ordinary one of 4 to 6 KB
# that the program calls no report, and the first bounce of 2 to 6 KB.
pick () {
  find "$1" -type f -size +"$2"c -size -"$3"c | sort | while read -r f; do
    "$bin" check --json "$f" 2>/dev/null | grep -q "$4" && { echo "$f"; break; }
  done
}
ordinary=$(pick "$corpus/not-bounces" 4000 6000 '"kind":"not-bounce"')
bounce=$(pick "$corpus/bounces" 2000 6000 '"kind":"failure"')
if [ -z "$ordinary" ] || [ -z "$bounce" ]; then
  echo "$0: no message of the sizes wanted in $corpus" >&2
  exit 1
fi
# Write the new files out now: the kernel would do it some 30 s later,
# in the middle of the timed runs, on the same processors.
sync
bytes=$(du -sk "$tmp/big" | cut -f1)

# measure NAME COMMAND...: runs it $runs times (output to /dev/null, input
# from $stdin); sets NAME_wall/user/sys/waits (of the fastest run), NAME_cpu (the
# least user+sys of the runs, a figure that holds better on a busy
# machine) and NAME_rss (the largest, in kB).
stdin=/dev/null
measure () {
  name=$1
  shift
  best='' bu='' bs='' bv='' cpu='' rss=0
  i=0
  while [ $i -lt "$runs" ]; do
    "$tmp/rusage" "$tmp/r" "$@" <"$stdin" >/dev/null
    read -r w u s m st v <"$tmp/r"
    case $name in
      scan*|check*) [ "$st" -le 2 ] ;;   # 0, 1, 2: backscatter, none, undecided
      *) [ "$st" -eq 0 ] ;;
    esac || { echo "$0: $name: $* exited with status $st" >&2; exit 1; }
    if [ -z "$best" ] || awk "BEGIN { exit !($w < $best) }"; then
      best=$w bu=$u bs=$s bv=$v
    fi
    c=$(awk "BEGIN { print $u + $s }")
    if [ -z "$cpu" ] || awk "BEGIN { exit !($c < $cpu) }"; then
      cpu=$c
    fi
    [ "$m" -gt "$rss" ] && rss=$m
    i=$((i + 1))
  done
  eval "${name}_wall=$best ${name}_user=$bu ${name}_sys=$bs ${name}_cpu=$cpu ${name}_rss=$rss ${name}_waits=$bv"
}

# Other work on the machine skews every figure: say how busy it was.
load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)

# Warm the page cache, then measure.
"$tmp/readall" "$tmp/big" "$tmp/small" >/dev/null
measure readall "$tmp/readall" "$tmp/big"
measure scan "$bin" scan --json "$tmp/big"
measure scansmall "$bin" scan --json "$tmp/small"
measure scanhalf "$bin" scan --json --rules "$tmp/rules-half" "$tmp/big"
measure scanhalfsmall "$bin" scan --json --rules "$tmp/rules-half" "$tmp/small"
[ -z "$sisimai" ] || measure sisimai perl "$here/sisimai-count.pl" "$tmp/big"
"$tmp/readall" "$tmp/other" "$tmp/othersmall" >/dev/null
measure readallother "$tmp/readall" "$tmp/other"
measure scanother "$bin" scan --json --rules "$tmp/rules-half" "$tmp/other"
measure scanothersmall "$bin" scan --json --rules "$tmp/rules-half" "$tmp/othersmall"
[ -z "$sisimai" ] || measure sisimaiother perl "$here/sisimai-count.pl" "$tmp/other"

# CPU per bounce: a scan of the bounces less a scan of no message (start-up,
# rules), with every rule and with no format rule; one thread.
"$tmp/readall" "$tmp/bounces" "$tmp/jobs" >/dev/null
measure emptyall "$bin" scan --json --jobs 1 "$tmp/empty"
measure bncall "$bin" scan --json --jobs 1 "$tmp/bounces"
measure emptynone "$bin" scan --json --jobs 1 --rules "$tmp/rules-none" "$tmp/empty"
measure bncnone "$bin" scan --json --jobs 1 --rules "$tmp/rules-none" "$tmp/bounces"

# The same scans in instructions, with valgrind's callgrind where it is
# installed (BENCH_INSTR=0 leaves them out): other work on the machine moves
# the times by a tenth from one run to the next, not the instructions. One
# run each, the rules' cache made first for the rule set it reads; the
# --jobs folder's 3,000 bounces less the 629 give a bounce whose patterns
# are compiled.
instr=
if [ "${BENCH_INSTR:-1}" != 0 ] && command -v valgrind >/dev/null; then
  instr=1
fi
# Sets NAME_instr; its own variables are named count_*, as a shell
# function shares the script's (n is the number of messages).
count () {
  count_name=$1
  shift
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" </dev/null >/dev/null 2>"$tmp/cg.err" || true
  count_refs=$(sed -n 's/.*I[[:space:]]*refs:[[:space:]]*//p' "$tmp/cg.err" | tr -d ,)
  case $count_refs in
    ''|*[!0-9]*) echo "$0: $count_name: no instruction count from valgrind" >&2; tail -5 "$tmp/cg.err" >&2; exit 1 ;;
  esac
  eval "${count_name}_instr=$count_refs"
}
if [ -n "$instr" ]; then
  "$bin" scan --json --jobs 1 --rules "$tmp/rules-none" "$tmp/empty" >/dev/null || [ $? -le 2 ]
  count emptynone "$bin" scan --json --jobs 1 --rules "$tmp/rules-none" "$tmp/empty"
  count bncnone "$bin" scan --json --jobs 1 --rules "$tmp/rules-none" "$tmp/bounces"
  "$bin" scan --json --jobs 1 "$tmp/empty" >/dev/null || [ $? -le 2 ]
  count emptyall "$bin" scan --json --jobs 1 "$tmp/empty"
  count bncall "$bin" scan --json --jobs 1 "$tmp/bounces"
  count jobs1 "$bin" scan --json --jobs 1 "$tmp/jobs"
fi

# --jobs on a folder of bounces only.
cpus=$(getconf _NPROCESSORS_ONLN)
jobs=$((cpus < 2 ? 2 : cpus))
measure jobs1 "$bin" scan --json --jobs 1 "$tmp/jobs"
measure jobsn "$bin" scan --json --jobs "$jobs" "$tmp/jobs"
# The same work in $jobs processes that share nothing, each scanning every
# $jobs-th message (hard links into a Maildir of its own): what the threads
# of one process would reach if they never met in a shared lock or cache
# line (GObject's type and signal state, the patterns' counts).
for k in $(seq 0 $((jobs - 1))); do
  mkdir -p "$tmp/share$k/new" "$tmp/share$k/cur" "$tmp/share$k/tmp"
done
find "$tmp/jobs/cur" "$tmp/jobs/new" -type f | sort | awk -v n="$jobs" -v t="$tmp" '
  { sub(".*/jobs/", ""); printf "%s/jobs/%s %s/share%d/%s\n", t, $0, t, (NR - 1) % n, $0 }' |
  while read -r from to; do ln "$from" "$to"; done
shares=''
for k in $(seq 0 $((jobs - 1))); do shares="$shares $tmp/share$k"; done
# shellcheck disable=SC2016 # expanded by the inner sh
measure procsn sh -c 'bin=$1; shift; for d; do "$bin" scan --json --jobs 1 "$d" >/dev/null & done; wait' sh "$bin" $shares
# Each processor alone (one thread pinned to it): virtual machines' processors
# are not always alike, and --jobs can at best do the sum of what each does.
pinned=''
if command -v taskset >/dev/null; then
  # (measure sets c, i and others: the processor is proc)
  for proc in $(seq 0 $((cpus - 1))); do
    measure "pin$proc" taskset -c "$proc" "$bin" scan --json --jobs 1 "$tmp/jobs"
    pinned="$pinned $proc"
  done
fi

# One message, one process: best of $one_runs.
saved_runs=$runs
runs=$one_runs
measure floor "$floor"
stdin=$ordinary
measure catord cat
measure filterord "$bin" filter
measure checkord "$bin" check
stdin=$bounce
measure filterbnc "$bin" filter
measure checkbnc "$bin" check
# The same bounce from a server no rule describes: the format-free reader.
measure checkfree "$bin" check --rules "$tmp/rules-none"
stdin=/dev/null
runs=$saved_runs

# Bigger mailboxes, on demand: one run each.
if [ "${BENCH_BIG:-0}" != 0 ]; then
  big_n=${BENCH_BIG_N:-200000}
  mbox_mb=${BENCH_MBOX_MB:-2048}
  perl "$here/make-maildir.pl" "$tmp/huge" "$big_n" "$corpus" "$pct" >/dev/null
  # As many messages as make $mbox_mb MB at the big Maildir's mean size.
  mbox_msgs=$(du -sb "$tmp/big" | awk -v n="$n" -v mb="$mbox_mb" '{ printf "%d", mb * 1048576 / ($1 / n) }')
  perl "$here/make-maildir.pl" "$tmp/huge.mbox" "$mbox_msgs" "$corpus" "$pct" >/dev/null
  sync
  saved_runs=$runs
  runs=1
  "$tmp/readall" "$tmp/huge" >/dev/null
  measure readallhuge "$tmp/readall" "$tmp/huge"
  measure scanhuge "$bin" scan --json "$tmp/huge"
  measure readallmbox cat "$tmp/huge.mbox"
  measure scanmbox "$bin" scan --json "$tmp/huge.mbox"
  runs=$saved_runs
  rm -rf "$tmp/huge" "$tmp/huge.mbox"
fi

# How many bounces the scan reported (not timed).
found=$("$bin" scan --json "$tmp/big" | grep -c '^{"source"') || true

# ---- the report ------------------------------------------------------------
# Which malloc the program uses weighs on every figure (meson -Dmimalloc).
if readelf -d "$bin" 2>/dev/null | grep -q 'libmimalloc'; then
  echo "the program allocates with mimalloc"
else
  echo "the program allocates with glibc's malloc"
fi
awk -v load="$load" -v cpus="$(getconf _NPROCESSORS_ONLN)" -v n="$n" -v pct="$pct" -v small="$small" -v kb="$bytes" -v runs="$runs" -v found="$found" \
    -v rw="$readall_wall" -v ru="$readall_user" -v rs="$readall_sys" -v rr="$readall_rss" \
    -v sw="$scan_wall" -v su="$scan_user" -v ss="$scan_sys" -v sr="$scan_rss" -v sv="$scan_waits" \
    -v tw="$scansmall_wall" -v tu="$scansmall_user" -v ts="$scansmall_sys" -v tr="$scansmall_rss" \
    -v sis="$sisimai" -v pw="${sisimai_wall:-0}" -v pu="${sisimai_user:-0}" \
    -v ps="${sisimai_sys:-0}" -v pr="${sisimai_rss:-0}" '
function row(what, msgs, w, u, s, r) {
  printf "%-26s %7d %9.3f %8.3f %8.3f %10.0f %10.1f\n", what, msgs, w, u, s, msgs / w, r / 1024
}
BEGIN {
  printf "Maildir: %d messages (%d%% bounces), %.1f MB; %d-message one for memory; best of %d runs\n",
         n, pct, kb / 1024, small, runs
  printf "load average before the runs: %s (%d CPUs)\n", load, cpus
  printf "%-26s %7s %9s %8s %8s %10s %10s\n", "command", "msgs", "wall s", "user s", "sys s", "msgs/s", "peak MB"
  row("readall (the floor)", n, rw, ru, rs, rr)
  row("backscatter scan --json", n, sw, su, ss, sr)
  row("backscatter scan --json", small, tw, tu, ts, tr)
  if (sis != "")
    row("Sisimai " sis, n, pw, pu, ps, pr)
  printf "\n"
  printf "scan found %d bounces in %d messages\n", found, n
  if (sis != "") {
    printf "scan msgs/s / Sisimai msgs/s:   %.1f x\n", pw / sw
    printf "  (readall msgs/s / Sisimai:    %.1f x: no scan of these files goes past it)\n", pw / rw
  } else
    printf "scan msgs/s / Sisimai msgs/s:   (Sisimai not installed: apt-get install libsisimai-perl)\n"
  printf "scan time / readall time:       %.1f x\n", sw / rw
  printf "peak RSS at %d / at %d:   %.2f x\n", n, small, sr / tr
  printf "scan CPU (user+sys) / wall:     %.2f\n", (su + ss) / sw
  printf "scan threads waited:            %d times (%.2f a message)\n", sv, sv / n
}'

# The rest of the report: a shell function per figure keeps awk short.
# ratio A B: A / B to two places.
ratio () { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ms () { awk -v a="$1" 'BEGIN { printf "%.2f", a * 1000 }'; }

echo
echo "Unfamiliar mail: the same Maildir read with $half_kept of the $families format files"
echo "(every other one removed; formats/10-kinds.rules and the rest of rules/ kept)"
printf '%-40s %9s %9s %10s\n' "command" "wall s" "CPU s" "peak MB"
printf '%-40s %9.3f %9.3f %10.1f\n' "scan --json, half the rules, $n" "$scanhalf_wall" "$scanhalf_cpu" "$(ratio "$scanhalf_rss" 1024)"
printf '%-40s %9.3f %9.3f %10.1f\n' "scan --json, half the rules, $small" "$scanhalfsmall_wall" "$scanhalfsmall_cpu" "$(ratio "$scanhalfsmall_rss" 1024)"
echo "scan time / readall time, half the rules:   $(ratio "$scanhalf_wall" "$readall_wall") x"
echo "peak RSS at $n / at $small, half the rules: $(ratio "$scanhalf_rss" "$scanhalfsmall_rss") x"
if [ -n "$sisimai" ]; then
  echo "scan msgs/s / Sisimai msgs/s, half the rules: $(ratio "$sisimai_wall" "$scanhalf_wall") x"
fi
echo
echo "Unfamiliar mail, ordinary mail of other origins too: a Maildir of the same size and share of"
echo "bounces whose ordinary mail is bench/make-ordinary.pl's ($(du -sk "$tmp/other" | awk '{ printf "%.1f", $1 / 1024 }') MB), half the rules"
printf '%-40s %9s %9s %10s\n' "command" "wall s" "CPU s" "peak MB"
printf '%-40s %9.3f %9.3f %10.1f\n' "readall (the floor), $n" "$readallother_wall" "$readallother_cpu" "$(ratio "$readallother_rss" 1024)"
printf '%-40s %9.3f %9.3f %10.1f\n' "scan --json, half the rules, $n" "$scanother_wall" "$scanother_cpu" "$(ratio "$scanother_rss" 1024)"
printf '%-40s %9.3f %9.3f %10.1f\n' "scan --json, half the rules, $small" "$scanothersmall_wall" "$scanothersmall_cpu" "$(ratio "$scanothersmall_rss" 1024)"
[ -z "$sisimai" ] || printf '%-40s %9.3f %9.3f %10.1f\n' "Sisimai, $n" "$sisimaiother_wall" "$sisimaiother_cpu" "$(ratio "$sisimaiother_rss" 1024)"
echo "scan time / readall time, other mail:   $(ratio "$scanother_wall" "$readallother_wall") x"
echo "peak RSS at $n / at $small, other mail: $(ratio "$scanother_rss" "$scanothersmall_rss") x"
if [ -n "$sisimai" ]; then
  echo "scan msgs/s / Sisimai msgs/s, other mail: $(ratio "$sisimaiother_wall" "$scanother_wall") x"
  echo "  (readall msgs/s / Sisimai msgs/s, other mail: $(ratio "$sisimaiother_wall" "$readallother_wall") x: no scan goes past it)"
fi

echo
echo "CPU per bounce: scan --json --jobs 1 of the $nbounces bounces of the corpus, least user+sys of $runs runs"
for set in all none; do
  eval "e=\$empty${set}_cpu b=\$bnc${set}_cpu"
  # shellcheck disable=SC2154 # e and b are set by the eval
  awk -v set="$set" -v e="$e" -v b="$b" -v nb="$nbounces" 'BEGIN {
    printf "%-16s no message %6.1f ms, bounces %7.1f ms: %5.0f us a bounce (%5.0f us with the start)\n",
           (set == "all" ? "every rule" : "no format rule"), e * 1000, b * 1000, (b - e) / nb * 1e6, b / nb * 1e6
  }'
done
# A run compiles each pattern the first time it is needed (PCRE2's JIT for
# those run often): the 3,000 bounces of the --jobs folder, the same files
# over again, less the 629 read once, is a bounce once that is done.
awk -v j="$jobs1_cpu" -v b="$bncall_cpu" -v nj="$jobs_n" -v nb="$nbounces" 'BEGIN {
  if (nj > nb)
    printf "every rule, once the patterns are compiled (%d bounces less %d): %5.0f us a bounce\n", nj, nb, (j - b) / (nj - nb) * 1e6
}'

if [ -n "$instr" ]; then
  echo "The same in instructions (valgrind --tool=callgrind, one run each):"
  for set in all none; do
    eval "e=\$empty${set}_instr b=\$bnc${set}_instr"
    # shellcheck disable=SC2154 # e and b are set by the eval
    awk -v set="$set" -v e="$e" -v b="$b" -v nb="$nbounces" 'BEGIN {
      printf "%-16s no message %6.1f M, bounces %7.1f M: %5.2f M a bounce\n",
             (set == "all" ? "every rule" : "no format rule"), e / 1e6, b / 1e6, (b - e) / nb / 1e6
    }'
  done
  awk -v j="$jobs1_instr" -v b="$bncall_instr" -v nj="$jobs_n" -v nb="$nbounces" 'BEGIN {
    if (nj > nb)
      printf "every rule, once the patterns are compiled (%d bounces less %d): %5.2f M a bounce\n", nj, nb, (j - b) / (nj - nb) / 1e6
  }'
fi

echo
echo "--jobs: scan --json of $jobs_n bounces (a list server's bounce folder), best of $runs"
printf '%-22s %9s %9s %9s\n' "command" "wall s" "CPU s" "waits"
printf '%-22s %9.3f %9.3f %9d\n' "--jobs 1" "$jobs1_wall" "$(awk "BEGIN { print $jobs1_user + $jobs1_sys }")" "$jobs1_waits"
printf '%-22s %9.3f %9.3f %9d\n' "--jobs $jobs" "$jobsn_wall" "$(awk "BEGIN { print $jobsn_user + $jobsn_sys }")" "$jobsn_waits"
printf '%-22s %9.3f %9.3f\n' "$jobs processes, 1/$jobs each" "$procsn_wall" "$(awk "BEGIN { print $procsn_user + $procsn_sys }")"
echo "speed-up of --jobs $jobs:  $(ratio "$jobs1_wall" "$jobsn_wall") x (CPU time $(ratio "$(awk "BEGIN { print $jobsn_user + $jobsn_sys }")" "$(awk "BEGIN { print $jobs1_user + $jobs1_sys }")") x)"
echo "speed-up of $jobs processes sharing nothing: $(ratio "$jobs1_wall" "$procsn_wall") x" \
     "(CPU time $(ratio "$(awk "BEGIN { print $procsn_user + $procsn_sys }")" "$(awk "BEGIN { print $jobs1_user + $jobs1_sys }")") x, each start-up included)"
if [ -n "$pinned" ]; then
  rate=0 fastest=''
  for proc in $pinned; do
    eval "w=\$pin${proc}_wall"
    # shellcheck disable=SC2154 # w is set by the eval
    printf '%-22s %9.3f\n' "--jobs 1 on processor $proc" "$w"
    rate=$(awk "BEGIN { print $rate + 1 / $w }")
    if [ -z "$fastest" ] || awk "BEGIN { exit !($w < $fastest) }"; then fastest=$w; fi
  done
  ideal=$(awk "BEGIN { print 1 / $rate }")
  echo "speed-up over the fastest processor alone: $(ratio "$fastest" "$jobsn_wall") x;" \
       "every processor busy at its own speed would take $(printf '%.3f' "$ideal") s:" \
       "--jobs $jobs reaches $(awk "BEGIN { printf \"%.0f\", $ideal / $jobsn_wall * 100 }")% of that"
fi

echo
echo "One message, one process: best wall time of $one_runs runs"
echo "  ordinary: ${ordinary#"$corpus"/} ($(wc -c <"$ordinary") bytes)"
echo "  bounce:   ${bounce#"$corpus"/} ($(wc -c <"$bounce") bytes)"
printf '%-40s %9s %10s\n' "command" "wall ms" "/ floor"
for row in "floor:start-up floor (bench/startup-floor)" "catord:cat < ordinary" \
           "filterord:backscatter filter < ordinary" "checkord:backscatter check < ordinary" \
           "filterbnc:backscatter filter < bounce" "checkbnc:backscatter check < bounce" \
           "checkfree:backscatter check < bounce, no formats"; do
  name=${row%%:*}
  eval "w=\$${name}_wall"
  # shellcheck disable=SC2154 # w is set by the eval
  printf '%-40s %9s %10s\n' "${row#*:}" "$(ms "$w")" "$(ratio "$w" "$floor_wall")"
done
echo "bounce over the floor: filter +$(ms "$(awk "BEGIN { print $filterbnc_wall - $floor_wall }")") ms, check +$(ms "$(awk "BEGIN { print $checkbnc_wall - $floor_wall }")") ms," \
     "no format rule +$(ms "$(awk "BEGIN { print $checkfree_wall - $floor_wall }")") ms"

if [ "${BENCH_BIG:-0}" != 0 ]; then
  echo
  echo "Bigger mailboxes, one run each"
  printf '%-34s %8s %9s %10s %10s\n' "command" "msgs" "wall s" "us/msg" "peak MB"
  printf '%-34s %8d %9.3f %10.1f %10.1f\n' "readall, Maildir" "$big_n" "$readallhuge_wall" "$(awk "BEGIN { print $readallhuge_wall / $big_n * 1e6 }")" "$(ratio "$readallhuge_rss" 1024)"
  printf '%-34s %8d %9.3f %10.1f %10.1f\n' "scan --json, Maildir" "$big_n" "$scanhuge_wall" "$(awk "BEGIN { print $scanhuge_wall / $big_n * 1e6 }")" "$(ratio "$scanhuge_rss" 1024)"
  printf '%-34s %8d %9.3f %10.1f %10.1f\n' "cat, mbox of $mbox_mb MB" "$mbox_msgs" "$readallmbox_wall" "$(awk "BEGIN { print $readallmbox_wall / $mbox_msgs * 1e6 }")" "$(ratio "$readallmbox_rss" 1024)"
  printf '%-34s %8d %9.3f %10.1f %10.1f\n' "scan --json, mbox of $mbox_mb MB" "$mbox_msgs" "$scanmbox_wall" "$(awk "BEGIN { print $scanmbox_wall / $mbox_msgs * 1e6 }")" "$(ratio "$scanmbox_rss" 1024)"
  echo "time a message at $big_n / at $n: $(ratio "$(awk "BEGIN { print $scanhuge_wall / $big_n }")" "$(awk "BEGIN { print $scan_wall / $n }")") x; peak RSS: $(ratio "$scanhuge_rss" "$scan_rss") x"
fi
