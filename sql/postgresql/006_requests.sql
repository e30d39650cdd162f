-- ots PostgreSQL schema, version 6 (as sql/sqlite/006_*.sql): request
-- links.  Rows are named by a keyed hash of the request key; the keys of
-- the answer and the note are sealed under that key.

CREATE TABLE request (
	id		bytea PRIMARY KEY,
	sealed		bytea NOT NULL,
	customer_id	bigint NOT NULL,
	created		bigint NOT NULL,
	expires		bigint NOT NULL,
	key_version	integer NOT NULL DEFAULT 1
);
CREATE INDEX request_expires ON request (expires);
