#!/usr/bin/env bash
# Installs what sqbackup needs to build, run and test, when it is missing:
# the C libraries, the squashfs oracles used by tests, moto (the S3 test server) and, with
# --test, nginx and openssl (the TLS test servers), systemd and man-db (the install tests).
set -euo pipefail

packages=(libfuse3-dev fuse3 libsquashfs-dev libcurl4-openssl-dev libxxhash-dev pkg-config
          squashfs-tools squashfs-tools-ng squashfuse attr python3 python3-pip)
# The HTTPS tests make a private CA with openssl and terminate TLS with nginx; the install tests
# check the systemd units with systemd-analyze and render the man page with man.
if [ "${1:-}" = "--test" ]; then packages+=(nginx openssl systemd man-db); fi
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ "${1:-}" = "--test" ]; then
  if ! python3 -c 'import moto.server, flask' 2>/dev/null; then
    echo "installing: moto[server] (S3 test server)"
    python3 -m pip install -q 'moto[server]>=5.1,<6' 2>/dev/null \
      || python3 -m pip install -q --break-system-packages 'moto[server]>=5.1,<6'
  fi
fi
