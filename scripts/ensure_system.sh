#!/usr/bin/env bash
# Install the Debian packages a profile needs, and only those that are missing.
#
#   scripts/ensure_system.sh demo   # make, Node.js + npm (for configurable-http-proxy), Python venv support,
#                                   # ffmpeg and espeak-ng (media and the demo lecture)
#   scripts/ensure_system.sh test   # demo + Chromium, PostgreSQL (+contrib for unaccent), Redis (the job queue
#                                   # scaled out), poppler-utils (pdftoppm), iproute2 (ip netns: the cluster,
#                                   # tc: the throttled-link benchmark), nginx (media served by nginx through
#                                   # auth_request: deploy/nginx/diemcau.conf)
#
# Everything is checked first (dpkg-query / command -v), so a second run does no apt at all.
# Browser tests drive Debian's /usr/bin/chromium through Playwright's executable_path: no browser is ever downloaded.
set -euo pipefail

usage() { echo "usage: $0 demo|test" >&2; exit 2; }
[[ $# -eq 1 ]] || usage
profile=$1
[[ $profile == demo || $profile == test ]] || usage

missing=()

is_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

ensure_package() {  # ensure_package PACKAGE
    is_installed "$1" || missing+=("$1")
}

ensure_command() {  # ensure_command COMMAND PACKAGE: a command may come from elsewhere (nodesource, pyenv)
    command -v "$1" >/dev/null 2>&1 || missing+=("$2")
}

ensure_python_venv() {
    # Same choice as ensure_venv.sh: python3.11, else python3 (Debian 12's python3 is 3.11).
    local python
    python=$(command -v python3.11 || command -v python3 || true)
    if [[ -z $python ]]; then
        missing+=(python3 python3-venv)
    elif ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
        missing+=(python3-venv)  # Debian splits ensurepip out of python3
    fi
}

ensure_command make make
ensure_command node nodejs
ensure_command npm npm
ensure_python_venv
# Staff servers run as unprivileged system users, who cannot run a Python under /root (pyenv): ensure_venv.sh
# then builds the venv on Debian's own python3, which needs its venv module.
ensure_package python3-venv
ensure_command ffmpeg ffmpeg     # ingest: probe, transcode, package HLS (ffprobe comes with it)
ensure_command espeak-ng espeak-ng  # the demo lecture and test clips are synthesised Vietnamese speech
ensure_package fonts-dejavu-core   # Vietnamese glyphs in PDF reports (and headless screenshots)
if [[ $profile == test ]]; then
    [[ -x /usr/bin/chromium ]] || missing+=(chromium)
    ensure_package poppler-utils  # pdftoppm: report pages checked as images
    ensure_package postgresql
    ensure_package postgresql-contrib
    ensure_package redis-server  # the job queue on Redis (scripts/ensure_redis.sh starts it for the tests; the cluster's data host)
    ensure_command ip iproute2  # ip netns + tc: bench/player_throttled.py's weak link (run as root)
    # tests/test_nginx_front.py runs the shipped deploy/nginx/diemcau.conf. Debian 12's `nginx` package has
    # ngx_http_auth_request_module built in (`nginx -V`: --with-http_auth_request_module); `nginx-light` is only
    # a transitional package that pulls in `nginx` (and an echo module we do not use).
    ensure_package nginx
fi

if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_system: missing ${missing[*]}, and this is not a Debian/Ubuntu machine; install them by hand" >&2
    exit 1
fi
sudo=()
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { echo "ensure_system: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
fi

echo "ensure_system: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
