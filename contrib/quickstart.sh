#!/bin/sh
# The README's quick start, on Debian 12 (run as root, or with sudo):
#
#   contrib/quickstart.sh serve   install, build, serve on 127.0.0.1:$OTS_PORT
#   contrib/quickstart.sh test    install, build, run the whole test suite
#   contrib/quickstart.sh deps    only install the packages both need
#
# serve keeps its state (configuration, SQLite database, master key,
# lighttpd configuration and logs) under ./var and runs lighttpd in the
# foreground with ots as FastCGI; stop it with Ctrl-C.  The port is
# $OTS_PORT or --port N (default 8080).  CONFIGURE_FLAGS is passed to
# ./configure.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)

# the build, and the servers and tools the tests run for real
PACKAGES="build-essential autoconf automake libtool pkg-config
	libfcgi-dev libsqlite3-dev libscrypt-dev libjson-c-dev libesmtp-dev
	libsodium-dev libseccomp-dev lighttpd apache2 libapache2-mod-fcgid
	nginx-light spawn-fcgi sqlite3 python3 python3-aiosmtpd openssl curl
	chromium"
# the connection pooler tests/integration/t_pgbouncer.py puts in front of
# PostgreSQL
PACKAGES="$PACKAGES pgbouncer"

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

deps() {
	missing=
	# the browser tests need node and npm; Debian's unless one is there
	command -v npm >/dev/null 2>&1 || PACKAGES="$PACKAGES nodejs npm"
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q "ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "quickstart: installing$missing"
	as_root apt-get update -q
	as_root env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -q --no-install-recommends $missing
}

build() {
	[ -x configure ] || ./autogen.sh
	[ -f Makefile ] || ./configure ${CONFIGURE_FLAGS:-}
	make -j"$(nproc)"
}

# Write the local instance's files once; later runs reuse them.
state() {
	port=$1
	mkdir -p var/log
	chmod 700 var
	if [ ! -f var/ots.conf ]; then
		cat > var/ots.conf <<CONF
# ots configuration for the local quick-start instance.
database = $top/var/state/ots.db
master_key = $top/var/state/master.key
base_url = http://127.0.0.1:$port
web_dir = $top/web
CONF
	fi
	cgi-bin/ots-admin -c var/ots.conf init
	lighttpd=$(command -v lighttpd || echo /usr/sbin/lighttpd)
	sed -e "s|@PORT@|$port|g" -e "s|@TOP@|$top|g" \
	    -e "s|@CONF@|$top/var/ots.conf|g" \
	    contrib/lighttpd-quickstart.conf > var/lighttpd.conf
	echo "quickstart: serving ots on http://127.0.0.1:$port (Ctrl-C stops)"
	echo "quickstart: add an account with:" \
	    "cgi-bin/ots-admin -c var/ots.conf customer add you@example.com"
	exec "$lighttpd" -D -f var/lighttpd.conf
}

# Run make check, then count the TAP results of every test.
check() {
	rc=0
	npm ci --prefix tests/browser --no-audit --no-fund
	make check || rc=$?
	find tests -name '*.trs' | xargs cat 2>/dev/null | awk '
	    /^:test-result: (PASS|XFAIL|SKIP)/ { p++ }
	    /^:test-result: (FAIL|XPASS|ERROR)/ { f++ }
	    END { printf "%d passed, %d failed\n", p, f }'
	return $rc
}

port=${OTS_PORT:-8080}
cmd=${1:-}
[ $# -gt 0 ] && shift
while [ $# -gt 0 ]; do
	case $1 in
	--port) port=$2; shift 2 ;;
	*) echo "quickstart: unknown option $1" >&2; exit 2 ;;
	esac
done
case $cmd in
serve)	deps; build; state "$port" ;;
test)	deps; build; check ;;
deps)	deps ;;
*)	echo "usage: contrib/quickstart.sh serve [--port N] | test | deps" >&2
	exit 2 ;;
esac
