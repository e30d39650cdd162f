-- ots schema, version 2: the outgoing mail queue, passphrase attempt
-- counters, rate-limit counters, and an index that lets the sweeper find
-- unrevealed expired secrets without a full scan.

CREATE TABLE mail (
	id		INTEGER PRIMARY KEY,
	rid		BLOB NOT NULL,		-- random; binds the sealed payload
	sealed		BLOB,			-- address, sender, link; NULL when done
	recipient	TEXT NOT NULL,		-- obfuscated, for the operator
	state		TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'failed')),
	attempts	INTEGER NOT NULL DEFAULT 0,
	last_error	TEXT NOT NULL DEFAULT '',
	created		INTEGER NOT NULL,
	updated		INTEGER NOT NULL,
	next_try	INTEGER NOT NULL,	-- also a delivery lease
	expires		INTEGER NOT NULL	-- the secret's: no use after
);
CREATE INDEX mail_due ON mail (state, next_try);
CREATE INDEX mail_updated ON mail (updated) WHERE state <> 'queued';

CREATE INDEX metadata_unrevealed ON metadata (secret_expires)
	WHERE state IN ('new', 'viewed');

-- Passphrase attempts per secret, across all callers: tries counts the
-- attempts reserved in the current lock window (reserved before the check,
-- so parallel guesses cannot pass the cap), fails all failures.
ALTER TABLE secret ADD COLUMN tries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE secret ADD COLUMN fails INTEGER NOT NULL DEFAULT 0;
ALTER TABLE secret ADD COLUMN locked_until INTEGER NOT NULL DEFAULT 0;

-- Rate-limit counters in fixed windows; key is a keyed hash of the event,
-- the client address and the account, so no address is stored.
CREATE TABLE ratelimit (
	key	BLOB PRIMARY KEY,
	window	INTEGER NOT NULL,
	count	INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX ratelimit_window ON ratelimit (window);
