/*
 * ots: the web application.  Started by a FastCGI server it serves
 * requests until told to stop; run any other way (plain CGI) it answers
 * the one request in its environment and exits.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <sodium.h>

#include "api_v1.h"
#include "app.h"
#include "conf.h"
#include "crypto.h"
#include "http.h"
#include "log.h"
#include "sandbox.h"

static const char *
fcgi_getenv(void *arg, const char *name)
{
	return FCGX_GetParam(name, ((FCGX_Request *)arg)->envp);
}

/*
 * libfcgi reads the connection itself, blocking; a receive timeout on the
 * socket bounds each of its reads.  Ask for what it has buffered, or for
 * one byte when nothing is (it then reads what the socket has).
 */
static long
fcgi_read(void *arg, char *dst, size_t len, int ms)
{
	FCGX_Request *rq = arg;
	FCGX_Stream *in = rq->in;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	long avail = (long)(in->stop - in->rdNext);
	int n;

	if (avail <= 0) {
		setsockopt(rq->ipcFd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		len = 1;
	} else if (len > (size_t)avail)
		len = (size_t)avail;
	if ((n = FCGX_GetStr(dst, (int)len, in)) > 0)
		return n;
	n = FCGX_GetError(in);
	return n == 0 ? 0 : n == EAGAIN || n == EWOULDBLOCK ? -2 : -1;
}

static int
fcgi_write(void *arg, const void *p, size_t len)
{
	return FCGX_PutStr(p, (int)len, arg) == (int)len ? 0 : -1;
}

/*
 * libfcgi keeps the request (its parameters and body) and the response in
 * stream buffers and parameter strings that it frees without wiping, and
 * they hold secrets.  Its FCGX_Stream_Data, private to fcgiapp.c and
 * unchanged since libfcgi 2.4.0, begins with the buffer and its length:
 * send what is buffered, then wipe them all before FCGX_Finish_r frees
 * them (t_wipe.py proves it, and would see a change of that layout).
 */
struct fcgi_stream_data {
	unsigned char	*buff;
	int		 bufflen;
};

static void
fcgi_wipe(FCGX_Request *rq)
{
	FCGX_Stream *s[3] = { rq->in, rq->out, rq->err };
	struct fcgi_stream_data *d;
	char **e;
	size_t i;

	FCGX_FFlush(rq->out);
	for (i = 0; i < 3; i++)
		if (s[i] != NULL && (d = s[i]->data) != NULL)
			sodium_memzero(d->buff, (size_t)d->bufflen);
	for (e = rq->envp; e != NULL && *e != NULL; e++)
		sodium_memzero(*e, strlen(*e));
}

static const char *
cgi_getenv(void *arg, const char *name)
{
	(void)arg;
	return getenv(name);
}

/* Plain CGI reads and writes its descriptors itself: stdio would keep a
 * copy of the body and the answer in buffers it never wipes. */
static long
cgi_read(void *arg, char *dst, size_t len, int ms)
{
	struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };
	ssize_t n;
	int rc;

	(void)arg;
	while ((rc = poll(&pfd, 1, ms)) == -1 && errno == EINTR)
		;
	if (rc == 0)
		return -2;
	while ((n = read(STDIN_FILENO, dst, len)) == -1 && errno == EINTR)
		;
	return rc == -1 ? -1 : (long)n;
}

static int
cgi_write(void *arg, const void *p, size_t len)
{
	const char *s = p;
	ssize_t n;

	(void)arg;
	while (len > 0) {
		if ((n = write(STDOUT_FILENO, s, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
serve_cgi(struct app *a)
{
	struct http_io io = { NULL, cgi_getenv, cgi_read };
	struct resp rs;
	int rc;

	memset(&rs, 0, sizeof(rs));
	app_handle(a, &io, &rs);
	rc = http_resp_write(&rs, cgi_write, NULL);
	http_resp_free(&rs);
	/* the answer is complete for the server now, before the store's
	 * upkeep at close; stray output goes to the error log */
	dup2(STDERR_FILENO, STDOUT_FILENO);
	return rc;
}

static void
serve_fcgi(struct app *a)
{
	static const struct timeval none = { 0, 0 };
	FCGX_Request rq;
	struct http_io io;
	struct resp rs;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&rq, 0, 0) != 0) {
		log_warnx("cannot initialise FastCGI");
		return;
	}
	io.arg = &rq;
	io.getenv = fcgi_getenv;
	io.read = fcgi_read;
	while (FCGX_Accept_r(&rq) >= 0) {
		memset(&rs, 0, sizeof(rs));
		app_handle(a, &io, &rs);
		/* the next request on this connection waits as long as it may */
		setsockopt(rq.ipcFd, SOL_SOCKET, SO_RCVTIMEO, &none,
		    sizeof(none));
		http_resp_write(&rs, fcgi_write, rq.out);
		fcgi_wipe(&rq);
		FCGX_Finish_r(&rq);
		http_resp_free(&rs);
		app_idle(a);
	}
}

/*
 * Start-up failed (logged).  A FastCGI server sees the process exit; a
 * plain CGI request still gets the v1 answer (404, intended 503) rather
 * than a broken response.
 */
static int
unavailable(void)
{
	struct resp rs;

	if (FCGX_IsCGI()) {
		memset(&rs, 0, sizeof(rs));
		api_v1_headers(&rs);
		api_v1_error(&rs, 503, "Service unavailable", NULL);
		http_resp_write(&rs, cgi_write, NULL);
		http_resp_free(&rs);
	}
	return 1;
}

int
main(void)
{
	struct conf *cf;
	struct app *a;
	char err[512];
	int rc = 0;

	log_init("ots");
	umask(077);
	/*
	 * Large buffers (a file secret's body, its sealed blob, its download)
	 * each get a mapping of their own, returned when freed: a fixed
	 * threshold stops glibc from raising it after the first such free and
	 * serving the next ones from a heap that does not shrink.
	 */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	if (crypto_init() == -1) {
		log_warnx("cannot initialise crypto");
		return unavailable();
	}
	if ((cf = conf_load(conf_path(), err, sizeof(err))) == NULL) {
		log_warnx("%s", err);
		return unavailable();
	}
	if ((a = app_open(cf, FCGX_IsCGI(), err, sizeof(err))) == NULL) {
		log_warnx("%s", err);
		conf_free(cf);
		return unavailable();
	}
	/* what serving needs is open: give up the rest (sandbox.h) */
	if (cf->sandbox && (rc = sandbox_enter(cf, err, sizeof(err))) != 0) {
		log_warnx("%s", err);
		if (rc == -1) {
			app_close(a);
			conf_free(cf);
			return unavailable();
		}
		rc = 0;
	}
	if (FCGX_IsCGI())
		rc = serve_cgi(a) == 0 ? 0 : 1;
	else
		serve_fcgi(a);
	app_close(a);
	conf_free(cf);
	return rc;
}
