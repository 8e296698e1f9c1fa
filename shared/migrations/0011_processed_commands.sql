-- Commands already carried out, so that a repeat (a client's retry after a
-- timeout, a redelivery after a crash between commit and acknowledgement)
-- gets the first reply and changes nothing. Keyed by a hash of the command id;
-- the request's fingerprint and the reply are sealed with keys derived from
-- the command id itself, which is not stored: the table tells a reader nothing
-- of what was asked or answered (a receipt code in a reply stays secret).
CREATE TABLE processed_commands (
    command_hash  bytea       PRIMARY KEY,
    method        text        NOT NULL,
    fingerprint   bytea       NOT NULL,
    sealed_reply  bytea,
    processed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX processed_commands_by_age ON processed_commands (processed_at);
