"""servers: the web-server configurations shipped in contrib/, run for real.

Each class below is one deployment: it renders the SHIPPED template (only
the @PLACEHOLDERS@ replaced: paths and port), adds the minimal top-level
wrapper that server needs to run standalone (for Apache a small httpd.conf
with ServerRoot/PidFile/Listen/LoadModule that Includes the rendered file;
for nginx the main context and http { } around it; for lighttpd the bind,
port and error log), and starts the real server on 127.0.0.1 with its pid,
socket and log files in the instance's temporary directory.  The wrappers
also carry what a distribution's main configuration adds (Debian's global
access logs with the full request line), so a template that failed to
override them would be caught leaking share links.

Where the configuration runs the app as www-data (Apache, spawn-fcgi), the
state directory is chowned to that user, as doc/deploy.md says, and
ots-admin runs as that user too.  Every process is stopped by its PID.

Built on otstest.Server (ots.conf, `ots-admin init`, request helpers).
Needs root (to switch to www-data), lighttpd, apache2 with mod_fcgid,
nginx and spawn-fcgi.  Python 3 standard library only.
"""

import glob
import os
import pwd
import re
import shlex
import shutil
import signal
import subprocess
import time
import traceback

from otstest import (ADMIN, MAILER, OTS, SRCDIR, SWEEP, HarnessError, Server, _tap, canary, diag, free_port,
                     lstr, ok)

CONTRIB = os.path.join(SRCDIR, "contrib")


def each(cls, body):
    """One shipped configuration under test: start it (a server that does
    not start is a failure), run body(s, p) against it (p: the assertions'
    prefix; an exception is a failure, and the next server goes on), close
    it, and say how it went."""
    p = cls.name + ": "
    before = (_tap["n"], _tap["failed"])
    s = None
    try:
        s = cls()
        try:
            s.start()
            ok(True, p + "server started from the shipped template")
            diag("%s: engine %s" % (cls.name, s.engine))
        except Exception as e:  # noqa: BLE001 - a server that does not start fails
            ok(False, p + "server started from the shipped template", [str(e), getattr(e, "logs", "")])
            return
        body(s, p)
    except Exception:  # noqa: BLE001 - report, then go on with the next server
        ok(False, p + "ran to completion", traceback.format_exc().splitlines() + ([s.logs()] if s else []))
    finally:
        if s:
            s.close()
        n, failed = _tap["n"] - before[0], _tap["failed"] - before[1]
        diag("%-24s %s (%d assertions%s)" % (cls.name, "FAIL" if failed else "PASS", n,
                                            ", %d failed" % failed if failed else ""))
PLACEHOLDER_RE = re.compile(r"@[A-Z][A-Z0-9_]*@")
APP_USER = "www-data"
APACHE_MODULES = os.environ.get("APACHE_MODULES", "/usr/lib/apache2/modules")
# the spawn-fcgi line a template documents in its header comment
SPAWN_RE = re.compile(r"^#\s+(OTS_CONFIG=\S+\s+spawn-fcgi\s.*)$", re.M)


