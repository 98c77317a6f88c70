#!/usr/bin/env bash
# compare.sh [--no-build] [NAME...] -- run gorun benchmarks against their Go peers.
#
# Builds build/release/bench/gorun-bench (cmake release preset) unless --no-build,
# builds each Go peer bench/go/<name> into build/go/<name>, then runs every
# benchmark REPS times (env REPS, default 5), alternating gorun and Go runs, and
# prints per figure the gorun median, the Go median and the ratio (how many
# times better gorun is), first as "name value unit" lines, then as a table.
#
# NAMEs default to every name that `gorun-bench --list` prints and that has a
# bench/go/<name> folder; NAMEs given restrict that set.
#
# Env: REPS (default 5); GORUN_BENCH=/path overrides the gorun binary (the cmake
# build is then skipped); GORUN_MAXPROCS is passed to both sides (the Go peers
# set GOMAXPROCS from it).
#
# Output: stdout carries the header ("# ..." lines), the figure lines and the
# table; progress and errors go to stderr.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

die() { echo "compare.sh: error: $*" >&2; exit 1; }
note() { echo "compare.sh: $*" >&2; }

usage() {
    sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

build=1
want=()
for arg in "$@"; do
    case $arg in
        --no-build) build=0 ;;
        -h|--help) usage; exit 0 ;;
        -*) die "unknown option '$arg' (try --help)" ;;
        *) want+=("$arg") ;;
    esac
done

REPS=${REPS:-5}
[[ $REPS =~ ^[1-9][0-9]*$ ]] || die "REPS must be a positive integer, got '$REPS'"

# --- gorun binary ---------------------------------------------------------------
if [[ -n ${GORUN_BENCH:-} ]]; then
    GB=$GORUN_BENCH
    [[ $build == 1 ]] && note "GORUN_BENCH is set: skipping the cmake build, using $GB"
else
    GB=$ROOT/build/release/bench/gorun-bench
    if [[ $build == 1 ]]; then
        command -v cmake >/dev/null || die "cmake not found (use --no-build with a prebuilt gorun-bench)"
        note "building gorun-bench (cmake release preset)"
        cmake --preset release >&2 || die "cmake --preset release failed"
        cmake --build --preset release --target gorun-bench >&2 || die "cmake build of gorun-bench failed"
    fi
fi
[[ -f $GB && -x $GB ]] || die "gorun benchmark binary '$GB' not found or not executable;
  build it with: cmake --preset release && cmake --build --preset release --target gorun-bench
  (or point GORUN_BENCH at one)"

listing=$("$GB" --list) || die "'$GB --list' failed"

