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
#include <pwd.h>
#ifdef __GLIBC__
#include <gnu/libc-version.h>
#endif
#include <linux/landlock.h>
#include <linux/limits.h>	/* PATH_MAX (src/limits.h shadows <limits.h>) */

#include <seccomp.h>
#endif

#include "conf.h"
#include "pq.h"
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

/* The NSS modules glibc may load (resolver, user database). */
static int
allow_nss(const struct ruleset *rs)
{
#ifdef __GLIBC__
	char dir[PATH_MAX], pattern[PATH_MAX + 32];

	if (object_dir((const void *)gnu_get_libc_version, dir,
	    sizeof(dir)) == 0) {
		snprintf(pattern, sizeof(pattern), "%s/libnss_*.so*", dir);
		return allow_glob(rs, pattern);
	}
#else
	(void)rs;
#endif
	return 0;
}

/*
 * glibc's resolver, for a host given by name: its configuration files,
 * the dynamic loader's cache and the NSS modules that nsswitch.conf may
 * name; TCP port 53 (a truncated answer is asked again over TCP).
 */
static int
allow_resolver(const struct ruleset *rs)
{
	static const char *const files[] = {
		"/etc/nsswitch.conf", "/etc/host.conf", "/etc/resolv.conf",
		"/etc/hosts", "/etc/gai.conf", "/etc/ld.so.cache",
	};
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (allow_path(rs, files[i], FS_READ, 1) == -1)
			return -1;
	if (allow_nss(rs) == -1)
		return -1;
	return allow_port(rs, 53);
}

/*
 * OpenSSL's configuration and the CA certificates: Debian's places, and
 * where SSL_CERT_FILE, SSL_CERT_DIR and OPENSSL_CONF point.
 */
static int
allow_tls(const struct ruleset *rs)
{
	static const char *const tls[] = {
		"/etc/ssl", "/usr/lib/ssl", "/usr/share/ca-certificates",
		"/usr/local/share/ca-certificates",
	};
	static const char *const tls_env[] = {
		"SSL_CERT_FILE", "SSL_CERT_DIR", "OPENSSL_CONF",
	};
	const char *p;
	size_t i;

	for (i = 0; i < sizeof(tls) / sizeof(tls[0]); i++)
		if (allow_path(rs, tls[i], FS_READ, 1) == -1)
			return -1;
	for (i = 0; i < sizeof(tls_env) / sizeof(tls_env[0]); i++)
		if ((p = getenv(tls_env[i])) != NULL && *p == '/' &&
		    allow_path(rs, p, FS_READ, 1) == -1)
			return -1;
	return 0;
}

/*
 * The libpq settings that decide what a connection reads and where it
 * connects, with the environment variable that stands in for each.
 */
enum {
	PG_HOST, PG_HOSTADDR, PG_PORT, PG_USER, PG_PASSFILE, PG_SSLMODE,
	PG_SSLROOTCERT, PG_SSLCERT, PG_SSLKEY, PG_SSLCRL, PG_SSLCRLDIR,
	PG_REQUIREPEER, PG_SERVICE, PG_NOPT
};
static const char *const pg_keys[PG_NOPT][2] = {
	{ "host", "PGHOST" }, { "hostaddr", "PGHOSTADDR" },
	{ "port", "PGPORT" }, { "user", "PGUSER" },
	{ "passfile", "PGPASSFILE" }, { "sslmode", "PGSSLMODE" },
	{ "sslrootcert", "PGSSLROOTCERT" }, { "sslcert", "PGSSLCERT" },
	{ "sslkey", "PGSSLKEY" }, { "sslcrl", "PGSSLCRL" },
	{ "sslcrldir", "PGSSLCRLDIR" }, { "requirepeer", "PGREQUIREPEER" },
	{ "service", "PGSERVICE" },
};
#define PG_VALUE_MAX	1024
#define PG_DEFAULT_PORT	5432
/* libpq's system-wide service file (Debian's; PGSYSCONFDIR overrides) */
#define PG_SYSCONFDIR	"/etc/postgresql-common"

