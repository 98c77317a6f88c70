#!/usr/bin/env bash
# tcp_floor.sh [echo|http]... -- how much of each server's CPU per request is the kernel's TCP
# work, which every server pays alike.
#
# Loads each server (gorun's sample, the Asio peer, the Go peer) as net_compare.sh does — echo
# with bench/loadgen/echo_load, HTTP with wrk — while `perf record -g` samples the server, then
# prints per server and workload, as "name value unit" lines:
#   <w>_cpu_us_per_req.<impl>     server CPU per request during the profiled run
#   <w>_tcp_share.<impl>          samples under tcp_sendmsg or tcp_recvmsg (inclusive; on
#                                 loopback a send also runs the peer's receive path in softirq)
#   <w>_tcp_us_per_req.<impl>     the two multiplied: the kernel TCP floor per request
#   <w>_other_us_per_req.<impl>   the rest: what a runtime can still cut
# A target of "X times Asio's CPU per request" is out of reach when X times Asio's figure is
# below a server's own TCP floor.
#
# Needs the builds net_compare.sh makes (run it once without --no-build) and perf.
# Env (defaults): WORKERS (2), CONNECTIONS (64), SIZE (64), DURATION (4s; perf samples its
# last 3 s), SERVER_CPUS / LOADGEN_CPUS (taskset CPU lists; default unpinned).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
die() { echo "tcp_floor.sh: error: $*" >&2; exit 1; }

WORKERS=${WORKERS:-2} CONNECTIONS=${CONNECTIONS:-64} SIZE=${SIZE:-64} DURATION=${DURATION:-4s}
secs=${DURATION%s}
[[ $secs =~ ^[0-9]+$ && $secs -ge 2 ]] || die "DURATION must be whole seconds >= 2 (got '$DURATION')"
server_pin=(); [[ -n ${SERVER_CPUS:-} ]] && server_pin=(taskset -c "$SERVER_CPUS")
loadgen_pin=(); [[ -n ${LOADGEN_CPUS:-} ]] && loadgen_pin=(taskset -c "$LOADGEN_CPUS")
command -v perf >/dev/null || die "perf not found (Debian: linux-perf)"

PEERS=$ROOT/build/peers/bench
declare -A servers=(
    [echo.gorun]=$ROOT/build/release/samples/echo_server/echo_server
    [echo.asio]=$PEERS/asio/asio_echo_server
    [echo.go]=$ROOT/build/go/echo_server
    [http.gorun]=$ROOT/build/release/samples/http_hello/http_hello
    [http.asio]=$PEERS/asio/asio_http_hello
    [http.go]=$ROOT/build/go/http_hello_raw
)
for b in "${servers[@]}" "$PEERS/loadgen/echo_load"; do
    [[ -x $b ]] || die "$b not built (run bench/net_compare.sh once without --no-build)"
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

workloads=("$@")
((${#workloads[@]})) || workloads=(echo http)
for w in "${workloads[@]}"; do
    [[ $w == echo || $w == http ]] || die "unknown workload '$w' (echo or http)"
    for impl in gorun asio go; do
        "${server_pin[@]}" "${servers[$w.$impl]}" --port 0 --workers "$WORKERS" >"$tmp/srv.out" 2>&1 &
        pid=$!
        for ((i = 0; i < 100; i++)); do
            grep -q '^listening on' "$tmp/srv.out" && break
            sleep 0.05
        done
        port=$(sed -n '1s/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/srv.out")
        [[ -n $port ]] || die "$impl's $w server did not start: $(cat "$tmp/srv.out")"
        if [[ $w == echo ]]; then
            "${loadgen_pin[@]}" "$PEERS/loadgen/echo_load" --port "$port" --connections "$CONNECTIONS" \
                --size "$SIZE" --threads 2 --warmup 0s --duration "$DURATION" >"$tmp/load.out" 2>&1 &
        else
            "${loadgen_pin[@]}" wrk -t2 -c"$CONNECTIONS" -d"$DURATION" "http://127.0.0.1:$port/" \
                >"$tmp/load.out" 2>&1 &
        fi
        load=$!
        sleep 1 # let the connections open: perf samples the steady state only
        t0=$(sed 's/.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }')
        perf record -q -g -p "$pid" -o "$tmp/perf.data" -- sleep $((secs - 1)) >/dev/null 2>&1
        t1=$(sed 's/.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }')
        wait "$load"
        kill -INT "$pid"
        wait "$pid" || true
        if [[ $w == echo ]]; then
            rps=$(awk '$1 == "echo_rps" { print $2 }' "$tmp/load.out")
        else
            rps=$(awk '$1 == "Requests/sec:" { print $2 }' "$tmp/load.out")
        fi
        [[ -n $rps ]] || die "no req/s from the $w load on $impl: $(cat "$tmp/load.out")"
        share=$(perf report -i "$tmp/perf.data" --children --sort sym -g none --stdio 2>/dev/null |
            awk '$NF == "tcp_sendmsg" || $NF == "tcp_recvmsg" { sub(/%/, "", $1); s += $1 } END { printf "%.1f", s }')
        awk -v w="$w" -v impl="$impl" -v rps="$rps" -v ticks=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" \
            -v secs=$((secs - 1)) -v share="$share" 'BEGIN {
            cpu = ticks / hz / (rps * secs) * 1e6
            printf "%s_cpu_us_per_req.%s %.3f us/req\n", w, impl, cpu
            printf "%s_tcp_share.%s %.1f %%\n", w, impl, share
            printf "%s_tcp_us_per_req.%s %.3f us/req\n", w, impl, cpu * share / 100
            printf "%s_other_us_per_req.%s %.3f us/req\n", w, impl, cpu * (1 - share / 100)
        }'
    done
done
