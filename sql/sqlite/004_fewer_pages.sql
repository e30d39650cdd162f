-- ots schema, version 4: fewer pages written per create.  Anonymous
-- receipts (most of them) have no account, and only an account's list of
-- recent receipts reads this index: it keeps account rows only.  The
-- rate-limit counters now live in a file of their own (DATABASE.limits):
-- the table here is dropped, with whatever it counted.

DROP INDEX metadata_customer;
CREATE INDEX metadata_customer ON metadata (customer_id, created)
	WHERE customer_id IS NOT NULL;
DROP TABLE ratelimit;
