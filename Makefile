# raqib: the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help setup demo test doctor baseline bench bench-density fuzz train-plate-ocr train-plate-ocr-v12 train-plate-ocr-v15 train-plate-ocr-v10 ocr-data-48 train-venv train-plate-det train-plate-det-closeup train-plate-check train-plate-check-mined

help:
	@echo "make demo   install what is missing, build, and run the node's checks on this machine"
	@echo "make test   fmt, clippy, unit + integration tests (runs setup first)"
	@echo "make setup  only install / fetch what is missing (idempotent)"
	@echo "make bench  model latency, then the sample scene end to end (plate detector and text detector), each next to the plain Python baseline (makes .cache/baseline-venv)"
	@echo "make bench-density  end-to-end fps at 0, about 1 and about 3 plates per frame, plate detector next to text detector"
	@echo "make fuzz   coverage-guided fuzzing of every input parser, FUZZ_SECONDS (600) each (nightly Rust; installs cargo-fuzz)"
	@echo "make train-plate-ocr  re-train the plate recogniser (needs ../shared/data; about 25 minutes of data, then 35 of training on 2 cores; resumable)"
	@echo "make train-plate-det  train the plate detector from scratch (needs ../shared/data; about 60 minutes on 2 cores; resumable)"
	@echo "make train-plate-check  train the detector's second stage, the plate checker (needs ../shared/data; about 40 minutes on 2 cores; resumable)"

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
	  --localiser detector --localiser text --python .cache/baseline-venv/bin/python --json var/bench.json

# Coverage-guided fuzzing (libFuzzer through cargo-fuzz, nightly Rust) of the targets in fuzz/src:
# each runs FUZZ_SECONDS from the repository's corpus (fuzz/corpus/<target>, read only) and a
# scratch corpus under .cache/fuzz; a crash stops the run and leaves its input under
# fuzz/libfuzzer/artifacts/<target>/ (add it to fuzz/corpus/<target>/ once fixed, so make test
# replays it). make test runs the same targets on stable Rust over the corpus (fuzz/tests/corpus.rs).
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?= plate_text plate_import person_import config image api
fuzz:
	@command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
	@set -o pipefail; for t in $(FUZZ_TARGETS); do mkdir -p .cache/fuzz/$$t; \
	  echo "==> fuzz $$t for $(FUZZ_SECONDS) s"; \
	  cargo +nightly fuzz run --fuzz-dir fuzz/libfuzzer $$t .cache/fuzz/$$t fuzz/corpus/$$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 -print_final_stats=1 2>&1 | tail -n 12 || exit 1; done

# Frames per second against plate density, the way LPR SDKs publish it: sample scenes of 20 s
# with no vehicle, 8 (the bench scene's default, about 1.2 plates per frame) and 21 (about 3).
bench-density: setup
	@cargo build --locked --release --quiet -p raqib
	@for v in 0 8 21; do test -s var/samples/density$$v/truth.json || \
	  target/release/raqib samples make --out var/samples/density$$v --seconds 20 --seed 1 --vehicles $$v -q; done
	@target/release/raqib bench video var/samples/density0/scene.mp4 var/samples/density8/scene.mp4 \
	  var/samples/density21/scene.mp4 --localiser detector --localiser text --json var/bench-density.json

# Re-trains the plate recogniser deterministically and writes models/weights/plate-ocr.onnx
# (then update its sha256 in models/manifest.toml). See training/plate_ocr/MODEL_CARD.md.
# v13 (shipped): v12's convolutions and head (kept as training/plate_ocr/init/plate-ocr-v12.onnx,
# the start) plus a bidirectional GRU of 96 units per direction over the feature row, whose
# output layer starts at zero (the start computes exactly v12), trained 1 epoch on v12's data
# (48 x 240: 30 000 synthetic plates, real views of every real training plate (UM6P close-ups,
# Moroccan scenes, OpenALPR br/eu, US crops) and real-glyph Moroccan plates; the one split rule).
# Every step skips its output when it is already there, and train.py resumes from its checkpoint,
# so an interrupted run continues where it stopped when the same target is run again.
DATA ?= ../shared/data
OCR = cd training/plate_ocr && nice ../../.cache/train-venv/bin/python
OCR_THREADS ?= 1
OCR48 = cd training/plate_ocr && RAQIB_OCR_INPUT=48x240 nice ../../.cache/train-venv/bin/python
train-venv:
	@test -x .cache/train-venv/bin/python || python3 -m venv .cache/train-venv
	@.cache/train-venv/bin/pip install -q -r training/plate_ocr/requirements.txt

