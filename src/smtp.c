/*
 * smtp: delivery of one message through the configured relay (libesmtp).
 * Only ots-mailer links it: the web workers never talk SMTP.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <auth-client.h>
#include <libesmtp.h>
#include <sodium.h>

#include "conf.h"
#include "mail.h"
#include "smtp.h"
#include "util.h"

/*
 * libesmtp bounds each protocol step (smtp_set_timeout) but not the
 * connect: an alarm does, and is moved on to the whole session's bound
 * once connected.
 */
static void
on_event(smtp_session_t ss, int event, void *arg, ...)
{
	const long long *session_max = arg;

	(void)ss;
	if (event == SMTP_EV_CONNECT)
		alarm((unsigned)*session_max);
}

/* libesmtp asks for AUTH credentials through this callback. */
static int
interact(auth_client_request_t req, char **result, int fields, void *arg)
{
	char **cred = arg;	/* user, password */
	int i;

	for (i = 0; i < fields; i++) {
		if (req[i].flags & AUTH_USER)
			result[i] = cred[0];
		else if (req[i].flags & AUTH_PASS)
			result[i] = cred[1];
		else
			return 0;
	}
	return 1;
}

/* Read the first line of the password file into pw.  0 or -1. */
static int
read_password(const char *path, char *pw, size_t len)
{
	FILE *f;
	char *nl;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(pw, (int)len, f) == NULL)
		pw[0] = '\0';
	fclose(f);
	if ((nl = strchr(pw, '\n')) != NULL)
		*nl = '\0';
	return 0;
}

/*
 * A refusal: the reply code and the enhanced status code only.  The text
 * of a reply often repeats the recipient's address, which the log and
 * `ots-admin mail list` show obfuscated.
 */
static void
reply_error(char *err, size_t errlen, const char *what,
    const smtp_status_t *st)
{
	if (st == NULL)
		snprintf(err, errlen, "smtp %s: no status", what);
	else if (st->enh_class > 0)
		snprintf(err, errlen, "smtp %s: %d %d.%d.%d", what, st->code,
		    st->enh_class, st->enh_subject, st->enh_detail);
	else
		snprintf(err, errlen, "smtp %s: %d", what, st->code);
}

int
mail_send(const struct conf *cf, const struct mail_msg *m, long long now,
    char *err, size_t errlen)
{
	static const int steps[] = { Timeout_GREETING, Timeout_ENVELOPE,
	    Timeout_DATA, Timeout_TRANSFER, Timeout_DATA2 };
	static const enum starttls_option tls[] = {
	    [CONF_TLS_OFF] = Starttls_DISABLED,
	    [CONF_TLS_OPTIONAL] = Starttls_ENABLED,
	    [CONF_TLS_REQUIRED] = Starttls_REQUIRED };
	smtp_session_t ss = NULL;
	smtp_message_t msg;
	smtp_recipient_t rcpt;
	auth_context_t auth = NULL;
	const smtp_status_t *status;
	struct buf text = { 0 };
	char hostport[300], pw[256] = "", *cred[2];
	size_t i;
	long long session_max = 6 * cf->smtp_timeout + 5;
	int rc = -1, started;

	snprintf(err, errlen, "out of memory");
	if (mail_message(cf, m, now, &text) == -1)
		goto out;
	snprintf(hostport, sizeof(hostport), "%s:%lld", cf->smtp_host,
	    cf->smtp_port);
	if ((ss = smtp_create_session()) == NULL ||
	    (msg = smtp_add_message(ss)) == NULL ||
	    smtp_set_server(ss, hostport) == 0 ||
	    smtp_set_reverse_path(msg, cf->mail_from) == 0 ||
	    (rcpt = smtp_add_recipient(msg, m->to)) == NULL ||
	    smtp_set_message_str(msg, text.data) == 0 ||
	    smtp_starttls_enable(ss, tls[cf->smtp_starttls]) == 0)
		goto out;
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		smtp_set_timeout(ss, steps[i] | Timeout_OVERRIDE_RFC2822_MINIMUM,
		    cf->smtp_timeout * 1000);
	if (cf->smtp_user != NULL) {
		if (read_password(cf->smtp_password_file, pw,
		    sizeof(pw)) == -1) {
			snprintf(err, errlen, "cannot read smtp_password_file");
			goto out;
		}
		cred[0] = cf->smtp_user;
		cred[1] = pw;
		auth_client_init();
		if ((auth = auth_create_context()) == NULL)
			goto out;
		auth_set_mechanism_flags(auth, AUTH_PLUGIN_PLAIN, 0);
		auth_set_interact_cb(auth, interact, cred);
		smtp_auth_set_context(ss, auth);
	}
	smtp_set_eventcb(ss, on_event, &session_max);
	alarm((unsigned)cf->smtp_timeout);
	started = smtp_start_session(ss);
	alarm(0);
	status = started ? smtp_recipient_status(rcpt) : NULL;
	if (status == NULL || status->code == 0) {
		/* no session, or it ended before the server said anything */
		char e[128];

		snprintf(err, errlen, "smtp %s: %s%s", hostport, started ?
		    "no answer (timed out, or the connection closed): " : "",
		    smtp_strerror(smtp_errno(), e, sizeof(e)));
		goto out;
	}
	if (status->code / 100 != 2) {
		reply_error(err, errlen, "recipient", status);
		goto out;
	}
	status = smtp_message_transfer_status(msg);
	if (status == NULL || status->code / 100 != 2) {
		reply_error(err, errlen, "message", status);
		goto out;
	}
	rc = 0;
	err[0] = '\0';
out:
	if (ss != NULL)
		smtp_destroy_session(ss);
	if (auth != NULL)
		auth_destroy_context(auth);
	sodium_memzero(pw, sizeof(pw));
	buf_free(&text);
	return rc;
}
