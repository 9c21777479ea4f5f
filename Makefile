# Two commands on a fresh machine: `make demo` and `make test`. Both create the virtual
# environment and install through constraints.txt (torch is pinned: an unpinned torch pulls CUDA).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup test test-slow demo lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt torch==2.13.0
	$(PY) -m pip install -q -c constraints.txt -e '.[all]'
	touch $(STAMP)

test: setup
	$(PY) -m pytest -q -m "not slow" -p no:cacheprovider

test-slow: setup
	$(PY) -m pytest -q -m slow -p no:cacheprovider

demo: setup
	$(PY) -m train.demo

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	$(PY) benchmarks/language.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
