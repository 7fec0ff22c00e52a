#!/usr/bin/env bash
# The whole suite against real services: the unit layer on SQLite (the embedded default),
# then everything, end-to-end included, on PostgreSQL with Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-test-deps.sh

export PYTHONUNBUFFERED=1
mkdir -p test-output
.venv/bin/python manage.py compilemessages -v0 --ignore='.*' --ignore=var --ignore=test-output  # *.mo are not in git

echo "== unit layer on SQLite"
DATABASE_URL="sqlite:///$(mktemp -d)/test.sqlite3" .venv/bin/pytest -m "not e2e" -q -p no:cacheprovider

echo "== whole suite on PostgreSQL"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/dockyard_${RANDOM}${RANDOM}"
export TEST_REDIS_URL="redis://127.0.0.1:6379/0"
.venv/bin/pytest -q -p no:cacheprovider --timeout 900
