#!/usr/bin/env bash
# A soak of the live node (#28): `raqib run` with the console on and one file camera (VIDEO,
# looped by the node's reconnection) analysed at RATE fps for MINUTES, an analyst polling alerts
# and reads once a second; the node's resident memory and open descriptors sampled every
# 10 seconds. Prints the samples and the growth from the first minute to the last.
#   benches/soak.sh VIDEO [MINUTES=10] [RATE=5]
set -euo pipefail
video=$(realpath "${1:?video}"); minutes=${2:-10}; rate=${3:-5}
. "$(dirname "$0")/live_node.sh"
start_live_node "$video" "$rate"
end=$((SECONDS + minutes * 60))
next=$SECONDS
echo "t_s rss_mib descriptors frames_analysed"
samples=()
while [ $SECONDS -lt $end ]; do
  curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/alerts" >/dev/null || true
  curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/reads?plate=1*&reason=soak" >/dev/null || true
  if [ $SECONDS -ge $next ]; then
    kill -0 "$node" || { echo "the node died"; tail -20 "$log"; exit 1; }
    r=$(rss_kib); samples+=("$r")
    echo "$SECONDS $((r / 1024)) $(fds) $(analysed)"
    next=$((next + 10))
  fi
  sleep 1
done
n=${#samples[@]}
first=$(printf '%s\n' "${samples[@]:0:6}" | sort -n | tail -1)
last=$(printf '%s\n' "${samples[@]:$((n - 6))}" | sort -n | tail -1)
echo "resident memory, highest sample of the first minute: $((first / 1024)) MiB; of the last minute: $((last / 1024)) MiB; growth $(((last - first) / 1024)) MiB"
