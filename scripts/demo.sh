#!/usr/bin/env bash
# `make demo`: build the release binary, show what the node will use on this machine, load the
# sample watchlist and match a few plate reads against it, read the sample plate photos, and
# replay a short video of one against the watchlist. (Setup has already run.) As the
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

printf '\n==> raqib read samples/plates/*.png (plates rendered by training/plate_ocr/samples.py)\n'
$raqib read samples/plates/*.png

video=var/demo-plate.mp4
printf '\n==> a short H.264 video of a Moroccan plate (%s), its plate on the watchlist, replayed\n' "$video"
gst-launch-1.0 -q multifilesrc location=samples/plates/ma-standard.png loop=true num-buffers=20 \
  caps=image/png,framerate=10/1 ! pngdec ! videoconvert ! x264enc ! mp4mux ! filesink location="$video"
plate=$(awk -F'\t' '$1 == "ma-standard.png" { print $2 }' samples/plates/truth.tsv)
$raqib watchlist --db "$db" --actor demo --reason "make demo" add --plate "$plate" --category stolen_vehicle
$raqib replay --watchlist "$db" --report var/demo-report.html "$video"
printf '\nreport: %s (open it in a browser)\n' "$PWD/var/demo-report.html"
