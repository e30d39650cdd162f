/*
 * syncshim.so: records, in one order shared by every process, when the
 * database's WAL is written, when it is synced, and when an answer starts
 * to leave (tests/integration/t_durable.py; issue 14: an acknowledged
 * write survives a power cut).
 *
 * Preloaded (LD_PRELOAD) into the ots processes a test starts.  It stands
 * between the program (and the libraries it links: SQLite, libfcgi) and
 * glibc's write, pwrite, pwrite64, writev, send, sendto, sendmsg, fsync
 * and fdatasync:
 *
 *   OTS_SYNCSHIM_DB    the database file's full path (no symbolic link in
 *                      it: it is compared with what the kernel says a
 *                      descriptor is).  Its WAL is that path and "-wal".
 *   OTS_SYNCSHIM_LOG   the trace, opened once (O_APPEND): one line per
 *                      event, each a single write(2), so that lines of
 *                      the processes sharing the file do not mix.
 *   OTS_SYNCSHIM_SEQ   a file of at least 8 bytes, zero at first, mapped
 *                      shared: the counter every process numbers its
 *                      events from (an atomic add), so that the trace's
 *                      order across processes is exact, not clock-based.
 *   OTS_SYNCSHIM_SKIP  1: fsync and fdatasync of the WAL return 0 without
 *                      syncing and are not recorded (a negative control:
 *                      the test must then see unsynced answers).
 *
 * Without the first three the library only forwards.  Trace lines:
 *
 *   syncshim start pid=P ppid=Q skip=0|1
 *   syncshim wal pid=P fd=F ino=I op=pwrite64 n=BYTES seq=S
 *   syncshim sync pid=P fd=F ino=I op=fdatasync before=S1 after=S2 rc=R
 *   syncshim resp pid=P fd=F op=write seq=S
 *
 * "wal" is a write to the WAL that returned (S taken after it returned:
 * the bytes were in the kernel's hands before S).  "sync" is an fsync or
 * fdatasync of the WAL: S1 taken before the call, S2 after it returned,
 * R 0 on success, else the call's errno.  "resp" is a write to a socket
 * (FastCGI: the connection to the web server) or to standard output when
 * it is a pipe (plain CGI): S taken before the call, so nothing of it can
 * have left before S.  Every such write is recorded; the first of an
 * answer is the one that matters.  A sync covers a WAL write at S when
 * S1 > S (it began after the bytes were written), and an answer at S' when
 * S2 < S' (it had returned before the answer began).  Files are told apart
 * by fstat and by what /proc/self/fd/N links to (the worker's sandbox
 * allows readlink), checked on every call: a test can afford it.
 *
 * Not seen: what does not go through these symbols (a raw syscall(2),
 * io_uring, glibc's own stdio writes, a mapped WAL).  A missed answer or
 * WAL write shows as fewer writing answers than requests, which the test
 * counts; a WAL opened with O_DSYNC would show as unsynced (a false alarm,
 * never a pass).
 *
 * Safety: the real functions are found with dlsym(RTLD_NEXT) on first use;
 * the trace is written through the real write, so it never records
 * itself, and a thread-local flag makes any call made while the library is
 * busy a plain forward.  errno is what the real call left.  The files are
 * opened and mapped by a constructor, before any sandbox.  Built by `make
 * check` with plain $(CC), like wipeshim.so.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PATH_MAX_	4096

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*pwrite64_fn)(int, const void *, size_t, off64_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);
typedef ssize_t (*send_fn)(int, const void *, size_t, int);
typedef ssize_t (*sendto_fn)(int, const void *, size_t, int,
    const struct sockaddr *, socklen_t);
typedef ssize_t (*sendmsg_fn)(int, const struct msghdr *, int);
typedef int (*sync_fn)(int);

static write_fn real_write;
static pwrite_fn real_pwrite;
static pwrite64_fn real_pwrite64;
static writev_fn real_writev;
static send_fn real_send;
static sendto_fn real_sendto;
static sendmsg_fn real_sendmsg;
static sync_fn real_fsync, real_fdatasync;

static __thread int busy __attribute__((tls_model("initial-exec")));

/* Settings, written once by the constructor. */
static int armed;
static int skip;
static int log_fd = -1;
static uint64_t *counter;
static char wal[PATH_MAX_];
static size_t wal_len;

/* The next number of the shared order. */
static unsigned long long
next_seq(void)
{
	return __atomic_add_fetch(counter, 1, __ATOMIC_SEQ_CST);
}

