/*
 * outbox: the sealed payloads of the mail queue and ots-mailer's delivery
 * core (mailer.h), on a real SQLite file in a private directory.
 *
 * Payloads: a round trip for each kind, opened only with the mailer's
 * key pair and only on the row they were sealed for; a copy of the
 * database with the master key yields no link.  Delivery: mailer_run
 * against relays on 127.0.0.1 played by child processes of the test (a
 * tiny SMTP responder, prompt, slow or never done; a listener that
 * accepts and never answers) or by the test (a bound port that refuses, a
 * listener whose queue is full), with the fixture's clock for the
 * back-off; its deadlines and mail_concurrency.  Notices: queued by a
 * reveal, a burn or the sweep, and what their e-mail says.  No mail and
 * no connection goes anywhere but 127.0.0.1.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "mail.h"
#include "mailer.h"
#include "outbox.h"
#include "secret.h"
#include "webhook.h"

#include "fixture.h"

#define T_START		1700000000LL
#define MAX_AGE		10000	/* mail_max_age of these tests */
#define SMTP_TIMEOUT	1	/* smtp_timeout: seconds per step */
#define SESSION_MAX	(6 * SMTP_TIMEOUT + 5)	/* smtp.h's bound */
#define HELPER_LIFE	60	/* a helper process ends itself then */
#define ROWS_MAX	16
#define ALICE		"alice@example.com"

static struct fx f;
static struct caller alice;
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

/*
 * A new fixture whose relay is the refusing port, with the mailer's
 * private key in a file as ots-mailer reads it, and the account ALICE.
 */
static void
open_fixture(int concurrency)
{
	char settings[512], path[1200], hex[2 * OUTBOX_SK_LEN + 1];
	FILE *fp;

	fx_time = T_START;
	snprintf(settings, sizeof(settings),
	    "smtp_host = 127.0.0.1\nsmtp_port = %d\nsmtp_timeout = %d\n"
	    "smtp_starttls = off\nmail_from = ots@ots.example\n"
	    "mail_max_age = %d\nmail_concurrency = %d\n", refused_port,
	    SMTP_TIMEOUT, MAX_AGE, concurrency);
	fx_open(&f, settings, NULL);
	snprintf(path, sizeof(path), "%s/mailer.key", f.dir);
	sodium_bin2hex(hex, sizeof(hex), f.mailer_sk, sizeof(f.mailer_sk));
	if ((fp = fopen(path, "w")) == NULL || fprintf(fp, "%s\n", hex) < 0 ||
	    fclose(fp) == EOF)
		bail_out("the mailer's key file");
	free(f.cf->mailer_key);
	if ((f.cf->mailer_key = strdup(path)) == NULL)
		bail_out("strdup");
	fx_account(&f, ALICE, "basic", &alice);
}

/* The account's notices and webhook, stored and re-read as auth would. */
static void
set_notify(int notify, const char *url)
{
	unsigned char key[WEBHOOK_KEY_LEN];

	alice.cust.notify = notify;
	snprintf(alice.cust.webhook_url, sizeof(alice.cust.webhook_url), "%s",
	    url ? url : "");
	alice.cust.webhook_key_len = 0;
	if (url != NULL) {
		randombytes_buf(key, sizeof(key));
		crypto_box_seal(alice.cust.webhook_key, key, sizeof(key),
		    f.cf->mailer_pk);
		alice.cust.webhook_key_len = sizeof(key) + crypto_box_SEALBYTES;
	}
	if (store_customer_set_notify(f.st, &alice.cust) != 1 ||
	    store_customer_get(f.st, ALICE, &alice.cust) != 1)
		bail_out("store_customer_set_notify");
}

/* A random recipient address. */
static void
new_address(char out[64])
{
	char local[17];

	fx_random(local, 8);
	snprintf(out, 64, "r%s@example.org", local);
}

/* Create value for c now: to (NULL: none), ttl, notify (NULL: absent). */
static enum secret_result
create(const struct caller *c, const char *to, const char *value,
    const char *ttl, const char *notify, struct secret_made *made)
{
	struct secret_new in;

	memset(&in, 0, sizeof(in));
	in.value = value;
	in.len = strlen(value);
	in.ttl = ttl;
	in.ttl_len = strlen(ttl);
	in.recipient = to;
	in.rlen = to ? strlen(to) : 0;
	in.notify = notify;
	in.nlen = notify ? strlen(notify) : 0;
	return secret_create(&f.x, c, &in, fx_time, made);
}

static void
must_create(const struct caller *c, const char *to, const char *value,
    const char *ttl, const char *notify, struct secret_made *made)
{
	if (create(c, to, value, ttl, notify, made) != SECRET_OK)
		bail_out("secret_create: %s", made->message);
}

/* The outbox, newest first (without payloads). */
struct rows {
	int			 n;
	struct store_mail	 m[ROWS_MAX];
};

static int
add_row(void *arg, const struct store_mail *m)
{
	struct rows *r = arg;

	if (r->n < ROWS_MAX)
		r->m[r->n] = *m;
	r->n++;
	return 0;
}

static int
rows(struct rows *r)
{
	memset(r, 0, sizeof(*r));
	if (store_mail_list(f.st, add_row, r) == -1)
		bail_out("store_mail_list");
	return r->n;
}

/* The record of row id into m; 0 or -1. */
static int
record(long long id, struct store_mail *m)
{
	struct rows r;
	int i;

	memset(m, 0, sizeof(*m));
	rows(&r);
	for (i = 0; i < r.n && i < ROWS_MAX; i++)
		if (r.m[i].id == id) {
			*m = r.m[i];
			return 0;
		}
	return -1;
}

/* The id of the newest row (0: none). */
static long long
newest(void)
{
	struct rows r;

	return rows(&r) > 0 ? r.m[0].id : 0;
}

/* The bytes of row id's stored payload (0 when dropped), or -1. */
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

/* 1 if needle occurs in b[0..len). */
static int
holds_mem(const void *b, size_t len, const char *needle)
{
	return len > 0 && memmem(b, len, needle, strlen(needle)) != NULL;
}

static int
holds(const struct buf *b, const char *needle)
{
	return holds_mem(b->data, b->len, needle);
}

static double
seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * ots-mailer's core on the fixture's database and clock: deliver what is
 * due, once.  Outcomes go to stats (zeroed first); the time it took to
 * *took.  mailer_run's result.
 */
