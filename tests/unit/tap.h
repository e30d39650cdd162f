/*
 * tap: a tiny Test Anything Protocol writer for the unit tests.  Header
 * only: each test program is one .c file that includes it.
 *
 * Every check prints "ok N - what" or "not ok N - what" (with the got and
 * expected values as diagnostics); done() prints the plan when plan() was
 * not called first and returns the exit status: non-zero when a check
 * failed or the number of checks differs from the plan.  A program that
 * dies half-way leaves no plan, which the TAP driver reports as an error.
 *
 * tap_tmpdir() and tap_rmtree() give the tests that need files (keys,
 * databases, configuration) a private directory under $TMPDIR.
 */
#ifndef OTS_TAP_H
#define OTS_TAP_H

#include <sys/stat.h>

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int tap_planned = -1;	/* -1: plan printed by done() */
static int tap_run;
static int tap_failed;

#define TAP_PRINTF(a, b)	__attribute__((format(printf, a, b)))

static inline void
plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static inline void TAP_PRINTF(1, 2)
diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

/* Print one result line; returns cond so that callers can skip on failure. */
static inline int
tap_result(int cond, const char *fmt, va_list ap)
{
	tap_run++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_run);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	return cond;
}

static inline int TAP_PRINTF(2, 3)
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_result(cond, fmt, ap);
	va_end(ap);
	return cond;
}

static inline int TAP_PRINTF(3, 4)
is_int(long long got, long long want, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_result(got == want, fmt, ap);
	va_end(ap);
	if (got != want)
		diag("     got: %lld\n#   expected: %lld", got, want);
	return got == want;
}

/* Equal strings; NULL equals only NULL. */
static inline int TAP_PRINTF(3, 4)
is_str(const char *got, const char *want, const char *fmt, ...)
{
	va_list ap;
	int cond;

	cond = (got == NULL || want == NULL) ? got == want :
	    strcmp(got, want) == 0;
	va_start(ap, fmt);
	tap_result(cond, fmt, ap);
	va_end(ap);
	if (!cond)
		diag("     got: %s%s%s\n#   expected: %s%s%s",
		    got ? "\"" : "", got ? got : "NULL", got ? "\"" : "",
		    want ? "\"" : "", want ? want : "NULL", want ? "\"" : "");
	return cond;
}

/* A check that cannot run here (why says so): counted, never failed. */
static inline void TAP_PRINTF(2, 3)
skip(const char *why, const char *fmt, ...)
{
	va_list ap;

	tap_run++;
	printf("ok %d - ", tap_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" # SKIP %s\n", why);
	fflush(stdout);
}

/* The exit status of the program: 0 when every planned check passed. */
static inline int
done(void)
{
	if (tap_planned < 0)
		printf("1..%d\n", tap_run);
	else if (tap_run != tap_planned)
		diag("planned %d checks but ran %d", tap_planned, tap_run);
	if (tap_failed > 0)
		diag("failed %d of %d checks", tap_failed, tap_run);
	fflush(stdout);
	return (tap_failed > 0 ||
	    (tap_planned >= 0 && tap_run != tap_planned)) ? 1 : 0;
}

/* Stop at once when a check the rest depends on failed. */
static inline void TAP_PRINTF(1, 2)
bail_out(const char *fmt, ...)
{
	va_list ap;

	fputs("Bail out! ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	exit(1);
}

/* Make a private directory; its path goes into dir (PATH_MAX-sized). */
static inline void
tap_tmpdir(char *dir, size_t len)
{
	const char *t = getenv("TMPDIR");
	int n;

	n = snprintf(dir, len, "%s/ots-unit.XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	if (n < 0 || (size_t)n >= len || mkdtemp(dir) == NULL)
		bail_out("cannot make a temporary directory");
}

/* Remove dir and the plain files in it (the tests make no subdirectories). */
static inline void
tap_rmtree(const char *dir)
{
	char path[4096];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) <
		    (int)sizeof(path))
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* The permission bits of path, or -1. */
static inline int
tap_mode(const char *path)
{
	struct stat st;

	return stat(path, &st) == -1 ? -1 : (int)(st.st_mode & 07777);
}

#endif
