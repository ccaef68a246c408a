# Throwaway PostgreSQL servers for tests and benchmarks. Source this file, then:
#   start_postgres [extra server settings…]   sets CALOR_PG_URL (key=value connection string) and CALOR_PG_PORT
#   stop_postgres                             stops the server and removes its folder
# As root, the server runs as the `postgres` user (PostgreSQL refuses to run as root).

PG_DIR=""
PG_BIN=""
PG_AS=()

stop_postgres() {
    if [ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
        "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    [ -n "$PG_DIR" ] && rm -rf "$PG_DIR"
    PG_DIR=""
    return 0
}

start_postgres() {
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
        echo "PostgreSQL server binaries not found under /usr/lib/postgresql" >&2
        return 1
    fi
    PG_DIR=$(mktemp -d /tmp/calor-pg.XXXXXX)
    chmod 755 "$PG_DIR"
    PG_AS=()
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres:postgres "$PG_DIR"
        PG_AS=(runuser -u postgres --)
    fi
    local password="calor-$RANDOM$RANDOM$RANDOM"
    printf '%s\n' "$password" >"$PG_DIR/pwfile"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$PG_DIR/pwfile"
    if ! "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --pwfile="$PG_DIR/pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-locale >"$PG_DIR/initdb.log" 2>&1; then
        cat "$PG_DIR/initdb.log" >&2
        return 1
    fi
    CALOR_PG_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    local settings="-c listen_addresses=127.0.0.1 -c port=$CALOR_PG_PORT -c unix_socket_directories=$PG_DIR $*"
    if ! "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start -o "$settings" \
        >/dev/null; then
        cat "$PG_DIR/server.log" >&2
        return 1
    fi
    CALOR_PG_URL="host=127.0.0.1 port=$CALOR_PG_PORT user=postgres password=$password dbname=postgres"
    # What restarting it takes (Scripts/chaos stops and starts it under load).
    CALOR_PG_CTL="${PG_AS[*]} $PG_BIN/pg_ctl -D $PG_DIR/data"
    CALOR_PG_LOG="$PG_DIR/server.log"
    CALOR_PG_OPTIONS="$settings"
    export CALOR_PG_URL CALOR_PG_PORT CALOR_PG_CTL CALOR_PG_LOG CALOR_PG_OPTIONS
    echo "==> PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$CALOR_PG_PORT" >&2
}