static int
run_mailer(struct mailer_stats *stats, double *took)
{
	struct mailer *m;
	char err[512];
	double t0;
	int rc;

	memset(stats, 0, sizeof(*stats));
	if ((m = mailer_open(f.cf, err, sizeof(err))) == NULL ||
	    mailer_connect(m, err, sizeof(err)) == -1)
		bail_out("the mailer: %s", err);
	mailer_set_clock(m, fx_clock);
	t0 = seconds();
	rc = mailer_run(m, 1, stats);
	if (took != NULL)
		*took = seconds() - t0;
	mailer_close(m);
	return rc;
}

/* -- relays on 127.0.0.1, each a child process of the test */

/* A listening socket on 127.0.0.1 with backlog; its port to *port. */
static int
listener(int backlog, int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int ls;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((ls = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(ls, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(ls, backlog) == -1 ||
	    getsockname(ls, (struct sockaddr *)&sa, &len) == -1)
		bail_out("a listener on 127.0.0.1");
	*port = ntohs(sa.sin_port);
	return ls;
}

/*
 * How a responder answers: at once, or slowly (each reply after pause_ms;
 * with drip, its EHLO reply is that many lines, each after pause_ms).
 */
struct pace {
	int	 pause_ms;
	int	 drip;
};

static const struct pace prompt = { 0, 0 };

/* Write a reply line to c after the pace's pause.  0, or -1 (gone). */
static int
reply(int c, const struct pace *p, const char *line)
{
	struct timespec ts;

	ts.tv_sec = p->pause_ms / 1000;
	ts.tv_nsec = (p->pause_ms % 1000) * 1000000L;
	if (p->pause_ms > 0)
		nanosleep(&ts, NULL);
	return dprintf(c, "%s\r\n", line) < 0 ? -1 : 0;
}

/* One SMTP session on c: every command succeeds; what it heard goes to out. */
static void
smtp_session(int c, int out, const struct pace *p)
{
	char line[2048];
	int data = 0, i, rc = 0;
	FILE *in;

	if ((in = fdopen(c, "r")) == NULL)
		return;
	if (reply(c, p, "220 responder ESMTP") == -1)
		goto out;
	while (rc == 0 && fgets(line, sizeof(line), in) != NULL) {
		dprintf(out, "%s", line);
		if (data) {
			if (strcmp(line, ".\r\n") == 0) {
				data = 0;
				rc = reply(c, p, "250 queued");
			}
		} else if (strncmp(line, "DATA", 4) == 0) {
			data = 1;
			rc = reply(c, p, "354 go on");
		} else if (strncmp(line, "QUIT", 4) == 0) {
			reply(c, p, "221 bye");
			break;
		} else if (strncmp(line, "EHLO", 4) == 0 && p->drip > 0) {
			for (i = 0; rc == 0 && i < p->drip; i++)
				rc = reply(c, p, "250-PIPELINING");
			if (rc == 0)
				rc = reply(c, p, "250 8BITMIME");
		} else
			rc = reply(c, p, "250 ok");
	}
out:
	fclose(in);
}

/*
 * A tiny SMTP server on 127.0.0.1 in a child process: it takes n sessions
 * one after another at pace p and writes what it heard to the pipe
 * *transcript.  The fixture's relay becomes it.
 */
static pid_t
smtp_responder(int n, const struct pace *p, int *transcript)
{
	int ls, c, fd[2], i, port;
	pid_t pid;

	ls = listener(8, &port);
	if (pipe(fd) == -1 || (pid = fork()) == -1)
		bail_out("an SMTP responder");
	if (pid == 0) {
		close(fd[0]);
		alarm(HELPER_LIFE);
		for (i = 0; i < n; i++)
			if ((c = accept(ls, NULL, NULL)) != -1)
				smtp_session(c, fd[1], p);
		_exit(0);
	}
	close(ls);
	close(fd[1]);
	*transcript = fd[0];
	f.cf->smtp_port = port;
	return pid;
}

/* Wait for the responder (it ends after its sessions) and take what it
 * heard. */
static void
responder_done(pid_t pid, int transcript, struct buf *heard)
{
	char chunk[4096];
	ssize_t n;
	int status;

	while ((n = read(transcript, chunk, sizeof(chunk))) > 0)
		buf_add(heard, chunk, (size_t)n);
	close(transcript);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		diag("the responder did not end well");
}

/*
 * A black hole: a relay on 127.0.0.1 that accepts connections and never
 * says a word, in a child process that counts the connections and the
 * most open at once.  It reports when the test closes ctl.
 */
struct hole {
	pid_t	 pid;
	int	 ctl;
	int	 report;
};

/* 1 if the peer of c has closed (or reset) the connection. */
static int
closed(int c)
{
	char b[512];
	ssize_t n;

	while ((n = recv(c, b, sizeof(b), MSG_DONTWAIT)) > 0)
		;	/* a client's words are not answered */
	return n == 0 || (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR);
}

static void
hole_loop(int ls, int ctl, int report)
{
	struct pollfd pfd[2 + 64];
	int conn[64], nconn = 0, accepts = 0, most = 0, c, i;

	for (;;) {
		pfd[0].fd = ctl;
		pfd[1].fd = ls;
		for (i = 0; i < nconn; i++)
			pfd[2 + i].fd = conn[i];
		for (i = 0; i < 2 + nconn; i++)
			pfd[i].events = POLLIN;
		if (poll(pfd, (nfds_t)(2 + nconn), -1) == -1 && errno != EINTR)
			break;
		if (pfd[0].revents != 0)
			break;
		/* every close that came before a connection is counted first */
		for (i = nconn; i-- > 0; )
			if (closed(conn[i])) {
				close(conn[i]);
				conn[i] = conn[--nconn];
			}
		if (!(pfd[1].revents & POLLIN))
			continue;
		while (nconn < 64 && (c = accept(ls, NULL, NULL)) != -1) {
			conn[nconn++] = c;
			accepts++;
			if (nconn > most)
				most = nconn;
		}
	}
	dprintf(report, "%d %d\n", accepts, most);
}

static void
hole_open(struct hole *h)
{
	int ls, ctl[2], rep[2], port;

	ls = listener(16, &port);
	if (fcntl(ls, F_SETFL, O_NONBLOCK) == -1 || pipe(ctl) == -1 ||
	    pipe(rep) == -1 || (h->pid = fork()) == -1)
		bail_out("a black hole");
	if (h->pid == 0) {
		close(ctl[1]);
		close(rep[0]);
		alarm(HELPER_LIFE);
		hole_loop(ls, ctl[0], rep[1]);
		_exit(0);
	}
	close(ls);
	close(ctl[0]);
	close(rep[1]);
	h->ctl = ctl[1];
	h->report = rep[0];
	f.cf->smtp_port = port;
}

/* End the hole: the connections it took, and the most open at once. */
static void
hole_close(struct hole *h, int *accepts, int *most)
{
	char line[64] = "";
	ssize_t n;
	int status;

	close(h->ctl);
	n = read(h->report, line, sizeof(line) - 1);
	line[n > 0 ? n : 0] = '\0';
	close(h->report);
	waitpid(h->pid, &status, 0);
	*accepts = *most = -1;
	if (sscanf(line, "%d %d", accepts, most) != 2)
		diag("the black hole did not report");
}

/* -- payloads */

/* prepare and open one message of each kind; what the bytes hold. */
static void
test_round_trip(void)
{
	static const int kinds[] = { MAIL_SECRET, MAIL_NOTIFY, MAIL_WEBHOOK };
	static const char *const names[] = { "secret", "notify", "webhook" };
	struct mail_msg msg, out;
	struct store_mail m, copy;
	unsigned char pk2[OUTBOX_PK_LEN], sk2[OUTBOX_SK_LEN];
	unsigned char zero[CRYPTO_ID_LEN] = { 0 };
	char to[64], key[KEYS_LEN + 1], obf[64];
	size_t i;

	open_fixture(1);
	crypto_box_keypair(pk2, sk2);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		memset(&msg, 0, sizeof(msg));
		msg.kind = kinds[i];
		keys_new(key);
		if (kinds[i] == MAIL_SECRET) {
			new_address(to);
			snprintf(msg.to, sizeof(msg.to), "%s", to);
			snprintf(msg.sender, sizeof(msg.sender), ALICE);
			snprintf(msg.link, sizeof(msg.link),
			    FX_BASE "/secret/%s", key);
			msg.passphrase = 1;
		} else {
			if (kinds[i] == MAIL_NOTIFY) {
				snprintf(msg.to, sizeof(msg.to), ALICE);
				snprintf(msg.link, sizeof(msg.link),
				    FX_BASE "/private/%s", key);
			}
			outbox_fingerprint(key, msg.receipt);
		}
		is_int(outbox_prepare(f.cf, &msg, fx_time, &m), 0,
		    "%s: prepare", names[i]);
		is_int(m.kind, kinds[i], "%s: the row's kind", names[i]);
		is_int(m.created, fx_time, "%s: created now", names[i]);
		ok(memcmp(m.rid, zero, sizeof(zero)) != 0,
		    "%s: a random delivery id", names[i]);
		if (kinds[i] == MAIL_WEBHOOK)
			is_str(m.recipient, "webhook", "%s: listed as such",
			    names[i]);
		else {
			mail_obfuscate(msg.to, obf, sizeof(obf));
			is_str(m.recipient, obf,
			    "%s: the address obfuscated", names[i]);
		}
		ok(m.sealed.len > 0 && !holds(&m.sealed, key) &&
		    (msg.to[0] == '\0' || !holds(&m.sealed, msg.to)) &&
		    !holds(&m.sealed, ALICE) && !holds(&m.sealed, "/secret/") &&
		    !holds(&m.sealed, "/private/") &&
		    (msg.receipt[0] == '\0' || !holds(&m.sealed, msg.receipt)),
		    "%s: the sealed bytes hold no address, link or receipt",
		    names[i]);
		is_int(outbox_open(f.cf->mailer_pk, f.mailer_sk, &m, &out), 0,
		    "%s: the mailer's key pair opens it", names[i]);
		ok(out.kind == msg.kind && strcmp(out.to, msg.to) == 0 &&
		    strcmp(out.sender, msg.sender) == 0 &&
		    strcmp(out.link, msg.link) == 0 &&
		    out.passphrase == msg.passphrase &&
		    strcmp(out.receipt, msg.receipt) == 0,
		    "%s: kind, address, sender, link, passphrase and receipt "
		    "come back", names[i]);
		is_int(outbox_open(pk2, sk2, &m, &out), -1,
		    "%s: another key pair does not open it", names[i]);
		ok(out.to[0] == '\0' && out.link[0] == '\0' &&
		    out.receipt[0] == '\0', "%s: and leaves nothing behind",
		    names[i]);
		is_int(outbox_open(f.cf->mailer_pk, sk2, &m, &out), -1,
		    "%s: nor the public key with another private key",
		    names[i]);
		copy = m;
		copy.rid[CRYPTO_ID_LEN - 1] ^= 1;
		is_int(outbox_open(f.cf->mailer_pk, f.mailer_sk, &copy, &out),
		    -1, "%s: refused on a row of another delivery id",
		    names[i]);
		copy = m;
		copy.kind = (enum store_mail_kind)kinds[(i + 1) % 3];
		is_int(outbox_open(f.cf->mailer_pk, f.mailer_sk, &copy, &out),
		    -1, "%s: refused on a row of another kind", names[i]);
		m.sealed.data[m.sealed.len / 2] ^= 1;
		is_int(outbox_open(f.cf->mailer_pk, f.mailer_sk, &m, &out), -1,
		    "%s: a changed byte does not open", names[i]);
		buf_free(&m.sealed);
	}

	/* a second sealing of the same message shares nothing */
	memset(&msg, 0, sizeof(msg));
	msg.kind = MAIL_SECRET;
	snprintf(msg.to, sizeof(msg.to), "bob@example.org");
	snprintf(msg.sender, sizeof(msg.sender), ALICE);
	snprintf(msg.link, sizeof(msg.link), FX_BASE "/secret/x");
	outbox_prepare(f.cf, &msg, fx_time, &m);
	outbox_prepare(f.cf, &msg, fx_time, &copy);
	ok(memcmp(m.rid, copy.rid, sizeof(m.rid)) != 0 &&
	    m.sealed.len == copy.sealed.len && memcmp(m.sealed.data,
	    copy.sealed.data, m.sealed.len) != 0,
	    "the same message again: another delivery id, other bytes");
	buf_free(&m.sealed);
	buf_free(&copy.sealed);
	f.cf->has_mailer_pk = 0;
	is_int(outbox_prepare(f.cf, &msg, fx_time, &m), -1,
	    "no mailer public key: nothing is sealed");
	ok(m.sealed.len == 0, "and no payload");
	f.cf->has_mailer_pk = 1;
	snprintf(msg.to, sizeof(msg.to), "nobody");
	is_int(outbox_prepare(f.cf, &msg, fx_time, &m), -1,
	    "no address, no message");
	buf_free(&m.sealed);
	fx_close(&f);
}

/* The fingerprint: SHA-256 of the metadata key, its first 16 hex digits. */
static void
test_fingerprint(void)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	char fp[MAIL_RECEIPT_LEN + 1], want[2 * sizeof(h) + 1];
	char key[KEYS_LEN + 1];

	keys_new(key);
	outbox_fingerprint(key, fp);
	crypto_hash_sha256(h, (const unsigned char *)key, strlen(key));
	sodium_bin2hex(want, sizeof(want), h, sizeof(h));
	want[MAIL_RECEIPT_LEN] = '\0';
	is_str(fp, want, "the fingerprint is SHA-256's first 16 hex digits");
	ok(strstr(key, fp) == NULL, "and not part of the key");
}

