"""pgcluster: a throwaway PostgreSQL 15 cluster for the tests.

`initdb` runs once per build tree and PostgreSQL version, into a template
directory (tests/pg-template under OTS_BUILDDIR, made under an fcntl lock
so that parallel tests do not race, and made again when `postgres
--version` or the initdb options change).  Each Cluster copies that
template into a directory of the test's (its root), starts `postgres`
itself (so the test holds its PID) on a Unix socket in root/sock and on
127.0.0.1 only, at a free port, with real durability (fsync = on), and
stops it by that PID: SIGINT (a fast shutdown), then SIGKILL.

initdb and postgres refuse to run as root: when the test runs as root they
run as `nobody` (group nogroup), the data directory that user's (0700),
and the root directory opened for traversal only (0711), so that the
test's ots programs, whoever runs them, reach the socket.

The cluster follows the test's fake clock: tests/integration/fakeclock.so
is copied into root and preloaded into postgres with OTS_FAKECLOCK_FILE
naming root/clock, a copy of the test's clock file that the cluster's user
may read (write_clock keeps it).  PostgreSQL's now() is the ots store's
clock, so a test that advances the workers' clock advances the database's.

Authentication: `local all all trust` and `host all all 127.0.0.1/32
scram-sha-256`.  create_database() makes a database owned by ots_owner
(the role `ots-admin init` and `migrate` use: it creates the schema) and a
least-privilege worker role ots_web that may only read and write rows
(SELECT, INSERT, UPDATE, DELETE on tables; USAGE, SELECT on sequences: by
default privileges of ots_owner's, so later migrations are covered), may
not create anything, and has a random password (made per cluster;
password_file() writes it to a 0600 file) for the TCP path.  The superuser
is postgres.  psql() runs SQL in a psql of its own; session() keeps one
open (Server.sql asks it).

Environment: OTS_PGBIN (PostgreSQL's server programs, default
/usr/lib/postgresql/15/bin), OTS_BUILDDIR, OTS_TMPDIR.
Python 3 standard library only.
"""

import fcntl
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.dirname(os.path.dirname(HERE))
BUILDDIR = os.environ.get("OTS_BUILDDIR") or SRCDIR
PGBIN = os.environ.get("OTS_PGBIN") or "/usr/lib/postgresql/15/bin"
TEMPLATE = os.path.join(BUILDDIR, "tests", "pg-template")
SUPERUSER = "postgres"
OWNER = "ots_owner"
WEB = "ots_web"
# the template's recipe: a change here makes the template again
INITDB_ARGS = ["-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C", "--wal-segsize=1",
               "--no-instructions"]
HBA = ("# written by tests/integration/pgcluster.py\n"
       "local all all trust\n"
       "host all all 127.0.0.1/32 scram-sha-256\n")
# a Unix socket's path holds at most 107 bytes (sun_path)
SOCKET_PATH_MAX = 107


class ClusterError(Exception):
    """The cluster could not be made, started or asked."""


def program(name):
    return os.path.join(PGBIN, name)


def _owner():
    """(uid, gid, name) the cluster runs as: nobody when we are root."""
    if os.geteuid() != 0:
        pw = pwd.getpwuid(os.geteuid())
        return pw.pw_uid, os.getegid(), pw.pw_name
    pw = pwd.getpwnam("nobody")
    try:
        import grp
        gid = grp.getgrnam("nogroup").gr_gid
    except KeyError:
        gid = pw.pw_gid
    return pw.pw_uid, gid, "nobody"


def _as_owner():
    """subprocess keyword arguments that run a program as the cluster's user."""
    uid, gid, _ = _owner()
    if os.geteuid() != 0:
        return {}
    return {"user": uid, "group": gid, "extra_groups": []}


