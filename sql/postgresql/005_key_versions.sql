-- ots PostgreSQL schema, version 5 (as sql/sqlite/005_*.sql): master-key
-- versions.  Rows say which version named and sealed them (1 for every
-- row made before); the versions known, with their check values, replace
-- the settings row.

CREATE TABLE master_key (
	version		integer PRIMARY KEY,
	check_value	bytea NOT NULL
);
INSERT INTO master_key (version, check_value)
	SELECT 1, value FROM settings WHERE name = 'key_check';
DELETE FROM settings WHERE name = 'key_check';
ALTER TABLE secret ADD COLUMN key_version integer NOT NULL DEFAULT 1;
ALTER TABLE metadata ADD COLUMN key_version integer NOT NULL DEFAULT 1;
ALTER TABLE customer ADD COLUMN key_version integer NOT NULL DEFAULT 1;