/* Append the bytes of path to b (none when it does not exist). */
static void
slurp(const char *path, struct buf *b)
{
	char chunk[8192];
	size_t n;
	FILE *fp;

	if ((fp = fopen(path, "rb")) == NULL)
		return;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_add(b, chunk, n);
	fclose(fp);
}

/* Copy the file from to to; 0, or -1 (also when from does not exist). */
static int
copy_file(const char *from, const char *to)
{
	struct buf b = { 0 };
	FILE *fp;
	int rc = -1;

	slurp(from, &b);
	if (b.len > 0 && (fp = fopen(to, "wb")) != NULL) {
		if (fwrite(b.data, 1, b.len, fp) == b.len)
			rc = 0;
		if (fclose(fp) == EOF)
			rc = -1;
	}
	buf_free(&b);
	return rc;
}

/* Every blob of the copy, and the ids a thief would bind them to. */
struct loot {
	int		 nblob, nid, nmail;
	struct buf	 blob[16];
	unsigned char	 id[16][CRYPTO_ID_LEN];
	struct store_mail mail[4];	/* the outbox rows, payloads too */
};

static void
loot_take(sqlite3 *db, const char *q, struct loot *l)
{
	sqlite3_stmt *st;
	int i, n;

	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
		bail_out("the copy: %s", sqlite3_errmsg(db));
	while (sqlite3_step(st) == SQLITE_ROW) {
		n = sqlite3_column_count(st);
		for (i = 0; i < n; i++) {
			if (sqlite3_column_type(st, i) != SQLITE_BLOB)
				continue;
			if (sqlite3_column_bytes(st, i) == CRYPTO_ID_LEN &&
			    l->nid < 16)
				memcpy(l->id[l->nid++],
				    sqlite3_column_blob(st, i), CRYPTO_ID_LEN);
			else if (l->nblob < 16)
				buf_add(&l->blob[l->nblob++],
				    sqlite3_column_blob(st, i),
				    (size_t)sqlite3_column_bytes(st, i));
		}
	}
	sqlite3_finalize(st);
}

