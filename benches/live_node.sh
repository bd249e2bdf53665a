# Sourced by the bench scripts that run a live node with its console (floods.sh, soak.sh):
#   start_live_node VIDEO RATE [LAUNCHER…]
# starts `raqib run` (RAQIB, default the release build) in a scratch data dir with one file
# camera `gate` analysing VIDEO at RATE fps and the console on a free loopback port, an analyst
# user `ana`; waits for /healthz and logs in. Sets: work, port, node (pid), token, log. Helpers:
# analysed (frames analysed so far, all cameras), fds (the node's open descriptors), rss_kib.
# The node is stopped and the scratch dir removed when the script exits.
raqib=${RAQIB:-$PWD/target/release/raqib}
export RAQIB_CACHE_DIR=${RAQIB_CACHE_DIR:-$PWD/.cache}
node=
work=$(mktemp -d)
export RAQIB_DATA_DIR=$work/data
trap '[ -n "$node" ] && kill "$node" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

start_live_node() {
  local video=$1 rate=$2
  shift 2
  mkdir -p "$RAQIB_DATA_DIR"
  port=$(shuf -i 20000-60000 -n 1)
  log=$work/node.log
  local cfg=$work/raqib.toml
  printf '[server]\nbind = "127.0.0.1:%s"\n\n[[cameras]]\nid = "gate"\nurl = "%s"\nanalysis_fps = %s\n' \
    "$port" "$video" "$rate" >"$cfg"
  RAQIB_PASSWORD="a long bench password" "$raqib" --config "$cfg" user add ana --role analyst >/dev/null
  "$@" "$raqib" --config "$cfg" run --health-every 1 >"$log" 2>&1 &
  node=$!
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.5; done
  token=$(curl -sf -X POST -H 'content-type: application/json' -d '{"name":"ana","password":"a long bench password"}' \
    "http://127.0.0.1:$port/api/login" | sed -E 's/.*"token":"([^"]+)".*/\1/')
}

analysed() {
  grep -o '"frames_analysed": *[0-9]*' "$RAQIB_DATA_DIR/health.json" 2>/dev/null | grep -o '[0-9]*$' |
    awk '{ s += $1 } END { print s + 0 }'
}
fds() { ls /proc/"$node"/fd | wc -l; }
rss_kib() { awk '/VmRSS/ {print $2}' /proc/"$node"/status; }
