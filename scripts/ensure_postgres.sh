#!/usr/bin/env bash
# Have a PostgreSQL server on 127.0.0.1:5432 with the test role and database:
#   postgresql+psycopg://diemcau:diemcau@127.0.0.1:5432/diemcau_test   (tests/conftest.py's default URL)
# Uses the Debian cluster "main" of the newest installed version, creating and starting it when needed.
# Safe to run again and again: every step checks before it acts.
set -euo pipefail
cd /  # psql run as postgres must not start in a directory it cannot read

cluster=main
port=5432
role=diemcau
password=diemcau
database=diemcau_test

if [[ $(id -u) -eq 0 ]]; then
    sudo=()
    as_postgres() { runuser -u postgres -- "$@"; }
else
    sudo=(sudo)
    as_postgres() { sudo -u postgres -- "$@"; }
fi

newest_version() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin/postgres 2>/dev/null | sort -V | tail -n 1 || true)
    [[ -n $bin ]] || { echo "ensure_postgres: no server in /usr/lib/postgresql; run scripts/ensure_system.sh test" >&2; exit 1; }
    basename "$(dirname "$(dirname "$bin")")"
}

ensure_cluster() {  # ensure_cluster VERSION
    if ! pg_lsclusters -h | awk -v v="$1" -v c="$cluster" '$1 == v && $2 == c { found = 1 } END { exit !found }'; then
        echo "ensure_postgres: creating cluster $1/$cluster on port $port"
        "${sudo[@]}" pg_createcluster --port "$port" --locale C.UTF-8 "$1" "$cluster" >/dev/null
    fi
    local cluster_port
    cluster_port=$(pg_lsclusters -h | awk -v v="$1" -v c="$cluster" '$1 == v && $2 == c { print $3 }')
    if [[ $cluster_port != "$port" ]]; then
        echo "ensure_postgres: cluster $1/$cluster uses port $cluster_port, the tests expect $port" >&2
        exit 1
    fi
}

ensure_running() {  # ensure_running VERSION
    local status
    status=$(pg_lsclusters -h | awk -v v="$1" -v c="$cluster" '$1 == v && $2 == c { print $4 }')
    if [[ $status != online* ]]; then
        echo "ensure_postgres: starting cluster $1/$cluster"
        "${sudo[@]}" pg_ctlcluster "$1" "$cluster" start
    fi
    for _ in $(seq 60); do
        pg_isready -q -h 127.0.0.1 -p "$port" && return 0
        sleep 0.5
    done
    echo "ensure_postgres: server on 127.0.0.1:$port not ready after 30 s; see /var/log/postgresql/" >&2
    exit 1
}

psql_admin() {  # psql_admin DATABASE: run SQL from stdin as the postgres superuser over the local socket
    as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$port" -d "$1"
}

ensure_role_and_database() {
    psql_admin postgres <<SQL
SET client_min_messages = warning;
DO \$\$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN
        CREATE ROLE $role LOGIN CREATEDB PASSWORD '$password';
    ELSE
        ALTER ROLE $role LOGIN CREATEDB PASSWORD '$password';
    END IF;
END
\$\$;
SELECT 'CREATE DATABASE $database OWNER $role ENCODING ''UTF8'' TEMPLATE template0'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$database')
\gexec
ALTER DATABASE $database OWNER TO $role;
SQL
    # unaccent is a trusted extension (PostgreSQL >= 13), so the owner can also recreate it after the tests
    # drop and recreate the public schema.
    psql_admin "$database" <<<'SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS unaccent;'
}

version=$(newest_version)
ensure_cluster "$version"
ensure_running "$version"
ensure_role_and_database
