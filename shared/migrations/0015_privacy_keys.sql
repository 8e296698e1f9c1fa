-- The data subjects' keys (shared/privacy): every personal field of an event
-- is stored sealed (AES-256-GCM) under its subject's key, and erasing a
-- subject deletes its row here. The events stay as they are, hash chain and
-- all; what they sealed can no longer be opened. Unlike the events, rows here
-- may be deleted: no append-only trigger. Back it up apart from the event
-- store, on a rotation short enough that an erased key leaves every backup
-- within the period docs/PRIVACY.md states.
CREATE TABLE privacy_keys (
    subject     text        PRIMARY KEY,
    key         bytea       NOT NULL CHECK (length(key) = 32),
    created_at  timestamptz NOT NULL DEFAULT now()
);