def find_program(env, *names):
    for c in [os.environ.get(env)] + [shutil.which(n) for n in names] + ["/usr/sbin/" + n for n in names]:
        if c and os.access(c, os.X_OK):
            return c
    raise HarnessError("%s not found (set %s)" % (names[0], env))


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def stop_pid(pid, sig=signal.SIGTERM, wait=15.0):
    """Signal one process and wait for it to go (SIGKILL after wait seconds).
    Returns True when it stopped on the first signal."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return False


class Deployed(Server):
    """One ots instance behind one shipped configuration.  Subclasses set
    name, template (path under contrib/), app_user (who runs the app) and
    persistent (whether app processes outlive a request), and implement
    launch() and halt()."""

    name = None
    template = None
    app_user = None
    persistent = True
    own_access_log = True  # False: the log is not the template's to shape
    post_needs_length = False  # True: the server refuses a POST without Content-Length

    def __init__(self):
        self._admin_user = None  # ots-admin runs as root until the chown
        self.ots_bin, self.admin_bin, self.sweep_bin, self.mailer_bin = OTS, ADMIN, SWEEP, MAILER
        super().__init__(start=False, fake_clock=False)
        self.run_dir = os.path.join(self.tmp, "run")
        self.static_dir = os.path.join(self.tmp, "static")
        os.makedirs(self.run_dir)
        os.makedirs(self.static_dir)
        self.static_name = "ots-check.css"
        self.static_body = ("/* %s */\nbody { margin: 0 }\n" % canary("st")).encode()
        with open(os.path.join(self.static_dir, self.static_name), "wb") as f:
            f.write(self.static_body)
        self.access_log = os.path.join(self.tmp, "ots-access.log")
        self.responses = []  # (method, path, Resp) of every request made
        self.main_pid = None
        self.pidfile = None
        self.spawned = []  # PIDs started by spawn-fcgi
        self.stopped_cleanly = True
        self.leftovers = []
        self.app_seen = {}  # pid -> uid of app processes seen while serving
        if self.app_user:
            self._own_state()

    def _own_state(self):
        """What doc/deploy.md prescribes: the state directories belong to the
        user that runs the app (0700), ots.conf stays root's but readable."""
        if os.geteuid() != 0:
            raise HarnessError("needs root to run the app as %s" % self.app_user)
        pw = pwd.getpwnam(self.app_user)
        os.chmod(self.tmp, 0o755)  # mkdtemp made it 0700
        # the build tree may be closed to that user (a private checkout, as
        # in CI): the app's programs, templates and stylesheet are copied
        # where it can read them, as an installation would place them
        app = os.path.join(self.tmp, "app")
        os.makedirs(os.path.join(app, "cgi-bin"))
        self.ots_bin = shutil.copy(OTS, os.path.join(app, "cgi-bin", "ots"))
        self.admin_bin = shutil.copy(ADMIN, os.path.join(app, "cgi-bin", "ots-admin"))
        self.sweep_bin = shutil.copy(SWEEP, os.path.join(app, "cgi-bin", "ots-sweep"))
        self.mailer_bin = shutil.copy(MAILER, os.path.join(app, "cgi-bin", "ots-mailer"))
        shutil.copytree(os.path.join(SRCDIR, "web"), os.path.join(app, "web"))
        for root, dirs, files in os.walk(app):
            os.chmod(root, 0o755)
            for f in files:
                os.chmod(os.path.join(root, f), 0o755 if root.endswith("cgi-bin") else 0o644)
        self.settings["web_dir"] = os.path.join(app, "web")
        self._write_conf()
        for d in {self.state_dir, os.path.dirname(self.master_key)}:
            for root, dirs, files in os.walk(d):
                for n in [root] + [os.path.join(root, x) for x in files]:
                    os.chown(n, pw.pw_uid, pw.pw_gid)
        self._admin_user = self.app_user

    # -- placeholders and files

    def values(self):
        return {"PORT": str(self.port), "OTS_BIN": self.ots_bin, "OTS_CONFIG": self.conf_path,
                "STATIC_DIR": self.static_dir, "RUN_DIR": self.run_dir, "LOG_DIR": self.tmp}

    def render(self, rel=None):
        """The shipped template with its placeholders replaced, written into the
        instance directory; returns (path, text)."""
        rel = rel or self.template
        with open(os.path.join(CONTRIB, rel), encoding="utf-8") as f:
            text = f.read()
        for k, v in self.values().items():
            text = text.replace("@%s@" % k, v)
        left = sorted(set(PLACEHOLDER_RE.findall(text)))
        if left:
            raise HarnessError("%s: placeholders the test does not know: %s" % (rel, left))
        path = os.path.join(self.tmp, "shipped-" + os.path.basename(rel))
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path, text

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    # -- admin, as the app's user

    def admin(self, *args):
        if not self._admin_user:
            return super().admin(*args)
        return subprocess.run([self.admin_bin, "-c", self.conf_path] + list(args), capture_output=True,
                              text=True, timeout=60, user=self._admin_user,
                              group=pwd.getpwnam(self._admin_user).pw_gid, extra_groups=[])

    # -- HTTP: every answer is kept for the header checks

    def request(self, method, path, *a, **kw):
        r = super().request(method, path, *a, **kw)
        self.responses.append((method, path, r))
        return r

    # -- processes

    def popen(self, argv, out_name, env=None):
        out = open(os.path.join(self.tmp, out_name), "ab")
        try:
            return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                    env=env, start_new_session=True)
        finally:
            out.close()

    def spawn_fcgi(self, text):
        """Start the workers with the spawn-fcgi line the template documents."""
        m = SPAWN_RE.search(text)
        if not m:
            raise HarnessError("%s documents no spawn-fcgi line" % self.template)
        argv = shlex.split(m.group(1))
        env = dict(os.environ)
        while argv and "=" in argv[0] and not argv[0].startswith("-"):
            k, v = argv.pop(0).split("=", 1)
            env[k] = v
        argv[0] = find_program("SPAWN_FCGI", argv[0])
        pidfile = argv[argv.index("-P") + 1]
        p = subprocess.run(argv, env=env, capture_output=True, timeout=30)
        with open(os.path.join(self.tmp, "spawn-fcgi.out"), "ab") as f:
            f.write(p.stdout + p.stderr)
        pids = [int(x) for x in re.findall(rb"PID: (\d+)", p.stdout + p.stderr)]
        try:
            with open(pidfile) as f:
                pids += [int(x) for x in f.read().split()]
        except OSError:
            pass
        self.spawned = sorted(set(pids))
        if p.returncode != 0 or not self.spawned:
            raise HarnessError("spawn-fcgi failed (%d): %s" % (p.returncode, (p.stdout + p.stderr).decode()))

    def launch(self):
        raise NotImplementedError

    def halt(self):
        """Stop the web server by its PID (from its pid file when it writes one)."""
        pid = self.main_pid
        if self.pidfile:
            try:
                with open(self.pidfile) as f:
                    pid = int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
        if pid and not stop_pid(pid):
            self.stopped_cleanly = False

    def start(self):
        why = ""
        for _attempt in range(3):
            self._write_conf()  # base_url follows the port
            self.launch()
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    if self.request("GET", "status", timeout=2).status == 200:
                        self.responses.clear()
                        return
                except OSError as e:
                    why = str(e)
                time.sleep(0.1)
            self.stop()
            if "in use" not in self.logs():
                break
            self.port = free_port()
        e = HarnessError("%s did not answer GET /api/v1/status within 15 s (%s)" % (self.name, why))
        e.logs = self.logs()
        raise e

    def app_processes(self):
        """{pid: uid} of the running ots processes of this instance (found by
        OTS_CONFIG in their environment)."""
        needle = b"\0OTS_CONFIG=" + self.conf_path.encode() + b"\0"
        found = {}
        for d in glob.glob("/proc/[0-9]*"):
            try:
                with open(d + "/environ", "rb") as f:
                    env = b"\0" + f.read()
                if needle not in env:
                    continue
                with open(d + "/status") as f:
                    uid = int(re.search(r"^Uid:\s+(\d+)", f.read(), re.M).group(1))
            except (OSError, AttributeError):
                continue
            pid = int(d.rsplit("/", 1)[1])
            if pid != os.getpid():
                found[pid] = uid
        return found

    def stop(self):
        if self.proc is None and not self.spawned:
            return
        if self.proc is not None:
            self.halt()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.stopped_cleanly = False
                self.proc.kill()
                self.proc.wait()
        for pid in self.spawned:
            if not stop_pid(pid):
                self.stopped_cleanly = False
        self.spawned = []
        # whatever is left of this instance is a failure of the stop above
        deadline = time.monotonic() + 5
        left = self.app_processes()
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = self.app_processes()
        for pid in left:
            self.leftovers.append(pid)
            stop_pid(pid, signal.SIGKILL, 5)
        self.proc = None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


