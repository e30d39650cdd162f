#!/bin/sh
# The README's quick start, on Debian 12 (run as root, or with sudo):
#
#   contrib/quickstart.sh serve   install, build, serve on 127.0.0.1:$OTS_PORT
#   contrib/quickstart.sh test    install, build, run the whole test suite
#   contrib/quickstart.sh deps    only install the packages (both lists)
#
# serve keeps its state (configuration, SQLite database, master key,
# lighttpd configuration and logs) under ./var and runs lighttpd in the
# foreground with ots as FastCGI; stop it with Ctrl-C.  The port is
# $OTS_PORT or --port N (default 8080).  serve installs only what building
# and serving need (no PostgreSQL server, no test servers).
#
# test runs the suite against the storage engine OTS_TEST_ENGINE names:
# sqlite (the default) or postgresql, where every test instance gets a
# throwaway PostgreSQL 15 cluster of its own (tests/integration/
# pgcluster.py), e.g. OTS_TEST_ENGINE=postgresql contrib/quickstart.sh test
#
# CONFIGURE_FLAGS is passed to ./configure.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)

# the build (both engines' client libraries) and lighttpd to serve
PACKAGES="build-essential autoconf automake libtool pkg-config
	libfcgi-dev libsqlite3-dev libpq-dev libscrypt-dev libjson-c-dev
	libesmtp-dev libcurl4-openssl-dev libsodium-dev libseccomp-dev
	libqrencode-dev gettext autopoint lighttpd curl"
# and the servers and tools the tests run for real
TEST_PACKAGES="apache2 apache2-utils libapache2-mod-fcgid nginx-light spawn-fcgi sqlite3
	postgresql-15 pgbouncer python3 python3-aiosmtpd openssl chromium
	prometheus zbar-tools"

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Install what is missing of the packages named ($PACKAGES, and with
# "test" the test packages too).
deps() {
	missing= want=$PACKAGES
	if [ "${1:-}" = test ]; then
		want="$want $TEST_PACKAGES"
		# the browser tests need node and npm; Debian's unless one is there
		command -v npm >/dev/null 2>&1 || want="$want nodejs npm"
	fi
	for p in $want; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q "ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "quickstart: installing$missing"
	as_root apt-get update -q
	as_root env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -q --no-install-recommends $missing
	# Debian's prometheus enables and starts a service listening on port
	# 9090 of every interface; the tests start their own on 127.0.0.1
	case " $missing " in
	*" prometheus "*)
		if [ -d /run/systemd/system ]; then
			as_root systemctl disable --now prometheus.service ||
			    true
		fi ;;
	esac
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
locale_dir = $top/locale
mailer_key = $top/var/state/mailer.key
mailer_public_key = $top/var/state/mailer.pub
CONF
	fi
	cgi-bin/ots-admin -c var/ots.conf init
	if grep -q '^mailer_key' var/ots.conf && [ ! -f var/state/mailer.pub ]; then
		cgi-bin/ots-mailer -c var/ots.conf -k
	fi
	lighttpd=$(command -v lighttpd || echo /usr/sbin/lighttpd)
	sed -e "s|@PORT@|$port|g" -e "s|@TOP@|$top|g" \
	    -e "s|@CONF@|$top/var/ots.conf|g" \
	    contrib/lighttpd-quickstart.conf > var/lighttpd.conf
	echo "quickstart: serving ots on http://127.0.0.1:$port (Ctrl-C stops)"
	echo "quickstart: add an account with:" \
	    "cgi-bin/ots-admin -c var/ots.conf customer add you@example.com"
	echo "quickstart: mail goes out (to the relay on 127.0.0.1:25) with:" \
	    "cgi-bin/ots-mailer -c var/ots.conf"
	exec "$lighttpd" -D -f var/lighttpd.conf
}

# Run make check (a test per processor at once: each test's servers have
# their own ports and directories), then count the TAP results of every
# test.
check() {
	rc=0
	case ${OTS_TEST_ENGINE:=sqlite} in
	sqlite|postgresql) ;;
	*)	echo "quickstart: OTS_TEST_ENGINE=$OTS_TEST_ENGINE:" \
		    "expected sqlite or postgresql" >&2
		exit 2 ;;
	esac
	export OTS_TEST_ENGINE
	echo "quickstart: testing with the $OTS_TEST_ENGINE engine"
	npm ci --prefix tests/browser --no-audit --no-fund
	make -j"$(nproc)" check || rc=$?
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
test)	deps test; build; check ;;
deps)	deps test ;;
*)	echo "usage: contrib/quickstart.sh serve [--port N] | test | deps" >&2
	exit 2 ;;
esac
