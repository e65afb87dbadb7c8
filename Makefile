# The project's two commands: `make study` and `make test`. Both create .venv and install into it when absent.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PARAMS ?= params/default.yaml
LAB_ARGS ?=
REPLICATION ?= params/replication
DATA_ROOT ?=
STAMP  := $(VENV)/.alnb-installed

.PHONY: study replicate test test-fast lint check lab bench select clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.lock -e ".[test,ray,encoders]"
	@touch $(STAMP)

study: $(STAMP)  ## run the six notebooks of PARAMS and render reports/<study>/*.html
	$(PY) -m alnb study $(PARAMS)

replicate: $(STAMP)  ## every study of REPLICATION (default params/replication), then the synthesis -> reports/<folder>/index.html; DATA_ROOT=<dir> for another data root
	$(PY) -m alnb replicate $(REPLICATION) $(if $(DATA_ROOT),--data-root "$(DATA_ROOT)")

test: lint  ## lint, then the whole test suite (includes a papermill run of params/quick.yaml), one worker per core; prints the 15 slowest tests
	$(PY) -m pytest -n auto --dist worksteal --durations=15

test-fast: $(STAMP)  ## the fast lane while you work: no kernel, subprocess, Ray or multi-trial study (marked slow)
	$(PY) -m pytest -n auto --dist worksteal -m "not slow"

lint: $(STAMP)  ## ruff: lint rules and import order, and the formatter's check (configured in pyproject.toml)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

check: $(STAMP)  ## validate PARAMS without running anything
	$(PY) -m alnb check $(PARAMS)

lab: $(STAMP)  ## JupyterLab on the same environment, opened on notebooks/ (as root: --allow-root); LAB_ARGS="--port=8890 --no-browser"
	$(PY) -m jupyter lab notebooks/ $$(test "$$(id -u)" = 0 && echo --allow-root) $(LAB_ARGS)

select: $(STAMP)  ## which images to label first: make select FOLDER=path BUDGET=50 [METHOD=.. EMBEDDINGS=.. LABELED=.. OUT=..]
	@test -n "$(FOLDER)" -a -n "$(BUDGET)" || { echo "make select: give FOLDER=<images folder> BUDGET=<number>" >&2; exit 2; }
	$(PY) -m alnb select "$(FOLDER)" --budget "$(BUDGET)" $(if $(METHOD),--method "$(METHOD)") \
		$(if $(EMBEDDINGS),--embeddings "$(EMBEDDINGS)") $(if $(LABELED),--labeled "$(LABELED)") \
		$(if $(OUT),--out "$(OUT)") $(if $(SEED),--seed "$(SEED)") $(if $(SIMULATE),--simulate)

bench: $(STAMP)  ## every benchmark as one table (940 s on 2 cores in a fresh clone) -> benchmarks/results/<machine>.csv
	$(PY) benchmarks/run_all.py

clean:  ## remove generated runs and reports (keeps .venv)
	rm -rf runs reports
