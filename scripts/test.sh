#!/usr/bin/env bash
# `make test`: formatting, lints, the node's own checks, then every test. Stops at the first
# failing step. Tests that need ONNX Runtime and the models fail (not skip) here, since setup
# has just installed them; tests that need ../shared/data skip with a message when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
export RAQIB_CACHE_DIR=${RAQIB_CACHE_DIR:-$PWD/.cache}
export RAQIB_REQUIRE_RUNTIME=1
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

step() { printf '\n==> %s\n' "$*"; }

step "rustfmt"
cargo fmt --all -- --check

step "clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked --quiet -- -D warnings

step "raqib doctor"
target/debug/raqib doctor

step "doc tests"
cargo test --workspace --doc --locked --quiet

step "unit and integration tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast --status-level fail --final-status-level fail
else
  cargo test --workspace --locked --no-fail-fast
fi
