#!/usr/bin/env bash
# A self-signed TLS pair for local use (docker compose, or a test): writes tls.crt and tls.key into the
# directory given (default deploy/tls/, which docker-compose.yml mounts into NGINX and git ignores).
# Browsers will warn: for anything but a laptop, put a real certificate and key there under the same names.
set -euo pipefail
dir="${1:-$(cd "$(dirname "$0")/.." && pwd)/deploy/tls}"
mkdir -p "$dir"
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 365 \
  -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout "$dir/tls.key" -out "$dir/tls.crt" 2>/dev/null
# NGINX in the image runs as its unprivileged `nginx` user (uid 101), which must read both files through
# the read-only mount: a throwaway local key may be world-readable; a real key is better owned by uid 101
# with mode 0400 (docs/ARCHITECTURE.md, "Transport").
chmod 644 "$dir/tls.crt" "$dir/tls.key"
echo "wrote $dir/tls.crt and $dir/tls.key (self-signed for localhost and 127.0.0.1, 365 days)"
