/*
 * webhook: the event document, its signature, and its delivery by libcurl.
 * Only ots-mailer links it: the web workers never talk to a receiver.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <sodium.h>

#include "util.h"
#include "webhook.h"

_Static_assert(WEBHOOK_KEY_LEN == crypto_auth_hmacsha256_KEYBYTES,
    "the signing key is an HMAC-SHA256 key");
_Static_assert(WEBHOOK_SIG_LEN >= sizeof("sha256=") +
    2 * crypto_auth_hmacsha256_BYTES, "room for the signature");

/* IPv4 networks no receiver lives on, host byte order. */
static const struct {
	uint32_t	net;
	unsigned int	bits;
} refused4[] = {
	{ 0x00000000, 8 },	/* "this network", unspecified */
	{ 0x0a000000, 8 },	/* private */
	{ 0x64400000, 10 },	/* shared address space (CGNAT) */
	{ 0x7f000000, 8 },	/* loopback */
	{ 0xa9fe0000, 16 },	/* link-local, cloud metadata services */
	{ 0xac100000, 12 },	/* private */
	{ 0xc0000000, 24 },	/* IETF protocol assignments */
	{ 0xc0000200, 24 },	/* documentation */
	{ 0xc0a80000, 16 },	/* private */
	{ 0xc6120000, 15 },	/* benchmarking */
	{ 0xc6336400, 24 },	/* documentation */
	{ 0xcb007100, 24 },	/* documentation */
	{ 0xe0000000, 4 },	/* multicast */
	{ 0xf0000000, 4 },	/* reserved, and broadcast */
};

/* The same for IPv6, less the forms that embed an IPv4 address. */
static const struct {
	unsigned char	pfx[16];
	unsigned int	bits;
} refused6[] = {
	{ { 0xfc }, 7 },			/* unique local */
	{ { 0xfe, 0x80 }, 10 },			/* link-local */
	{ { 0xfe, 0xc0 }, 10 },			/* site-local */
	{ { 0xff }, 8 },			/* multicast */
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32 },	/* documentation */
	{ { 0x20, 0x01, 0x00, 0x00 }, 32 },	/* Teredo: IPv4 inside, hidden */
	{ { 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01 }, 48 },	/* local-use NAT64 */
	{ { 0x01 }, 64 },			/* discard-only */
};

/*
 * IPv6 prefixes whose addresses reach an IPv4 address (carried at byte
 * offset at): such an address is as allowed as the one it carries.  The
 * compatible form ::/96 also holds :: and ::1, refused as 0.0.0.0/8.
 */
static const struct {
	unsigned char	pfx[16];
	unsigned int	bits;
	size_t		at;
} embed6[] = {
	{ { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff }, 96, 12 }, /* mapped */
	{ { 0 }, 96, 12 },				/* compatible */
	{ { 0x00, 0x64, 0xff, 0x9b }, 96, 12 },		/* NAT64 */
	{ { 0x20, 0x02 }, 16, 2 },			/* 6to4 */
};

static int
v4_allowed(uint32_t a)
{
	size_t i;

	for (i = 0; i < sizeof(refused4) / sizeof(refused4[0]); i++)
		if ((a & (0xffffffffU << (32 - refused4[i].bits))) ==
		    refused4[i].net)
			return 0;
	return 1;
}

static int
prefix_match(const unsigned char *a, const unsigned char *pfx,
    unsigned int bits)
{
	unsigned int mask;

	if (memcmp(a, pfx, bits / 8) != 0)
		return 0;
	if (bits % 8 == 0)
		return 1;
	mask = (0xffU << (8 - bits % 8)) & 0xffU;
	return (a[bits / 8] & mask) == pfx[bits / 8];
}

