# The embedded default's steps, sourced by scripts/run.sh (`make run`) and scripts/dockyard (the
# container image) so both serve alike. Expects python, gunicorn and celery on PATH.

# The first administrator from DJANGO_SUPERUSER_*, else how to create one ($1: that command).
first_admin() {
  if [ -n "${DJANGO_SUPERUSER_USERNAME:-}" ] && [ -n "${DJANGO_SUPERUSER_PASSWORD:-}" ]; then
    python manage.py ensure_superuser
  else
    echo "No admin yet? Create one with: $1"
    echo "(or set DJANGO_SUPERUSER_USERNAME, DJANGO_SUPERUSER_PASSWORD and DJANGO_SUPERUSER_EMAIL)"
  fi
}

# A Celery worker's options. Its pool is threads: deliveries wait on the network, and a prefork
# pool's shutdown hung for over a minute.
celery_worker_args=(--pool threads --concurrency "${CELERY_CONCURRENCY:-2}"
  --loglevel "${CELERY_LOG_LEVEL:-warning}")

# gunicorn and a Celery worker with beat embedded (-B: one installation, one beat), supervised:
# scripts/supervise.py restarts whichever dies and, on SIGTERM or Ctrl-C, stops both within
# STOP_GRACE_SECONDS (default 10). $1: the worker's node name.
serve_web_and_worker() {
  # Both write metrics to one directory that /metrics adds up (config/metrics.py), wiped once
  # here (its *.db files only), not when the supervisor restarts one of them.
  export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-${DATA_DIR:-var}/metrics}"
  mkdir -p -m 700 "$PROMETHEUS_MULTIPROC_DIR"
  PROMETHEUS_MULTIPROC_DIR="$(cd "$PROMETHEUS_MULTIPROC_DIR" && pwd)"
  find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -name '*.db' -type f -delete
  exec python scripts/supervise.py \
    web gunicorn -c config/gunicorn.py config.wsgi :: \
    worker celery -A config --quiet worker -B "${celery_worker_args[@]}" --hostname "$1"
}
