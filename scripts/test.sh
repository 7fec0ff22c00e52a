#!/usr/bin/env bash
# The whole suite against real services: the unit layer on SQLite (the embedded default), then
# on PostgreSQL with Redis the end-to-end tests and the unit tests marked `postgres` (those of
# code that takes another path there, and those with concurrent transactions: tests/conftest.py).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-test-deps.sh

export PYTHONUNBUFFERED=1
mkdir -p test-output
.venv/bin/python manage.py compilemessages -v0 --ignore='.*' --ignore=var --ignore=test-output  # *.mo are not in git

echo "== unit layer on SQLite (two processes, each its own test database)"
DATABASE_URL="sqlite:///$(mktemp -d)/test.sqlite3" .venv/bin/pytest -m "not e2e" -q -p no:cacheprovider \
    -n 2 --durations=15

echo "== end-to-end and PostgreSQL-specific tests on PostgreSQL"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/dockyard_${RANDOM}${RANDOM}"
export TEST_REDIS_URL="redis://127.0.0.1:6379/0"
.venv/bin/pytest -m "e2e or postgres" -q -p no:cacheprovider --timeout 900 --durations=40
