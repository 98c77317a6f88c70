#!/usr/bin/env bash
# net_compare.sh [--no-build] [echo|http]... -- gorun's network samples against their peers.
#
# Echo: gorun's samples/echo_server, asio_echo_server, Go's echo_server, each loaded by
# bench/loadgen/echo_load (closed loop, CONNECTIONS connections, SIZE-byte messages, every byte
# checked). HTTP: gorun's samples/http_hello, asio_http_hello, Go's http_hello_raw and
# http_hello_nethttp, each loaded by `wrk -t2 -c$CONNECTIONS --latency`, once with one request
# per write and once with PIPELINE pipelined requests per write (bench/http/pipeline.lua).
#
# Each server is started fresh for every round as `SERVER --port 0 --workers $WORKERS`; its first
# stdout line must be `listening on 127.0.0.1:PORT`; after the round it gets SIGINT (odd rounds)
# or SIGTERM (even rounds) and must exit 0 within 5 s. Per server and round: one timed run
# (req/s, p50/p99 latency, server CPU per request from /proc/PID/stat), then one run of its own
# that counts the server's system calls per request with perf (the tracepoint slows every
# syscall on the machine, so it never overlaps a timed run). Rounds alternate the servers;
# medians over REPS rounds, and how many times better gorun is than each peer, are printed as
# "name value unit" lines and as tables, with the issue 4 targets checked at the end.
#
# gorun's servers: build/release/samples/{echo_server,http_hello}/... (built here with the
# release preset when samples/<name>/main.cpp exists), or GORUN_ECHO_SERVER / GORUN_HTTP_HELLO;
# a missing one is skipped with a note and the peers are still compared.
#
# Env (defaults): REPS (5), WORKERS (2), CONNECTIONS (64), SIZE (64), DURATION (5s),
# WARMUP (1s, echo warm-up and an untimed wrk run first), COUNT_DURATION (2s, the syscall-counting
# run; 0 skips counting), PIPELINE (16; 0 skips the pipelined HTTP runs), LOADGEN_THREADS (2),
# SERVER_CPUS and LOADGEN_CPUS (taskset CPU lists; default: unpinned, both share every CPU).
#
# Output: stdout carries the header ("# ..." lines), the figure lines and the tables; progress,
# notes and errors go to stderr. Exit 1 on any failed check (a byte mismatch, a wrk socket error
# or non-2xx answer, a bad pipelined answer, a server that does not start or stop cleanly).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

die() { echo "net_compare.sh: error: $*" >&2; exit 1; }
note() { echo "net_compare.sh: $*" >&2; }

usage() { sed -n '2,32p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

build=1
groups=()
for arg in "$@"; do
    case $arg in
        --no-build) build=0 ;;
        -h|--help) usage; exit 0 ;;
        echo|http) groups+=("$arg") ;;
        *) die "unknown argument '$arg' (try --help)" ;;
    esac