/*
 * Try every blob of l with the master key the code's own way: each
 * purpose of crypto.h, bound to each id of the copy, under the keys a
 * thief has ("", or the id itself).  The tries to *tried; the number
 * that opened.
 */
static int
thief_opens(const struct crypto *thief, const struct loot *l, int *tried)
{
	static const enum crypto_purpose purposes[] = { CRYPTO_SECRET,
	    CRYPTO_META, CRYPTO_ACCOUNT, CRYPTO_MAIL };
	struct buf plain = { 0 };
	const unsigned char *id;
	size_t p;
	int i, j, k, opened = 0;

	for (i = 0; i < l->nblob; i++)
		for (j = 0; j < l->nid; j++)
			for (p = 0; p < sizeof(purposes) / sizeof(purposes[0]);
			    p++)
				for (k = 0; k < 2; k++) {
					id = l->id[j];
					(*tried)++;
					if (crypto_open_sealed(thief,
					    purposes[p], k ? (const char *)id :
					    "", k ? CRYPTO_ID_LEN : 0, NULL, id,
					    l->blob[i].data, l->blob[i].len,
					    &plain) == 0)
						opened++;
					buf_free(&plain);
				}
	return opened;
}

/* The outbox rows of the copy db, payloads too, into l->mail. */
static void
loot_mail(sqlite3 *db, struct loot *l)
{
	struct store_mail *m;
	sqlite3_stmt *st;
	const char *kind;

	if (sqlite3_prepare_v2(db, "SELECT kind, rid, sealed FROM mail "
	    "ORDER BY id", -1, &st, NULL) != SQLITE_OK)
		bail_out("the copy's outbox: %s", sqlite3_errmsg(db));
	while (sqlite3_step(st) == SQLITE_ROW && l->nmail < 4) {
		m = &l->mail[l->nmail++];
		kind = (const char *)sqlite3_column_text(st, 0);
		m->kind = strcmp(kind, "secret") == 0 ? MAIL_SECRET :
		    strcmp(kind, "notify") == 0 ? MAIL_NOTIFY : MAIL_WEBHOOK;
		if (sqlite3_column_bytes(st, 1) == CRYPTO_ID_LEN)
			memcpy(m->rid, sqlite3_column_blob(st, 1),
			    CRYPTO_ID_LEN);
		buf_add(&m->sealed, sqlite3_column_blob(st, 2),
		    (size_t)sqlite3_column_bytes(st, 2));
	}
	sqlite3_finalize(st);
}

/*
 * Open the receipt's sealed secret_key in the copy as the code does,
 * with its metadata key: what a thief lacks.  1 when it yields skey.
 */
static int
receipt_opens(sqlite3 *db, const struct crypto *c, const char *mkey,
    const char *skey)
{
	struct buf plain = { 0 };
	sqlite3_stmt *st;
	int rc = 0;

	if (sqlite3_prepare_v2(db, "SELECT id, sealed_skey FROM metadata",
	    -1, &st, NULL) != SQLITE_OK)
		bail_out("the copy's receipts: %s", sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_bytes(st, 0) == CRYPTO_ID_LEN &&
	    crypto_open_sealed(c, CRYPTO_META, mkey, strlen(mkey), NULL,
	    sqlite3_column_blob(st, 0), sqlite3_column_blob(st, 1),
	    (size_t)sqlite3_column_bytes(st, 1), &plain) == 0)
		rc = plain.len == strlen(skey) &&
		    memcmp(plain.data, skey, plain.len) == 0;
	sqlite3_finalize(st);
	buf_free(&plain);
	return rc;
}

