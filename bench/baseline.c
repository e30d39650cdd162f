/*
 * baseline: the cheapest FastCGI program that does what every ots request
 * must do at the transport level (read the whole bounded body, write a
 * small JSON answer with the same headers), so that bench/run can report
 * each ots figure as a ratio to this one, served by the same lighttpd in
 * the same run.  Run any other way it answers one request as plain CGI.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcgiapp.h>

#define BODY_MAX	65536

static const char reply[] =
    "Status: 200 OK\r\n"
    "Content-Type: application/json; charset=utf-8\r\n"
    "Cache-Control: no-store\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Content-Security-Policy: frame-ancestors 'none'\r\n"
    "\r\n"
    "{\"status\":\"nominal\",\"locale\":\"en\"}";

/* Declared length, bounded; 0 when absent or not a number. */
static size_t
content_length(const char *s)
{
	char *end;
	unsigned long v;

	if (s == NULL || *s == '\0')
		return 0;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v > BODY_MAX)
		return 0;
	return v;
}

int
main(void)
{
	static char body[BODY_MAX];
	FCGX_Request rq;
	size_t len, got;
	int n;

	if (FCGX_IsCGI()) {
		len = content_length(getenv("CONTENT_LENGTH"));
		got = len ? fread(body, 1, len, stdin) : 0;
		(void)got;
		fwrite(reply, 1, sizeof(reply) - 1, stdout);
		return 0;
	}
	if (FCGX_Init() != 0 || FCGX_InitRequest(&rq, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&rq) >= 0) {
		len = content_length(FCGX_GetParam("CONTENT_LENGTH", rq.envp));
		for (got = 0; got < len; got += (size_t)n)
			if ((n = FCGX_GetStr(body + got, (int)(len - got),
			    rq.in)) <= 0)
				break;
		FCGX_PutStr(reply, (int)sizeof(reply) - 1, rq.out);
		FCGX_Finish_r(&rq);
	}
	return 0;
}
