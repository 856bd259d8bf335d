# dixian — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_WORKSPACE ?= demo-workspace
export DIXIAN_TEST_PG_URL ?= postgresql+psycopg://dixian:dixian@127.0.0.1:5432/dixian_test

.PHONY: install system-deps postgres demo test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

system-deps:
	bash scripts/ensure-system-deps.sh

postgres: system-deps
	bash scripts/ensure-postgres.sh

demo: install
	bash scripts/demo.sh $(DEMO_WORKSPACE)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

pytest: install postgres
	$(BIN)/pytest -n 2 --dist loadgroup

test: lint typecheck pytest

bench: install postgres
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(DEMO_WORKSPACE) .pytest_cache .mypy_cache .ruff_cache
