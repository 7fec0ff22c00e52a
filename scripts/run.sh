#!/usr/bin/env bash
# Serve Dockyard: gunicorn (portal + registry) and a Celery worker with its beat, side by side.
# Ctrl-C (or SIGTERM) stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export HOST="${HOST:-127.0.0.1}" PORT="${PORT:-8000}"
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

pids=()
stop() {
  trap - INT TERM EXIT
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

# -B embeds beat (the delivery sweep); --concurrency 2 keeps the embedded default small.
.venv/bin/celery -A config worker -B --loglevel "${CELERY_LOG_LEVEL:-warning}" \
  --concurrency "${CELERY_CONCURRENCY:-2}" --hostname "dockyard-${PORT}@%h" &
pids+=($!)
.venv/bin/gunicorn -c config/gunicorn.py config.wsgi &
pids+=($!)
echo "Dockyard on http://${HOST}:${PORT}/ (registry at /v2/). Ctrl-C stops it."
wait -n "${pids[@]}"
