#!/usr/bin/env bash
# The console under floods (#28): one live file camera analysing VIDEO at RATE fps with the
# console on and the default connection limits, then for SECONDS each: CLIENTS login-flooding
# clients (wrong passwords, each from its own loopback address), then IDLE idle connections from
# 40 addresses, reopened as soon as the node closes them. Meanwhile an analyst asks /api/me and a
# monitor /healthz (server/examples/flood.rs); prints their latencies, the camera's analysed fps
# during each flood next to its rate with no flood (its share), and the node's open descriptors
# and resident memory.
#   benches/floods.sh VIDEO [CLIENTS=48] [IDLE=1100] [SECONDS=20] [RATE=5]
set -euo pipefail
video=$(realpath "${1:?video}"); clients=${2:-48}; idle=${3:-1100}; secs=${4:-20}; rate=${5:-5}
cargo build --locked --release --quiet -p raqib-server --example flood
flood=$PWD/target/release/examples/flood
. "$(dirname "$0")/live_node.sh"
# The usual default descriptor limit, so the idle flood would exhaust it if connections were not bounded.
start_live_node "$video" "$rate" prlimit --nofile=1024:1024 --
rss() { echo "$(($(rss_kib) / 1024)) MiB"; }
sleep 5 # models warm, the camera streaming
a=$(analysed); sleep "$secs"; b=$(analysed)
quiet=$(awk -v a="$a" -v b="$b" -v s="$secs" 'BEGIN { printf "%.2f", (b - a) / s }')
echo "camera at $rate fps: $quiet analysed fps with no flood; node: $(fds) descriptors, $(rss)"
for mode in ${MODES:-login idle}; do
  n=$clients; [ "$mode" = idle ] && n=$idle
  a=$(analysed)
  "$flood" "http://127.0.0.1:$port" "$token" "$mode" "$n" "$secs" &
  fl=$!
  sleep $((secs / 2)); during_fds=$(fds); during_rss=$(rss)
  wait "$fl"
  after_rss=$(rss)
  b=$(analysed)
  fps=$(awk -v a="$a" -v b="$b" -v s="$((secs + 1))" 'BEGIN { printf "%.2f", (b - a) / s }')
  share=$(awk -v f="$fps" -v q="$quiet" 'BEGIN { printf "%.0f", 100 * f / q }')
  echo "  camera during the $mode flood: $fps analysed fps ($share % of no flood); node: $during_fds descriptors, $during_rss half-way, $after_rss at the end"
done
grep -c "Too many open files" "$log" | sed 's/^/"Too many open files" in the node log: /'
