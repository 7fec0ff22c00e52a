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
# A Swift all-in-one (tests/swift.py) and npm for Azurite (tests/azurite.py).
for server in proxy account container object; do
  command -v "swift-$server-server" >/dev/null || need+=("swift-$server")
done
command -v memcached >/dev/null || need+=(memcached)
command -v npm >/dev/null || need+=(npm)
# The multi-host proof (tests/e2e/multihost): network namespaces, its own Redis and PostgreSQL.
command -v ip >/dev/null || need+=(iproute2)
command -v setpriv >/dev/null || need+=(util-linux)
command -v redis-server >/dev/null || need+=(redis-server)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
# A CJK font, so the Chinese browser screenshots show characters, not empty boxes.
[ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || need+=(fonts-wqy-zenhei)
# LDAP sign-in (tests/ldap_server.py): a real slapd, and the headers python-ldap builds against.
command -v slapd >/dev/null || [ -x /usr/sbin/slapd ] || need+=(slapd)
command -v ldapadd >/dev/null || need+=(ldap-utils)
[ -f /usr/include/ldap.h ] || need+=(libldap2-dev)
[ -f /usr/include/sasl/sasl.h ] || need+=(libsasl2-dev)
command -v gcc >/dev/null || need+=(gcc)
compgen -G '/usr/include/python3*/Python.h' >/dev/null || need+=(python3-dev)
# The container image test makes its Debian base with debootstrap (tests/e2e/test_container_image.py).
command -v debootstrap >/dev/null || need+=(debootstrap)
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || need+=(debian-archive-keyring)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# Azurite from the npm registry, outside the repository (tests/azurite.py looks there).
# 3.35.0: later releases ask for Node.js 22.
AZURITE_VERSION=3.35.0
AZURITE_HOME="${AZURITE_HOME:-$HOME/.cache/dockyard/azurite}"
if ! grep -qs "\"version\": \"$AZURITE_VERSION\"" "$AZURITE_HOME/node_modules/azurite/package.json"; then
  echo "installing: azurite@$AZURITE_VERSION into $AZURITE_HOME"
  mkdir -p "$AZURITE_HOME"
  npm install --prefix "$AZURITE_HOME" --no-audit --no-fund --loglevel=error "azurite@$AZURITE_VERSION" >/dev/null
fi
grep -q 'ip6-localhost' /etc/hosts || echo '::1 ip6-localhost' >> /etc/hosts
# python-ldap and django-auth-ldap (optional for `make run`, needed by the LDAP tests), now that
# the headers are there.
"$(dirname "$0")/../.venv/bin/pip" install -q -r "$(dirname "$0")/../requirements-ldap.txt"
