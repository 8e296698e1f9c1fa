-- Signed checkpoints of the event log (shared/audit/checkpoints.py): a running
-- digest of every event in commit-safe order up to a cursor, signed with Ed25519.
-- Auditors export them and keep a copy outside the system, so that even a
-- rewrite of the whole chain by someone with database access is caught.
CREATE TABLE audit_checkpoints (
    id            bigserial   PRIMARY KEY,
    tx_id         bigint      NOT NULL,
    position      bigint      NOT NULL,
    event_count   bigint      NOT NULL,
    digest        bytea       NOT NULL,
    previous      bytea       NOT NULL,
    public_key    bytea       NOT NULL,
    signature     bytea       NOT NULL,
    signed_at     timestamptz NOT NULL DEFAULT now()
);
