#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sodium.h>

#include "audit.h"
#include "conf.h"
#include "crypto.h"
#include "ctx.h"
#include "log.h"

/* syslog's priority of a line: facility authpriv (10), severity info (6) */
#define SYSLOG_PRI	"<86>"

struct audit {
	int	 fd;		/* the file or the socket; -1: none */
	int	 syslog;	/* fd is syslog's socket */
	int	 client;	/* audit_client_address */
};

/* syslog's socket, connected, so that each line is one write(2). */
static int
syslog_socket(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

struct audit *
audit_open(const struct conf *cf)
{
	struct audit *a;
	const char *path = cf->audit_log;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->fd = -1;
	a->client = cf->audit_client;
	if (path == NULL || path[0] == '\0')
		return a;
	if (strcmp(path, "syslog") == 0) {
		a->syslog = 1;
		path = cf->audit_syslog_socket;
		a->fd = syslog_socket(path);
	} else
		a->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0600);
	if (a->fd == -1)
		log_warn("audit log %s: cannot open; events are not logged",
		    path);
	return a;
}

void
audit_close(struct audit *a)
{
	if (a == NULL)
		return;
	if (a->fd != -1)
		close(a->fd);
	free(a);
}

static void
add(struct json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, val ? json_object_new_string(val) :
	    NULL);
}

void
audit_write(struct audit *a, const struct audit_event *ev)
{
	struct json_object *o;
	char line[AUDIT_LINE_MAX + 1], when[32], fp[CRYPTO_FP_LEN + 1];
	const char *s;
	struct tm tm;
	time_t t = (time_t)ev->time;
	size_t n, pre = a && a->syslog ? strlen(SYSLOG_PRI "ots: ") : 0;
	ssize_t w;

	if (a == NULL || a->fd == -1)
		return;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(when, sizeof(when), "invalid");
	if (ev->secret_id != NULL)
		crypto_fingerprint(ev->secret_id, fp);
	if ((o = json_object_new_object()) == NULL)
		goto fail;
	add(o, "time", when);
	add(o, "event", ev->event);
	add(o, "outcome", ev->outcome);
	add(o, "route", ev->route);
	add(o, "receipt", ev->secret_id ? fp : NULL);
	add(o, "account", ev->account);
	if (a->client && ev->client != NULL)
		add(o, "client", ev->client);
	add(o, "request", ev->request);
	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (s == NULL || pre + n + 1 > sizeof(line)) {
		json_object_put(o);
		goto fail;
	}
	snprintf(line, sizeof(line), "%s%s\n", pre ? SYSLOG_PRI "ots: " : "",
	    s);
	json_object_put(o);
	/* syslog takes a datagram without its newline */
	n = pre + n + (a->syslog ? 0 : 1);
	if ((w = write(a->fd, line, n)) == (ssize_t)n)
		return;
	if (w == -1) {
		log_warn("audit log: %s event lost", ev->event);
		return;
	}
fail:
	log_warnx("audit log: %s event lost", ev->event);
}

void
audit_request(const struct ctx *x, const struct caller *c, const char *event,
    const char *outcome, const unsigned char *secret_id)
{
	struct audit_event ev;

	if (x->audit == NULL || c->route == NULL)
		return;
	ev.time = c->now;
	ev.event = event;
	ev.outcome = outcome;
	ev.route = c->route;
	ev.secret_id = secret_id;
	ev.account = c->authenticated ? c->cust.custid : "anon";
	ev.client = c->addr;
	ev.request = c->request;
	audit_write(x->audit, &ev);
}

void
audit_request_id(const char *given, char out[AUDIT_REQUEST_MAX + 1])
{
	unsigned char r[8];
	size_t n;

	if (given != NULL && (n = strlen(given)) > 0 &&
	    n <= AUDIT_REQUEST_MAX && strspn(given, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@_.:+/=-") == n) {
		memcpy(out, given, n + 1);
		return;
	}
	randombytes_buf(r, sizeof(r));
	sodium_bin2hex(out, AUDIT_REQUEST_MAX + 1, r, sizeof(r));
}