static int
v6_allowed(const unsigned char a[16])
{
	const unsigned char *v4;
	size_t i;

	for (i = 0; i < sizeof(embed6) / sizeof(embed6[0]); i++)
		if (prefix_match(a, embed6[i].pfx, embed6[i].bits)) {
			v4 = a + embed6[i].at;
			return v4_allowed((uint32_t)v4[0] << 24 |
			    (uint32_t)v4[1] << 16 | (uint32_t)v4[2] << 8 |
			    v4[3]);
		}
	for (i = 0; i < sizeof(refused6) / sizeof(refused6[0]); i++)
		if (prefix_match(a, refused6[i].pfx, refused6[i].bits))
			return 0;
	return 1;
}

int
webhook_addr_allowed(const struct sockaddr *sa, int allow_private)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)(const void *)sa;
		return allow_private || v4_allowed(ntohl(sin->sin_addr.s_addr));
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)(const void *)sa;
		return allow_private || v6_allowed(sin6->sin6_addr.s6_addr);
	default:
		return 0;
	}
}

static int
ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

/*
 * The end of the host that starts at h: past the ']' of an IPv6 literal,
 * or at the first character that cannot be in a name of LDH labels.  NULL
 * when there is no such host.  The address a name stands for is judged at
 * connect time, so a name of digits ("2130706433") may pass here.
 */
static const char *
host_end(const char *h)
{
	struct in6_addr in6;
	char lit[INET6_ADDRSTRLEN];
	const char *e, *label;
	size_t n;

	if (*h == '[') {
		if ((e = strchr(h, ']')) == NULL ||
		    (n = (size_t)(e - h - 1)) == 0 || n >= sizeof(lit))
			return NULL;
		memcpy(lit, h + 1, n);
		lit[n] = '\0';
		return inet_pton(AF_INET6, lit, &in6) == 1 ? e + 1 : NULL;
	}
	for (e = label = h; ; e++) {
		if (*e == '.' || !ldh(*e)) {
			n = (size_t)(e - label);
			if (n == 0 || n > 63 || label[0] == '-' ||
			    label[n - 1] == '-')
				return NULL;
			if (*e != '.')
				break;
			label = e + 1;
		}
	}
	return e - h > 253 ? NULL : e;
}

/* Where the host starts: past a scheme this url may use, or NULL. */
static const char *
host_start(const char *url, int allow_http)
{
	if (strncmp(url, "https://", 8) == 0)
		return url + 8;
	if (allow_http && strncmp(url, "http://", 7) == 0)
		return url + 7;
	return NULL;
}

int
webhook_url_valid(const char *url, int allow_http)
{
	const unsigned char *u;
	const char *p;
	size_t digits;
	long port;

	if (strnlen(url, WEBHOOK_URL_MAX + 1) > WEBHOOK_URL_MAX)
		return 0;
	/* no space, control, non-ASCII byte, or fragment anywhere */
	for (u = (const unsigned char *)url; *u != '\0'; u++)
		if (*u <= 0x20 || *u >= 0x7f || *u == '#')
			return 0;
	if ((p = host_start(url, allow_http)) == NULL ||
	    (p = host_end(p)) == NULL)
		return 0;
	if (*p == ':') {
		for (p++, port = 0, digits = 0; *p >= '0' && *p <= '9';
		    p++, digits++)
			if (digits < 5)
				port = port * 10 + (*p - '0');
		if (digits == 0 || digits > 5 || port == 0 || port > 65535)
			return 0;
	}
	/* anything else here, '@' above all, is userinfo or junk */
	return *p == '\0' || *p == '/' || *p == '?';
}

int
webhook_url_host(const char *url, char *out, size_t outlen)
{
	const char *h, *e;
	int n;

	if (!webhook_url_valid(url, 1))
		return -1;
	h = host_start(url, 1);
	e = host_end(h);
	n = snprintf(out, outlen, "%.*s", (int)(e - h), h);
	return (n < 0 || (size_t)n >= outlen) ? -1 : 0;
}

