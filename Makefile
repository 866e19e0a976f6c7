# Muse: `make demo` composes a piece into ./out, `make test` runs every test.
# Both install what is missing first (Debian packages, .venv); the second run skips straight to work.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.muse-installed
SYSTEM_STAMP := $(VENV)/.muse-system
SCALEOUT_STAMP := $(VENV)/.muse-scaleout
# torch: the CPU build by default; a CUDA machine can run `make TORCH_SPEC=torch test`.
TORCH_SPEC ?= torch==2.13.0
APT_PACKAGES := fluidsynth libfluidsynth3 fluid-soundfont-gm csound-soundfont ffmpeg espeak-ng sox g++ python3-dev
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# the scale-out tests start a throw-away PostgreSQL server: the Debian server, only for `make test`
TEST_APT_PACKAGES := postgresql
PYTEST_ARGS ?=

.PHONY: all setup system system-test scaleout demo test bench clean

all: demo

setup: $(STAMP)

# System packages: checked with dpkg, installed only when one is missing.
system:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	python3 -c "import ensurepip" 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# What only the tests need: the PostgreSQL server for the scale-out mode's tests.
system-test: system
	@missing=""; for p in $(TEST_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages for the tests:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# The scale-out extra (Ray Serve, asyncpg, prometheus_client): the tests install it, the default never does.
scaleout: $(SCALEOUT_STAMP)

$(SCALEOUT_STAMP): requirements-scaleout.lock $(STAMP)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-scaleout.lock
	@touch $(SCALEOUT_STAMP)

$(STAMP): pyproject.toml requirements.lock | system
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check "$(TORCH_SPEC)"
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

demo: system $(STAMP)
	$(VENV)/bin/muse compose "happy birthday" --voice piano --seed 2024 -o out
	@ls -1 out

test: system-test $(STAMP) $(SCALEOUT_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# The quick tier while working: every test not marked slow (end-to-end processes, audio, training).
.PHONY: test-fast
test-fast: system-test $(STAMP) $(SCALEOUT_STAMP)
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

# Every benchmark; each rewrites its own section of docs/benchmarks.md. bench-quick: fewer runs and sizes.
bench: system $(STAMP) $(SCALEOUT_STAMP)
	$(PY) -m bench

.PHONY: bench-quick
bench-quick: system $(STAMP) $(SCALEOUT_STAMP)
	$(PY) -m bench --quick

# The package import graph, drawn from the code: docs/import_graph.png and docs/import_graph.txt.
.PHONY: docs
docs: system $(STAMP)
	$(PY) tools/import_graph.py

clean:
	rm -rf out .pytest_cache
