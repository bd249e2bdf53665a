# raqib: the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help setup demo test doctor baseline bench

help:
	@echo "make demo   install what is missing, build, and run the node's checks on this machine"
	@echo "make test   fmt, clippy, unit + integration tests (runs setup first)"
	@echo "make setup  only install / fetch what is missing (idempotent)"
	@echo "make bench  model latency next to the plain Python onnxruntime reference (makes .cache/baseline-venv)"

setup:
	@scripts/setup.sh

demo: setup
	@scripts/demo.sh

test: setup
	@scripts/test.sh

doctor: setup
	@target/debug/raqib doctor

# The plain Python reference for benchmarks (never needed by the node or its tests).
baseline: setup
	@test -x .cache/baseline-venv/bin/python || python3 -m venv .cache/baseline-venv
	@.cache/baseline-venv/bin/pip install -q -r benches/baseline/requirements.txt

bench: baseline
	@cargo build --locked --release --quiet -p raqib
	@target/release/raqib bench models --python .cache/baseline-venv/bin/python
