# Dockyard's container image. `make image` builds it as dockyard:latest with no registry access:
# the base is a Debian made on this machine (scripts/make-base-image.sh; BASE_IMAGE names another
# with python3 of the same major.minor), the Python packages are wheels fetched beforehand into
# build/wheels (scripts/build-image.sh).
#
#   docker run -d -p 5000:5000 -v /storage/dockyard:/data dockyard
#
# is the embedded default (SQLite, blobs and keys under /data, worker inside); with DATABASE_URL,
# REDIS_URL and STORAGE_BACKEND the same image runs `dockyard web`, `worker`, `beat`, `migrate`.
#
# Few instructions on purpose: the classic builder makes a container per instruction, and on the
# vfs storage driver (the tests' engine) each one is a full copy of the file system so far.
ARG BASE_IMAGE=dockyard-base:bookworm

FROM ${BASE_IMAGE} AS build
COPY . /app
# pip runs from its own wheel and is not installed: the final image carries no pip, no
# compiler, no wheels. Static files are collected and bytecode compiled here, into the image
# (not into /data); the keys settings generate on import go to a scratch DATA_DIR. Settings
# make files private (umask 077): the image's files are made readable to the service account.
RUN set -e; cd /app \
 && python3 -m venv --without-pip .venv \
 && set -- build/wheels/pip-*.whl \
 && .venv/bin/python "$1/pip" install --quiet --root-user-action=ignore --no-index \
      --find-links build/wheels -r requirements.txt -r requirements-ldap.txt \
 && rm -rf build \
 && DATA_DIR=/tmp/build-data STATIC_ROOT=/app/static-collected \
      .venv/bin/python manage.py collectstatic --noinput -v0 \
 && rm -rf /tmp/build-data \
 && .venv/bin/python -m compileall -q -j 0 config hub registry_api webhooks scripts \
 && ln -s ../../scripts/dockyard .venv/bin/dockyard \
 && chmod -R u=rwX,go=rX /app

FROM ${BASE_IMAGE}
RUN groupadd --gid 1000 dockyard \
 && useradd --uid 1000 --gid dockyard --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin dockyard \
 && install -d -o dockyard -g dockyard -m 0700 /data
ENV PATH=/app/.venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    DATA_DIR=/data \
    STATIC_ROOT=/app/static-collected \
    HOST=0.0.0.0 \
    PORT=5000 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
EXPOSE 5000
VOLUME /data
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["dockyard", "healthcheck"]
# Starts as root only to hand /data to the dockyard account, then runs as that account
# (setpriv); PID 1 is then gunicorn, Celery or the supervisor, each stopping cleanly on SIGTERM.
ENTRYPOINT ["dockyard"]
COPY --from=build /app /app
