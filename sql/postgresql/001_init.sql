-- ots PostgreSQL schema, version 1: the same tables, with the same meaning,
-- as sql/sqlite/001_init.sql.  Keys never appear here: rows are named by a
-- keyed hash of their key, and every key that opens a value is sealed.
-- Times are unix seconds (bigint); ids the program hands out are identity
-- columns, opaque to callers.

-- The schema's version: one row, set by the migrating program after each
-- file, in the transaction that applies it (store_pg.c).
CREATE TABLE schema_version (
	one	boolean PRIMARY KEY DEFAULT true CHECK (one),
	version	integer NOT NULL
);
INSERT INTO schema_version (version) VALUES (0);

CREATE TABLE settings (
	name	text PRIMARY KEY,
	value	bytea NOT NULL
);

CREATE TABLE customer (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	custid		text NOT NULL UNIQUE,	-- lower-cased e-mail address
	token_hash	bytea NOT NULL,		-- keyed hash of the API token
	plan		text NOT NULL,
	created		bigint NOT NULL
);

CREATE TABLE secret (
	id	bytea PRIMARY KEY,	-- keyed hash of secret_key
	sealed	bytea NOT NULL,		-- value under secret_key (+ passphrase)
	salt	bytea,			-- scrypt salt, when a passphrase is set
	expires	bigint NOT NULL
);
CREATE INDEX secret_expires ON secret (expires);

CREATE TABLE metadata (
	seq		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
					-- creation order
	id		bytea NOT NULL UNIQUE,	-- keyed hash of metadata_key
	secret_id	bytea NOT NULL,
	customer_id	bigint REFERENCES customer (id) ON DELETE SET NULL,
	custid		text NOT NULL,		-- e-mail address or 'anon'
	wrapped_key	bytea,			-- metadata_key under the API token
	sealed_skey	bytea NOT NULL,		-- secret_key under metadata_key
	ttl		bigint NOT NULL,
	state		text NOT NULL CHECK (state IN
			    ('new', 'viewed', 'received', 'burned', 'expired')),
	passphrase	boolean NOT NULL,
	recipient	text NOT NULL DEFAULT '',	-- obfuscated address
	created		bigint NOT NULL,
	updated		bigint NOT NULL,
	received	bigint,
	secret_expires	bigint NOT NULL,
	expires		bigint NOT NULL
);
CREATE INDEX metadata_secret ON metadata (secret_id);
CREATE INDEX metadata_expires ON metadata (expires);
CREATE INDEX metadata_customer ON metadata (customer_id, created);
