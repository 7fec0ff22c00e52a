#!/usr/bin/env bash
# Build Dockyard's container image (`make image`) without reaching any registry from the build:
#   1. the base: BASE_IMAGE if given, else dockyard-base:<suite> made here (make-base-image.sh)
#   2. the wheels of requirements.txt (and pip's own), fetched by this machine's pip into
#      build/wheels, so `pip install --no-index` inside the build needs no network
#   3. translations compiled (*.mo are not in git), then `docker build --network none`
#
#   scripts/build-image.sh [TAG]    # default dockyard:latest; the docker CLI's DOCKER_HOST applies
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-dockyard:latest}"
PY="${PY:-.venv/bin/python}"
started=$SECONDS

if [ -z "${BASE_IMAGE:-}" ]; then
  BASE_IMAGE="dockyard-base:${DEBIAN_SUITE:-$(. /etc/os-release && echo "$VERSION_CODENAME")}"
  ./scripts/make-base-image.sh "$BASE_IMAGE"
fi

# The wheels must suit the base's python3: same major.minor as the Python that fetches them.
base_python="$(docker run --rm --network none --entrypoint python3 "$BASE_IMAGE" \
  -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
host_python="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [ "$base_python" != "$host_python" ]; then
  echo "$BASE_IMAGE has Python $base_python, $PY is $host_python: wheels would not fit" >&2
  exit 1
fi
rm -rf build/wheels && mkdir -p build/wheels
# Binary wheels as published (manylinux: they run on the base's glibc); an sdist-only package
# is built into a wheel here, so the image's build stage needs no compiler.
fetch_wheels() {
  if ! "$PY" -m pip wheel --quiet --wheel-dir build/wheels "$@" >build/pip-wheel.log 2>&1; then
    tail -n 30 build/pip-wheel.log >&2
    exit 1
  fi
}
# requirements-ldap.txt: python-ldap is an sdist, built here against libldap2-dev.
fetch_wheels -r requirements.txt -r requirements-ldap.txt pip
# Markers are evaluated for the Python that fetches (e.g. redis wants async-timeout below
# 3.11.3 only): let the base's own pip resolve from build/wheels, and fetch what it misses.
for _ in 1 2 3 4 5; do
  missing="$(docker run --rm --network none --entrypoint sh -v "$PWD/build/wheels:/wheels:ro" \
    -v "$PWD/requirements.txt:/requirements.txt:ro" "$BASE_IMAGE" -c \
    'set -- /wheels/pip-*.whl; python3 "$1/pip" install --dry-run --quiet --no-index --break-system-packages \
       --find-links /wheels --ignore-installed -r /requirements.txt 2>&1' \
    | sed -n 's/.*No matching distribution found for \([A-Za-z0-9_.-]*\).*/\1/p')" || true
  [ -z "$missing" ] && break
  echo "the base's Python also needs: $missing"
  fetch_wheels $missing
done

"$PY" manage.py compilemessages -v0 --ignore='.*' --ignore=var --ignore=test-output --ignore=build \
  || echo "No gettext (msgfmt): the image is English only"

docker build --network none --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$tag" . \
  ${DOCKER_BUILD_QUIET:+--quiet}
size="$(docker image inspect --format '{{.Size}}' "$tag")"
echo "built $tag on $BASE_IMAGE: $((size / 1000000)) MB, in $((SECONDS - started)) s"
