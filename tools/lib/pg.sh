# shellcheck shell=bash
# The private PostgreSQL 15 cluster of a stack: initdb, start, role and database, stop, health.
#
# Layout: data in $RMM_HOME/pg/data, socket in $RMM_HOME/run/pg, log $RMM_HOME/logs/postgres.log.
# initdb and postgres refuse to run as root, so as root the cluster runs as the `postgres` user.
# When that user cannot traverse $RMM_HOME (say the repo is under /root), the cluster, its socket
# and its log live in /var/tmp/gururmm-<hash of RMM_HOME>/ instead, and $RMM_HOME/pg and
# $RMM_HOME/logs/postgres.log are symlinks to them (the symlink is how later runs find it).
# Authentication: scram-sha-256 over TCP (user rmm, generated password in
# $RMM_HOME/secrets/pg-password, 0600); peer over the private socket for the cluster's superuser.

PG_BINDIR=/usr/lib/postgresql/15/bin

# pg_paths: sets PG_USER, PG_ROOT, PG_DATA, PG_SOCK_DIR, PG_LOG (creates nothing).
pg_paths() {
  if is_root; then PG_USER=postgres; else PG_USER=$(id -un); fi
  if [[ -L $RMM_HOME/pg ]]; then
    PG_ROOT=$(readlink "$RMM_HOME/pg")
    local base=${PG_ROOT%/pg}
    PG_SOCK_DIR=$base/run
    PG_LOG=$base/postgres.log
  else
    PG_ROOT=$RMM_HOME/pg
    PG_SOCK_DIR=$RUN_DIR/pg
    PG_LOG=$LOG_DIR/postgres.log
  fi
  PG_DATA=$PG_ROOT/data
}

# as_pg <command...>: runs a command as the cluster's OS user, from / (its cwd may be private).
as_pg() {
  if is_root; then
    (cd / && runuser -u "$PG_USER" -- "$@")
  else
    "$@"
  fi
}

# pg_pid: prints the postmaster's pid when the cluster is running.
pg_pid() {
  local pid
  [[ -f $PG_DATA/postmaster.pid ]] || return 1
  pid=$(head -n 1 "$PG_DATA/postmaster.pid")
  pid_alive "$pid" postgres || return 1
  printf '%s' "$pid"
}

pg_healthy() {
  "$PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$RMM_PG_PORT" -d rmm -U rmm -t 2
}

# pg_place: decides where the cluster lives on its first run (see the file comment).
pg_place() {
  [[ -e $RMM_HOME/pg ]] && return 0
  is_root || return 0
  getent passwd postgres >/dev/null || die "no 'postgres' user: is postgresql-15 installed?"
  if runuser -u postgres -- test -x "$RUN_DIR" -a -x "$LOG_DIR" 2>/dev/null; then
    return 0
  fi
  local base
  base=/var/tmp/gururmm-$(printf '%s' "$RMM_HOME" | sha256sum | cut -c1-12)
  warn "user postgres cannot traverse $RMM_HOME: the cluster lives in $base"
  mkdir -p "$base/pg" "$base/run"
  chown postgres:postgres "$base" "$base/pg" "$base/run"
  chmod 0700 "$base" "$base/pg" "$base/run"
  ln -s "$base/pg" "$RMM_HOME/pg"
  touch "$base/postgres.log"
  chown postgres:postgres "$base/postgres.log"
  ln -sfn "$base/postgres.log" "$LOG_DIR/postgres.log"
}

