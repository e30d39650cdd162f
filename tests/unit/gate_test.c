/*
 * gate: the host-wide bound on passphrase hashes: slots shared by every
 * process (each gate here is its own open of the file, as each worker's
 * is), one per client, nothing left held by a process that dies.
 */
#include "config.h"

#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "gate.h"

#include "tap.h"

static char dir[1024];

/* A gate on the test's database with n slots; NULL on error. */
static struct gate *
open_gate(long n)
{
	char text[2200], err[256];
	struct conf *cf;
	struct gate *g;

	snprintf(text, sizeof(text), "database = %s/ots.db\n"
	    "master_key = %s/master.key\nscrypt_max = %ld\n", dir, dir, n);
	if ((cf = conf_parse(text, strlen(text), "t", err, sizeof(err))) ==
	    NULL) {
		diag("%s", err);
		return NULL;
	}
	if ((g = gate_open(cf, err, sizeof(err))) == NULL)
		diag("%s", err);
	conf_free(cf);
	return g;
}

static void
test_slots(void)
{
	struct gate *a = open_gate(2), *b = open_gate(2), *c = open_gate(2);
	char path[1100];
	struct stat st;

	if (!ok(a != NULL && b != NULL && c != NULL, "three gates open"))
		bail_out("gate_open");
	snprintf(path, sizeof(path), "%s/ots.gate", dir);
	ok(stat(path, &st) == 0 && (st.st_mode & 077) == 0,
	    "the gate file is made in the state directory, mode 0600");
	is_int(gate_enter(a, "192.0.2.1"), 1, "a first client gets a slot");
	is_int(gate_enter(b, "192.0.2.1"), 0,
	    "the same client elsewhere is refused: one hash per client");
	is_int(gate_enter(b, "192.0.2.2"), 1, "another client: the second slot");
	is_int(gate_enter(c, "192.0.2.3"), 0,
	    "a third client: no room (two slots), refused at once");
	gate_leave(a);
	is_int(gate_enter(c, "192.0.2.3"), 1, "a slot given back is taken");
	is_int(gate_enter(a, "192.0.2.1"), 0, "and the host is full again");
	gate_leave(b);
	gate_leave(c);
	is_int(gate_enter(a, "192.0.2.1"), 1, "all given back: room again");
	gate_leave(a);
	gate_leave(a);	/* leaving twice is harmless */
	is_int(gate_enter(b, ""), 1, "an unknown client (\"\") is a client");
	gate_leave(b);
	is_int(gate_enter(NULL, "x"), 1, "no gate: always in");
	gate_leave(NULL);
	gate_close(a);
	gate_close(b);
	gate_close(c);
}

/* A process killed while it holds a slot leaves the slot free. */
static void
test_killed(void)
{
	struct gate *g;
	int fds[2], st;
	pid_t pid;
	char c;

	if (pipe(fds) == -1 || (pid = fork()) == -1)
		bail_out("fork");
	if (pid == 0) {
		close(fds[0]);
		g = open_gate(1);
		c = g != NULL && gate_enter(g, "198.51.100.7") == 1 ? 'y' : 'n';
		if (write(fds[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(fds[1]);
	g = open_gate(1);
	ok(read(fds[0], &c, 1) == 1 && c == 'y', "a child takes the only slot");
	is_int(gate_enter(g, "198.51.100.8"), 0, "no room while it holds it");
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	is_int(gate_enter(g, "198.51.100.7"), 1,
	    "after kill -9: the slot and the client are free again");
	gate_leave(g);
	gate_close(g);
	close(fds[0]);
}

static void
test_default(void)
{
	char err[256];
	struct conf *cf;
	long n = sysconf(_SC_NPROCESSORS_ONLN) / 2;

	cf = conf_parse("database = x\nmaster_key = y\n", 28, "t", err,
	    sizeof(err));
	if (!ok(cf != NULL, "a configuration without scrypt_max"))
		return;
	is_int(gate_slots(cf), n < 1 ? 1 : n,
	    "scrypt_max 0: half the processors, at least one");
	conf_free(cf);
}

int
main(void)
{
	tap_tmpdir(dir, sizeof(dir));
	test_slots();
	test_killed();
	test_default();
	tap_rmtree(dir);
	return done();
}
