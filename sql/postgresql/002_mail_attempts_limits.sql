-- ots PostgreSQL schema, version 2 (as sql/sqlite/002_*.sql): the outgoing
-- mail queue, passphrase attempt counters, rate-limit counters, and an
-- index that lets the sweeper find unrevealed expired secrets without a
-- full scan.

CREATE TABLE mail (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	rid		bytea NOT NULL,		-- random; binds the sealed payload
	sealed		bytea,			-- address, sender, link; NULL when done
	recipient	text NOT NULL,		-- obfuscated, for the operator
	state		text NOT NULL CHECK (state IN ('queued', 'sent', 'failed')),
	attempts	integer NOT NULL DEFAULT 0,
	last_error	text NOT NULL DEFAULT '',
	created		bigint NOT NULL,
	updated		bigint NOT NULL,
	next_try	bigint NOT NULL,	-- also a delivery lease
	expires		bigint NOT NULL		-- the secret's: no use after
);
CREATE INDEX mail_due ON mail (state, next_try);
CREATE INDEX mail_updated ON mail (updated) WHERE state <> 'queued';

CREATE INDEX metadata_unrevealed ON metadata (secret_expires)
	WHERE state IN ('new', 'viewed');

-- Passphrase attempts per secret, across all callers: tries counts the
-- attempts reserved in the current lock window (reserved before the check,
-- so parallel guesses cannot pass the cap), fails all failures.
ALTER TABLE secret
	ADD COLUMN tries integer NOT NULL DEFAULT 0,
	ADD COLUMN fails integer NOT NULL DEFAULT 0,
	ADD COLUMN locked_until bigint NOT NULL DEFAULT 0;

-- Rate-limit counters in fixed windows; key is a keyed hash of the event,
-- the client address and the account, so no address is stored.  "window"
-- is a reserved word here: quoted wherever it is named.
CREATE TABLE ratelimit (
	key		bytea PRIMARY KEY,
	"window"	bigint NOT NULL,
	count		bigint NOT NULL
);
CREATE INDEX ratelimit_window ON ratelimit ("window");
