/*
 * webhook: the address check over the edges of every refused range, the
 * URL syntax, the host for logs, the signature and the body; then
 * webhook_post: refused before a packet leaves when the receiver is on
 * 127.0.0.1 or ::1 (the listener's accept() finds nothing), and, with
 * allow_private, against a one-request HTTP responder on 127.0.0.1 in a
 * child process (headers, signature, status, no redirect).  No connection
 * goes anywhere but 127.0.0.1.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "webhook.h"

#include "tap.h"

static const unsigned char key[WEBHOOK_KEY_LEN] = {
	0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
	0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
	0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
	0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
};

/* webhook_addr_allowed of the literal address s. */
static int
allowed(const char *s, int allow_private)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	else
		bail_out("not an address: %s", s);
	return webhook_addr_allowed((struct sockaddr *)&ss, allow_private);
}

static void
test_addr(void)
{
	/* the first and last address of a range, and its neighbours */
	static const struct {
		const char	*a;
		int		 allowed;
	} t[] = {
		{ "93.184.216.34", 1 }, { "1.1.1.1", 1 }, { "8.8.8.8", 1 },
		{ "0.0.0.0", 0 }, { "0.255.255.255", 0 }, { "1.0.0.0", 1 },
		{ "9.255.255.255", 1 }, { "10.0.0.0", 0 },
		{ "10.255.255.255", 0 }, { "11.0.0.0", 1 },
		{ "100.63.255.255", 1 }, { "100.64.0.0", 0 },
		{ "100.127.255.255", 0 }, { "100.128.0.0", 1 },
		{ "126.255.255.255", 1 }, { "127.0.0.0", 0 },
		{ "127.0.0.1", 0 }, { "127.255.255.255", 0 },
		{ "128.0.0.0", 1 },
		{ "169.253.255.255", 1 }, { "169.254.0.0", 0 },
		{ "169.254.169.254", 0 }, { "169.254.255.255", 0 },
		{ "169.255.0.0", 1 },
		{ "172.15.255.255", 1 }, { "172.16.0.0", 0 },
		{ "172.31.255.255", 0 }, { "172.32.0.0", 1 },
		{ "191.255.255.255", 1 }, { "192.0.0.0", 0 },
		{ "192.0.0.255", 0 }, { "192.0.1.0", 1 },
		{ "192.0.2.0", 0 }, { "192.0.2.255", 0 }, { "192.0.3.0", 1 },
		{ "192.167.255.255", 1 }, { "192.168.0.0", 0 },
		{ "192.168.255.255", 0 }, { "192.169.0.0", 1 },
		{ "198.17.255.255", 1 }, { "198.18.0.0", 0 },
		{ "198.19.255.255", 0 }, { "198.20.0.0", 1 },
		{ "198.51.99.255", 1 }, { "198.51.100.0", 0 },
		{ "198.51.100.255", 0 }, { "198.51.101.0", 1 },
		{ "203.0.112.255", 1 }, { "203.0.113.0", 0 },
		{ "203.0.113.255", 0 }, { "203.0.114.0", 1 },
		{ "223.255.255.255", 1 }, { "224.0.0.0", 0 },
		{ "239.255.255.255", 0 }, { "240.0.0.0", 0 },
		{ "255.255.255.254", 0 }, { "255.255.255.255", 0 },

		{ "2606:4700::1111", 1 }, { "2a00:1450::1", 1 },
		{ "::", 0 }, { "::1", 0 }, { "::2", 0 },
		{ "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1 },
		{ "fc00::", 0 }, { "fd12:3456::1", 0 },
		{ "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0 },
		{ "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1 },
		{ "fe80::", 0 }, { "fe80::1", 0 },
		{ "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0 },
		{ "fec0::", 0 },
		{ "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0 },
		{ "ff00::", 0 }, { "ff02::1", 0 },
		{ "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", 1 },
		{ "2001:db8::", 0 },
		{ "2001::1", 0 },
		{ "2001:0:ffff:ffff:ffff:ffff:ffff:ffff", 0 },
		{ "2001:1::1", 1 },
		{ "64:ff9b:1::a00:1", 0 },
		{ "64:ff9b:2::1", 1 },
		{ "100::1", 0 },
		{ "100:0:0:1::1", 1 },
		{ "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 0 },
		{ "2001:db9::", 1 },
		/* the IPv6 forms of an IPv4 address: as that address */
		{ "::ffff:10.0.0.1", 0 }, { "::ffff:127.0.0.1", 0 },
		{ "::ffff:169.254.169.254", 0 }, { "::ffff:93.184.216.34", 1 },
		{ "::10.0.0.1", 0 }, { "::93.184.216.34", 1 },
		{ "64:ff9b::a00:1", 0 }, { "64:ff9b::7f00:1", 0 },
		{ "64:ff9b::5db8:d822", 1 },
		{ "2002:a00:1::", 0 }, { "2002:7f00:1::1", 0 },
		{ "2002:c0a8:101::1", 0 }, { "2002:5db8:d822::1", 1 },
	};
	struct sockaddr_un sun;
	struct sockaddr sa;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		is_int(allowed(t[i].a, 0), t[i].allowed, "%s %s", t[i].a,
		    t[i].allowed ? "allowed" : "refused");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!t[i].allowed)
			is_int(allowed(t[i].a, 1), 1,
			    "%s allowed with allow_private", t[i].a);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, "/tmp/x", 7);
	is_int(webhook_addr_allowed((struct sockaddr *)&sun, 0), 0,
	    "AF_UNIX refused");
	is_int(webhook_addr_allowed((struct sockaddr *)&sun, 1), 0,
	    "AF_UNIX refused also with allow_private");
	memset(&sa, 0, sizeof(sa));
	sa.sa_family = AF_UNSPEC;
	is_int(webhook_addr_allowed(&sa, 1), 0, "AF_UNSPEC refused");
}

static void
test_url(void)
{
	static const char *const good[] = {
		"https://example.com", "https://example.com/",
		"https://example.com/hook", "https://example.com?x=1",
		"https://example.com:8443/hook?x=1&y=%20",
		"https://hooks.sub.example.co.uk/a/b/c?d=e",
		"https://xn--bcher-kva.example/", "https://a-b.example/",
		"https://example.com:1/", "https://example.com:65535/",
		"https://example.com/a@b", "https://example.com/?to=a@b",
		"https://192.0.2.1/x", "https://[::1]:8443/x",
		"https://[2001:db8::1]/", "https://[::ffff:10.0.0.1]/",
	};
	static const struct {
		const char	*url;
		const char	*what;
	} bad[] = {
		{ "", "empty" },
		{ "http://example.com/", "http" },
		{ "ftp://example.com/", "ftp" },
		{ "file:///etc/passwd", "file" },
		{ "HTTPS://example.com/", "upper-case scheme" },
		{ "https:/example.com/", "one slash" },
		{ "example.com/hook", "no scheme" },
		{ "https://", "no host" },
		{ "https:///hook", "empty host" },
		{ "https://:443/", "empty host with a port" },
		{ "https://?x", "empty host with a query" },
		{ "https://user@example.com/", "userinfo" },
		{ "https://user:pw@example.com/", "userinfo with a password" },
		{ "https://example.com@evil.example/", "host as userinfo" },
		{ "https://example.com:443@evil.example/", "port then '@'" },
		{ "https://@example.com/", "empty userinfo" },
		{ "https://example.com\\@evil.example/", "backslash" },
		{ "https://exa mple.com/", "space in the host" },
		{ "https://example.com/a b", "space in the path" },
		{ " https://example.com/", "leading space" },
		{ "https://example.com/\r\nX-Evil: 1", "CR LF" },
		{ "https://example.com/\r", "CR" },
		{ "https://example.com/\n", "LF" },
		{ "https://example.com/\t", "tab" },
		{ "https://example.com/\x7f", "DEL" },
		{ "https://ex\xc3\xa4mple.com/", "non-ASCII host" },
		{ "https://example.com/\xc3\xa4", "non-ASCII path" },
		{ "https://example.com/#top", "fragment" },
		{ "https://example.com#", "empty fragment" },
		{ "https://example.com:/", "empty port" },
		{ "https://example.com:0/", "port 0" },
		{ "https://example.com:65536/", "port 65536" },
		{ "https://example.com:000443/", "six-digit port" },
		{ "https://example.com:44a/", "port with a letter" },
		{ "https://example.com:-1/", "negative port" },
		{ "https://exa_mple.com/", "'_' in the host" },
		{ "https://-example.com/", "label starting with '-'" },
		{ "https://example-.com/", "label ending with '-'" },
		{ "https://example..com/", "empty label" },
		{ "https://.example.com/", "leading dot" },
		{ "https://example.com./", "trailing dot" },
		{ "https://%65xample.com/", "%-encoded host" },
		{ "https://[::1/", "unclosed bracket" },
		{ "https://[]/", "empty brackets" },
		{ "https://[example.com]/", "name in brackets" },
		{ "https://[127.0.0.1]/", "IPv4 in brackets" },
		{ "https://[fe80::1%25eth0]/", "zone" },
		{ "https://[::1]x/", "junk after the brackets" },
		{ "https://::1/", "IPv6 without brackets" },
	};
	char url[WEBHOOK_URL_MAX + 2];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		is_int(webhook_url_valid(good[i], 0), 1, "valid: %s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(webhook_url_valid(bad[i].url, 0), 0, "invalid: %s",
		    bad[i].what);

	is_int(webhook_url_valid("http://example.com/hook", 1), 1,
	    "http with allow_http");
	is_int(webhook_url_valid("http://127.0.0.1:8080/hook", 1), 1,
	    "http to an address with allow_http");
	is_int(webhook_url_valid("https://example.com/hook", 1), 1,
	    "https with allow_http");
	is_int(webhook_url_valid("http://u@example.com/", 1), 0,
	    "userinfo with allow_http");
	is_int(webhook_url_valid("ftp://example.com/", 1), 0,
	    "ftp with allow_http");

	memcpy(url, "https://example.com/", 20);
	memset(url + 20, 'a', WEBHOOK_URL_MAX - 20);
	url[WEBHOOK_URL_MAX] = '\0';
	is_int(webhook_url_valid(url, 0), 1, "WEBHOOK_URL_MAX bytes");
	url[WEBHOOK_URL_MAX] = 'a';
	url[WEBHOOK_URL_MAX + 1] = '\0';
	is_int(webhook_url_valid(url, 0), 0, "one byte more");
	memset(url + 8, 'a', 254);
	memcpy(url + 8 + 254, "/", 2);
	is_int(webhook_url_valid(url, 0), 0, "a host of 254 bytes");
	memset(url + 8, 'a', 64);
	memcpy(url + 8 + 64, ".com/", 6);
	is_int(webhook_url_valid(url, 0), 0, "a label of 64 bytes");
	memcpy(url + 8 + 63, ".com/", 6);
	is_int(webhook_url_valid(url, 0), 1, "a label of 63 bytes");
}

static void
test_host(void)
{
	char h[256];

	is_int(webhook_url_host("https://example.com:8443/hook?x=1", h,
	    sizeof(h)), 0, "host of a URL with port, path and query");
	is_str(h, "example.com", "is the name");
	webhook_url_host("https://example.com?x=1", h, sizeof(h));
	is_str(h, "example.com", "before a query");
	webhook_url_host("http://127.0.0.1:8080/", h, sizeof(h));
	is_str(h, "127.0.0.1", "an IPv4 address");
	is_int(webhook_url_host("https://[::1]:8443/x", h, sizeof(h)), 0,
	    "host of an IPv6 URL");
	is_str(h, "[::1]", "keeps its brackets");
	is_int(webhook_url_host("https://example.com/", h, 12), 0,
	    "exactly enough room");
	is_int(webhook_url_host("https://example.com/", h, 11), -1,
	    "one byte short");
	is_int(webhook_url_host("https://u@example.com/", h, sizeof(h)), -1,
	    "not a valid URL");
}

static void
test_sign(void)
{
	char sig[WEBHOOK_SIG_LEN], other[WEBHOOK_SIG_LEN];
	unsigned char k2[WEBHOOK_KEY_LEN];

	/* hmac.new(b"\x0b" * 32, b"Hi There", hashlib.sha256).hexdigest() */
	webhook_sign(key, "Hi There", 8, sig);
	is_str(sig, "sha256=198a607eb44bfbc69903a0f1cf2bbdc5"
	    "ba0aa3f3d9ae3c1c7a3b1696a0b68cf7", "HMAC-SHA256 of \"Hi There\"");
	webhook_sign(key, "Hi Therf", 8, other);
	ok(strcmp(sig, other) != 0, "one byte of the body changes it");
	memcpy(k2, key, sizeof(k2));
	k2[31] ^= 1;
	webhook_sign(k2, "Hi There", 8, other);
	ok(strcmp(sig, other) != 0, "one bit of the key changes it");
	webhook_sign(key, "Hi There", 7, other);
	ok(strcmp(sig, other) != 0, "only len bytes are signed");
}

static void
test_body(void)
{
	struct buf b = { 0 };

	is_int(webhook_body("d-1", "secret.received", 1700000000LL,
	    "8f2c/a1", &b), 0, "body");
	is_str(b.data, "{\"id\":\"d-1\",\"event\":\"secret.received\","
	    "\"time\":1700000000,\"receipt\":\"8f2c/a1\"}",
	    "compact, in order, '/' not escaped");
	buf_free(&b);
	buf_puts(&b, "x");
	webhook_body("d", "a\"b\\c", 0, "r", &b);
	is_str(b.data, "x{\"id\":\"d\",\"event\":\"a\\\"b\\\\c\",\"time\":0,"
	    "\"receipt\":\"r\"}", "appended; quote and backslash escaped");
	buf_free(&b);
	webhook_body("d", "e\n", 4102444800LL, "r", &b);
	ok(b.data != NULL && strstr(b.data, "\"event\":\"e\\n\"") != NULL &&
	    strstr(b.data, "\"time\":4102444800,") != NULL,
	    "newline escaped; time past 2038");
	buf_free(&b);
}

/* A listener on the loopback address of family af (port 0), or -1. */
static int
listener(int af, int nonblock, int *port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len = sizeof(ss);
	int s;

	memset(&ss, 0, sizeof(ss));
	if (af == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
	}
	if ((s = socket(af, SOCK_STREAM, 0)) == -1)
		return -1;
	if (bind(s, (struct sockaddr *)&ss, af == AF_INET ? sizeof(*sin) :
	    sizeof(*sin6)) == -1 || listen(s, 8) == -1 ||
	    getsockname(s, (struct sockaddr *)&ss, &len) == -1 ||
	    (nonblock && fcntl(s, F_SETFL, O_NONBLOCK) == -1)) {
		close(s);
		return -1;
	}
	*port = ntohs(af == AF_INET ? sin->sin_port : sin6->sin6_port);
	return s;
}

/* 1 if nobody has connected to the non-blocking listener s. */
static int
untouched(int s)
{
	int c;

	if ((c = accept(s, NULL, NULL)) != -1) {
		close(c);
		return 0;
	}
	return errno == EAGAIN || errno == EWOULDBLOCK;
}

static int
post(const char *url, int allow_private, long timeout, const char *event,
    const char *body, char *err, size_t errlen)
{
	struct webhook_opts o = { NULL, allow_private, timeout };

	return webhook_post(url, &o, event, "d-1", body, strlen(body), key,
	    err, errlen);
}

/* Refused before anything is sent: nothing reaches the listener. */
static void
test_post_refused(void)
{
	char url[128], err[256];
	int s, port;

	if ((s = listener(AF_INET, 1, &port)) == -1)
		bail_out("a listener on 127.0.0.1: %s", strerror(errno));

	snprintf(url, sizeof(url), "https://127.0.0.1:%d/hook", port);
	is_int(post(url, 0, 3, "secret.received", "{}", err, sizeof(err)), -1,
	    "post to 127.0.0.1 refused");
	ok(strstr(err, "not allowed") != NULL, "because of the address");
	is_str(err, "webhook: address not allowed", "the reason");
	ok(untouched(s), "no connection was made");

	snprintf(url, sizeof(url), "https://localhost:%d/hook", port);
	is_int(post(url, 0, 3, "secret.received", "{}", err, sizeof(err)), -1,
	    "post to a name for the loopback refused");
	is_str(err, "webhook: address not allowed", "after resolution");
	ok(untouched(s), "no connection was made");

	snprintf(url, sizeof(url), "https://127.0.0.1:%d/hook", port);
	is_int(post(url, 1, 3, "a\r\nX-Evil: 1", "{}", err, sizeof(err)), -1,
	    "an event with CR LF refused");
	ok(strncmp(err, "webhook: ", 9) == 0 && strstr(err, "allowed") == NULL,
	    "as a bad argument (%s)", err);
	ok(untouched(s), "no connection was made");

	is_int(post(url, 1, 0, "secret.received", "{}", err, sizeof(err)), -1,
	    "a timeout of 0 (none, to curl) refused");
	ok(untouched(s), "no connection was made");

	snprintf(url, sizeof(url), "https://u@127.0.0.1:%d/hook", port);
	is_int(post(url, 1, 3, "secret.received", "{}", err, sizeof(err)), -1,
	    "a URL webhook_url_valid refuses");
	ok(untouched(s), "no connection was made");

	/*
	 * The control: the same call with allow_private does connect, so
	 * the checks above could fail.  Nothing answers the TLS handshake.
	 */
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/hook", port);
	is_int(post(url, 1, 1, "secret.received", "{}", err, sizeof(err)), -1,
	    "with allow_private, no TLS answer");
	ok(strstr(err, "not allowed") == NULL, "not for the address (%s)",
	    err);
	ok(!untouched(s), "a connection was made");
	close(s);

	if ((s = listener(AF_INET6, 1, &port)) == -1) {
		skip("no IPv6 loopback", "post to [::1] refused");
		skip("no IPv6 loopback", "no connection was made");
		return;
	}
	snprintf(url, sizeof(url), "https://[::1]:%d/hook", port);
	is_str(post(url, 0, 3, "secret.received", "{}", err, sizeof(err)) ==
	    -1 ? err : "", "webhook: address not allowed",
	    "post to [::1] refused");
	ok(untouched(s), "no connection was made");
	close(s);
}

/* Read from fd until end of file into b. */
static void
read_all(int fd, struct buf *b)
{
	char chunk[4096];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(b, chunk, (size_t)n);
}

/* The request on c: its head and a body of Content-Length, into w. */
static void
take_request(int c, int w)
{
	char req[16384], *end, *cl;
	size_t len = 0, want = 0;
	ssize_t n;

	while (len < sizeof(req) - 1 &&
	    (n = read(c, req + len, sizeof(req) - 1 - len)) > 0) {
		len += (size_t)n;
		req[len] = '\0';
		if ((end = strstr(req, "\r\n\r\n")) == NULL)
			continue;
		if (want == 0) {
			cl = strstr(req, "\r\nContent-Length: ");
			want = (size_t)(end + 4 - req);
			if (cl != NULL && cl < end)
				want += strtoul(cl + 18, NULL, 10);
		}
		if (len >= want)
			break;
	}
	if (write(w, req, len) != (ssize_t)len)
		_exit(1);
}

/*
 * A child that answers one HTTP request on 127.0.0.1 with reply and then
 * extra bytes of body; what it read comes through *heard.  It exits 3
 * when the client stopped reading before the end, and ends itself after
 * 20 s, in case no request comes.
 */
static pid_t
responder(const char *reply, size_t extra, int *port, int *heard)
{
	static char fill[8192];
	int s, c, p[2];
	size_t n;
	pid_t pid;

	if ((s = listener(AF_INET, 0, port)) == -1 || pipe(p) == -1 ||
	    (pid = fork()) == -1)
		bail_out("an HTTP responder on 127.0.0.1");
	if (pid == 0) {
		close(p[0]);
		signal(SIGPIPE, SIG_IGN);
		alarm(20);
		if ((c = accept(s, NULL, NULL)) == -1)
			_exit(1);
		take_request(c, p[1]);
		close(p[1]);
		if (write(c, reply, strlen(reply)) == -1)
			_exit(1);
		memset(fill, 'x', sizeof(fill));
		for (; extra > 0; extra -= n) {
			n = extra < sizeof(fill) ? extra : sizeof(fill);
			if (write(c, fill, n) == -1)
				_exit(3);
		}
		close(c);
		_exit(0);
	}
	close(s);
	close(p[1]);
	*heard = p[0];
	return pid;
}

/*
 * Post to a responder that answers reply; what it heard goes into b.
 * *cut tells whether the responder could not send all its body.
 */
static int
post_to(const char *reply, size_t extra, const char *body, char *err,
    size_t errlen, struct buf *b, int *cut)
{
	char url[128];
	int port, heard, rc, status;
	pid_t pid;

	pid = responder(reply, extra, &port, &heard);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook?x=1", port);
	rc = post(url, 1, 5, "secret.received", body, err, errlen);
	read_all(heard, b);
	close(heard);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 3))
		diag("the responder did not end well");
	*cut = WIFEXITED(status) && WEXITSTATUS(status) == 3;
	return rc;
}

static int
holds(const struct buf *b, const char *s)
{
	return b->data != NULL && strstr(b->data, s) != NULL;
}

/*
 * Delivery over http:// to 127.0.0.1, with allow_private, and proxies in
 * the environment that must not be used.
 */
static void
test_post_http(void)
{
	static const char body[] = "{\"id\":\"d-1\","
	    "\"event\":\"secret.received\",\"time\":1700000000,"
	    "\"receipt\":\"abc\"}";
	struct buf b = { 0 };
	char err[256], sig[WEBHOOK_SIG_LEN], line[128], proxy[64];
	int cut, ps, port;

	if ((ps = listener(AF_INET, 1, &port)) == -1)
		bail_out("a listener on 127.0.0.1: %s", strerror(errno));
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", port);
	setenv("http_proxy", proxy, 1);
	setenv("https_proxy", proxy, 1);
	setenv("ALL_PROXY", proxy, 1);

	snprintf(err, sizeof(err), "unset");
	is_int(post_to("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
	    "Connection: close\r\n\r\nok", 0, body, err, sizeof(err), &b,
	    &cut), 0, "delivered on 200");
	is_str(err, "", "no reason");
	ok(b.len > 0 && strncmp(b.data, "POST /hook?x=1 HTTP/1.1\r\n", 25) == 0,
	    "a POST to the path and query");
	ok(holds(&b, "\r\nUser-Agent: ots-webhook\r\n"), "User-Agent");
	ok(holds(&b, "\r\nContent-Type: application/json\r\n"),
	    "Content-Type");
	ok(holds(&b, "\r\nX-Ots-Event: secret.received\r\n"), "X-Ots-Event");
	ok(holds(&b, "\r\nX-Ots-Delivery: d-1\r\n"), "X-Ots-Delivery");
	webhook_sign(key, body, sizeof(body) - 1, sig);
	snprintf(line, sizeof(line), "\r\nX-Ots-Signature: %s\r\n", sig);
	ok(holds(&b, line), "X-Ots-Signature of the body");
	ok(b.len > sizeof(body) - 1 &&
	    strcmp(b.data + b.len - (sizeof(body) - 1), body) == 0,
	    "the body, as given");
	buf_free(&b);

	is_int(post_to("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
	    0, body, err, sizeof(err), &b, &cut), 0, "delivered on 204");
	buf_free(&b);

	is_int(post_to("HTTP/1.1 500 Internal Server Error\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n", 0, body, err,
	    sizeof(err), &b, &cut), -1, "500 is a failure");
	is_str(err, "webhook: HTTP 500", "with the status");
	buf_free(&b);

	is_int(post_to("HTTP/1.1 302 Found\r\n"
	    "Location: http://127.0.0.1:1/x\r\nContent-Length: 0\r\n"
	    "Connection: close\r\n\r\n", 0, body, err, sizeof(err), &b,
	    &cut), -1, "a redirect is not followed");
	is_str(err, "webhook: HTTP 302", "and is a failure");
	buf_free(&b);

	/* more than the socket buffers on both sides hold */
	is_int(post_to("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n",
	    64 << 20, body, err, sizeof(err), &b, &cut), 0,
	    "a 200 with an endless body is delivered");
	ok(cut, "the body was not read to its end");
	buf_free(&b);

	is_int(post_to("garbage\r\n\r\n", 0, body, err, sizeof(err), &b,
	    &cut), -1, "not HTTP");
	ok(strncmp(err, "webhook: ", 9) == 0 && strlen(err) > 9,
	    "with curl's reason (%s)", err);
	buf_free(&b);

	ok(untouched(ps), "no proxy was used");
	close(ps);
	unsetenv("http_proxy");
	unsetenv("https_proxy");
	unsetenv("ALL_PROXY");
}

int
main(void)
{
	test_addr();
	test_url();
	test_host();
	test_sign();
	test_body();
	test_post_refused();
	test_post_http();
	return done();
}