done
((${#groups[@]})) || groups=(echo http)
want() { [[ " ${groups[*]} " == *" $1 "* ]]; }

REPS=${REPS:-5}
WORKERS=${WORKERS:-2}
CONNECTIONS=${CONNECTIONS:-64}
SIZE=${SIZE:-64}
DURATION=${DURATION:-5s}
WARMUP=${WARMUP:-1s}
COUNT_DURATION=${COUNT_DURATION:-2s}
PIPELINE=${PIPELINE:-16}
LOADGEN_THREADS=${LOADGEN_THREADS:-2}
SERVER_CPUS=${SERVER_CPUS:-}
LOADGEN_CPUS=${LOADGEN_CPUS:-}
for v in REPS WORKERS CONNECTIONS SIZE LOADGEN_THREADS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, got '${!v}'"
done
[[ $PIPELINE =~ ^[0-9]+$ ]] || die "PIPELINE must be an integer, got '$PIPELINE'"
for v in DURATION WARMUP COUNT_DURATION; do
    [[ ${!v} =~ ^[0-9]+(s|m)?$ ]] || die "$v must be whole seconds such as 5s (wrk's format), got '${!v}'"
done
secs() { local d=${1%s}; [[ $d == *m ]] && echo $((${d%m} * 60)) || echo "$d"; }
count_on=1; (($(secs "$COUNT_DURATION") > 0)) || count_on=0
warm_on=1; (($(secs "$WARMUP") > 0)) || warm_on=0

server_pin=(); [[ -n $SERVER_CPUS ]] && server_pin=(taskset -c "$SERVER_CPUS")
loadgen_pin=(); [[ -n $LOADGEN_CPUS ]] && loadgen_pin=(taskset -c "$LOADGEN_CPUS")

# --- tools ------------------------------------------------------------------------------------
command -v go >/dev/null || die "go not found in PATH (scripts/install-deps.sh installs golang-go)"
want http && { command -v wrk >/dev/null || die "wrk not found (apt-get install wrk; scripts/install-deps.sh has it)"; }
want http && ((PIPELINE > 0)) && { [[ -f $ROOT/bench/http/pipeline.lua ]] || die "bench/http/pipeline.lua is missing"; }
if ((count_on)); then
    command -v perf >/dev/null || die "perf not found (apt-get install linux-perf), or set COUNT_DURATION=0"
fi
[[ -z $SERVER_CPUS && -z $LOADGEN_CPUS ]] || command -v taskset >/dev/null || die "taskset not found (util-linux)"

# --- build ------------------------------------------------------------------------------------
PEERS=$ROOT/build/peers/bench
if ((build)); then
    note "building the Asio peers and echo_load (cmake preset 'peers', -j2)"
    cmake --preset peers >&2 || die "cmake --preset peers failed (libasio-dev installed?)"
    cmake --build --preset peers >&2 || die "building the peers failed"
fi
for b in "$PEERS/asio/asio_echo_server" "$PEERS/asio/asio_http_hello" "$PEERS/loadgen/echo_load"; do
    [[ -x $b ]] || die "$b not built; run without --no-build (or: cmake --preset peers && cmake --build --preset peers)"
done
LOADGEN=$PEERS/loadgen/echo_load

export GOCACHE=$ROOT/build/go/cache GOPATH=$ROOT/build/go/path
export GOFLAGS=-mod=mod GOPROXY=off GOSUMDB=off GOENV=off GOTOOLCHAIN=local
mkdir -p "$ROOT/build/go"
for n in echo_server http_hello_raw http_hello_nethttp; do
    if ((build)) || [[ ! -x $ROOT/build/go/$n ]]; then
        note "building Go peer $n"
        (cd "$ROOT/bench/go" && go build -o "$ROOT/build/go/$n" "./$n") || die "go build of bench/go/$n failed"
    fi
done

# gorun's samples: an explicit path wins; otherwise build/release/samples/<name>/<name>, built
# here when the sample's source exists.
gorun_server() { # NAME ENVVAR -> prints the path, or nothing when there is none
    local name=$1 var=$2
    if [[ -n ${!var:-} ]]; then
        [[ -x ${!var} ]] || die "$var=${!var} is not an executable"
        echo "${!var}"
        return
    fi
    local bin=$ROOT/build/release/samples/$name/$name
    if [[ -f $ROOT/samples/$name/main.cpp ]] && ((build)); then
        note "building gorun's $name (cmake release preset, -j2)"
        { cmake --preset release >&2 && cmake --build --preset release --target "$name" -j 2 >&2; } ||
            die "building gorun's samples/$name failed"
    fi
    if [[ -x $bin ]]; then
        echo "$bin"
    else
        note "gorun's $name is not built ($bin; no samples/$name yet?): skipped, comparing the peers only"
    fi
}

echo_impls=() echo_cmds=()
http_impls=() http_cmds=()
if want echo; then
    g=$(gorun_server echo_server GORUN_ECHO_SERVER)
    [[ -n $g ]] && { echo_impls+=(gorun); echo_cmds+=("$g"); }
    echo_impls+=(asio go)
    echo_cmds+=("$PEERS/asio/asio_echo_server" "$ROOT/build/go/echo_server")
fi
if want http; then
    g=$(gorun_server http_hello GORUN_HTTP_HELLO)
    [[ -n $g ]] && { http_impls+=(gorun); http_cmds+=("$g"); }
    http_impls+=(asio go_raw go_nethttp)
    http_cmds+=("$PEERS/asio/asio_http_hello" "$ROOT/build/go/http_hello_raw" "$ROOT/build/go/http_hello_nethttp")
fi

# --- helpers ----------------------------------------------------------------------------------
tmp=$(mktemp -d)
srv_pid=
perf_pid=
cleanup() {
    [[ -n $perf_pid ]] && kill -INT "$perf_pid" 2>/dev/null || true
    [[ -n $srv_pid ]] && kill -KILL "$srv_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
results=$tmp/results # group<TAB>impl<TAB>figure<TAB>value<TAB>unit
: >"$results"
failures=0

record() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$results"; }

# start_server IMPL CMD: starts it, sets srv_pid and srv_port.
start_server() {
    local impl=$1 cmd=$2 line= i
    rm -f "$tmp/srv.out" # else the previous server's line may be read before the shell truncates it
    "${server_pin[@]}" "$cmd" --port 0 --workers "$WORKERS" >"$tmp/srv.out" 2>"$tmp/srv.err" &
    srv_pid=$!
    for ((i = 0; i < 100; i++)); do
        if IFS= read -r line 2>/dev/null <"$tmp/srv.out" && [[ -n $line ]]; then break; fi
        kill -0 "$srv_pid" 2>/dev/null || break
        sleep 0.05
    done
    if [[ ! $line =~ ^listening\ on\ 127\.0\.0\.1:([0-9]+)$ ]]; then
        cat "$tmp/srv.err" >&2
        die "$impl ($cmd) did not print 'listening on 127.0.0.1:PORT' as its first line within 5 s (got '$line')"
    fi
    srv_port=${BASH_REMATCH[1]}
}

# stop_server IMPL SIGNAL: the server must exit 0 within 5 s.
stop_server() {
    local impl=$1 sig=$2 rc=0 i
    [[ -n $srv_pid ]] || return 0 # it died during the run, and that was reported
    kill "-$sig" "$srv_pid"
    for ((i = 0; i < 100; i++)); do
        kill -0 "$srv_pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$srv_pid" 2>/dev/null; then
        kill -KILL "$srv_pid"
        wait "$srv_pid" 2>/dev/null || true
        note "FAIL: $impl did not exit within 5 s of SIG$sig"
        failures=$((failures + 1))
    else
        wait "$srv_pid" || rc=$?
        if ((rc != 0)); then
            cat "$tmp/srv.err" >&2
            note "FAIL: $impl exited $rc after SIG$sig (want 0)"
            failures=$((failures + 1))
        fi
    fi
    srv_pid=
}

# server_alive IMPL: true while the server runs; otherwise reaps it, shows its stderr, counts a
# failure and returns 1 (stop_server then has nothing to do).
server_alive() {
    local rc=0
    kill -0 "$srv_pid" 2>/dev/null && [[ $(awk '{ print $3 }' "/proc/$srv_pid/stat" 2>/dev/null) != Z ]] && return 0
    wait "$srv_pid" || rc=$?
    cat "$tmp/srv.err" >&2
    note "FAIL: $1 died during the run (wait status $rc$( ((rc > 128)) && echo ", signal $((rc - 128))"))"
    failures=$((failures + 1))
    srv_pid=
    return 1
}

# cpu_ticks PID: utime + stime of the whole process, in clock ticks.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
CLK_TCK=$(getconf CLK_TCK)

# Counting syscalls around a command: perf starts disabled, is enabled just before and disabled
# just after (each acknowledged), so its window is the command's.
perf_start() { # PID
    rm -f "$tmp/ctl" "$tmp/ack"
    mkfifo "$tmp/ctl" "$tmp/ack"
    perf stat -D -1 --control "fifo:$tmp/ctl,$tmp/ack" -e raw_syscalls:sys_enter -x, \
        -p "$1" -o "$tmp/perf.out" </dev/null >/dev/null 2>&1 &
    perf_pid=$!
    exec 7<>"$tmp/ctl" 8<>"$tmp/ack" # read-write opens do not block on a fifo
}
perf_cmd() { # enable|disable
    local a=
    echo "$1" >&7
    read -r -t 10 a <&8 || true
    [[ $a == ack ]] || die "perf did not acknowledge '$1' (try: perf stat -e raw_syscalls:sys_enter -p PID)"
}
perf_abandon() {
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
    perf_pid=
    exec 7>&- 8<&-
}
perf_finish() { # -> sets perf_count (not in a $(...): wait needs perf to be our child)
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
    perf_pid=
    exec 7>&- 8<&-
    perf_count=$(awk -F, '/raw_syscalls:sys_enter/ && $1 ~ /^[0-9]+$/ { print $1 }' "$tmp/perf.out")
    [[ -n $perf_count ]] || die "perf printed no count: $(cat "$tmp/perf.out")"
}

# wrk_us VALUE: wrk's "1.23ms" / "456.00us" / "1.00s" in microseconds.
wrk_us() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); m = 1 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); m = 1000 }
        else if (v ~ /m$/) { sub(/m$/, "", v); m = 60e6 }
        else if (v ~ /s$/) { sub(/s$/, "", v); m = 1e6 }
        else { m = 1 }
        printf "%.1f", v * m }'
}

