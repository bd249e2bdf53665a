# raqib: the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help setup demo test doctor

help:
	@echo "make demo   install what is missing, build, and run the node's checks on this machine"
	@echo "make test   fmt, clippy, unit + integration tests (runs setup first)"
	@echo "make setup  only install / fetch what is missing (idempotent)"

setup:
	@scripts/setup.sh

demo: setup
	@scripts/demo.sh

test: setup
	@scripts/test.sh

doctor: setup
	@target/debug/raqib doctor