/* Add v under k, which takes v's reference even on failure.  0 or -1. */
static int
add(struct json_object *o, const char *k, struct json_object *v)
{
	if (v == NULL)
		return -1;
	if (json_object_object_add(o, k, v) != 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

int
webhook_body(const char *id, const char *event, long long time,
    const char *receipt, struct buf *out)
{
	struct json_object *o;
	const char *s;
	size_t len;
	int rc = -1;

	if ((o = json_object_new_object()) == NULL)
		return -1;
	/* json-c keeps the order of insertion */
	if (add(o, "id", json_object_new_string(id)) == -1 ||
	    add(o, "event", json_object_new_string(event)) == -1 ||
	    add(o, "time", json_object_new_int64((int64_t)time)) == -1 ||
	    add(o, "receipt", json_object_new_string(receipt)) == -1)
		goto out;
	if ((s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len)) == NULL)
		goto out;
	rc = buf_add(out, s, len);
out:
	json_object_put(o);
	return rc;
}

void
webhook_sign(const unsigned char key[WEBHOOK_KEY_LEN], const void *body,
    size_t len, char out[WEBHOOK_SIG_LEN])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256(mac, body, len, key);
	memcpy(out, "sha256=", 7);
	sodium_bin2hex(out + 7, WEBHOOK_SIG_LEN - 7, mac, sizeof(mac));
}

/* What the callbacks of one delivery share. */
struct post {
	int	allow_private;
	int	refused;	/* an address failed webhook_addr_allowed */
	size_t	dropped;	/* bytes of response body */
};

/*
 * libcurl's socket for every address it is about to connect to, after
 * name resolution: the check sits here and not on the name so that what
 * is judged is what is connected to, whatever DNS said before.
 */
static curl_socket_t
check_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct post *p = arg;

	(void)purpose;
	if (!webhook_addr_allowed(&a->addr, p->allow_private)) {
		p->refused = 1;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype, a->protocol);
}

/* The receiver's answer is its status; a body is read only so far. */
static size_t
drop(char *data, size_t size, size_t n, void *arg)
{
	struct post *p = arg;

	(void)data;
	p->dropped += size * n;
	return p->dropped > WEBHOOK_REPLY_MAX ? 0 : size * n;
}

/*
 * Append "name: value" to the list.  The value must be printable ASCII:
 * a CR or LF would end the header and start another of the caller's
 * choosing.
 */
static CURLcode
header(struct curl_slist **l, const char *name, const char *value)
{
	struct curl_slist *n;
	const unsigned char *u;
	char line[512];
	int len;

	for (u = (const unsigned char *)value; *u != '\0'; u++)
		if (*u < 0x20 || *u >= 0x7f)
			return CURLE_BAD_FUNCTION_ARGUMENT;
	len = snprintf(line, sizeof(line), "%s: %s", name, value);
	if (len < 0 || (size_t)len >= sizeof(line))
		return CURLE_BAD_FUNCTION_ARGUMENT;
	if ((n = curl_slist_append(*l, line)) == NULL)
		return CURLE_OUT_OF_MEMORY;
	*l = n;
	return CURLE_OK;
}

/* The options of one delivery, as webhook.h describes them. */
static CURLcode
setup(CURL *c, const char *url, const struct webhook_opts *o,
    struct post *p, struct curl_slist *hdr, const void *body, size_t len)
{
	int http = strncmp(url, "http://", 7) == 0;
	CURLcode rc;

	if ((rc = curl_easy_setopt(c, CURLOPT_URL, url)) != CURLE_OK ||
#if LIBCURL_VERSION_NUM >= 0x075500	/* 7.85: CURLOPT_PROTOCOLS deprecated */
	    (rc = curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR,
	    http ? "http,https" : "https")) != CURLE_OK ||
#else
	    (rc = curl_easy_setopt(c, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTPS | (http ? CURLPROTO_HTTP : 0)))) !=
	    CURLE_OK ||
