# loanwatch: the two commands a newcomer needs are `make demo` and `make test`.
# Everything else here is a step they run; each step can be run on its own.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STACK := deploy/local/stack.sh
COMPILED := build/compiled
# Processes that import the compiled core: build/compiled ahead of the sources, and no
# current directory on sys.path (python -m would put the checkout's pure modules first).
COMPILED_ENV := PYTHONSAFEPATH=1 PYTHONPATH=$(CURDIR)/$(COMPILED)

.DEFAULT_GOAL := help
.PHONY: compiled prometheus help venv stack-up stack-down stack-status migrate lint test test-suite test-reliability reliability-suite demo chromium clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

venv: $(VENV)/.installed ## create .venv and install loanwatch with its dev tools

$(VENV)/.installed: pyproject.toml
	@echo "==> installing loanwatch and its pinned dependencies into $(VENV)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

stack-up: venv ## start local Kafka and PostgreSQL (no-op for what already runs)
	$(STACK) up

stack-down: ## stop what stack-up started
	$(STACK) down

stack-status: ## say whether Kafka and PostgreSQL are up
	$(STACK) status

migrate: venv ## apply sql/ migrations to LOANWATCH_DATABASE_URL
	$(BIN)/loanwatch db migrate

lint: venv ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/mypy

chromium: ## install Debian's chromium (headless checks of the backtest report) when missing
	deploy/local/chromium.sh >/dev/null

test: venv chromium ## the whole suite on a real local stack (what it starts, it stops)
	@status=0; $(STACK) run $(MAKE) --no-print-directory test-suite || status=$$?; \
	if [ $$status -eq 0 ]; then echo "==> make test: passed"; else echo "==> make test: FAILED"; fi; \
	exit $$status

prometheus: ## install Prometheus and promtool (Debian's package) for the tests
	deploy/local/prometheus.sh install

test-suite: migrate lint prometheus compiled
	$(BIN)/pytest
	@echo "==> the unit tests again, on the compiled detectors core"
	LOANWATCH_EXPECT_COMPILED=1 $(COMPILED_ENV) $(BIN)/pytest -q -p no:cacheprovider \
		--import-mode=append -o pythonpath=$(COMPILED) tests/unit
	$(MAKE) --no-print-directory reliability-suite

test-reliability: venv ## crash, outage, broker restart, bad input, overload, security tests
	$(STACK) run $(MAKE) --no-print-directory reliability-suite

reliability-suite: migrate
	$(BIN)/pytest -m reliability -s -p no:cacheprovider tests/reliability

demo: venv ## the main job: stack, a worker, a simulated portfolio, a report (KEEP=1 leaves it up)
	$(BIN)/loanwatch demo $(if $(KEEP),--keep-running,) $(DEMO_ARGS)

compiled: $(COMPILED)/.built ## compile the detectors core with mypyc into build/compiled

# The package's sources and policy file: the build depends on them and copies them beside the
# extensions (the modules left pure, and the package itself).
DETECTORS_FILES := $(shell find detectors -name '*.py' -o -name '*.toml')

$(COMPILED)/.built: setup.py $(DETECTORS_FILES) | venv
	@echo "==> compiling the detectors core (mypyc) into $(COMPILED)"
	rm -rf $(COMPILED)
	LOANWATCH_COMPILE=1 $(BIN)/python setup.py --quiet build_ext --build-lib $(COMPILED) \
		--build-temp build/temp
	cp --parents $(DETECTORS_FILES) $(COMPILED)
	@touch $@

.PHONY: bench
bench: venv compiled ## measure core, pipeline, ceiling, latency, recovery (PURE=1: no compiled core; MALLOC=libc: no jemalloc)
	$(STACK) run $(MAKE) --no-print-directory bench-suite

.PHONY: bench-suite
bench-suite: migrate $(if $(PURE),,compiled)
	preload=$(if $(filter libc,$(MALLOC)),,$$(deploy/local/jemalloc.sh)) && \
	$(if $(PURE),,$(COMPILED_ENV)) LD_PRELOAD=$$preload \
		$(BIN)/loanwatch bench all --out bench $(BENCH_ARGS)

.PHONY: bench-instructions
bench-instructions: compiled ## instructions per event of the compiled core, by cachegrind (Debian's valgrind installed when missing)
	bench/instructions.sh

clean: ## stop the stack and delete its data and the venv (cached Kafka jars stay)
	$(STACK) clean
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
