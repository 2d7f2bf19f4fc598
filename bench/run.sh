#!/bin/sh
# bench/run.sh — how fast `backscatter scan` reads a Maildir, against the
# floor (reading every file once) and against Sisimai; see bench/README.md.
#
#   bench/run.sh [-n N] [-r RUNS] [-b BUILDDIR] [-k] [CORPUS]
#
# CORPUS (default: ../shared/corpus beside the source tree) must hold
# bounces/ and not-bounces/. Exit status 0, or 1 when something failed.
set -eu

n=20000
runs=3
build=
keep=
pct=5

usage () {
  cat >&2 <<EOF
usage: $0 [-n N] [-r RUNS] [-b BUILDDIR] [-k] [CORPUS]
  -n N         messages in the big Maildir (default 20000; a second one has N/10)
  -r RUNS      runs of each measured command; the fastest counts (default 3)
  -b BUILDDIR  a configured meson build of this tree to use (default: a release
               build in \${TMPDIR:-/tmp}/backscatter-bench-build, made when missing)
  -k           keep the temporary folder (its path is printed)
  CORPUS       folder with bounces/ and not-bounces/ (default ../shared/corpus)
Set BENCH_SISIMAI=0 to leave Sisimai out even when it is installed.
EOF
  exit 64
}

while getopts n:r:b:kh opt; do
  case $opt in
    n) n=$OPTARG ;;
    r) runs=$OPTARG ;;
    b) build=$OPTARG ;;
    k) keep=1 ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -le 1 ] || usage
case $n$runs in *[!0-9]*) usage ;; esac
if [ "$n" -lt 10 ] || [ "$runs" -lt 1 ]; then usage; fi

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
  build=${TMPDIR:-/tmp}/backscatter-bench-build
  [ -f "$build/build.ninja" ] || meson setup "$build" "$root" -Dbuildtype=release >"$tmp/setup.log" \
    || { cat "$tmp/setup.log" >&2; exit 1; }
fi
meson compile -C "$build" >"$tmp/build.log" 2>&1 || { tail -20 "$tmp/build.log" >&2; exit 1; }
bin=$build/cli/backscatter
[ -x "$bin" ] || { echo "$0: $bin was not built" >&2; exit 1; }

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
mkdir -p "$tmp/config" "$tmp/data"
XDG_CONFIG_HOME=$tmp/config
XDG_DATA_HOME=$tmp/data
export XDG_CONFIG_HOME XDG_DATA_HOME

# ---- the mailboxes ---------------------------------------------------------
small=$((n / 10))
perl "$here/make-maildir.pl" "$tmp/big" "$n" "$corpus" "$pct" >/dev/null
perl "$here/make-maildir.pl" "$tmp/small" "$small" "$corpus" "$pct" >/dev/null
# Write the new files out now: the kernel would do it some 30 s later,
# in the middle of the timed runs, on the same processors.
sync
bytes=$(du -sk "$tmp/big" | cut -f1)

# measure NAME COMMAND...: runs it $runs times (output to /dev/null); sets
# NAME_wall/user/sys (of the fastest run) and NAME_rss (the largest, in kB).
measure () {
  name=$1
  shift
  best='' bu='' bs='' rss=0
  i=0
  while [ $i -lt "$runs" ]; do
    "$tmp/rusage" "$tmp/r" "$@" >/dev/null
    read -r w u s m st <"$tmp/r"
    case $name in
      scan*) [ "$st" -le 2 ] ;;   # 0, 1, 2: backscatter, none, undecided
      *) [ "$st" -eq 0 ] ;;
    esac || { echo "$0: $name: $* exited with status $st" >&2; exit 1; }
    if [ -z "$best" ] || awk "BEGIN { exit !($w < $best) }"; then
      best=$w bu=$u bs=$s
    fi
    [ "$m" -gt "$rss" ] && rss=$m
    i=$((i + 1))
  done
  eval "${name}_wall=$best ${name}_user=$bu ${name}_sys=$bs ${name}_rss=$rss"
}

# Other work on the machine skews every figure: say how busy it was.
load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)

# Warm the page cache, then measure.
"$tmp/readall" "$tmp/big" "$tmp/small" >/dev/null
measure readall "$tmp/readall" "$tmp/big"
measure scan "$bin" scan --json "$tmp/big"
measure scansmall "$bin" scan --json "$tmp/small"
[ -z "$sisimai" ] || measure sisimai perl "$here/sisimai-count.pl" "$tmp/big"

# How many bounces the scan reported (not timed).
found=$("$bin" scan --json "$tmp/big" | grep -c '^{"source"') || true

# ---- the report ------------------------------------------------------------
# shellcheck disable=SC2154 # NAME_wall and the like are set by measure's eval
awk -v load="$load" -v cpus="$(getconf _NPROCESSORS_ONLN)" -v n="$n" -v pct="$pct" -v small="$small" -v kb="$bytes" -v runs="$runs" -v found="$found" \
    -v rw="$readall_wall" -v ru="$readall_user" -v rs="$readall_sys" -v rr="$readall_rss" \
    -v sw="$scan_wall" -v su="$scan_user" -v ss="$scan_sys" -v sr="$scan_rss" \
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
  if (sis != "")
    printf "scan msgs/s / Sisimai msgs/s:   %.1f x\n", pw / sw
  else
    printf "scan msgs/s / Sisimai msgs/s:   (Sisimai not installed: apt-get install libsisimai-perl)\n"
  printf "scan time / readall time:       %.1f x\n", sw / rw
  printf "peak RSS at %d / at %d:   %.2f x\n", n, small, sr / tr
  printf "scan CPU (user+sys) / wall:     %.2f\n", (su + ss) / sw
}'
