-- ots schema, version 5: master-key versions (ots-admin key rotate,
-- retire).  Each row says which version of the master key named and
-- sealed it; every row made before is version 1.  The versions the
-- database knows, with their check values, replace the settings row.

CREATE TABLE master_key (
	version		INTEGER PRIMARY KEY,
	check_value	BLOB NOT NULL		-- keyed hash: not the key
);
INSERT INTO master_key (version, check_value)
	SELECT 1, value FROM settings WHERE name = 'key_check';
DELETE FROM settings WHERE name = 'key_check';
ALTER TABLE secret ADD COLUMN key_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE metadata ADD COLUMN key_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE customer ADD COLUMN key_version INTEGER NOT NULL DEFAULT 1;
