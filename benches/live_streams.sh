#!/usr/bin/env bash
# Live streams one machine sustains: `raqib run` with N copies of VIDEO as file cameras (each
# played at its own speed, like a camera, analysed at RATE fps) for SECONDS, for N = 1..MAX;
# prints sampled/analysed/dropped frames per N from <data_dir>/health.json. "Sustained" = no
# camera dropped more than 1 % of its sampled frames.
#   benches/live_streams.sh var/samples/bench/scene.mp4 [MAX=6] [SECONDS=30] [RATE=5]
# LOCALISER=text measures the general text detector instead of the plate detector;
# FULL_FRAME_MS sets analysis.full_frame_interval_ms (default: the [analysis] default); START
# begins at N = START instead of 1.
set -euo pipefail
video=${1:?video}; max=${2:-6}; secs=${3:-30}; rate=${4:-5}
raqib=${RAQIB:-$PWD/target/release/raqib}
export RAQIB_CACHE_DIR=${RAQIB_CACHE_DIR:-$PWD/.cache}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '| streams | sampled | analysed | dropped | drop %% | sustained |\n|---|---|---|---|---|---|\n'
for n in $(seq "${START:-1}" "$max"); do
  cfg="$work/raqib.toml"
  printf '[runtime]\nplate_localiser = "%s"\n' "${LOCALISER:-detector}" > "$cfg"
  if [ -n "${FULL_FRAME_MS:-}" ]; then printf '[analysis]\nfull_frame_interval_ms = %s\n' "$FULL_FRAME_MS" >> "$cfg"; fi
  for i in $(seq 1 "$n"); do
    printf '[[cameras]]\nid = "c%d"\nurl = "%s"\nanalysis_fps = %s\n' "$i" "$(realpath "$video")" "$rate" >> "$cfg"
  done
  RAQIB_DATA_DIR="$work/data$n" "$raqib" --config "$cfg" run --for "$secs" --no-store --health-every 5 >/dev/null 2>"$work/log$n" || { cat "$work/log$n"; exit 1; }
  python3 - "$work/data$n/health.json" "$n" <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))["cameras"]
s = sum(c["frames_sampled"] for c in h); a = sum(c["frames_analysed"] for c in h); d = sum(c["drops"] for c in h)
worst = max(c["drops"] / max(c["frames_sampled"], 1) for c in h)
print(f"| {sys.argv[2]} | {s} | {a} | {d} | {100 * d / max(s, 1):.1f} | {'yes' if worst <= 0.01 else 'no'} |")
PY
done
