#!/usr/bin/env bash
# Installs what the test suite needs beyond Node: pnpm, and the PostgreSQL server binaries, Redis and NGINX
# that the test kit starts on free ports, Chromium for the web client's browser tests, openssl for the
# self-signed TLS pair of the NGINX tests, and promtool/amtool (Debian's prometheus and
# prometheus-alertmanager) for the alert rules (their services are not started by the tests).
# Idempotent: installs only what is missing.
set -euo pipefail

missing=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# Debian puts nginx in /usr/sbin, which is not on every user's PATH.
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# The TLS tests make a self-signed pair with scripts/make-dev-certificate.sh.
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# The alert rules are checked and unit-tested with promtool, the Alertmanager config with amtool.
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
# Emoji in the browser tests' pages and the README's screenshots (📎, 👍) instead of empty boxes.
[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || missing+=(fonts-noto-color-emoji)
# The nodes' listen backlog is read with ss.
command -v ss >/dev/null 2>&1 || missing+=(iproute2)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing system packages: ${missing[*]} (run: sudo apt-get install -y ${missing[*]})" >&2
    exit 1
  fi
  echo "installing system packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# The example bot of the WebSocket gateway (examples/bots/python) runs in the tests: Python with `websockets`.
command -v python3 >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-pip; }
if ! python3 -c 'import sys, websockets; sys.exit(0 if int(websockets.__version__.split(".")[0]) >= 15 else 1)' >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check 'websockets>=15,<18' \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages 'websockets>=15,<18'
fi

# The pnpm this project pins (package.json "packageManager"): a newer major installed globally tries to
# fetch the pinned one for every platform and fails where only the npm registry is reachable.
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null | cut -d. -f1)" != "10" ]; then
  npm install -g pnpm@10
fi
