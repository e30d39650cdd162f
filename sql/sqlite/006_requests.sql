-- ots schema, version 6: request links.  An account asks for a secret;
-- whoever opens the request link can send one.  The row is named by a
-- keyed hash of the request key and holds, sealed under that key, the
-- receipt and secret keys the answer will get and the account's note:
-- nothing here is readable without the link.  The account's notices of
-- the answer wait in the outbox under the request's id (mail.secret_id).

CREATE TABLE request (
	id		BLOB PRIMARY KEY,	-- keyed hash of the request key
	sealed		BLOB NOT NULL,		-- keys and note, under the request key
	customer_id	INTEGER NOT NULL,	-- the account that asked
	created		INTEGER NOT NULL,
	expires		INTEGER NOT NULL,
	key_version	INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX request_expires ON request (expires);
