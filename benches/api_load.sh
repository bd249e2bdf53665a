#!/usr/bin/env bash
# The console/API under load with a month of reads (#28): READS stored plate reads (default
# 100 000, a month at a busy gate, spread over the last 29 days), one live file camera analysing
# VIDEO at RATE fps, and CLIENTS concurrent analyst clients (wrk, from Debian's packages) on each
# route for SECONDS; prints each route's requests/s, p50 and p99 latency, and the camera's
# analysed fps during the load next to its rate with no load (the ratio is the camera's share).
#   benches/api_load.sh VIDEO [READS=100000] [CLIENTS=50] [SECONDS=20] [RATE=5]
set -euo pipefail
video=$(realpath "${1:?video}"); reads=${2:-100000}; clients=${3:-50}; secs=${4:-20}; rate=${5:-5}
raqib=${RAQIB:-$PWD/target/release/raqib}
command -v wrk >/dev/null || { echo "api_load: needs wrk (apt-get install wrk)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "api_load: needs sqlite3 (apt-get install sqlite3)" >&2; exit 1; }
export RAQIB_CACHE_DIR=${RAQIB_CACHE_DIR:-$PWD/.cache}
work=$(mktemp -d)
export RAQIB_DATA_DIR=$work/data
node=
trap '[ -n "$node" ] && kill "$node" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$RAQIB_DATA_DIR"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cfg=$work/raqib.toml
# Every client comes from 127.0.0.1 here: the per-address connection cap (32) is raised so the
# 50 clients are not cut off as one flooding address would be.
printf '[server]\nbind = "127.0.0.1:%s"\nmax_connections_per_address = 256\n\n[[cameras]]\nid = "gate"\nurl = "%s"\nanalysis_fps = %s\n' "$port" "$video" "$rate" > "$cfg"

# The reads: Moroccan plates, 8 cameras, one every ~25 s over 29 days (within retention).
"$raqib" --config "$cfg" purge >/dev/null # creates events.db
sqlite3 "$RAQIB_DATA_DIR/events.db" <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $reads),
p(i, d, t) AS (SELECT i, printf('%05d', (i * 7919) % 100000), i % 89 + 1 FROM n)
INSERT INTO plate_reads (source, track, seen_at, media_time, plate, latin, key, format, confidence, reads,
                         x1, y1, x2, y2, hit)
SELECT 'cam-' || (i % 8), i, strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '-' || (i * 25 % 2505600) || ' seconds'),
       NULL, d || '-ب-' || t, d || '-B-' || t, d || 'ب' || t, 'morocco_standard', 0.9, 5, 10, 10, 110, 40, 0
FROM p;
SQL
echo "seeded $(sqlite3 "$RAQIB_DATA_DIR/events.db" 'SELECT count(*) FROM plate_reads') reads" >&2
RAQIB_PASSWORD="a long bench password" "$raqib" --config "$cfg" user add ana --role analyst >/dev/null

"$raqib" --config "$cfg" run --health-every 1 >"$work/node.log" 2>&1 &
node=$!
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.5; done
token=$(curl -sf -X POST -H 'content-type: application/json' -d '{"name":"ana","password":"a long bench password"}' \
  "http://127.0.0.1:$port/api/login" | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')

analysed() { python3 -c 'import json, sys; print(sum(c["frames_analysed"] for c in json.load(open(sys.argv[1]))["cameras"]))' "$RAQIB_DATA_DIR/health.json"; }
# Analysed fps over $1 seconds.
fps_over() { local a b; a=$(analysed); sleep "$1"; b=$(analysed); python3 -c "print(f'{($b - $a) / $1:.2f}')"; }

sleep 5 # models warm, the camera streaming
idle=$(fps_over "$secs")
printf 'reads stored: %s; clients: %s; %s s per route; camera at %s fps, analysed %s fps with no load\n\n' \
  "$reads" "$clients" "$secs" "$rate" "$idle"
printf '| route | requests/s | p50 ms | p99 ms | errors | camera analysed fps | share of idle |\n|---|---|---|---|---|---|---|\n'
for route in "/api/alerts" "/api/reads?plate=12345-B-6&reason=bench" "/api/reads?plate=12345-B-6&mode=fuzzy&reason=bench" \
  "/api/reads?plate=1234*&reason=bench" "/api/me"; do
  a=$(analysed)
  wrk -t2 -c"$clients" -d"${secs}s" --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$port$route" >"$work/wrk.txt" || true
  b=$(analysed)
  python3 - "$work/wrk.txt" "$route" "$a" "$b" "$secs" "$idle" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(label):
    m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\b", text, re.M)
    if not m:
        return float("nan")
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
errors = sum(int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses:|connect|read|write|timeout) (\d+)", text))
fps = (int(sys.argv[4]) - int(sys.argv[3])) / float(sys.argv[5])
idle = float(sys.argv[6])
share = f"{100 * fps / idle:.0f} %" if idle > 0 else "?"
print(f"| `{sys.argv[2]}` | {float(rps.group(1)) if rps else 0:.0f} | {ms('50%'):.1f} | {ms('99%'):.1f} | {errors} | {fps:.2f} | {share} |")
PY
done
