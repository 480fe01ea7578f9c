#!/usr/bin/env bash
# Usage: ensure-package.sh COMMAND DEBIAN_PACKAGE
# Make sure COMMAND (a name on PATH or an absolute path) exists: install DEBIAN_PACKAGE with apt when
# we are root, else say the one command to run.
set -euo pipefail
command="$1" package="$2"
if [ -x "$command" ] || command -v "$command" >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing $package (apt-get) ..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "$package" >/dev/null
  exit 0
fi
echo "$package is required: install it with 'sudo apt-get install -y $package' and run make again." >&2
exit 1
