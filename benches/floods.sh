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
raqib=${RAQIB:-$PWD/target/release/raqib}
cargo build --locked --release --quiet -p raqib-server --example flood
flood=$PWD/target/release/examples/flood
export RAQIB_CACHE_DIR=${RAQIB_CACHE_DIR:-$PWD/.cache}
work=$(mktemp -d)
export RAQIB_DATA_DIR=$work/data
node=
trap '[ -n "$node" ] && kill "$node" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$RAQIB_DATA_DIR"
port=$(shuf -i 20000-60000 -n 1)
cfg=$work/raqib.toml
printf '[server]\nbind = "127.0.0.1:%s"\n\n[[cameras]]\nid = "gate"\nurl = "%s"\nanalysis_fps = %s\n' "$port" "$video" "$rate" > "$cfg"
RAQIB_PASSWORD="a long bench password" "$raqib" --config "$cfg" user add ana --role analyst >/dev/null
# The usual default descriptor limit, so the idle flood would exhaust it if connections were not bounded.
prlimit --nofile=1024:1024 -- "$raqib" --config "$cfg" run --health-every 1 >"$work/node.log" 2>&1 &
node=$!
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.5; done
token=$(curl -sf -X POST -H 'content-type: application/json' -d '{"name":"ana","password":"a long bench password"}' \
  "http://127.0.0.1:$port/api/login" | sed -E 's/.*"token":"([^"]+)".*/\1/')

analysed() { grep -o '"frames_analysed": *[0-9]*' "$RAQIB_DATA_DIR/health.json" | grep -o '[0-9]*$' | awk '{ s += $1 } END { print s + 0 }'; }
fds() { ls /proc/"$node"/fd | wc -l; }
rss() { awk '/VmRSS/ {print $2 / 1024 " MiB"}' /proc/"$node"/status; }
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
grep -c "Too many open files" "$work/node.log" | sed 's/^/"Too many open files" in the node log: /'