/*
 * A thief with a copy of the database (file and WAL) and the master key:
 * no byte of it is a link or its key, none of the code's own ways to
 * open a blob with the master key opens one, and only the mailer's
 * private key opens the payloads.
 */
static void
test_stolen_copy(void)
{
	struct secret_made made;
	struct crypto *thief;
	struct loot l;
	struct mail_msg msg;
	struct buf bytes = { 0 };
	char to[64], canary[33], copy[1200], from[1300], to2[1300], err[256];
	char link[160], plink[160];
	sqlite3 *db;
	int i, n, tried = 0;

	open_fixture(1);
	set_notify(NOTIFY_EMAIL, NULL);
	new_address(to);
	fx_random(canary, 16);
	must_create(&alice, to, canary, "3600", NULL, &made);
	snprintf(link, sizeof(link), FX_BASE "/secret/%s", made.skey);
	snprintf(plink, sizeof(plink), FX_BASE "/private/%s", made.mkey);

	/* the copy: the file and its WAL, as a backup would take them */
	snprintf(copy, sizeof(copy), "%s/stolen.db", f.dir);
	snprintf(from, sizeof(from), "%s-wal", f.db);
	snprintf(to2, sizeof(to2), "%s-wal", copy);
	if (copy_file(f.db, copy) == -1)
		bail_out("copy the database");
	ok(copy_file(from, to2) == 0, "the WAL copied too");
	slurp(copy, &bytes);
	slurp(to2, &bytes);
	ok(bytes.len > 0 && !holds(&bytes, made.skey) &&
	    !holds(&bytes, made.mkey) && !holds(&bytes, "/secret/") &&
	    !holds(&bytes, "/private/"),
	    "no byte of the copy is a link or its key");
	ok(!holds(&bytes, to) && !holds(&bytes, canary),
	    "nor the recipient's address, nor the value");
	buf_free(&bytes);

	memset(&l, 0, sizeof(l));
	if (sqlite3_open_v2(copy, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK)
		bail_out("open the copy");
	loot_take(db, "SELECT id, sealed FROM secret", &l);
	loot_take(db, "SELECT id, secret_id, wrapped_key, sealed_skey "
	    "FROM metadata", &l);
	loot_take(db, "SELECT rid, sealed, secret_id FROM mail", &l);
	loot_mail(db, &l);
	is_int(l.nmail, 2, "the copy holds the recipient mail and the notice");
	ok(l.nblob == 5 && l.nid >= 4, "their blobs (%d) and ids (%d)",
	    l.nblob, l.nid);
	memset(l.id[l.nid++], 0, CRYPTO_ID_LEN);

	/* the master key: a thief's copy of the file */
	if ((thief = crypto_open(f.key, err, sizeof(err))) == NULL)
		bail_out("the master key: %s", err);
	ok(receipt_opens(db, thief, made.mkey, made.skey),
	    "(the copy opens as the code opens it, given a receipt's key)");
	n = thief_opens(thief, &l, &tried);
	ok(tried == l.nblob * l.nid * 4 * 2, "%d tries with the master key",
	    tried);
	is_int(n, 0, "none opens a blob");
	crypto_close(thief);
	sqlite3_close(db);

	/* the mailer's key does open the payloads */
	for (n = 0, i = 0; i < l.nmail; i++)
		if (outbox_open(f.cf->mailer_pk, f.mailer_sk, &l.mail[i],
		    &msg) == 0 && (strcmp(msg.link, link) == 0 ||
		    strcmp(msg.link, plink) == 0))
			n++;
	is_int(n, 2, "only the mailer's private key opens them: the links");
	for (i = 0; i < l.nblob; i++)
		buf_free(&l.blob[i]);
	for (i = 0; i < l.nmail; i++)
		buf_free(&l.mail[i].sealed);
	sodium_memzero(&msg, sizeof(msg));
	secret_made_clear(&made);
	fx_close(&f);
}

/* -- delivery */

/* A due message goes to the relay: sent, its payload dropped. */
static void
test_deliver(void)
{
	struct secret_made made;
	struct store_mail m;
	struct mailer_stats stats;
	struct buf heard = { 0 };
	char to[64], canary[33], line[160];
	long long id;
	int transcript;
	pid_t pid;

	open_fixture(2);
	new_address(to);
	fx_random(canary, 16);
	must_create(&alice, to, canary, "3600", NULL, &made);
	id = newest();
	ok(record(id, &m) == 0 && m.kind == MAIL_SECRET &&
	    strcmp(m.state, "queued") == 0 && m.next_try == fx_time,
	    "secret_create queued the message, due now");
	ok(payload_len(id) > 0, "with its payload");
	pid = smtp_responder(1, &prompt, &transcript);
	is_int(run_mailer(&stats, NULL), 0, "mailer_run once");
	responder_done(pid, transcript, &heard);
	ok(stats.sent == 1 && stats.retry == 0 && stats.failed == 0,
	    "sent (%lld sent, %lld to retry, %lld failed)", stats.sent,
	    stats.retry, stats.failed);
	record(id, &m);
	is_str(m.state, "sent", "the record says sent");
	is_int(m.attempts, 1, "in one attempt");
	is_str(m.last_error, "", "without an error");
	is_int(payload_len(id), 0, "the payload is dropped");
	snprintf(line, sizeof(line), "RCPT TO:<%s>\r\n", to);
	ok(holds(&heard, "MAIL FROM:<ots@ots.example>\r\n") &&
	    holds(&heard, line), "the envelope");
	snprintf(line, sizeof(line), FX_BASE "/secret/%s\r\n", made.skey);
	ok(holds(&heard, line), "the message carries the link");
	ok(holds(&heard, "Subject: " ALICE " sent you a secret\r\n"),
	    "from the account");
	ok(!holds(&heard, canary) && !holds(&heard, made.mkey),
	    "neither the value nor the receipt's key");
	buf_free(&heard);
	is_int(run_mailer(&stats, NULL), 0, "run again");
	ok(stats.sent == 0 && stats.retry == 0 && stats.failed == 0,
	    "nothing more to do");
	secret_made_clear(&made);
	fx_close(&f);
}

/*
 * The relay refuses: retried after 60 s, then 120 s; given up once
 * mail_max_age has passed, with the last error, the payload dropped.
 */
static void
test_retry(void)
{
	struct secret_made made;
	struct store_mail m;
	struct mailer_stats stats;
	char to[64];
	long long id, t0 = T_START;

	open_fixture(1);
	new_address(to);
	must_create(&alice, to, "v", "86400", NULL, &made);
	id = newest();
	is_int(run_mailer(&stats, NULL), 0, "deliver to a relay that refuses");
	ok(stats.retry == 1 && stats.sent == 0 && stats.failed == 0,
	    "counted as a retry");
	record(id, &m);
	is_str(m.state, "queued", "still queued");
	is_int(m.attempts, 1, "one attempt");
	is_int(m.next_try, t0 + 60, "next try in 60 s");
	ok(strstr(m.last_error, "127.0.0.1") != NULL,
	    "the error names the relay (%s)", m.last_error);
	ok(payload_len(id) > 0, "the payload is kept");
	fx_time = t0 + 59;
	run_mailer(&stats, NULL);
	record(id, &m);
	ok(stats.retry == 0 && m.attempts == 1,
	    "a second before it is due, nothing happens");
	fx_time = t0 + 60;
	run_mailer(&stats, NULL);
	record(id, &m);
	ok(stats.retry == 1 && m.attempts == 2, "due: the second attempt");
	is_int(m.next_try, t0 + 60 + 120, "next try in 120 s");
	fx_time = t0 + MAX_AGE;
	run_mailer(&stats, NULL);
	ok(stats.failed == 1 && stats.retry == 0, "after mail_max_age: "
	    "given up");
	record(id, &m);
	is_str(m.state, "failed", "failed");
	ok(strncmp(m.last_error, "gave up (too old): smtp 127.0.0.1", 33) == 0,
	    "why, with the last error (%s)", m.last_error);
	is_int(payload_len(id), 0, "the payload is dropped");
	fx_time = t0 + 2 * MAX_AGE;
	run_mailer(&stats, NULL);
	ok(stats.sent + stats.retry + stats.failed == 0, "never tried again");
	secret_made_clear(&made);
	fx_close(&f);
}

/* Mail whose secret has expired is given up, not sent. */
static void
test_expired(void)
{
	struct secret_made made;
	struct store_mail m;
	struct mailer_stats stats;
	char to[64];
	long long id;

	open_fixture(1);
	new_address(to);
	must_create(&alice, to, "v", "600", NULL, &made);
	id = newest();
	fx_time = T_START + 600;
	is_int(run_mailer(&stats, NULL), 0, "deliver once the secret expired");
	ok(stats.failed == 1 && stats.retry == 0 && stats.sent == 0,
	    "given up without trying");
	record(id, &m);
	is_str(m.state, "failed", "failed");
	is_str(m.last_error, "gave up (the secret expired)", "why");
	is_int(m.attempts, 1, "the one attempt that gave up");
	is_int(payload_len(id), 0, "the payload is dropped");
	secret_made_clear(&made);
	fx_close(&f);
}

/* 1 if err is how a delivery to a silent relay ends. */
static int
silent_relay_error(const char *err)
{
	return strcmp(err, "timed out") == 0 || (strncmp(err, "smtp ", 5) ==
	    0 && (strstr(err, "imeout") != NULL || strstr(err, "imed out") !=
	    NULL || strstr(err, "no answer") != NULL));
}

/* A relay that accepts and never answers costs one attempt, bounded. */
static void
test_black_hole(void)
{
	struct secret_made made;
	struct store_mail m;
	struct mailer_stats stats;
	struct hole h;
	char to[64];
	double took;
	int accepts, most;

	open_fixture(1);
	new_address(to);
	must_create(&alice, to, "v", "3600", NULL, &made);
	hole_open(&h);
	is_int(run_mailer(&stats, &took), 0, "deliver to a black hole");
	hole_close(&h, &accepts, &most);
	is_int(accepts, 1, "it connected");
	ok(stats.retry == 1 && stats.sent == 0, "to be retried");
	record(newest(), &m);
	ok(silent_relay_error(m.last_error), "timed out (%s)", m.last_error);
	ok(took < SESSION_MAX, "within smtp_timeout * 6 + 5 s (%.1f s)",
	    took);
	is_int(m.next_try, fx_time + 60, "next try in 60 s");
	secret_made_clear(&made);
	fx_close(&f);
}

/*
 * One message through a responder at pace: the mailer's outcome, its
 * row, what the responder heard (the caller frees it) and the time taken.
 */
static void
deliver_at(const struct pace *pace, struct mailer_stats *stats,
    struct store_mail *m, struct buf *heard, double *took)
{
	struct secret_made made;
	char to[64];
	int transcript;
	pid_t pid;

	open_fixture(1);
	new_address(to);
	must_create(&alice, to, "v", "3600", NULL, &made);
	pid = smtp_responder(1, pace, &transcript);
	run_mailer(stats, took);
	responder_done(pid, transcript, heard);
	record(newest(), m);
	secret_made_clear(&made);
	fx_close(&f);
}

/*
 * The connect's deadline ends with the connect: a relay slower than
 * smtp_timeout in all (each step within it) still gets the message.
 */
static void
test_slow_relay(void)
{
	static const struct pace slow = { 600, 0 };
	struct store_mail m;
	struct mailer_stats stats;
	struct buf heard = { 0 };
	double took;

	deliver_at(&slow, &stats, &m, &heard, &took);
	ok(stats.sent == 1 && strcmp(m.state, "sent") == 0,
	    "a relay taking 0.6 s a step gets the message (%s)", m.last_error);
	ok(took > 2 * SMTP_TIMEOUT, "in more than smtp_timeout in all "
	    "(%.1f s)", took);
	ok(holds(&heard, "\r\n.\r\n"), "all of it");
	buf_free(&heard);
}

/*
 * A relay that answers every step in time but never finishes (its EHLO
 * reply drips a line every half second) is cut off at the session's
 * bound, smtp_timeout * 6 + 5 s.
 */
static void
test_dripping_relay(void)
{
	static const struct pace drip = { 500, 40 };
	struct store_mail m;
	struct mailer_stats stats;
	struct buf heard = { 0 };
	double took;

	deliver_at(&drip, &stats, &m, &heard, &took);
	ok(stats.retry == 1 && strcmp(m.last_error, "timed out") == 0,
	    "a relay that never finishes: timed out (%s)", m.last_error);
	ok(took >= SESSION_MAX - 0.5 && took < SESSION_MAX + 3,
	    "at smtp_timeout * 6 + 5 s (%.1f s)", took);
	ok(!holds(&heard, "RCPT TO:"), "before the envelope");
	buf_free(&heard);
}

/* At most mail_concurrency deliveries at once, even when all hang. */
static void
test_concurrency(void)
{
	struct secret_made made;
	struct mailer_stats stats;
	struct rows r;
	struct hole h;
	char to[64];
	double took;
	int accepts, most, i, retried = 0;

	open_fixture(2);
	for (i = 0; i < 5; i++) {
		new_address(to);
		must_create(&alice, to, "v", "3600", NULL, &made);
		secret_made_clear(&made);
	}
	hole_open(&h);
	is_int(run_mailer(&stats, &took), 0,
	    "deliver five messages to a black hole, two at a time");
	hole_close(&h, &accepts, &most);
	is_int(accepts, 5, "five connections");
	ok(most <= 2, "at most two open at once (%d)", most);
	is_int(most, 2, "two at once: the deliveries overlap");
	is_int(stats.retry, 5, "each to be retried");
	rows(&r);
	for (i = 0; i < r.n && i < ROWS_MAX; i++)
		if (r.m[i].attempts == 1 && r.m[i].next_try == fx_time + 60 &&
		    silent_relay_error(r.m[i].last_error))
			retried++;
	is_int(retried, 5, "each timed out once, next try in 60 s");
	ok(took < 3 * SESSION_MAX, "in three rounds at most (%.1f s)", took);
	fx_close(&f);
}

/*
 * Fill the accept queue of a listener with backlog 0 (the test connects
 * until a connect hangs): further SYNs are dropped.  The connections go
 * to fds.  1 when one hangs, 0 when none did (then nothing can be said).
 */
static int
fill_queue(int ls, int *fds, int max, int *n)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa), elen;
	struct pollfd pfd;
	int s, e;

	getsockname(ls, (struct sockaddr *)&sa, &len);
	for (*n = 0; *n < max; ) {
		if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
		    fcntl(s, F_SETFL, O_NONBLOCK) == -1)
			bail_out("socket");
		fds[(*n)++] = s;
		if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			continue;
		if (errno != EINPROGRESS)
			bail_out("connect: %s", strerror(errno));
		pfd.fd = s;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 500) == 0)
			return 1;	/* its SYN was dropped */
		elen = sizeof(e);
		if (getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &elen) == -1 ||
		    e != 0)
			return 0;
	}
	return 0;
}

