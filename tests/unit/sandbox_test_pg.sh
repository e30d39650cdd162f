#!/bin/sh
# sandbox_test with its PostgreSQL checks, against a throwaway cluster made by
# pg_run.sh (skipped where the PostgreSQL 15 server is not installed).
here=$(cd "$(dirname "$0")" && pwd)
build=${OTS_BUILDDIR:-$(cd "$here/../.." && pwd)}
OTS_TEST_ENGINE=postgresql
export OTS_TEST_ENGINE
exec "$here/pg_run.sh" --tap "$build/tests/unit/sandbox_test"
