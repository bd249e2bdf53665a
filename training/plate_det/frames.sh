#!/usr/bin/env bash
# Frames of the project's own sample scenes, with exact plate boxes, for the plate detector:
# scenes of other seeds than the bench's (seed 1), day and night, 2 to 8 vehicles in 20 s,
# every 10th frame as JPEG. Deterministic (the scenes are).
#   training/plate_det/frames.sh <raqib binary> <out dir>
set -euo pipefail
RAQIB=$1
OUT=$2
mkdir -p "$OUT"
i=0
for spec in "2 default" "3 3" "4 5" "5 default --night" "6 4" "7 2 --night"; do
  set -- $spec
  seed=$1 vehicles=$2
  shift 2
  if [ "$vehicles" != default ]; then set -- --vehicles "$vehicles" "$@"; fi
  d=$OUT/seed$seed
  if [ -s "$d/done" ]; then continue; fi
  rm -rf "$d"
  "$RAQIB" samples make --out "$d" --seconds 20 --seed "$seed" "$@" -q
  mkdir -p "$d/frames"
  ffmpeg -loglevel error -i "$d/scene.mp4" -vf "select=not(mod(n\,10))" -vsync 0 -q:v 3 "$d/frames/tmp%05d.jpg"
  n=0
  for f in "$d"/frames/tmp*.jpg; do mv "$f" "$d/frames/$(printf %05d $((n * 10))).jpg"; n=$((n + 1)); done
  rm -f "$d/scene.mp4"
  echo ok > "$d/done"
done
