#!/usr/bin/env bash
# `make demo`: build the release binary and show what the node will use on this machine.
# (Setup has already run.) As the pipeline lands, this script grows to generate the sample
# scene, start the node with its console on 127.0.0.1 and replay the sample.
set -euo pipefail
cd "$(dirname "$0")/.."
export RAQIB_CACHE_DIR=${RAQIB_CACHE_DIR:-$PWD/.cache}
printf '==> building raqib (release)\n'
cargo build --locked --release --quiet -p raqib
printf '\n==> raqib doctor\n'
target/release/raqib doctor
printf '\n==> raqib models list\n'
target/release/raqib models list
