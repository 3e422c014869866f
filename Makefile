# Set up a virtual environment and run the demo or the tests.
# torch is pinned first: the local CPU wheel; an open torch requirement would pull a multi-GB CUDA build.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH ?= torch==2.13.0
# OpenMP threads that sleep rather than spin while they wait: no cost on an idle machine, several times
# faster on a shared one (README, Development)
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: setup demo test bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "$(TORCH)"

$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(BIN)/pip install --quiet -e ".[all]"
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(BIN)/python -m tsrec demo --out out/demo

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python benchmarks/scan_cpu.py
	$(BIN)/python benchmarks/long_horizon.py --models baselines S4Forecaster --epochs 4 --stride 8
	$(BIN)/python benchmarks/defaults.py --split val --models LRUForecaster --series co2 monthly 150
	$(BIN)/python benchmarks/streaming.py --quick

clean:
	rm -rf $(VENV) out build *.egg-info