# run_echo IMPL: timed run, then the counting run, on the running server.
run_echo() {
    local impl=$1 rc=0 args=(--port "$srv_port" --connections "$CONNECTIONS" --size "$SIZE"
        --threads "$LOADGEN_THREADS" --server-pid "$srv_pid")
    "${loadgen_pin[@]}" "$LOADGEN" "${args[@]}" --warmup "$WARMUP" --duration "$DURATION" \
        >"$tmp/load.out" 2>"$tmp/load.err" || rc=$?
    if ((rc != 0)); then
        cat "$tmp/load.out" "$tmp/load.err" >&2
        note "FAIL: echo_load against $impl exited $rc"
        failures=$((failures + 1))
        server_alive "$impl" || true
        return
    fi
    awk -v impl="$impl" '
        $1 == "echo_rps" || $1 == "echo_p50_us" || $1 == "echo_p99_us" { printf "echo\t%s\t%s\t%s\t%s\n", impl, $1, $2, $3 }
        $1 == "server_cpu_us_per_req" { printf "echo\t%s\techo_cpu_us_per_req\t%s\t%s\n", impl, $2, $3 }
    ' "$tmp/load.out" >>"$results"
    if ((count_on)); then
        "${loadgen_pin[@]}" "$LOADGEN" "${args[@]}" --warmup 0.5s --duration "$COUNT_DURATION" \
            --count-syscalls >"$tmp/load.out" 2>"$tmp/load.err" || rc=$?
        if ((rc != 0)); then
            cat "$tmp/load.out" "$tmp/load.err" >&2
            note "FAIL: echo_load --count-syscalls against $impl exited $rc"
            failures=$((failures + 1))
            server_alive "$impl" || true
            return
        fi
        awk -v impl="$impl" '$1 == "server_syscalls_per_req" {
            printf "echo\t%s\techo_syscalls_per_req\t%s\t%s\n", impl, $2, $3 }' "$tmp/load.out" >>"$results"
    fi
}

