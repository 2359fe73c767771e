# ELMTEX platform. The two commands: `make demo` (run it) and `make test` (test it).
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000
export DJANGO_DEBUG ?= 1

.PHONY: demo worker test install install-dev migrate lint format bench bench-reports clean

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

## Run the platform: install, migrate, then the whole loop (seed the demo project, start the
## broker if needed, the baseline TGI-protocol server and a Celery worker, extract the test
## split, evaluate it) and serve the web app on http://$(HOST):$(PORT)/. Ctrl-C stops everything.
demo: migrate
	$(PY) manage.py run_demo --host $(HOST) --port $(PORT)

## A Celery worker on every queue (inference, evaluation, gpu), for your own runs
worker: install
	$(PY) -m celery -A elmtex_site worker --loglevel INFO

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
	$(PY) benchmarks/runs_evaluation.py

## 60,000 documents, 5 evaluated runs in PostgreSQL (seeds database bench_reports once, ~5 min)
bench-reports: install-dev
	$(PY) benchmarks/reports_exports.py

clean:
	-test -x $(PY) && $(PY) -m elmtex_site.broker stop
	rm -rf $(VENV) var staticfiles .pytest_cache
