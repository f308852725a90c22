#!/usr/bin/env bash
# Install the pinned Node tools (configurable-http-proxy, JupyterHub's proxy) into node_modules/ with `npm ci`;
# reinstall only when package.json or package-lock.json changes. The hub finds node_modules/.bin on its PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp=.stamps/node
key=$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)

if [[ -f $stamp && $(cat "$stamp") == "$key" && -x node_modules/.bin/configurable-http-proxy ]]; then
    exit 0
fi

command -v npm >/dev/null 2>&1 || { echo "ensure_node: no npm; run scripts/ensure_system.sh first" >&2; exit 1; }
echo "ensure_node: npm ci"
npm ci --no-audit --no-fund --loglevel=error
mkdir -p .stamps
echo "$key" >"$stamp"
