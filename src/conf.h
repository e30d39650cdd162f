/*
 * conf: the settings file, parsed once at start-up into a read-only struct.
 *
 * The file holds "key = value" lines; '#' starts a comment.  Plans are
 * "plan.NAME.ttl_max", "plan.NAME.size_max", "plan.NAME.file_size_max" and
 * "plan.NAME.unlimited".
 * An unknown key or a bad value is an error naming the line.  The path is
 * $OTS_CONFIG, else SYSCONFDIR/ots/ots.conf.
 */
#ifndef OTS_CONF_H
#define OTS_CONF_H

#include <stddef.h>

#define CONF_PLAN_NAME_MAX	31
#define CONF_PLANS_MAX		32
#define CONF_LINE_MAX		1024
#define CONF_DEFAULT_PLAN	"basic"
#define CONF_FILE_MAX		(1LL << 25)	/* file_size_max's bound */
#define CONF_FILE_OVERHEAD	65536	/* body_max beyond the file: the
					 * other fields and the multipart */

enum { CONF_TLS_OFF, CONF_TLS_OPTIONAL, CONF_TLS_REQUIRED };

/* Rate-limited events, named in the file as limit.NAME. */
enum conf_event {
	EV_CREATE_SECRET,
	EV_EMAIL_RECIPIENT,
	EV_SHOW_SECRET,
	EV_SHOW_METADATA,
	EV_BURN_SECRET,
	EV_FAILED_PASSPHRASE,
	EV_MAX
};
extern const char *const conf_event_names[EV_MAX];

#define CONF_PROXIES_MAX	16

struct conf_plan {
	char		 name[CONF_PLAN_NAME_MAX + 1];
	long long	 ttl_max;	/* seconds */
	long long	 size_max;	/* bytes of secret */
	long long	 file_size_max;	/* bytes of a file secret; 0: none */
	int		 unlimited;	/* exempt from rate limits */
};

struct conf {
	char		*database;	/* SQLite file, or PostgreSQL conninfo */
	char		*database_password_file;
	char		*database_password;	/* read from the file at load */
	char		*migrate_database;	/* init/migrate's; NULL: database */
	char		*state_dir;	/* this host's lock files */
	char		*master_key;	/* key file */
	char		*base_url;	/* links: BASE/secret/KEY */
	char		*web_dir;	/* templates/, static/; NULL: PKGDATADIR */
	char		*locale_dir;	/* LANG/LC_MESSAGES/ots.mo; NULL: LOCALEDIR */
	long long	 ttl_default;
	long long	 anon_ttl_max;
	long long	 anon_size_max;
	long long	 anon_file_size_max;	/* 0: no files */
	long long	 passphrase_min;
	long long	 passphrase_max;
	int		 passphrase_required;
	long long	 body_max;	/* largest request body read */
	long long	 body_timeout;	/* seconds a body may take to arrive */
	long long	 scrypt_max;	/* passphrase hashes at once; 0: auto */
	long long	 lock_after;	/* passphrase failures before a lock */
	long long	 lock_time;	/* seconds a locked secret waits */
	long long	 burn_after;	/* passphrase failures before a burn */
	long long	 limits[EV_MAX];	/* per 20 minutes; 0: none */
	char		*proxies[CONF_PROXIES_MAX];	/* trusted_proxies */
	size_t		 nproxies;
	char		*metrics_allow;	/* who may read /metrics; "": nobody */
	/* who may create through the web pages (not the API) */
	int		 web_create_auth;	/* web_create = authenticated */
	char		*web_create_networks;	/* NULL or "": anywhere */
	int		 web_remote_user;	/* trust REMOTE_USER (no) */
	int		 web_auto_account;	/* a new web user gets an account
					 * on first use (yes) */
	/* recipient mail */
	char		*mail_from;	/* envelope and From: address */
	char		*smtp_host;
	long long	 smtp_port;
	int		 smtp_starttls;	/* CONF_TLS_* */
	char		*smtp_user;	/* AUTH when set */
	char		*smtp_password_file;
	long long	 smtp_timeout;	/* seconds per protocol step */
	long long	 mail_max_age;	/* retry until; then failed */
	long long	 mail_keep;	/* finished records kept this long */
	/* the delivery side (ots-mailer) */
	char		*mailer_key;	/* its private key file: the mailer's */
	char		*mailer_public_key;	/* the file workers seal to */
	unsigned char	 mailer_pk[32];	/* read from it at load */
	int		 has_mailer_pk;	/* else no mail nor notices */
	long long	 mail_concurrency;	/* deliveries at once */
	char		*webhook_ca_file;	/* NULL: the system's CAs */
	long long	 webhook_timeout;	/* seconds: connect, and request */
	int		 webhook_allow_private;	/* loopback, private, link-local */
	long long	 vacuum_max;	/* ots-sweep vacuums up to this size */
	long long	 ready_min_free;	/* /readyz: free bytes the database's
					 * file system must have; 0: no check */
	int		 sandbox;	/* the worker sandboxes itself (yes) */
	char		*audit_log;	/* a file, "syslog"; NULL: none */
	char		*audit_syslog_socket;	/* syslog's: /dev/log */
	int		 audit_client;	/* audit_client_address (no) */
	struct conf_plan plans[CONF_PLANS_MAX];
	size_t		 nplans;
};

/*
 * 1 if database names a PostgreSQL database (a postgresql:// or
 * postgres:// URI, or libpq's "keyword=value" form), 0 for a SQLite file.
 */
int		 conf_is_postgresql(const char *database);

/* The configuration path: $OTS_CONFIG or the compiled-in default. */
const char	*conf_path(void);

/*
 * Read and check the file at path.  Returns a new struct, or NULL with a
 * message ("path:line: reason") in err.
 */
struct conf	*conf_load(const char *path, char *err, size_t errlen);

/* Parse a whole file held in memory (used by conf_load and the tests). */
struct conf	*conf_parse(const char *text, size_t len, const char *name,
		    char *err, size_t errlen);

void		 conf_free(struct conf *);

/* The plan called name, or NULL. */
const struct conf_plan *conf_plan(const struct conf *, const char *name);

#endif
