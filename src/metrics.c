#include "config.h"

#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"

#define MAGIC		0x6f74736dU	/* "otsm" */
#define LAYOUT		3		/* bump when struct shared or route.h's
					 * ids change */
#define CLASSES		4		/* 2xx 3xx 4xx 5xx (1xx: none) */

/* Histogram bounds in microseconds; a last bucket holds the rest. */
static const long long bounds_us[] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000,
};
#define BUCKETS	(sizeof(bounds_us) / sizeof(bounds_us[0]) + 1)

/*
 * The file's layout: only fixed-width fields, every one updated by atomic
 * adds (or, for slots, compare-and-swap), so processes of different ages
 * and a reader need no lock.
 */
struct shared {
	uint32_t	 magic;
	uint32_t	 layout;
	uint64_t	 counters[M_COUNTERS];
	uint64_t	 limited[EV_MAX];
	uint64_t	 requests[METRICS_ROUTES][CLASSES];
	uint64_t	 delivered[MAIL_WEBHOOK + 1][MO_MAX];	/* kind, outcome */
	struct {
		uint64_t bucket[BUCKETS];	/* not cumulative */
		uint64_t count;
		uint64_t sum_ns;
	} hist[MH_MAX];
	struct {
		int32_t	 pid;		/* 0: free */
		int32_t	 pad;
		int64_t	 start;		/* unix seconds; 0: being set */
	} slot[METRICS_SLOTS];
};

struct metrics {
	struct shared	*m;
	int		 slot;		/* ours, or -1 */
};

static void
add(uint64_t *p, uint64_t n)
{
	__atomic_fetch_add(p, n, __ATOMIC_RELAXED);
}

