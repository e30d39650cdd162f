#!/usr/bin/env bash
# .ci/sanitize.sh: the memory-safety half of CI (docs: security.md, promise 5).
#
#  1. A clean copy of the tree (tracked and untracked-but-not-ignored files),
#     so that an in-tree build of the checkout does not stop out-of-tree
#     builds ("source directory already configured").
#  2. build-asan: clang with -fsanitize=address,undefined, out of tree.
#  3. The fuzz targets (tests/fuzz/fuzz_*.c) linked with libFuzzer against a
#     coverage-instrumented copy of the library; each fuzzed for
#     $FUZZ_TIME seconds from its kept corpus; executions printed.
#  4. `make check` in build-asan: the whole suite (unit tests, corpus
#     replay, integration and security tests, every FastCGI worker, CGI run,
#     ots-admin and sweep they start being the ASan build), with ASan/UBSan
#     halting on the first error; any sanitizer report written by any
#     process fails the step.
#  5. build-valgrind (plain gcc -O1 -g): the integration suite once with
#     every FastCGI worker, CGI run and sweep under valgrind memcheck
#     (OTS_WRAPPER): 0 errors, 0 bytes definitely lost, no descriptor open
#     at exit beyond what an idle worker has.
#
# Prints one TAP line per check and, last, "N passed, N failed" (the line
# .ci/run counts); exits 1 when anything failed.  Work and logs stay in
# $OTS_SANITIZE_DIR (default: a new directory under /tmp, printed).
#
# Environment: FUZZ_TIME (seconds per target, default 10), FUZZ_MERGE=1
# (write each grown corpus, minimized with -merge=1, back into
# tests/fuzz/corpus/), SKIP_VALGRIND=1, SKIP_ASAN_CHECK=1, SKIP_FUZZ=1,
# CC_FUZZ (default clang).
set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
WORK=${OTS_SANITIZE_DIR:-$(mktemp -d /tmp/ots-sanitize.XXXXXX)}
WORK=$(mkdir -p "$WORK" && cd "$WORK" && pwd)
FUZZ_TIME=${FUZZ_TIME:-10}
CC_FUZZ=${CC_FUZZ:-clang}
JOBS=$(nproc 2>/dev/null || echo 2)
TREE=$WORK/tree
N=0
FAILED=0
T0=$(date +%s)

say() { printf '# %s\n' "$*"; }
check() {	# check DESCRIPTION CONDITION...: one TAP line
	local desc=$1
	shift
	N=$((N + 1))
	if "$@"; then
		echo "ok $N - $desc"
	else
		echo "not ok $N - $desc"
		FAILED=$((FAILED + 1))
		return 1
	fi
}
step() { say "[$(($(date +%s) - T0)) s] $*"; }
# Run a command with its output in a log; on failure show the log's tail.
logged() {
	local log=$1
	shift
	if "$@" >"$log" 2>&1; then
		return 0
	fi
	say "failed: $* (log $log):"
	tail -n 40 "$log" | sed 's/^/#   /'
	return 1
}
finish() {
	step "done; work directory $WORK"
	echo "1..$N"
	echo "$((N - FAILED)) passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
	exit $?
}

say "work directory: $WORK"

# -- 1. a clean copy of the tree
step "copying the source tree"
copy_tree() {
	rm -rf "$TREE" && mkdir -p "$TREE" || return 1
	if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		(cd "$SRC" && git ls-files -z --cached --others --exclude-standard |
		    xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' |
		    tar --null -T - -cf -) | (cd "$TREE" && tar -xf -)
	else
		(cd "$SRC" && tar --exclude=./build-asan --exclude=./build-valgrind \
		    -cf - .) | (cd "$TREE" && tar -xf -) &&
		    { [ ! -f "$TREE/Makefile" ] || make -C "$TREE" distclean \
		    >/dev/null 2>&1; }
	fi
	# build products the ignore list may miss (an in-tree build's programs)
	find "$TREE" -type f -perm -u+x -exec sh -c \
	    'head -c 4 "$1" | grep -q "ELF" && rm -f "$1"' sh {} \; || return 1
	if [ ! -x "$TREE/configure" ]; then
		(cd "$TREE" && logged "$WORK/autogen.log" ./autogen.sh)
	fi
}
check "clean copy of the tree in $TREE" copy_tree || finish

