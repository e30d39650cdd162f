/*
 * gate: a bound on passphrase hashing per host.  scrypt takes about
 * 100 ms of a core and 32 MiB; without a bound, one client sending
 * passphrases as fast as it can keeps every core busy and every other
 * request waits.  At most conf->scrypt_max hashes run at once across all
 * the workers of a host, and one per client; a hash that finds no room is
 * refused at once (its request answers 429 with Retry-After), never
 * queued.
 *
 * The slots are byte-range locks (open file description locks, so per
 * process, not per program) on one file beside the database.  The kernel
 * drops the locks of a process that dies, so a worker killed in the middle
 * of a hash never keeps its slot.
 */
#ifndef OTS_GATE_H
#define OTS_GATE_H

#include <stddef.h>

struct conf;
struct gate;

#define GATE_RETRY	1	/* seconds a refused client waits */

/*
 * Open the gate file of the configuration's database (made, mode 0600,
 * when missing).  NULL with a message on error.
 */
struct gate	*gate_open(const struct conf *, char *err, size_t errlen);
void		 gate_close(struct gate *);

/*
 * Take a slot for a hash on behalf of client (an address; "" unknown).
 * Returns 1 taken (give it back with gate_leave), 0 no room now, -1 error.
 * A NULL gate always lets in.
 */
int	gate_enter(struct gate *, const char *client);
void	gate_leave(struct gate *);

/* The number of slots of the host: scrypt_max, or half the processors. */
long	gate_slots(const struct conf *);

#endif