/* A relay whose queue is full: the connect itself has a deadline. */
static void
test_connect_deadline(void)
{
	struct secret_made made;
	struct store_mail m;
	struct mailer_stats stats;
	char to[64];
	double took;
	int ls, port, fds[16], n = 0, i;

	open_fixture(1);
	new_address(to);
	must_create(&alice, to, "v", "3600", NULL, &made);
	ls = listener(0, &port);
	if (!fill_queue(ls, fds, 16, &n)) {
		skip("no connect to a full queue hung on this host",
		    "a connect to a full queue: timed out");
		skip("no connect to a full queue hung on this host",
		    "after about smtp_timeout seconds");
	} else {
		f.cf->smtp_port = port;
		run_mailer(&stats, &took);
		record(newest(), &m);
		ok(stats.retry == 1 && strcmp(m.last_error, "timed out") == 0,
		    "a connect to a full queue: timed out (%s)", m.last_error);
		ok(took >= SMTP_TIMEOUT - 0.1 && took < SMTP_TIMEOUT + 3,
		    "after about smtp_timeout seconds (%.1f s)", took);
	}
	for (i = 0; i < n; i++)
		close(fds[i]);
	close(ls);
	secret_made_clear(&made);
	fx_close(&f);
}

/* -- notices */

/* A row's kind, state and event in one word: "notify waiting -". */
static const char *
row_word(long long id, char *out, size_t len)
{
	struct store_mail m;

	if (record(id, &m) == -1)
		snprintf(out, len, "none");
	else
		snprintf(out, len, "%s %s %s", store_mail_kind_name(m.kind),
		    m.state, m.event[0] ? m.event : "-");
	return out;
}