# -- 2. the ASan + UBSan build
SAN_CFLAGS='-fsanitize=address,undefined -fno-omit-frame-pointer -g -O1'
step "configure and build with $CC_FUZZ $SAN_CFLAGS"
build_asan() {
	mkdir -p "$TREE/build-asan" && cd "$TREE/build-asan" &&
	    logged "$WORK/configure-asan.log" ../configure CC="$CC_FUZZ" \
	    CFLAGS="$SAN_CFLAGS" &&
	    logged "$WORK/make-asan.log" make -j"$JOBS" all &&
	    logged "$WORK/make-asan-check-programs.log" make -j"$JOBS" \
	    check TESTS=
}
check "ASan+UBSan build (build-asan)" build_asan || finish

# -- 3. the fuzz targets
mkvar() {	# the value of a make variable in build-asan/Makefile
	sed -n "s/^$1 = //p" "$TREE/build-asan/Makefile" | head -n 1
}
FUZZ_DIR=$TREE/build-asan/fuzz
FUZZ_CFLAGS=(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -g -O1)
# word splitting wanted: each is a list of flags
# shellcheck disable=SC2206
INC=(-I"$TREE/build-asan" -I"$TREE/src" $(mkvar SQLITE_CFLAGS) $(mkvar PQ_CFLAGS)
    $(mkvar JSONC_CFLAGS) $(mkvar SODIUM_CFLAGS) $(mkvar ESMTP_CFLAGS) $(mkvar CURL_CFLAGS)
    $(mkvar SECCOMP_CFLAGS) $(mkvar QRENCODE_CFLAGS))
DEFS=(-DSYSCONFDIR='"/etc"' -DPKGDATADIR='"/usr/share/ots"' -DLOCALEDIR='"/usr/share/locale"')
# shellcheck disable=SC2206
LIBS=($(mkvar SQLITE_LIBS) $(mkvar PQ_LIBS) $(mkvar JSONC_LIBS) $(mkvar SODIUM_LIBS)
    $(mkvar ESMTP_LIBS) $(mkvar SCRYPT_LIBS) $(mkvar SECCOMP_LIBS) $(mkvar QRENCODE_LIBS)
    $(mkvar LIBS))