# ---------------------------------------------------------------- lighttpd

class Lighttpd(Deployed):
    """The shipped file is what goes into conf-enabled/; the wrapper is what
    Debian's lighttpd.conf provides around it (port, error log, pid file,
    MIME types, its server.http-parseopts), run as root like the rest of the
    suite.  lighttpd 1.4 answers a POST without Content-Length with its own
    411, on purpose (request smuggling): no configuration changes that."""

    post_needs_length = True

    def launch(self):
        path, _text = self.render()
        www = os.path.join(self.tmp, "www")
        os.makedirs(www, exist_ok=True)
        self.pidfile = os.path.join(self.run_dir, "lighttpd.pid")
        conf = self.write("lighttpd.conf", "\n".join([
            "# wrapper written by tests/integration/servers.py",
            "server.modules = ( \"mod_indexfile\", \"mod_access\", \"mod_alias\", \"mod_redirect\" )",
            "server.document-root = %s" % lstr(www),
            "server.bind = \"127.0.0.1\"",
            "server.port = %d" % self.port,
            "server.errorlog = %s" % lstr(os.path.join(self.tmp, "lighttpd-error.log")),
            "server.pid-file = %s" % lstr(self.pidfile),
            "mimetype.assign = ( \".css\" => \"text/css\" )",
            # Debian's lighttpd.conf sets these before conf-enabled/ is read,
            # so the shipped file can only add to them (a second `=` is an error)
            "server.http-parseopts = ( %s )" % ", ".join('"%s" => "enable"' % o for o in (
                "header-strict", "host-strict", "host-normalize", "url-normalize-unreserved",
                "url-normalize-required", "url-ctrls-reject", "url-path-2f-decode", "url-path-dotseg-remove")),
            "include %s" % lstr(path), ""]))
        self.proc = self.popen([find_program("LIGHTTPD", "lighttpd"), "-D", "-f", conf], "lighttpd.out")
        self.main_pid = self.proc.pid


