#!/usr/bin/env bash
# Install the OS packages the end-to-end tests drive, when they are missing.
set -euo pipefail
need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v podman >/dev/null || need+=(podman)
command -v skopeo >/dev/null || need+=(skopeo)
command -v chromium >/dev/null || need+=(chromium)
command -v docker-registry >/dev/null || need+=(docker-registry)
# The shipped nginx config runs in front of a test server (tests/e2e/test_proxy.py); compose
# validates deploy/compose.yaml (v1 from Debian when the v2 plugin is absent; it also ships the
# Compose Specification schema); backups of PostgreSQL use pg_dump/pg_restore.
command -v nginx >/dev/null || need+=(nginx)
docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null || need+=(docker-compose)
command -v pg_dump >/dev/null || need+=(postgresql-client)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v htpasswd >/dev/null || need+=(apache2-utils)
command -v msgfmt >/dev/null || need+=(gettext)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
grep -q 'ip6-localhost' /etc/hosts || echo '::1 ip6-localhost' >> /etc/hosts
