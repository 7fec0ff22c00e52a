#!/usr/bin/env bash
# Make the Debian base image Dockyard's image builds on, on this machine, with no registry:
# debootstrap a minimal Debian (minbase + python3) into a directory, pack it as a tarball kept in
# a cache directory outside the repository, and `docker import` it.
#
#   scripts/make-base-image.sh [TAG]       # default dockyard-base:$DEBIAN_SUITE
#
# DEBIAN_SUITE (default: this machine's, e.g. bookworm: its python3 must be the Python the
# wheels are built for), DEBIAN_MIRROR (default: the mirror apt uses here), DOCKYARD_CACHE_DIR
# (default ~/.cache/dockyard). An image already present under TAG is left as it is.
set -euo pipefail

suite="${DEBIAN_SUITE:-$(. /etc/os-release && echo "${VERSION_CODENAME:?}")}"
tag="${1:-dockyard-base:${suite}}"
cache_dir="${DOCKYARD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dockyard}"
arch="$(dpkg --print-architecture)"
# python3 is what the image runs on, ca-certificates for HTTPS to S3 and webhooks, tzdata for
# zoneinfo, libmagic1 for python-magic (django-storage-swift imports it: STORAGE_BACKEND=swift).
# libldap-2.5-0 and libsasl2-2: python-ldap (requirements-ldap.txt, LDAP sign-in) links them.
packages="python3,ca-certificates,tzdata,libmagic1,libldap-2.5-0,libsasl2-2"
# The package list is part of the name: a changed list never reuses an older tarball.
tarball="${cache_dir}/base-${suite}-${arch}-$(echo "$packages" | sha256sum | cut -c1-8).tar"

if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "base image $tag is present"
  exit 0
fi

# The mirror this machine's apt already uses for the suite (deb822 .sources or one-line lists).
apt_mirror() {
  local file
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    awk -v suite="$suite" '
      /^URIs:/ { uri = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) found = uri }
      /^$/ { if (found) { print found; exit } uri = "" }
      END { if (found) print found }' "$file" | head -n1
  done
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$file" ] || continue
    awk -v suite="$suite" '$1 == "deb" && $3 == suite { print $2; exit }' "$file"
  done
}
mirror="${DEBIAN_MIRROR:-$(apt_mirror | head -n1)}"

if [ ! -s "$tarball" ]; then
  command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install debootstrap" >&2; exit 1; }
  mkdir -p "$cache_dir"
  root="$(mktemp -d "${cache_dir}/rootfs.XXXXXX")"
  trap 'rm -rf "$root" "$tarball.tmp"' EXIT
  echo "debootstrap $suite ($arch) from ${mirror:-the default mirror}"
  started=$SECONDS
  # minbase: dpkg, apt and the essential packages only, and the list above.
  debootstrap --variant=minbase --arch="$arch" --components=main \
    --include="$packages" \
    "$suite" "$root" ${mirror:+"$mirror"} >"${root}.log" 2>&1 \
    || { tail -n 30 "${root}.log" >&2; rm -f "${root}.log"; exit 1; }
  rm -f "${root}.log"
  # What an image never reads: downloaded packages, package lists, documentation, translations.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/* \
    "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
    "$root"/usr/share/locale/* "$root"/var/cache/debconf/*-old "$root"/tmp/*
  find "$root"/usr/lib/python3* -name __pycache__ -prune -exec rm -rf {} +
  chmod 0755 "$root"  # mktemp made it 0700: it becomes the image's /
  tar -C "$root" --numeric-owner -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  echo "debootstrap took $((SECONDS - started)) s; cached as $tarball"
fi

docker import \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/bin/bash"]' \
  "$tarball" "$tag" >/dev/null
echo "base image $tag imported from $tarball"
