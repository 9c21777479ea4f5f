# Two commands on a fresh machine: `make demo` and `make test`. Both create the virtual
# environment and install through constraints.txt (torch is pinned: an unpinned torch pulls CUDA).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

RLLIB_VENV ?= .venv-rllib
RLLIB_PY := $(RLLIB_VENV)/bin/python
RLLIB_STAMP := $(RLLIB_VENV)/.installed

.PHONY: setup test test-slow demo lint bench clean test-rllib

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

# RLlib in its own virtual environment: ray[rllib] pins gymnasium 1.2.2, constraints.txt pins 1.4.0.
# Runs the env's checks (check_env, vector envs, wrappers) on gymnasium 1.2.2, then RLlib's PPO with
# our RLModule and 2 env runners (tests/agents/test_rllib.py, skipped in `make test`). CI runs it after `make test`
# (.ci/run): clean, install included, 202 s on 2 cores (issue 23).
$(RLLIB_STAMP): pyproject.toml constraints-rllib.txt
	$(PYTHON) -m venv $(RLLIB_VENV)
	$(RLLIB_PY) -m pip install -q -c constraints-rllib.txt torch==2.13.0
	$(RLLIB_PY) -m pip install -q -c constraints-rllib.txt -e '.[rllib]'
	touch $(RLLIB_STAMP)

test-rllib: $(RLLIB_STAMP)
	$(RLLIB_PY) -m pytest -q -p no:cacheprovider -m "not slow" \
		tests/env/test_env_*.py tests/agents/test_rllib.py

demo: setup
	$(PY) -m train.demo

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	$(PY) benchmarks/language.py

clean:
	rm -rf $(VENV) $(RLLIB_VENV) .pytest_cache .ruff_cache
