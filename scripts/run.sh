#!/usr/bin/env bash
# Serve Dockyard: gunicorn (portal + registry) and a Celery worker with its beat, side by side,
# supervised (scripts/supervise.py). Ctrl-C (or SIGTERM) stops both. The URL is printed by
# gunicorn (config/gunicorn.py) once it answers.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
# The project's .env (or DOCKYARD_ENV_FILE) first, so the defaults below and every process
# started here see its values; what the environment already sets wins.
dotenv_exports="$($PY -m config.env)"
eval "$dotenv_exports"
export HOST="${HOST:-127.0.0.1}" PORT="${PORT:-8000}"
# Before migrating: a taken port is one clear sentence and exit 1, not a restart loop.
$PY -m config.serving check
# Keep each gunicorn thread's database connection between requests: opening one (and its
# SQLite PRAGMAs) per request halved the manifest GETs per second (bench/README.md).
export CONN_MAX_AGE="${CONN_MAX_AGE:-60}"

$PY manage.py migrate --noinput -v0
$PY manage.py collectstatic --noinput -v0
$PY manage.py compilemessages -v0 --ignore='.*' --ignore=var --ignore=test-output || echo "No gettext: English only"
if [ -n "${DJANGO_SUPERUSER_USERNAME:-}" ] && [ -n "${DJANGO_SUPERUSER_PASSWORD:-}" ]; then
  $PY manage.py ensure_superuser
else
  echo "No admin yet? Create one with: .venv/bin/python manage.py createsuperuser"
  echo "(or set DJANGO_SUPERUSER_USERNAME, DJANGO_SUPERUSER_PASSWORD and DJANGO_SUPERUSER_EMAIL)"
fi

# The supervisor restarts whichever process dies (the other keeps serving) and, on SIGTERM or
# Ctrl-C, stops both within STOP_GRACE_SECONDS (default 10), killing what still runs then.
# The worker's pool is threads: deliveries wait on the network, and a prefork pool's shutdown
# hung for over a minute. -B embeds beat (the periodic sweeps).
exec "$PY" scripts/supervise.py \
  web .venv/bin/gunicorn -c config/gunicorn.py config.wsgi :: \
  worker .venv/bin/celery -A config --quiet worker -B --pool threads --loglevel "${CELERY_LOG_LEVEL:-warning}" \
  --concurrency "${CELERY_CONCURRENCY:-2}" --hostname "dockyard-${PORT}@%h"
