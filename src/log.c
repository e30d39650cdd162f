#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static const char *logname = "ots";

void
log_init(const char *progname)
{
	logname = progname;
}

static void
vlog(int with_errno, const char *fmt, va_list ap)
{
	char msg[512];
	int saved = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno)
		fprintf(stderr, "%s: %s: %s\n", logname, msg, strerror(saved));
	else
		fprintf(stderr, "%s: %s\n", logname, msg);
	fflush(stderr);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(0, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(1, fmt, ap);
	va_end(ap);
}
