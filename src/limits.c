#include "config.h"

#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "crypto.h"
#include "ctx.h"
#include "http.h"
#include "limits.h"
#include "metrics.h"
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

int
limits_from_proxy(const struct conf *cf, const struct req *r)
{
	return r->remote_addr != NULL &&
	    trusted(cf, r->remote_addr, strlen(r->remote_addr));
}

void
limits_client(const struct conf *cf, const struct req *r,
    char out[CTX_ADDR_MAX + 1])
{
	const char *ra = r->remote_addr ? r->remote_addr : "";
	const char *xff = r->forwarded_for, *end, *p;
	size_t n;

	snprintf(out, CTX_ADDR_MAX + 1, "%s", ra);
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
		if (n > 0 && n <= CTX_ADDR_MAX && !trusted(cf, p, n)) {
			snprintf(out, CTX_ADDR_MAX + 1, "%.*s", (int)n, p);
			return;
		}
		if (p > xff)
			p--;	/* step over the comma */
	}
}

int
limits_hit(const struct ctx *x, const struct caller *c, long long now,
    enum conf_event ev, int n, long long *retry_after)
{
	unsigned char key[CRYPTO_ID_LEN];
	char name[400];
	long long limit = x->conf->limits[ev], window, count;
	int len;

	*retry_after = 0;
	if (limit == 0 || (c->unlimited && ev != EV_FAILED_PASSPHRASE))
		return 0;
	len = snprintf(name, sizeof(name), "%s%c%s%c%s", conf_event_names[ev],
	    0, c->addr, 0, c->authenticated ? c->cust.custid : "anon");
	crypto_row_id(x->crypto, CRYPTO_ID_LIMIT, name, (size_t)len, key);
	window = now / LIMITS_WINDOW;
	if (store_limit_add(x->store, key, window, n, &count) == -1)
		return -1;
	if (n < 0 || count <= limit)
		return 0;
	*retry_after = (window + 1) * LIMITS_WINDOW - now;
	metrics_limited(x->metrics, ev);
	return 1;
}
