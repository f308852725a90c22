#!/usr/bin/env bash
# Create .venv and install the project editable with its test extras; reinstall only when pyproject.toml changes.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
stamp=.stamps/venv
key=$(sha256sum pyproject.toml | cut -d' ' -f1)

# A venv whose interpreter no longer runs (its base Python was removed or upgraded) is rebuilt from scratch.
if [[ -d $venv ]] && ! "$venv/bin/python" -c '' >/dev/null 2>&1; then
    echo "ensure_venv: $venv is broken, recreating it"
    rm -rf "$venv" "$stamp"
fi

if [[ ! -x $venv/bin/python ]]; then
    python=$(command -v python3.11 || command -v python3 || true)
    [[ -n $python ]] || { echo "ensure_venv: no python3.11 or python3; run scripts/ensure_system.sh first" >&2; exit 1; }
    "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || { echo "ensure_venv: $python is older than 3.11" >&2; exit 1; }
    echo "ensure_venv: creating $venv with $python"
    "$python" -m venv "$venv"
    rm -f "$stamp"
fi

if [[ -f $stamp && $(cat "$stamp") == "$key" ]]; then
    exit 0
fi

echo "ensure_venv: installing diemcau[test] into $venv"
PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 "$venv/bin/python" -m pip install -q -e '.[test]'
mkdir -p .stamps
echo "$key" >"$stamp"