struct pgopts {
	char	 v[PG_NOPT][PG_VALUE_MAX];
	int	 set[PG_NOPT];
};

static void
pg_set(struct pgopts *o, int i, const char *val, size_t len)
{
	if (o->set[i] || len >= PG_VALUE_MAX)
		return;
	memcpy(o->v[i], val, len);
	o->v[i][len] = '\0';
	o->set[i] = 1;
}

/*
 * Fill what is not set yet from section service of the service file at
 * path, as libpq reads it ("[name]" lines, then "keyword=value" lines).
 * The file is granted for reading too: libpq reads it at each connect.
 * 1 the service was found, 0 not, -1 error.
 */
static int
pg_service(const struct ruleset *rs, struct pgopts *o, const char *path,
    const char *service)
{
	char line[PG_VALUE_MAX + 64], *eq;
	size_t n, i;
	int in = 0, found = 0;
	FILE *f;

	if (allow_path(rs, path, FS_READ, 1) == -1)
		return -1;
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '[') {
			n = strcspn(line + 1, "]");
			in = n == strlen(service) &&
			    strncmp(line + 1, service, n) == 0;
			found |= in;
			continue;
		}
		if (!in || line[0] == '#' || (eq = strchr(line, '=')) == NULL)
			continue;
		for (i = 0; i < PG_NOPT; i++)
			if ((size_t)(eq - line) == strlen(pg_keys[i][0]) &&
			    strncmp(line, pg_keys[i][0], eq - line) == 0)
				pg_set(o, (int)i, eq + 1, strlen(eq + 1));
	}
	fclose(f);
	return found;
}

/* The n-th item of a comma-separated list into out; 0, or -1 if none. */
static int
pg_item(const char *list, int n, char *out, size_t len)
{
	size_t k;

	for (; n > 0; n--) {
		if ((list = strchr(list, ',')) == NULL)
			return -1;
		list++;
	}
	k = strcspn(list, ",");
	if (k >= len)
		return -1;
	memcpy(out, list, k);
	out[k] = '\0';
	return 0;
}

static int
pg_count(const char *list)
{
	int n = 1;

	while ((list = strchr(list, ',')) != NULL) {
		list++;
		n++;
	}
	return n;
}

/*
 * What libpq needs to connect to the database again from a sandboxed
 * worker (the store connects on the first request and again after a lost
 * connection), read from the conninfo (PQconninfoParse), then the service
 * file it names, then libpq's environment variables, as libpq does:
 *
 *   each TCP host      a TCP connect to its port (default 5432); the
 *                      resolver when it is a name without a hostaddr
 *   a socket directory nothing: Landlock does not govern connecting to a
 *                      named Unix socket, seccomp allows AF_UNIX
 *   passwords          passfile (default ~/.pgpass), read at each connect
 *   TLS (sslmode not   OpenSSL's files, ~/.postgresql/ (libpq's default
 *   disable, TCP)      root.crt, postgresql.crt/.key, root.crl) and the
 *                      sslrootcert, sslcert, sslkey, sslcrl, sslcrldir
 *                      named
 *   a service          PGSERVICEFILE (default ~/.pg_service.conf) and
 *                      $PGSYSCONFDIR/pg_service.conf (Debian's
 *                      /etc/postgresql-common)
 *   the user database  when libpq must ask it: no user given (it takes
 *                      the login name), no $HOME (it looks up the home
 *                      directory), or requirepeer: nsswitch.conf,
 *                      /etc/passwd and the NSS modules
 *
 * Kerberos (GSSAPI) is not granted: libpq looks for a credential cache,
 * finds none it may read, and goes on without GSS encryption.
 */