# http_check IMPL: two pipelined GETs in one write must get two complete answers.
http_check() {
    local impl=$1 a= b= ok=0
    if exec 9<>"/dev/tcp/127.0.0.1/$srv_port"; then
        printf 'GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n' >&9
        # Each answer ends with the '!' of "Hello, World!".
        if read -r -t 3 -d '!' a <&9 && read -r -t 3 -d '!' b <&9; then
            [[ $a == "HTTP/1.1 200 OK"*"Hello, World" && $b == "HTTP/1.1 200 OK"*"Hello, World" ]] && ok=1
        fi
        exec 9<&-
    fi
    if ((!ok)); then
        printf 'first answer: %q\nsecond answer: %q\n' "$a" "$b" >&2
        note "FAIL: $impl did not answer two pipelined GETs with two 'HTTP/1.1 200 OK ... Hello, World!'"
        failures=$((failures + 1))
    fi
}

# run_wrk IMPL PREFIX DURATION DEPTH MODE: one wrk run (DEPTH > 0: pipelined, DEPTH requests per
# write). MODE time: appends PREFIX_rps, _p50_us, _p99_us, _cpu_us_per_req to the results;
# count: appends PREFIX_syscalls_per_req; warm: records nothing. Returns 1 on a failed check.
run_wrk() {
    local impl=$1 prefix=$2 dur=$3 depth=$4 mode=$5
    local rc=0 t0 t1 sc= script=() script_args=()
    if ((depth > 0)); then
        script=(-s "$ROOT/bench/http/pipeline.lua")
        script_args=(-- "$depth")
    fi
    [[ $mode == count ]] && { perf_start "$srv_pid"; perf_cmd enable; }
    t0=$(cpu_ticks "$srv_pid")
    "${loadgen_pin[@]}" wrk -t2 -c"$CONNECTIONS" -d"$dur" --latency "${script[@]}" \
        "http://127.0.0.1:$srv_port/" "${script_args[@]}" >"$tmp/wrk.out" 2>&1 || rc=$?
    if ! server_alive "$impl"; then
        [[ $mode == count ]] && perf_abandon
        return 1
    fi
    t1=$(cpu_ticks "$srv_pid")
    [[ $mode == count ]] && { perf_cmd disable; perf_finish; sc=$perf_count; }
    # wrk runs plain requests when its script fails to load; that must not pass as pipelined.
    if ((rc != 0)) || grep -qE 'Socket errors|Non-2xx|cannot open|\.lua:' "$tmp/wrk.out"; then
        cat "$tmp/wrk.out" >&2
        note "FAIL: wrk against $impl ($prefix, $mode): exit $rc or errors"
        failures=$((failures + 1))
        return 1
    fi
    local reqs rps p50 p99
    reqs=$(awk '/requests in/ { print $1 }' "$tmp/wrk.out")
    rps=$(awk '/^Requests\/sec:/ { print $2 }' "$tmp/wrk.out")
    p50=$(awk '$1 == "50%" { print $2 }' "$tmp/wrk.out")
    p99=$(awk '$1 == "99%" { print $2 }' "$tmp/wrk.out")
    if [[ -z $reqs || -z $rps || -z $p50 || -z $p99 ]] || ((reqs == 0)); then
        cat "$tmp/wrk.out" >&2
        note "FAIL: could not read wrk's output for $impl ($prefix, $mode)"
        failures=$((failures + 1))
        return 1
    fi
    case $mode in
        warm) ;;
        count)
            record http "$impl" "${prefix}_syscalls_per_req" \
                "$(awk -v s="$sc" -v r="$reqs" 'BEGIN { printf "%.3f", s / r }')" syscalls/req ;;
        time)
            record http "$impl" "${prefix}_rps" "$(printf '%.0f' "$rps")" req/s
            record http "$impl" "${prefix}_p50_us" "$(wrk_us "$p50")" us
            record http "$impl" "${prefix}_p99_us" "$(wrk_us "$p99")" us
            record http "$impl" "${prefix}_cpu_us_per_req" "$(awk -v a="$t0" -v b="$t1" -v hz="$CLK_TCK" \
                -v r="$reqs" 'BEGIN { printf "%.3f", (b - a) / hz * 1e6 / r }')" us/req ;;
    esac
}

