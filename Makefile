# Two commands: `make run` and `make test`. Each creates .venv and installs what it
# needs first: `run` only evosim and its runtime dependencies (no torch), `test`
# everything, with the pinned CPU build of torch installed before the project so
# that no unpinned torch requirement pulls the CUDA packages. Where pip does not
# find a CPU build by itself (an ordinary Linux machine), say where it is:
#   make test TORCH_INDEX=--index-url=https://download.pytorch.org/whl/cpu
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run
DOCS_STAMP := $(VENV)/.installed-docs
TORCH := torch==2.13.0
TORCH_INDEX ?=
export SDL_AUDIODRIVER ?= dummy

.PHONY: run test test-all lint bench clean showcase story pictures docs

$(STAMP): pyproject.toml setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_INDEX) $(TORCH)
	$(PY) -m pip install --quiet -e '.[dev,torch,rl,ray,sb3,docs]'
	touch $(STAMP) $(RUN_STAMP) $(DOCS_STAMP)

$(RUN_STAMP): pyproject.toml setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $(RUN_STAMP)

# The docs need the API importable with every extra (autodoc), so the full install.
$(DOCS_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,torch,rl,ray,sb3,docs]'
	touch $(DOCS_STAMP)

run: $(RUN_STAMP)
	@if [ "$${SDL_VIDEODRIVER:-}" != dummy ] && [ -n "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]; then \
		echo "opening the live viewer on classic (press ? in the window for the controls)"; \
		$(VENV)/bin/evosim watch classic; \
	else \
		name=make-run-$$(date +%Y%m%d-%H%M%S); \
		echo "no display: evolving classic headless for 30000 steps, then recording a video"; \
		$(VENV)/bin/evosim evolve classic --steps 30000 --seed 0 --out runs/$$name && \
		$(VENV)/bin/evosim record runs/$$name/world-000/final.npz --vs random --seed 1 \
			--steps 1200 --size 1280x480 --out recordings/$$name.mp4 && \
		echo "video (random robots left, evolved right): recordings/$$name.mp4"; \
	fi

# The README's GIF: classic evolved 100000 steps, random vs evolved robots (~1 min).
showcase: $(RUN_STAMP)
	rm -rf runs/showcase
	$(VENV)/bin/evosim evolve classic --steps 100000 --seed 0 --out runs/showcase --quiet
	$(VENV)/bin/evosim record runs/showcase/world-000/final.npz --vs random --seed 1 \
		--steps 600 --steps-per-frame 3 --size 960x360 --fps 20 --out recordings/showcase.gif --force

# The README's story figures: genesis, 8 worlds x 400,000 steps (~4 min on 2 cores),
# its marked plot (docs/genesis.png), the detected stages (docs/genesis-story.txt),
# one short GIF per stage (docs/stage-*.gif) and one GIF of all four
# (docs/story.gif), from the checkpoints at each stage's start in the first world
# that shows all four stages in order. Deterministic: the same files every time.
STORY_RUN := runs/story-genesis
STORY_GIF := --steps-per-frame 2 --size 480x360 --fps 25 --quiet --force
story: $(RUN_STAMP)
	rm -rf $(STORY_RUN)
	$(VENV)/bin/evosim evolve genesis --steps 400000 --worlds 8 --seed 0 --metrics-every 1000 \
		--checkpoint-every 10000 --out $(STORY_RUN) --quiet
	$(VENV)/bin/evosim plot $(STORY_RUN) --out $(STORY_RUN)/plots
	cp $(STORY_RUN)/plots/overview.png docs/genesis.png
	$(VENV)/bin/evosim story $(STORY_RUN) > docs/genesis-story.txt
	cat docs/genesis-story.txt
	for stage in caution fruit speed balance; do \
		$(VENV)/bin/evosim record $(STORY_RUN) --story --stage $$stage --steps 400 \
			$(STORY_GIF) --out docs/stage-$$stage.gif || exit 1; \
	done
	$(VENV)/bin/evosim record $(STORY_RUN) --story --steps 300 $(STORY_GIF) --out docs/story.gif

# The docs' pictures of classic (docs/summary.png, docs/brain.png): 4 worlds x
# 100,000 steps, seed 1 (~1 min), then evosim plot and evosim brain; and a sparse
# brain (docs/sparse-brain.png): classic-sparse, 200,000 steps, seed 1; and the six
# compression techniques on classic, 200,000 steps, seed 1 (docs/compress-kept.png).
# Deterministic.
PICTURES_RUN := runs/pictures-classic
SPARSE_RUN := runs/pictures-sparse
COMPRESS_RUN := runs/pictures-compress
pictures: $(RUN_STAMP)
	rm -rf $(PICTURES_RUN) $(SPARSE_RUN) $(COMPRESS_RUN)
	$(VENV)/bin/evosim evolve classic --steps 100000 --worlds 4 --seed 1 --out $(PICTURES_RUN) --quiet
	$(VENV)/bin/evosim plot $(PICTURES_RUN) --out $(PICTURES_RUN)/plots
	cp $(PICTURES_RUN)/plots/summary.png docs/summary.png
	$(VENV)/bin/evosim brain $(PICTURES_RUN)/world-000/final.npz --best --out docs/brain.png --force
	$(VENV)/bin/evosim evolve classic-sparse --steps 200000 --seed 1 --out $(SPARSE_RUN) --quiet
	$(VENV)/bin/evosim brain $(SPARSE_RUN)/world-000/final.npz --best --out docs/sparse-brain.png --force
	$(VENV)/bin/evosim evolve classic --steps 200000 --seed 1 --out $(COMPRESS_RUN) --quiet
	$(VENV)/bin/evosim compress $(COMPRESS_RUN)/world-000/final.npz --out docs/compress-kept.png

test: $(STAMP)
	$(PY) -m pytest -q

test-all: $(STAMP)
	$(PY) -m pytest -q -m "slow or not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check evosim tests examples docs/conf.py docs/_ext
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy evosim

# The documentation site into docs/_build/html: warnings are errors (-W), every
# cross-reference must resolve (-n), and it is rebuilt from scratch (-E).
docs: $(DOCS_STAMP)
	$(VENV)/bin/sphinx-build -b html -W -n -E --keep-going -q docs docs/_build/html
	@echo "docs: docs/_build/html/index.html"

bench: $(RUN_STAMP)
	$(VENV)/bin/evosim bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info docs/_build
