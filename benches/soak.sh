#!/usr/bin/env bash
# A soak of the live node (#28): `raqib run` with the console on and one file camera (VIDEO,
# looped by the node's reconnection) analysed at RATE fps for MINUTES, an analyst polling alerts
# and reads once a second; the node's resident memory and open descriptors sampled every
# 10 seconds. Prints the samples and the growth from the first minute to the last.
#   benches/soak.sh VIDEO [MINUTES=10] [RATE=5]
set -euo pipefail
video=$(realpath "${1:?video}"); minutes=${2:-10}; rate=${3:-5}
raqib=${RAQIB:-$PWD/target/release/raqib}
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
"$raqib" --config "$cfg" run --health-every 5 >"$work/node.log" 2>&1 &
node=$!
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.5; done
token=$(curl -sf -X POST -H 'content-type: application/json' -d '{"name":"ana","password":"a long bench password"}' \
  "http://127.0.0.1:$port/api/login" | sed -E 's/.*"token":"([^"]+)".*/\1/')
analysed() { grep -o '"frames_analysed": *[0-9]*' "$RAQIB_DATA_DIR/health.json" | grep -o '[0-9]*$' | awk '{ s += $1 } END { print s + 0 }'; }
rss_kib() { awk '/VmRSS/ {print $2}' /proc/"$node"/status; }
end=$((SECONDS + minutes * 60))
next=$SECONDS
echo "t_s rss_mib descriptors frames_analysed"
samples=()
while [ $SECONDS -lt $end ]; do
  curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/alerts" >/dev/null || true
  curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/reads?plate=1*&reason=soak" >/dev/null || true
  if [ $SECONDS -ge $next ]; then
    kill -0 "$node" || { echo "the node died"; tail -20 "$work/node.log"; exit 1; }
    r=$(rss_kib); samples+=("$r")
    echo "$SECONDS $((r / 1024)) $(ls /proc/"$node"/fd | wc -l) $(analysed)"
    next=$((next + 10))
  fi
  sleep 1
done
n=${#samples[@]}
first=$(printf '%s\n' "${samples[@]:0:6}" | sort -n | tail -1)
last=$(printf '%s\n' "${samples[@]:$((n - 6))}" | sort -n | tail -1)
echo "resident memory, highest sample of the first minute: $((first / 1024)) MiB; of the last minute: $((last / 1024)) MiB; growth $(((last - first) / 1024)) MiB"
