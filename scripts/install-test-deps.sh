#!/usr/bin/env bash
# Install the OS packages the end-to-end tests drive, when they are missing.
set -euo pipefail
need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v podman >/dev/null || need+=(podman)
command -v skopeo >/dev/null || need+=(skopeo)
command -v chromium >/dev/null || need+=(chromium)
command -v docker-registry >/dev/null || need+=(docker-registry)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v htpasswd >/dev/null || need+=(apache2-utils)
command -v msgfmt >/dev/null || need+=(gettext)
# The container image test makes its Debian base with debootstrap (tests/e2e/test_container_image.py).
command -v debootstrap >/dev/null || need+=(debootstrap)
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || need+=(debian-archive-keyring)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
grep -q 'ip6-localhost' /etc/hosts || echo '::1 ip6-localhost' >> /etc/hosts
