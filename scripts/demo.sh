#!/usr/bin/env bash
# `make demo`: build the release binary, show what the node will use on this machine, load the
# sample watchlist and match a few plate reads against it. (Setup has already run.) As the
# pipeline lands, this script grows to generate the sample scene, start the node with its console
# on 127.0.0.1 and replay the sample.
set -euo pipefail
cd "$(dirname "$0")/.."
export RAQIB_CACHE_DIR=${RAQIB_CACHE_DIR:-$PWD/.cache}
raqib=target/release/raqib
db=var/demo-watchlist.db
printf '==> building raqib (release)\n'
cargo build --locked --release --quiet -p raqib
printf '\n==> raqib doctor\n'
$raqib doctor
printf '\n==> sample watchlist (samples/watchlists/demo.csv) into %s\n' "$db"
$raqib watchlist --db "$db" --actor demo --reason "make demo" import samples/watchlists/demo.csv
$raqib watchlist --db "$db" list
for read in "12345 | ب | 6" "12345-ت-6" "88 ا 7" "A8-BB0-CD" "77777-ب-1"; do
  printf '\n==> raqib watchlist check "%s"\n' "$read"
  $raqib watchlist --db "$db" --actor demo check "$read"
done
