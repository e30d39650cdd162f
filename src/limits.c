#include "config.h"

#include <stdio.h>
#include <string.h>

#include "app.h"
#include "conf.h"
#include "crypto.h"
#include "http.h"
#include "limits.h"
#include "store.h"

static int
trusted(const struct conf *cf, const char *addr, size_t len)
{
	size_t i;

	for (i = 0; i < cf->nproxies; i++)
		if (strlen(cf->proxies[i]) == len &&
		    memcmp(cf->proxies[i], addr, len) == 0)
			return 1;
	return 0;
}

void
limits_client(const struct conf *cf, const struct req *r,
    char out[LIMITS_ADDR_MAX + 1])
{
	const char *ra = r->remote_addr ? r->remote_addr : "";
	const char *xff = r->forwarded_for, *end, *p;
	size_t n;

	snprintf(out, LIMITS_ADDR_MAX + 1, "%s", ra);
	if (xff == NULL || !trusted(cf, ra, strlen(ra)))
		return;
	/* right to left: the first hop not ours is the client */
	for (end = xff + strlen(xff); end > xff; end = p) {
		for (p = end; p > xff && p[-1] != ','; p--)
			;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		n = (size_t)(end - p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n > 0 && n <= LIMITS_ADDR_MAX && !trusted(cf, p, n)) {
			snprintf(out, LIMITS_ADDR_MAX + 1, "%.*s", (int)n, p);
			return;
		}
		if (p > xff)
			p--;	/* step over the comma */
	}
}

/* The counter of one event for one caller.  0 or 1 as limits_hit. */
static int
counter(struct app *a, const struct caller *c, const struct req *r,
    enum conf_event ev, int count, long long *retry_after)
{
	unsigned char key[CRYPTO_ID_LEN];
	char addr[LIMITS_ADDR_MAX + 1], name[400];
	long long limit = a->conf->limits[ev], window, n;
	int len;

	*retry_after = 0;
	if (limit == 0 || (c->unlimited && ev != EV_FAILED_PASSPHRASE))
		return 0;
	limits_client(a->conf, r, addr);
	len = snprintf(name, sizeof(name), "%s%c%s%c%s", conf_event_names[ev],
	    0, addr, 0, c->authenticated ? c->cust.custid : "anon");
	crypto_row_id(a->crypto, CRYPTO_ID_LIMIT, name, (size_t)len, key);
	window = r->now / LIMITS_WINDOW;
	if ((count ? store_limit_hit(a->store, key, window, &n) :
	    store_limit_get(a->store, key, window, &n)) == -1)
		return -1;
	if (n <= limit - (count ? 0 : 1))
		return 0;
	*retry_after = (window + 1) * LIMITS_WINDOW - r->now;
	return 1;
}

int
limits_hit(struct app *a, const struct caller *c, const struct req *r,
    enum conf_event ev, long long *retry_after)
{
	return counter(a, c, r, ev, 1, retry_after);
}

int
limits_over(struct app *a, const struct caller *c, const struct req *r,
    enum conf_event ev, long long *retry_after)
{
	return counter(a, c, r, ev, 0, retry_after);
}