static int
allow_pg(const struct ruleset *rs, const struct conf *cf, char *err,
    size_t errlen)
{
	PQconninfoOption *opts, *op;
	char home[PATH_MAX], path[PATH_MAX + 32], host[PG_VALUE_MAX];
	char addr[PG_VALUE_MAX], port[16];
	const char *p, *service;
	struct passwd *pw;
	struct pgopts *o;
	int i, n, hosts, ports, tcp = 0, names = 0, rc = -1;
	long long portnum;
	char *msg = NULL;

	/* loaded now, while the program's libraries are still readable */
	if (pq_load(err, errlen) == -1)
		return -1;
	if ((opts = pq.PQconninfoParse(cf->database, &msg)) == NULL) {
		/* not libpq's message: it may quote a piece of a password */
		util_seterr(err, errlen, "sandbox: database: %s",
		    msg != NULL ? "not a valid libpq conninfo" :
		    "out of memory");
		pq.PQfreemem(msg);
		return -1;
	}
	if ((o = calloc(1, sizeof(*o))) == NULL) {
		util_seterr(err, errlen, "sandbox: out of memory");
		pq.PQconninfoFree(opts);
		return -1;
	}
	for (op = opts; op->keyword != NULL; op++)
		for (i = 0; i < PG_NOPT; i++)
			if (op->val != NULL && *op->val != '\0' &&
			    strcmp(op->keyword, pg_keys[i][0]) == 0)
				pg_set(o, i, op->val, strlen(op->val));
	pq.PQconninfoFree(opts);

	/* the home directory, as libpq finds it (outside the sandbox here) */
	home[0] = '\0';
	if ((p = getenv("HOME")) != NULL && *p == '/')
		snprintf(home, sizeof(home), "%s", p);
	else if ((pw = getpwuid(geteuid())) != NULL && pw->pw_dir != NULL)
		snprintf(home, sizeof(home), "%s", pw->pw_dir);

	service = o->set[PG_SERVICE] ? o->v[PG_SERVICE] : getenv("PGSERVICE");
	if (service != NULL && *service != '\0') {
		if ((p = getenv("PGSERVICEFILE")) != NULL && *p != '\0')
			snprintf(path, sizeof(path), "%s", p);
		else
			snprintf(path, sizeof(path), "%s/.pg_service.conf",
			    home);
		if ((n = pg_service(rs, o, path, service)) == -1)
			goto errno_fail;
		p = getenv("PGSYSCONFDIR");
		snprintf(path, sizeof(path), "%s/pg_service.conf",
		    p != NULL && *p != '\0' ? p : PG_SYSCONFDIR);
		if (n == 0 && pg_service(rs, o, path, service) == -1)
			goto errno_fail;
	}
	for (i = 0; i < PG_NOPT; i++)
		if (!o->set[i] && (p = getenv(pg_keys[i][1])) != NULL &&
		    *p != '\0')
			pg_set(o, i, p, strlen(p));

	/* each host: a TCP port, and the resolver for a name */
	hosts = pg_count(o->v[PG_HOST]);
	if (o->set[PG_HOSTADDR] && pg_count(o->v[PG_HOSTADDR]) > hosts)
		hosts = pg_count(o->v[PG_HOSTADDR]);
	ports = pg_count(o->v[PG_PORT]);
	for (i = 0; i < hosts; i++) {
		if (pg_item(o->v[PG_HOST], i, host, sizeof(host)) == -1)
			host[0] = '\0';
		if (pg_item(o->v[PG_HOSTADDR], i, addr, sizeof(addr)) == -1)
			addr[0] = '\0';
		/* no host, or a directory (or @abstract): a Unix socket */
		if (addr[0] == '\0' && (host[0] == '\0' || host[0] == '/' ||
		    host[0] == '@'))
			continue;
		tcp = 1;
		if (addr[0] == '\0' && !numeric_host(host))
			names = 1;
		if (pg_item(o->v[PG_PORT], ports == 1 ? 0 : i, port,
		    sizeof(port)) == -1 || port[0] == '\0' ||
		    util_strtoll(port, strlen(port), 1, 65535, &portnum) == -1)
			portnum = PG_DEFAULT_PORT;
		if (allow_port(rs, portnum) == -1)
			goto errno_fail;
	}
	if (names && allow_resolver(rs) == -1)
		goto errno_fail;

	/* the password file */
	if (o->set[PG_PASSFILE])
		snprintf(path, sizeof(path), "%s", o->v[PG_PASSFILE]);
	else
		snprintf(path, sizeof(path), "%s/.pgpass", home);
	if (path[0] == '/' && allow_path(rs, path, FS_READ, 1) == -1)
		goto errno_fail;

	/* TLS: OpenSSL's files, libpq's default directory, the files named */
	if (tcp && strcmp(o->v[PG_SSLMODE], "disable") != 0) {
		if (allow_tls(rs) == -1)
			goto errno_fail;
		snprintf(path, sizeof(path), "%s/.postgresql", home);
		if (home[0] == '/' && allow_path(rs, path, FS_READ, 1) == -1)
			goto errno_fail;
		for (i = PG_SSLROOTCERT; i <= PG_SSLCRLDIR; i++)
			if (o->set[i] && o->v[i][0] == '/' &&
			    allow_path(rs, o->v[i], FS_READ, 1) == -1)
				goto errno_fail;
	}

	/* libpq asks the user database for what it was not told */
	if (!o->set[PG_USER] || getenv("HOME") == NULL ||
	    o->set[PG_REQUIREPEER]) {
		if (allow_path(rs, "/etc/nsswitch.conf", FS_READ, 1) == -1 ||
		    allow_path(rs, "/etc/passwd", FS_READ, 1) == -1 ||
		    allow_path(rs, "/etc/ld.so.cache", FS_READ, 1) == -1 ||
		    allow_nss(rs) == -1)
			goto errno_fail;
	}
	rc = 0;
	goto out;
errno_fail:
	util_seterr(err, errlen, "sandbox: landlock rule: %s",
	    strerror(errno));
out:
	free(o);
	return rc;
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
	const char *db;
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
	/* this host's lock files (the gate's) */
	if (allow_path(&rs, cf->state_dir, FS_STATE, 0) == -1) {
		util_seterr(err, errlen,
		    "sandbox: state directory %s: %s%s", cf->state_dir,
		    strerror(errno), errno == ENOENT ?
		    " (ots-admin init makes it)" : "");
		goto out;
	}
	if (conf_is_postgresql(cf->database)) {
		if (allow_pg(&rs, cf, err, errlen) == -1)
			goto out;
	} else {
		/* SQLite's file, -wal, -shm and -journal, when elsewhere */
		db = strncmp(cf->database, "sqlite:", 7) == 0 ?
		    cf->database + 7 : cf->database;
		if (dir_of(db, dir, sizeof(dir)) == -1) {
			util_seterr(err, errlen,
			    "sandbox: %s: path too long", db);
			goto out;
		}
		if (strcmp(dir, cf->state_dir) != 0 &&
		    allow_path(&rs, dir, FS_STATE, 0) == -1) {
			util_seterr(err, errlen,
			    "sandbox: database directory %s: %s%s", dir,
			    strerror(errno), errno == ENOENT ?
			    " (ots-admin init makes it)" : "");
			goto out;
		}
	}
	/* SQLite seeds its PRNG (WAL salts) here at first use, after start-up */
	if (allow_path(&rs, "/dev/urandom", LANDLOCK_ACCESS_FS_READ_FILE, 1)
	    == -1) {
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
 * over the integration suite (FastCGI and CGI, SQLite; recipient mail
 * when the worker still delivered it, so a few below are now unused), over
 * libpq connecting and reconnecting (TCP and a Unix socket: socket,
 * setsockopt, connect, poll, getsockopt, getsockname, sendto, recvfrom;
 * GSSAPI's look for a credential cache fails closed), and
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
	"statfs",		/* /readyz: the database's free space */
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
	/* the FastCGI connection, libpq, the SMTP relay, name resolution */
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
