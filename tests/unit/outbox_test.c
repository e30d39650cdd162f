/*
 * outbox: recipient mail on a real SQLite file in a private directory:
 * the sealed payload of a queued message (the link only inside it), the
 * queueing by secret_create, the delivery lease, retries with back-off
 * against an SMTP port on 127.0.0.1 that refuses connections, giving up
 * after mail_max_age or with the secret, and delivery through a tiny SMTP
 * responder on 127.0.0.1 in a child process (outbox_deliver and
 * outbox_run).  No mail goes anywhere but 127.0.0.1.  The message text
 * itself is checked by tests/integration/t_mail.py against aiosmtpd.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "mail.h"
#include "outbox.h"
#include "secret.h"

#include "fixture.h"

#define MAX_AGE		10000	/* mail_max_age of these tests */
#define LEASE		30	/* smtp_timeout 5, times 6 */

static struct fx f;
static struct caller sender;
static int refused_fd = -1;	/* bound, never listening: refuses */
static int refused_port;

/* A port on 127.0.0.1 that refuses connections while refused_fd is open. */
static void
refusing_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((refused_fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(refused_fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    getsockname(refused_fd, (struct sockaddr *)&sa, &len) == -1)
		bail_out("a refusing port on 127.0.0.1");
	refused_port = ntohs(sa.sin_port);
}

/* A new fixture whose SMTP relay is the refusing port; an account. */
static void
open_fixture(void)
{
	char settings[512];

	snprintf(settings, sizeof(settings),
	    "smtp_host = 127.0.0.1\nsmtp_port = %d\nsmtp_timeout = 5\n"
	    "smtp_starttls = off\nmail_from = ots@ots.example\n"
	    "mail_max_age = %d\n", refused_port, MAX_AGE);
	fx_open(&f, settings, NULL);
	fx_account(&f, "alice@example.com", "basic", &sender);
}

/* A random recipient address. */
static void
new_address(char out[64])
{
	char local[17];

	fx_random(local, 8);
	snprintf(out, 64, "r%s@example.org", local);
}

/*
 * Queue a message to to about a new secret (value, living ttl) created by
 * the account now; its id.  The secret's keys go to made.
 */
static long long
queue(const char *to, const char *value, const char *ttl,
    struct secret_made *made)
{
	struct secret_new in;

	memset(&in, 0, sizeof(in));
	in.value = value;
	in.len = strlen(value);
	in.ttl = ttl;
	in.ttl_len = ttl ? strlen(ttl) : 0;
	in.recipient = to;
	in.rlen = strlen(to);
	if (secret_create(&f.x, &sender, &in, fx_time, made) != SECRET_OK ||
	    made->mail_id <= 0)
		bail_out("secret_create with a recipient: %s", made->message);
	return made->mail_id;
}

struct find {
	long long		 id;
	struct store_mail	*out;
	int			 found;
};

static int
find_one(void *arg, const struct store_mail *m)
{
	struct find *fd = arg;

	if (m->id == fd->id) {
		*fd->out = *m;
		fd->found = 1;
	}
	return 0;
}

/* The record of message id (without its payload); 0 or -1. */
static int
record(long long id, struct store_mail *m)
{
	struct find fd = { id, m, 0 };

	memset(m, 0, sizeof(*m));
	return store_mail_list(f.st, find_one, &fd) == 0 && fd.found ? 0 : -1;
}

/* The bytes of message id's stored payload, or -1. */
static long long
payload_len(long long id)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long n = -1;

	if (sqlite3_open_v2(f.db, &db, SQLITE_OPEN_READONLY, NULL) ==
	    SQLITE_OK && sqlite3_prepare_v2(db, "SELECT length(sealed) FROM "
	    "mail WHERE id = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);	/* NULL: 0 */
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return n;
}

/* 1 if needle occurs in b. */
static int
holds(const struct buf *b, const char *needle)
{
	return b->len > 0 && memmem(b->data, b->len, needle,
	    strlen(needle)) != NULL;
}

static void
test_prepare(void)
{
	struct store_mail m, m2;
	struct buf plain = { 0 };
	unsigned char zero[CRYPTO_ID_LEN] = { 0 }, rid[CRYPTO_ID_LEN];
	char to[64], skey[KEYS_LEN + 1], link[128], want[256], obf[64];

	open_fixture();
	new_address(to);
	keys_new(skey);
	snprintf(link, sizeof(link), FX_BASE "/secret/%s", skey);
	is_int(outbox_prepare(f.cf, f.crypto, to, "alice@example.com", skey, 1,
	    fx_time, fx_time + 600, &m), 0, "prepare a message");
	mail_obfuscate(to, obf, sizeof(obf));
	is_str(m.recipient, obf, "the recipient obfuscated");
	ok(strncmp(m.recipient, to, 3) != 0 && strstr(m.recipient, "*****"),
	    "not the address");
	is_int(m.created, fx_time, "created now");
	is_int(m.expires, fx_time + 600, "expires with the secret");
	ok(memcmp(m.rid, zero, sizeof(zero)) != 0, "a random row id");
	ok(m.sealed.len > 0, "a sealed payload");
	ok(!holds(&m.sealed, link) && !holds(&m.sealed, skey) &&
	    !holds(&m.sealed, to) && !holds(&m.sealed, "alice@example.com"),
	    "no link, key, address or sender in the sealed bytes");
	is_int(crypto_open_sealed(f.crypto, CRYPTO_MAIL, "", 0, NULL, m.rid,
	    m.sealed.data, m.sealed.len, &plain), 0,
	    "the master key opens it");
	snprintf(want, sizeof(want), "%s\nalice@example.com\n%s\n1", to, link);
	is_str(plain.data, want, "address, sender, link, passphrase flag");
	buf_free(&plain);
	memcpy(rid, m.rid, sizeof(rid));
	rid[0] ^= 1;
	is_int(crypto_open_sealed(f.crypto, CRYPTO_MAIL, "", 0, NULL, rid,
	    m.sealed.data, m.sealed.len, &plain), -1,
	    "bound to its row id");
	buf_free(&plain);

	is_int(outbox_prepare(f.cf, f.crypto, to, "alice@example.com", skey, 0,
	    fx_time, fx_time + 600, &m2), 0, "the same message again");
	ok(memcmp(m.rid, m2.rid, sizeof(m.rid)) != 0 && (m.sealed.len !=
	    m2.sealed.len || memcmp(m.sealed.data, m2.sealed.data,
	    m.sealed.len) != 0), "another row id, other bytes");
	crypto_open_sealed(f.crypto, CRYPTO_MAIL, "", 0, NULL, m2.rid,
	    m2.sealed.data, m2.sealed.len, &plain);
	ok(plain.len > 2 && strcmp(plain.data + plain.len - 2, "\n0") == 0,
	    "without a passphrase: flag 0");
	buf_free(&plain);
	buf_free(&m.sealed);
	buf_free(&m2.sealed);
	is_int(outbox_prepare(f.cf, f.crypto, "nobody", "alice@example.com",
	    skey, 0, fx_time, fx_time + 600, &m), -1, "no address, no message");
	buf_free(&m.sealed);
	fx_close(&f);
}

/* secret_create queues the message with its secret, in one transaction. */
static void
test_queue(void)
{
	struct secret_made made;
	struct store_mail m, taken;
	struct buf plain = { 0 };
	char to[64], obf[64], link[128];
	long long id, ids[8];
	long n;

	open_fixture();
	new_address(to);
	id = queue(to, "the value", "3600", &made);
	is_int(record(id, &m), 0, "the message is stored");
	is_str(m.state, "queued", "queued");
	is_int(m.attempts, 0, "no attempt yet");
	mail_obfuscate(to, obf, sizeof(obf));
	is_str(m.recipient, obf, "the recipient obfuscated");
	is_int(m.next_try, fx_time, "due now");
	is_int(m.expires, fx_time + 3600, "expires with the secret");
	n = store_mail_due(f.st, fx_time, ids, 8);
	ok(n == 1 && ids[0] == id, "due now");
	memset(&taken, 0, sizeof(taken));
	is_int(store_mail_take(f.st, id, fx_time, LEASE, &taken), 1,
	    "take it");
	crypto_open_sealed(f.crypto, CRYPTO_MAIL, "", 0, NULL, taken.rid,
	    taken.sealed.data, taken.sealed.len, &plain);
	snprintf(link, sizeof(link), "\n" FX_BASE "/secret/%s\n", made.skey);
	ok(holds(&plain, link), "its payload links the secret created");
	ok(!holds(&plain, "the value"), "and holds no value");
	buf_free(&plain);
	buf_free(&taken.sealed);
	secret_made_clear(&made);
	fx_close(&f);
}

/* A taken message is leased: no other process takes it until it ends. */
static void
test_lease(void)
{
	struct secret_made made;
	struct store_mail m;
	struct outbox_stats stats = { 0, 0, 0 };
	char to[64];
	long long id, t0 = fx_time, ids[8];

	open_fixture();
	new_address(to);
	id = queue(to, "v", "86400", &made);
	memset(&m, 0, sizeof(m));
	is_int(store_mail_take(f.st, id, t0, LEASE, &m), 1, "take the lease");
	is_int(m.attempts, 1, "an attempt counted");
	ok(m.sealed.len > 0, "with the payload");
	buf_free(&m.sealed);
	is_int(store_mail_take(f.st, id, t0 + LEASE - 1, LEASE, &m), 0,
	    "a second take before the lease ends gets nothing");
	is_int(store_mail_due(f.st, t0 + LEASE - 1, ids, 8), 0,
	    "it is not due meanwhile");
	is_int(outbox_deliver(f.st, f.crypto, f.cf, id, t0 + 1, &stats), 0,
	    "outbox_deliver meanwhile");
	ok(stats.sent == 0 && stats.retry == 0 && stats.failed == 0,
	    "does nothing");
	record(id, &m);
	is_int(m.attempts, 1, "and counts no attempt");
	is_int(store_mail_take(f.st, id, t0 + LEASE, LEASE, &m), 1,
	    "once the lease ended, it can be taken again");
	is_int(m.attempts, 2, "a second attempt");
	buf_free(&m.sealed);
	secret_made_clear(&made);
	fx_close(&f);
}

/*
 * The relay refuses: retried with back-off from 60 s, doubling, capped at
 * an hour; given up once mail_max_age has passed, the payload dropped.
 */
static void
test_retry(void)
{
	static const long long delay[] = {
		60, 120, 240, 480, 960, 1920, 3600, 3600,
	};
	struct secret_made made;
	struct store_mail m;
	struct outbox_stats stats = { 0, 0, 0 };
	char to[64];
	long long id, t, t0 = fx_time;
	size_t i;

	open_fixture();
	new_address(to);
	id = queue(to, "v", "86400", &made);
	is_int(outbox_deliver(f.st, f.crypto, f.cf, id, t0, &stats), 0,
	    "deliver to a relay that refuses");
	is_int(stats.retry, 1, "counted as a retry");
	record(id, &m);
	is_str(m.state, "queued", "still queued");
	is_int(m.next_try, t0 + 60, "next try in 60 s");
	ok(strstr(m.last_error, "127.0.0.1") != NULL,
	    "the error names the relay (%s)", m.last_error);
	ok(payload_len(id) > 0, "the payload is kept");
	is_int(outbox_deliver(f.st, f.crypto, f.cf, id, t0 + 59, &stats), 0,
	    "a second before it is due");
	record(id, &m);
	ok(stats.retry == 1 && m.attempts == 1, "nothing happens");
	for (t = t0, i = 0; i < sizeof(delay) / sizeof(delay[0]); i++) {
		if (i > 0) {
			outbox_deliver(f.st, f.crypto, f.cf, id, t, &stats);
			record(id, &m);
		}
		is_int(m.next_try - t, delay[i], "attempt %zu: next in %lld s",
		    i + 1, delay[i]);
		t = m.next_try;
	}
	is_int(stats.retry, 8, "eight retries");
	is_int(t - t0, 10980, "the ninth falls after mail_max_age");
	is_int(outbox_deliver(f.st, f.crypto, f.cf, id, t, &stats), 0,
	    "deliver then");
	is_int(stats.failed, 1, "given up");
	record(id, &m);
	is_str(m.state, "failed", "failed");
	ok(strncmp(m.last_error, "gave up (too old): smtp", 23) == 0,
	    "why, with the last error (%s)", m.last_error);
	is_int(payload_len(id), 0, "the payload is dropped");
	is_int(store_mail_take(f.st, id, t + 1, LEASE, &m), 0,
	    "never taken again");
	secret_made_clear(&made);
	fx_close(&f);
}

/* A message whose secret has expired is given up, not sent. */
static void
test_expired(void)
{
	struct secret_made made;
	struct store_mail m;
	struct outbox_stats stats = { 0, 0, 0 };
	char to[64];
	long long id;

	open_fixture();
	new_address(to);
	id = queue(to, "v", "600", &made);
	is_int(outbox_deliver(f.st, f.crypto, f.cf, id, fx_time + 600, &stats),
	    0, "deliver once the secret expired");
	ok(stats.failed == 1 && stats.retry == 0, "given up without trying");
	record(id, &m);
	is_str(m.state, "failed", "failed");
	is_str(m.last_error, "gave up (the secret expired)", "why");
	is_int(payload_len(id), 0, "the payload is dropped");
	secret_made_clear(&made);
	fx_close(&f);
}

/* Read fd to its end into b. */
static void
read_all(int fd, struct buf *b)
{
	char chunk[4096];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(b, chunk, (size_t)n);
}

/* One SMTP session on c: every command succeeds; what it heard goes to out. */
static void
smtp_session(int c, int out)
{
	char line[2048];
	int data = 0;
	FILE *in;

	if ((in = fdopen(c, "r")) == NULL)
		return;
	dprintf(c, "220 responder ESMTP\r\n");
	while (fgets(line, sizeof(line), in) != NULL) {
		dprintf(out, "%s", line);
		if (data) {
			if (strcmp(line, ".\r\n") == 0) {
				data = 0;
				dprintf(c, "250 queued\r\n");
			}
		} else if (strncmp(line, "DATA", 4) == 0) {
			data = 1;
			dprintf(c, "354 go on\r\n");
		} else if (strncmp(line, "QUIT", 4) == 0) {
			dprintf(c, "221 bye\r\n");
			break;
		} else
			dprintf(c, "250 ok\r\n");
	}
	fclose(in);
}

/*
 * A tiny SMTP server on 127.0.0.1 in a child process: it takes n sessions
 * one after another and writes what it heard to the pipe *transcript.
 * Sets the fixture's relay to it.  The child ends itself after 60 s, in
 * case a session never comes.
 */
static pid_t
smtp_responder(int n, int *transcript)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int ls, c, p[2], i;
	pid_t pid;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((ls = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(ls, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(ls, 8) == -1 ||
	    getsockname(ls, (struct sockaddr *)&sa, &len) == -1 ||
	    pipe(p) == -1 || (pid = fork()) == -1)
		bail_out("an SMTP responder on 127.0.0.1");
	if (pid == 0) {
		close(p[0]);
		alarm(60);
		for (i = 0; i < n; i++)
			if ((c = accept(ls, NULL, NULL)) != -1)
				smtp_session(c, p[1]);
		_exit(0);
	}
	close(ls);
	close(p[1]);
	*transcript = p[0];
	f.cf->smtp_port = ntohs(sa.sin_port);
	return pid;
}

/* Wait for the responder and take what it heard. */
static void
responder_done(pid_t pid, int transcript, struct buf *heard)
{
	int status;

	read_all(transcript, heard);
	close(transcript);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		diag("the responder did not end well");
}

static void
test_deliver(void)
{
	struct secret_made made;
	struct store_mail m;
	struct outbox_stats stats = { 0, 0, 0 };
	struct buf heard = { 0 };
	char to[64], canary[33], line[160];
	long long id;
	int transcript;
	pid_t pid;

	open_fixture();
	new_address(to);
	fx_random(canary, 16);
	id = queue(to, canary, "3600", &made);
	pid = smtp_responder(1, &transcript);
	is_int(outbox_deliver(f.st, f.crypto, f.cf, id, fx_time, &stats), 0,
	    "deliver to the responder");
	responder_done(pid, transcript, &heard);
	ok(stats.sent == 1 && stats.retry == 0, "sent");
	record(id, &m);
	is_str(m.state, "sent", "the record says sent");
	is_int(m.attempts, 1, "in one attempt");
	is_int(payload_len(id), 0, "the payload is dropped");
	snprintf(line, sizeof(line), "RCPT TO:<%s>\r\n", to);
	ok(holds(&heard, "MAIL FROM:<ots@ots.example>\r\n") &&
	    holds(&heard, line), "the envelope");
	snprintf(line, sizeof(line), FX_BASE "/secret/%s\r\n", made.skey);
	ok(holds(&heard, line), "the message carries the link");
	ok(holds(&heard, "Subject: alice@example.com sent you a secret\r\n"),
	    "from the account");
	ok(!holds(&heard, canary) && !holds(&heard, made.mkey),
	    "neither the value nor the receipt's key");
	buf_free(&heard);
	secret_made_clear(&made);
	fx_close(&f);
}

/* outbox_run sends what is due, and only that. */
static void
test_run(void)
{
	struct secret_made a, b, later;
	struct store_mail m;
	struct outbox_stats stats = { 0, 0, 0 };
	struct buf heard = { 0 };
	char to[3][64];
	long long ida, idb, idl, t0 = fx_time;
	int transcript, i;
	pid_t pid;

	open_fixture();
	for (i = 0; i < 3; i++)
		new_address(to[i]);
	ida = queue(to[0], "a", "86400", &a);
	idb = queue(to[1], "b", "86400", &b);
	idl = queue(to[2], "l", "86400", &later);
	/* the third was tried and refused: due again in 60 s */
	outbox_deliver(f.st, f.crypto, f.cf, idl, t0, NULL);
	pid = smtp_responder(2, &transcript);
	is_int(outbox_run(f.st, f.crypto, f.cf, t0 + 1, &stats), 0,
	    "run the outbox");
	responder_done(pid, transcript, &heard);
	ok(stats.sent == 2 && stats.retry == 0 && stats.failed == 0,
	    "two sent (%lld sent, %lld retried, %lld failed)", stats.sent,
	    stats.retry, stats.failed);
	ok(record(ida, &m) == 0 && strcmp(m.state, "sent") == 0 &&
	    record(idb, &m) == 0 && strcmp(m.state, "sent") == 0,
	    "the two due messages are sent");
	ok(holds(&heard, to[0]) && holds(&heard, to[1]) &&
	    !holds(&heard, to[2]), "to their recipients, not the third's");
	ok(record(idl, &m) == 0 && strcmp(m.state, "queued") == 0 &&
	    m.attempts == 1, "the one not due stays queued, untried");
	memset(&stats, 0, sizeof(stats));
	is_int(outbox_run(f.st, f.crypto, f.cf, t0 + 2, &stats), 0,
	    "run again");
	ok(stats.sent == 0 && stats.retry == 0 && stats.failed == 0,
	    "nothing is due");
	buf_free(&heard);
	secret_made_clear(&a);
	secret_made_clear(&b);
	secret_made_clear(&later);
	fx_close(&f);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	refusing_port();
	test_prepare();
	test_queue();
	test_lease();
	test_retry();
	test_expired();
	test_deliver();
	test_run();
	close(refused_fd);
	return done();
}