# --- select names -----------------------------------------------------------------
names=()
while IFS= read -r n; do
    n=${n//[[:space:]]/}
    [[ -n $n && -d $ROOT/bench/go/$n ]] && names+=("$n")
done <<<"$listing"

if ((${#want[@]})); then
    sel=()
    for w in "${want[@]}"; do
        grep -qxF -- "$w" <<<"$listing" || die "'$w' is not a gorun benchmark (gorun-bench --list)"
        [[ -d $ROOT/bench/go/$w ]] || die "'$w' has no Go peer (no bench/go/$w)"
        sel+=("$w")
    done
    names=("${sel[@]}")
fi
((${#names[@]})) || die "no benchmark is both in 'gorun-bench --list' and under bench/go/"

# --- Go peers ---------------------------------------------------------------------
command -v go >/dev/null || die "go not found in PATH"
export GOCACHE=$ROOT/build/go/cache GOPATH=$ROOT/build/go/path
export GOFLAGS=-mod=mod GOPROXY=off GOSUMDB=off GOENV=off GOTOOLCHAIN=local
mkdir -p "$ROOT/build/go"
for n in "${names[@]}"; do
    note "building Go peer $n"
    (cd "$ROOT/bench/go" && go build -o "$ROOT/build/go/$n" "./$n") || die "go build of bench/go/$n failed"
done

# --- run --------------------------------------------------------------------------
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
results=$tmp/results   # lines: impl<TAB>figure<TAB>value<TAB>unit
: >"$results"

# run_one IMPL NAME CMD... : run once, append its "name value unit" lines.
run_one() {
    local impl=$1 name=$2; shift 2
    local rc=0 got
    "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    if ((rc != 0)); then
        cat "$tmp/out" "$tmp/err" >&2
        die "$impl $name failed (exit $rc): $*"
    fi
    got=$(awk -v impl="$impl" '
        NF >= 3 && $2 ~ /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/ {
            unit = $3; for (i = 4; i <= NF; i++) unit = unit " " $i
            printf "%s\t%s\t%s\t%s\n", impl, $1, $2, unit
        }' "$tmp/out")
    if [[ -z $got ]]; then
        cat "$tmp/out" "$tmp/err" >&2
        die "$impl $name printed no 'name value unit' line"
    fi
    printf '%s\n' "$got" >>"$results"
}

model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
echo "# machine: nproc=$(nproc) model=${model:-unknown}"
echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "# reps: $REPS (medians; runs alternate gorun, go, gorun, go, ...)"
if rev=$(git rev-parse --short HEAD 2>/dev/null); then
    git diff --quiet HEAD 2>/dev/null || rev="$rev (dirty)"
else
    rev=none
fi
echo "# commit: $rev"
echo "# go: $(go env GOVERSION)${GORUN_MAXPROCS:+ GORUN_MAXPROCS=$GORUN_MAXPROCS}"

for n in "${names[@]}"; do
    for ((r = 1; r <= REPS; r++)); do
        note "$n: rep $r/$REPS"
        run_one gorun "$n" "$GB" "$n"
        run_one go "$n" "$ROOT/build/go/$n"
    done
done

# --- report -----------------------------------------------------------------------
awk -F'\t' -f "$ROOT/bench/lib.awk" -f /dev/fd/3 "$results" 3<<'AWK'
function median(impl, f,    k, i, a) {
    k = cnt[impl, f]
    for (i = 1; i <= k; i++) a[i] = val[impl, f, i] + 0
    return median_of(a, k)
}
# 1: higher is better (throughput), 0: lower is better (time, bytes, default)
function higher_better(u,    head) {
    if (u ~ /\/(s|sec|second)$/) return 1                   # Mitems/s, ops/s, GB/s
    head = u; sub(/\/.*/, "", head)
    if (head ~ /^(ns|us|µs|ms|s|sec|cycles)$/) return 0     # ms, ns/task, ...
    if (head ~ /^([KMGT]i?)?(B|bytes?)$/) return 0          # B/task, KiB/op, ...
    unknown[u] = 1
    return 0
}
{
    impl = $1; f = $2
    if (!(f in seen)) { seen[f] = 1; order[++nf] = f }
    val[impl, f, ++cnt[impl, f]] = $3
    if (!((impl, f) in unit)) unit[impl, f] = $4
}
END {
    for (i = 1; i <= nf; i++) {
        f = order[i]
        g = median("gorun", f); o = median("go", f)
        u = ((("gorun", f) in unit)) ? unit["gorun", f] : unit["go", f]
        if ((("gorun", f) in unit) && (("go", f) in unit) && unit["gorun", f] != unit["go", f])
            printf "compare.sh: warning: %s unit differs: gorun %s, go %s\n", f, unit["gorun", f], unit["go", f] > "/dev/stderr"
        r = ""
        if (g != "" && o != "" && unit["gorun", f] == unit["go", f]) {
            if (higher_better(u)) r = (o != 0) ? sprintf("%.2f", g / o) : "inf"
            else                  r = (g != 0) ? sprintf("%.2f", o / g) : "inf"
        }
        if (g != "") printf "%s.gorun %s %s\n", f, fmt(g), unit["gorun", f]
        if (o != "") printf "%s.go %s %s\n", f, fmt(o), unit["go", f]
        if (g != "" && o != "" && unit["gorun", f] != unit["go", f]) u = unit["gorun", f] " vs " unit["go", f]
        if (r != "") printf "%s.ratio %s x\n", f, r
        tn[i] = f; tg[i] = fmt(g); to[i] = fmt(o); tu[i] = u; tr[i] = (r == "") ? "-" : r "x"
    }
    for (u in unknown)
        printf "compare.sh: warning: unit \"%s\" not recognised, treated as lower-is-better\n", u > "/dev/stderr"

    w1 = length("benchmark"); w2 = length("gorun median"); w3 = length("go median"); w4 = length("unit"); w5 = length("gorun vs go")
    for (i = 1; i <= nf; i++) {
        if (length(tn[i]) > w1) w1 = length(tn[i]); if (length(tg[i]) > w2) w2 = length(tg[i])
        if (length(to[i]) > w3) w3 = length(to[i]); if (length(tu[i]) > w4) w4 = length(tu[i])
        if (length(tr[i]) > w5) w5 = length(tr[i])
    }
    line = sprintf("%" (w1 + w2 + w3 + w4 + w5 + 12) "s", ""); gsub(/ /, "-", line)
    print ""
    printf "| %-" w1 "s | %" w2 "s | %" w3 "s | %-" w4 "s | %" w5 "s |\n", "benchmark", "gorun median", "go median", "unit", "gorun vs go"
    print "|" substr(line, 1, w1 + 2) "|" substr(line, 1, w2 + 2) "|" substr(line, 1, w3 + 2) "|" substr(line, 1, w4 + 2) "|" substr(line, 1, w5 + 2) "|"
    for (i = 1; i <= nf; i++)
        printf "| %-" w1 "s | %" w2 "s | %" w3 "s | %-" w4 "s | %" w5 "s |\n", tn[i], tg[i], to[i], tu[i], tr[i]
    print "(ratio = how many times better gorun is; >1 means gorun wins)"
}
AWK
