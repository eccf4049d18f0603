# One-command set-up: every target creates .venv and installs what it needs.
# torch: 2.14.1 with its matching torchvision 0.29.1 (geoclip and timm need torchvision;
# torch 2.13.0's CPU file has no matching torchvision). On x86_64 pip takes this pair
# from the local wheel cache when present, otherwise from PyPI.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH_PINS := torch==2.14.1 torchvision==0.29.1
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup demo test test-slow lint bench gpu-check clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH_PINS)
	$(BIN)/python -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-* && touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/geovario demo demo-out

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

# The everyday run (a few minutes); test-slow runs the tests marked slow, CI runs both.
test: $(STAMP) lint
	$(BIN)/python -m pytest -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_metrics.py
	$(BIN)/python benchmarks/bench_variogram.py
	$(BIN)/python benchmarks/bench_geoclip.py
	$(BIN)/python benchmarks/bench_loss.py
	$(BIN)/python benchmarks/bench_extract.py
	$(BIN)/python benchmarks/bench_bluemarble.py
	$(BIN)/python benchmarks/bench_serve.py

# The prepared GPU check (benchmarks/gpu_check.py): run it whenever a GPU is lent.
gpu-check: $(STAMP)
	$(BIN)/python benchmarks/gpu_check.py --device cuda

clean:
	rm -rf $(VENV) demo-out