ocr-data-48: train-venv
	@test -s training/plate_ocr/.cache/ds48/val_synth.npz || ($(OCR48) gen.py --data $(abspath $(DATA)) --synthetic 30000 --real-per-item 0 --out .cache/ds48)
	@test -s training/plate_ocr/.cache/real48/train.npz || ($(OCR48) realviews.py --data $(abspath $(DATA)) --plain 40 --tilted 20 --out .cache/real48)
	@test -s training/plate_ocr/.cache/glyph48/train.npz || ($(OCR48) glyphs.py --data $(abspath $(DATA)) --per-plate 60 --out .cache/glyph48)
	@test -s training/plate_ocr/.cache/ft48/train.npz || ($(OCR48) mix.py --synthetic-from .cache/ds48 --synthetic-count 30000 \
		--real-from .cache/real48 --real-synthetic-count 0 --extra-from .cache/glyph48 --val-from .cache/ds48 --out .cache/ft48)

train-plate-ocr: ocr-data-48
	@$(OCR48) train.py --ds .cache/ft48 --epochs 1 --lr 1e-3 --threads $(OCR_THREADS) --context 96 --init-onnx init/plate-ocr-v12.onnx --out .cache/plate_ocr13.onnx
	@cp training/plate_ocr/.cache/plate_ocr13.onnx models/weights/plate-ocr.onnx
	@sha256sum models/weights/plate-ocr.onnx

# Experiment v15 (2026-12-07, see the model card): v13 fine-tuned 1 epoch on v13's data plus 12 000
# synthetic Brazilian and US plates (80 % of the Brazilian ones Mercosul, 70 % of the two-group US
# ones with a graphic between the groups, which real US plates print where digits get read in).
# Needs v13's checkpoint from `make train-plate-ocr`. Resumable; does not touch models/weights.
train-plate-ocr-v15: ocr-data-48
	@test -s training/plate_ocr/.cache/emb48/train.npz || ($(OCR48) gen.py --data $(abspath $(DATA)) --synthetic 12000 \
		--real-per-item 0 --kind-weights 0,0,50,50 --mercosur-share 0.8 --us-emblems 0.7 --seed 31 --out .cache/emb48)
	@test -s training/plate_ocr/.cache/ft15/train.npz || ($(OCR48) mix.py --synthetic-from .cache/ds48 --synthetic-count 30000 \
		--real-from .cache/real48 --real-synthetic-count 0 --extra-from .cache/glyph48 --extra-from .cache/emb48 \
		--val-from .cache/ds48 --out .cache/ft15)
	@$(OCR48) train.py --ds .cache/ft15 --epochs 1 --lr 5e-4 --threads 2 --context 96 --init .cache/plate_ocr13.onnx.pt \
		--out .cache/plate_ocr15.onnx

# v12's recipe (48 x 240, convolutional head only, from v10), kept to reproduce v13's start.
train-plate-ocr-v12: ocr-data-48
	@$(OCR48) train.py --ds .cache/ft48 --epochs 2 --lr 1e-3 --threads $(OCR_THREADS) --init-onnx init/plate-ocr-v10.onnx --out .cache/plate_ocr48.onnx

# v10's recipe (32 x 160, fine-tuned from v6), kept to reproduce v12's starting point.
train-plate-ocr-v10: train-venv
	@test -s training/plate_ocr/.cache/ds10/val_synth.npz || ($(OCR) gen.py --data $(abspath $(DATA)) --synthetic 30000 --real-per-item 0 --out .cache/ds10)
	@test -s training/plate_ocr/.cache/real10/train.npz || ($(OCR) realviews.py --data $(abspath $(DATA)) --plain 40 --tilted 20 --out .cache/real10)
	@test -s training/plate_ocr/.cache/glyph10/train.npz || ($(OCR) glyphs.py --data $(abspath $(DATA)) --per-plate 60 --out .cache/glyph10)
	@test -s training/plate_ocr/.cache/ft10/train.npz || ($(OCR) mix.py --synthetic-from .cache/ds10 --synthetic-count 30000 \
		--real-from .cache/real10 --real-synthetic-count 0 --extra-from .cache/glyph10 --val-from .cache/ds10 --out .cache/ft10)
	@$(OCR) train.py --ds .cache/ft10 --epochs 2 --lr 1e-3 --threads 2 --init-onnx init/plate-ocr-v6.onnx --out .cache/plate_ocr10.onnx

