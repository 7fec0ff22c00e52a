#!/usr/bin/env bash
# Serve Dockyard: gunicorn (portal + registry) and a Celery worker with its beat, side by side,
# supervised (scripts/supervise.py). Ctrl-C (or SIGTERM) stops both. The URL is printed by
# gunicorn (config/gunicorn.py) once it answers.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export PATH="$PWD/.venv/bin:$PATH"  # python, gunicorn, celery: this checkout's
# The project's .env (or DOCKYARD_ENV_FILE) first, so the defaults below and every process
# started here see its values; what the environment already sets wins.
dotenv_exports="$($PY -m config.env)"
eval "$dotenv_exports"
export HOST="${HOST:-127.0.0.1}" PORT="${PORT:-8000}"
# shellcheck source=scripts/embedded.sh
. scripts/embedded.sh
# Before migrating: a taken port is one clear sentence and exit 1, not a restart loop.
$PY -m config.serving check
# Keep each gunicorn thread's database connection between requests: opening one (and its
# SQLite PRAGMAs) per request halved the manifest GETs per second (bench/README.md).
export CONN_MAX_AGE="${CONN_MAX_AGE:-60}"

$PY manage.py migrate --noinput -v0
$PY manage.py collectstatic --noinput -v0
$PY manage.py compilemessages -v0 --ignore='.*' --ignore=var --ignore=test-output || echo "No gettext: English only"
first_admin ".venv/bin/python manage.py createsuperuser"
serve_web_and_worker "dockyard-${PORT}@%h"