/* -- formatting without malloc */

struct line {
	char	b[512];
	size_t	n;
};

static void
put(struct line *l, const char *s)
{
	size_t k = strlen(s);

	if (k > sizeof(l->b) - 1 - l->n)
		k = sizeof(l->b) - 1 - l->n;
	memcpy(l->b + l->n, s, k);
	l->n += k;
}

static void
putu(struct line *l, unsigned long long v)
{
	char d[24];
	int i = sizeof(d);

	do
		d[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	if ((size_t)(sizeof(d) - (size_t)i) <= sizeof(l->b) - 1 - l->n) {
		memcpy(l->b + l->n, d + i, sizeof(d) - (size_t)i);
		l->n += sizeof(d) - (size_t)i;
	}
}

static void
field(struct line *l, const char *name, unsigned long long v)
{
	put(l, " ");
	put(l, name);
	put(l, "=");
	putu(l, v);
}

static void
head(struct line *l, const char *what, int fd)
{
	l->n = 0;
	put(l, "syncshim ");
	put(l, what);
	field(l, "pid", (unsigned long long)getpid());
	if (fd >= 0)
		field(l, "fd", (unsigned long long)fd);
}

/* One line, one write(2) through the real function (never recorded). */
static void
emit(struct line *l)
{
	const char *p = l->b;
	size_t n;
	ssize_t w;

	l->b[l->n++] = '\n';
	n = l->n;
	while (n > 0) {
		if ((w = real_write(log_fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

/* -- what a descriptor is */

enum kind { OTHER, WAL, ANSWER };

static enum kind
classify(int fd, ino_t *ino)
{
	char path[PATH_MAX_];
	struct line l;
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) == -1)
		return OTHER;
	*ino = st.st_ino;
	if (S_ISSOCK(st.st_mode) || (fd == STDOUT_FILENO &&
	    S_ISFIFO(st.st_mode)))
		return ANSWER;
	if (!S_ISREG(st.st_mode))
		return OTHER;
	l.n = 0;
	put(&l, "/proc/self/fd/");
	putu(&l, (unsigned long long)fd);
	l.b[l.n] = '\0';
	if ((n = readlink(l.b, path, sizeof(path))) < 0 ||
	    (size_t)n != wal_len || memcmp(path, wal, wal_len) != 0)
		return OTHER;
	return WAL;
}

/* -- the events */

/* Before a call: its kind (OTHER when nothing is to be recorded); an
 * answer is recorded here, before anything of it leaves. */
static enum kind
before(int fd, const char *op, ino_t *ino)
{
	struct line l;
	enum kind k;
	int saved = errno;

	if (!armed || busy)
		return OTHER;
	busy++;
	k = classify(fd, ino);
	if (k == ANSWER) {
		head(&l, "resp", fd);
		put(&l, " op=");
		put(&l, op);
		field(&l, "seq", next_seq());
		emit(&l);
	}
	busy--;
	errno = saved;
	return k;
}

/* After a call that wrote n bytes to the WAL. */
static void
after_wal(int fd, const char *op, ino_t ino, ssize_t n)
{
	struct line l;
	int saved = errno;

	if (n < 0)
		return;
	busy++;
	head(&l, "wal", fd);
	field(&l, "ino", (unsigned long long)ino);
	put(&l, " op=");
	put(&l, op);
	field(&l, "n", (unsigned long long)n);
	field(&l, "seq", next_seq());
	emit(&l);
	busy--;
	errno = saved;
}

static ssize_t
wrote(int fd, const char *op, ino_t ino, enum kind k, ssize_t n)
{
	if (k == WAL)
		after_wal(fd, op, ino, n);
	return n;
}

/* -- the wrappers */

ssize_t
write(int fd, const void *buf, size_t len)
{
	ino_t ino = 0;
	enum kind k;

	if (real_write == NULL)
		real_write = (write_fn)dlsym(RTLD_NEXT, "write");
	k = before(fd, "write", &ino);
	return wrote(fd, "write", ino, k, real_write(fd, buf, len));
}

ssize_t
pwrite(int fd, const void *buf, size_t len, off_t off)
{
	ino_t ino = 0;
	enum kind k;

	if (real_pwrite == NULL)
		real_pwrite = (pwrite_fn)dlsym(RTLD_NEXT, "pwrite");
	k = before(fd, "pwrite", &ino);
	return wrote(fd, "pwrite", ino, k, real_pwrite(fd, buf, len, off));
}

ssize_t
pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
	ino_t ino = 0;
	enum kind k;

	if (real_pwrite64 == NULL)
		real_pwrite64 = (pwrite64_fn)dlsym(RTLD_NEXT, "pwrite64");
	k = before(fd, "pwrite64", &ino);
	return wrote(fd, "pwrite64", ino, k, real_pwrite64(fd, buf, len, off));
}

ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
	ino_t ino = 0;
	enum kind k;

	if (real_writev == NULL)
		real_writev = (writev_fn)dlsym(RTLD_NEXT, "writev");
	k = before(fd, "writev", &ino);
	return wrote(fd, "writev", ino, k, real_writev(fd, iov, cnt));
}

ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
	ino_t ino = 0;

	if (real_send == NULL)
		real_send = (send_fn)dlsym(RTLD_NEXT, "send");
	(void)before(fd, "send", &ino);
	return real_send(fd, buf, len, flags);
}

ssize_t
sendto(int fd, const void *buf, size_t len, int flags,
    const struct sockaddr *to, socklen_t tolen)
{
	ino_t ino = 0;

	if (real_sendto == NULL)
		real_sendto = (sendto_fn)dlsym(RTLD_NEXT, "sendto");
	(void)before(fd, "sendto", &ino);
	return real_sendto(fd, buf, len, flags, to, tolen);
}

ssize_t
sendmsg(int fd, const struct msghdr *msg, int flags)
{
	ino_t ino = 0;

	if (real_sendmsg == NULL)
		real_sendmsg = (sendmsg_fn)dlsym(RTLD_NEXT, "sendmsg");
	(void)before(fd, "sendmsg", &ino);
	return real_sendmsg(fd, msg, flags);
}

/* An fsync or fdatasync: of the WAL, timed in the shared order (or, with
 * OTS_SYNCSHIM_SKIP, not made at all). */
static int
synced(int fd, const char *op, sync_fn fn)
{
	unsigned long long s1;
	struct line l;
	ino_t ino = 0;
	int rc, saved;

	if (!armed || busy)
		return fn(fd);
	busy++;
	saved = errno;
	if (classify(fd, &ino) != WAL) {
		busy--;
		errno = saved;
		return fn(fd);
	}
	if (skip) {
		busy--;
		errno = saved;
		return 0;
	}
	s1 = next_seq();
	errno = saved;
	rc = fn(fd);
	saved = errno;
	head(&l, "sync", fd);
	field(&l, "ino", (unsigned long long)ino);
	put(&l, " op=");
	put(&l, op);
	field(&l, "before", s1);
	field(&l, "after", next_seq());
	field(&l, "rc", rc == 0 ? 0 : (unsigned long long)saved);
	emit(&l);
	busy--;
	errno = saved;
	return rc;
}

int
fsync(int fd)
{
	if (real_fsync == NULL)
		real_fsync = (sync_fn)dlsym(RTLD_NEXT, "fsync");
	return synced(fd, "fsync", real_fsync);
}

int
fdatasync(int fd)
{
	if (real_fdatasync == NULL)
		real_fdatasync = (sync_fn)dlsym(RTLD_NEXT, "fdatasync");
	return synced(fd, "fdatasync", real_fdatasync);
}

/* -- set-up */

__attribute__((constructor)) static void
init(void)
{
	const char *db = getenv("OTS_SYNCSHIM_DB");
	const char *logp = getenv("OTS_SYNCSHIM_LOG");
	const char *seqp = getenv("OTS_SYNCSHIM_SEQ");
	const char *sk = getenv("OTS_SYNCSHIM_SKIP");
	struct line l;
	size_t n;
	void *m;
	int fd;

	if (real_write == NULL)
		real_write = (write_fn)dlsym(RTLD_NEXT, "write");
	if (db == NULL || logp == NULL || seqp == NULL || real_write == NULL)
		return;
	if ((n = strlen(db)) + 5 > sizeof(wal))
		return;
	memcpy(wal, db, n);
	memcpy(wal + n, "-wal", 5);
	wal_len = n + 4;
	if ((fd = open(seqp, O_RDWR | O_CLOEXEC)) == -1)
		return;
	m = mmap(NULL, sizeof(*counter), PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return;
	counter = m;
	if ((log_fd = open(logp, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) == -1)
		return;
	skip = sk != NULL && strcmp(sk, "1") == 0;
	armed = 1;
	head(&l, "start", -1);
	field(&l, "ppid", (unsigned long long)getppid());
	field(&l, "skip", (unsigned long long)skip);
	emit(&l);
}