TARGETS=$(cd "$TREE/tests/fuzz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
build_fuzz() {
	local c t
	mkdir -p "$FUZZ_DIR/obj" || return 1
	for c in "$TREE"/src/*.c "$TREE"/build-asan/src/schema.c; do
		[ -f "$c" ] || continue
		"$CC_FUZZ" "${FUZZ_CFLAGS[@]}" "${INC[@]}" "${DEFS[@]}" -c "$c" \
		    -o "$FUZZ_DIR/obj/$(basename "$c" .c).o" || return 1
	done
	rm -f "$FUZZ_DIR/libots-fuzz.a"
	ar rcs "$FUZZ_DIR/libots-fuzz.a" "$FUZZ_DIR"/obj/*.o || return 1
	for t in $TARGETS; do
		"$CC_FUZZ" -fsanitize=fuzzer,address,undefined \
		    -fno-omit-frame-pointer -g -O1 "${INC[@]}" \
		    "$TREE/tests/fuzz/fuzz_$t.c" "$FUZZ_DIR/libots-fuzz.a" \
		    "${LIBS[@]}" -o "$FUZZ_DIR/fuzz_$t" || return 1
	done
}
if [ -z "${SKIP_FUZZ:-}" ]; then
	step "building the fuzz targets: $(echo $TARGETS)"
	if ! check "libFuzzer targets built ($(echo "$TARGETS" | wc -w))" \
	    logged "$WORK/build-fuzz.log" build_fuzz; then
		SKIP_FUZZ_RUN=1
	fi

	# Fuzz each target from its kept corpus; new inputs go to a scratch
	# corpus (the kept one is read only unless FUZZ_MERGE=1).  Targets run
	# $JOBS at a time.
	fuzz_one() {
		local t=$1 d=$WORK/fuzz/$1
		rm -rf "$d" && mkdir -p "$d/new" "$d/artifacts"
		(cd "$d" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		    "$FUZZ_DIR/fuzz_$t" -max_total_time="$FUZZ_TIME" \
		    -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
		    -print_final_stats=1 -artifact_prefix="$d/artifacts/" \
		    "$d/new" "$TREE/tests/fuzz/corpus/$t" >"$d/log" 2>&1)
		echo $? >"$d/rc"
	}
	[ -n "${SKIP_FUZZ_RUN:-}" ] || step "fuzzing each target for $FUZZ_TIME s, $JOBS at a time"
	[ -n "${SKIP_FUZZ_RUN:-}" ] && TARGETS=
	running=0
	for t in $TARGETS; do
		fuzz_one "$t" &
		running=$((running + 1))
		if [ "$running" -ge "$JOBS" ]; then
			wait -n 2>/dev/null || wait
			running=$((running - 1))
		fi
	done
	wait
	total=0
	for t in $TARGETS; do
		d=$WORK/fuzz/$t
		execs=$(sed -n 's/^stat::number_of_executed_units: //p' "$d/log")
		cov=$(grep -E '^#[0-9]+' "$d/log" | tail -n 1 |
		    sed -n 's/.*cov: \([0-9]*\) ft: \([0-9]*\) corp: \([0-9]*\).*/cov \1, ft \2, corpus \3/p')
		total=$((total + ${execs:-0}))
		fuzz_ok() {
			[ "$(cat "$d/rc")" = 0 ] && [ -n "$execs" ] &&
			    [ -z "$(ls -A "$d/artifacts")" ]
		}
		check "fuzz_$t: ${execs:-?} executions in $FUZZ_TIME s ($cov), no crash" fuzz_ok
		if ! fuzz_ok; then
			grep -E 'ERROR|SUMMARY|invariant|runtime error' "$d/log" |
			    head -n 10 | sed 's/^/#   /'
			say "  artifacts: $(ls "$d/artifacts" | tr '\n' ' ')"
		fi
		if [ -n "${FUZZ_MERGE:-}" ] && fuzz_ok; then
			mkdir -p "$d/merged" &&
			    "$FUZZ_DIR/fuzz_$t" -merge=1 -max_len=4096 "$d/merged" \
			    "$TREE/tests/fuzz/corpus/$t" "$d/new" >"$d/merge.log" 2>&1 &&
			    rm -rf "$SRC/tests/fuzz/corpus/$t" &&
			    cp -r "$d/merged" "$SRC/tests/fuzz/corpus/$t" &&
			    say "  corpus of $t merged back: $(ls "$d/merged" | wc -l) files"
		fi
	done
	[ -n "$TARGETS" ] && say "fuzzing: $total executions in all"
fi

# -- 4. make check in the sanitized build
SAN_LOGS=$WORK/sanitizer-logs
if [ -z "${SKIP_ASAN_CHECK:-}" ]; then
	step "make check in build-asan"
	mkdir -p "$SAN_LOGS"
	# The harness passes these settings on to the processes it starts;
	# Apache's workers (www-data) must be able to write a report too.
	chmod 1777 "$SAN_LOGS"
	# every test but those that only look at pages in a browser
	# (accessibility, languages, QR codes, the path prefix): what they
	# find does not depend on the build, and the C that renders those
	# pages runs here in web_test, t_web, t_files, t_sso and t_request
	ASAN_TESTS=$(printf 'print-tests:\n\t@echo $(TESTS)\n' |
	    make -s -C "$TREE/build-asan" -f Makefile -f - print-tests |
	    tr ' ' '\n' | grep -v -e 't_axe.py$' -e 't_i18n.py$' -e 't_qr.py$' \
	    -e 't_prefix.py$' | tr '\n' ' ')
	asan_check() {
		ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:log_path=$SAN_LOGS/asan" \
		    UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$SAN_LOGS/ubsan" \
		    LSAN_OPTIONS="log_path=$SAN_LOGS/lsan" \
		    make -C "$TREE/build-asan" -j"$JOBS" check TESTS="$ASAN_TESTS" \
		    >"$WORK/check-asan.log" 2>&1
	}
	asan_check
	rc=$?
	summary=$(grep -E '^# (TOTAL|PASS|FAIL|ERROR|XPASS|SKIP):' "$WORK/check-asan.log" |
	    tr -s ' ' | tr '\n' ' ')
	check "make check under ASan+UBSan: $summary" test "$rc" = 0
	if [ "$rc" != 0 ]; then
		grep -E '^(FAIL|ERROR):' "$WORK/check-asan.log" | sed 's/^/#   /'
	fi
	reports=$(ls -A "$SAN_LOGS" | wc -l)
	check "no sanitizer report from any process ($reports report files)" \
	    test "$reports" -eq 0
	if [ "$reports" -ne 0 ]; then
		for f in "$SAN_LOGS"/*; do
			say "  $f:"
			grep -E 'ERROR|SUMMARY|runtime error|#[0-4] ' "$f" | head -n 12 |
			    sed 's/^/#     /'
		done
	fi
fi

# -- 5. the integration suite with the workers under valgrind
if [ -z "${SKIP_VALGRIND:-}" ]; then
	VG_LOGS=$WORK/valgrind
	VG="$(command -v valgrind)"
	SETSID="$(command -v setsid)"
	# setsid: the harness ends lighttpd's process group with SIGKILL after
	# lighttpd has sent its workers SIGTERM; in a session of their own the
	# workers finish valgrind's exit report instead of dying mid-write.
	wrapper() {
		echo "$SETSID $VG --error-exitcode=99 --leak-check=full" \
		    "--errors-for-leak-kinds=definite --track-fds=yes" \
		    "--log-file=$1/vg.%p.log"
	}
	step "configure and build for valgrind (gcc -O1 -g)"
	build_vg() {
		mkdir -p "$TREE/build-valgrind" && cd "$TREE/build-valgrind" &&
		    logged "$WORK/configure-valgrind.log" ../configure \
		    CFLAGS='-g -O1' &&
		    logged "$WORK/make-valgrind.log" make -j"$JOBS" all \
		    tests/integration/fakeclock.so
	}
	check "plain build for valgrind (build-valgrind)" build_vg || finish
	INTEG=$(printf 'print-integration:\n\t@echo $(INTEGRATION_TESTS)\n' |
	    make -s -C "$TREE/build-valgrind" -f Makefile -f - print-integration)
	# the browser's own timeouts, the recovery deadlines of the
	# multi-host, fault and PgBouncer tests, and the hung relay's latency
	# figures (t_mailer) are not made for workers ~30x slower (those run
	# in every other stage; the mailer itself runs here in t_mail and
	# t_webhook); t_metrics kills a worker with SIGKILL on purpose, and a
	# killed process writes no valgrind report.  The tests that are only
	# pages in a browser (accessibility, languages, QR codes, the path
	# prefix) stay out too; t_files, t_sso and t_request run here for
	# their HTTP parts, their browser parts are shown and do not judge.
	# t_attempts (hundreds of scrypt hashes), t_at_rest (greps of the
	# database), t_sweep and t_mail (the sweeper's and the mailer's
	# timelines) take half of this stage's time for worker code that
	# t_reveal, t_share, t_wipe, t_webhook and t_request run here too.
	INTEG=$(echo "$INTEG" | tr ' ' '\n' |
	    grep -v -e 't_web.py$' -e 't_hosts.py$' -e 't_faults.py$' \
	    -e 't_pgbouncer.py$' -e 't_mailer.py$' -e 't_metrics.py$' \
	    -e 't_axe.py$' -e 't_i18n.py$' -e 't_qr.py$' -e 't_prefix.py$' \
	    -e 't_attempts.py$' -e 't_at_rest.py$' -e 't_sweep.py$' \
	    -e 't_mail.py$' | tr '\n' ' ')
	# Our own processes: the valgrind runs whose log path is in $WORK.
	vg_pids() {
		local p
		for p in /proc/[0-9]*; do
			{ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null |
			    grep -q -- "--log-file=$VG_LOGS" && echo "${p#/proc/}"
		done
	}
	vg_gone() {	# vg_gone SECONDS: wait until none is left
		local i
		for i in $(seq 1 "$1"); do
			[ -z "$(vg_pids)" ] && return 0
			sleep 1
		done
		return 1
	}
	vg_wait() {	# wait for them to finish their reports; end stragglers
		# (a report takes a second or two; a straggler, seen once: a
		# baseline worker alive 120 s after its server stopped, gets
		# SIGTERM, and valgrind still writes its report)
		local p
		vg_gone 30 && return 0
		for p in $(vg_pids); do
			say "  valgrind run $p still alive after 30 s: SIGTERM"
			kill -TERM "$p" 2>/dev/null
		done
		vg_gone 15 && return 0
		for p in $(vg_pids); do kill -KILL "$p" 2>/dev/null; done
		return 1
	}
	# fds open at exit beyond the std ones and the log itself
	extra_fds() {
		awk '/Open (file|AF_UNIX socket|AF_INET socket) descriptor/ &&
		    !/vg\.[0-9]+\.log/ { n++ } END { print n + 0 }' "$1"
	}
	# baseline: a worker that answered one request
	step "valgrind baseline: one idle instance"
	mkdir -p "$VG_LOGS/baseline"
	(cd "$TREE" && OTS_BUILDDIR="$TREE/build-valgrind" OTS_SRCDIR="$TREE" \
	    OTS_WRAPPER="$(wrapper "$VG_LOGS/baseline")" /usr/bin/env python3 -c '
import sys
sys.path.insert(0, "tests/integration")
import otstest
s = otstest.Server(max_procs=2)
assert s.request("GET", "status").status == 200
s.close()' >"$WORK/valgrind-baseline.log" 2>&1)
	vg_wait
	base=0
	for f in "$VG_LOGS"/baseline/vg.*.log; do
		[ -f "$f" ] || continue
		n=$(extra_fds "$f")
		[ "$n" -gt "$base" ] && base=$n
	done
	say "baseline: $(ls "$VG_LOGS"/baseline | wc -l) worker logs, $base descriptor(s) open at exit beyond std/log"

	step "integration suite under valgrind: $(echo $INTEG | wc -w) tests"
	mkdir -p "$VG_LOGS/suite"
	OTS_WRAPPER="$(wrapper "$VG_LOGS/suite")" \
	    make -C "$TREE/build-valgrind" -j"$JOBS" check TESTS="$INTEG" \
	    >"$WORK/check-valgrind.log" 2>&1
	rc=$?
	vg_wait
	summary=$(grep -E '^# (TOTAL|PASS|FAIL|ERROR):' "$WORK/check-valgrind.log" |
	    tr -s ' ' | tr '\n' ' ')
	# What this step judges is valgrind's verdict below.  The suite's own
	# assertions run natively in `make check`; a few time what a worker
	# does, and valgrind makes workers ~30 times slower, so they are
	# shown here but do not fail the step.
	say "integration suite with the workers under valgrind: $summary"
	if [ "$rc" != 0 ]; then
		grep -E '^(FAIL|ERROR):' "$WORK/check-valgrind.log" | sed 's/^/#   /'
	fi
	check "the integration suite ran under valgrind" \
	    grep -qE '^# TOTAL: [1-9]' "$WORK/check-valgrind.log"
	logs=0 errs=0 lost=0 incomplete=0 fdbad=0 maxfd=0
	for f in "$VG_LOGS"/suite/vg.*.log; do
		[ -f "$f" ] || continue
		logs=$((logs + 1))
		if ! grep -q 'ERROR SUMMARY' "$f"; then
			incomplete=$((incomplete + 1))
			say "  no final report (killed?): $f"
			continue
		fi
		e=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$f" | tail -n 1)
		l=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$f" | tr -d , | tail -n 1)
		n=$(extra_fds "$f")
		[ "$n" -gt "$maxfd" ] && maxfd=$n
		if [ "${e:-0}" -ne 0 ]; then
			errs=$((errs + e))
			say "  $e error(s): $f"
		fi
		if [ "${l:-0}" -ne 0 ]; then
			lost=$((lost + l))
			say "  $l bytes definitely lost: $f"
		fi
		if [ "$n" -gt "$base" ]; then
			fdbad=$((fdbad + 1))
			say "  $n descriptor(s) open at exit (baseline $base): $f"
		fi
	done
	say "valgrind: $logs process logs ($incomplete without a final report)"
	check "valgrind: $logs processes, 0 errors ($errs)" test "$errs" -eq 0 -a "$logs" -gt 0
	check "valgrind: 0 bytes definitely lost ($lost)" test "$lost" -eq 0
	check "valgrind: no process ends with more open descriptors than an idle worker ($maxfd vs $base)" \
	    test "$fdbad" -eq 0
	check "valgrind: every process wrote its final report ($incomplete missing)" \
	    test "$incomplete" -eq 0
fi

step "total time $(($(date +%s) - T0)) s"
finish
