#!/usr/bin/env bash
# Have a Redis server on 127.0.0.1:6379 for the tests of the job queue on Redis (tests/conftest.py's
# DIEMCAU_TEST_REDIS_URL: database 1, one key prefix per test process; database 0 is left to people).
# A server that already answers PING there is used as it is. Otherwise one of our own is started: bound to
# 127.0.0.1 only, protected mode on, daemonized, no snapshots (a test queue), its pid, log and working files under
# /var/lib/diemcau-test-redis, run as the Debian package's user `redis` when there is one.
# Safe to run again and again: every step checks before it acts.
set -euo pipefail
cd /  # redis-server run as another user must not start in a directory it cannot read

port=6379
dir=/var/lib/diemcau-test-redis

command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 \
    || { echo "ensure_redis: no redis-server; run scripts/ensure_system.sh test" >&2; exit 1; }

ping() { redis-cli -h 127.0.0.1 -p "$port" ping 2>&1 || true; }

answer=$(ping)
[[ $answer == PONG ]] && exit 0
if [[ $answer != *"Connection refused"* ]]; then
    echo "ensure_redis: something on 127.0.0.1:$port answers PING with \"$answer\" (a Redis with a password?);" \
        "the tests need a Redis there without one" >&2
    exit 1
fi

if [[ $(id -u) -eq 0 ]]; then
    sudo=()
else
    command -v sudo >/dev/null 2>&1 || { echo "ensure_redis: need root or sudo to start redis-server" >&2; exit 1; }
    sudo=(sudo)
fi
user=$(id -un)
id redis >/dev/null 2>&1 && user=redis
"${sudo[@]}" install -d -m 0750 -o "$user" -g "$(id -gn "$user")" "$dir"

echo "ensure_redis: starting redis-server on 127.0.0.1:$port (files in $dir)"
"${sudo[@]}" runuser -u "$user" -- redis-server --bind 127.0.0.1 --port "$port" --protected-mode yes \
    --daemonize yes --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save "" --appendonly no
for _ in $(seq 60); do
    [[ $(ping) == PONG ]] && exit 0
    sleep 0.5
done
echo "ensure_redis: redis-server on 127.0.0.1:$port not answering after 30 s; see $dir/redis.log" >&2
exit 1
