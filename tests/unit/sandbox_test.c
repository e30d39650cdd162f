/*
 * sandbox: children enter the worker's sandbox (sandbox_enter with a
 * configuration whose database lives in a private directory) and then try
 * what a worker may and may not do.  Each refusal is paired with the same
 * action in a child without the sandbox, which must succeed: the refusal
 * is the sandbox's.  Checks that need a kernel feature this kernel lacks
 * (Landlock, its TCP rules, seccomp) are skipped, saying which.
 */
#include "config.h"

#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/landlock.h>
#include <sys/prctl.h>

#include <libpq-fe.h>

#include "conf.h"
#include "crypto.h"
#include "sandbox.h"
#include "store.h"
#include "new_store.h"

#include "tap.h"

#define NO_RESULT	-1000	/* the child ended before it answered */

static char dir[1024], other[1024], path[1200], err[512];
static int landlock_abi, has_seccomp;

/* The outcome of an action in a child. */
struct result {
	int	 entered;	/* sandbox_enter's result (0 without it) */
	int	 err;		/* 0 done, else the errno; NO_RESULT */
	int	 sig;		/* the signal that ended the child, or 0 */
};

typedef int (*action)(const char *);	/* 0 or an errno */

/*
 * Run act(arg) in a child that first enters the sandbox for cf (cf NULL:
 * without the sandbox).  The child answers through a pipe and leaves
 * with _exit (no atexit handler, no sanitizer's exit-time scan).
 */
static struct result
run(const struct conf *cf, action act, const char *arg)
{
	struct result r = { NO_RESULT, NO_RESULT, 0 };
	char e[512];
	int p[2], v[2], st, n;
	pid_t pid;

	if (pipe(p) == -1 || (pid = fork()) == -1)
		bail_out("pipe or fork: %s", strerror(errno));
	if (pid == 0) {
		close(p[0]);
		v[0] = cf ? sandbox_enter(cf, e, sizeof(e)) : 0;
		if (v[0] != 0)
			fprintf(stderr, "child: %s\n", e);
		if (write(p[1], &v[0], sizeof(v[0])) != sizeof(v[0]))
			_exit(1);
		v[1] = v[0] == -1 ? EPERM : act(arg);
		if (write(p[1], &v[1], sizeof(v[1])) != sizeof(v[1]))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	/* a pipe write of an int arrives whole */
	for (n = 0; n < 2 && read(p[0], &v[n], sizeof(v[n])) ==
	    sizeof(v[n]); n++)
		;
	if (n >= 1)
		r.entered = v[0];
	if (n == 2)
		r.err = v[1];
	close(p[0]);
	if (waitpid(pid, &st, 0) == pid && WIFSIGNALED(st))
		r.sig = WTERMSIG(st);
	return r;
}

static const char *
errname(int e)
{
	return e == NO_RESULT ? "no answer" : e == 0 ? "done" : strerror(e);
}

/* What a child saw, for a failed check. */
static void
show(struct result r)
{
	diag("  sandbox_enter %d, action: %s, signal %d", r.entered,
	    errname(r.err), r.sig);
}

/* act is refused (with one of the errnos e1, e2) in the sandbox. */
static void
refused(const struct conf *cf, action act, const char *arg, int e1, int e2,
    const char *what)
{
	struct result r = run(cf, act, arg);

	if (!ok(r.entered == 0 && (r.err == e1 || r.err == e2) && r.sig == 0,
	    "sandboxed: %s: %s", what, errname(r.err)))
		show(r);
}

static void
allowed(const struct conf *cf, action act, const char *arg, const char *what)
{
	struct result r = run(cf, act, arg);

	if (!ok(r.entered == 0 && r.err == 0 && r.sig == 0,
	    "%s: %s", cf ? "sandboxed" : "not sandboxed", what))
		show(r);
}

/* -- actions */

static int
read_file(const char *p)
{
	char c;
	int fd, rc = 0;

	if ((fd = open(p, O_RDONLY | O_CLOEXEC)) == -1)
		return errno;
	if (read(fd, &c, 1) == -1)
		rc = errno;
	close(fd);
	return rc;
}

static int
append_file(const char *p)
{
	int fd, rc = 0;

	if ((fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC)) == -1)
		return errno;
	if (write(fd, "x", 1) != 1)
		rc = errno;
	close(fd);
	return rc;
}

