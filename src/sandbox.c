/*
 * The layers of sandbox.h, in this order: no new privileges first
 * (Landlock and a seccomp filter set up without CAP_SYS_ADMIN require it),
 * then Landlock (building its rules needs open, fstat and the landlock
 * system calls, which the filter forbids), then the seccomp filter.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <glob.h>
#ifdef __GLIBC__
#include <gnu/libc-version.h>
#endif
#include <linux/landlock.h>
#include <linux/limits.h>	/* PATH_MAX (src/limits.h shadows <limits.h>) */

#include <libesmtp.h>
#include <seccomp.h>
#endif

#include "conf.h"
#include "sandbox.h"
#include "util.h"

#ifndef __linux__

int
sandbox_enter(const struct conf *cf, char *err, size_t errlen)
{
	(void)cf;
	util_seterr(err, errlen, "sandbox: not on this system (Linux only): "
	    "running unsandboxed");
	return SANDBOX_NO_LANDLOCK | SANDBOX_NO_SECCOMP;
}

#else

/*
 * Landlock's rights by ABI version.  Debian 12's <linux/landlock.h> knows
 * ABI 1 and 2; the later ones are the kernel's stable values.  A right the
 * running kernel does not know is not handled (and so not restricted):
 * the ruleset is what the kernel can enforce, never an error.
 */
#define LL_FS_ABI1	((LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1)
#define LL_FS_REFER	(1ULL << 13)	/* ABI 2 */
#define LL_FS_TRUNCATE	(1ULL << 14)	/* ABI 3 */
#define LL_FS_IOCTL_DEV	(1ULL << 15)	/* ABI 5 */
#define LL_NET_BIND_TCP	(1ULL << 0)	/* ABI 4 */
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0)	/* ABI 6 */
#define LL_SCOPE_SIGNAL	(1ULL << 1)
#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT 2

/* The kernel's structures as of ABI 6 (a smaller kernel reads a prefix). */
struct ll_ruleset_attr {
	uint64_t	 handled_access_fs;
	uint64_t	 handled_access_net;
	uint64_t	 scoped;
};

struct ll_path_beneath_attr {
	uint64_t	 allowed_access;
	int32_t		 parent_fd;
} __attribute__((packed));

struct ll_net_port_attr {
	uint64_t	 allowed_access;
	uint64_t	 port;
};

/* The rights a rule may grant on a file that is not a directory. */
#define FS_ON_FILES	(LANDLOCK_ACCESS_FS_EXECUTE | \
	LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | \
	LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)

/*
 * The state directory: SQLite reads and writes the database, creates,
 * truncates and removes its -wal, -shm and -journal files, and opens the
 * directory itself to fsync it.  No subdirectory, link, device or
 * execution.
 */
#define FS_STATE	(LANDLOCK_ACCESS_FS_READ_FILE | \
	LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_DIR | \
	LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_REG | \
	LL_FS_TRUNCATE)

/* Mail's files: read, and list the directories (OpenSSL's CA store does). */
#define FS_READ		(LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)

struct ruleset {
	int		 fd;
	uint64_t	 fs;	/* handled rights: what the rules grant, no more */
	uint64_t	 net;
};

/*
 * Grant access on path: beneath it for a directory, on it for a file.
 * When optional, a path that does not exist or cannot be reached is left
 * out (what is not there needs no right).  0, or -1 with errno set.
 */
static int
allow_path(const struct ruleset *rs, const char *path, uint64_t access,
    int optional)
{
	struct ll_path_beneath_attr pb;
	struct stat st;
	int fd, saved, rc = -1;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) == -1)
		return optional && (errno == ENOENT || errno == EACCES ||
		    errno == ENOTDIR) ? 0 : -1;
	if (fstat(fd, &st) == -1)
		goto out;
	if (!S_ISDIR(st.st_mode))
		access &= FS_ON_FILES;
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = access & rs->fs;
	pb.parent_fd = fd;
	if (pb.allowed_access == 0 || syscall(SYS_landlock_add_rule, rs->fd,
	    LL_RULE_PATH_BENEATH, &pb, 0) == 0)
		rc = 0;
out:
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* Grant read access to every file pattern matches.  0 or -1 (errno). */
static int
allow_glob(const struct ruleset *rs, const char *pattern)
{
	glob_t g;
	size_t i;
	int rc = 0;

	if (glob(pattern, 0, NULL, &g) != 0)
		return 0;	/* no match (or no memory: then no grant) */
	for (i = 0; i < g.gl_pathc && rc == 0; i++)
		rc = allow_path(rs, g.gl_pathv[i], FS_READ, 1);
	globfree(&g);
	return rc;
}

