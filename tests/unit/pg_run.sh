#!/bin/sh
# pg_run.sh: run a test program, beside a throwaway PostgreSQL cluster when
# OTS_TEST_ENGINE=postgresql.
#
#   usage: pg_run.sh [--tap] PROGRAM [ARG...]
#
# Without OTS_TEST_ENGINE=postgresql it only runs PROGRAM.  With it:
#
#   - a private directory under $TMPDIR (or /tmp) holds the cluster, its
#     log and its Unix socket;
#   - initdb makes the cluster (trust authentication, UTF8, no fsync), as
#     nobody when this runs as root (initdb and postgres refuse root);
#   - postgres listens on 127.0.0.1 only, on a free port, and on the
#     socket in that directory;
#   - database ots_test is made, and exported to PROGRAM as libpq conninfo:
#       OTS_TEST_PG         host=127.0.0.1 port=N dbname=ots_test user=ots
#       OTS_TEST_PG_SOCKET  the same over the Unix socket
#     and the user ots_password is made to log in with a password over TCP
#     only (the test sets the password: pg_hba.conf asks for scram there);
#   - the postmaster is stopped and the directory removed whatever happens
#     (PROGRAM's end, a signal, a failure half-way).
#
# PROGRAM's exit status is this script's.  With --tap, a machine without
# the server's programs skips the test as TAP says ("1..0 # SKIP"), and
# a cluster that cannot start is a "Bail out!" line.  PG_BINDIR names the server's
# programs (default /usr/lib/postgresql/15/bin).  With OTS_TEST_PG_KEEP=1
# the cluster's log is copied to stderr at the end.

set -u

tap=0
if [ "${1:-}" = --tap ]; then
	tap=1
	shift
fi
if [ "${OTS_TEST_ENGINE:-}" != postgresql ]; then
	exec "$@"
fi

bindir=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
dir=
pid=
child=

# Run a command as the cluster's owner: nobody when we are root.
as_owner() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid=nobody --regid="$(id -g nobody)" \
		    --clear-groups -- "$@"
	else
		"$@"
	fi
}

cleanup() {
	# a signal: the program goes first, then its database
	if [ -n "$child" ]; then
		kill -TERM "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	if [ -n "$dir" ] && [ -f "$dir/data/postmaster.pid" ]; then
		as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 20 \
		    stop >/dev/null 2>&1
		# still there: its own PID, then harder
		pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null)
		if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null
			sleep 1
			kill -KILL "$pid" 2>/dev/null
		fi
	fi
	if [ -n "$dir" ]; then
		[ "${OTS_TEST_PG_KEEP:-}" = 1 ] && cat "$dir/log" >&2
		rm -rf "$dir"
	fi
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	echo "pg_run.sh: $*" >&2
	[ "$tap" = 1 ] && echo "Bail out! pg_run.sh: $*"
	[ -n "$dir" ] && [ -f "$dir/log" ] && tail -n 20 "$dir/log" >&2
	exit 1
}

if [ ! -x "$bindir/initdb" ]; then
	if [ "$tap" = 1 ]; then
		echo "1..0 # SKIP no PostgreSQL server programs in $bindir"
		exit 0
	fi
	fail "no PostgreSQL server programs in $bindir"
fi
for parent in "${TMPDIR:-/tmp}" /tmp; do
	dir=$(mktemp -d "$parent/ots-pg.XXXXXX") || continue
	[ "$(id -u)" = 0 ] && chown nobody "$dir"
	as_owner test -w "$dir" && break
	rmdir "$dir"
	dir=
done
[ -n "$dir" ] || fail "no temporary directory the cluster's owner can write"

# the log is written by the cluster's owner (pg_ctl -l) and by this script
: >"$dir/log"
[ "$(id -u)" = 0 ] && chown nobody "$dir/log"
as_owner "$bindir/initdb" -D "$dir/data" -U ots -A trust -E UTF8 \
    --locale=C --no-sync >>"$dir/log" 2>&1 || fail "initdb failed"
# ots_password must send its password (scram); everyone else is trusted
{
	echo "local all all trust"
	echo "host all ots_password 127.0.0.1/32 scram-sha-256"
	echo "host all all 127.0.0.1/32 trust"
} >"$dir/data/pg_hba.conf"

# a port nobody listens on: try a few, each from this process's number
tries=0
while :; do
	port=$(( 20000 + ($$ * 7 + tries * 977) % 30000 ))
	if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
	    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir \
	    -c fsync=off -c full_page_writes=off -c shared_buffers=16MB \
	    -c max_connections=60" start >/dev/null 2>&1; then
		break
	fi
	tries=$((tries + 1))
	[ "$tries" -lt 8 ] || fail "postgres did not start"
	grep -q "could not bind\|could not create" "$dir/log" ||
	    fail "postgres did not start"
done

as_owner "$bindir/psql" -X -q -h "$dir" -p "$port" -U ots -d postgres \
    -v ON_ERROR_STOP=1 -c "CREATE DATABASE ots_test" \
    -c "CREATE ROLE ots_password LOGIN" >>"$dir/log" 2>&1 ||
    fail "cannot make the test database"

OTS_TEST_PG="host=127.0.0.1 port=$port dbname=ots_test user=ots"
OTS_TEST_PG_SOCKET="host=$dir port=$port dbname=ots_test user=ots"
export OTS_TEST_PG OTS_TEST_PG_SOCKET
# in the background, so that a signal to this script is handled at once
"$@" &
child=$!
wait "$child"
rc=$?
child=
exit $rc