# pg_password: the rmm role's password, generated once (0600), plus a libpq password file so the
# password never appears on a command line (services get PGPASSFILE, not a password in the URL).
pg_password() {
  local f=$SECRETS_DIR/pg-password pw
  if [[ ! -s $f ]]; then
    pw=$(head -c 48 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9')
    (umask 077 && printf '%s\n' "${pw:0:32}" >"$f")
  fi
  chmod 0600 "$f"
  pw=$(head -n 1 "$f")
  [[ $pw =~ ^[A-Za-z0-9]{16,}$ ]] || die "$f does not hold a generated password: delete it"
  (umask 077 && printf '127.0.0.1:*:rmm:rmm:%s\nlocalhost:*:rmm:rmm:%s\n' "$pw" "$pw" \
    >"$PGPASS_FILE")
  chmod 0600 "$PGPASS_FILE"
  printf '%s' "$pw"
}

pg_init() {
  mkdir -p "$PG_ROOT" "$PG_SOCK_DIR"
  [[ -e $PG_LOG ]] || touch "$PG_LOG"
  if is_root; then
    chown "$PG_USER:" "$PG_ROOT" "$PG_SOCK_DIR"
    chown "$PG_USER:" "$(readlink -f "$PG_LOG")"
  fi
  chmod 0700 "$PG_ROOT" "$PG_SOCK_DIR"
  if [[ -f $PG_DATA/PG_VERSION ]]; then
    [[ $(<"$PG_DATA/PG_VERSION") == 15 ]] ||
      die "$PG_DATA holds a PostgreSQL $(<"$PG_DATA/PG_VERSION") cluster, not 15"
    return 0
  fi
  info "postgres: initdb in $PG_DATA (user $PG_USER)"
  as_pg "$PG_BINDIR/initdb" -D "$PG_DATA" -E UTF8 --no-locale --auth-local=peer \
    --auth-host=scram-sha-256 >>"$PG_LOG" 2>&1 ||
    { log_tail "$PG_LOG"; die "initdb failed"; }
  # Settings that depend on the stack (port, socket) go to rmm.conf, rewritten on every start.
  printf "\ninclude_if_exists = 'rmm.conf'\n" | as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
}

# pg_conf: rewrites $PG_DATA/rmm.conf for this stack's port and socket directory.
pg_conf() {
  local sock="$PG_SOCK_DIR/.s.PGSQL.$RMM_PG_PORT"
  ((${#sock} < 108)) || die "socket path too long for Unix sockets: $sock (use a shorter RMM_HOME)"
  local q=${PG_SOCK_DIR//\'/\'\'}
  printf '%s\n' "# Written by tools/rmm up: do not edit." \
    "listen_addresses = '127.0.0.1'" "port = $RMM_PG_PORT" \
    "unix_socket_directories = '$q'" "unix_socket_permissions = 0700" \
    "password_encryption = 'scram-sha-256'" |
    as_pg tee "$PG_DATA/rmm.conf" >/dev/null
}

# pg_role_db: the rmm role (login, current password) and database rmm owned by it.
pg_role_db() {
  local pw=$1
  as_pg "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK_DIR" -p "$RMM_PG_PORT" \
    -d postgres >/dev/null <<SQL || die "postgres: could not create the rmm role and database"
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rmm') THEN CREATE ROLE rmm LOGIN; END IF;
END \$\$;
ALTER ROLE rmm WITH LOGIN PASSWORD '$pw';
SELECT 'CREATE DATABASE rmm OWNER rmm'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'rmm')\gexec
SQL
  PGPASSFILE=$PGPASS_FILE "$PG_BINDIR/psql" -X -q -At -d "$PG_URL" -c 'SELECT 1' >/dev/null ||
    die "postgres: cannot log in as rmm over TCP with the generated password"
}

pg_up() {
  [[ -x $PG_BINDIR/postgres ]] || die "$PG_BINDIR/postgres missing: run 'tools/rmm setup'"
  pg_place
  pg_paths
  local pw pid
  pw=$(pg_password)
  if pid=$(pg_pid); then
    info "postgres: already running (pid $pid)"
  else
    pg_init
    pg_conf
    ensure_port_free "$RMM_PG_PORT" RMM_PG_PORT
    info "postgres: starting on 127.0.0.1:$RMM_PG_PORT"
    as_pg "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start >/dev/null ||
      { log_tail "$PG_LOG"; die "postgres did not start"; }
  fi
  pg_role_db "$pw"
}

pg_down() {
  pg_paths
  local pid
  if ! pid=$(pg_pid); then
    note "postgres: not running"
    return 0
  fi
  info "postgres: stopping (pid $pid)"
  if ! as_pg "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -m fast -w -t 30 stop >/dev/null; then
    warn "postgres: fast shutdown failed, trying immediate"
    as_pg "$PG_BINDIR/pg_ctl" -D "$PG_DATA" -m immediate -w -t 15 stop >/dev/null ||
      stop_pid postgres "$pid" 5
  fi
}
