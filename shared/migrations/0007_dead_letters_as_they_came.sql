-- A dead letter keeps what came, even when it is not JSON that PostgreSQL can
-- store (NaN, a NUL character, a lone surrogate, bytes that are not UTF-8):
-- the raw body, and the reason the message was refused ('failed' when a
-- handler kept failing on it; otherwise one of shared.runtime.messaging.wire.REASONS).
ALTER TABLE dead_letters ALTER COLUMN envelope DROP NOT NULL;
ALTER TABLE dead_letters ADD COLUMN body bytea;
ALTER TABLE dead_letters ADD COLUMN reason text NOT NULL DEFAULT 'failed';
ALTER TABLE dead_letters ADD CONSTRAINT dead_letters_keep_what_came CHECK (envelope IS NOT NULL OR body IS NOT NULL);
