-- ots PostgreSQL schema, version 3 (as sql/sqlite/003_*.sql): the outbox
-- also carries the notices a secret's creator asked for (e-mail and
-- webhooks); every payload is sealed to the delivery side's key
-- (ots-mailer), which the web workers do not hold; and the account
-- settings for notices.

ALTER TABLE mail ADD COLUMN kind text NOT NULL DEFAULT 'secret'
	CHECK (kind IN ('secret', 'notify', 'webhook'));
ALTER TABLE mail ALTER COLUMN kind DROP DEFAULT;
ALTER TABLE mail ADD COLUMN event text NOT NULL DEFAULT '';
ALTER TABLE mail ADD COLUMN secret_id bytea;
ALTER TABLE mail ADD COLUMN customer_id bigint;
ALTER TABLE mail DROP CONSTRAINT mail_state_check;
ALTER TABLE mail ADD CONSTRAINT mail_state_check
	CHECK (state IN ('waiting', 'queued', 'sent', 'failed'));
-- sealed under the master key, which the mailer does not hold: not sent
UPDATE mail SET state = 'failed', sealed = NULL,
	last_error = 'queued before schema version 3: not sent'
	WHERE state = 'queued';
DROP INDEX mail_updated;
CREATE INDEX mail_updated ON mail (updated) WHERE state IN ('sent', 'failed');
CREATE INDEX mail_waiting ON mail (secret_id) WHERE state = 'waiting';

ALTER TABLE customer ADD COLUMN notify integer NOT NULL DEFAULT 0;
ALTER TABLE customer ADD COLUMN webhook_url text;
ALTER TABLE customer ADD COLUMN webhook_key bytea;
