-- How a webhook checks its receiver's certificate (JSON; NULL = the defaults).
ALTER TABLE webhooks ADD COLUMN tls TEXT;
