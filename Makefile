# Every target works on a fresh machine with only Python 3.11+ and make:
# it creates .venv and installs what it needs first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP_BASE := $(VENV)/.installed-base
STAMP_TEST := $(VENV)/.installed-test
STAMP_BENCH := $(VENV)/.installed-bench

.PHONY: help install generate check-generated lint test test-fast test-services demo bench bench-tools clean

help:
	@echo "make demo             bulk tracking lookup against the embedded fake server"
	@echo "make test             lint, check-generated and the whole test suite"
	@echo "make test-fast        the suite without the slow tests (subprocesses, packaging, mypy)"
	@echo "make generate         regenerate aftership_async/_generated/ and api.md from spec/"
	@echo "make check-generated  fail if aftership_async/_generated/ or api.md is stale"
	@echo "make lint             ruff and mypy --strict"
	@echo "make bench            side-by-side benchmarks (bench/results.md)"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP_BASE): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	@touch $@

$(STAMP_TEST): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $@ $(STAMP_BASE) $(STAMP_BENCH)

$(STAMP_BENCH): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[bench]"
	@touch $@ $(STAMP_BASE)

install: $(STAMP_TEST)

generate: $(STAMP_TEST)
	$(PY) -m codegen --spec-dir spec --out aftership_async

check-generated: $(STAMP_TEST)
	@tmp=$$(mktemp -d) && \
	$(PY) -m codegen --spec-dir spec --out $$tmp/aftership_async --api-md $$tmp/api.md >/dev/null && \
	if diff -r -u -x __pycache__ aftership_async/_generated $$tmp/aftership_async/_generated >$$tmp.diff && diff -u api.md $$tmp/api.md >>$$tmp.diff; then \
		echo "check-generated: aftership_async/_generated/ and api.md are up to date"; rm -rf $$tmp $$tmp.diff; \
	else \
		head -n 40 $$tmp.diff; \
		echo "check-generated: aftership_async/_generated/ or api.md is stale: run 'make generate' and commit the result" >&2; \
		rm -rf $$tmp $$tmp.diff; exit 1; \
	fi

lint: $(STAMP_TEST)
	$(BIN)/ruff check aftership_async aftership_async_generated aftership_async_pytest codegen tests bench
	$(BIN)/ruff format --check --exclude aftership_async/_generated aftership_async aftership_async_generated aftership_async_pytest codegen tests bench
	$(BIN)/mypy

# The Redis limiter's tests run a real redis-server, the proxy tests a real tinyproxy:
# install Debian's packages when they are missing and we can (root with apt-get).
# Otherwise those tests skip, or fail under CI=true.
TEST_SERVICES := redis-server tinyproxy

test-services:
	@missing=""; for tool in $(TEST_SERVICES); do \
		command -v $$tool >/dev/null 2>&1 || missing="$$missing $$tool"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "test-services: installing$$missing (Debian packages)"; \
			DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "test-services:$$missing not found and cannot be installed here" \
				"(needs root and apt-get): their tests will skip (fail under CI=true)"; \
		fi; \
	fi

test: lint check-generated test-services
	$(BIN)/pytest -q

# The inner loop: no lint, and none of the tests marked slow (pyproject.toml's markers).
test-fast: $(STAMP_TEST) test-services
	$(BIN)/pytest -q -m "not slow"

demo: $(STAMP_BASE)
	$(PY) -m aftership_async.demo

# bench (f) runs a real redis-server; the CPU table counts instructions with valgrind.
bench-tools:
	@command -v valgrind >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "bench-tools: installing valgrind (Debian package)"; \
			DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; \
		else \
			echo "bench-tools: valgrind not found and cannot be installed here" \
				"(needs root and apt-get): the instruction counts will be skipped"; \
		fi; \
	}

bench: $(STAMP_BENCH) test-services bench-tools
	$(PY) -m bench

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .pytest_cache .ruff_cache