#endif
	    (rc = curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L)) !=
	    CURLE_OK ||
	    (rc = curl_easy_setopt(c, CURLOPT_PROXY, "")) != CURLE_OK ||
	    (rc = curl_easy_setopt(c, CURLOPT_NOPROXY, "*")) != CURLE_OK ||
	    (rc = curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
	    (rc = curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, o->timeout)) !=
	    CURLE_OK ||
	    (rc = curl_easy_setopt(c, CURLOPT_TIMEOUT, o->timeout)) !=
	    CURLE_OK ||
	    (rc = curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L)) !=
	    CURLE_OK ||
	    (rc = curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L)) !=
	    CURLE_OK ||
	    (o->ca_file != NULL &&
	    (rc = curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file)) !=
	    CURLE_OK) ||
	    (rc = curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION,
	    check_socket)) != CURLE_OK ||
	    (rc = curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, p)) !=
	    CURLE_OK ||
	    (rc = curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, drop)) !=
	    CURLE_OK ||
	    (rc = curl_easy_setopt(c, CURLOPT_WRITEDATA, p)) != CURLE_OK ||
	    (rc = curl_easy_setopt(c, CURLOPT_USERAGENT, "ots-webhook")) !=
	    CURLE_OK ||
	    (rc = curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr)) != CURLE_OK ||
	    (rc = curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)len)) != CURLE_OK ||
	    (rc = curl_easy_setopt(c, CURLOPT_POSTFIELDS, body)) != CURLE_OK)
		return rc;
	return CURLE_OK;
}

int
webhook_post(const char *url, const struct webhook_opts *o, const char *event,
    const char *id, const void *body, size_t len,
    const unsigned char key[WEBHOOK_KEY_LEN], char *err, size_t errlen)
{
	static int initialised;
	struct post p = { o->allow_private, 0, 0 };
	struct curl_slist *hdr = NULL;
	CURL *c = NULL;
	CURLcode rc;
	char sig[WEBHOOK_SIG_LEN];
	long status = 0;
	int ret = -1;

	if (!initialised) {
		if ((rc = curl_global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK)
			goto fail;
		initialised = 1;
	}
	rc = CURLE_URL_MALFORMAT;
	if (!webhook_url_valid(url, 1))
		goto fail;
	rc = CURLE_BAD_FUNCTION_ARGUMENT;
	if (o->timeout <= 0)
		goto fail;
	webhook_sign(key, body, len, sig);
	if ((rc = header(&hdr, "Content-Type", "application/json")) !=
	    CURLE_OK ||
	    (rc = header(&hdr, "X-Ots-Event", event)) != CURLE_OK ||
	    (rc = header(&hdr, "X-Ots-Delivery", id)) != CURLE_OK ||
	    (rc = header(&hdr, "X-Ots-Signature", sig)) != CURLE_OK)
		goto fail;
	rc = CURLE_OUT_OF_MEMORY;
	if ((c = curl_easy_init()) == NULL)
		goto fail;
	if ((rc = setup(c, url, o, &p, hdr, body, len)) != CURLE_OK)
		goto fail;
	rc = curl_easy_perform(c);
	/* a body past the bound ended the transfer, not the answer */
	if (rc == CURLE_WRITE_ERROR && p.dropped > WEBHOOK_REPLY_MAX)
		rc = CURLE_OK;
	if (rc == CURLE_OK)
		rc = curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
fail:
	if (rc != CURLE_OK && p.refused)
		snprintf(err, errlen, "webhook: address not allowed");
	else if (rc != CURLE_OK)
		snprintf(err, errlen, "webhook: %s", curl_easy_strerror(rc));
	else if (status < 200 || status > 299)
		snprintf(err, errlen, "webhook: HTTP %ld", status);
	else {
		if (errlen > 0)
			err[0] = '\0';
		ret = 0;
	}
	if (c != NULL)
		curl_easy_cleanup(c);
	curl_slist_free_all(hdr);
	return ret;
}