class LighttpdFastCGI(Lighttpd):
    name = "lighttpd-fastcgi"
    template = "lighttpd/ots-fastcgi.conf"


class LighttpdCGI(Lighttpd):
    name = "lighttpd-cgi"
    template = "lighttpd/ots-cgi.conf"
    persistent = False


# ---------------------------------------------------------------- Apache

class Apache(Deployed):
    """The shipped file is a site (sites-available/); the wrapper stands for
    apache2.conf, ports.conf and the enabled modules: exactly the modules
    doc/deploy.md tells to enable, plus the MPM, authz_core and mime that
    Debian enables by default."""

    app_user = APP_USER
    modules = ()  # besides mpm_event, authz_core and mime
    server_lines = ()  # server-context lines the module needs (%(run)s: the run directory)
    spawns = False  # the workers are started with the template's spawn-fcgi line

    def launch(self):
        path, text = self.render()
        if self.spawns:
            self.spawn_fcgi(text)
        self.pidfile = os.path.join(self.run_dir, "apache2.pid")
        mods = ["mpm_event", "authz_core", "mime"] + list(self.modules)
        lines = [
            "# wrapper written by tests/integration/servers.py",
            'ServerRoot "%s"' % self.tmp,
            "ServerName 127.0.0.1",
            'PidFile "%s"' % self.pidfile,
            'DefaultRuntimeDir "%s"' % self.run_dir,
            "Mutex file:%s default" % self.run_dir,
            "Listen 127.0.0.1:%d" % self.port,
            "User %s" % APP_USER,
            "Group %s" % APP_USER,
            'ErrorLog "%s"' % os.path.join(self.tmp, "apache-error.log"),
            "LogLevel warn",
        ] + ["LoadModule %s_module %s/mod_%s.so" % (m, APACHE_MODULES, m) for m in mods] + [
            "TypesConfig /etc/mime.types",
            # Debian's other-vhosts-access-log.conf: a virtual host without
            # its own CustomLog would log full request lines here
            'LogFormat "%v:%p %h %l %u %t \\"%r\\" %>s %O \\"%{Referer}i\\" \\"%{User-Agent}i\\"" '
            "vhost_combined",
            'CustomLog "%s" vhost_combined' % os.path.join(self.tmp, "other_vhosts_access.log"),
        ] + [ln % {"run": self.run_dir} for ln in self.server_lines] + [self.apache_include(path) or "", ""]
        conf = self.write("httpd.conf", "\n".join(lines))
        self.proc = self.popen([find_program("APACHE2", "apache2", "httpd"), "-f", conf, "-DFOREGROUND"],
                               "apache2.out", env=dict(os.environ, LANG="C"))
        self.main_pid = self.proc.pid

    def apache_include(self, path):
        return 'Include "%s"' % path


