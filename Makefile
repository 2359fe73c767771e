# ELMTEX platform. The two commands: `make demo` (run it) and `make test` (test it).
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000
export DJANGO_DEBUG ?= 1

.PHONY: demo test install install-dev migrate lint format bench clean

$(VENV)/.installed: requirements.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --noinput

## Run the platform: install, migrate, seed the demo project, serve on http://$(HOST):$(PORT)/
demo: migrate
	$(PY) manage.py seed_demo
	@echo ""
	@echo "  ELMTEX is running at http://$(HOST):$(PORT)/   (API docs: /api/docs/, admin: /admin/)"
	@echo "  Log in as researcher / reviewer / annotator1 / annotator2 / admin, password: demo-password"
	@echo "  Press Ctrl-C to stop."
	@echo ""
	$(PY) manage.py runserver $(HOST):$(PORT)

## Test: unit, integration and API tests (PostgreSQL when DATABASE_URL is set, else SQLite)
test: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .

format: install-dev
	$(VENV)/bin/ruff format .

bench: install-dev
	$(PY) benchmarks/import_export.py

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache
