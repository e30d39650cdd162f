-- ots schema, version 3: the outbox also carries the notices a secret's
-- creator asked for (e-mail and webhooks) when it is revealed, burned or
-- expires unread; every payload is sealed to the delivery side's key
-- (ots-mailer), which the web workers do not hold; and the account
-- settings for notices.

-- The queue, rebuilt (SQLite cannot change a CHECK constraint).  Mail that
-- an older version queued is sealed under the master key, which the mailer
-- does not hold: it is marked failed, with the reason, not sent.
CREATE TABLE mail_v3 (
	id		INTEGER PRIMARY KEY,
	kind		TEXT NOT NULL CHECK (kind IN ('secret', 'notify', 'webhook')),
	rid		BLOB NOT NULL,		-- random: the delivery id, also sealed inside
	sealed		BLOB,			-- to the mailer's key; NULL when done
	recipient	TEXT NOT NULL,		-- obfuscated address, or 'webhook'
	state		TEXT NOT NULL CHECK (state IN
			    ('waiting', 'queued', 'sent', 'failed')),
	event		TEXT NOT NULL DEFAULT '',	-- a notice's: received, burned, expired
	secret_id	BLOB,			-- a notice's secret, while it waits
	customer_id	INTEGER,		-- a webhook's account
	attempts	INTEGER NOT NULL DEFAULT 0,
	last_error	TEXT NOT NULL DEFAULT '',
	created		INTEGER NOT NULL,	-- a notice: when its event happened
	updated		INTEGER NOT NULL,
	next_try	INTEGER NOT NULL,	-- a delivery lease; waiting: the secret's expiry
	expires		INTEGER NOT NULL	-- the secret's: recipient mail is no use after
);
INSERT INTO mail_v3 (id, kind, rid, sealed, recipient, state, attempts,
	last_error, created, updated, next_try, expires)
SELECT id, 'secret', rid, NULL, recipient,
	CASE state WHEN 'queued' THEN 'failed' ELSE state END, attempts,
	CASE state WHEN 'queued' THEN 'queued before schema version 3: not sent'
	    ELSE last_error END, created, updated, next_try, expires
FROM mail;
DROP TABLE mail;
ALTER TABLE mail_v3 RENAME TO mail;
CREATE INDEX mail_due ON mail (state, next_try);
CREATE INDEX mail_updated ON mail (updated) WHERE state IN ('sent', 'failed');
CREATE INDEX mail_waiting ON mail (secret_id) WHERE state = 'waiting';

-- notify: the notices an account's secrets get unless a create says
-- otherwise (bits: 1 e-mail to the account, 2 its webhook).  webhook_key is
-- the webhook's signing secret, sealed to the mailer's key.
ALTER TABLE customer ADD COLUMN notify INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customer ADD COLUMN webhook_url TEXT;
ALTER TABLE customer ADD COLUMN webhook_key BLOB;
