#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "conf.h"
#include "gate.h"
#include "log.h"

/* Bytes [0, SLOTS_MAX) are the host's slots, then one byte per bucket of
 * clients (an address hashes to a bucket; two clients rarely share one). */
#define SLOTS_MAX	256
#define BUCKETS		4096

struct gate {
	int	 fd;
	long	 slots;
	off_t	 slot;		/* held: host slot, -1 none */
	off_t	 bucket;	/* held: client bucket, -1 none */
};

long
gate_slots(const struct conf *cf)
{
	long n;

	if (cf->scrypt_max > 0)
		return cf->scrypt_max < SLOTS_MAX ? (long)cf->scrypt_max :
		    SLOTS_MAX;
	n = sysconf(_SC_NPROCESSORS_ONLN) / 2;
	return n < 1 ? 1 : n;
}

struct gate *
gate_open(const struct conf *cf, char *err, size_t errlen)
{
	struct gate *g;
	char path[4096];

	if ((g = calloc(1, sizeof(*g))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g->slots = gate_slots(cf);
	g->slot = g->bucket = -1;
	if ((size_t)snprintf(path, sizeof(path), "%s/ots.gate", cf->state_dir) >=
	    sizeof(path) || (g->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC,
	    0600)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(g);
		return NULL;
	}
	return g;
}

void
gate_close(struct gate *g)
{
	if (g == NULL)
		return;
	close(g->fd);
	free(g);
}

/* Lock (or unlock) byte at without waiting: 1 done, 0 held by another,
 * -1 error (logged). */
static int
lock(struct gate *g, off_t at, short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET,
	    .l_start = at, .l_len = 1 };

	if (fcntl(g->fd, F_OFD_SETLK, &fl) == 0)
		return 1;
	if (errno == EAGAIN || errno == EACCES)
		return 0;
	log_warn("gate: lock");
	return -1;
}

int
gate_enter(struct gate *g, const char *client)
{
	uint32_t h = 2166136261u;
	long i, start;
	int rc;

	if (g == NULL)
		return 1;
	for (; *client != '\0'; client++)
		h = (h ^ (unsigned char)*client) * 16777619u;
	g->bucket = SLOTS_MAX + (off_t)(h % BUCKETS);
	if ((rc = lock(g, g->bucket, F_WRLCK)) != 1)
		goto none;
	/* start anywhere, so that the first slots are not always tried */
	start = (long)randombytes_uniform((uint32_t)g->slots);
	for (i = 0; i < g->slots; i++) {
		g->slot = (start + i) % g->slots;
		if ((rc = lock(g, g->slot, F_WRLCK)) != 0)
			break;
	}
	if (rc == 1)
		return 1;
	lock(g, g->bucket, F_UNLCK);
none:
	g->slot = g->bucket = -1;
	return rc;
}

void
gate_leave(struct gate *g)
{
	if (g == NULL || g->slot == -1)
		return;
	lock(g, g->slot, F_UNLCK);
	lock(g, g->bucket, F_UNLCK);
	g->slot = g->bucket = -1;
}
