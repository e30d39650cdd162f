-- ots PostgreSQL schema, version 4 (as sql/sqlite/004_*.sql): anonymous
-- receipts leave the account index, which only an account's list of
-- recent receipts reads.  The rate-limit counters stay here: they are
-- shared by every host.

DROP INDEX metadata_customer;
CREATE INDEX metadata_customer ON metadata (customer_id, created)
	WHERE customer_id IS NOT NULL;
