/*
 * ots: the web application.  Started by a FastCGI server it serves
 * requests until told to stop; run any other way (plain CGI) it answers
 * the one request in its environment and exits.
 */
#include "config.h"

#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

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

static long
fcgi_read(void *arg, char *dst, size_t len)
{
	int n = FCGX_GetStr(dst, len > INT32_MAX ? INT32_MAX : (int)len,
	    ((FCGX_Request *)arg)->in);

	return n;
}

static int
fcgi_write(void *arg, const void *p, size_t len)
{
	return FCGX_PutStr(p, (int)len, arg) == (int)len ? 0 : -1;
}

static const char *
cgi_getenv(void *arg, const char *name)
{
	(void)arg;
	return getenv(name);
}

static long
cgi_read(void *arg, char *dst, size_t len)
{
	size_t n = fread(dst, 1, len, arg);

	return (n == 0 && ferror((FILE *)arg)) ? -1 : (long)n;
}

static int
cgi_write(void *arg, const void *p, size_t len)
{
	return fwrite(p, 1, len, arg) == len ? 0 : -1;
}

static int
serve_cgi(struct app *a)
{
	struct http_io io = { stdin, cgi_getenv, cgi_read };
	struct resp rs;
	int rc;

	memset(&rs, 0, sizeof(rs));
	app_handle(a, &io, &rs);
	rc = http_resp_write(&rs, cgi_write, stdout);
	/* the server sees the end of the response before any mail goes out */
	if (fclose(stdout) == EOF)
		rc = -1;
	app_after(a, &rs);
	http_resp_free(&rs);
	return rc;
}

static void
serve_fcgi(struct app *a)
{
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
		http_resp_write(&rs, fcgi_write, rq.out);
		FCGX_Finish_r(&rq);
		app_after(a, &rs);
		http_resp_free(&rs);
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
		http_resp_write(&rs, cgi_write, stdout);
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
	if (crypto_init() == -1) {
		log_warnx("cannot initialise crypto");
		return unavailable();
	}
	if ((cf = conf_load(conf_path(), err, sizeof(err))) == NULL) {
		log_warnx("%s", err);
		return unavailable();
	}
	if ((a = app_open(cf, err, sizeof(err))) == NULL) {
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
