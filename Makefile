# ordertrail: `make run` sets up and starts the service with a demo; `make test` runs the suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# axe-core (npm) checks every page's accessibility in the browser tests; kept out of git.
AXE := .cache/axe/node_modules/axe-core/axe.min.js

.PHONY: run test test-sqlite test-postgres lint bench setup clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(AXE):
	npm install --prefix .cache/axe --no-audit --no-fund --silent axe-core@4.14.1

setup: $(STAMP) $(AXE)

# `make run PORT=8080` serves the demo on another port.
PORT ?= 8000
run: $(STAMP)
	$(BIN)/ordertrail demo --serve --port $(PORT)

# The whole suite on SQLite, then on PostgreSQL when a server answers at 127.0.0.1:5432
# (CI sets ORDERTRAIL_REQUIRE_POSTGRES=1 so that a missing server fails instead of skipping).
test: $(STAMP) $(AXE)
	$(BIN)/python -m pytest
	@if $(BIN)/python -c "import psycopg; psycopg.connect('host=127.0.0.1 port=5432 user=postgres dbname=postgres', connect_timeout=3).close()" 2>/dev/null; then \
		ORDERTRAIL_TEST_DATABASE=postgresql $(BIN)/python -m pytest; \
	elif [ -n "$$ORDERTRAIL_REQUIRE_POSTGRES" ]; then echo "PostgreSQL is not reachable at 127.0.0.1:5432" >&2; exit 1; \
	else echo "PostgreSQL not reachable: suite ran on SQLite only (make test-postgres to insist)"; fi

test-sqlite: $(STAMP) $(AXE)
	$(BIN)/python -m pytest

test-postgres: $(STAMP) $(AXE)
	ORDERTRAIL_TEST_DATABASE=postgresql $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

# Needs a PostgreSQL server at 127.0.0.1:5432 (or ORDERTRAIL_BENCH_PG_URL, or --db sqlite) and wrk.
bench: $(STAMP)
	@command -v wrk >/dev/null || { echo "make bench drives the lookups with wrk: apt-get install -y wrk" >&2; exit 1; }
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var