static int
create_file(const char *p)
{
	int fd, rc = 0;

	if ((fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) ==
	    -1)
		return errno;
	if (write(fd, "x", 1) != 1)
		rc = errno;
	close(fd);
	return rc;
}

/* Create, write, read back and remove a file. */
static int
file_cycle(const char *p)
{
	int rc;

	if ((rc = create_file(p)) != 0 || (rc = append_file(p)) != 0 ||
	    (rc = read_file(p)) != 0)
		return rc;
	return unlink(p) == -1 ? errno : 0;
}

static int
make_dir(const char *p)
{
	return mkdir(p, 0700) == -1 ? errno : 0;
}

static int
make_symlink(const char *p)
{
	return symlink("/etc/passwd", p) == -1 ? errno : 0;
}

/* Start /bin/true in place of this process (it exits 0 on success). */
static int
exec_true(const char *p)
{
	char *argv[] = { (char *)"true", NULL };
	char *envp[] = { NULL };

	(void)p;
	execve("/bin/true", argv, envp);
	return errno;
}

/* Start a child process and wait for it. */
static int
start_process(const char *p)
{
	pid_t pid;
	int st;

	(void)p;
	if ((pid = fork()) == -1)
		return errno;
	if (pid == 0)
		_exit(0);
	return waitpid(pid, &st, 0) == pid ? 0 : errno;
}

static int
trace_me(const char *p)
{
	(void)p;
	return ptrace(PTRACE_TRACEME, 0, NULL, NULL) == -1 ? errno : 0;
}

static int
raw_socket(const char *p)
{
	int fd;

	(void)p;
	if ((fd = socket(AF_PACKET, SOCK_RAW, 0)) == -1)
		return errno;
	close(fd);
	return 0;
}

static int
get_no_new_privs(const char *p)
{
	(void)p;
	return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == -1 ? errno : 0;
}

/* Connect to 127.0.0.1:port (a decimal string). */
/* Connect a TCP socket to port p of 127.0.0.1 (p NULL: bind one to any
 * port of it instead); 0, or the errno. */
static int
tcp(const char *p)
{
	struct sockaddr_in sa;
	int fd, rc = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(p ? (unsigned short)atoi(p) : 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return errno;
	if ((p ? connect(fd, (struct sockaddr *)&sa, sizeof(sa)) :
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa))) == -1)
		rc = errno;
	close(fd);
	return rc;
}

/*
 * What a worker does with its database, made first when it is not there
 * (WAL, the schema): check the key check value (recording it), write,
 * count (SQLite: in the counters' own file), rebuild (VACUUM), checkpoint, reopen.
 * EIO on a failure (the store's message on stderr).
 */
static int
store_work(const char *db)
{
	unsigned char check[CRYPTO_ID_LEN];
	struct store_customer c;
	struct store_scrub sc;
	struct store *st;
	long long count;
	int rc = EIO;

	memset(check, 7, sizeof(check));
	memset(&c, 0, sizeof(c));
	snprintf(c.custid, sizeof(c.custid), "a@example.com");
	snprintf(c.plan, sizeof(c.plan), "basic");
	/* made by the migrator, used by a worker (who makes the counters') */
	if (access(db, F_OK) == -1) {
		if ((st = new_store(db, err, sizeof(err))) == NULL)
			goto out;
		store_close(st);
	}
	if ((st = store_open(db, NULL, STORE_WORKER, err, sizeof(err))) == NULL)
		goto out;
	if (store_check_key(st, check) != 1 ||
	    store_customer_add(st, &c) == -1 ||
	    store_limit_add(st, check, 1, 1, &count) != 0 || count < 1 ||
	    store_scrub(st, INT64_MAX, &sc) != 0 || !sc.rebuilt)
		goto out;
	store_close(st);
	if ((st = store_open(db, NULL, STORE_WORKER, err, sizeof(err))) == NULL ||
	    store_check_key(st, check) != 1)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "store_work: %s\n", err);
	store_close(st);
	return rc;
}

/* -- set-up */

static struct conf *
config(const char *db, const char *extra)
{
	char text[4096];
	struct conf *cf;

	snprintf(text, sizeof(text), "database = %s\nmaster_key = %s/key\n%s",
	    db, dir, extra);
	if ((cf = conf_parse(text, strlen(text), "test.conf", err,
	    sizeof(err))) == NULL)
		bail_out("conf_parse: %s", err);
	return cf;
}

