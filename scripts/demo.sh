#!/usr/bin/env bash
# `make demo`: build the release binary, show what the node will use on this machine, generate
# the sample street scene (deterministic, exact ground truth), load its watchlist and replay it:
# hits print in the terminal and an HTML report is written. Then the sample plate photos are read
# and a few watchlist look-ups show fuzzy and Arabic/Latin matching. Last, the live node
# (`raqib run`) plays the scene as a camera with the console on 127.0.0.1: the script prints the
# URL and a one-time password for a demo admin, and stops the node after RAQIB_DEMO_SECONDS
# (default 120; Ctrl-C stops it earlier). (Setup has already run.)
set -euo pipefail
cd "$(dirname "$0")/.."
export RAQIB_CACHE_DIR=${RAQIB_CACHE_DIR:-$PWD/.cache}
raqib=target/release/raqib
scene=var/samples/demo
db=var/demo-watchlist.db
printf '==> building raqib (release)\n'
cargo build --locked --release --quiet -p raqib
printf '\n==> raqib doctor\n'
$raqib doctor

printf '\n==> sample scene: 1280x720, 25 fps, 20 s, seed 1 (%s)\n' "$scene"
if [ ! -s "$scene/scene.mp4" ] || [ ! -s "$scene/truth.json" ]; then
  $raqib samples make --out "$scene" --seconds 20 --seed 1
else
  printf 'already made (delete %s to make it again)\n' "$scene"
fi

printf '\n==> its watchlist (%s) and persons into %s\n' "$scene/watchlist.csv" "$db"
rm -f "$db"
$raqib watchlist --db "$db" --actor demo --reason "make demo" import "$scene/watchlist.csv"
$raqib watchlist --db "$db" --actor demo --reason "make demo" import-persons "$scene/persons.json"
$raqib watchlist --db "$db" list

printf '\n==> replay of the scene against the watchlist (plates listed in %s/truth.json)\n' "$scene"
$raqib replay --watchlist "$db" --no-store --report var/demo-report.html "$scene/scene.mp4"
printf '\nreport: %s (open it in a browser)\n' "$PWD/var/demo-report.html"

printf '\n==> raqib read samples/plates/*.png (plates rendered by training/plate_ocr/samples.py)\n'
$raqib read samples/plates/*.png

$raqib watchlist --db "$db" --actor demo --reason "make demo" import samples/watchlists/demo.csv >/dev/null
for read in "12345 | ب | 6" "12345-ت-6" "A8-BB0-CD"; do
  printf '\n==> raqib watchlist check "%s" (samples/watchlists/demo.csv)\n' "$read"
  $raqib watchlist --db "$db" --actor demo check "$read"
done

printf '\n==> live node: the scene as camera "gate", console on 127.0.0.1\n'
node=var/demo-node
rm -rf "$node"
mkdir -p "$node"
cp "$db" "$node/watchlist.db"
password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
RAQIB_DATA_DIR=$node RAQIB_PASSWORD=$password $raqib user add demo --role admin >/dev/null
port=${RAQIB_DEMO_PORT:-8080}
printf 'console: http://127.0.0.1:%s/  user: demo  password: %s  (this run only)\n' "$port" "$password"
printf 'running for %s s (RAQIB_DEMO_SECONDS); Ctrl-C stops it\n' "${RAQIB_DEMO_SECONDS:-120}"
RAQIB_DATA_DIR=$node $raqib run --camera "gate=$scene/scene.mp4" --listen "127.0.0.1:$port" \
  --for "${RAQIB_DEMO_SECONDS:-120}" --health-every 30