run_http() {
    local impl=$1
    http_check "$impl"
    server_alive "$impl" || return 1
    ((warm_on)) && { run_wrk "$impl" http "$WARMUP" 0 warm || return 1; }
    run_wrk "$impl" http "$DURATION" 0 time || return 1
    ((count_on)) && { run_wrk "$impl" http "$COUNT_DURATION" 0 count || return 1; }
    if ((PIPELINE > 0)); then
        run_wrk "$impl" "http_pipe$PIPELINE" "$DURATION" "$PIPELINE" time || return 1
        ((count_on)) && { run_wrk "$impl" "http_pipe$PIPELINE" "$COUNT_DURATION" "$PIPELINE" count || return 1; }
    fi
    return 0
}

# --- header -----------------------------------------------------------------------------------
model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
echo "# machine: nproc=$(nproc) model=${model:-unknown}"
echo "# date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every figure)"
echo "# reps: $REPS (medians; servers alternate within each round)"
if rev=$(git rev-parse --short HEAD 2>/dev/null); then
    git diff --quiet HEAD 2>/dev/null || rev="$rev (dirty)"
else
    rev=none
fi
echo "# commit: $rev"
echo "# go: $(go env GOVERSION); asio: $(awk '$1 == "#define" && $2 == "ASIO_VERSION" { print $3 }' /usr/include/asio/version.hpp 2>/dev/null); wrk: $(wrk -v 2>&1 | head -1 | awk '{ print $2 }')"
echo "# servers: --workers $WORKERS, cpus ${SERVER_CPUS:-all}; load generators: cpus ${LOADGEN_CPUS:-all}, echo_load --threads $LOADGEN_THREADS, wrk -t2"
echo "# echo: $CONNECTIONS connections, $SIZE B, warm-up $WARMUP, $DURATION timed; http: wrk -c$CONNECTIONS -d$DURATION after a $WARMUP untimed run${PIPELINE:+, pipelined depth $PIPELINE}"
echo "# syscalls: $( ((count_on)) && echo "counted by perf in separate $COUNT_DURATION runs" || echo "not counted (COUNT_DURATION=0)")"
((${#echo_impls[@]})) && echo "# echo servers: ${echo_impls[*]}"
((${#http_impls[@]})) && echo "# http servers: ${http_impls[*]}"

# --- run --------------------------------------------------------------------------------------
for ((r = 1; r <= REPS; r++)); do
    sig=INT; ((r % 2 == 0)) && sig=TERM
    for i in "${!echo_impls[@]}"; do
        note "round $r/$REPS: echo ${echo_impls[$i]}"
        start_server "${echo_impls[$i]}" "${echo_cmds[$i]}"
        run_echo "${echo_impls[$i]}"
        stop_server "${echo_impls[$i]}" "$sig"
    done
    for i in "${!http_impls[@]}"; do
        note "round $r/$REPS: http ${http_impls[$i]}"
        start_server "${http_impls[$i]}" "${http_cmds[$i]}"
        run_http "${http_impls[$i]}" || true
        stop_server "${http_impls[$i]}" "$sig"
    done
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

# --- report -----------------------------------------------------------------------------------
awk -F'\t' -f "$ROOT/bench/lib.awk" -f /dev/fd/3 "$results" 3<<'AWK'
function median(g, impl, f,    k, i, a) {
    k = cnt[g, impl, f]
    for (i = 1; i <= k; i++) a[i] = val[g, impl, f, i] + 0
    return median_of(a, k)
}
# how many times better a is than b: throughput a/b, costs b/a
function better(u, a, b) {
    if (a == "" || b == "") return ""
    if (u ~ /\/s$/) return (b != 0) ? sprintf("%.2f", a / b) : "inf"
    return (a != 0) ? sprintf("%.2f", b / a) : "inf"
}
function pad(s, w) { return sprintf("%-" w "s", s) }
function rpad(s, w) { return sprintf("%" w "s", s) }
{
    g = $1; impl = $2; f = $3
    if (!(g in gseen)) { gseen[g] = 1; gorder[++ng] = g }
    if (!((g, impl) in iseen)) { iseen[g, impl] = 1; iorder[g, ++ni[g]] = impl }
    if (!((g, f) in fseen)) { fseen[g, f] = 1; forder[g, ++nf[g]] = f }
    val[g, impl, f, ++cnt[g, impl, f]] = $4
    unit[g, f] = $5
}
END {
    for (gi = 1; gi <= ng; gi++) {
        g = gorder[gi]
        has_gorun = ((g, "gorun") in iseen)
        for (fi = 1; fi <= nf[g]; fi++) {
            f = forder[g, fi]; u = unit[g, f]
            for (ii = 1; ii <= ni[g]; ii++) {
                impl = iorder[g, ii]
                m[g, f, impl] = median(g, impl, f)
                if (m[g, f, impl] != "") printf "%s.%s %s %s\n", f, impl, fmt(m[g, f, impl]), u
            }
            if (has_gorun)
                for (ii = 1; ii <= ni[g]; ii++) {
                    impl = iorder[g, ii]
                    if (impl == "gorun") continue
                    r = better(u, m[g, f, "gorun"], m[g, f, impl])
                    ratio[g, f, impl] = r
                    if (r != "") printf "%s.gorun_vs_%s %s x\n", f, impl, r
                }
        }
    }
    # Every round'"'"'s value, in round order, to judge the spread behind each median.
    for (gi = 1; gi <= ng; gi++) {
        g = gorder[gi]
        for (fi = 1; fi <= nf[g]; fi++) {
            f = forder[g, fi]
            for (ii = 1; ii <= ni[g]; ii++) {
                impl = iorder[g, ii]
                line = ""
                for (k = 1; k <= cnt[g, impl, f]; k++) line = line " " fmt(val[g, impl, f, k])
                if (line != "") printf "# rounds %s.%s:%s\n", f, impl, line
            }
        }
    }
    for (gi = 1; gi <= ng; gi++) {
        g = gorder[gi]
        has_gorun = ((g, "gorun") in iseen)
        # columns: figure, each impl, unit, then gorun vs each peer
        nc = 0
        col[++nc] = "figure"
        for (ii = 1; ii <= ni[g]; ii++) col[++nc] = iorder[g, ii]
        col[++nc] = "unit"
        nfixed = nc
        if (has_gorun)
            for (ii = 1; ii <= ni[g]; ii++) if (iorder[g, ii] != "gorun") col[++nc] = "gorun vs " iorder[g, ii]
        for (c = 1; c <= nc; c++) w[c] = length(col[c])
        for (fi = 1; fi <= nf[g]; fi++) {
            f = forder[g, fi]; c = 0
            cell[fi, ++c] = f
            for (ii = 1; ii <= ni[g]; ii++) cell[fi, ++c] = fmt(m[g, f, iorder[g, ii]])
            cell[fi, ++c] = unit[g, f]
            if (has_gorun)
                for (ii = 1; ii <= ni[g]; ii++) {
                    impl = iorder[g, ii]
                    if (impl == "gorun") continue
                    cell[fi, ++c] = (ratio[g, f, impl] == "") ? "-" : ratio[g, f, impl] "x"
                }
            for (c = 1; c <= nc; c++) if (length(cell[fi, c]) > w[c]) w[c] = length(cell[fi, c])
        }
        print ""
        line = "|"; sep = "|"
        for (c = 1; c <= nc; c++) {
            line = line " " ((c == 1 || c == nfixed) ? pad(col[c], w[c]) : rpad(col[c], w[c])) " |"
            d = sprintf("%" (w[c] + 2) "s", ""); gsub(/ /, "-", d); sep = sep d "|"
        }
        print line; print sep
        for (fi = 1; fi <= nf[g]; fi++) {
            line = "|"
            for (c = 1; c <= nc; c++)
                line = line " " ((c == 1 || c == nfixed) ? pad(cell[fi, c], w[c]) : rpad(cell[fi, c], w[c])) " |"
            print line
        }
    }
    if (ng > 0) print "(medians; \"gorun vs X\" = how many times better gorun is, >1 means gorun wins)"

    # Issue 4 targets, when gorun took part.
    print ""
    any = 0
    for (gi = 1; gi <= ng; gi++) {
        g = gorder[gi]
        if (!((g, "gorun") in iseen)) { printf "targets (%s): not checked, gorun did not take part\n", g; continue }
        any = 1
        f = g "_cpu_us_per_req"
        if (m[g, f, "gorun"] != "" && m[g, f, "asio"] != "") {
            q = m[g, f, "gorun"] / m[g, f, "asio"]
            printf "target %s: server CPU per request <= 0.6x Asio: %.2fx  %s\n", g, q, (q <= 0.6) ? "met" : "NOT met"
        }
        f = g "_rps"; ok = 1; worst = ""
        for (ii = 1; ii <= ni[g]; ii++) {
            impl = iorder[g, ii]
            if (impl == "gorun" || m[g, f, impl] == "") continue
            if (!(m[g, f, "gorun"] > m[g, f, impl])) { ok = 0; worst = worst " " impl }
        }
        printf "target %s: req/s above every peer: %s\n", g, ok ? "met" : "NOT met (not above:" worst ")"
        f = g "_syscalls_per_req"
        if (m[g, f, "gorun"] != "")
            printf "target %s: fewer than 1 syscall per request: %s  %s\n", g, fmt(m[g, f, "gorun"]), (m[g, f, "gorun"] < 1) ? "met" : "NOT met"
    }
}
AWK

if ((failures > 0)); then
    die "$failures check(s) failed (see the FAIL lines above); the figures above include only the runs that passed"
fi