static uint64_t
get(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* Free the slots of processes gone; take one for this process. */
static int
take_slot(struct shared *m)
{
	int32_t pid, me = (int32_t)getpid(), zero;
	int i;

	for (i = 0; i < METRICS_SLOTS; i++) {
		pid = __atomic_load_n(&m->slot[i].pid, __ATOMIC_ACQUIRE);
		if (pid != 0 && pid != me && kill(pid, 0) == -1 &&
		    errno == ESRCH)
			__atomic_compare_exchange_n(&m->slot[i].pid, &pid, 0,
			    0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
	}
	for (i = 0; i < METRICS_SLOTS; i++) {
		zero = 0;
		if (__atomic_compare_exchange_n(&m->slot[i].pid, &zero, me, 0,
		    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
			__atomic_store_n(&m->slot[i].start,
			    (int64_t)time(NULL), __ATOMIC_RELEASE);
			return i;
		}
	}
	return -1;
}

/*
 * A new file in place of path: made beside it, zeroed, stamped, renamed
 * over it.  Processes still mapping the old one keep it (never truncated
 * under them: that would be SIGBUS).  The mapping, or MAP_FAILED.
 */
static struct shared *
replace(const char *path)
{
	struct shared *m = MAP_FAILED;
	char tmp[4200];
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%ld", path,
	    (long)getpid()) >= sizeof(tmp) ||
	    (fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1)
		return MAP_FAILED;
	if (ftruncate(fd, (off_t)sizeof(*m)) == 0 && (m = mmap(NULL,
	    sizeof(*m), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) !=
	    MAP_FAILED) {
		m->layout = LAYOUT;
		m->magic = MAGIC;
		if (rename(tmp, path) == -1) {
			munmap(m, sizeof(*m));
			m = MAP_FAILED;
		}
	}
	if (m == MAP_FAILED)
		unlink(tmp);
	close(fd);
	return m;
}

struct metrics *
metrics_open(const char *state_dir, int worker)
{
	struct metrics *mt = NULL;
	struct shared *m = MAP_FAILED;
	struct stat sb, now;
	char path[4096];
	int fd = -1, tries;

	if ((size_t)snprintf(path, sizeof(path), "%s/ots.metrics",
	    state_dir) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	/*
	 * One process at a time checks (and, if need be, replaces) the file
	 * under its lock; one that waited for the lock of a file replaced
	 * meanwhile looks again at the new one.
	 */
	for (tries = 0; tries < 8; tries++) {
		if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		    0600)) == -1 || flock(fd, LOCK_EX) == -1 ||
		    fstat(fd, &sb) == -1)
			goto fail;
		if (stat(path, &now) == 0 && now.st_ino == sb.st_ino &&
		    now.st_dev == sb.st_dev)
			break;
		close(fd);
		fd = -1;
	}
	if (fd == -1)
		goto fail;
	if (sb.st_size == (off_t)sizeof(*m) && (m = mmap(NULL, sizeof(*m),
	    PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED)
		goto fail;
	if (m == MAP_FAILED || m->magic != MAGIC || m->layout != LAYOUT) {
		if (sb.st_size != 0)
			log_warnx("%s: not this version's metrics: "
			    "starting again", path);
		if (m != MAP_FAILED)
			munmap(m, sizeof(*m));
		if ((m = replace(path)) == MAP_FAILED)
			goto fail;
	}
	if ((mt = calloc(1, sizeof(*mt))) == NULL)
		goto fail;
	mt->m = m;
	mt->slot = worker ? take_slot(m) : -1;
	/* explicitly: the mapping holds the open file, and with it a lock
	 * that close alone would leave held */
	flock(fd, LOCK_UN);
	close(fd);
	return mt;
fail:
	log_warn("metrics: %s (serving without metrics)", path);
	if (m != MAP_FAILED)
		munmap(m, sizeof(*m));
	if (fd != -1)
		close(fd);
	return NULL;
}

void
metrics_close(struct metrics *mt)
{
	int32_t me;

	if (mt == NULL)
		return;
	if (mt->slot != -1) {
		me = (int32_t)getpid();
		__atomic_store_n(&mt->m->slot[mt->slot].start, 0,
		    __ATOMIC_RELEASE);
		__atomic_compare_exchange_n(&mt->m->slot[mt->slot].pid, &me, 0,
		    0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
	}
	munmap(mt->m, sizeof(*mt->m));
	free(mt);
}

void
metrics_add(struct metrics *mt, enum metrics_counter c, long long n)
{
	if (mt != NULL && n > 0)
		add(&mt->m->counters[c], (uint64_t)n);
}

void
metrics_limited(struct metrics *mt, enum conf_event ev)
{
	if (mt != NULL && ev < EV_MAX)
		add(&mt->m->limited[ev], 1);
}

void
metrics_request(struct metrics *mt, int route, int status)
{
	if (mt != NULL && route >= 0 && route < METRICS_ROUTES &&
	    status >= 200 && status < 600)
		add(&mt->m->requests[route][status / 100 - 2], 1);
}

void
metrics_delivery(struct metrics *mt, enum store_mail_kind k,
    enum metrics_outcome o)
{
	if (mt != NULL && k <= MAIL_WEBHOOK && o < MO_MAX)
		add(&mt->m->delivered[k][o], 1);
}

void
metrics_observe(struct metrics *mt, enum metrics_hist h, long long ns)
{
	size_t i;

	if (mt == NULL || ns < 0)
		return;
	for (i = 0; i < BUCKETS - 1 && ns > bounds_us[i] * 1000; i++)
		;
	add(&mt->m->hist[h].bucket[i], 1);
	add(&mt->m->hist[h].sum_ns, (uint64_t)ns);
	add(&mt->m->hist[h].count, 1);
}

long long
metrics_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* "# HELP" and "# TYPE" of a family. */
static int
family(struct buf *out, const char *name, const char *type, const char *help)
{
	return buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

static int
write_counters(const struct shared *m, const char *const *routes,
    size_t nroutes, struct buf *out)
{
	static const char *const cnames[M_COUNTERS][2] = {
		{ "ots_secrets_created_total", "Secrets created." },
		{ "ots_secrets_revealed_total", "Secrets revealed." },
		{ "ots_secrets_burned_total", "Secrets burned (by their "
		    "creator, or after too many wrong passphrases)." },
		{ "ots_secrets_expired_total", "Secrets found expired unread "
		    "by ots-sweep." },
		{ "ots_passphrase_failures_total", "Wrong passphrases." },
		{ "ots_passphrase_locked_total", "Passphrase checks refused "
		    "because the secret was locked." },
		{ "ots_passphrase_locks_total", "Wrong passphrases that locked "
		    "their secret (passphrase_lock_after and each after it)." },
	};
	static const char *const outcomes[MO_MAX] = { "sent", "retried",
	    "failed" };
	size_t i, j;
	int rc = 0;

	for (i = 0; i < M_COUNTERS; i++)
		rc |= family(out, cnames[i][0], "counter", cnames[i][1]) |
		    buf_printf(out, "%s %llu\n", cnames[i][0],
		    (unsigned long long)get(&m->counters[i]));
	rc |= family(out, "ots_requests_total", "counter",
	    "Requests answered, by route and status class.");
	for (i = 0; i < nroutes && i < METRICS_ROUTES; i++)
		for (j = 0; routes[i] != NULL && j < CLASSES; j++)
			rc |= buf_printf(out, "ots_requests_total{route=\"%s\","
			    "code=\"%zuxx\"} %llu\n", routes[i], j + 2,
			    (unsigned long long)get(&m->requests[i][j]));
	rc |= family(out, "ots_ratelimit_refusals_total", "counter",
	    "Requests refused by a rate limit, by event.");
	for (i = 0; i < EV_MAX; i++)
		rc |= buf_printf(out, "ots_ratelimit_refusals_total{event="
		    "\"%s\"} %llu\n", conf_event_names[i],
		    (unsigned long long)get(&m->limited[i]));
	rc |= family(out, "ots_deliveries_total", "counter",
	    "Delivery attempts by ots-mailer: recipient mail (secret), "
	    "notices by e-mail (notify) and webhook, by outcome.");
	for (i = 0; i <= MAIL_WEBHOOK; i++)
		for (j = 0; j < MO_MAX; j++)
			rc |= buf_printf(out, "ots_deliveries_total{kind=\"%s\","
			    "outcome=\"%s\"} %llu\n", store_mail_kind_name(
			    (enum store_mail_kind)i), outcomes[j],
			    (unsigned long long)get(&m->delivered[i][j]));
	return rc;
}

static int
write_hists(const struct shared *m, struct buf *out)
{
	static const char *const names[MH_MAX] = { "create", "claim" };
	uint64_t cum;
	int64_t start;
	int32_t pid;
	size_t h, i;
	int rc = 0;

	rc |= family(out, "ots_store_duration_seconds", "histogram",
	    "Time the store took to create a secret, and to claim one for a "
	    "reveal.");
	for (h = 0; h < MH_MAX; h++) {
		for (i = 0, cum = 0; i < BUCKETS; i++) {
			cum += get(&m->hist[h].bucket[i]);
			if (i < BUCKETS - 1)
				rc |= buf_printf(out, "ots_store_duration_"
				    "seconds_bucket{op=\"%s\",le=\"%g\"} "
				    "%llu\n", names[h], bounds_us[i] / 1e6,
				    (unsigned long long)cum);
			else
				rc |= buf_printf(out, "ots_store_duration_"
				    "seconds_bucket{op=\"%s\",le=\"+Inf\"} "
				    "%llu\n", names[h],
				    (unsigned long long)cum);
		}
		/* the count is the buckets' total, read once: consistent */
		rc |= buf_printf(out, "ots_store_duration_seconds_sum{op="
		    "\"%s\"} %.9f\nots_store_duration_seconds_count{op="
		    "\"%s\"} %llu\n", names[h],
		    get(&m->hist[h].sum_ns) / 1e9, names[h],
		    (unsigned long long)cum);
	}
	rc |= family(out, "ots_worker_start_time_seconds", "gauge",
	    "Start time of each live web worker of this host, by pid.");
	for (i = 0; i < METRICS_SLOTS; i++) {
		pid = __atomic_load_n(&m->slot[i].pid, __ATOMIC_ACQUIRE);
		start = __atomic_load_n(&m->slot[i].start, __ATOMIC_ACQUIRE);
		if (pid != 0 && start != 0)
			rc |= buf_printf(out, "ots_worker_start_time_seconds"
			    "{pid=\"%ld\"} %lld\n", (long)pid,
			    (long long)start);
	}
	return rc;
}

static int
write_stats(const struct store_stats *st, struct buf *out)
{
	size_t i, j;
	int rc = 0;

	rc |= family(out, "ots_secrets_live", "gauge",
	    "Secrets stored and not expired.") |
	    buf_printf(out, "ots_secrets_live %lld\n", st->secrets);
	rc |= family(out, "ots_receipts", "gauge",
	    "Receipts stored, by the state they show.");
	for (i = 0; i <= STATE_EXPIRED; i++)
		rc |= buf_printf(out, "ots_receipts{state=\"%s\"} %lld\n",
		    store_state_name((enum store_state)i), st->receipts[i]);
	rc |= family(out, "ots_accounts", "gauge", "Accounts.") |
	    buf_printf(out, "ots_accounts %lld\n", st->customers);
	rc |= family(out, "ots_outbox", "gauge",
	    "Outbox rows (mail and notices) by kind and state; queued is "
	    "the delivery queue's depth.");
	for (i = 0; i <= MAIL_WEBHOOK; i++)
		for (j = 0; j < STORE_MAIL_STATES; j++)
			rc |= buf_printf(out, "ots_outbox{kind=\"%s\",state="
			    "\"%s\"} %lld\n", store_mail_kind_name(
			    (enum store_mail_kind)i), store_mail_state_name(j),
			    st->mail[i][j]);
	rc |= family(out, "ots_database_size_bytes", "gauge",
	    "Size of the database.") |
	    buf_printf(out, "ots_database_size_bytes %lld\n", st->size);
	return rc;
}

int
metrics_write(const struct metrics *mt, const char *const *routes,
    size_t nroutes, const struct store_stats *stats, struct buf *out)
{
	int rc = 0;

	if (mt != NULL)
		rc |= write_counters(mt->m, routes, nroutes, out) |
		    write_hists(mt->m, out);
	rc |= family(out, "ots_store_up", "gauge",
	    "1 if the store's gauges below were read at this scrape.") |
	    buf_printf(out, "ots_store_up %d\n", stats != NULL);
	if (stats != NULL)
		rc |= write_stats(stats, out);
	return rc == 0 ? 0 : -1;
}
