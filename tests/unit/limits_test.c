/*
 * limits: the client address, with and without trusted proxies.
 */
#include "config.h"

#include <string.h>

#include "conf.h"
#include "http.h"
#include "limits.h"

#include "tap.h"

static const char conf_text[] =
    "database = /x/ots.db\nmaster_key = /x/k\n"
    "trusted_proxies = 127.0.0.1 10.0.0.2\n";

static const char *
client(const struct conf *cf, const char *remote, const char *xff)
{
	static char out[CTX_ADDR_MAX + 1];
	struct req r;

	memset(&r, 0, sizeof(r));
	memset(out, 'X', sizeof(out) - 1);	/* nothing left from the last call */
	r.remote_addr = remote;
	r.forwarded_for = xff;
	limits_client(cf, &r, out);
	return out;
}

int
main(void)
{
	struct conf *cf;
	char err[256];

	if ((cf = conf_parse(conf_text, strlen(conf_text), "t", err,
	    sizeof(err))) == NULL)
		bail_out("%s", err);
	is_int((long long)cf->nproxies, 2, "two trusted proxies");
	is_str(client(cf, "192.0.2.7", NULL), "192.0.2.7", "REMOTE_ADDR");
	is_str(client(cf, "192.0.2.7", "198.51.100.1"), "192.0.2.7",
	    "X-Forwarded-For from an untrusted peer is ignored");
	is_str(client(cf, "127.0.0.1", "198.51.100.1"), "198.51.100.1",
	    "from a trusted proxy it names the client");
	is_str(client(cf, "127.0.0.1", "203.0.113.9, 198.51.100.1"),
	    "198.51.100.1", "the nearest untrusted hop wins, not a forged one");
	is_str(client(cf, "127.0.0.1", "198.51.100.1 , 10.0.0.2"),
	    "198.51.100.1", "trusted hops are skipped; spaces trimmed");
	is_str(client(cf, "127.0.0.1", "10.0.0.2"), "127.0.0.1",
	    "only trusted hops: the peer");
	is_str(client(cf, "127.0.0.1", ""), "127.0.0.1", "an empty header");
	is_str(client(cf, "127.0.0.1", ",,,"), "127.0.0.1", "only commas");
	is_str(client(cf, NULL, NULL), "", "no address at all");
	conf_free(cf);
	return done();
}
