#!/usr/bin/env bash
# Make sure redis-server is installed: through apt when we are root, else say how.
set -euo pipefail
command -v redis-server >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing redis-server (apt-get) ..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq redis-server >/dev/null
  exit 0
fi
echo "redis-server is required: install it with 'sudo apt-get install -y redis-server' and run make again." >&2
exit 1
