# `make demo`, `make test` and `make docs` set everything up on a fresh machine: they create
# .venv when it is missing, install torch (the CPU build unless a GPU is present)
# and the package with its extras, then run.
#
# Overrides:
#   TORCH_SPEC   the torch requirement            (default torch==2.13.0)
#   TORCH_INDEX  an index to take torch from, e.g. https://download.pytorch.org/whl/cpu
#                for the CPU build on a machine without a local wheel, or
#                https://download.pytorch.org/whl/cu128 for a given CUDA build
#   TORCH_GPU=1  install the default (CUDA) build from PyPI even without nvidia-smi

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
TORCH_GPU ?= $(shell command -v nvidia-smi >/dev/null 2>&1 && echo 1)
EXTRAS ?= test,plot,bench,onnx,control,mpc,traffic,econ,docs,scale
PYTEST_ARGS ?=
DEMO_ARGS ?=

.PHONY: demo test docs docs-site bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.torch: | $(PY)
	@if [ -n "$(TORCH_INDEX)" ]; then \
	  $(PY) -m pip install "$(TORCH_SPEC)" --index-url "$(TORCH_INDEX)" --extra-index-url https://pypi.org/simple; \
	elif [ -n "$(TORCH_GPU)" ]; then \
	  $(PY) -m pip install "$(TORCH_SPEC)"; \
	elif $(PY) -m pip install --no-index --no-deps "$(TORCH_SPEC)" 2>/dev/null; then \
	  echo "installed the local CPU wheel of $(TORCH_SPEC)"; \
	else \
	  echo "no local CPU wheel; taking $(TORCH_SPEC) from the PyTorch CPU index"; \
	  $(PY) -m pip install "$(TORCH_SPEC)" --index-url https://download.pytorch.org/whl/cpu \
	    --extra-index-url https://pypi.org/simple; \
	fi
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	$(PY) -m pip install -e ".[$(EXTRAS)]" "$(TORCH_SPEC)"
	touch $@

# One torch thread: the studies train small networks, where extra threads only contend.
demo: $(VENV)/.installed
	MPLBACKEND=Agg OMP_NUM_THREADS=1 $(PY) -m applications all --out results $(DEMO_ARGS)
	@echo "Report: results/report.md"

test: $(VENV)/.installed
	$(PY) -m ruff check .
	MPLBACKEND=Agg $(PY) -m pytest $(PYTEST_ARGS)

# The documentation site, warnings as errors, into site/ (offline: nothing is fetched).
# The application pages come from a fresh full run of the three studies (about 2 min on
# 2 cores), so they cannot go stale; the benchmark page is rebuilt from the committed CSVs
# of benchmarks/results/, each stamped with the commit it was measured at (a benchmark run
# takes many minutes: `make bench`, benchmarks/bench_*.py).
docs: $(VENV)/.installed
	MPLBACKEND=Agg OMP_NUM_THREADS=1 $(PY) docs/gen_applications.py --full
	$(MAKE) docs-site

# The site from the committed application pages (what CI builds: the full run of the
# studies takes minutes, and the tests run their quick versions).
docs-site: $(VENV)/.installed
	MPLBACKEND=Agg $(PY) docs/gen_benchmarks.py
	$(PY) docs/gen_scaling.py
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir site
	@echo "Site: site/index.html"

bench: $(VENV)/.installed
	$(PY) benchmarks/bench_convert.py

clean:
	rm -rf $(VENV) site .pytest_cache .ruff_cache .hypothesis