/* The directory of the shared object that holds sym, into dir.  0 or -1. */
static int
object_dir(const void *sym, char *dir, size_t len)
{
	Dl_info di;
	const char *slash;

	if (dladdr(sym, &di) == 0 || di.dli_fname == NULL ||
	    (slash = strrchr(di.dli_fname, '/')) == NULL ||
	    (size_t)(slash - di.dli_fname) >= len)
		return -1;
	memcpy(dir, di.dli_fname, (size_t)(slash - di.dli_fname));
	dir[slash - di.dli_fname] = '\0';
	return 0;
}

static int
allow_port(const struct ruleset *rs, long long port)
{
	struct ll_net_port_attr np;

	if (!(rs->net & LL_NET_CONNECT_TCP))
		return 0;
	np.allowed_access = LL_NET_CONNECT_TCP;
	np.port = (uint64_t)port;
	return syscall(SYS_landlock_add_rule, rs->fd, LL_RULE_NET_PORT, &np,
	    0) == 0 ? 0 : -1;
}

static int
numeric_host(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 ||
	    inet_pton(AF_INET6, host, a) == 1;
}

/*
 * What delivering recipient mail from the worker reads, read only; and
 * the TCP ports it connects to.  All of it goes away when delivery leaves
 * the worker (a later change): then a worker reads nothing outside its
 * state directory and connects nowhere.
 *
 *   smtp_host a name   glibc's resolver: its configuration files, the
 *                      dynamic loader's cache and the NSS modules that
 *                      nsswitch.conf may name; TCP port 53 (a truncated
 *                      answer is asked again over TCP)
 *   STARTTLS not off   OpenSSL's configuration and the CA certificates
 *                      (Debian's places, and where SSL_CERT_FILE,
 *                      SSL_CERT_DIR, OPENSSL_CONF point), libesmtp's
 *                      client certificate and CAs ($XDG_CONFIG_DIR/libesmtp,
 *                      else ~/.config/libesmtp)
 *   smtp_user set      smtp_password_file, read per message; libesmtp's
 *                      SASL plugins, loaded at the first AUTH
 *
 * A path that is not there is left out; delivery then fails as it would
 * without the sandbox, and the message is retried by ots-sweep.
 */
static int
allow_mail(const struct ruleset *rs, const struct conf *cf)
{
	static const char *const resolver[] = {
		"/etc/nsswitch.conf", "/etc/host.conf", "/etc/resolv.conf",
		"/etc/hosts", "/etc/gai.conf", "/etc/ld.so.cache",
	};
	static const char *const tls[] = {
		"/etc/ssl", "/usr/lib/ssl", "/usr/share/ca-certificates",
		"/usr/local/share/ca-certificates",
	};
	static const char *const tls_env[] = {
		"SSL_CERT_FILE", "SSL_CERT_DIR", "OPENSSL_CONF",
	};
	char dir[PATH_MAX], pattern[PATH_MAX + 32];
	const char *p;
	size_t i;
	int n = 0;

	if (allow_port(rs, cf->smtp_port) == -1)
		return -1;
	if (!numeric_host(cf->smtp_host)) {
		for (i = 0; i < sizeof(resolver) / sizeof(resolver[0]); i++)
			if (allow_path(rs, resolver[i], FS_READ, 1) == -1)
				return -1;
#ifdef __GLIBC__
		if (object_dir((const void *)gnu_get_libc_version, dir,
		    sizeof(dir)) == 0) {
			snprintf(pattern, sizeof(pattern), "%s/libnss_*.so*",
			    dir);
			if (allow_glob(rs, pattern) == -1)
				return -1;
		}
#endif
		if (allow_port(rs, 53) == -1)
			return -1;
	}
	if (cf->smtp_starttls != CONF_TLS_OFF) {
		for (i = 0; i < sizeof(tls) / sizeof(tls[0]); i++)
			if (allow_path(rs, tls[i], FS_READ, 1) == -1)
				return -1;
		for (i = 0; i < sizeof(tls_env) / sizeof(tls_env[0]); i++)
			if ((p = getenv(tls_env[i])) != NULL && *p == '/' &&
			    allow_path(rs, p, FS_READ, 1) == -1)
				return -1;
		if ((p = getenv("XDG_CONFIG_DIR")) != NULL && *p == '/')
			n = snprintf(dir, sizeof(dir), "%s/libesmtp", p);
		else if ((p = getenv("HOME")) != NULL && *p == '/')
			n = snprintf(dir, sizeof(dir), "%s/.config/libesmtp", p);
		if (p != NULL && *p == '/' && n > 0 && n < (int)sizeof(dir) &&
		    allow_path(rs, dir, FS_READ, 1) == -1)
			return -1;
	}
	if (cf->smtp_user != NULL) {
		if (cf->smtp_password_file != NULL &&
		    allow_path(rs, cf->smtp_password_file, FS_READ, 1) == -1)
			return -1;
		if (allow_path(rs, "/etc/ld.so.cache", FS_READ, 1) == -1)
			return -1;
		if (object_dir((const void *)smtp_version, dir,
		    sizeof(dir)) == 0) {
			snprintf(pattern, sizeof(pattern), "%s/esmtp-plugins-*",
			    dir);
			if (allow_glob(rs, pattern) == -1)
				return -1;
		}
	}
	return 0;
}

