#!/usr/bin/env bash
# Create .venv and install the project editable with its test extras; reinstall only when pyproject.toml changes.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
stamp=.stamps/venv
UV_VERSION=0.13.9
key=$(cat pyproject.toml scripts/ensure_venv.sh | sha256sum | cut -d' ' -f1)

# Staff servers run as unprivileged system users (docs/security/isolation.md), so when root sets up, the venv's
# Python must be one such a user can run: not pyenv's under /root (mode 0700), but e.g. Debian's /usr/bin/python3.11.
runs_for_others() {  # runs_for_others PYTHON: true unless root and user nobody cannot start it
    [[ $(id -u) -ne 0 ]] || runuser -u nobody -- "$1" -c '' >/dev/null 2>&1
}

pick_python() {  # the first Python >= 3.11 that unprivileged users can run, on PATH or in /usr/bin
    local candidate
    for candidate in "$(command -v python3.11)" "$(command -v python3)" /usr/bin/python3.11 /usr/bin/python3; do
        [[ -n $candidate && -x $candidate ]] || continue
        "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || continue
        runs_for_others "$candidate" && { echo "$candidate"; return; }
    done
}

minor() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])'; }

# A venv whose interpreter no longer runs (its base Python was removed or upgraded) is rebuilt from scratch.
if [[ -d $venv ]] && ! "$venv/bin/python" -c '' >/dev/null 2>&1; then
    echo "ensure_venv: $venv is broken, recreating it"
    rm -rf "$venv" "$stamp"
fi

if [[ -x $venv/bin/python ]] && ! runs_for_others "$PWD/$venv/bin/python"; then
    python=$(pick_python)
    [[ -n $python ]] || { echo "ensure_venv: $venv's Python cannot be run by unprivileged users (staff servers" \
        "run as their own system user) and no Python >= 3.11 they can run was found; install Debian's python3" \
        "(scripts/ensure_system.sh demo)" >&2; exit 1; }
    if [[ $(minor "$python") == $(minor "$venv/bin/python") ]]; then
        # Same minor version: the installed packages fit, so only the interpreter links are replaced.
        echo "ensure_venv: $venv's Python cannot be run by unprivileged users; moving $venv onto $python"
        rm -f "$venv"/bin/python "$venv"/bin/python3 "$venv"/bin/python3.*
        "$python" -m venv --upgrade --without-pip "$PWD/$venv"
    else
        echo "ensure_venv: $venv's Python cannot be run by unprivileged users; recreating $venv with $python"
        rm -rf "$venv" "$stamp"
    fi
fi

if [[ ! -x $venv/bin/python ]]; then
    python=$(pick_python)
    [[ -n $python ]] || { echo "ensure_venv: no python3.11 or python3 (>= 3.11) that unprivileged users can run;" \
        "run scripts/ensure_system.sh first" >&2; exit 1; }
    echo "ensure_venv: creating $venv with $python"
    "$python" -m venv "$venv"
    rm -f "$stamp"
fi

if [[ -f $stamp && $(cat "$stamp") == "$key" ]]; then
    exit 0
fi

# uv installs the same pinned set as pip in about a third of the time (bytecode included: staff servers run as
# users who cannot write __pycache__ into this venv). pip installs uv itself, and stays the way when uv cannot be had.
echo "ensure_venv: installing diemcau[test] into $venv"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
if "$venv/bin/python" -m pip install -q "uv==$UV_VERSION" && [[ -x $venv/bin/uv ]]; then
    "$venv/bin/uv" pip install -q --compile-bytecode --python "$venv/bin/python" -e '.[test]'
else
    echo "ensure_venv: uv $UV_VERSION could not be installed; installing with pip (slower)"
    "$venv/bin/python" -m pip install -q -e '.[test]'
fi
mkdir -p .stamps
echo "$key" >"$stamp"