class ApacheFcgid(Apache):
    name = "apache-fcgid"
    template = "apache/ots-fcgid.conf"
    modules = ("alias", "authz_host", "fcgid")
    # Debian's mods-available/fcgid.conf and the package's defaults
    server_lines = ('FcgidIPCDir "%(run)s/fcgid"', 'FcgidProcessTableFile "%(run)s/fcgid_shm"')


class ApacheProxyFcgi(Apache):
    name = "apache-proxy-fcgi"
    template = "apache/ots-proxy-fcgi.conf"
    modules = ("alias", "authz_host", "proxy", "proxy_fcgi")
    spawns = True


class ApacheCGI(Apache):
    name = "apache-cgi"
    template = "apache/ots-cgi.conf"
    modules = ("alias", "authz_host", "env", "cgid")
    server_lines = ('ScriptSock "%(run)s/cgisock"',)
    persistent = False


class ApacheHtaccess(Apache):
    """Shared hosting: the shipped file is DOCROOT/.htaccess, the program is
    copied to DOCROOT/ots.cgi and the static files to DOCROOT/static/; the
    wrapper is the hosting provider's configuration (mod_cgid, mod_rewrite,
    AllowOverride, and its access log with full request lines, which the
    template says it cannot keep share links out of)."""

    name = "apache-htaccess"
    template = "apache/ots-cgi.htaccess"
    modules = ("alias", "env", "cgid", "rewrite", "dir")
    persistent = False
    own_access_log = False

    def launch(self):
        path, _text = self.render()
        docroot = os.path.join(self.tmp, "docroot")
        os.makedirs(docroot, exist_ok=True)
        shutil.copy(path, os.path.join(docroot, ".htaccess"))
        shutil.copy(self.ots_bin, os.path.join(docroot, "ots.cgi"))
        shutil.copytree(self.static_dir, os.path.join(docroot, "static"), dirs_exist_ok=True)
        for root, _dirs, files in os.walk(docroot):
            os.chmod(root, 0o755)
            for f in files:
                os.chmod(os.path.join(root, f), 0o755 if f == "ots.cgi" else 0o644)
        self.server_lines = ('ScriptSock "%(run)s/cgisock"',
                             'DocumentRoot "%s"' % docroot,
                             '<Directory "%s">' % docroot,
                             "\tAllowOverride FileInfo AuthConfig Indexes Options=ExecCGI,Indexes",
                             "\tRequire all granted",
                             "</Directory>")
        super().launch()

    def apache_include(self, path):
        return None


# ---------------------------------------------------------------- nginx

class Nginx(Deployed):
    """The shipped file goes inside http { } (sites-enabled/); the wrapper is
    what Debian's nginx.conf provides: user, pid, events, MIME types and an
    http-level access log in the default (combined) format."""

    name = "nginx-spawn-fcgi"
    template = "nginx/ots.conf"
    app_user = APP_USER

    def values(self):
        v = super().values()
        v["PORT"] = "127.0.0.1:%d" % self.port
        return v

    def launch(self):
        path, text = self.render()
        self.spawn_fcgi(text)
        self.pidfile = os.path.join(self.run_dir, "nginx.pid")
        temp = "\n".join("\t%s_temp_path %s;" % (t, os.path.join(self.run_dir, "nginx-" + t))
                         for t in ("client_body", "fastcgi", "proxy", "uwsgi", "scgi"))
        conf = self.write("nginx.conf", """# wrapper written by tests/integration/servers.py
user %(user)s;
worker_processes 2;
pid %(pid)s;
error_log %(err)s;
daemon off;
events {
	worker_connections 64;
}
http {
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
%(temp)s
	access_log %(acc)s;
	include %(site)s;
}
""" % dict(user=APP_USER, pid=self.pidfile, err=os.path.join(self.tmp, "nginx-error.log"), temp=temp,
           acc=os.path.join(self.tmp, "nginx-http-access.log"), site=path))
        self.proc = self.popen([find_program("NGINX", "nginx"), "-p", self.tmp + "/", "-e",
                                os.path.join(self.tmp, "nginx-error.log"), "-c", conf], "nginx.out")
        self.main_pid = self.proc.pid


ALL = (LighttpdFastCGI, ApacheFcgid, ApacheProxyFcgi, Nginx, ApacheCGI, LighttpdCGI, ApacheHtaccess)