/* What creates queue, and when the notices become due. */
static void
test_notices(void)
{
	struct secret_made a, b, c, d;
	struct store_mail m;
	struct store_meta meta;
	struct store_sweep sw;
	struct caller anon;
	struct buf value = { 0 };
	struct rows r;
	char w[64], skey[KEYS_LEN + 1];
	long long ida, idb, idc, ids[8], t0 = T_START;
	int n;

	open_fixture(1);
	fx_anon(&f, &anon);
	must_create(&alice, NULL, "a", "3600", NULL, &a);
	is_int(rows(&r), 0, "an account without notices: no row");
	set_notify(NOTIFY_EMAIL, NULL);
	is_int(alice.cust.notify, NOTIFY_EMAIL, "the account's notify set");
	secret_made_clear(&a);

	must_create(&alice, NULL, "a", "3600", NULL, &a);
	ida = newest();
	is_int(rows(&r), 1, "with notify = email: one row");
	is_str(row_word(ida, w, sizeof(w)), "notify waiting -",
	    "a notice, waiting, without an event");
	record(ida, &m);
	is_str(m.recipient, "al*****@e*****.com", "to the account, obfuscated");
	is_int(m.next_try, t0 + 3600, "its time is the secret's expiry");
	is_int(store_mail_due(f.st, t0 + 3599, ids, 8), 0,
	    "a waiting notice is never due");
	ok(payload_len(ida) > 0, "sealed already");

	fx_time = t0 + 10;
	is_int(secret_reveal(&f.x, &anon, a.skey, KEYS_LEN, NULL, 0, fx_time,
	    &value), SECRET_OK, "the secret is revealed");
	buf_free(&value);
	is_str(row_word(ida, w, sizeof(w)), "notify queued received",
	    "its notice is queued: received");
	record(ida, &m);
	ok(m.created == t0 + 10 && m.next_try == t0 + 10,
	    "at the time of the claim");
	ok(store_mail_due(f.st, fx_time, ids, 8) == 1 && ids[0] == ida,
	    "due now");

	must_create(&alice, NULL, "b", "3600", NULL, &b);
	idb = newest();
	is_int(secret_burn(&f.x, &anon, b.mkey, KEYS_LEN, NULL, 0, fx_time,
	    &meta, skey), SECRET_OK, "another is burned");
	is_str(row_word(idb, w, sizeof(w)), "notify queued burned",
	    "its notice: burned");
	is_str(row_word(ida, w, sizeof(w)), "notify queued received",
	    "the first one's is unchanged");

	must_create(&alice, NULL, "c", "600", NULL, &c);
	idc = newest();
	must_create(&alice, NULL, "d", "3600", NULL, &d);
	fx_time = t0 + 10 + 599;
	memset(&sw, 0, sizeof(sw));
	store_sweep(f.st, fx_time, 0, 0, &sw);
	ok(sw.notices == 0 && strcmp(row_word(idc, w, sizeof(w)),
	    "notify waiting -") == 0, "a second before its secret expires, "
	    "the sweep leaves a notice waiting");
	fx_time++;
	memset(&sw, 0, sizeof(sw));
	is_int(store_sweep(f.st, fx_time, 0, 0, &sw), 0, "then it sweeps");
	is_int(sw.notices, 1, "one notice of expiry");
	is_str(row_word(idc, w, sizeof(w)), "notify queued expired",
	    "queued: expired");
	record(idc, &m);
	is_int(m.created, fx_time, "at the sweep");
	is_str(row_word(newest(), w, sizeof(w)), "notify waiting -",
	    "a live secret's notice still waits");

	/* who gets a notice */
	n = rows(&r);
	must_create(&anon, NULL, "e", "3600", "email", &d);
	is_int(rows(&r), n, "an anonymous secret: no notice, even asked");
	must_create(&alice, NULL, "e", "3600", "none", &d);
	is_int(rows(&r), n, "notify = none: no notice");
	is_int(create(&alice, NULL, "e", "3600", "loud", &d), SECRET_INVALID,
	    "an unknown notify word is refused");
	is_int(d.status, 400, "with 400");
	is_int(rows(&r), n, "and stores nothing");
	set_notify(0, NULL);
	must_create(&alice, NULL, "e", "3600", NULL, &d);
	is_int(rows(&r), n, "notify cleared: no notice");
	must_create(&alice, NULL, "e", "3600", "email", &d);
	is_int(rows(&r), n + 1, "notify = email on the create: a notice");
	must_create(&alice, NULL, "e", "3600", "webhook", &d);
	is_int(rows(&r), n + 1, "notify = webhook without one registered: "
	    "none");
	secret_made_clear(&a);
	secret_made_clear(&b);
	secret_made_clear(&c);
	secret_made_clear(&d);
	fx_close(&f);
}