# Trains the plate detector from scratch (training/plate_det/MODEL_CARD.md) and writes
# models/weights/plate-detect.onnx (then update its sha256 in models/manifest.toml). Resumable.
DET_STEPS ?= 3000
train-plate-det: train-venv
	@cargo build --locked --release --quiet -p raqib
	@training/plate_det/frames.sh target/release/raqib training/plate_det/.cache/frames
	@cd training/plate_det && nice ../../.cache/train-venv/bin/python train.py --data $(abspath $(DATA)) \
		--frames .cache/frames --steps $(DET_STEPS) --threads 2 --out .cache/plate_det.onnx
	@cd training/plate_det && ../../.cache/train-venv/bin/python evaluate.py --data $(abspath $(DATA)) --model .cache/plate_det.onnx
	@cp training/plate_det/.cache/plate_det.onnx models/weights/plate-detect.onnx
	@sha256sum models/weights/plate-detect.onnx

# Trains the detector's second stage, the plate checker (training/plate_det/MODEL_CARD.md
# "plate-check"), on the shipped detector's candidates, and writes models/weights/plate-check.onnx
# (then update its sha256 in models/manifest.toml). Resumable: data shards and checkpoints under
# training/plate_det/.cache.
CHECK_SYNTHETIC ?= 8000
CHECK_EPOCHS ?= 8
CHECK_TRAIN = nice ../../.cache/train-venv/bin/python check_train.py --epochs $(CHECK_EPOCHS) --threads 2 \
	--focal 2 --real-negative-weight 4
train-plate-check: train-venv
	@cargo build --locked --release --quiet -p raqib
	@training/plate_det/frames.sh target/release/raqib training/plate_det/.cache/frames
	@cd training/plate_det && nice ../../.cache/train-venv/bin/python check_data.py --data $(abspath $(DATA)) \
		--frames .cache/frames --synthetic $(CHECK_SYNTHETIC) --out .cache/check
	@cd training/plate_det && $(CHECK_TRAIN) --ds .cache/check --out .cache/plate_check.onnx
	@cd training/plate_det && ../../.cache/train-venv/bin/python check_tune.py --data $(abspath $(DATA)) \
		--checker .cache/plate_check.onnx
	@cp training/plate_det/.cache/plate_check.onnx models/weights/plate-check.onnx
	@sha256sum models/weights/plate-check.onnx

# Experiment (not shipped, see training/plate_det/MODEL_CARD.md "Hard negatives"): a second round
# of the checker with the hard negatives the first round gets wrong on the training photos
# (check_mine.py), alone and averaged with the first round (check_average.py). Writes nothing
# under models/; check_tune.py prints the training-split figures.
CHECK_MINED_WEIGHT ?= 4
CHECK_LOOSE ?= 0
train-plate-check-mined: train-plate-check
	@cd training/plate_det && nice ../../.cache/train-venv/bin/python check_mine.py --data $(abspath $(DATA)) \
		--checker .cache/plate_check.onnx --out .cache/check-mined --loose $(CHECK_LOOSE)
	@cd training/plate_det && $(CHECK_TRAIN) --ds .cache/check --ds .cache/check-mined \
		--mined-weight $(CHECK_MINED_WEIGHT) --out .cache/plate_check_r2.onnx
	@cd training/plate_det && ../../.cache/train-venv/bin/python check_average.py .cache/plate_check.onnx.ckpt \
		.cache/plate_check_r2.onnx.ckpt --out .cache/plate_check_avg.onnx
	@cd training/plate_det && for m in r2 avg; do ../../.cache/train-venv/bin/python check_tune.py \
		--data $(abspath $(DATA)) --checker .cache/plate_check_$$m.onnx --setting 0.4,6,0.8,0.5; done

# Experiment (not shipped, see training/plate_det/MODEL_CARD.md "v2"): the shipped model
# fine-tuned with zoomed close-ups and the UM6P close-ups; resumable like the above.
train-plate-det-closeup: train-plate-det
	@cd training/plate_det && nice ../../.cache/train-venv/bin/python train.py --data $(abspath $(DATA)) \
		--frames .cache/frames --steps $(DET_STEPS) --lr 2e-3 --threads 2 --init .cache/plate_det.onnx.ckpt \
		--closeup 0.2 --out .cache/plate_det2.onnx
	@cd training/plate_det && ../../.cache/train-venv/bin/python evaluate.py --data $(abspath $(DATA)) --model .cache/plate_det2.onnx
