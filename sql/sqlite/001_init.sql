-- ots schema, version 1.  Keys never appear here: rows are named by a
-- keyed hash of their key, and every key that opens a value is sealed.

CREATE TABLE settings (
	name	TEXT PRIMARY KEY,
	value	BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE customer (
	id		INTEGER PRIMARY KEY,
	custid		TEXT NOT NULL UNIQUE,	-- lower-cased e-mail address
	token_hash	BLOB NOT NULL,		-- keyed hash of the API token
	plan		TEXT NOT NULL,
	created		INTEGER NOT NULL
);

CREATE TABLE secret (
	id	BLOB PRIMARY KEY,	-- keyed hash of secret_key
	sealed	BLOB NOT NULL,		-- value under secret_key (+ passphrase)
	salt	BLOB,			-- scrypt salt, when a passphrase is set
	expires	INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX secret_expires ON secret (expires);

CREATE TABLE metadata (
	seq		INTEGER PRIMARY KEY,	-- creation order
	id		BLOB NOT NULL UNIQUE,	-- keyed hash of metadata_key
	secret_id	BLOB NOT NULL,
	customer_id	INTEGER REFERENCES customer (id) ON DELETE SET NULL,
	custid		TEXT NOT NULL,		-- e-mail address or 'anon'
	wrapped_key	BLOB,			-- metadata_key under the API token
	sealed_skey	BLOB NOT NULL,		-- secret_key under metadata_key
	ttl		INTEGER NOT NULL,
	state		TEXT NOT NULL CHECK (state IN
			    ('new', 'viewed', 'received', 'burned', 'expired')),
	passphrase	INTEGER NOT NULL,
	recipient	TEXT NOT NULL DEFAULT '',	-- obfuscated address
	created		INTEGER NOT NULL,
	updated		INTEGER NOT NULL,
	received	INTEGER,
	secret_expires	INTEGER NOT NULL,
	expires		INTEGER NOT NULL
);
CREATE INDEX metadata_secret ON metadata (secret_id);
CREATE INDEX metadata_expires ON metadata (expires);
CREATE INDEX metadata_customer ON metadata (customer_id, created);