/* A notice's e-mail: the receipt's fingerprint and link, not the secret. */
static void
test_notice_mail(void)
{
	struct secret_made made;
	struct store_mail m;
	struct mailer_stats stats;
	struct caller anon;
	struct buf value = { 0 }, heard = { 0 };
	char canary[33], fp[MAIL_RECEIPT_LEN + 1], line[200];
	long long id;
	int transcript;
	pid_t pid;

	open_fixture(1);
	fx_anon(&f, &anon);
	set_notify(NOTIFY_EMAIL, NULL);
	fx_random(canary, 16);
	must_create(&alice, NULL, canary, "3600", NULL, &made);
	id = newest();
	is_int(run_mailer(&stats, NULL), 0, "the mailer runs");
	ok(stats.sent + stats.retry + stats.failed == 0,
	    "a waiting notice is not delivered");
	fx_time += 5;
	if (secret_reveal(&f.x, &anon, made.skey, KEYS_LEN, NULL, 0, fx_time,
	    &value) != SECRET_OK)
		bail_out("secret_reveal");
	buf_free(&value);
	pid = smtp_responder(1, &prompt, &transcript);
	is_int(run_mailer(&stats, NULL), 0, "once revealed");
	responder_done(pid, transcript, &heard);
	is_int(stats.sent, 1, "the notice is sent");
	record(id, &m);
	is_str(m.state, "sent", "the record says sent");
	is_int(payload_len(id), 0, "its payload dropped");
	ok(holds(&heard, "RCPT TO:<" ALICE ">\r\n"), "to the account");
	ok(holds(&heard, "Subject: Your secret was read\r\n"),
	    "the subject says it was read");
	outbox_fingerprint(made.mkey, fp);
	ok(holds(&heard, fp), "the receipt's fingerprint");
	snprintf(line, sizeof(line), FX_BASE "/private/%s\r\n", made.mkey);
	ok(holds(&heard, line), "the receipt's link");
	ok(!holds(&heard, made.skey) && !holds(&heard, canary) &&
	    !holds(&heard, "/secret/"),
	    "neither the secret's key, its link nor its value");
	ok(!holds(&heard, "Reply-To:"), "no Reply-To");
	buf_free(&heard);
	secret_made_clear(&made);
	fx_close(&f);
}

/* A webhook whose account no longer has one is given up, not posted. */
static void
test_webhook_gone(void)
{
	struct secret_made made;
	struct store_mail m;
	struct mailer_stats stats;
	struct caller anon;
	struct buf value = { 0 };
	char w[64];
	long long id;

	open_fixture(1);
	fx_anon(&f, &anon);
	set_notify(NOTIFY_WEBHOOK, "https://hooks.example/ots");
	must_create(&alice, NULL, "v", "3600", NULL, &made);
	id = newest();
	is_str(row_word(id, w, sizeof(w)), "webhook waiting -",
	    "a webhook notice waits");
	record(id, &m);
	ok(m.customer_id == alice.cust.id && strcmp(m.recipient,
	    "webhook") == 0, "for the account's webhook");
	if (secret_reveal(&f.x, &anon, made.skey, KEYS_LEN, NULL, 0, fx_time,
	    &value) != SECRET_OK)
		bail_out("secret_reveal");
	buf_free(&value);
	is_str(row_word(id, w, sizeof(w)), "webhook queued received",
	    "queued when revealed");
	/* removed before delivery: nothing may be posted anywhere */
	set_notify(0, NULL);
	is_int(run_mailer(&stats, NULL), 0, "the mailer runs");
	ok(stats.failed == 1 && stats.sent == 0 && stats.retry == 0,
	    "and gives up");
	record(id, &m);
	is_str(m.last_error, "gave up (no webhook)", "no webhook");
	is_int(payload_len(id), 0, "its payload dropped");
	secret_made_clear(&made);
	fx_close(&f);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	/* a delivery that hangs past every deadline fails the run, not make
	 * check's patience */
	alarm(300);
	refusing_port();
	test_round_trip();
	test_fingerprint();
	test_stolen_copy();
	test_deliver();
	test_retry();
	test_expired();
	test_black_hole();
	test_slow_relay();
	test_dripping_relay();
	test_concurrency();
	test_connect_deadline();
	test_notices();
	test_notice_mail();
	test_webhook_gone();
	close(refused_fd);
	return done();
}
