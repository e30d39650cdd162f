/*
 * sandbox: what a web worker gives up once it has started.
 *
 * After start-up (configuration, master key and templates read) a worker
 * needs little: the descriptors it holds, its state directory (the gate's
 * lock file), its database, and a short list of system calls.  The store
 * opens on the first request and opens again after a lost connection, so
 * the database stays reachable: with SQLite its directory (the file and
 * the -wal, -shm and -journal files SQLite makes there), with PostgreSQL
 * what libpq needs to connect (the TCP ports the conninfo names, the name
 * resolver for a host name, the password file, TLS files; a Unix socket
 * needs nothing).  On Linux, sandbox_enter takes the rest away for the
 * life of the process, in three layers, each a kernel feature of its own:
 *
 *   no new privileges   PR_SET_NO_NEW_PRIVS: no set-uid, no file
 *                       capabilities, for this process and any child;
 *   Landlock            files are read and written only in the state
 *                       directory and SQLite's, executed nowhere; no TCP
 *                       port is bound, and one is connected only to reach
 *                       the database;
 *   seccomp             an allowlist of system calls: exec, ptrace and
 *                       process_vm_* kill the process, the rest fail
 *                       (EPERM).
 *
 * A worker delivers no mail (ots-mailer does, mailer.h): the mail
 * settings open nothing here.
 *
 * The sandbox is entered once, by the process that serves; it cannot be
 * left, and a child would inherit it.  The worker's `sandbox = no` setting
 * skips the call (for debugging, or a tool such as valgrind that does not
 * run under seccomp).
 */
#ifndef OTS_SANDBOX_H
#define OTS_SANDBOX_H

#include <stddef.h>

struct conf;

/* What the kernel lacked (sandbox_enter's positive results, or'ed). */
#define SANDBOX_NO_LANDLOCK	0x1	/* no files or ports restricted */
#define SANDBOX_NO_SECCOMP	0x2	/* no system call filter */

/*
 * Enter the sandbox for the worker that cf configures.  Returns 0 when
 * every layer is in place; a SANDBOX_NO_* mask when the running kernel
 * lacks a layer (err says which; every other layer is in place and the
 * worker may serve: log err and go on); -1 on any other failure, err says
 * why (most often the state or database directory is missing: `ots-admin
 * init` makes it).  After -1 the process may be partly restricted and
 * should not serve: the caller refuses rather than run with less than was
 * asked for.
 */
int	sandbox_enter(const struct conf *cf, char *err, size_t errlen);

#endif