def _chown_tree(path, uid, gid):
    for root, dirs, files in os.walk(path):
        os.chown(root, uid, gid)
        for n in files:
            os.lchown(os.path.join(root, n), uid, gid)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_version():
    p = subprocess.run([program("postgres"), "--version"], capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise ClusterError("%s --version failed: %s" % (program("postgres"), p.stderr.strip()))
    return p.stdout.strip()


def copy_template(dest):
    """Copy the template data directory (initdb's output, made when missing
    or stale) to dest.  Every caller holds the lock while it looks (one
    initdb at a time, nobody copies a half-made template) and a shared one
    while it copies (nobody remakes it meanwhile)."""
    stamp = "%s\n%s\n%s" % (pg_version(), " ".join(INITDB_ARGS), HBA)
    os.makedirs(os.path.dirname(TEMPLATE), exist_ok=True)
    data = os.path.join(TEMPLATE, "data")
    stamp_file = os.path.join(TEMPLATE, "stamp")
    with open(TEMPLATE + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _current(stamp_file, stamp, data):
            # a shared lock is no upgrade: let go, then look again under it
            fcntl.flock(lock, fcntl.LOCK_SH)
            if _current(stamp_file, stamp, data):
                shutil.copytree(data, dest, symlinks=True)
                return
            fcntl.flock(lock, fcntl.LOCK_EX)
        shutil.rmtree(TEMPLATE, ignore_errors=True)
        # initdb writes as the cluster's user, somewhere that user reaches
        # (the build tree may be closed to it); the result is copied over
        uid, gid, _ = _owner()
        work = tempfile.mkdtemp(prefix="ots-initdb-", dir=os.environ.get("OTS_TMPDIR") or None)
        try:
            os.chmod(work, 0o711)
            os.chown(work, uid, gid)
            p = subprocess.run([program("initdb"), "-D", os.path.join(work, "data")] + INITDB_ARGS,
                               capture_output=True, text=True, timeout=300, cwd=work, **_as_owner())
            if p.returncode != 0:
                raise ClusterError("initdb failed (%d): %s" % (p.returncode, (p.stdout + p.stderr)[-2000:]))
            with open(os.path.join(work, "data", "pg_hba.conf"), "w") as f:
                f.write(HBA)
            os.makedirs(TEMPLATE)
            shutil.copytree(os.path.join(work, "data"), data, symlinks=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        with open(stamp_file, "w") as f:
            f.write(stamp)
        fcntl.flock(lock, fcntl.LOCK_SH)
        shutil.copytree(data, dest, symlinks=True)


def _current(stamp_file, stamp, data):
    try:
        with open(stamp_file) as f:
            return f.read() == stamp and os.path.isdir(data)
    except OSError:
        return False


def literal(v):
    """v as an SQL literal (the tests' own values, never input)."""
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return "'\\x%s'::bytea" % bytes(v).hex()
    return "'" + str(v).replace("'", "''") + "'"


def bind(query, params):
    """query with each ? outside quotes replaced by the next parameter as a
    literal (the sqlite3 module's placeholder, so a test's query serves both
    engines)."""
    params = list(params or ())
    out, quote = [], None
    for c in query:
        if quote:
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "?":
            if not params:
                raise ClusterError("more ? than parameters in %r" % query)
            out.append(literal(params.pop(0)))
            continue
        out.append(c)
    if params:
        raise ClusterError("more parameters than ? in %r" % query)
    return "".join(out)


class Session:
    """One psql kept open as user on db: a query costs about a millisecond,
    where psql() starts a process and a connection each time (a test that
    reads the table after each of a thousand creates notices).  A session
    whose server went away (a restart) is made again, once, per query."""

    def __init__(self, cluster, user, db):
        self.cluster, self.user, self.db = cluster, user, db
        self.proc = None

    def _open(self):
        c = self.cluster
        self.proc = subprocess.Popen([program("psql"), "-X", "-q", "-A", "-t", "-F", "\x1f", "-R", "\x1e",
                                      "-h", c.sock, "-p", str(c.port), "-U", self.user, "-d", self.db],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=dict(os.environ, PGCONNECT_TIMEOUT="10"))

    def close(self):
        if self.proc is not None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def _ask(self, sql):
        """The output of sql up to a marker echoed after it; None when the
        session ended."""
        marker = ("ots-end-" + secrets.token_hex(8)).encode()
        try:
            self.proc.stdin.write(sql.encode() + b"\n\\echo " + marker + b"\n")
            self.proc.stdin.flush()
        except OSError:
            return None
        out = []
        while True:
            line = self.proc.stdout.readline()
            if not line:
                return None
            if line.rstrip(b"\n") == marker:
                return b"".join(out).decode("utf-8")
            out.append(line)

    def query(self, sql):
        """Rows as psql() returns them; ClusterError on an SQL error."""
        for attempt in range(2):
            if self.proc is None or self.proc.poll() is not None:
                self.close()
                self._open()
            out = self._ask(sql)
            if out is not None:
                break
            self.close()
        else:
            raise ClusterError("psql as %s on %s: the session ended twice" % (self.user, self.db))
        errors = [ln for ln in out.split("\n") if ln.startswith(("ERROR:", "FATAL:", "psql:"))]
        if errors:
            raise ClusterError("psql as %s on %s: %s" % (self.user, self.db, out.strip()))
        return [tuple(r.split("\x1f")) for r in re.split("[\x1e\n]", out) if r]


class Cluster:
    """One PostgreSQL cluster in root (made, 0711).  fakeclock: the clock
    library to preload (None: the real clock); clock_offset: its first
    offset.  The cluster starts at once."""

    def __init__(self, root, fakeclock=None, clock_offset=0):
        self.root = root
        self.data = os.path.join(root, "data")
        self.log_path = os.path.join(root, "postgres.log")
        self.clock_file = os.path.join(root, "clock")
        self.proc = None
        self.port = None
        self.passwords = {}
        self.sessions = {}
        self.uid, self.gid, self.user = _owner()
        os.makedirs(root, exist_ok=True)
        os.chmod(root, 0o711)
        # the test's own directory (mkdtemp: 0700) must let the cluster's
        # user through to root
        parent = os.path.dirname(os.path.abspath(root))
        if os.geteuid() == 0 and os.stat(parent).st_uid == 0:
            os.chmod(parent, os.stat(parent).st_mode & 0o7777 | 0o011)
        self.sock = os.path.join(root, "sock")
        self._own_sock = False
        if len(self.sock) + len("/.s.PGSQL.65535") > SOCKET_PATH_MAX:
            self.sock = tempfile.mkdtemp(prefix="ots-pg-")
            self._own_sock = True
        os.makedirs(self.sock, exist_ok=True)
        os.chmod(self.sock, 0o755)
        os.chown(self.sock, self.uid, self.gid)
        copy_template(self.data)
        _chown_tree(self.data, self.uid, self.gid)
        os.chmod(self.data, 0o700)
        self.fakeclock = None
        if fakeclock:
            self.fakeclock = shutil.copy(fakeclock, os.path.join(root, "fakeclock.so"))
            os.chmod(self.fakeclock, 0o644)
            self.write_clock(clock_offset)
        self.start()

    # -- the clock

    def write_clock(self, offset):
        """The cluster's copy of the test's clock (what fakeclock.so reads)."""
        tmp = self.clock_file + ".new"
        with open(tmp, "w") as f:
            f.write("+%d\n" % offset)
        os.chmod(tmp, 0o644)
        os.replace(tmp, self.clock_file)

    # -- the server process

    def start(self):
        """Start postgres on the data directory (again, after stop()): the
        same port when it is free, else another."""
        if self.alive():
            return
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
        if self.fakeclock:
            env.update(LD_PRELOAD=self.fakeclock, OTS_FAKECLOCK_FILE=self.clock_file)
        why = ""
        for attempt in range(5):
            if self.port is None or attempt:
                self.port = _free_port()
            log = open(self.log_path, "ab")
            try:
                self.proc = subprocess.Popen(
                    [program("postgres"), "-D", self.data, "-k", self.sock, "-p", str(self.port),
                     "-c", "listen_addresses=127.0.0.1", "-c", "shared_buffers=16MB", "-c", "fsync=on",
                     "-c", "max_connections=100", "-c", "unix_socket_permissions=0777",
                     "-c", "timezone=UTC", "-c", "log_line_prefix=%m [%p] %q%u@%d ",
                     "-c", "logging_collector=off"],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, cwd=self.root,
                    start_new_session=True, **_as_owner())
            finally:
                log.close()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and self.proc.poll() is None:
                r = subprocess.run([program("pg_isready"), "-q", "-h", self.sock, "-p", str(self.port),
                                    "-U", SUPERUSER, "-d", "postgres"], capture_output=True, timeout=30)
                if r.returncode == 0:
                    return
                time.sleep(0.05)
            why = self.log_tail()
            self.stop()
            if "already in use" not in why and "could not bind" not in why \
                    and "could not create lock file" not in why:
                break
        raise ClusterError("postgres did not start:\n" + why)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, wait=30.0):
        """Fast shutdown (SIGINT) by PID; SIGKILL to the whole process group
        when it takes longer than wait seconds.  Returns True when the
        server stopped on SIGINT."""
        for sess in self.sessions.values():
            sess.close()
        if self.proc is None:
            return True
        clean = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(wait)
            except subprocess.TimeoutExpired:
                clean = False
        try:  # the postmaster's children are in the session we made
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.proc.poll() is None:
            self.proc.wait()
        self.proc = None
        return clean

    def processes(self):
        """PIDs of the processes working in the data directory (every
        server process does), zombies left out."""
        data = os.path.realpath(self.data)
        pids = []
        for proc in os.listdir("/proc"):
            if not proc.isdigit():
                continue
            try:
                if os.readlink("/proc/%s/cwd" % proc) != data:
                    continue
                with open("/proc/%s/stat" % proc) as f:
                    if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                        continue
            except OSError:
                continue
            pids.append(int(proc))
        return pids

    def kill(self, wait=30.0):
        """kill -9 of every server process (a crash), then wait until all
        are gone: the children each make a session of their own, so a signal
        to the postmaster's group misses them, and one still exiting holds
        the shared memory a new postmaster refuses to share ("pre-existing
        shared memory block is still in use")."""
        pids = self.processes()
        if self.proc is not None:
            pids.append(self.proc.pid)
        deadline = time.monotonic() + wait
        while pids:
            # again each time: a child forked just before the postmaster
            # died was not in the first list
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if self.proc is not None:
                self.proc.wait()
                self.proc = None
            pids = self.processes()
            if pids and time.monotonic() > deadline:
                raise ClusterError("server processes outlived kill -9: %s" % pids)
            if pids:
                time.sleep(0.01)

    def close(self):
        self.stop()
        if self._own_sock:
            shutil.rmtree(self.sock, ignore_errors=True)

    def log_tail(self, n=4000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    # -- connecting

    def conninfo(self, user=WEB, db="ots", tcp=False):
        """A libpq keyword string: the Unix socket (trust), or 127.0.0.1
        (scram-sha-256: the password comes from elsewhere)."""
        host = "127.0.0.1" if tcp else self.sock
        return "host=%s port=%d dbname=%s user=%s" % (host, self.port, db, user)

    def psql(self, sql, user=SUPERUSER, db="ots", timeout=120):
        """Run sql (any number of statements, stopping at the first error)
        and return the rows of its output as tuples of strings (NULL: "";
        a value must hold no newline)."""
        p = subprocess.run([program("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                            "-F", "\x1f", "-R", "\x1e", "-h", self.sock, "-p", str(self.port),
                            "-U", user, "-d", db],
                           input=sql.encode(), capture_output=True, timeout=timeout,
                           env=dict(os.environ, PGCONNECT_TIMEOUT="10"))
        if p.returncode != 0:
            raise ClusterError("psql as %s on %s failed (%d): %s" % (user, db, p.returncode,
                                                                   p.stderr.decode("utf-8", "replace").strip()))
        out = p.stdout.decode("utf-8")
        return [tuple(r.split("\x1f")) for r in re.split("[\x1e\n]", out) if r]

    def session(self, user=SUPERUSER, db="ots"):
        """A Session as user on db, kept for the cluster's life."""
        if (user, db) not in self.sessions:
            self.sessions[(user, db)] = Session(self, user, db)
        return self.sessions[(user, db)]

    def dump(self, db="ots", data_only=False, user=SUPERUSER):
        """pg_dump's plain-text output (bytes)."""
        p = subprocess.run([program("pg_dump"), "-h", self.sock, "-p", str(self.port), "-U", user,
                            "--no-password"] + (["--data-only"] if data_only else []) + [db],
                           capture_output=True, timeout=300)
        if p.returncode != 0:
            raise ClusterError("pg_dump failed (%d): %s" % (p.returncode, p.stderr.decode("utf-8", "replace")))
        return p.stdout

    def terminate_backends(self, user=WEB):
        """End every connection of user (pg_terminate_backend); their number."""
        rows = self.psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = %s "
                         "AND pid <> pg_backend_pid();" % literal(user), db="postgres")
        return int(rows[0][0])

    def backends(self, user=WEB, db="ots"):
        """The number of connections user has to db."""
        rows = self.psql("SELECT count(*) FROM pg_stat_activity WHERE usename = %s AND datname = %s;"
                         % (literal(user), literal(db)), db="postgres")
        return int(rows[0][0])

    # -- the test database

    def create_database(self, db="ots"):
        """Make the roles (once per cluster) and db, owned by ots_owner, the
        worker role's rights granted ahead of the schema."""
        if WEB not in self.passwords:
            self.passwords[WEB] = secrets.token_urlsafe(24)
            # on standard input: a password never stands on a command line
            self.psql("CREATE ROLE %s LOGIN;\nCREATE ROLE %s LOGIN PASSWORD %s;\n"
                      % (OWNER, WEB, literal(self.passwords[WEB])), db="postgres")
        self.psql("CREATE DATABASE %s OWNER %s;\n"
                  "REVOKE ALL ON DATABASE %s FROM PUBLIC;\n"
                  "GRANT CONNECT ON DATABASE %s TO %s;\n" % (db, OWNER, db, db, WEB), db="postgres")
        self.psql("REVOKE CREATE ON SCHEMA public FROM PUBLIC;\n"
                  "ALTER DEFAULT PRIVILEGES FOR ROLE %s IN SCHEMA public "
                  "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %s;\n"
                  "ALTER DEFAULT PRIVILEGES FOR ROLE %s IN SCHEMA public "
                  "GRANT USAGE, SELECT ON SEQUENCES TO %s;\n" % (OWNER, WEB, OWNER, WEB), db=db)

    def password_file(self, user=WEB, path=None):
        """A 0600 file holding user's password (for database_password_file)."""
        path = path or os.path.join(self.root, "%s.password" % user)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.passwords[user] + "\n")
        return path

    def database_dir(self, db="ots"):
        """The directory of db's relation files (base/OID)."""
        oid = self.psql("SELECT oid FROM pg_database WHERE datname = %s;" % literal(db), db="postgres")[0][0]
        return os.path.join(self.data, "base", oid)

    def stored_files(self, db="ots"):
        """Every file that holds db's rows or their history, after a
        checkpoint: its relation files and the WAL."""
        self.psql("CHECKPOINT;", db="postgres")
        out = []
        for d in (self.database_dir(db), os.path.join(self.data, "pg_wal")):
            for root, dirs, files in os.walk(d):
                out += [os.path.join(root, n) for n in sorted(files)]
        return out

    def amcheck(self, db="ots"):
        """pg_amcheck over db's tables and indexes (the amcheck extension
        installed as needed): (ok, output)."""
        p = subprocess.run([program("pg_amcheck"), "-h", self.sock, "-p", str(self.port), "-U", SUPERUSER,
                            "--install-missing", "--heapallindexed", "--parent-check", "-d", db],
                           capture_output=True, text=True, timeout=300)
        return p.returncode == 0, (p.stdout + p.stderr).strip()