static void
write_file(const char *p, const char *text)
{
	FILE *f;

	if ((f = fopen(p, "w")) == NULL || fputs(text, f) == EOF ||
	    fclose(f) == EOF)
		bail_out("%s: cannot write", p);
}

/* A TCP socket listening on 127.0.0.1; its port as a string. */
static int
listener(char *port, size_t len)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(fd, 16) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) == -1)
		bail_out("listener: %s", strerror(errno));
	snprintf(port, len, "%u", ntohs(sa.sin_port));
	return fd;
}

static const char *
at(const char *d, const char *name)
{
	snprintf(path, sizeof(path), "%s/%s", d, name);
	return path;
}

/* -- the checks */

/* The kernel's view of a sandboxed process: /proc/PID/status. */
static void
test_status(const struct conf *cf)
{
	char line[256], want_nnp[] = "NoNewPrivs:\t1\n", e[512];
	char want_sc[] = "Seccomp:\t2\n";
	int go[2], ready[2], nnp = 0, sc = 0, v = -2, st;
	FILE *f;
	pid_t pid;

	if (pipe(go) == -1 || pipe(ready) == -1 || (pid = fork()) == -1)
		bail_out("pipe or fork: %s", strerror(errno));
	if (pid == 0) {
		close(go[1]);
		close(ready[0]);
		v = sandbox_enter(cf, e, sizeof(e));
		if (write(ready[1], &v, sizeof(v)) != sizeof(v) ||
		    read(go[0], &v, 1) == -1)
			_exit(1);
		_exit(0);
	}
	close(go[0]);
	close(ready[1]);
	if (read(ready[0], &v, sizeof(v)) != sizeof(v))
		v = -2;
	snprintf(line, sizeof(line), "/proc/%d/status", (int)pid);
	if ((f = fopen(line, "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			nnp |= strcmp(line, want_nnp) == 0;
			sc |= strcmp(line, want_sc) == 0;
		}
		fclose(f);
	}
	close(go[1]);
	close(ready[0]);
	waitpid(pid, &st, 0);
	is_int(v, (landlock_abi > 0 ? 0 : SANDBOX_NO_LANDLOCK) |
	    (has_seccomp ? 0 : SANDBOX_NO_SECCOMP),
	    "sandbox_enter: 0, or exactly what this kernel lacks");
	ok(nnp, "sandboxed: /proc/PID/status says NoNewPrivs: 1");
	if (has_seccomp)
		ok(sc, "sandboxed: /proc/PID/status says Seccomp: 2 (filter)");
	else
		skip("the kernel has no seccomp", "Seccomp: 2");
}

static void
test_files(const struct conf *cf)
{
	const char *why = "the kernel has no Landlock";
	char outside[1100], fresh[1100], sub[1100], link[1100], tmp[64];

	snprintf(outside, sizeof(outside), "%s/outside", other);
	snprintf(fresh, sizeof(fresh), "%s/fresh", other);
	snprintf(tmp, sizeof(tmp), "/tmp/ots-sandbox-test.%d", (int)getpid());
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	write_file(outside, "not the worker's\n");
	allowed(NULL, read_file, outside, "read a file in another directory");
	allowed(NULL, read_file, "/etc/passwd", "read /etc/passwd");
	allowed(NULL, append_file, outside, "write a file in another directory");
	if (landlock_abi < 1) {
		skip(why, "read outside the state directory");
		skip(why, "read /etc/passwd");
		skip(why, "write outside");
		skip(why, "create outside");
		skip(why, "create in the directory above the state directory");
		skip(why, "mkdir in the state directory");
		skip(why, "symlink in the state directory");
	} else {
		refused(cf, read_file, outside, EACCES, EACCES,
		    "read a file in another directory");
		refused(cf, read_file, "/etc/passwd", EACCES, EACCES,
		    "read /etc/passwd");
		refused(cf, append_file, outside, EACCES, EACCES,
		    "write a file in another directory");
		refused(cf, create_file, fresh, EACCES, EACCES,
		    "create a file in another directory");
		refused(cf, create_file, tmp, EACCES, EACCES,
		    "create a file in /tmp");
		refused(cf, make_dir, sub, EACCES, EPERM,
		    "make a directory in the state directory");
		refused(cf, make_symlink, link, EACCES, EPERM,
		    "make a symbolic link in the state directory");
	}
	ok(access(fresh, F_OK) == -1 && access(sub, F_OK) == -1 &&
	    access(link, F_OK) == -1 && access(tmp, F_OK) == -1,
	    "nothing refused was made");
	unlink(tmp);
	allowed(cf, read_file, "/dev/urandom",
	    "read /dev/urandom (SQLite seeds its PRNG at first use)");
	allowed(cf, file_cycle, at(dir, "scratch"),
	    "create, write, read and remove a file in the state directory");
	allowed(cf, store_work, at(dir, "ots.db"), "SQLite: create the "
	    "database (WAL), count (the counters' own file), VACUUM, checkpoint, "
	    "reopen");
	ok(access(at(dir, "ots.db-wal"), F_OK) == 0,
	    "the database's WAL is in the state directory");
	allowed(cf, store_work, at(dir, "ots.db"),
	    "SQLite: the same on the existing database");
}

static void
test_processes(const struct conf *cf)
{
	const char *why = "the kernel has no seccomp";
	struct result r;

	r = run(NULL, exec_true, NULL);
	ok(r.err == NO_RESULT && r.sig == 0, "not sandboxed: exec /bin/true");
	allowed(NULL, start_process, NULL, "start a process");
	if (!has_seccomp) {
		skip(why, "exec /bin/true");
		skip(why, "start a process");
		skip(why, "ptrace");
		skip(why, "a packet socket");
		skip(why, "prctl");
		return;
	}
	r = run(cf, exec_true, NULL);
	if (!ok(r.entered == 0 && r.sig == SIGSYS,
	    "sandboxed: exec /bin/true kills the process (SIGSYS)"))
		show(r);
	refused(cf, start_process, NULL, EPERM, EPERM, "start a process");
	r = run(cf, trace_me, NULL);
	if (!ok(r.entered == 0 && r.sig == SIGSYS,
	    "sandboxed: ptrace kills the process (SIGSYS)"))
		show(r);
	refused(cf, raw_socket, NULL, EPERM, EPERM, "a packet socket");
	refused(cf, get_no_new_privs, NULL, EPERM, EPERM,
	    "prctl (even to read a setting)");
}

/*
 * With SQLite a worker connects nowhere: not even to smtp_port, now that
 * ots-mailer delivers the mail.
 */
static void
test_ports(void)
{
	const char *why = "no Landlock TCP rules (ABI < 4)";
	char smtp[16], extra[64];
	struct conf *cf;
	int a;

	a = listener(smtp, sizeof(smtp));
	snprintf(extra, sizeof(extra), "smtp_port = %s\n", smtp);
	cf = config(at(dir, "ots.db"), extra);
	allowed(NULL, tcp, smtp, "connect to smtp_port");
	if (landlock_abi < 4)
		skip(why, "connect to smtp_port");
	else
		refused(cf, tcp, smtp, EACCES, EACCES,
		    "connect to smtp_port (the mailer's, not the worker's)");
	allowed(NULL, tcp, NULL, "bind a TCP port");
	/* seccomp refuses bind (EPERM); Landlock refuses TCP binds (EACCES) */
	if (landlock_abi < 4 && !has_seccomp)
		skip("neither seccomp nor Landlock TCP rules", "bind");
	else
		refused(cf, tcp, NULL, EACCES, EPERM, "bind a TCP port");
	conf_free(cf);
	close(a);
}

/*
 * The mail settings open nothing: what delivery reads (the resolver for
 * a named smtp_host, OpenSSL's files for STARTTLS, smtp_password_file) is
 * ots-mailer's, and a worker is refused it whatever they say.
 */
static void
test_mail_files(void)
{
	const char *why = "the kernel has no Landlock";
	const char *cnf = "/etc/ssl/openssl.cnf";
	struct conf *tls, *named, *authed;
	char pw[1100], pwset[1300];

	snprintf(pw, sizeof(pw), "%s/smtp-password", other);
	write_file(pw, "hunter2\n");
	snprintf(pwset, sizeof(pwset), "smtp_starttls = required\n"
	    "smtp_user = ots\nsmtp_password_file = %s\n", pw);
	tls = config(at(dir, "ots.db"), "smtp_starttls = required\n");
	named = config(at(dir, "ots.db"), "smtp_host = localhost\n");
	authed = config(at(dir, "ots.db"), pwset);
	allowed(NULL, read_file, "/etc/hosts", "read /etc/hosts");
	allowed(NULL, read_file, pw, "read smtp_password_file");
	if (landlock_abi < 1) {
		skip(why, "mail files");
	} else {
		if (access(cnf, R_OK) == -1)
			skip("no /etc/ssl/openssl.cnf here", "STARTTLS files");
		else
			refused(tls, read_file, cnf, EACCES, EACCES,
			    "smtp_starttls = required: read "
			    "/etc/ssl/openssl.cnf");
		refused(named, read_file, "/etc/hosts", EACCES, EACCES,
		    "smtp_host a name: read /etc/hosts");
		refused(authed, read_file, pw, EACCES, EACCES,
		    "smtp_user: read smtp_password_file");
	}
	conf_free(tls);
	conf_free(named);
	conf_free(authed);
}

/* A state directory apart from SQLite's: both are the worker's. */
static void
test_state_dir(void)
{
	char extra[1200];
	struct conf *cf;

	snprintf(extra, sizeof(extra), "state_dir = %s\n", other);
	cf = config(at(dir, "ots.db"), extra);
	allowed(cf, file_cycle, at(other, "gate"),
	    "a file in state_dir (the gate's lock)");
	allowed(cf, file_cycle, at(dir, "scratch"),
	    "a file in the SQLite database's directory");
	if (landlock_abi < 1)
		skip("the kernel has no Landlock", "read elsewhere");
	else
		refused(cf, read_file, "/etc/passwd", EACCES, EACCES,
		    "read /etc/passwd");
	conf_free(cf);
}

/* -- PostgreSQL (OTS_TEST_PG: a database this test may make tables in) */

/* The port a conninfo names (default 5432), or 0 for a Unix socket. */
static int
pg_port(const char *conninfo, char *port, size_t len)
{
	PQconninfoOption *o, *op;
	const char *host = NULL, *p = NULL;

	if ((o = PQconninfoParse(conninfo, NULL)) == NULL)
		return -1;
	for (op = o; op->keyword != NULL; op++) {
		if (strcmp(op->keyword, "host") == 0)
			host = op->val;
		if (strcmp(op->keyword, "port") == 0)
			p = op->val;
	}
	snprintf(port, len, "%s", p != NULL && *p != '\0' ? p : "5432");
	p = host != NULL && *host != '/' ? port : NULL;
	PQconninfoFree(o);
	return p != NULL ? 0 : -1;
}

/*
 * What a worker does with PostgreSQL, in its sandbox: open the store (a
 * connection), check the key, write, count; then lose the connection (its
 * backend terminated from a second connection, made here too) and get it
 * back through store_ready, and write again.  EIO on a failure.
 */
static int
pg_work(const char *conninfo)
{
	unsigned char check[CRYPTO_ID_LEN];
	struct store_customer c;
	struct store *st;
	long long count, now;
	PGresult *r;
	PGconn *raw;
	int rc = EIO, killed = 0;

	memset(check, 7, sizeof(check));
	memset(&c, 0, sizeof(c));
	snprintf(c.custid, sizeof(c.custid), "a@example.com");
	snprintf(c.plan, sizeof(c.plan), "basic");
	if ((st = store_open(conninfo, NULL, STORE_WORKER, err,
	    sizeof(err))) == NULL)
		goto out;
	if (store_check_key(st, check) != 1 ||
	    store_customer_add(st, &c) == -1 ||
	    store_limit_add(st, check, 1, 1, &count) != 0 || count < 1)
		goto out;
	raw = PQconnectdb(conninfo);
	r = PQexec(raw, "SELECT count(pg_terminate_backend(pid, 5000)) FROM "
	    "pg_stat_activity WHERE datname = current_database() AND "
	    "application_name = 'ots' AND pid <> pg_backend_pid()");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		killed = atoi(PQgetvalue(r, 0, 0));
	else
		snprintf(err, sizeof(err), "kill: %s", PQerrorMessage(raw));
	PQclear(r);
	PQfinish(raw);
	if (killed != 1) {
		if (killed > 1)
			snprintf(err, sizeof(err), "%d sessions killed",
			    killed);
		goto out;
	}
	if (store_ready(st, &now) != 0 ||
	    store_customer_get(st, c.custid, &c) != 1 ||
	    store_limit_add(st, check, 1, 1, &count) != 0 || count < 2)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		fprintf(stderr, "pg_work: %s\n", err);
	store_close(st);
	return rc;
}

static void
test_pg(void)
{
	const char *tcp_ci = getenv("OTS_TEST_PG");
	const char *sock_ci = getenv("OTS_TEST_PG_SOCKET");
	const char *why = "no Landlock TCP rules (ABI < 4)";
	char port[16], another[16], pass[1100], text[2400];
	struct conf *cf, *withpass;
	struct store *st;
	int fd;

	if (tcp_ci == NULL || *tcp_ci == '\0') {
		skip("OTS_TEST_PG is not set (tests/unit/pg_run.sh sets it)",
		    "PostgreSQL");
		return;
	}
	if ((st = new_store(tcp_ci, err, sizeof(err))) == NULL)
		bail_out("OTS_TEST_PG: %s", err);
	store_close(st);
	cf = config(tcp_ci, "smtp_starttls = off\n");
	allowed(NULL, pg_work, tcp_ci, "PostgreSQL: connect, write, "
	    "reconnect after the backend was killed");
	allowed(cf, pg_work, tcp_ci, "PostgreSQL: connect, write, "
	    "reconnect after the backend was killed");
	if (sock_ci != NULL) {
		conf_free(cf);
		cf = config(sock_ci, "smtp_starttls = off\n");
		allowed(cf, pg_work, sock_ci, "PostgreSQL over a Unix socket: "
		    "the same");
		conf_free(cf);
		cf = config(tcp_ci, "smtp_starttls = off\n");
	} else
		skip("OTS_TEST_PG_SOCKET is not set", "a Unix socket");
	allowed(cf, file_cycle, at(dir, "gate"),
	    "PostgreSQL: a file in the state directory (the key's)");
	if (pg_port(tcp_ci, port, sizeof(port)) == -1) {
		skip("OTS_TEST_PG names no TCP host", "TCP port rules");
	} else {
		allowed(cf, tcp, port, "connect to the database's port");
		fd = listener(another, sizeof(another));
		if (landlock_abi < 4)
			skip(why, "connect to another port");
		else
			refused(cf, tcp, another, EACCES, EACCES,
			    "PostgreSQL: connect to another TCP port");
		close(fd);
	}
	if (landlock_abi < 1 || getenv("HOME") == NULL ||
	    strstr(tcp_ci, "user=") == NULL) {
		skip("no Landlock, or libpq asks the user database here",
		    "/etc/passwd");
		skip("no Landlock, or libpq asks the user database here",
		    "passfile");
	} else {
		refused(cf, read_file, "/etc/passwd", EACCES, EACCES,
		    "PostgreSQL (user and HOME set): read /etc/passwd");
		snprintf(pass, sizeof(pass), "%s/pgpass", other);
		write_file(pass, "# no passwords here\n");
		chmod(pass, 0600);
		snprintf(text, sizeof(text), "%s passfile=%s", tcp_ci, pass);
		withpass = config(text, "smtp_starttls = off\n");
		allowed(withpass, read_file, pass, "PostgreSQL: read the "
		    "passfile the conninfo names");
		refused(withpass, read_file, at(other, "outside"), EACCES,
		    EACCES, "but not the file beside it");
		conf_free(withpass);
	}
	conf_free(cf);
}

/* A missing database directory is an error, not a sandbox without it. */
static void
test_missing_dir(void)
{
	struct conf *cf = config(at(dir, "nowhere/ots.db"), "");
	struct result r = run(cf, read_file, "/etc/passwd");

	if (landlock_abi < 1)
		skip("the kernel has no Landlock", "missing directory");
	else if (!ok(r.entered == -1, "a missing database directory: "
	    "sandbox_enter fails (-1)"))
		show(r);
	conf_free(cf);
}

int
main(void)
{
	struct conf *cf;

	landlock_abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	has_seccomp = !(prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == -1 &&
	    errno == EINVAL);
	diag("Landlock ABI %d, seccomp %s", landlock_abi,
	    has_seccomp ? "yes" : "no");
	tap_tmpdir(dir, sizeof(dir));
	tap_tmpdir(other, sizeof(other));
	cf = config(at(dir, "ots.db"), "smtp_starttls = off\n");
	test_status(cf);
	test_files(cf);
	test_processes(cf);
	test_ports();
	test_mail_files();
	test_state_dir();
	test_missing_dir();
	test_pg();
	conf_free(cf);
	tap_rmtree(dir);
	tap_rmtree(other);
	return done();
}
