/*
 * fakeclock.so: the integration tests' movable wall clock.
 *
 * Preloaded (LD_PRELOAD) into the ots processes a test starts, with
 * OTS_FAKECLOCK_FILE naming a file that holds an offset in seconds
 * ("+86400").  time(), gettimeofday() and clock_gettime() on the realtime
 * clocks answer the real time plus that offset, read afresh on every call,
 * so the harness moves the clock of running workers by rewriting the file.
 * Monotonic clocks are left alone.  Without the variable, or when the file
 * cannot be read, the offset is 0.
 *
 * Only raw system calls: no dlsym, no malloc, no stdio.  A sanitizer's
 * runtime asks for the time while its allocator starts up, before any
 * library constructor has run; this library needs no set-up to answer.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static long long
offset(void)
{
	const char *path = getenv("OTS_FAKECLOCK_FILE");
	char buf[32];
	long fd, n, i = 0;
	long long v = 0;
	int neg = 0;

	if (path == NULL)
		return 0;
	fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = syscall(SYS_read, fd, buf, sizeof(buf) - 1);
	syscall(SYS_close, fd);
	if (n <= 0)
		return 0;
	if (buf[0] == '+' || buf[0] == '-')
		neg = buf[i++] == '-';
	for (; i < n && i < 19 && buf[i] >= '0' && buf[i] <= '9'; i++)
		v = v * 10 + (buf[i] - '0');
	return neg ? -v : v;
}

int
clock_gettime(clockid_t clk, struct timespec *ts)
{
	if (syscall(SYS_clock_gettime, clk, ts) != 0)
		return -1;
	if (clk == CLOCK_REALTIME || clk == CLOCK_REALTIME_COARSE)
		ts->tv_sec += offset();
	return 0;
}

int
gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	struct timespec ts;

	(void)tz;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return -1;
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}

time_t
time(time_t *t)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return (time_t)-1;
	if (t != NULL)
		*t = ts.tv_sec;
	return ts.tv_sec;
}
