/*
 * metrics: counters and histograms shared by every process of a host (the
 * FastCGI workers, plain CGI runs, ots-sweep, ots-mailer), kept in one file
 * in the state directory (ots.metrics), mapped shared and updated with
 * atomic adds, so that they survive a worker's restart and Prometheus's
 * rate() over them stays right.  The file begins with a magic and a layout
 * version; a file of another size, magic or version is replaced by a new,
 * zeroed one (renamed over it: processes of another version that still
 * map the old file keep counting into it, unharmed).
 * Workers also keep a slot (pid, start time) in a small table of the file;
 * a slot whose process is gone is freed when the next worker starts.
 *
 * metrics_write renders the Prometheus text format 0.0.4: these counters
 * plus the store's gauges (live secrets, receipts, queue, size), read at
 * scrape time from the shared database, so those are right across hosts.
 *
 * Every function takes a NULL handle (metrics unavailable) and does
 * nothing: a host without its metrics file still serves.
 */
#ifndef OTS_METRICS_H
#define OTS_METRICS_H

#include <stddef.h>

#include "conf.h"
#include "store.h"
#include "util.h"

struct metrics;

/* Plain counters. */
enum metrics_counter {
	M_CREATED,		/* secrets created */
	M_REVEALED,		/* secrets revealed */
	M_BURNED,		/* burned: by the creator, or at burn_after */
	M_EXPIRED,		/* marked expired unread by ots-sweep */
	M_PASSPHRASE_FAILED,	/* wrong passphrases checked */
	M_PASSPHRASE_LOCKED,	/* checks refused: the secret was locked */
	M_LOCKS,		/* failures that locked (or burned) a secret */
	M_COUNTERS
};

/* What became of one delivery attempt by ots-mailer. */
enum metrics_outcome {
	MO_SENT,
	MO_RETRIED,
	MO_FAILED,
	MO_MAX
};

/* Latency histograms of the store's calls. */
enum metrics_hist {
	MH_CREATE,		/* store_create */
	MH_CLAIM,		/* a reveal's claim (take, or claim) */
	MH_MAX
};

#define METRICS_ROUTES	32	/* route ids counted (route.h's enum) */
#define METRICS_SLOTS	64	/* workers with a start time */

/*
 * Open (made, mode 0600, when missing or replaced) the metrics file of
 * state_dir.  worker: take a start-time slot for this process (and free
 * the slots of processes gone).  NULL when it cannot be had (logged).
 */
struct metrics	*metrics_open(const char *state_dir, int worker);
/* Unmap; a worker's slot is freed. */
void		 metrics_close(struct metrics *);

/* Add n to a counter. */
void	metrics_add(struct metrics *, enum metrics_counter, long long n);
/* A rate-limit refusal of event ev. */
void	metrics_limited(struct metrics *, enum conf_event ev);
/* One answered request of a route id (< METRICS_ROUTES), by the status
 * it means (an API error's intended one). */
void	metrics_request(struct metrics *, int route, int status);
/* A delivery of kind with its outcome. */
void	metrics_delivery(struct metrics *, enum store_mail_kind,
	    enum metrics_outcome);
/* One observation of h taking ns nanoseconds. */
void	metrics_observe(struct metrics *, enum metrics_hist, long long ns);
/* Monotonic nanoseconds, for metrics_observe's durations. */
long long metrics_clock(void);

/*
 * Append the exposition to out: the counters (routes[i] names route id i;
 * NULL names are left out) and, when stats is not NULL, the store's
 * gauges; ots_store_up says whether they were read.  0 or -1 (memory).
 */
int	metrics_write(const struct metrics *, const char *const *routes,
	    size_t nroutes, const struct store_stats *stats, struct buf *out);

#endif
