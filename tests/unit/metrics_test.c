/*
 * metrics: the host's counters file.  Two handles (as two workers) see one
 * set of numbers; processes adding at once lose no count; a file of the
 * wrong size or magic is replaced; a dead worker's start-time slot is
 * freed by the next worker; the exposition's lines and histogram; a
 * missing directory is no crash (NULL, and every call takes NULL).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"
#include "store.h"
#include "util.h"

#include "tap.h"

#define CHILDREN	8
#define ADDS		20000

static char dir[1024];

/* The value of the exposition line that begins with prefix, or -1. */
static double
value(const struct buf *b, const char *prefix)
{
	const char *p = b->data;
	size_t n = strlen(prefix);

	while (p != NULL && *p != '\0') {
		if (strncmp(p, prefix, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return -1;
}

static void
render(const struct metrics *m, const struct store_stats *st, struct buf *b)
{
	static const char *const routes[] = { "not_found", "share", NULL,
	    "reveal" };

	buf_free(b);
	if (metrics_write(m, routes, 4, st, b) == -1)
		bail_out("metrics_write");
}

int
main(void)
{
	struct metrics *a, *b;
	struct store_stats st;
	struct buf out = { 0 };
	char path[1200];
	pid_t pid;
	int i, status, fd, good;

	tap_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/ots.metrics", dir);

	a = metrics_open(dir, 1);
	b = metrics_open(dir, 1);
	ok(a != NULL && b != NULL, "two handles on one file");
	is_int(tap_mode(path), 0600, "the file is 0600");
	metrics_add(a, M_CREATED, 2);
	metrics_add(b, M_CREATED, 3);
	metrics_add(b, M_REVEALED, 1);
	metrics_add(b, M_REVEALED, -5);		/* never taken back */
	metrics_limited(a, EV_SHOW_SECRET);
	metrics_request(a, 1, 200);
	metrics_request(b, 1, 201);
	metrics_request(a, 3, 404);
	metrics_request(a, 3, 503);
	metrics_request(a, 3, 99);		/* no class: ignored */
	metrics_request(a, METRICS_ROUTES, 200);	/* no route: ignored */
	metrics_delivery(a, MAIL_WEBHOOK, MO_RETRIED);
	metrics_observe(a, MH_CREATE, 300000);		/* 0.3 ms */
	metrics_observe(b, MH_CREATE, 20000000);	/* 20 ms */
	metrics_observe(b, MH_CREATE, 9000000000LL);	/* 9 s: +Inf only */
	render(a, NULL, &out);
	is_int((long long)value(&out, "ots_secrets_created_total"), 5,
	    "counts of both handles add up");
	is_int((long long)value(&out, "ots_secrets_revealed_total"), 1,
	    "a negative add is ignored");
	is_int((long long)value(&out,
	    "ots_ratelimit_refusals_total{event=\"show_secret\"}"), 1,
	    "a refusal by event");
	is_int((long long)value(&out,
	    "ots_requests_total{route=\"share\",code=\"2xx\"}"), 2,
	    "requests by route and class");
	ok(value(&out, "ots_requests_total{route=\"reveal\",code=\"4xx\"}") ==
	    1 && value(&out, "ots_requests_total{route=\"reveal\","
	    "code=\"5xx\"}") == 1, "4xx and 5xx");
	ok(strstr(out.data, "route=\"(null)\"") == NULL &&
	    value(&out, "ots_requests_total{route=\"not_found\","
	    "code=\"2xx\"}") == 0, "unnamed routes left out, others at 0");
	is_int((long long)value(&out, "ots_deliveries_total{kind=\"webhook\","
	    "outcome=\"retried\"}"), 1, "a delivery outcome");
	is_int((long long)value(&out, "ots_store_duration_seconds_bucket{"
	    "op=\"create\",le=\"0.0005\"}"), 1, "first bucket: 0.3 ms");
	is_int((long long)value(&out, "ots_store_duration_seconds_bucket{"
	    "op=\"create\",le=\"0.025\"}"), 2, "buckets are cumulative");
	is_int((long long)value(&out, "ots_store_duration_seconds_bucket{"
	    "op=\"create\",le=\"5\"}"), 2, "9 s is above the last bound");
	is_int((long long)value(&out, "ots_store_duration_seconds_bucket{"
	    "op=\"create\",le=\"+Inf\"}"), 3, "+Inf holds all");
	is_int((long long)value(&out, "ots_store_duration_seconds_count{"
	    "op=\"create\"}"), 3, "count");
	ok(value(&out, "ots_store_duration_seconds_sum{op=\"create\"}") >
	    9.0202 && value(&out, "ots_store_duration_seconds_sum{op=\"create\""
	    "}") < 9.0204, "sum in seconds");
	is_int((long long)value(&out, "ots_store_up"), 0,
	    "no stats: ots_store_up 0");
	ok(strstr(out.data, "# TYPE ots_store_duration_seconds histogram\n")
	    != NULL && strstr(out.data, "# TYPE ots_secrets_created_total "
	    "counter\n") != NULL, "TYPE lines");
	snprintf(path, sizeof(path), "ots_worker_start_time_seconds{pid=\"%ld\"}",
	    (long)getpid());
	ok(value(&out, path) > 1000000000, "this worker's start time");

	memset(&st, 0, sizeof(st));
	st.secrets = 7;
	st.receipts[STATE_EXPIRED] = 2;
	st.mail[MAIL_NOTIFY][1] = 4;
	st.size = 12345;
	render(a, &st, &out);
	ok(value(&out, "ots_store_up") == 1 &&
	    value(&out, "ots_secrets_live") == 7 &&
	    value(&out, "ots_receipts{state=\"expired\"}") == 2 &&
	    value(&out, "ots_outbox{kind=\"notify\",state=\"queued\"}") == 4 &&
	    value(&out, "ots_database_size_bytes") == 12345,
	    "the store's gauges");

	/* processes adding at once lose nothing */
	for (i = 0; i < CHILDREN; i++) {
		if ((pid = fork()) == -1)
			bail_out("fork");
		if (pid == 0) {
			struct metrics *c = metrics_open(dir, 1);
			int k;

			for (k = 0; k < ADDS; k++)
				metrics_add(c, M_PASSPHRASE_FAILED, 1);
			metrics_close(c);
			_exit(c == NULL);
		}
	}
	for (i = 0, good = 0; i < CHILDREN; i++)
		if (wait(&status) > 0 && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0)
			good++;
	is_int(good, CHILDREN, "%d processes opened the file", CHILDREN);
	render(b, NULL, &out);
	is_int((long long)value(&out, "ots_passphrase_failures_total"),
	    CHILDREN * ADDS, "%d x %d adds at once: all counted", CHILDREN,
	    ADDS);

	/* a worker that died without closing: its slot goes at the next */
	if ((pid = fork()) == 0) {
		metrics_open(dir, 1);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	render(a, NULL, &out);
	snprintf(path, sizeof(path), "ots_worker_start_time_seconds{pid=\"%ld\"}",
	    (long)pid);
	ok(value(&out, path) > 0, "a dead worker's slot stays until...");
	metrics_close(metrics_open(dir, 1));
	render(a, NULL, &out);
	ok(value(&out, path) == -1, "...the next worker starts");
	metrics_close(b);
	render(a, NULL, &out);
	ok(strstr(out.data, "ots_worker_start_time_seconds{") != NULL,
	    "a closed handle frees its slot, the other keeps its own");
	metrics_close(a);

	/* a file of another size or magic starts again */
	snprintf(path, sizeof(path), "%s/ots.metrics", dir);
	if ((fd = open(path, O_WRONLY | O_TRUNC)) == -1 ||
	    write(fd, "not metrics", 11) != 11)
		bail_out("cannot overwrite %s", path);
	close(fd);
	a = metrics_open(dir, 0);
	render(a, NULL, &out);
	is_int((long long)value(&out, "ots_secrets_created_total"), 0,
	    "a file of the wrong size is replaced");
	metrics_add(a, M_CREATED, 1);
	metrics_close(a);
	if ((fd = open(path, O_WRONLY)) == -1 || write(fd, "XXXX", 4) != 4)
		bail_out("cannot overwrite %s", path);
	close(fd);
	a = metrics_open(dir, 0);
	render(a, NULL, &out);
	is_int((long long)value(&out, "ots_secrets_created_total"), 0,
	    "a file with the wrong magic is replaced");
	metrics_close(a);

	/* no directory: NULL, logged, and every call takes it */
	snprintf(path, sizeof(path), "%s/missing", dir);
	a = metrics_open(path, 1);
	ok(a == NULL, "no directory: no metrics");
	metrics_add(a, M_CREATED, 1);
	metrics_request(a, 1, 200);
	metrics_observe(a, MH_CLAIM, 1);
	metrics_close(a);
	render(NULL, NULL, &out);
	ok(strstr(out.data, "ots_store_up 0\n") != NULL &&
	    strstr(out.data, "ots_secrets_created_total") == NULL,
	    "without the file: only ots_store_up");
	buf_free(&out);
	tap_rmtree(dir);
	return done();
}
