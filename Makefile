# raqib: the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help setup demo test doctor baseline bench train-plate-ocr

help:
	@echo "make demo   install what is missing, build, and run the node's checks on this machine"
	@echo "make test   fmt, clippy, unit + integration tests (runs setup first)"
	@echo "make setup  only install / fetch what is missing (idempotent)"
	@echo "make bench  model latency, then the sample scene end to end, each next to the plain Python baseline (makes .cache/baseline-venv)"
	@echo "make train-plate-ocr  re-train the plate recogniser (needs ../shared/data; about 80 minutes on 2 cores)"

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
	@test -s var/samples/bench/truth.json || target/release/raqib samples make --out var/samples/bench --seconds 20 --seed 1 -q
	@rm -f var/samples/bench/watchlist.db
	@target/release/raqib watchlist --db var/samples/bench/watchlist.db --reason bench import var/samples/bench/watchlist.csv >/dev/null
	@target/release/raqib watchlist --db var/samples/bench/watchlist.db --reason bench import-persons var/samples/bench/persons.json >/dev/null
	@target/release/raqib bench video var/samples/bench/scene.mp4 --watchlist var/samples/bench/watchlist.db \
	  --python .cache/baseline-venv/bin/python --json var/bench.json

# Re-trains the plate recogniser deterministically and writes models/weights/plate-ocr.onnx
# (then update its sha256 in models/manifest.toml). See training/plate_ocr/MODEL_CARD.md.
DATA ?= ../shared/data
train-plate-ocr:
	@test -x .cache/train-venv/bin/python || python3 -m venv .cache/train-venv
	@.cache/train-venv/bin/pip install -q -r training/plate_ocr/requirements.txt
	@cd training/plate_ocr && ../../.cache/train-venv/bin/python gen.py --data $(abspath $(DATA)) --out .cache/ds
	@cd training/plate_ocr && ../../.cache/train-venv/bin/python train.py --ds .cache/ds --out .cache/plate_ocr.onnx
	@# v6 (shipped): a 2-epoch fine-tune of v1 on synthetic + real views + real-glyph plates.
	@cd training/plate_ocr && ../../.cache/train-venv/bin/python realviews.py --data $(abspath $(DATA)) --out .cache/real5
	@cd training/plate_ocr && ../../.cache/train-venv/bin/python glyphs.py --data $(abspath $(DATA)) --out .cache/glyph6
	@cd training/plate_ocr && ../../.cache/train-venv/bin/python mix.py --synthetic-from .cache/ds --synthetic-count 30000 \
		--real-from .cache/real5 --real-synthetic-count 0 --extra-from .cache/glyph6 --val-from .cache/ds --out .cache/ft6
	@cd training/plate_ocr && ../../.cache/train-venv/bin/python train.py --ds .cache/ft6 --epochs 2 --lr 1e-3 \
		--init .cache/plate_ocr.onnx.pt --out .cache/plate_ocr6.onnx
	@cp training/plate_ocr/.cache/plate_ocr6.onnx models/weights/plate-ocr.onnx
	@sha256sum models/weights/plate-ocr.onnx