/* The directory part of path ("." when it has none) into dir.  0 or -1. */
static int
dir_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL)
		return snprintf(dir, len, ".") < (int)len ? 0 : -1;
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= len)
		return -1;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return 0;
}

/*
 * Restrict files (and TCP ports, from ABI 4; signals and abstract sockets
 * to this process's own domain, from ABI 6).  0 done, 1 the kernel has no
 * Landlock, -1 error (err set).
 */
static int
restrict_files(const struct conf *cf, char *err, size_t errlen)
{
	struct ll_ruleset_attr attr;
	struct ruleset rs;
	char dir[PATH_MAX];
	long abi;
	int rc = -1;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1) {
		if (errno == ENOSYS || errno == EOPNOTSUPP)
			return 1;
		util_seterr(err, errlen,
		    "sandbox: landlock: %s", strerror(errno));
		return -1;
	}
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = LL_FS_ABI1;
	if (abi >= 2)
		attr.handled_access_fs |= LL_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LL_FS_TRUNCATE;
	if (abi >= 4)
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
	if (abi >= 5)
		attr.handled_access_fs |= LL_FS_IOCTL_DEV;
	if (abi >= 6)
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
	rs.fs = attr.handled_access_fs;
	rs.net = attr.handled_access_net;
	if ((rs.fd = (int)syscall(SYS_landlock_create_ruleset, &attr,
	    sizeof(attr), 0)) == -1) {
		util_seterr(err, errlen,
		    "sandbox: landlock ruleset (ABI %ld): %s",
		    abi, strerror(errno));
		return -1;
	}
	if (dir_of(cf->database, dir, sizeof(dir)) == -1) {
		util_seterr(err, errlen,
		    "sandbox: %s: path too long", cf->database);
		goto out;
	}
	if (allow_path(&rs, dir, FS_STATE, 0) == -1) {
		util_seterr(err, errlen,
		    "sandbox: database directory %s: %s%s", dir,
		    strerror(errno), errno == ENOENT ?
		    " (ots-admin init makes it)" : "");
		goto out;
	}
	/* SQLite seeds its PRNG (WAL salts) here at first use, after start-up */
	if (allow_path(&rs, "/dev/urandom", LANDLOCK_ACCESS_FS_READ_FILE, 1)
	    == -1 || allow_mail(&rs, cf) == -1) {
		util_seterr(err, errlen, "sandbox: landlock rule: %s",
		    strerror(errno));
		goto out;
	}
	if (syscall(SYS_landlock_restrict_self, rs.fd, 0) == -1) {
		util_seterr(err, errlen,
		    "sandbox: landlock: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	close(rs.fd);
	return rc;
}

/*
 * The system calls a worker makes once it serves: found with strace -f
 * over the integration suite (FastCGI and CGI, SQLite, recipient mail
 * with and without STARTTLS and AUTH, a relay named by a host name), and
 * the ones the same libraries make on paths the suite does not take (each
 * named below).  Left out, and refused with EPERM, since the libraries
 * cope: fchown (SQLite, running as root, hands new -wal and -shm files to
 * the database's owner: the same owner), sysinfo (glibc's qsort asks the
 * memory size), netlink sockets (glibc's getaddrinfo asks which address
 * families are configured before sorting several answers, and assumes
 * both when it cannot).  Landlock refuses /etc/localtime, which glibc
 * tries at its first time conversion: ots formats times in UTC only.
 */
static const char *const allowed[] = {
	/* the descriptors it holds: FastCGI or CGI, the log, SQLite's files */
	"read", "pread64", "write", "pwrite64", "close", "fcntl", "fdatasync",
	"ftruncate", "newfstatat",
	"lseek",		/* stdio on a seekable CGI stdin */
	"fstat", "stat", "lstat", "statx",	/* older glibc's stat */
	"fsync",		/* SQLite without fdatasync */
	"flock",		/* locks on files opened at start-up */
	/* opening files: Landlock says which */
	"openat",
	"unlink",		/* SQLite: a -journal; the -wal at the last close */
	"access", "faccessat", "faccessat2",	/* SQLite's checks */
	"readlink", "getcwd",	/* SQLite's full path of a linked or relative db */
	"unlinkat", "readlinkat",	/* the same where glibc uses the *at calls */
	"getdents64",		/* OpenSSL lists its CA directory */
	/* memory: malloc, SQLite's -shm, libsodium's guarded pages, dlopen */
	"brk", "mmap", "munmap", "mprotect", "madvise", "mlock", "munlock",
	"mremap",		/* glibc's realloc of a large block */
	/* the FastCGI connection, the SMTP relay, name resolution */
	"accept", "accept4", "getpeername", "shutdown", "poll", "ppoll",
	"connect", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg",
	"getsockname", "getsockopt", "setsockopt",
	/* time, sleeping (SQLite's busy handler), randomness, locks */
	"clock_gettime", "gettimeofday", "time", "nanosleep",
	"clock_nanosleep", "getrandom", "futex", "sched_yield",
	/* signals (libfcgi handles SIGTERM, SIGUSR1, SIGPIPE), the end */
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "restart_syscall",
	"exit", "exit_group",
	"sigaltstack",		/* a sanitizer's runtime, as its thread ends */
	/* who am I: SQLite, libesmtp (EHLO name, file ownership checks) */
	"getpid", "gettid", "getuid", "geteuid", "uname",
};

/*
 * Calls that only an attacker's code would make: the process dies.  The
 * rest of what is not allowed (mount, bpf, io_uring, kill...) fails with
 * EPERM; each rule here costs a plain CGI request start-up time.
 */
static const char *const killed[] = {
	"execve", "execveat", "ptrace", "process_vm_readv",
	"process_vm_writev",
};

/*
 * The filter: allowed calls pass, the killed ones end the process, every
 * other call fails with EPERM.  Three pass only with the arguments a
 * worker uses: ioctl only to ask whether a descriptor is a terminal
 * (stdio does, for a character device such as /dev/null), socket only for
 * Unix (nscd), IPv4 and IPv6 sockets, tgkill only to this process
 * (abort).  The filter is for the native architecture only: a call made
 * through another ABI (i386 or x32 on x86-64) kills the process.  0, 1
 * the kernel has no seccomp filters, -1 error.
 */
static int
filter_syscalls(char *err, size_t errlen)
{
	static const int families[] = { AF_UNIX, AF_INET, AF_INET6 };
	scmp_filter_ctx ctx = NULL;
	const char *what = "init";
	size_t i;
	int nr, rc = -1, e = 0;

	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == -1 && errno == EINVAL)
		return 1;
	if ((ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM))) == NULL)
		goto fail;
	what = "attributes";
	if ((e = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) < 0 ||
	    (e = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0)
		goto fail;
	what = "rules";
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if ((nr = seccomp_syscall_resolve_name(allowed[i])) !=
		    __NR_SCMP_ERROR && (e = seccomp_rule_add(ctx,
		    SCMP_ACT_ALLOW, nr, 0)) < 0)
			goto fail;
	for (i = 0; i < sizeof(killed) / sizeof(killed[0]); i++)
		if ((nr = seccomp_syscall_resolve_name(killed[i])) !=
		    __NR_SCMP_ERROR && (e = seccomp_rule_add(ctx,
		    SCMP_ACT_KILL_PROCESS, nr, 0)) < 0)
			goto fail;
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if ((e = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
		    SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_MASKED_EQ,
		    0xffffffff, (scmp_datum_t)families[i]))) < 0)
			goto fail;
	if ((e = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)TCGETS))) < 0 ||
	    (e = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
	    SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffff,
	    (scmp_datum_t)getpid()))) < 0)
		goto fail;
	what = "load";
	if ((e = seccomp_load(ctx)) < 0)
		goto fail;
	rc = 0;
