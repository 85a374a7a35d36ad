# Two commands: `make run` and `make test`. Each creates .venv and installs
# everything it needs first (the CPU build of torch before the project, so that
# no unpinned torch requirement pulls the CUDA packages).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TORCH := torch==2.13.0
export SDL_AUDIODRIVER ?= dummy

.PHONY: run test test-all lint bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -e '.[dev,torch]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/evosim evolve classic --steps 20000 --seed 0 --out runs/make-run-$$(date +%Y%m%d-%H%M%S)

test: $(STAMP)
	$(PY) -m pytest -q

test-all: $(STAMP)
	$(PY) -m pytest -q -m "slow or not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check evosim tests

bench: $(STAMP)
	$(VENV)/bin/evosim bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
