# Dockyard: `make run` serves the embedded default; `make test` runs the whole suite.
SHELL := /bin/bash
PY := .venv/bin/python
PIP := .venv/bin/pip

.PHONY: help setup run worker image test test-fast lint fmt check certs backup bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

.venv/.installed: requirements.txt
	test -x $(PY) || python3 -m venv .venv
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt
	touch $@

.venv/.installed-dev: .venv/.installed requirements-dev.txt
	$(PIP) install -q -r requirements-dev.txt
	touch $@

setup: .venv/.installed  ## create .venv, install, migrate
	$(PY) manage.py migrate --noinput

run: .venv/.installed  ## serve portal + registry with gunicorn and a Celery worker on HOST:PORT
	./scripts/run.sh

worker: .venv/.installed  ## a Celery worker with beat (production: needs REDIS_URL)
	.venv/bin/celery -A config worker -B --loglevel info

image: .venv/.installed  ## container image dockyard:latest (a local Debian base unless BASE_IMAGE=...)
	./scripts/build-image.sh dockyard:latest

test: .venv/.installed-dev  ## install test needs (apt too); unit layer on SQLite, end-to-end on PostgreSQL
	./scripts/test.sh

test-fast: .venv/.installed-dev  ## the unit layer only, on SQLite
	.venv/bin/pytest -m "not e2e" -q

lint: .venv/.installed-dev  ## ruff check and format check
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

fmt: .venv/.installed-dev  ## ruff fix and format
	.venv/bin/ruff check --fix . && .venv/bin/ruff format .

check: lint  ## lint + manage.py check + missing migrations + tests
	$(PY) manage.py check && $(PY) manage.py makemigrations --check --dry-run && $(MAKE) test

# CERT_HOSTS names the certificate (HOST is `make run`'s bind address; HOST still works here).
certs: .venv/.installed  ## self-signed TLS certificate (make certs CERT_HOSTS=registry.lan,10.0.0.5)
	@if [ -n "$(HOST)" ] && [ -z "$(CERT_HOSTS)" ]; then echo "make certs: HOST=... is deprecated here, use CERT_HOSTS=... (HOST is the bind address of make run)" >&2; fi
	$(PY) manage.py make_certs --host "$(or $(CERT_HOSTS),$(HOST),localhost)" --port "$(or $(PORT),8000)" --out "$(or $(DATA_DIR),var)/tls"

backup: .venv/.installed  ## back up database, blobs and keys into DEST (default var/backups/<time>)
	$(PY) manage.py backup "$(or $(DEST),var/backups/$(shell date -u +%Y%m%dT%H%M%SZ))"

bench: .venv/.installed-dev  ## push/pull/manifest benchmark against the reference registry
	$(PY) bench/run.py

clean:  ## remove the virtualenv and local data
	rm -rf .venv var