fail:
	if (rc == -1)
		util_seterr(err, errlen, "sandbox: seccomp %s: %s", what,
		    e < 0 ? strerror(-e) : "out of memory");
	if (ctx != NULL)
		seccomp_release(ctx);
	return rc;
}

int
sandbox_enter(const struct conf *cf, char *err, size_t errlen)
{
	int missing = 0, rc;

	err[0] = '\0';
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		util_seterr(err, errlen, "sandbox: no_new_privs: %s",
		    strerror(errno));
		return -1;
	}
	if ((rc = restrict_files(cf, err, errlen)) == -1)
		return -1;
	if (rc == 1)
		missing |= SANDBOX_NO_LANDLOCK;
	if ((rc = filter_syscalls(err, errlen)) == -1)
		return -1;
	if (rc == 1)
		missing |= SANDBOX_NO_SECCOMP;
	if (missing)
		util_seterr(err, errlen,
		    "sandbox: the kernel has no %s%s%s: the "
		    "worker runs without it", missing & SANDBOX_NO_LANDLOCK ?
		    "Landlock (files are not restricted)" : "",
		    missing == (SANDBOX_NO_LANDLOCK | SANDBOX_NO_SECCOMP) ?
		    " and no " : "", missing & SANDBOX_NO_SECCOMP ?
		    "seccomp filter (system calls are not restricted)" : "");
	return missing;
}

#endif
