#!/bin/sh
# Replay the kept fuzz corpus (tests/fuzz/corpus/<target>/) through the
# standalone builds of the fuzz targets (tests/fuzz/fuzz_<target>, built
# with -DFUZZ_STANDALONE by `make check`).  TAP: one line per target, ok
# when every corpus file ran without a crash, an abort or a sanitizer
# report.  A failing target is replayed file by file to name the inputs
# that fail.
#
# Environment: OTS_BUILDDIR (where tests/fuzz/fuzz_* are; default the
# source tree), OTS_SRCDIR (where the corpus is; default this script's
# tree), FUZZ_WRAPPER (a command prefix, e.g. "valgrind -q --error-exitcode=1").

here=$(cd "$(dirname "$0")" && pwd)
src=${OTS_SRCDIR:-$(cd "$here/../.." && pwd)}
build=${OTS_BUILDDIR:-$src}
corpus=$src/tests/fuzz/corpus

targets=$(cd "$src/tests/fuzz" && ls fuzz_*.c 2>/dev/null | sed 's/^fuzz_//; s/\.c$//')
if [ -z "$targets" ]; then
	echo "1..0 # SKIP no fuzz targets in $src/tests/fuzz"
	exit 0
fi
n=0
failed=0
for t in $targets; do
	n=$((n + 1))
	bin=$build/tests/fuzz/fuzz_$t
	files=$(ls "$corpus/$t" 2>/dev/null | wc -l)
	if [ ! -x "$bin" ]; then
		echo "not ok $n - fuzz_$t: $bin not built"
		failed=$((failed + 1))
		continue
	fi
	if [ "$files" -eq 0 ]; then
		echo "not ok $n - fuzz_$t: no corpus in $corpus/$t"
		failed=$((failed + 1))
		continue
	fi
	if out=$($FUZZ_WRAPPER "$bin" "$corpus/$t" 2>&1); then
		echo "ok $n - fuzz_$t: $files corpus files replayed"
		continue
	fi
	echo "not ok $n - fuzz_$t: replaying $files corpus files failed"
	failed=$((failed + 1))
	echo "$out" | tail -n 15 | sed 's/^/#   /'
	for f in "$corpus/$t"/*; do
		$FUZZ_WRAPPER "$bin" "$f" >/dev/null 2>&1 ||
		    echo "#   fails: $f"
	done
done
echo "1..$n"
[ "$failed" -eq 0 ]
